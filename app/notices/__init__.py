"""Notices to patrons: templates, the outbox, the mail server, and the daily run that queues
and sends them."""
