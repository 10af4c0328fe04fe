"""A plan on fetched public data, end to end: `blankspot data fetch` hands over fixture files laid
out as the providers publish them (Copernicus GLO-30 tiles, an ESA WorldCover tile, the WorldPop
national file, an Overpass answer, an OpenCelliD export), and a scenario naming the fetched area
runs on them: the real DEM, the land cover under every handset, people where the population
raster puts them, roads and power lines in the cost model, existing towers removing demand."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from rasterio.transform import from_bounds

from blankspot.cli import main
from blankspot.errors import DataError
from blankspot.io import fetch as F
from blankspot.io import providers as P
from blankspot.scenario import ScenarioSpec, run
from paser_window import SEGENDANG, WINDOW

pytestmark = pytest.mark.slow

AREA = "segendang"
CENTRE = (116.36, -2.30)  # near Segendang's settlement in the fixture population


def _tif(path, bounds, shape, dtype, values, nodata=None):
    h, w = shape
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype=dtype,
                       crs="EPSG:4326", transform=from_bounds(*bounds, w, h), nodata=nodata) as dst:
        dst.write(values.astype(dtype), 1)


def _handover(folder):
    """Provider files for the Segendang window (and its 30 km margin), under their own names."""
    folder.mkdir()
    for lat in (-3, -2):
        for lon in (115, 116):
            n = 240  # 15 arc-seconds: coarse, but real-looking hills
            lons = lon + (np.arange(n) + 0.5) / n
            lats = lat + 1 - (np.arange(n) + 0.5) / n
            x, y = np.meshgrid(lons, lats)
            elev = 60 + 250 * (np.sin(x * 40) * np.cos(y * 35)) ** 2 + 400 * (x - 115)
            _tif(folder / f"{P.copernicus_tile(lat, lon)}.tif", (lon, lat, lon + 1, lat + 1),
                 (n, n), "float32", elev)
    n = 600  # 0.005 degrees: forest everywhere, cropland and built-up around the settlement
    lons = 114 + (np.arange(n) + 0.5) * 3 / n
    lats = 0 - (np.arange(n) + 0.5) * 3 / n
    x, y = np.meshgrid(lons, lats)
    d = np.hypot(x - CENTRE[0], y - CENTRE[1])
    classes = np.where(d < 0.01, 50, np.where(d < 0.03, 40, 10))
    _tif(folder / P.worldcover_tile_path("S03E114").split("/")[-1], (114, -3, 117, 0), (n, n),
         "uint8", classes, nodata=0)
    n = 400  # 0.01 degrees over 114..118, -4..0: people in one settlement
    lons = 114 + (np.arange(n) + 0.5) * 4 / n
    lats = 0 - (np.arange(n) + 0.5) * 4 / n
    x, y = np.meshgrid(lons, lats)
    people = np.where(np.hypot(x - CENTRE[0], y - CENTRE[1]) < 0.02, 50.0, 0.0)
    _tif(folder / P.worldpop_path().split("/")[-1], (114, -4, 118, 0), (n, n), "float32",
         people, nodata=-99999.0)
    overpass = {"version": 0.6, "elements": [
        {"type": "way", "id": 1, "tags": {"highway": "secondary", "name": "Jl. Segendang"},
         "geometry": [{"lat": -2.40, "lon": 116.30}, {"lat": -2.20, "lon": 116.42}]},
        {"type": "way", "id": 2, "tags": {"power": "minor_line", "voltage": "20000"},
         "geometry": [{"lat": -2.41, "lon": 116.25}, {"lat": -2.25, "lon": 116.45}]},
        {"type": "node", "id": 3, "lat": CENTRE[1], "lon": CENTRE[0],
         "tags": {"place": "village", "name": "Segendang"}},
    ]}
    (folder / "overpass.json").write_text(json.dumps(overpass))
    rows = ["LTE,510,10,1234,5678,0,116.30,-2.36,1000,12,1,1500000000,1600000000,0",
            "LTE,510,10,1234,5679,0,116.30,-2.36,1000,12,1,1500000000,1600000000,0"]
    (folder / "510.csv.gz").write_bytes(gzip.compress(("\n".join(rows) + "\n").encode(), mtime=0))
    return folder


@pytest.fixture(scope="module")
def fetched(tmp_path_factory):
    root = tmp_path_factory.mktemp("real")
    data_dir = root / "data"
    F.fetch_area(["dem", "landcover", "population", "osm", "towers"], bounds=WINDOW, name=AREA,
                 data_dir=data_dir, from_dir=_handover(root / "handover"),
                 settings=F.FetchSettings(progress=False))
    return data_dir


def _spec(data_dir, **data):
    return ScenarioSpec.from_dict({
        "name": "real-fixture",
        "data": {"data_dir": str(data_dir), "area": AREA, "bounds": list(WINDOW), **data},
        "radio": {"radius_m": 8_000.0, "terrain_res_m": 90.0},
        "demand": {"targets": [SEGENDANG]},
        "siting": {"n_high_points": 8, "grid_spacing_m": 3_000.0, "certify": False,
                   "stability_threshold_db": "none"},
    })


@pytest.fixture(scope="module")
def real_run(fetched):
    return run(_spec(fetched))


def test_the_plan_runs_on_every_fetched_source(real_run, fetched):
    r = real_run.plan
    # the real DEM, not the synthetic demo relief
    assert "dem_copernicus_glo30" in r.terrain_source and not r.terrain_synthetic
    # the land cover under each handset: the clutter is the land-cover grid, not uniform forest
    assert "land-cover clutter cell by cell" in r.model_label()
    assert "uniform-tree" not in r.coverage.model
    # people where the population raster puts them
    assert r.demand_model.startswith("population raster")
    # roads and power lines measured for every candidate
    costs = r.site_costs
    assert not costs["road_distance_default"].any() and not costs["grid_distance_default"].any()
    assert (costs["road_distance_m"] >= 0).all()
    # the two cells of one existing tower were read (OpenCelliD export)
    assert r.people_served_existing >= 0
    assert len(r.ranking) >= 1 and r.total_cost_idr <= r.config.budget_idr


def test_outputs_name_the_fetched_sources(real_run, tmp_path):
    paths = real_run.write(tmp_path / "out")
    summary = json.loads(paths["summary.json"].read_text())
    assert summary["demand_model"].startswith("population raster")
    assert "SYNTHETIC" not in summary["terrain"]
    meta = json.loads(paths["metadata.json"].read_text())
    text = json.dumps(meta)
    for product in F.PRODUCT_FILES.values():
        assert product in text
    assert "ESA WorldCover" in text and "OpenStreetMap" in text


def test_landcover_clutter_changes_coverage(fetched, real_run):
    forest = run(_spec(fetched).replace(clutter="tree")).plan
    assert "uniform-tree" in forest.coverage.model
    # people live in the clearing (built-up, cropland), not under forest: less terminal loss
    # there, so more candidates reach them
    assert real_run.plan.matrix.matrix.nnz > forest.matrix.matrix.nnz
    assert real_run.plan.people_covered >= forest.people_covered - 1e-6


def test_a_missing_source_names_the_fetch_command(fetched, tmp_path):
    data_dir = tmp_path / "data"
    (data_dir / AREA).mkdir(parents=True)
    for name in ("dem", "landcover"):
        src = fetched / AREA / F.PRODUCT_FILES[name]
        (data_dir / AREA / src.name).write_bytes(src.read_bytes())
    with pytest.raises(DataError, match=f"blankspot data fetch population osm towers --area {AREA}"):
        run(_spec(data_dir))
    scenario = tmp_path / "s.toml"
    scenario.write_text(f'[data]\ndata_dir = "{data_dir}"\narea = "{AREA}"\n'
                        'fetched = ["dem", "population"]\n')
    result = CliRunner().invoke(main, ["run", str(scenario), "--out", str(tmp_path / "out")])
    assert result.exit_code == 3
    assert f"blankspot data fetch population --area {AREA}" in result.output
    assert "Traceback" not in result.output
