"""Borrowing from other libraries: requests, receiving, the strap's data, renewals, due dates
and closures, ship back, the ILL office's lists, and CSV imports."""
