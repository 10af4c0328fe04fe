"""Moved to :mod:`blankspot.reporting.tables`; this name works for one more release."""

from __future__ import annotations

import importlib
import warnings
from typing import Any


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    warnings.warn(
        f"blankspot.report.{name} moved to blankspot.reporting.tables.{name}; import it from there "
        "(the old module goes in the next release).",
        DeprecationWarning,
        stacklevel=2,
    )
    return getattr(importlib.import_module("blankspot.reporting.tables"), name)
