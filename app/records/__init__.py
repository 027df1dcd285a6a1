"""What the library keeps about what happened: the audit trail and its search, records of who
viewed a patron, the change feed desks poll, and privacy (anonymising old loans)."""
