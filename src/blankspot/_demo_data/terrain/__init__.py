"""Stub: in a wheel this package is the repository's data/terrain folder (see the parent package)."""
