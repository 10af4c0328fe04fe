"""Tests of blankspot.demand: demand cells and target-desa selection."""

from __future__ import annotations

import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine
from hypothesis import example, given, settings
from hypothesis import strategies as st

from blankspot.crs import PASER_CRS, WGS84
from blankspot.demand import demand_cells, select_villages
from blankspot.errors import CRSError, SchemaError, UnitsError
from blankspot.population import estimate_population, read_kecamatan_totals

X0, Y0 = 500_000.0, 9_800_000.0


def villages_frame(geoms, populations, ids=None, **columns) -> gpd.GeoDataFrame:
    ids = ids or [f"64.99.01.20{i:02d}" for i in range(1, len(geoms) + 1)]
    return gpd.GeoDataFrame(
        {"name": [f"Desa {i}" for i in ids], "population": populations, **columns},
        geometry=list(geoms),
        index=pd.Index(ids, name="village_id"),
        crs=PASER_CRS,
    )


@pytest.fixture(scope="module")
def paser(paser_source_dir):
    g = gpd.read_file(paser_source_dir / "paser_desa.geojson")
    g = g.rename(
        columns={
            "kode": "village_id",
            "nama": "name",
            "nama_kec": "kecamatan",
            "kode_kec": "kecamatan_id",
            "penduduk_2010": "population",
        }
    )
    g = g.set_index("village_id").to_crs(PASER_CRS)
    totals = read_kecamatan_totals(paser_source_dir / "paser_kecamatan.csv")
    return g, estimate_population(g, totals)


def test_aligned_square_gets_exact_cells():
    v = villages_frame([shapely.box(X0, Y0, X0 + 1000, Y0 + 1000)], [1600.0])
    cells = demand_cells(v, cell_size_m=250.0)
    assert len(cells) == 16
    assert cells.index.name == "cell_id" and cells.index.tolist() == list(range(16))
    assert cells["population"].tolist() == [100.0] * 16
    assert cells.crs == PASER_CRS
    assert sorted(set(cells["x_m"])) == [X0 + 125, X0 + 375, X0 + 625, X0 + 875]
    # north to south, then west to east
    assert cells["y_m"].iloc[0] == Y0 + 875 and cells["x_m"].iloc[0] == X0 + 125
    assert cells["x_m"].iloc[1] == X0 + 375
    np.testing.assert_array_equal(cells.geometry.x, cells["x_m"])
    np.testing.assert_array_equal(cells.geometry.y, cells["y_m"])
    assert (cells["village_id"] == "64.99.01.2001").all()


def test_grid_is_aligned_to_multiples_of_the_cell_size():
    v = villages_frame(
        [
            shapely.box(X0 + 37, Y0 + 11, X0 + 1290, Y0 + 777),
            shapely.Point(X0 + 5000, Y0).buffer(900),
        ],
        [10.0, 20.0],
    )
    cells = demand_cells(v, cell_size_m=200.0)
    for col in ("x_m", "y_m"):
        k = cells[col].to_numpy() / 200.0 - 0.5
        np.testing.assert_allclose(k, np.round(k), atol=1e-9)
    assert v.geometry.iloc[0].contains(shapely.points(cells[["x_m", "y_m"]].to_numpy()[:5])).all()
    sums = cells.groupby("village_id")["population"].sum()
    assert sums.loc["64.99.01.2001"] == pytest.approx(10.0)
    assert sums.loc["64.99.01.2002"] == pytest.approx(20.0)


def test_tiny_desa_gets_one_cell_at_its_representative_point():
    tiny = shapely.box(X0 + 10, Y0 + 10, X0 + 60, Y0 + 60)  # holds no 250 m cell centre
    v = villages_frame([tiny, shapely.box(X0 + 1000, Y0, X0 + 1500, Y0 + 500)], [7.0, 8.0])
    cells = demand_cells(v)
    first = cells[cells["village_id"] == "64.99.01.2001"]
    assert len(first) == 1 and first["population"].iloc[0] == 7.0
    assert tiny.contains(first.geometry.iloc[0])
    assert len(cells) == 1 + 4


