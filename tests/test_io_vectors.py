"""read_villages / read_sites / sites_frame / validate_sites: schema and every error, all at once."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from affine import Affine
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from blankspot.errors import CRSError, DataError, SchemaError
from blankspot.io import (
    PASER_VILLAGE_COLUMNS,
    read_sites,
    read_villages,
    sites_frame,
    validate_sites,
)
from blankspot.terrain import Terrain

LON0, LAT0 = 116.0, -1.9  # inside Kabupaten Paser


def _square(i: int, size: float = 0.01) -> Polygon:
    return box(LON0 + i * size, LAT0, LON0 + (i + 1) * size, LAT0 + size)


def _villages(n: int = 3, **extra) -> gpd.GeoDataFrame:
    data = {
        "kode": [f"64.01.01.20{i:02d}" for i in range(n)],
        "nama": [f"Desa {i}" for i in range(n)],
        "nama_kec": ["Batu Sopang"] * n,
        "kode_kec": ["64.01.01"] * n,
        "penduduk_2010": [100.0 * (i + 1) for i in range(n)],
        "jenis": ["Desa"] * n,
    }
    data.update(extra)
    return gpd.GeoDataFrame(data, geometry=[_square(i) for i in range(n)], crs="EPSG:4326")


def _write_without_crs(gdf: gpd.GeoDataFrame, path) -> None:
    """Write a shapefile with no .prj (pyogrio warns that the file has no CRS: that is the point)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'crs' was not provided", UserWarning)
        gdf.to_file(path)
    assert not path.with_suffix(".prj").exists()


def _error(excinfo) -> str:
    return str(excinfo.value)


# --- villages: good input -------------------------------------------------------------------------
def test_read_villages_schema(tmp_path):
    path = tmp_path / "v.geojson"
    _villages().to_file(path)
    v = read_villages(path)
    assert v.index.name == "village_id"
    assert v.index.tolist() == ["64.01.01.2000", "64.01.01.2001", "64.01.01.2002"]
    assert all(isinstance(i, str) for i in v.index)
    assert list(v.columns[:4]) == ["name", "kecamatan", "kecamatan_id", "population"]
    assert "jenis" in v.columns and "kode" not in v.columns and "nama" not in v.columns
    assert v.population.dtype == np.float64
    assert v.crs.to_epsg() == 32750
    assert v.geometry.name == v.columns[-1]
    assert v.geometry.area.round(-4).min() > 1e6  # ~1.1 km squares, in metres


def test_read_villages_numeric_codes_become_strings_and_crs_option(tmp_path):
    gdf = _villages(2)
    gdf["kode"] = [6401010009, 6401010010]  # int64 column in the file
    gdf["kode_kec"] = [6401010.0, np.nan]  # a float column with a gap
    path = tmp_path / "v.gpkg"
    gdf.to_file(path)
    v = read_villages(path, crs="EPSG:32750")
    assert v.index.tolist() == ["6401010009", "6401010010"]
    assert v.loc["6401010009", "kecamatan_id"] == "6401010"
    assert pd.isna(v.loc["6401010010", "kecamatan_id"])


def test_read_villages_custom_columns_and_optional_ones_skipped(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"id": ["A", "B"], "desa": ["x", "y"]}, geometry=[_square(0), _square(1)], crs="EPSG:4326"
    )
    path = tmp_path / "v.gpkg"
    gdf.to_file(path)
    v = read_villages(path, columns={"village_id": "id", "name": "desa"})
    assert v.index.tolist() == ["A", "B"]
    assert list(v.columns) == ["name", "population", "geometry"]
    assert v.population.isna().all()


def test_read_villages_with_our_own_column_names(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"village_id": ["A", "B"], "Name": ["x", "y"], "population": [5, 6]},
        geometry=[_square(0), _square(1)],
        crs="EPSG:4326",
    )
    path = tmp_path / "v.gpkg"
    gdf.to_file(path)
    v = read_villages(path)
    assert v.index.tolist() == ["A", "B"]
    assert v.name.tolist() == ["x", "y"]
    assert v.population.tolist() == [5.0, 6.0]
    with pytest.raises(SchemaError, match="village_id is required but was mapped to None"):
        read_villages(path, columns={"village_id": None})


