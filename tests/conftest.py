"""Shared fixtures. Reference vectors and the Paser dataset are read in place from ``../shared``.

``BLANKSPOT_SHARED_DIR`` overrides where that folder is. On CI (``CI`` set) a missing folder is an
error, not a skip, so a broken checkout cannot pass by skipping.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _shared_dir() -> Path:
    env = os.environ.get("BLANKSPOT_SHARED_DIR")
    return Path(env) if env else REPO_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    path = _shared_dir()
    if not path.is_dir():
        msg = f"shared folder not found at {path}; set BLANKSPOT_SHARED_DIR"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def paser_source_dir(shared_dir: Path) -> Path:
    """The Paser dataset as laid out in shared/data/paser (read-only)."""
    path = shared_dir / "data" / "paser"
    if not (path / "paser_desa.geojson").is_file():
        pytest.fail(f"Paser dataset missing under {path}")
    return path


@pytest.fixture(scope="session")
def paser_data_dir(paser_source_dir: Path, tmp_path_factory) -> Path:
    """A data directory populated by ``fetch_paser`` from the shared Paser folder (once per run)."""
    from blankspot.io import fetch_paser

    data_dir = tmp_path_factory.mktemp("paser-data")
    fetch_paser(paser_source_dir, data_dir)
    return data_dir


@pytest.fixture(scope="session")
def small_plan(paser_data_dir):
    """The plan of :data:`paser_window.SMALL` on the Segendang window, computed once per run."""
    from blankspot.plan import plan_paser
    from paser_window import SEGENDANG, SMALL, WINDOW

    return plan_paser(paser_data_dir, config=SMALL, bounds=WINDOW, village_ids=[SEGENDANG])
