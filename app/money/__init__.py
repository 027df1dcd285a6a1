"""Charges for lost and long-overdue items, and the bursar's export."""
