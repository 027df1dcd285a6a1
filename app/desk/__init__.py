"""The circulation desk: check in and its routing and wording, check out, in-house use, and
barcode recovery."""
