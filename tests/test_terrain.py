"""Terrain's own checks: array shapes and windows are input problems, not units."""

from __future__ import annotations

import numpy as np
import pytest

from blankspot.errors import InputError
from blankspot.terrain import Terrain
from blankspot.testing import make_terrain


def test_elevation_and_mask_shapes_are_input_errors():
    t = make_terrain("flat")
    with pytest.raises(InputError, match="non-empty 2-D array"):
        Terrain(np.zeros(5), t.transform, t.crs)
    with pytest.raises(InputError, match="nodata_mask shape"):
        Terrain(t.elevation_m, t.transform, t.crs, nodata_mask=np.zeros((2, 2), dtype=bool))


def test_window_outside_the_grid_is_an_input_error():
    t = make_terrain("flat")
    rows = t.shape[0]
    assert t.window(0, 0, 2, 3).shape == (2, 3)
    with pytest.raises(InputError, match="does not overlap"):
        t.window(rows + 5, 0, 2, 2)
