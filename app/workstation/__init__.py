"""This desk PC's own setup: its settings file, how it reaches the database, its secrets and
its logs (never patron data)."""
