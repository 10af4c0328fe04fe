"""Atomic writers: a failed write leaves neither a temporary nor a partial file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine

from blankspot.errors import UnitsError
from blankspot.io import atomic_path, write_csv, write_raster, write_text


def _listing(folder):
    return sorted(p.name for p in folder.iterdir())


def test_atomic_path_renames_on_success(tmp_path):
    final = tmp_path / "deep" / "er" / "map.html"
    with atomic_path(final) as tmp:
        assert tmp.parent == final.parent
        assert tmp.name.startswith(".map.html.tmp-")
        assert tmp.suffix == ".html"
        assert not tmp.exists()
        tmp.write_text("<html></html>")
    assert final.read_text() == "<html></html>"
    assert _listing(final.parent) == ["map.html"]


def test_atomic_path_cleans_up_and_keeps_old_file_on_error(tmp_path):
    final = tmp_path / "ranking.csv"
    final.write_text("old")
    with pytest.raises(RuntimeError, match="boom"), atomic_path(final) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert final.read_text() == "old"
    assert _listing(tmp_path) == ["ranking.csv"]


def test_write_text_and_csv(tmp_path):
    p = write_text("Rp 1.700.000.000 — desa", tmp_path / "a" / "note.txt")
    assert p.read_text(encoding="utf-8") == "Rp 1.700.000.000 — desa"
    df = pd.DataFrame({"village_id": ["64.01.01.2009"], "population": [442]}).set_index(
        "village_id"
    )
    c = write_csv(df, tmp_path / "t.csv")
    back = pd.read_csv(c, dtype={"village_id": str})
    assert back["village_id"].tolist() == ["64.01.01.2009"]
    assert _listing(tmp_path) == ["a", "t.csv"]


def test_write_csv_failure_leaves_nothing(tmp_path):
    df = pd.DataFrame({"a": [1]})
    with pytest.raises(TypeError):
        write_csv(df, tmp_path / "t.csv", not_an_option=True)
    assert _listing(tmp_path) == []


def test_write_raster_roundtrip_float_nan(tmp_path):
    arr = np.arange(12, dtype=np.float32).reshape(3, 4)
    arr[1, 2] = np.nan
    t = Affine(30.0, 0, 390000.0, 0, -30.0, 9800000.0)
    p = write_raster(
        tmp_path / "cov.tif",
        arr,
        transform=t,
        crs="EPSG:32750",
        nodata=np.nan,
        description="RSRP, dBm",
        tags={"units": "dBm", "threshold_dbm": -105},
    )
    with rasterio.open(p) as src:
        assert src.crs.to_epsg() == 32750
        assert src.transform == t
        assert np.isnan(src.nodata)
        assert src.descriptions == ("RSRP, dBm",)
        assert src.tags()["units"] == "dBm"
        assert src.tags()["threshold_dbm"] == "-105"
        assert src.profile["compress"] == "deflate"
        np.testing.assert_array_equal(src.read(1), arr)
    assert _listing(tmp_path) == ["cov.tif"]


def test_write_raster_large_is_tiled_and_dtype_cast(tmp_path):
    arr = np.ones((600, 520), dtype=np.float64)
    t = Affine(30.0, 0, 0, 0, -30.0, 0)
    p = write_raster(tmp_path / "big.tif", arr, transform=t, crs=32750, dtype="uint8", nodata=0)
    with rasterio.open(p) as src:
        assert src.profile["tiled"]
        assert src.block_shapes[0] == (256, 256)
        assert src.dtypes[0] == "uint8"


def test_write_raster_bad_input_leaves_nothing(tmp_path):
    t = Affine(30.0, 0, 0, 0, -30.0, 0)
    with pytest.raises(UnitsError, match="2-D"):
        write_raster(tmp_path / "x.tif", np.zeros(5), transform=t, crs=32750)
    with pytest.raises(UnitsError, match="NaN cannot be stored"):
        write_raster(
            tmp_path / "x.tif", np.zeros((2, 2), np.int16), transform=t, crs=32750, nodata=np.nan
        )
    assert _listing(tmp_path) == []
