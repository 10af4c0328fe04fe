"""Moved to :mod:`blankspot.reporting.tables`; this name works for one more release."""

from blankspot._deprecated import moved_module

__getattr__ = moved_module(__name__, "blankspot.reporting.tables")
