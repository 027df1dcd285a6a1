"""What every part of the library shares: who acts (actors), errors, the clock, the runtime,
branches, library settings, and how scanned barcodes and names are read."""
