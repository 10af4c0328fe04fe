"""Messages that say what was wrong and how to fix it, for mistakes people make."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine

from blankspot.errors import DataError, SchemaError, UnitsError


def test_longitude_out_of_range_is_named(tmp_path):
    from blankspot.io import read_terrain
    from blankspot.scenario import ScenarioSpec

    with pytest.raises(SchemaError, match=r"longitude 200 out of range -180\.\.180"):
        ScenarioSpec(bounds=(200, -2.4, 201, -2.1))
    dem = tmp_path / "dem.tif"
    with rasterio.open(dem, "w", driver="GTiff", width=10, height=10, count=1, dtype="float32",
                       crs="EPSG:4326", transform=Affine(0.01, 0, 116.2, 0, -0.01, -2.2)) as dst:
        dst.write(np.full((1, 10, 10), 100, np.float32))
    with pytest.raises(UnitsError, match=r"longitude 200 out of range -180\.\.180"):
        read_terrain(dem, bounds=(200, -2.4, 201, -2.1))


@pytest.mark.parametrize("n", [1, 2])
def test_a_tiny_dem_is_called_too_small(tmp_path, n):
    from blankspot.io import read_terrain

    dem = tmp_path / f"dem{n}.tif"
    with rasterio.open(dem, "w", driver="GTiff", width=n, height=n, count=1, dtype="float32",
                       crs="EPSG:4326", transform=Affine(1 / 3600, 0, 116.2, 0, -1 / 3600, -2.2)
                       ) as dst:
        dst.write(np.full((1, n, n), 100, np.float32))
    with pytest.raises(DataError, match=f"has only {n} x {n} cells; a DEM needs at least 3 x 3"):
        read_terrain(dem)


SITES = "site_id,lon,lat,height_agl_m\na,116.3,-2.3,72\nb,116.4,-2.3,72\n"


@pytest.mark.parametrize(("name", "data"), [
    ("utf16.csv", SITES.encode("utf-16")),
    ("utf8bom.csv", SITES.encode("utf-8-sig")),
    ("semicolon.csv", SITES.replace(",", ";").encode()),
])
def test_sites_in_utf16_or_with_semicolons_are_read(tmp_path, name, data):
    from blankspot.io import read_sites

    (tmp_path / name).write_bytes(data)
    sites = read_sites(tmp_path / name)
    assert sites.index.tolist() == ["a", "b"]
    assert sites["height_agl_m"].tolist() == [72.0, 72.0]


def test_a_table_that_is_not_utf8_is_named(tmp_path):
    from blankspot.io import read_sites

    path = tmp_path / "cp1252.csv"
    path.write_bytes((SITES.strip() + ",Désa\n").replace("height_agl_m", "height_agl_m,x")
                     .encode("cp1252"))
    with pytest.raises(DataError, match=r"not UTF-8 text.*Windows-1252.*CSV UTF-8"):
        read_sites(path)


def test_an_opencellid_export_is_accepted_as_existing_towers(tmp_path):
    from blankspot.io import read_sites

    path = tmp_path / "cell_towers.csv"
    path.write_text(
        "radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,"
        "averageSignal\n"
        "LTE,510,10,1234,10241,0,116.30,-2.3,1000,5,1,1,1,0\n"
        "LTE,510,10,1234,10242,0,116.32,-2.3,1000,5,1,1,1,0\n"
        "GSM,510,1,55,77,0,116.5,-2.4,1000,5,1,1,1,0\n")
    sites = read_sites(path, default_height_agl_m=30.0)
    assert sorted(sites.index) == ["510-1-55-77", "510-10-1234-40"]  # two LTE cells, one eNodeB


def test_a_price_beyond_int64_is_named_not_wrapped(tmp_path):
    from blankspot.io import read_sites
    from blankspot.scenario import ScenarioSpec

    path = tmp_path / "s.csv"
    path.write_text("site_id,lon,lat,height_agl_m,cost_idr\na,116.3,-2.3,72,9200000000000000000\n")
    with pytest.raises(SchemaError, match=r"larger than 1,000,000,000,000,000 Rupiah.*9\.2e\+18"):
        read_sites(path)
    with pytest.raises(SchemaError, match="tower_cost_idr is too large"):
        ScenarioSpec(tower_cost_idr=9_200_000_000_000_000_000)


@pytest.mark.parametrize("threshold", [50.0, -300.0])
def test_threshold_outside_the_rsrp_range_is_refused(threshold):
    from blankspot.scenario import ScenarioSpec

    with pytest.raises(SchemaError, match=r"threshold_dbm must be within -156 \.\. -31 dBm"):
        ScenarioSpec(threshold_dbm=threshold)


def test_written_scenario_finds_its_inputs_from_the_output_folder(tmp_path, monkeypatch):
    """blankspot map OUTDIR reads OUTDIR/scenario.toml: its paths must hold from there."""
    import os

    from blankspot.scenario import ScenarioSpec

    monkeypatch.chdir(tmp_path)
    (tmp_path / "proj" / "data").mkdir(parents=True)
    villages = tmp_path / "proj" / "data" / "desa.geojson"
    villages.write_text("{}")
    (tmp_path / "proj" / "s.toml").write_text('name = "s"\n[data]\nvillages = "data/desa.geojson"\n')
    spec = ScenarioSpec.from_toml("proj/s.toml")  # a path relative to the working folder
    out = tmp_path / "proj" / "out" / "plan"
    out.mkdir(parents=True)
    (out / "scenario.toml").write_text(spec.to_toml(absolute_paths=True))
    again = ScenarioSpec.from_toml(out / "scenario.toml")
    assert os.path.samefile(again.villages, villages)


def test_a_budget_below_every_tower_names_the_cheapest(small_plan):
    import dataclasses

    from blankspot.cli import _no_tower_hint

    assert _no_tower_hint(small_plan) is None
    poor = dataclasses.replace(small_plan, ranking=small_plan.ranking.iloc[:0],
                               config=small_plan.config.replace(budget_idr=1_000))
    cheapest = small_plan.site_costs["cost_idr"].astype("int64")
    hint = _no_tower_hint(poor)
    assert hint is not None and str(cheapest.idxmin()) in hint
    assert f"at least {int(cheapest.min()):_}" in hint