def test_village_ids_subset_and_order():
    v = villages_frame(
        [shapely.box(X0 + 1000 * i, Y0, X0 + 1000 * (i + 1), Y0 + 500) for i in range(3)],
        [8.0, 16.0, 24.0],
    )
    cells = demand_cells(v, village_ids=["64.99.01.2003", "64.99.01.2001"])
    assert cells["village_id"].unique().tolist() == ["64.99.01.2001", "64.99.01.2003"]
    assert cells["population"].sum() == pytest.approx(32.0)
    with pytest.raises(SchemaError, match=r"64\.99\.01\.2009"):
        demand_cells(v, village_ids=["64.99.01.2009"])


def test_errors_are_listed_at_once():
    v = villages_frame(
        [shapely.box(X0, Y0, X0 + 500, Y0 + 500), shapely.box(X0 + 600, Y0, X0 + 900, Y0 + 500)],
        [np.nan, -3.0],
    )
    with pytest.raises(SchemaError, match="2 problems") as info:
        demand_cells(v)
    msg = str(info.value)
    assert "64.99.01.2001" in msg and "estimate_population" in msg
    assert "negative population" in msg and "64.99.01.2002" in msg
    # the bad desa are fine when not selected
    assert len(demand_cells(v.assign(population=[1.0, -3.0]), village_ids=["64.99.01.2001"])) == 4


@pytest.mark.parametrize("size", [0.0, -250.0, float("nan"), "big"])
def test_cell_size_must_be_positive(size):
    v = villages_frame([shapely.box(X0, Y0, X0 + 500, Y0 + 500)], [1.0])
    with pytest.raises(UnitsError, match="cell_size_m"):
        demand_cells(v, cell_size_m=size)


def test_requires_metric_crs():
    v = villages_frame([shapely.box(X0, Y0, X0 + 500, Y0 + 500)], [1.0]).to_crs(WGS84)
    with pytest.raises(CRSError):
        demand_cells(v)


def test_missing_population_column():
    v = villages_frame([shapely.box(X0, Y0, X0 + 500, Y0 + 500)], [1.0]).drop(
        columns=["population"]
    )
    with pytest.raises(SchemaError, match="estimate_population"):
        demand_cells(v)


@settings(max_examples=40, deadline=None)
@given(
    i=st.integers(-20, 20),
    j=st.integers(-20, 20),
    w=st.integers(1, 12),
    h=st.integers(1, 12),
    pop=st.floats(0, 1e5, allow_nan=False),
)
@example(i=0, j=0, w=1, h=1, pop=0.0)
def test_aligned_rectangles_property(i, j, w, h, pop):
    size = 250.0
    box = shapely.box(X0 + i * size, Y0 + j * size, X0 + (i + w) * size, Y0 + (j + h) * size)
    cells = demand_cells(villages_frame([box], [pop]), cell_size_m=size)
    assert len(cells) == w * h
    assert cells["population"].sum() == pytest.approx(pop, rel=1e-12, abs=1e-9)


# --- weighting by a population raster --------------------------------------------------------


def write_raster(path, data, transform, crs, nodata=None):
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=data.shape[1],
        height=data.shape[0],
        count=1,
        dtype=data.dtype,
        crs=crs,
        transform=transform,
        nodata=nodata,
    ) as dst:
        dst.write(data, 1)


def test_population_raster_in_another_crs(tmp_path):
    # desa of 2 km x 1 km; the raster (lon/lat) holds people only in its eastern half
    box = shapely.box(X0, Y0, X0 + 2000, Y0 + 1000)
    v = villages_frame([box], [1000.0])
    lon0, _lat0, lon1, lat1 = gpd.GeoSeries([box], crs=PASER_CRS).to_crs(WGS84).total_bounds
    n = 200
    res_deg = (lon1 - lon0 + 0.02) / n
    data = np.zeros((n, n), dtype=np.float32)
    lon_mid = (lon0 + lon1) / 2
    col_mid = round((lon_mid - (lon0 - 0.01)) / res_deg)
    data[:, col_mid:] = 5.0
    data[0, 0] = -9999.0
    path = tmp_path / "pop.tif"
    write_raster(
        path, data, Affine(res_deg, 0, lon0 - 0.01, 0, -res_deg, lat1 + 0.01), "EPSG:4326", -9999.0
    )
    uniform = demand_cells(v)
    weighted = demand_cells(v, population_raster=path)
    assert len(weighted) == len(uniform) == 32
    assert weighted["population"].sum() == pytest.approx(1000.0)
    east = weighted["x_m"] > X0 + 1000
    assert weighted.loc[~east, "population"].sum() == pytest.approx(0.0)
    assert weighted.loc[east, "population"].to_numpy() == pytest.approx(np.full(16, 1000 / 16))


