"""Footprint cache: keys, atomic entries, rerun computes nothing, interrupted runs resume."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine
from shapely.geometry import Point

from blankspot import cache
from blankspot import distributed as bd
from blankspot.distributed import compute_footprints, coverage_matrix_distributed
from blankspot.errors import BlankspotWarning, InputError
from blankspot.io.terrain_source import TerrainSource
from blankspot.propagation import LinkBudget
from blankspot.testing import make_terrain

SIZE = 64
RES_M = 30.0
TRANSFORM = Affine(RES_M, 0.0, 480_000.0, 0.0, -RES_M, 9_800_010.0)
CRS_ = "EPSG:32750"
RADIUS_M = 600.0


def write_dem(path, seed=0):
    elev = make_terrain("rough", size=SIZE, seed=seed).elevation_m
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=SIZE,
        height=SIZE,
        count=1,
        dtype="float32",
        crs=CRS_,
        transform=TRANSFORM,
    ) as dst:
        dst.write(elev, 1)
    return path


@pytest.fixture
def source(tmp_path):
    return TerrainSource(str(write_dem(tmp_path / "dem.tif")), crs=CRS_, res_m=RES_M)


def make_sites(n, seed=0):
    rng = np.random.default_rng(seed)
    x = TRANSFORM.c + rng.uniform(1, SIZE - 1, n) * RES_M
    y = TRANSFORM.f - rng.uniform(1, SIZE - 1, n) * RES_M
    return gpd.GeoDataFrame(
        {"height_agl_m": rng.uniform(10.0, 50.0, n)},
        geometry=[Point(a, b) for a, b in zip(x, y, strict=True)],
        index=[f"S{i}" for i in range(n)],
        crs=CRS_,
    )


class Counter:
    """Counts footprint computations; optionally fails after ``fail_after`` of them."""

    def __init__(self, monkeypatch, fail_after=None):
        self.n = 0
        self.fail_after = fail_after
        self.lock = threading.Lock()
        real = bd.sparse_site_footprint

        def counted(*args, **kwargs):
            with self.lock:
                if self.fail_after is not None and self.n >= self.fail_after:
                    raise KeyboardInterrupt("run interrupted")
                self.n += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(bd, "sparse_site_footprint", counted)


def run(source, sites, cache_dir, **kw):
    kw.setdefault("radius_m", RADIUS_M)
    return compute_footprints(
        source,
        sites,
        grid=source.grid(),
        scheduler="threads",
        n_workers=2,
        cache_dir=cache_dir,
        **kw,
    )


def same(a, b):
    return all(
        x.site_id == y.site_id
        and np.array_equal(x.run_rows, y.run_rows)
        and np.array_equal(x.run_cols, y.run_cols)
        and x.path_loss_db.tobytes() == y.path_loss_db.tobytes()
        for x, y in zip(a, b, strict=True)
    )


# --- keys ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Opts:
    a: float
    b: str


def test_input_key_is_canonical_and_sensitive():
    base = {"x": 1.0, "opts": {"k": 1.51, "list": [1, 2]}, "o": Opts(1.0, "q")}
    assert cache.input_key(base) == cache.input_key(
        {"o": Opts(1.0, "q"), "opts": {"list": (1, 2), "k": 1.51}, "x": 1.0}
    )
    assert cache.input_key(base) != cache.input_key({**base, "x": 1.0000000000000002})
    assert cache.input_key(base) != cache.input_key({**base, "o": Opts(1.0, "r")})
    with pytest.raises(TypeError, match="cannot enter a cache key"):
        cache.input_key({"f": object()})


def test_file_fingerprint_follows_rewrites_and_vrt_sources(tmp_path):
    tif = write_dem(tmp_path / "a.tif")
    first = cache.file_fingerprint([tif])
    assert first[0][0] == os.path.abspath(tif) and first[0][1] == os.path.getsize(tif)
    st = os.stat(tif)
    os.utime(tif, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert cache.file_fingerprint([tif]) != first
    by_sum = cache.file_fingerprint([tif], checksum=True)
    os.utime(tif, ns=(st.st_atime_ns, st.st_mtime_ns + 2 * 10**9))
    assert cache.file_fingerprint([tif], checksum=True) == by_sum
    write_dem(tif, seed=1)
    assert cache.file_fingerprint([tif], checksum=True) != by_sum
    vrt = tmp_path / "mosaic.vrt"
    vrt.write_text(
        f'<VRTDataset rasterXSize="{SIZE}" rasterYSize="{SIZE}"><SRS>{CRS_}</SRS>'
        f"<GeoTransform>{', '.join(map(str, TRANSFORM.to_gdal()))}</GeoTransform>"
        '<VRTRasterBand dataType="Float32" band="1"><SimpleSource>'
        '<SourceFilename relativeToVRT="1">a.tif</SourceFilename><SourceBand>1</SourceBand>'
        "</SimpleSource></VRTRasterBand></VRTDataset>"
    )
    listed = [entry[0] for entry in cache.file_fingerprint([vrt])]
    assert listed == sorted([os.path.abspath(tif), os.path.abspath(vrt)])


def test_cache_dir_resolution(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_DIR_ENV, str(tmp_path / "env"))
    assert cache.default_cache_dir() == tmp_path / "env"
    assert cache.resolve_cache_dir(True) == tmp_path / "env"
    assert cache.resolve_cache_dir(None) is None
    assert cache.resolve_cache_dir(False) is None
    assert cache.resolve_cache_dir(tmp_path / "x") == tmp_path / "x"
    monkeypatch.delenv(cache.CACHE_DIR_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.default_cache_dir() == tmp_path / "xdg" / "blankspot"
    with pytest.raises(InputError, match="cache_dir must be"):
        cache.resolve_cache_dir(3)


# --- entries ---------------------------------------------------------------------------------


def test_entries_are_written_whole_and_damage_reads_as_missing(tmp_path):
    key = cache.input_key({"k": 1})
    assert cache.read_entry(tmp_path, key) is None
    path = cache.write_entry(tmp_path, key, {"a": np.arange(5), "s": np.str_("x")})
    assert path == cache.entry_path(tmp_path, key) and path.suffix == ".npz"
    got = cache.read_entry(tmp_path, key)
    np.testing.assert_array_equal(got["a"], np.arange(5))
    assert str(got["s"]) == "x"
    assert not list(path.parent.glob("*.tmp"))  # renamed into place
    path.write_bytes(b"PK\x03\x04 truncated")
    assert cache.read_entry(tmp_path, key) is None


def test_a_failed_write_leaves_no_entry(tmp_path, monkeypatch):
    key = cache.input_key({"k": 2})

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError, match="disk full"):
        cache.write_entry(tmp_path, key, {"a": np.arange(3)})
    assert cache.read_entry(tmp_path, key) is None
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_clear_cache(tmp_path):
    for i in range(3):
        cache.write_entry(tmp_path, cache.input_key({"i": i}), {"a": np.arange(i)})
    (cache.entry_path(tmp_path, "ab" + "0" * 62).parent).mkdir(parents=True, exist_ok=True)
    (cache.entry_path(tmp_path, "ab" + "0" * 62).parent / ".left-over.tmp").write_bytes(b"x")
    assert cache.clear_cache(tmp_path) == 4
    assert cache.clear_cache(tmp_path) == 0
    assert cache.read_entry(tmp_path, cache.input_key({"i": 1})) is None


# --- footprints through the cache ------------------------------------------------------------


def test_rerun_computes_nothing_and_gives_the_same_footprints(source, tmp_path, monkeypatch):
    sites = make_sites(12)
    counter = Counter(monkeypatch)
    first = run(source, sites, tmp_path / "c")
    assert counter.n == 12
    second = run(source, sites, tmp_path / "c")
    assert counter.n == 12  # nothing new
    assert same(first, second)
    plain = run(source, sites, None)
    assert counter.n == 24 and same(first, plain)


def test_interrupted_run_resumes_where_it_stopped(source, tmp_path, monkeypatch):
    sites = make_sites(10, seed=1)
    counter = Counter(monkeypatch, fail_after=4)
    with pytest.raises(KeyboardInterrupt):
        run(source, sites, tmp_path)
    stored = len(list((tmp_path / "footprints").rglob("*.npz")))
    assert stored == 4
    counter.fail_after = None
    resumed = run(source, sites, tmp_path)
    assert counter.n == 4 + (10 - stored)
    assert same(resumed, run(source, sites, None))


def test_changed_inputs_recompute_only_what_they_touch(source, tmp_path, monkeypatch):
    sites = make_sites(6, seed=2)
    counter = Counter(monkeypatch)
    run(source, sites, tmp_path)
    moved = sites.copy()
    moved.loc["S0", "height_agl_m"] += 1.0
    run(source, moved, tmp_path)
    assert counter.n == 7
    run(source, sites, tmp_path, k_factor=4 / 3)  # a model parameter changes every key
    assert counter.n == 13
    renamed = sites.rename(index=lambda s: "new-" + s)
    got = run(source, renamed, tmp_path)  # ids are labels, not inputs
    assert counter.n == 13
    assert [fp.site_id for fp in got] == list(renamed.index)
    # keys follow the DEM's content: a new modification time alone computes nothing ...
    path = Path(source.paths[0])
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    run(source, sites, tmp_path)
    assert counter.n == 13
    # ... and another DEM on the same grid, under the same name, computes everything again
    write_dem(path, seed=7)
    run(source, sites, tmp_path)
    assert counter.n == 19


def test_an_entry_copied_over_another_key_is_refused_and_recomputed(source, tmp_path,
                                                                    monkeypatch):
    from blankspot.cache import entry_path
    from blankspot.distributed import _tasks

    sites = make_sites(2, seed=4)
    counter = Counter(monkeypatch)
    first = run(source, sites, tmp_path)
    _, tasks = _tasks(source, sites, source.grid(), model="los", radius_m=RADIUS_M,
                      max_path_loss_db=None, cache_dir=tmp_path, model_options={})
    a, b = (entry_path(tmp_path, t.key) for t in tasks)
    b.write_bytes(a.read_bytes())  # S0's footprint now sits under S1's key
    with pytest.warns(BlankspotWarning, match="stored for other inputs"):
        again = run(source, sites, tmp_path)
    assert counter.n == 3  # S1 computed again
    assert same(first, again)
    run(source, sites, tmp_path)  # the entry was replaced by the right one
    assert counter.n == 3


def test_a_capped_entry_serves_tighter_caps_only(source, tmp_path, monkeypatch):
    sites = make_sites(3, seed=3)
    counter = Counter(monkeypatch)
    loose = run(source, sites, None)
    capped = run(source, sites, tmp_path, max_path_loss_db=85.0)
    assert counter.n == 6
    tighter = run(source, sites, tmp_path, max_path_loss_db=80.0)
    assert counter.n == 6
    assert same(tighter, [fp.capped(80.0) for fp in loose])
    assert same(capped, [fp.capped(85.0) for fp in loose])
    run(source, sites, tmp_path)  # no cap: needs more than is stored
    assert counter.n == 9


def test_coverage_matrix_reuses_footprints_across_lower_thresholds(source, tmp_path, monkeypatch):
    sites = make_sites(5, seed=4)
    rng = np.random.default_rng(0)
    demand = gpd.GeoDataFrame(
        {"village_id": ["v"] * 300, "population": np.ones(300)},
        geometry=[
            Point(
                TRANSFORM.c + rng.uniform(0, SIZE) * RES_M,
                TRANSFORM.f - rng.uniform(0, SIZE) * RES_M,
            )
            for _ in range(300)
        ],
        crs=CRS_,
    )
    counter = Counter(monkeypatch)
    kw = dict(grid=source.grid(), radius_m=RADIUS_M, scheduler="threads", cache_dir=tmp_path)
    a = coverage_matrix_distributed(
        source, sites, demand, budget=LinkBudget(threshold_dbm=-60.0), **kw
    )
    b = coverage_matrix_distributed(
        source, sites, demand, budget=LinkBudget(threshold_dbm=-55.0), **kw
    )
    assert counter.n == 5
    fresh = coverage_matrix_distributed(
        source,
        sites,
        demand,
        budget=LinkBudget(threshold_dbm=-55.0),
        **{**kw, "cache_dir": None},
    )
    assert (b.matrix != fresh.matrix).nnz == 0
    assert b.matrix.nnz < a.matrix.nnz
