"""Exceptions and warnings raised by blankspot.

Every exception subclasses :class:`BlankspotError` *and* a builtin, so callers can catch either
``blankspot.errors.SchemaError`` or a plain ``ValueError``. Messages say what was wrong, what was
received and how to fix it; validators collect every problem before raising (see
:func:`raise_if_problems`).
"""

from __future__ import annotations

from collections.abc import Sequence


class BlankspotError(Exception):
    """Base class of every error raised by blankspot."""


class SchemaError(BlankspotError, ValueError):
    """A table or vector file lacks columns, has bad ids, geometries or values."""


class CRSError(BlankspotError, ValueError):
    """A coordinate reference system is missing, geographic where metres are needed, or mismatched."""


class UnitsError(BlankspotError, ValueError):
    """A physical quantity is out of range or in the wrong unit (negative height, ...)."""


class DataError(BlankspotError, OSError):
    """A data file is missing, unreadable, or fails its checksum."""


class InfeasibleError(BlankspotError, RuntimeError):
    """A siting problem has no solution under its constraints."""


class BlankspotWarning(UserWarning):
    """Valid but odd input, e.g. a site outside every village."""


def format_problems(what: str, problems: Sequence[str]) -> str:
    """One message listing every problem, numbered, under a heading naming ``what``."""
    lines = [f"{what}: {len(problems)} problem{'s' if len(problems) != 1 else ''} found"]
    lines += [f"  {i}. {p}" for i, p in enumerate(problems, 1)]
    return "\n".join(lines)


def raise_if_problems(
    what: str, problems: Sequence[str], error: type[BlankspotError] = SchemaError
) -> None:
    """Raise ``error`` listing all ``problems`` at once; do nothing when there are none."""
    if problems:
        raise error(format_problems(what, problems))