def test_population_raster_all_zero_falls_back_to_uniform(tmp_path):
    v = villages_frame(
        [
            shapely.box(X0, Y0, X0 + 1000, Y0 + 1000),
            shapely.box(X0 + 9000, Y0, X0 + 9500, Y0 + 500),
        ],
        [160.0, 40.0],
    )
    data = np.zeros((10, 10), dtype=np.float32)
    data[3, 6] = 3.0  # under the cell centred at (X0 + 625, Y0 + 625)
    path = tmp_path / "pop.tif"
    # covers only the first desa, and has people in one pixel there
    write_raster(path, data, Affine(100.0, 0, X0, 0, -100.0, Y0 + 1000), PASER_CRS.to_wkt())
    cells = demand_cells(v, population_raster=path)
    second = cells[cells["village_id"] == "64.99.01.2002"]
    assert second["population"].tolist() == [10.0] * 4
    first = cells[cells["village_id"] == "64.99.01.2001"]
    assert first["population"].sum() == pytest.approx(160.0)
    assert (first["population"] > 0).sum() == 1


# --- select_villages --------------------------------------------------------------------------


@pytest.mark.paser
def test_select_named_targets(paser):
    _, villages = paser
    assert len(select_villages(villages, "blankspot")) == 9
    assert len(select_villages(villages, "blankspot_2021")) == 6
    assert len(select_villages(villages, "blankspot_2022")) == 5
    assert select_villages(villages, "all") == list(villages.index)
    assert "64.01.08.2008" in select_villages(villages, "blankspot")
    assert select_villages(villages, "64.01.08.2008") == ["64.01.08.2008"]
    assert select_villages(villages, ("64.01.09.2003", "64.01.01.2009", "64.01.09.2003")) == [
        "64.01.01.2009",
        "64.01.09.2003",
    ]


@pytest.mark.paser
def test_select_unknown_ids_all_at_once(paser):
    _, villages = paser
    with pytest.raises(SchemaError) as info:
        select_villages(villages, ["64.01.08.2008", "64.01.08.2080", "Muara Toyu", "zzz"])
    msg = str(info.value)
    assert "'64.01.08.2080'" in msg and "'zzz'" in msg and "'Muara Toyu'" in msg
    assert "did you mean 64.01.08.2008 (Muara Toyu)" in msg


def test_select_needs_flag_columns():
    v = villages_frame([shapely.box(X0, Y0, X0 + 500, Y0 + 500)], [1.0])
    with pytest.raises(SchemaError, match="blankspot_2021"):
        select_villages(v, "blankspot")
    assert select_villages(v.assign(blankspot_2021=[True]), "blankspot_2021") == ["64.99.01.2001"]


# --- all of Paser -----------------------------------------------------------------------------


@pytest.mark.paser
def test_paser_all_desa_at_250_m_fast(paser):
    _, villages = paser
    t0 = time.perf_counter()
    cells = demand_cells(villages, cell_size_m=250.0)
    elapsed = time.perf_counter() - t0
    assert elapsed < 5.0
    # 10,761.6 km² / 0.0625 km² per cell ≈ 172,186 cells
    assert 170_000 < len(cells) < 174_000
    assert cells["village_id"].nunique() == 144
    assert cells["population"].sum() == pytest.approx(277_400)
    sums = cells.groupby("village_id")["population"].sum()
    np.testing.assert_allclose(sums.loc[villages.index], villages["population"], rtol=1e-12)


@pytest.mark.paser
def test_paser_needs_estimates_first(paser):
    raw, _ = paser
    with pytest.raises(SchemaError, match="21 desa") as info:
        demand_cells(raw)
    assert "64.01.01.2017 (Songka)" in str(info.value)
    targets = select_villages(raw, "blankspot")
    cells = demand_cells(raw, village_ids=targets)  # all nine targets have 2010 figures
    assert cells["village_id"].nunique() == 9
