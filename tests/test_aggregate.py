"""Tests of blankspot.aggregate: the coverage matrix and per-desa summaries.

The coverage module is tested on its own; here small stand-ins with the same attributes as its
``CoverageResult``, footprints and ``LinkBudget`` keep these tests independent of propagation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely
from affine import Affine
from hypothesis import example, given, settings
from hypothesis import strategies as st

from blankspot.aggregate import CoverageMatrix, build_coverage_matrix, village_summary
from blankspot.crs import PASER_CRS, WGS84
from blankspot.errors import CRSError, SchemaError, UnitsError
from blankspot.siting import SitingProblem, solve

X0, Y0, RES = 500_000.0, 9_800_000.0, 30.0
TRANSFORM = Affine(RES, 0.0, X0, 0.0, -RES, Y0)
SHAPE = (10, 12)


@dataclass(frozen=True)
class StandInBudget:
    max_path_loss_db: float

    def covered(self, path_loss_db):
        return np.asarray(path_loss_db) <= self.max_path_loss_db


@dataclass(frozen=True)
class StandInFootprint:
    site_id: Any
    row_off: int
    col_off: int
    path_loss_db: np.ndarray


@dataclass(frozen=True)
class StandInCoverage:
    footprints: tuple
    transform: Affine = TRANSFORM
    shape: tuple = SHAPE
    crs: Any = PASER_CRS
    budget: Any = StandInBudget(120.0)


def centre(row, col):
    """Point at the centre of grid pixel (row, col)."""
    return shapely.Point(X0 + (col + 0.5) * RES, Y0 - (row + 0.5) * RES)


def cells(points, village_ids=None, population=None, crs=PASER_CRS):
    n = len(points)
    return gpd.GeoDataFrame(
        {
            "village_id": village_ids or ["v1"] * n,
            "population": population if population is not None else [10.0] * n,
        },
        geometry=list(points),
        index=pd.RangeIndex(n, name="cell_id"),
        crs=crs,
    )


def window(values):
    return np.asarray(values, dtype=np.float32)


def slow_matrix(coverage, demand_cells, budget):
    """Cell by cell, footprint by footprint: the obvious way."""
    t = coverage.transform
    out = np.zeros((len(demand_cells), len(coverage.footprints)), dtype=bool)
    for i, geom in enumerate(demand_cells.geometry):
        col = int(np.floor((geom.x - t.c) / t.a))
        row = int(np.floor((geom.y - t.f) / t.e))
        if not (0 <= row < coverage.shape[0] and 0 <= col < coverage.shape[1]):
            continue
        for j, fp in enumerate(coverage.footprints):
            r, c = row - fp.row_off, col - fp.col_off
            h, w = fp.path_loss_db.shape
            if 0 <= r < h and 0 <= c < w:
                v = float(fp.path_loss_db[r, c])
                out[i, j] = np.isfinite(v) and bool(budget.covered(v))
    return out


# site A: 3x3 window at rows 2..4, cols 3..5; site B: 2x4 window at rows 0..1, cols 8..11
FOOTPRINT_A = StandInFootprint(
    "A", 2, 3, window([[100, 110, 130], [np.nan, 119.9, 120.0], [121, 90, np.nan]])
)
FOOTPRINT_B = StandInFootprint("B", 0, 8, window([[100, 100, 100, 100], [125, 125, 125, 125]]))
COVERAGE = StandInCoverage((FOOTPRINT_A, FOOTPRINT_B))
POINTS = [
    centre(2, 3),  # 0: A 100 -> covered
    centre(2, 5),  # 1: A 130 -> no
    centre(3, 3),  # 2: A NaN -> no
    centre(3, 4),  # 3: A 119.9 -> covered
    centre(3, 5),  # 4: A 120.0 -> covered (threshold inclusive)
    centre(4, 4),  # 5: A 90 -> covered
    centre(0, 9),  # 6: B 100 -> covered
    centre(1, 11),  # 7: B 125 -> no
    centre(7, 0),  # 8: inside the grid, outside every window
    shapely.Point(X0 - 10, Y0 + 10),  # 9: outside the grid
    centre(3, 4),  # 10: same pixel as cell 3
]


def test_matrix_by_hand():
    cm = build_coverage_matrix(COVERAGE, cells(POINTS))
    assert isinstance(cm.matrix, sp.csc_array) and cm.matrix.dtype == bool
    assert cm.matrix.shape == (11, 2)
    assert cm.site_ids == ("A", "B")
    assert cm.max_path_loss_db == 120.0
    a = cm.matrix.toarray()
    assert np.flatnonzero(a[:, 0]).tolist() == [0, 3, 4, 5, 10]
    assert np.flatnonzero(a[:, 1]).tolist() == [6]
    assert cm.covered_any().tolist() == [
        True, False, False, True, True, True, True, False, False, False, True
    ]  # fmt: skip
    assert np.array_equal(a, slow_matrix(COVERAGE, cells(POINTS), COVERAGE.budget))
    assert list(cm.demand.columns) == ["village_id", "population"]
    assert cm.demand.index.equals(cells(POINTS).index)
    assert not isinstance(cm.demand, gpd.GeoDataFrame)


def test_threshold_change_needs_no_new_footprints():
    strict = build_coverage_matrix(COVERAGE, cells(POINTS), budget=StandInBudget(100.0))
    loose = build_coverage_matrix(COVERAGE, cells(POINTS), budget=StandInBudget(130.0))
    assert np.flatnonzero(strict.matrix.toarray()[:, 0]).tolist() == [0, 5]
    assert np.flatnonzero(loose.matrix.toarray()[:, 0]).tolist() == [0, 1, 3, 4, 5, 10]
    assert np.flatnonzero(loose.matrix.toarray()[:, 1]).tolist() == [6, 7]
    assert strict.max_path_loss_db == 100.0


def test_point_on_a_pixel_edge_belongs_to_the_pixel_below_and_right():
    # x on the boundary between cols 2 and 3 -> col 3; y on the boundary between rows 1 and 2
    # -> row 2 (floor of (y - f)/e with e < 0)
    p = shapely.Point(X0 + 3 * RES, Y0 - 2 * RES)
    fp = StandInFootprint("S", 2, 3, window([[50.0]]))
    cm = build_coverage_matrix(StandInCoverage((fp,)), cells([p]))
    assert cm.matrix.toarray().tolist() == [[True]]


def test_window_partly_outside_the_grid():
    fp = StandInFootprint("edge", -1, -2, window(np.full((3, 4), 80.0)))
    pts = [centre(0, 0), centre(1, 1), centre(2, 0), centre(0, 2)]
    cm = build_coverage_matrix(StandInCoverage((fp,)), cells(pts))
    assert cm.matrix.toarray()[:, 0].tolist() == [True, True, False, False]


def test_window_wider_than_the_grid_does_not_wrap_rows():
    # a window running past the east edge must not reach cells at the start of the next row
    fp = StandInFootprint("wide", 0, 10, window(np.full((2, 6), 80.0)))
    pts = [centre(0, 11), centre(1, 0), centre(1, 1), centre(1, 10)]
    cm = build_coverage_matrix(StandInCoverage((fp,)), cells(pts))
    assert cm.matrix.toarray()[:, 0].tolist() == [True, False, False, True]


def test_no_footprints_and_no_cells():
    cm = build_coverage_matrix(StandInCoverage(()), cells(POINTS))
    assert cm.matrix.shape == (11, 0) and cm.site_ids == ()
    empty = build_coverage_matrix(COVERAGE, cells([]))
    assert empty.matrix.shape == (0, 2) and empty.matrix.nnz == 0


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
@example(seed=0)
def test_matches_the_slow_twin_on_random_layouts(seed):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 20)), int(rng.integers(1, 20)))
    fps = []
    for j in range(int(rng.integers(0, 6))):
        h, w = int(rng.integers(1, 8)), int(rng.integers(1, 8))
        loss = rng.uniform(80, 140, size=(h, w)).astype(np.float32)
        loss[rng.random((h, w)) < 0.2] = np.nan
        fps.append(
            StandInFootprint(
                f"s{j}",
                int(rng.integers(-3, shape[0])),
                int(rng.integers(-3, shape[1])),
                loss,
            )
        )
    cov = StandInCoverage(tuple(fps), shape=shape)
    n = int(rng.integers(0, 40))
    xs = X0 + rng.uniform(-2 * RES, (shape[1] + 2) * RES, size=n)
    ys = Y0 - rng.uniform(-2 * RES, (shape[0] + 2) * RES, size=n)
    dc = cells([shapely.Point(x, y) for x, y in zip(xs, ys, strict=True)])
    budget = StandInBudget(float(rng.uniform(90, 130)))
    cm = build_coverage_matrix(cov, dc, budget=budget)
    assert np.array_equal(cm.matrix.toarray(), slow_matrix(cov, dc, budget))


def test_crs_must_match():
    with pytest.raises(CRSError, match="not reproject"):
        build_coverage_matrix(COVERAGE, cells(POINTS).to_crs(WGS84))
    no_crs = cells(POINTS)
    no_crs = gpd.GeoDataFrame(no_crs.drop(columns="geometry"), geometry=list(no_crs.geometry))
    with pytest.raises(CRSError, match="no CRS"):
        build_coverage_matrix(COVERAGE, no_crs)


def test_input_problems_reported_together():
    bad = cells([centre(0, 0), shapely.box(X0, Y0 - 30, X0 + 30, Y0)]).drop(columns="village_id")
    dup = StandInCoverage((FOOTPRINT_A, FOOTPRINT_A))
    with pytest.raises(SchemaError) as info:
        build_coverage_matrix(dup, bad)
    msg = str(info.value)
    assert "village_id" in msg and "Point" in msg and "repeat site id(s) 'A'" in msg
    with pytest.raises(UnitsError, match="population must be finite"):
        build_coverage_matrix(COVERAGE, cells([centre(0, 0)], population=[-1.0]))
    with pytest.raises(SchemaError, match="no link budget"):
        build_coverage_matrix(StandInCoverage((FOOTPRINT_A,), budget=None), cells(POINTS))


def test_coverage_matrix_checks_and_normalises():
    demand = pd.DataFrame({"village_id": ["v"] * 3, "population": [1.0, 2.0, 3.0]})
    cm = CoverageMatrix(sp.csr_matrix(np.eye(3, 2)), demand, ["a", "b"])
    assert isinstance(cm.matrix, sp.csc_array) and cm.matrix.dtype == bool
    assert cm.site_ids == ("a", "b")
    with pytest.raises(SchemaError, match="3 columns but there are 2 site_ids"):
        CoverageMatrix(sp.csc_array(np.eye(3)), demand, ("a", "b"))
    with pytest.raises(SchemaError, match="lacks column"):
        CoverageMatrix(sp.csc_array(np.eye(3, 2)), demand[["population"]], ("a", "b"))


# ---------------------------------------------------------------------- village summary


def villages():
    return gpd.GeoDataFrame(
        {"name": ["Satu", "Dua", "Tiga"], "population": [999.0, 50.0, 0.0]},
        geometry=[shapely.Point(0, 0)] * 3,
        index=pd.Index(["v1", "v2", "v3"], name="village_id"),
        crs=PASER_CRS,
    )


def test_village_summary_by_hand():
    dc = cells(
        [centre(0, 0)] * 4, village_ids=["v1", "v1", "v1", "v3"], population=[10.0, 20.0, 30.0, 0.0]
    )
    s = village_summary(villages(), dc, np.array([True, False, True, True]))
    assert s.index.tolist() == ["v1", "v2", "v3"] and s.index.name == "village_id"
    assert s["population"].tolist() == [60.0, 50.0, 0.0]  # v2 has no cells: its own figure
    assert s["population_covered"].tolist() == [40.0, 0.0, 0.0]
    assert s["share_covered"].iloc[0] == pytest.approx(40 / 60)
    assert s["share_covered"].iloc[1] == 0.0
    assert np.isnan(s["share_covered"].iloc[2])  # no people: no share


def test_village_summary_accepts_series_and_id_column():
    dc = cells([centre(0, 0)] * 2, village_ids=["v1", "v2"], population=[5.0, 7.0])
    mask = pd.Series([False, True], index=dc.index)
    v = villages().reset_index()
    s = village_summary(v, dc, mask.iloc[::-1])  # aligned by index, not position
    assert s["population_covered"].tolist() == [0.0, 7.0, 0.0]


def test_village_summary_errors():
    dc = cells([centre(0, 0)] * 2, village_ids=["v1", "v9"])
    with pytest.raises(SchemaError) as info:
        village_summary(villages(), dc, np.array([1.5, 0.0]))
    msg = str(info.value)
    assert "'v9'" in msg and "boolean" in msg
    with pytest.raises(SchemaError, match="one value per demand cell"):
        village_summary(villages(), dc.iloc[:1].assign(village_id="v1"), np.array([True, True]))


def test_chain_from_footprints_to_desa_figures():
    dc = cells(
        POINTS, village_ids=["v1"] * 6 + ["v2"] * 5, population=[float(i) for i in range(11)]
    )
    cm = build_coverage_matrix(COVERAGE, dc)
    p = SitingProblem.from_coverage(
        cm, pd.Series({"A": 2_000_000_000, "B": 1_700_000_000}), 2_000_000_000
    )
    r = solve(p)
    # A covers cells 0,3,4,5,10 (0+3+4+5+10 = 22 people); B covers cell 6 (6 people)
    assert r.site_ids == ("A",) and r.covered_weight == 22.0
    mask = r.covered_mask(p)
    assert np.flatnonzero(mask).tolist() == [0, 3, 4, 5, 10]
    s = village_summary(villages(), dc, mask)
    assert s.loc["v1", "population_covered"] == 12.0 and s.loc["v2", "population_covered"] == 10.0