def test_read_villages_reprojects_from_projected_file(tmp_path):
    path = tmp_path / "v.gpkg"
    _villages().to_crs("EPSG:3857").to_file(path)
    assert read_villages(path).crs.to_epsg() == 32750


# --- villages: errors -------------------------------------------------------------------------
def test_read_villages_reports_every_problem_at_once(tmp_path):
    geoms = [
        _square(0),
        _square(1),
        None,
        Point(LON0, LAT0),
        Polygon(
            [(LON0, LAT0), (LON0 + 0.01, LAT0 + 0.01), (LON0 + 0.01, LAT0), (LON0, LAT0 + 0.01)]
        ),
        Polygon(),
        _square(6),
    ]
    gdf = gpd.GeoDataFrame(
        {
            "kode": ["a", "a", "c", "d", "bow", "f", None],
            "nama": list("ABCDEFG"),
            "penduduk_2010": ["10", "-5", "abc", "", None, "7", "8"],
        },
        geometry=geoms,
        crs="EPSG:4326",
    )
    path = tmp_path / "bad.gpkg"
    gdf.to_file(path)
    with pytest.raises(SchemaError) as info:
        read_villages(path)
    msg = _error(info)
    assert "problems found" in msg
    assert "village_id value(s) in column 'kode' are missing or empty: row 7" in msg
    assert "occur more than once: 'a' (2x)" in msg
    assert "no geometry (null): 'c'" in msg
    assert "empty geometry: 'f'" in msg
    assert "not Polygon or MultiPolygon: 'd' (Point)" in msg
    assert "invalid: 'bow': Self-intersection" in msg
    assert "make_valid" in msg
    assert "not numbers: 'c'='abc'" in msg
    assert "negative or infinite: 'a'=-5" in msg


def test_read_villages_missing_columns_lists_existing(tmp_path):
    gdf = gpd.GeoDataFrame({"id": ["A"], "desa": ["x"]}, geometry=[_square(0)], crs="EPSG:4326")
    path = tmp_path / "v.geojson"
    gdf.to_file(path)
    with pytest.raises(SchemaError) as info:
        read_villages(path, columns={"population": "pop", "colour": "c"})
    msg = _error(info)
    assert "no column for village_id: looked for 'kode', 'village_id'" in msg
    assert "the file has columns 'id', 'desa'" in msg
    assert "no column for name: looked for 'nama', 'name'" in msg
    assert "column 'pop' for population is not in the file" in msg
    assert "unknown key(s) 'colour'" in msg


def test_read_villages_no_crs_is_a_crs_error_listed_with_the_rest(tmp_path):
    gdf = _villages(2).drop(columns=["penduduk_2010"])
    gdf["kode"] = ["x", "x"]
    gdf = gdf.set_crs(None, allow_override=True)
    path = tmp_path / "v.shp"
    _write_without_crs(gdf, path)
    with pytest.raises(CRSError) as info:
        read_villages(path)
    msg = _error(info)
    assert "declares no CRS" in msg
    assert "'x' (2x)" in msg


def test_read_villages_name_clash(tmp_path):
    path = tmp_path / "v.geojson"
    _villages(1, name=["other"]).to_file(path)
    with pytest.raises(
        SchemaError, match="has a column 'name', but name is filled from column 'nama'"
    ):
        read_villages(path)


def test_read_villages_empty_file(tmp_path):
    path = tmp_path / "v.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(SchemaError, match="no features"):
        read_villages(path)


