"""Widgets shared by screens: the scan field, the routing banner, barcode recovery."""
