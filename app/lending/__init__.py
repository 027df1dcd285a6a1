"""Lending our items to other libraries: pull lists, the lending office, our items overdue at
borrowers, and IFM payments."""
