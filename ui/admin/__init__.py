"""Tabs of the Admin screen."""
