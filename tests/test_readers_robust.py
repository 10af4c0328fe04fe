"""Readers never end in a traceback: a damaged, truncated or empty file is a BlankspotError that
names the file; implausible elevations are nodata."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blankspot.errors import BlankspotError, BlankspotWarning, DataError

REPO = Path(__file__).resolve().parents[1]
BOUNDARIES = REPO / "data" / "boundaries"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "measurements"
UTM50S = "EPSG:32750"


def _dem(path, values, res=100.0, crs=UTM50S, nodata=None):
    arr = np.asarray(values, dtype=np.float32)
    with rasterio.open(path, "w", driver="GTiff", width=arr.shape[1], height=arr.shape[0], count=1,
                       dtype="float32", crs=crs, nodata=nodata,
                       transform=Affine(res, 0, 500_000, 0, -res, 9_750_000)) as dst:
        dst.write(arr, 1)
    return path


@pytest.fixture
def hill(tmp_path):
    y, x = np.mgrid[0:40, 0:40]
    return _dem(tmp_path / "hill.tif", 100 + 300 * np.exp(-((x - 20) ** 2 + (y - 20) ** 2) / 80))


# --- item 6: implausible elevations -----------------------------------------------------------


def test_elevation_spike_is_nodata_with_a_warning(tmp_path):
    from blankspot.io import read_terrain

    y, x = np.mgrid[0:40, 0:40]
    values = 100 + 300 * np.exp(-((x - 20) ** 2 + (y - 20) ** 2) / 80)
    values[5, 5] = 1e30
    values[6, 30] = -9_999.0  # an undeclared nodata value
    path = _dem(tmp_path / "spike.tif", values)
    with pytest.warns(BlankspotWarning) as record:
        t = read_terrain(path, res_m=100.0, crs=UTM50S)
    messages = [str(w.message) for w in record]
    assert any("2 cell(s)" in m and "outside the plausible -500 .. 9000 m" in m and "1e+30" in m
               for m in messages)
    assert np.nanmax(t.elevation_m) < 1_000
    assert t.nodata_mask.sum() >= 2


def test_candidates_are_never_placed_on_a_spike(tmp_path):
    from blankspot.candidates import generate_candidates
    from blankspot.io import read_terrain

    y, x = np.mgrid[0:40, 0:40]
    values = 100 + 300 * np.exp(-((x - 20) ** 2 + (y - 20) ** 2) / 80)
    values[5, 5] = 1e30
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BlankspotWarning)
        t = read_terrain(_dem(tmp_path / "spike.tif", values), res_m=100.0, crs=UTM50S)
        from shapely.geometry import box

        sites = generate_candidates(t, box(500_000, 9_746_000, 504_000, 9_750_000),
                                    n_high_points=5, search_buffer_m=0.0)
    spike_x, spike_y = 500_000 + 5.5 * 100, 9_750_000 - 5.5 * 100
    d = np.hypot(sites.geometry.x - spike_x, sites.geometry.y - spike_y)
    assert (d > 150).all()


# --- item 7: damaged DEMs -----------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["empty", "garbage", "truncated"])
def test_damaged_dem_is_a_data_error_naming_the_file(hill, damage):
    from blankspot.io import read_terrain

    data = hill.read_bytes()
    bad = hill.with_name(f"{damage}.tif")
    bad.write_bytes({"empty": b"", "garbage": b"\x00GARBAGE" * 100,
                     "truncated": data[: len(data) // 2]}[damage])
    with pytest.raises(DataError, match=bad.name):
        read_terrain(bad, res_m=100.0, crs=UTM50S)


# --- item 7: the property — random bytes and truncations of real files ------------------------


def _reader_cases(tmp_path_factory):
    folder = tmp_path_factory.mktemp("real")
    hill = folder / "hill.tif"
    y, x = np.mgrid[0:40, 0:40]
    _dem(hill, 100 + 300 * np.exp(-((x - 20) ** 2 + (y - 20) ** 2) / 80))
    return folder, hill


def _readers():
    from blankspot.cache import read_entry
    from blankspot.io import read_sites, read_terrain, read_villages
    from blankspot.measurements import read_measurements
    from blankspot.population import read_kecamatan_totals

    return {
        "terrain": (".tif", lambda p: read_terrain(p, res_m=100.0, crs=UTM50S)),
        "villages": (".geojson", lambda p: read_villages(p)),
        "sites": (".csv", lambda p: read_sites(p)),
        "kecamatan": (".csv", lambda p: read_kecamatan_totals(p)),
        "measurements": (".csv", lambda p: read_measurements(p)),
        "cache": (".npz", lambda p: read_entry(p.parent.parent.parent, p.stem)),
    }


def _real_bytes(name, hill):
    if name == "terrain":
        return hill.read_bytes()
    if name == "villages":
        return (BOUNDARIES / "paser_kecamatan.geojson").read_bytes()
    if name == "sites":
        return (FIXTURES / "sites.csv").read_bytes()
    if name == "kecamatan":
        return (BOUNDARIES / "paser_kecamatan.csv").read_bytes()
    if name == "measurements":
        return (FIXTURES / "generic.csv").read_bytes()
    import io

    buf = io.BytesIO()
    np.savez(buf, a=np.arange(10), key=np.asarray("k"))
    return buf.getvalue()


def _target(folder, name, suffix):
    if name == "cache":
        key = "ab" + "0" * 62
        path = folder / "cache" / "footprints" / key[:2] / f"{key}.npz"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path
    return folder / f"{name}{suffix}"


def _feed(reader, path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BlankspotWarning)
        try:
            reader(path)
        except BlankspotError:
            pass


READERS = ["terrain", "villages", "sites", "kecamatan", "measurements", "cache"]
PROPERTY = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("name", READERS)
@PROPERTY
@given(data=st.binary(max_size=600))
def test_random_bytes_give_a_blankspot_error_or_a_result(tmp_path_factory, name, data):
    folder, _hill = _reader_cases(tmp_path_factory)
    suffix, reader = _readers()[name]
    path = _target(folder, name, suffix)
    path.write_bytes(data)
    _feed(reader, path)


@pytest.mark.parametrize("name", READERS)
@PROPERTY
@given(fraction=st.floats(min_value=0.0, max_value=1.0))
def test_truncated_real_files_give_a_blankspot_error_or_a_result(tmp_path_factory, name,
                                                                 fraction):
    folder, hill = _reader_cases(tmp_path_factory)
    suffix, reader = _readers()[name]
    data = _real_bytes(name, hill)
    path = _target(folder, name, suffix)
    path.write_bytes(data[: int(len(data) * fraction)])
    _feed(reader, path)


# --- item 8: memory guard -----------------------------------------------------------------------


def test_huge_bounds_are_refused_before_allocating(hill, monkeypatch):
    from blankspot.errors import UnitsError
    from blankspot.io import read_terrain

    def no_alloc(*args, **kwargs):
        raise AssertionError("allocated")

    monkeypatch.setattr("blankspot.io.terrain._warp_sources", no_alloc)
    with pytest.raises(UnitsError, match=r"terrain grid of .* GB of memory.*smaller bounds.*res_m"):
        read_terrain(hill, bounds=(100.0, -40.0, 160.0, 40.0), res_m=1.0)


def test_huge_vrt_is_refused_before_allocating(tmp_path, hill):
    from blankspot.errors import UnitsError
    from blankspot.io import read_terrain

    side = 2_000_000
    vrt = tmp_path / "huge.vrt"
    vrt.write_text(f"""<VRTDataset rasterXSize="{side}" rasterYSize="{side}">
  <SRS>{UTM50S}</SRS>
  <GeoTransform>500000, 1, 0, 9750000, 0, -1</GeoTransform>
  <VRTRasterBand dataType="Float32" band="1">
    <SimpleSource><SourceFilename relativeToVRT="1">{hill.name}</SourceFilename>
      <SourceBand>1</SourceBand></SimpleSource>
  </VRTRasterBand>
