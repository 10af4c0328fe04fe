"""Stub: in a wheel this package is the repository's data/boundaries folder (see the parent package)."""
