"""Process-wide settings: where data lives. No scenario values here."""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "BLANKSPOT_DATA_DIR"


def data_dir() -> Path:
    """The data directory: ``$BLANKSPOT_DATA_DIR`` if set, else ``data/`` in the working directory."""
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env).expanduser() if env else Path("data")


MAX_MEMORY_ENV = "BLANKSPOT_MAX_MEMORY_GB"
"""Environment variable: the most memory, in GB, one raster or grid may take (default: half the
machine's RAM)."""

_DEFAULT_MEMORY_SHARE = 0.5
_FALLBACK_MEMORY_BYTES = 8 * 1024**3


def physical_memory_bytes() -> int | None:
    """The machine's RAM in bytes, or None where the system does not say."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def max_memory_bytes() -> int:
    """The most memory one raster read or analysis grid may take, in bytes.

    ``$BLANKSPOT_MAX_MEMORY_GB`` when set (a number > 0), else half the machine's RAM (8 GiB
    where the system does not tell its RAM).

    Raises
    ------
    ConfigError
        ``$BLANKSPOT_MAX_MEMORY_GB`` is not a number > 0.
    """
    from blankspot.errors import ConfigError

    env = os.environ.get(MAX_MEMORY_ENV)
    if env:
        try:
            gb = float(env)
        except ValueError:
            gb = float("nan")
        if not gb > 0 or gb == float("inf"):
            raise ConfigError(
                f"{MAX_MEMORY_ENV} must be a number of GB > 0; received {env!r}. Set e.g. "
                f"{MAX_MEMORY_ENV}=16, or unset it to allow half the machine's RAM."
            )
        return int(gb * 1024**3)
    ram = physical_memory_bytes()
    return int(ram * _DEFAULT_MEMORY_SHARE) if ram else _FALLBACK_MEMORY_BYTES


def check_memory(what: str, nbytes: float, how_to_lower: str) -> None:
    """Refuse, before allocating, an array of ``nbytes`` larger than :func:`max_memory_bytes`.

    ``what`` names the array (with its shape), ``how_to_lower`` says which setting makes it
    smaller. Raises :class:`blankspot.errors.UnitsError`.

    >>> check_memory("a 10 x 10 grid", 400, "use smaller bounds")
    """
    from blankspot.errors import UnitsError

    limit = max_memory_bytes()
    if nbytes > limit:
        raise UnitsError(
            f"{what} would need about {nbytes / 1024**3:,.1f} GB of memory, more than the "
            f"{limit / 1024**3:,.1f} GB allowed; {how_to_lower}. (The limit is half the "
            f"machine's RAM; set {MAX_MEMORY_ENV} to change it.)"
        )
