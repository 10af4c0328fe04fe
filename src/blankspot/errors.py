"""Exceptions and warnings raised by blankspot, and the one way problems are collected.

Every exception subclasses :class:`BlankspotError` *and* a builtin, so callers can catch either
``blankspot.errors.SchemaError`` or a plain ``ValueError``. Messages say what was wrong, what was
received and how to fix it. Validators collect every problem before raising, with
:class:`Problems` (or :func:`raise_if_problems` for a plain list); the error raised keeps the
individual problems in :attr:`BlankspotError.problems`, so a caller that gathers problems from
several validators (a scenario file) can list them again without parsing messages.

Which error says what:

========================  ==========================================================  =========
error                     what went wrong                                             builtin
========================  ==========================================================  =========
:class:`SchemaError`      a table or vector file: columns, ids, geometries, values   ValueError
:class:`CRSError`         a coordinate reference system: missing, geographic, differs ValueError
:class:`UnitsError`       a physical quantity: out of range or in the wrong unit      ValueError
:class:`InputError`       an argument that is no quantity: empty, wrong kind, clash   ValueError
:class:`ConfigError`      a configuration: unknown key, conflicting settings          ValueError
:class:`DataError`        a data file: missing, unreadable, failing its checksum      OSError
:class:`InfeasibleError`  a siting problem with no solution                           RuntimeError
========================  ==========================================================  =========
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


class BlankspotError(Exception):
    """Base class of every error raised by blankspot.

    ``problems`` holds the individual problems when the error lists several (else one item, the
    message).
    """

    def __init__(self, message: str = "", *, problems: Sequence[str] | None = None) -> None:
        super().__init__(message)
        self.problems: tuple[str, ...] = tuple(problems) if problems else (str(message),)


class SchemaError(BlankspotError, ValueError):
    """A table or vector file lacks columns, has bad ids, geometries or values."""


class CRSError(BlankspotError, ValueError):
    """A coordinate reference system is missing, geographic where metres are needed, or mismatched."""


class UnitsError(BlankspotError, ValueError):
    """A physical quantity is out of range or in the wrong unit (negative height, ...)."""


class InputError(BlankspotError, ValueError):
    """An argument that is not a quantity is wrong: empty, of the wrong kind, or clashing."""


class ConfigError(BlankspotError, ValueError):
    """A configuration is wrong: an unknown key, or settings that contradict each other."""


class DataError(BlankspotError, OSError):
    """A data file is missing, unreadable, or fails its checksum."""


class InfeasibleError(BlankspotError, RuntimeError):
    """A siting problem has no solution under its constraints."""


class BlankspotWarning(UserWarning):
    """Valid but odd input, e.g. a site outside every village."""


def format_problems(what: str, problems: Sequence[str]) -> str:
    """One message listing every problem, numbered, under a heading naming ``what``.

    >>> print(format_problems("sites", ["height_agl_m is missing.", "ids repeat: 'a'."]))
    sites: 2 problems found
      1. height_agl_m is missing.
      2. ids repeat: 'a'.
    """
    lines = [f"{what}: {len(problems)} problem{'s' if len(problems) != 1 else ''} found"]
    lines += [f"  {i}. {p}" for i, p in enumerate(problems, 1)]
    return "\n".join(lines)


def raise_if_problems(
    what: str, problems: Sequence[str], error: type[BlankspotError] = SchemaError
) -> None:
    """Raise ``error`` listing all ``problems`` at once; do nothing when there are none."""
    if problems:
        raise error(format_problems(what, problems), problems=problems)


_ERROR_PRIORITY: tuple[type[BlankspotError], ...] = (
    DataError, CRSError, SchemaError, ConfigError, InputError, UnitsError,
)
"""When problems of several kinds are found together, the first kind here is raised."""


class Problems(list[str]):
    """Problems gathered by a validator, raised together as the most serious kind seen.

    A missing file (:class:`DataError`) outranks a CRS problem, which outranks schema, config,
    input and unit problems; the message always lists every problem.

    >>> p = Problems()
    >>> p.add("radius_m must be > 0; received -1.", UnitsError)
    >>> p.add("no such file: x.tif", DataError)
    >>> try:
    ...     p.raise_if_any("inputs")
    ... except DataError as exc:
    ...     print(exc.problems[1])
    no such file: x.tif
    """

    def __init__(self, items: Iterable[str] = ()) -> None:
        super().__init__(items)
        self.kinds: set[type[BlankspotError]] = set()

    def add(self, message: str, error: type[BlankspotError] = SchemaError) -> None:
        """Record one problem and the kind of error it calls for."""
        self.append(message)
        self.kinds.add(error)

    def extend_from(self, exc: BlankspotError, prefix: str = "") -> None:
        """Record every problem of an error raised by another validator."""
        for p in exc.problems:
            self.add(prefix + p, type(exc))

    def error_type(self, default: type[BlankspotError] = SchemaError) -> type[BlankspotError]:
        """The kind of error these problems raise."""
        return next((e for e in _ERROR_PRIORITY if e in self.kinds), default)

    def raise_if_any(self, what: str, suffix: str = "") -> None:
        """Raise every problem at once (nothing when there is none)."""
        if self:
            raise self.error_type()(format_problems(what, self) + suffix, problems=list(self))


def listing(items: Iterable[object], limit: int = 10) -> str:
    """Items for a message: ``a, b, c``, or the first ``limit`` and how many more.

    >>> listing(range(3))
    '0, 1, 2'
    >>> listing(range(15), limit=2)
    '0, 1 and 13 more (15 in all)'
    """
    texts = [str(i) for i in items]
    if len(texts) <= limit:
        return ", ".join(texts)
    return f"{', '.join(texts[:limit])} and {len(texts) - limit} more ({len(texts)} in all)"
