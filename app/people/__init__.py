"""Patrons and staff: finding patrons, patron ids, staff accounts and their administration."""
