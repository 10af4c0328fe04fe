"""The chain end to end on a reduced Paser window, its outputs, and the CLI around it."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
import rasterio
from click.testing import CliRunner

from blankspot.cli import main
from blankspot.config import PlanConfig
from blankspot.errors import ConfigError, UnitsError
from blankspot.plan import plan_paser, write_outputs
from paser_window import SEGENDANG, SMALL, WINDOW

pytestmark = pytest.mark.paser



@pytest.fixture(scope="module")
def small_outputs(small_plan, tmp_path_factory):
    out = tmp_path_factory.mktemp("demo-out")
    return out, write_outputs(small_plan, out)


def test_plan_stays_within_budget_and_ranks_in_pick_order(small_plan):
    r = small_plan
    assert 0 < len(r.ranking) <= SMALL.budget_idr // r.ranking["cost_idr"].min()
    assert r.total_cost_idr <= SMALL.budget_idr
    assert list(r.ranking["rank"]) == list(range(1, len(r.ranking) + 1))
    assert r.ranking["cumulative_cost_idr"].iloc[-1] == r.total_cost_idr
    assert np.all(np.diff(r.ranking["cumulative_people"]) >= 0)
    assert math.isclose(r.ranking["people_new"].sum(), r.people_covered, rel_tol=1e-3)
    # greedy covers something real: the first tower reaches people in Segendang
    assert r.ranking["people_new"].iloc[0] > 0
    assert "Segendang" in r.ranking["desa_new"].iloc[0]


def test_plan_reports_all_144_desa_with_population_for_each(small_plan):
    desa = small_plan.desa
    assert len(desa) == 144 and desa["kode"].is_unique
    assert (desa["population"] > 0).all()
    assert desa["population"].sum() == 277_400
    assert desa.loc[desa["kode"] == SEGENDANG, "target"].item()
    assert desa["target"].sum() == 1
    assert desa["share_covered"].between(0, 1).all()
    # the people counted as covered in the target desa match the siting objective
    seg = desa.loc[desa["kode"] == SEGENDANG, "population_covered"].item()
    assert seg == pytest.approx(small_plan.people_covered, abs=0.5)
    assert len(small_plan.kecamatan) == 10


def test_outputs_are_written_completely(small_plan, small_outputs):
    out, paths = small_outputs
    assert {p.name for p in out.iterdir()} == {
        "map.html", "ranking.csv", "desa.csv", "kecamatan.csv", "coverage.tif", "costs.csv",
        "curve.csv", "stability.csv", "summary.json", "hindcast.csv", "why_not.csv",
        # reports (tests/test_export.py)
        "report.xlsx", "plan.gpkg", "coverage_rsrp_dbm.cog.tif", "coverage_best_server.cog.tif",
        "map.png", "metadata.json", "metadata.md",
    }
    ranking = pd.read_csv(paths["ranking.csv"])
    assert list(ranking.columns[:9]) == [
        "rank", "site_id", "lon", "lat", "height_agl_m", "cost_idr", "people_new",
        "cumulative_cost_idr", "cumulative_people",
    ]
    assert ranking["cost_idr"].sum() <= SMALL.budget_idr
    desa = pd.read_csv(paths["desa.csv"], dtype={"kode": str})
    assert len(desa) == 144 and desa["kode"].str.match(r"^64\.01\.\d\d\.\d{4}$").all()
    with rasterio.open(paths["coverage.tif"]) as src:
        assert src.crs.to_epsg() == 32750
        assert "SYNTHETIC" in src.tags()["terrain"]
        rsrp = src.read(1)
    assert np.nanmax(rsrp) < 0 and np.isfinite(rsrp).any()
    html = paths["map.html"].read_text(encoding="utf-8")
    assert "SYNTHETIC demo DEM" in html
    # the demand model and its source, named like the terrain
    demand = "settlements: 1 per desa (GeoNames place 7, representative point 137)"
    assert small_plan.demand_model == demand
    assert json.loads(paths["summary.json"].read_text())["demand_model"] == demand
    assert html.count(f"People placed by: {demand}") == 2  # under the title and in the legend
    assert len(re.findall(r'"village_id": "64\.01\.', html)) == 144  # one feature per desa
    assert "Chosen towers, ranked" in html and "Coverage of chosen towers" in html
    assert "cdn.jsdelivr" not in html  # Leaflet is embedded: the map opens offline


def test_plan_costs_come_from_the_cost_model_and_are_certified(small_plan, small_outputs):
    import json

    r = small_plan
    # the default cost parameters price a 72 m tower at the 2022 SSH
    assert (r.site_costs["capex_idr"] == 1_700_000_000).all()
    assert (r.ranking["tower_idr"] + r.ranking["land_idr"] + r.ranking["road_idr"]
            + r.ranking["power_idr"] + r.ranking["backhaul_idr"] + r.ranking["equipment_idr"]
            + r.ranking["contingency_idr"] == r.ranking["cost_idr"]).all()
    cert = r.certificate
    assert cert is not None and cert.status == "optimal"
    assert cert.covered_weight >= r.people_covered - 1e-6
    assert cert.total_cost_idr <= SMALL.budget_idr
    summary = json.loads(small_outputs[1]["summary.json"].read_text())
    assert 0 < summary["certificate"]["plan_share_of_optimum"] <= 1
    curve = r.curve
    assert curve["budget_idr"].is_monotonic_increasing
    assert curve["covered_weight"].is_monotonic_increasing
    assert (curve["cost_idr"] <= curve["budget_idr"]).all()
    assert set(r.stability.attrs["scenarios"]) >= {"base", "cost x0.6", "cost x1.4"}


def test_flat_tower_price_overrides_the_cost_model(paser_data_dir):
    r = plan_paser(paser_data_dir, config=SMALL.replace(tower_cost_idr=2_000_000_000, certify=False,
                                                        stability_threshold_db=None),
                   bounds=WINDOW, village_ids=[SEGENDANG])
    assert (r.ranking["cost_idr"] == 2_000_000_000).all()
    assert len(r.ranking) <= 4 and r.certificate is None and r.stability is None


def test_interrupted_output_leaves_no_partial_file(small_plan, tmp_path, monkeypatch):
    import blankspot.reporting.summary

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(blankspot.reporting.summary, "plan_map", boom)
    with pytest.raises(KeyboardInterrupt):
        write_outputs(small_plan, tmp_path)
    names = {p.name for p in tmp_path.iterdir()}
    assert "map.html" not in names
    assert not [n for n in names if "tmp" in n]


def test_higher_budget_never_covers_fewer_people(paser_data_dir, small_plan):
    bigger = plan_paser(
        paser_data_dir,
        config=SMALL.replace(budget_idr=2 * SMALL.budget_idr),
        bounds=WINDOW,
        village_ids=[SEGENDANG],
    )
    assert bigger.people_covered >= small_plan.people_covered - 1e-6


def test_config_rejects_bad_values_all_at_once():
    with pytest.raises(UnitsError) as exc:
        PlanConfig(budget_idr=-1, height_agl_m=-3.0, radius_m=0.0)
    msg = str(exc.value)
    assert "budget_idr" in msg and "height_agl_m" in msg and "radius_m" in msg
    with pytest.raises(ConfigError, match="no field"):
        PlanConfig().replace(budjet_idr=1)


def test_map_escapes_user_strings(small_plan):
    from blankspot.reporting.maps import plan_map

    villages = small_plan.villages.copy()
    villages.loc[SEGENDANG, "name"] = "<script>alert(1)</script>"
    html = plan_map(villages, ranking=small_plan.ranking).get_root().render()
    assert "<script>alert(1)</script>" not in html
    # shown as text: HTML entities, which the GeoJSON carries JSON-escaped (& as \u0026)
    assert "\\u0026lt;script\\u0026gt;alert(1)" in html


# --- CLI --------------------------------------------------------------------------------------


def test_cli_demo_small_window(paser_data_dir, tmp_path):
    out = tmp_path / "out"
    args = ["--quiet", "demo", "--out", str(out), "--data-dir", str(paser_data_dir),
            "--bounds", *map(str, WINDOW), "--targets", SEGENDANG, "--radius-km", "8"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert (out / "map.html").is_file() and (out / "ranking.csv").is_file()


def test_cli_prints_where_people_are_placed(small_plan, capsys):
    from blankspot.cli import _echo_plan

    _echo_plan(small_plan, 1.0)
    out = capsys.readouterr().out
    assert ("People placed by: settlements: 1 per desa (GeoNames place 7, representative point "
            "137).") in out
    assert "Terrain: SYNTHETIC demo DEM" in out


def test_cli_demo_with_a_damaged_data_file_says_how_to_get_it(tmp_path):
    # an empty data directory runs on the embedded data; a damaged file there is an error
    (tmp_path / "boundaries").mkdir()
    (tmp_path / "boundaries" / "paser_desa.geojson").write_text("{}")
    res = CliRunner().invoke(main, ["demo", "--out", str(tmp_path / "o"), "--data-dir", str(tmp_path)])
    assert res.exit_code == 3
    assert "blankspot data fetch" in res.output
    assert "Traceback" not in res.output


def test_cli_fetch_from_missing_folder_is_a_clear_error(tmp_path):
    res = CliRunner().invoke(main, ["data", "fetch", "--from", str(tmp_path / "nope"),
                                    "--data-dir", str(tmp_path / "d")])
    assert res.exit_code == 3
    assert "nope" in res.output


def test_cli_data_status(paser_data_dir):
    res = CliRunner().invoke(main, ["data", "status", "--data-dir", str(paser_data_dir)])
    assert res.exit_code == 0, res.output
    assert "paser_desa.geojson" in res.output


def test_cli_bad_budget_is_refused():
    res = CliRunner().invoke(main, ["demo", "--out", "x", "--budget-idr", "-5"])
    assert res.exit_code == 2
    assert "budget" in res.output.lower()


def test_cli_demo_with_user_sites_only(paser_data_dir, tmp_path):
    sites = tmp_path / "sites.csv"
    sites.write_text("site_id,lon,lat,height_agl_m,cost_idr\n"
                     "menara_a,116.36,-2.30,72,1700000000\n"
                     "menara_b,116.40,-2.26,52,1500000000\n")
    out = tmp_path / "out"
    args = ["--quiet", "demo", "--out", str(out), "--data-dir", str(paser_data_dir),
            "--bounds", *map(str, WINDOW), "--targets", SEGENDANG, "--radius-km", "8",
            "--sites", str(sites), "--no-generated"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    ranking = pd.read_csv(out / "ranking.csv")
    assert set(ranking["site_id"]) <= {"menara_a", "menara_b"}
    assert ranking["cost_idr"].sum() <= 8_500_000_000


def test_cli_demo_bad_sites_file_lists_every_problem(paser_data_dir, tmp_path):
    sites = tmp_path / "sites.csv"
    sites.write_text("site_id,lon,lat,height_agl_m\n"
                     "a,116.36,-2.30,-5\n"
                     "a,200.0,-2.26,52\n")
    args = ["demo", "--out", str(tmp_path / "o"), "--data-dir", str(paser_data_dir),
            "--bounds", *map(str, WINDOW), "--targets", SEGENDANG, "--sites", str(sites)]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2, res.output
    assert "more than once" in res.output
    assert "height" in res.output.lower()
    assert "200" in res.output
    assert not (tmp_path / "o").exists()


def test_cli_demo_itm_with_forest_clutter(paser_data_dir, tmp_path):
    import json

    out = tmp_path / "out"
    args = ["--quiet", "demo", "--out", str(out), "--data-dir", str(paser_data_dir),
            "--bounds", *map(str, WINDOW), "--targets", SEGENDANG, "--radius-km", "6",
            "--model", "itm", "--clutter", "tree", "--res-m", "90"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"].startswith("itm(") and "p2108(uniform-tree)" in summary["model"]
    page = (out / "map.html").read_text(encoding="utf-8")
    assert ("ITM (Longley-Rice) with uniform-tree clutter at the handset (P.2108), siting on "
            "exact paths to the demand points, 90 m terrain") in page
    # the demo's demand: Segendang's one settlement, named on every output
    assert summary["demand_model"] == "settlements: 1 per desa (GeoNames place 7, representative point 137)"
    assert "People placed by: settlements: 1 per desa" in page
    # forest at the handset costs ~25 dB: far fewer people than line of sight alone (on the
    # uniform spread, which tells the two apart; the one settlement is covered by both)
    quick = SMALL.replace(radius_m=6_000.0, terrain_res_m=90.0, certify=False,
                          stability_threshold_db=None, demand_model="uniform")
    forest, los = (plan_paser(paser_data_dir, config=quick.replace(model=m, clutter=c),
                              bounds=WINDOW, village_ids=[SEGENDANG])
                   for m, c in (("itm", "tree"), ("los", "auto")))
    assert forest.demand_model == "uniform: 250 m cells over each desa"
    assert forest.people_covered < los.people_covered


def test_cli_clutter_needs_a_terrain_model():
    res = CliRunner().invoke(main, ["demo", "--out", "x", "--model", "los", "--clutter", "tree"])
    assert res.exit_code == 2 and "--model itm" in res.output


def test_default_plan_is_itm_under_forest_and_says_so():
    cfg = PlanConfig()
    assert (cfg.model, cfg.clutter, cfg.terrain_res_m) == ("itm", "auto", 90.0)
    assert cfg.clutter_model().uniform_class == 10  # WorldCover tree cover
    assert cfg.replace(model="los").clutter_model() is None
    assert cfg.replace(model="p1812", clutter="oil_palm").clutter_model().name == "uniform-oil_palm"
    with pytest.raises(ValueError, match="line of sight has no clutter"):
        PlanConfig(model="los", clutter="tree")
    with pytest.raises(ValueError, match="unknown clutter class"):
        PlanConfig(clutter="jungle")


def test_existing_towers_remove_served_demand(paser_data_dir, small_plan, tmp_path):
    # an existing tower on the first chosen site serves its people already
    first = small_plan.ranking.iloc[0]
    existing = tmp_path / "existing.csv"
    existing.write_text("site_id,lon,lat,height_agl_m\n"
                        f"bts_1,{first['lon']},{first['lat']},{first['height_agl_m']}\n"
                        "bts_far,100.0,5.0,30\n")
    with pytest.warns(UserWarning, match="outside the terrain"):
        r = plan_paser(paser_data_dir, config=SMALL, bounds=WINDOW, village_ids=[SEGENDANG],
                       existing_sites=existing)
    assert r.people_served_existing == pytest.approx(first["people_new"], rel=0.02)
    assert r.problem.total_weight == pytest.approx(
        small_plan.problem.total_weight - r.people_served_existing, rel=1e-6)
    assert first["site_id"] not in r.solution.site_ids or r.ranking["people_new"].iloc[0] < first["people_new"]
    # desa table counts people served by either
    seg = r.desa.loc[r.desa["kode"] == SEGENDANG, "population_covered"].item()
    assert seg >= r.people_served_existing + r.people_covered - 0.5


@pytest.mark.parametrize("scheduler", ["threads", "local"])
def test_plan_on_dask_matches_the_single_process_plan(paser_data_dir, small_plan, scheduler, tmp_path):
    r = plan_paser(paser_data_dir, config=SMALL, bounds=WINDOW, village_ids=[SEGENDANG],
                   scheduler=scheduler, cache_dir=tmp_path)
    assert r.solution.site_ids == small_plan.solution.site_ids
    # identical, not close: both paths run each site on the same window (coverage.site_window)
    assert r.people_covered == small_plan.people_covered
    assert r.matrix.site_ids == small_plan.matrix.site_ids
    assert (r.matrix.matrix != small_plan.matrix.matrix).nnz == 0
    a, b = r.coverage.best_rsrp_dbm(), small_plan.coverage.best_rsrp_dbm()
    np.testing.assert_array_equal(a, b)
    assert any(tmp_path.glob("terrain-*.tif"))
