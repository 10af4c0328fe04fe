"""Process-wide settings: where data lives. No scenario values here."""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "BLANKSPOT_DATA_DIR"


def data_dir() -> Path:
    """The data directory: ``$BLANKSPOT_DATA_DIR`` if set, else ``data/`` in the working directory."""
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env).expanduser() if env else Path("data")