def test_read_villages_missing_and_unreadable_file(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_villages(tmp_path / "nope.gpkg")
    bad = tmp_path / "junk.gpkg"
    bad.write_text("this is not a geopackage")
    with pytest.raises(DataError, match="could not read villages file"):
        read_villages(bad)


def test_read_villages_rejects_geographic_target_crs(tmp_path):
    path = tmp_path / "v.geojson"
    _villages().to_file(path)
    with pytest.raises(CRSError, match="geographic"):
        read_villages(path, crs="EPSG:4326")


def test_read_villages_many_offenders_are_counted(tmp_path):
    gdf = _villages(15)
    gdf["kode"] = ["dup"] * 15
    gdf.loc[:, "penduduk_2010"] = -1.0
    path = tmp_path / "v.gpkg"
    gdf.to_file(path)
    with pytest.raises(SchemaError) as info:
        read_villages(path)
    assert "and 5 more (15 in all)" in _error(info)


# --- villages: the real Paser file -----------------------------------------------------------------
def test_read_villages_paser(paser_source_dir):
    v = read_villages(paser_source_dir / "paser_desa.geojson")
    assert len(v) == 144
    assert v.index.is_unique
    assert all(isinstance(i, str) for i in v.index)
    assert v.crs.to_epsg() == 32750
    assert int(v.population.isna().sum()) == 21
    assert v.loc["64.01.08.2008", "name"] == "Muara Toyu"
    assert v.loc["64.01.08.2008", "kecamatan"] == "Long Kali"
    assert set(v.geom_type) <= {"Polygon", "MultiPolygon"}
    assert v.population.sum() == pytest.approx(v.population.dropna().sum())
    assert set(PASER_VILLAGE_COLUMNS) == {
        "village_id",
        "name",
        "kecamatan",
        "kecamatan_id",
        "population",
    }
    # areas in metres agree with the file's luas_km2 (computed in EPSG:32750)
    np.testing.assert_allclose(v.geometry.area / 1e6, v["luas_km2"], rtol=1e-3)


# --- sites: CSV --------------------------------------------------------------------------------
def _csv(tmp_path, text: str, name: str = "sites.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_read_sites_csv_schema(tmp_path):
    path = _csv(
        tmp_path,
        "site_id,lon,lat,height_agl_m,cost_idr,owner\n"
        "007,116.05,-1.85,42,1700000000,pemda\n"
        "T2,116.10,-1.80,72.5,,telkomsel\n",
    )
    s = read_sites(path)
    assert s.index.name == "site_id"
    assert s.index.tolist() == ["007", "T2"]
    assert list(s.columns) == ["height_agl_m", "cost_idr", "source", "owner", "geometry"]
    assert s.height_agl_m.dtype == np.float64
    assert str(s.cost_idr.dtype) == "Int64"
    assert s.loc["007", "cost_idr"] == 1_700_000_000
    assert pd.isna(s.loc["T2", "cost_idr"])
    assert (s.source == "user").all()
    assert s.crs.to_epsg() == 32750
    assert (s.geom_type == "Point").all()
    x, y = s.geometry.x["007"], s.geometry.y["007"]
    assert 390_000 < x < 400_000 and 9_790_000 < y < 9_800_000


def test_read_sites_aliases_default_height_and_crs(tmp_path):
    path = _csv(
        tmp_path, "ID,Longitude,Latitude,height_agl_m\nA,116.05,-1.85,\nB,116.06,-1.86,30\n"
    )
    s = read_sites(path, default_height_agl_m=50, crs="EPSG:32750")
    assert s.height_agl_m.tolist() == [50.0, 30.0]
    assert s.cost_idr.isna().all()
    path2 = _csv(tmp_path, "id,x,y\nA,397000,9795000\n", "xy.csv")
    s2 = read_sites(path2, coords_crs="EPSG:32750", default_height_agl_m=30)
    assert s2.geometry.x.iloc[0] == pytest.approx(397000)


def test_read_sites_csv_reports_every_problem_at_once(tmp_path):
    path = _csv(
        tmp_path,
        "site_id,lon,lat,height_agl_m,cost_idr\n"
        "A,116.05,-1.85,42,1700000000\n"
        "A,116.05,-1.85,42,1700000000\n"
        ",116.05,-1.85,42,1\n"
        "C,,-1.85,42,1\n"
        "D,abc,-1.85,42,1\n"
        "E,-1.85,116.05,42,1\n"
        "F,116.05,-1.85,-3,1\n"
        "G,116.05,-1.85,,1\n"
        "H,116.05,-1.85,42,1.5\n"
        "I,116.05,-1.85,42,-100\n"
        "J,116.05,-1.85,42,1.700.000.000\n"
        "K,116.05,-1.85,tall,2\n",
    )
    with pytest.raises(SchemaError) as info:
        read_sites(path)
    msg = _error(info)
    assert "occur more than once: 'A' (2x)" in msg
    assert "missing or empty: row 3" in msg
    assert "missing coordinates in columns 'lon'/'lat': 'C'" in msg
    assert "coordinates that are not numbers" in msg and "'D'=('abc', -1.85)" in msg
    assert "outside valid degrees" in msg and "'E'=(-1.85, 116.05)" in msg
    assert "lat/lon swapped" in msg
    assert "negative or infinite: 'F'=-3" in msg
    assert "height(s) in column 'height_agl_m' are missing: 'G'" in msg
    assert "not whole Rupiah: 'H'=" in msg
    assert "cost(s) in column 'cost_idr' are negative or infinite: 'I'=-100" in msg
    assert "not numbers: 'J'='1.700.000.000'" in msg and "thousands separators" in msg
    assert "height(s) in column 'height_agl_m' are not numbers: 'K'='tall'" in msg


def test_read_sites_missing_columns(tmp_path):
    path = _csv(tmp_path, "name,easting,northing\nA,1,2\n")
    with pytest.raises(SchemaError) as info:
        read_sites(path)
    msg = _error(info)
    assert "no column for site_id: looked for 'site_id', 'id'" in msg
    assert "no column for lon: looked for 'lon', 'longitude', 'x'" in msg
    assert "no column for lat: looked for 'lat', 'latitude', 'y'" in msg
    assert "'name', 'easting', 'northing'" in msg
    assert "no 'height_agl_m' column and no default height" in msg


def test_read_sites_explicit_columns(tmp_path):
    path = _csv(tmp_path, "kode,bujur,lintang,tinggi,biaya\n0042,116.05,-1.85,40,5\n")
    s = read_sites(
        path,
        columns={
            "site_id": "kode",
            "lon": "bujur",
            "lat": "lintang",
            "height_agl_m": "tinggi",
            "cost_idr": "biaya",
        },
    )
    assert s.index.tolist() == ["0042"]  # read as text: leading zeros kept
    assert s.loc["0042", "height_agl_m"] == 40.0 and s.loc["0042", "cost_idr"] == 5
    with pytest.raises(SchemaError, match="column 'nope' for height_agl_m is not in the file"):
        read_sites(
            path,
            columns={"site_id": "kode", "lon": "bujur", "lat": "lintang", "height_agl_m": "nope"},
        )


def test_read_sites_missing_file(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_sites(tmp_path / "none.csv")


# --- sites: vector files -------------------------------------------------------------------------
def test_read_sites_point_file(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"site_id": ["a", "b"], "height_agl_m": [30.0, 40.0], "source": ["survey", "survey"]},
        geometry=[Point(116.05, -1.85), Point(116.06, -1.86)],
        crs="EPSG:4326",
    )
    path = tmp_path / "s.gpkg"
    gdf.to_file(path)
    s = read_sites(path)
    assert s.crs.to_epsg() == 32750
    assert (s.source == "user").all()
    assert s.source_in_file.tolist() == ["survey", "survey"]


def test_read_sites_vector_geometry_problems(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"site_id": ["a", "b", "c", "d"], "height_agl_m": [30.0] * 4},
        geometry=[Point(116.05, -1.85), LineString([(116, -1.8), (116.1, -1.8)]), Point(), None],
        crs="EPSG:4326",
    )
    path = tmp_path / "s.gpkg"
    gdf.to_file(path)
    with pytest.raises(SchemaError) as info:
        read_sites(path)
    msg = _error(info)
    assert "not Point: 'b' (LineString)" in msg
    assert "empty geometry: 'c'" in msg or "no geometry (null): 'c'" in msg
    assert "no geometry (null): " in msg and "'d'" in msg


def test_read_sites_vector_without_crs(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"site_id": ["a", "a"], "height": [30.0, 30.0]},
        geometry=[Point(397000, 9795000), Point(397100, 9795000)],
    )
    path = tmp_path / "s.shp"
    _write_without_crs(gdf, path)
    with pytest.raises(CRSError) as info:
        read_sites(path, columns={"height_agl_m": "height"})
    msg = _error(info)
    assert "declares no CRS" in msg
    assert "'a' (2x)" in msg


