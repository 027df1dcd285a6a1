"""When the database cannot be reached: the journal of provisional scans, the snapshot used to
guess routing, and replaying the journal once the database is back."""
