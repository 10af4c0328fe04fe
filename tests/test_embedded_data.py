"""The embedded demo data: found in a checkout, in a clone and in an installed wheel.

The clone and wheel tests build from the committed HEAD (a ``git clone`` into a temporary
folder), run the demo on a small window with an empty data directory, and need neither a
network nor ``../shared``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest
import rasterio

from blankspot.errors import DataError
from blankspot.io import (
    DEMO_DEM_3S_FILE,
    DEMO_DEM_FILE,
    DESA_FILE,
    REGISTRY,
    embedded_data_dir,
    embedded_path,
    paser_path,
    read_terrain,
    sha256_file,
    verify_paser,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO_ARGS = ["--bounds", "116.22", "-2.42", "116.50", "-2.17", "--targets", "64.01.09.2003",
             "--model", "los", "--radius-km", "5"]
OUTPUTS = ["map.html", "ranking.csv", "desa.csv", "metadata.json"]


def _load_maker():
    spec = importlib.util.spec_from_file_location("make_demo_3s",
                                                  REPO_ROOT / "data/terrain/make_demo_3s.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- in this checkout -------------------------------------------------------------------------------
def test_embedded_files_are_every_registered_file_but_the_1s_dem():
    root = embedded_data_dir()
    assert root is not None and (root / "terrain" / DEMO_DEM_3S_FILE).is_file()
    for entry in REGISTRY.values():
        path = embedded_path(entry.name)
        if entry.name == DEMO_DEM_FILE:
            assert path is None
        else:
            assert path is not None and sha256_file(path) == entry.sha256, entry.name


def test_an_empty_data_directory_falls_back_to_the_embedded_copies(tmp_path, caplog):
    assert paser_path(DESA_FILE, tmp_path) == embedded_path(DESA_FILE)
    with caplog.at_level("INFO", logger="blankspot.io.datasets"):
        dem = paser_path(DEMO_DEM_FILE, tmp_path)
    assert dem.name == DEMO_DEM_3S_FILE and "embedded 3 arc-second SYNTHETIC" in caplog.text
    with pytest.raises(DataError, match="is missing"):
        paser_path(DEMO_DEM_FILE, tmp_path, embedded=False)
    status = verify_paser(tmp_path)
    assert status[DEMO_DEM_FILE] == "missing" and status[DEMO_DEM_3S_FILE] == "embedded"


def test_a_fetched_1s_dem_is_preferred(paser_data_dir):
    assert paser_path(DEMO_DEM_FILE, paser_data_dir) == paser_data_dir / "terrain" / DEMO_DEM_FILE


def test_the_3s_dem_is_a_tiled_compressed_int16_marked_synthetic():
    path = embedded_path(DEMO_DEM_3S_FILE)
    assert path is not None and path.stat().st_size < 3_000_000
    with rasterio.open(path) as src:
        assert src.dtypes[0] == "int16" and src.nodata == -32768
        assert src.res == pytest.approx((1 / 1200, 1 / 1200))
        assert src.profile["tiled"] and src.compression.name.lower() == "deflate"
        assert src.tags(ns="IMAGE_STRUCTURE").get("PREDICTOR") == "2"
        assert "SYNTHETIC" in src.tags()["DESCRIPTION"] and "3x3" in src.tags()["PROCESSING"]
    terrain = read_terrain(path, bounds=(116.3, -2.0, 116.35, -1.95), bounds_crs="EPSG:4326",
                           crs="EPSG:32750", res_m=90.0)
    assert terrain.synthetic and "SYNTHETIC" in terrain.source


def test_block_mean_ignores_nodata():
    maker = _load_maker()
    values = np.array([[1, 2, 3, -32768, -32768, -32768],
                       [4, 5, 6, -32768, -32768, -32768],
                       [7, 8, 10, -32768, -32768, 9]], dtype=np.int16)
    out = maker.block_mean(values, -32768)
    assert out.tolist() == [[5, 9]]  # 46/9 rounds to 5; the second block has one valid cell
    assert maker.block_mean(np.full((3, 3), -32768, np.int16), -32768).tolist() == [[-32768]]


def test_the_3s_dem_is_the_block_mean_of_the_1s_dem(paser_source_dir, tmp_path):
    maker = _load_maker()
    out = tmp_path / DEMO_DEM_3S_FILE
    sha = maker.make(paser_source_dir / "terrain" / DEMO_DEM_FILE, out)
    with rasterio.open(out) as made, rasterio.open(embedded_path(DEMO_DEM_3S_FILE)) as shipped:
        assert np.array_equal(made.read(1), shipped.read(1))
        assert made.transform == shipped.transform and made.tags() == shipped.tags()
    with rasterio.open(paser_source_dir / "terrain" / DEMO_DEM_FILE) as src:
        fine = src.read(1, window=((300, 303), (600, 603))).astype(float)
    with rasterio.open(out) as made:
        assert made.read(1)[100, 200] == round(fine.mean())
    # the same bytes where GDAL is the same build; the registry pins the shipped file
    if sha != REGISTRY[DEMO_DEM_3S_FILE].sha256:
        pytest.skip("same cells; different bytes from another GDAL build")


# --- from a clone and from a wheel ---------------------------------------------------------------------
def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "BLANKSPOT_DATA_DIR"}}
    env["MPLBACKEND"] = "Agg"
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """The committed HEAD of this repository, cloned into a temporary folder."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    head = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"],
                          capture_output=True, text=True)
    if head.returncode != 0:
        pytest.skip("not a git checkout")
    dest = tmp_path_factory.mktemp("clone") / "blankspot"
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(REPO_ROOT), str(dest)],
                   check=True)
    subprocess.run(["git", "-C", str(dest), "checkout", "--quiet", head.stdout.strip()],
                   check=True)
    return dest