# --- sites and terrain -------------------------------------------------------------------------
@pytest.fixture
def small_terrain() -> Terrain:
    elev = np.full((10, 10), 100.0, dtype=np.float32)
    elev[0, 0] = np.nan
    return Terrain(elev, Affine(30.0, 0, 397000.0, 0, -30.0, 9795000.0), "EPSG:32750")


def test_read_sites_against_terrain(tmp_path, small_terrain):
    path = _csv(
        tmp_path,
        "site_id,x,y,height_agl_m\nin,397150,9794850,30\n"
        "out,399000,9794850,30\nhole,397010,9794990,30\n",
    )
    with pytest.raises(SchemaError) as info:
        read_sites(path, coords_crs="EPSG:32750", terrain=small_terrain)
    msg = _error(info)
    assert "2 problems" in msg
    assert "outside the terrain grid" in msg and "'out' at (399000, 9794850)" in msg
    assert "without elevation (nodata): 'hole'" in msg
    ok = _csv(tmp_path, "site_id,x,y,height_agl_m\nin,397150,9794850,30\n", "ok.csv")
    s = read_sites(ok, coords_crs="EPSG:32750", terrain=small_terrain)
    assert s.crs == small_terrain.crs
    with pytest.raises(CRSError, match="EPSG:32751"):
        read_sites(ok, coords_crs="EPSG:32750", terrain=small_terrain, crs="EPSG:32751")


