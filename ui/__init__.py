"""The Qt desk client: thin screens that call `app/` services and render their results."""
