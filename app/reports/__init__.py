"""Statistics the ILL librarian shows the dean: counted by the database, named by no patron.

`figures` holds the plain result values (no database code, so printing can import it);
`compute` runs the aggregate queries; `drill` lists the requests or items behind a figure.
"""