# --- sites_frame / validate_sites --------------------------------------------------------------
def test_sites_frame_schema():
    s = sites_frame(
        ["c1", "c2", "c3"],
        [397000.0, 397100, 397200],
        [9795000.0] * 3,
        [30, 42, 72],
        crs="EPSG:32750",
        cost_idr=[1, None, 3],
        source="candidate",
    )
    assert s.index.name == "site_id" and s.index.tolist() == ["c1", "c2", "c3"]
    assert list(s.columns) == ["height_agl_m", "cost_idr", "source", "geometry"]
    assert str(s.cost_idr.dtype) == "Int64" and pd.isna(s.cost_idr["c2"])
    assert (s.source == "candidate").all()
    assert s.height_agl_m.dtype == np.float64
    assert validate_sites(s).equals(s)


def test_sites_frame_problems():
    with pytest.raises(SchemaError) as info:
        sites_frame(
            ["a", "a", ""],
            [1.0, 2.0, 3.0],
            [1.0, 2.0, 3.0],
            [-1.0, 10.0, 10.0],
            crs="EPSG:32750",
            cost_idr=[1, 2, -3],
        )
    msg = _error(info)
    assert "'a' (2x)" in msg and "missing or empty: row 3" in msg
    assert "height(s) in column 'height_agl_m' are negative" in msg
    assert "cost(s) in column 'cost_idr' are negative" in msg
    with pytest.raises(SchemaError, match="arrays differ in length"):
        sites_frame(["a", "b"], [1.0], [1.0, 2.0], 10.0, crs="EPSG:32750")
    with pytest.raises(CRSError, match="geographic"):
        sites_frame(["a"], [116.0], [-1.8], 10.0, crs="EPSG:4326")


def test_validate_sites_reports_schema_problems(small_terrain):
    gdf = gpd.GeoDataFrame(
        {"height_agl_m": [10.0, np.nan]},
        index=pd.Index(["a", "b"]),
        geometry=[Point(397150, 9794850), Point(0, 0)],
        crs="EPSG:32750",
    )
    with pytest.raises(SchemaError) as info:
        validate_sites(gdf, terrain=small_terrain)
    msg = _error(info)
    assert "index must be named 'site_id'" in msg
    assert "missing column(s) 'cost_idr', 'source'" in msg
    assert "are missing: 'b'" in msg
    assert "outside the terrain grid" in msg and "'b' at (0, 0)" in msg
    with pytest.raises(CRSError, match="not a projected CRS in metres"):
        validate_sites(gdf.to_crs("EPSG:4326"))
    with pytest.raises(SchemaError, match="must be a GeoDataFrame"):
        validate_sites(pd.DataFrame())


def test_multipolygon_and_polygon_villages_are_both_kept(tmp_path):
    gdf = _villages(2)
    gdf.loc[1, "geometry"] = MultiPolygon([_square(1), _square(3)])
    path = tmp_path / "v.gpkg"
    gdf.to_file(path)
    v = read_villages(path)
    assert set(v.geom_type) <= {"Polygon", "MultiPolygon"}
    assert len(v) == 2
