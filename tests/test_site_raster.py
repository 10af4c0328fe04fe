"""``blankspot coverage``: one site's LOS mask or path loss written on the DEM's own grid."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner

from blankspot.cli import main
from blankspot.errors import UnitsError
from blankspot.propagation import free_space_loss_db
from blankspot.site_raster import LOS_NODATA, site_raster

pytestmark = pytest.mark.paser
LON, LAT = 116.05, -1.85


@pytest.fixture(scope="module")
def dem(paser_source_dir):
    return paser_source_dir / "terrain" / "paser_dem_demo_1s_synthetic.tif"


def test_los_mask_lies_on_the_dem_grid(dem):
    r = site_raster(dem, LON, LAT, height_agl_m=52.0, radius_m=5_000.0, model="los")
    with rasterio.open(dem) as src:
        t = src.transform
        assert r.crs.to_epsg() == 4326
        assert r.transform.a == pytest.approx(t.a) and r.transform.e == pytest.approx(t.e)
        # the window origin falls on a DEM cell corner
        assert (r.transform.c - t.c) / t.a == pytest.approx(round((r.transform.c - t.c) / t.a), abs=1e-6)
        assert (r.transform.f - t.f) / t.e == pytest.approx(round((r.transform.f - t.f) / t.e), abs=1e-6)
    v = r.values
    assert v.dtype == np.uint8 and set(np.unique(v)) <= {0, 1, LOS_NODATA}
    # the site's own cell is visible
    col = int((LON - r.transform.c) / r.transform.a)
    row = int((LAT - r.transform.f) / r.transform.e)
    assert v[row, col] == 1
    # cells beyond 5 km (corners of the window) are outside
    assert v[0, 0] == LOS_NODATA and v[-1, -1] == LOS_NODATA
    share = (v == 1).sum() / (v != LOS_NODATA).sum()
    assert 0.02 < share < 0.98  # hilly synthetic terrain: partly shadowed


def test_fspl_is_the_closed_form_of_distance(dem):
    r = site_raster(dem, LON, LAT, height_agl_m=52.0, radius_m=3_000.0, model="fspl")
    v = r.values
    finite = v[np.isfinite(v)]
    assert finite.max() == pytest.approx(float(free_space_loss_db(3_000.0, 900.0)), abs=0.1)
    assert finite.min() >= float(free_space_loss_db(1.0, 900.0)) - 1e-6


def test_bad_inputs_are_reported_together(dem):
    with pytest.raises(UnitsError) as exc:
        site_raster(dem, 200.0, LAT, height_agl_m=-1.0, radius_m=0.0, model="hata")
    msg = str(exc.value)
    assert "model" in msg and "lon/lat" in msg and "height_agl_m" in msg and "radius" in msg


def test_cli_coverage_writes_a_geotiff(dem, tmp_path):
    out = tmp_path / "los.tif"
    res = CliRunner().invoke(main, ["coverage", "--dem", str(dem), "--lon", str(LON), "--lat", str(LAT),
                                    "--height-agl-m", "52", "--radius-km", "3", "--model", "los",
                                    "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "SYNTHETIC" in res.output
    with rasterio.open(out) as src:
        assert src.crs.to_epsg() == 4326 and src.nodata == LOS_NODATA
        assert src.tags()["model"] == "los"