@pytest.mark.slow
def test_demo_from_a_clean_clone_uses_the_embedded_data(clone, tmp_path):
    empty = tmp_path / "empty-data"
    empty.mkdir()
    out = tmp_path / "out"
    env = _env(PYTHONPATH=str(clone / "src"), BLANKSPOT_DATA_DIR=str(empty))
    which = subprocess.run([sys.executable, "-c", "import blankspot; print(blankspot.__file__)"],
                           cwd=clone, env=env, capture_output=True, text=True, check=True)
    assert Path(which.stdout.strip()).is_relative_to(clone)
    res = subprocess.run([sys.executable, "-m", "blankspot.cli", "demo", "--out", str(out),
                          *DEMO_ARGS], cwd=clone, env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "embedded 3 arc-second SYNTHETIC demo DEM" in res.stderr + res.stdout
    assert all((out / name).is_file() for name in OUTPUTS)
    assert list(empty.iterdir()) == []  # nothing was written into the data directory


@pytest.mark.slow
def test_demo_from_an_installed_wheel_in_another_folder(clone, tmp_path):
    import setuptools

    if int(setuptools.__version__.split(".")[0]) < 77:
        pytest.skip(f"building the wheel without isolation needs setuptools>=77 "
                    f"(this environment has {setuptools.__version__})")
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "-w", str(wheels), str(clone)],
                   check=True, env=_env(), cwd=tmp_path, capture_output=True)
    wheel = next(wheels.glob("blankspot-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    vpy = bindir / "python"
    # dependencies come from this environment, after the venv's own site-packages
    vsite = subprocess.run([str(vpy), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                           capture_output=True, text=True, check=True).stdout.strip()
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(vsite) / "_deps_from_test_env.pth").write_text("\n".join(sorted(ours)) + "\n")
    subprocess.run([str(vpy), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    str(wheel)], check=True, env=_env(), capture_output=True)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    probe = subprocess.run(
        [str(vpy), "-c", "import blankspot; from blankspot.io import embedded_data_dir; "
                         "print(blankspot.__file__); print(embedded_data_dir())"],
        cwd=elsewhere, env=_env(), capture_output=True, text=True, check=True)
    module_file, data_root = probe.stdout.split()
    assert Path(module_file).is_relative_to(venv) and Path(data_root).is_relative_to(venv)
    assert not Path(data_root).is_relative_to(clone)
    res = subprocess.run([str(bindir / "blankspot"), "demo", "--out", "out", *DEMO_ARGS],
                         cwd=elsewhere, env=_env(), capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    assert all((elsewhere / "out" / name).is_file() for name in OUTPUTS)
    assert not (elsewhere / "data").exists()
