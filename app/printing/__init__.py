"""Printed paper: book straps, the yellow return strap, and check-in slips (ReportLab PDFs).

Rendering is pure: values in, PDF bytes out. Nothing here touches the database except
`strap_data`, which turns requests and items into the values the renderers take.
"""

# Strap layouts (see `straps.LAYOUTS`), named here so callers need not load ReportLab.
LAYOUT_NAMES = ("letter3", "strip")
