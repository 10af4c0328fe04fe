"""Tests of blankspot.population: desa population estimates from SP2010 and kecamatan totals."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import example, given
from hypothesis import strategies as st

from blankspot.crs import PASER_CRS
from blankspot.errors import CRSError, DataError, SchemaError
from blankspot.population import estimate_population, largest_remainder, read_kecamatan_totals

PASER_TOTAL_2020 = 277_400


def read_paser_villages(source_dir) -> gpd.GeoDataFrame:
    g = gpd.read_file(source_dir / "paser_desa.geojson")
    g = g.rename(
        columns={
            "kode": "village_id",
            "nama": "name",
            "nama_kec": "kecamatan",
            "kode_kec": "kecamatan_id",
            "penduduk_2010": "population",
        }
    )
    return g.set_index("village_id").to_crs(PASER_CRS)


@pytest.fixture(scope="module")
def paser(paser_source_dir):
    villages = read_paser_villages(paser_source_dir)
    totals = read_kecamatan_totals(paser_source_dir / "paser_kecamatan.csv")
    return villages, totals, estimate_population(villages, totals)


# --- a hand-made example --------------------------------------------------------------------


def tiny_villages(pop_parent=1000.0) -> gpd.GeoDataFrame:
    """Three 1 km x 1 km squares in a row: parent P (1 km²), children A (1 km²), B (2 km²).

    B is a 1 km x 2 km rectangle to the right of A, so B touches A but not P: B's parent is
    the nearest desa with a figure, P. A touches P along 1 km.
    """
    x0, y0 = 500_000.0, 9_800_000.0
    geoms = [
        shapely.box(x0, y0, x0 + 1000, y0 + 1000),
        shapely.box(x0 + 1000, y0, x0 + 2000, y0 + 1000),
        shapely.box(x0 + 2000, y0 - 500, x0 + 3000, y0 + 1500),
    ]
    return gpd.GeoDataFrame(
        {
            "name": ["P", "A", "B"],
            "kecamatan_id": ["64.99.01"] * 3,
            "population": [pop_parent, np.nan, np.nan],
        },
        geometry=geoms,
        index=pd.Index(["64.99.01.2001", "64.99.01.2002", "64.99.01.2003"], name="village_id"),
        crs=PASER_CRS,
    )


def tiny_totals(p2010=1000, p2020=1201) -> pd.DataFrame:
    return pd.DataFrame(
        {"population_2010": [p2010], "population_2020": [p2020]},
        index=pd.Index(["64.99.01"], name="kecamatan_id"),
    )


def test_tiny_split_and_growth_exact():
    villages = tiny_villages()
    before = villages.copy()
    out = estimate_population(villages, tiny_totals())
    # 2010: 1000 persons over 4 km² -> 250, 250, 500; ×1.201 -> 300.25, 300.25, 600.5
    # largest remainder: floors 300, 300, 600 (sum 1200); one unit left, fractions .25 .25 .5
    assert out["population_2010_est"].tolist() == pytest.approx([250.0, 250.0, 500.0])
    assert out["population"].tolist() == [300, 300, 601]
    assert out["population"].dtype == np.int64
    assert out["population_parent"].tolist() == ["", "64.99.01.2001", "64.99.01.2001"]
    assert np.isnan(out.loc["64.99.01.2002", "population_2010"])
    assert out.loc["64.99.01.2001", "population_2010"] == 1000
    assert "shares the longest boundary" in out.loc["64.99.01.2002", "population_source"]
    assert "nearest" in out.loc["64.99.01.2003", "population_source"]
    assert "64.99.01.2002" in out.loc["64.99.01.2001", "population_source"]
    pd.testing.assert_frame_equal(villages, before)  # input untouched


def test_longest_boundary_beats_nearest_across_a_gap():
    # child C between two parents: it shares 1 km with P1 across a 20 m gap, and 0.3 km with P2
    geoms = [
        shapely.box(0, 0, 1000, 1000),  # P1
        shapely.box(1020, 0, 2000, 1000),  # C, 20 m gap to P1
        shapely.box(2000, 700, 3000, 1000),  # P2 touches C along 300 m
    ]
    villages = gpd.GeoDataFrame(
        {"kecamatan_id": ["k"] * 3, "population": [100.0, np.nan, 100.0]},
        geometry=[shapely.affinity.translate(g, 500_000, 9_800_000) for g in geoms],
        index=pd.Index(["p1", "c", "p2"], name="village_id"),
        crs=PASER_CRS,
    )
    totals = pd.DataFrame({"population_2010": [200], "population_2020": [200]}, index=["k"])
    out = estimate_population(villages, totals)
    assert out.loc["c", "population_parent"] == "p1"
    assert out["population"].sum() == 200
    assert out.loc["p2", "population"] == 100


def test_children_only_take_parents_in_their_kecamatan():
    villages = tiny_villages()
    # a neighbour in another kecamatan with a figure shares A's whole north edge
    other = gpd.GeoDataFrame(
        {"name": ["X"], "kecamatan_id": ["64.99.02"], "population": [5000.0]},
        geometry=[shapely.box(501_000, 9_801_000, 502_000, 9_803_000)],
        index=pd.Index(["64.99.02.2001"], name="village_id"),
        crs=PASER_CRS,
    )
    villages = pd.concat([villages, other])
    totals = pd.DataFrame(
        {"population_2010": [1000, 5000], "population_2020": [1201, 6000]},
        index=["64.99.01", "64.99.02"],
    )
    out = estimate_population(villages, totals)
    assert set(out["population_parent"]) == {"", "64.99.01.2001"}
    assert out.loc["64.99.02.2001", "population"] == 6000


def test_target_year_can_be_the_census_year():
    out = estimate_population(tiny_villages(), tiny_totals(p2020=0), target_year=2010)
    assert out["population"].tolist() == [250, 250, 500]


def test_errors_listed_at_once():
    villages = tiny_villages(pop_parent=-5.0)
    villages["kecamatan_id"] = ["64.99.01", "64.99.01", "64.99.07"]
    totals = tiny_totals()
    totals.loc["64.99.01", "population_2020"] = -3
    with pytest.raises(SchemaError) as info:
        estimate_population(villages, totals)
    msg = str(info.value)
    assert "negative population" in msg
    assert "64.99.07" in msg and "missing from kecamatan_totals" in msg
    assert "population_2020 negative" in msg
    assert "3 problems" in msg or "4 problems" in msg


def test_missing_columns_reported_together():
    villages = tiny_villages().drop(columns=["kecamatan_id"])
    totals = tiny_totals().drop(columns=["population_2020"])
    with pytest.raises(SchemaError, match="2 problems") as info:
        estimate_population(villages, totals)
    assert "'kecamatan_id'" in str(info.value) and "'population_2020'" in str(info.value)


def test_kecamatan_without_any_figure_is_an_error():
    villages = tiny_villages(pop_parent=np.nan)
    with pytest.raises(SchemaError, match="no parent"):
        estimate_population(villages, tiny_totals())


def test_requires_metric_crs():
    with pytest.raises(CRSError):
        estimate_population(tiny_villages().to_crs(4326), tiny_totals())


# --- largest remainder -----------------------------------------------------------------------


@given(
    st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=30),
    st.integers(min_value=0, max_value=10_000_000),
)
@example([0.0, 0.0, 1.0], 7)
@example([1e-300, 1.0], 1)
def test_largest_remainder_sums_exactly(weights, total):
    w = np.asarray(weights)
    if w.sum() <= 0:
        w = np.ones_like(w)
    quotas = w / w.sum() * total
    out = largest_remainder(quotas, total)
    assert out.sum() == total
    assert np.all(out >= np.floor(quotas + 1e-9) - 1e-9)
    assert np.all(out <= np.floor(quotas + 1e-9) + 1)


# --- kecamatan totals file -------------------------------------------------------------------


@pytest.mark.paser
def test_read_kecamatan_totals_paser(paser_source_dir):
    t = read_kecamatan_totals(paser_source_dir / "paser_kecamatan.csv")
    assert t.index.name == "kecamatan_id" and len(t) == 10
    assert t["population_2010"].sum() == 230_316
    assert t["population_2020"].sum() == PASER_TOTAL_2020
    assert t["population_2020"].dtype == np.int64
    assert t.loc["64.01.01", "population_2010"] == 22_540
    assert t.attrs["source_labels"]["population_2020"] == "Dukcapil 2020"


def test_read_kecamatan_totals_lists_all_problems(tmp_path):
    path = tmp_path / "kec.csv"
    path.write_text(
        "kode_kec,penduduk_2010_sp,penduduk_2020_dukcapil\n"
        "64.01.01,100,abc\n"
        "64.01.01,-5,200\n"
        ",10,20\n"
    )
    with pytest.raises(SchemaError) as info:
        read_kecamatan_totals(path)
    msg = str(info.value)
    assert "empty kode_kec" in msg and "repeated" in msg
    assert "'abc'" in msg and "negative" in msg


def test_read_kecamatan_totals_missing_columns(tmp_path):
    path = tmp_path / "kec.csv"
    path.write_text("kode_kec,penduduk\n64.01.01,100\n")
    with pytest.raises(SchemaError, match="2 problems"):
        read_kecamatan_totals(path)
    with pytest.raises(DataError):
        read_kecamatan_totals(tmp_path / "nope.csv")


# --- the real Paser data ---------------------------------------------------------------------


@pytest.mark.paser
def test_paser_every_desa_filled(paser):
    villages, _, out = paser
    assert len(out) == 144
    assert out["population"].dtype == np.int64
    assert (out["population"] > 0).all()
    assert out["population"].sum() == PASER_TOTAL_2020
    assert out["population_source"].str.len().gt(0).all()
    # the input keeps its NaNs
    assert villages["population"].isna().sum() == 21


@pytest.mark.paser
def test_paser_kecamatan_sums_equal_dukcapil(paser):
    _, totals, out = paser
    sums = out.groupby("kecamatan_id")["population"].sum()
    pd.testing.assert_series_equal(
        sums.sort_index(),
        totals["population_2020"].sort_index(),
        check_names=False,
        check_index_type=False,
    )


@pytest.mark.paser
def test_paser_children_have_parents_in_their_kecamatan(paser):
    villages, _, out = paser
    missing = villages.index[villages["population"].isna()]
    assert len(missing) == 21
    children = out.loc[missing]
    for vid, row in children.iterrows():
        parent = row["population_parent"]
        assert parent in out.index
        assert parent in row["population_source"]
        assert out.loc[parent, "kecamatan_id"] == row["kecamatan_id"]
        assert not np.isnan(out.loc[parent, "population_2010"]), vid
    others = out.index.difference(missing)
    assert (out.loc[others, "population_parent"] == "").all()
    # 2010 figures are preserved as given, and the split keeps each parent's 2010 total
    np.testing.assert_array_equal(
        out.loc[others, "population_2010"].to_numpy(), villages.loc[others, "population"]
    )
    groups = out[out["population_parent"] != ""].groupby("population_parent")
    for parent, kids in groups:
        split = out.loc[parent, "population_2010_est"] + kids["population_2010_est"].sum()
        assert split == pytest.approx(out.loc[parent, "population_2010"])
