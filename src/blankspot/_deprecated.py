"""Names that moved keep working for one release, with a :class:`DeprecationWarning`.

A module whose names moved sets ``__getattr__ = moved_names(__name__, {name: new_module})``; a
module that moved whole is a shim with ``__getattr__ = moved_module(__name__, new_module)``.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping
from typing import Any


def moved_names(old: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that finds ``name`` in ``where[name]``, with a warning."""

    def __getattr__(name: str) -> Any:
        new = where.get(name)
        module = importlib.import_module(new) if new else None
        if module is None or name.startswith("__") or not hasattr(module, name):
            raise AttributeError(f"module {old!r} has no attribute {name!r}")
        warnings.warn(
            f"{old}.{name} moved to {new}.{name}; import it from there (the old name goes in "
            "the next release).",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(module, name)

    return __getattr__


def moved_module(old: str, new: str) -> Callable[[str], Any]:
    """A module ``__getattr__`` that finds every public name of ``old`` in ``new``."""

    class _Every(dict[str, str]):
        def get(self, key: str, default: Any = None) -> str:
            return new

    return moved_names(old, _Every())