</VRTDataset>""")
    with pytest.raises(UnitsError, match="GB of memory"):
        read_terrain(vrt, crs=UTM50S, res_m=1.0)


def test_memory_limit_comes_from_the_environment(hill, monkeypatch):
    from blankspot.errors import ConfigError, UnitsError
    from blankspot.footprints import Grid
    from blankspot.io import read_terrain

    monkeypatch.setenv("BLANKSPOT_MAX_MEMORY_GB", "0.000001")
    with pytest.raises(UnitsError, match="BLANKSPOT_MAX_MEMORY_GB"):
        read_terrain(hill, res_m=100.0, crs=UTM50S)
    with pytest.raises(UnitsError, match="analysis grid"):
        Grid.from_bounds((500_000, 9_740_000, 510_000, 9_750_000), crs=UTM50S, res_m=10.0)
    monkeypatch.setenv("BLANKSPOT_MAX_MEMORY_GB", "lots")
    with pytest.raises(ConfigError, match="received 'lots'"):
        read_terrain(hill, res_m=100.0, crs=UTM50S)


def test_demand_cells_of_one_metre_over_a_large_desa_are_refused(monkeypatch):
    import geopandas as gpd
    from shapely.geometry import box

    from blankspot.demand import demand_cells
    from blankspot.errors import UnitsError

    monkeypatch.setenv("BLANKSPOT_MAX_MEMORY_GB", "1")
    villages = gpd.GeoDataFrame(
        {"name": ["Besar"], "population": [1000.0]},
        geometry=[box(500_000, 9_700_000, 540_000, 9_740_000)], crs=UTM50S,
        index=pd.Index(["64.01.01.2001"], name="village_id"))
    with pytest.raises(UnitsError, match=r"demand cells of 1 m.*larger cell_size_m"):
        demand_cells(villages, cell_size_m=1.0)
