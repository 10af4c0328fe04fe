"""Scenario files: validation, immutability, hashing, run() with provenance, cache, compare."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from dataclasses import fields
from datetime import datetime
from pathlib import Path

import pytest

import blankspot.plan
from blankspot.config import PlanConfig
from blankspot.errors import BlankspotWarning, DataError, SchemaError
from blankspot.scenario import (
    SECTIONS,
    ScenarioResult,
    ScenarioSpec,
    compare,
    compare_map,
    map_from_outputs,
    parse_overrides,
    run,
    scenario_keys,
)
from blankspot.settings import CoverageSettings
from paser_window import SEGENDANG, WINDOW

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO_TOML = REPO_ROOT / "scenarios" / "paser-demo.toml"

SMALL = {
    "data": {"bounds": list(WINDOW)},
    "radio": {"radius_m": 8_000.0},
    "demand": {"targets": [SEGENDANG]},
    "siting": {"n_high_points": 8, "grid_spacing_m": 3_000.0, "certify": False,
               "stability_threshold_db": "none"},
}


# --- the spec, no data needed -------------------------------------------------------------------


def test_defaults_are_the_plan_config_defaults_and_the_demo_file_is_the_demo():
    assert ScenarioSpec().to_plan_config() == PlanConfig()
    demo = ScenarioSpec.from_toml(DEMO_TOML)
    assert demo.to_plan_config() == PlanConfig()
    assert demo.name == "paser-demo" and demo.uses_paser_data
    # name and description do not enter the hash: the demo file asks for the default computation
    assert demo.spec_hash == ScenarioSpec().spec_hash


def test_every_plan_config_field_has_a_scenario_key():
    from blankspot.scenario import _BY_NAME, _PLAN_FIELD_KEYS

    for f in fields(PlanConfig):
        keys = _PLAN_FIELD_KEYS.get(f.name, (f.name,))
        assert all(k in _BY_NAME for k in keys), f"PlanConfig.{f.name} has no scenario key"
    table = scenario_keys()
    assert set(table["table"]) == {"(top level)", *SECTIONS}
    assert table.loc["threshold_dbm", "table"] == "radio"
    assert table.loc["budget_idr", "table"] == "costs"


def test_every_problem_is_reported_at_once():
    bad = {
        "radio": {"treshold_dbm": -110.0, "height_agl_m": "tall", "radius_m": 0.0, "model": "itn"},
        "costs": {"budget_idr": 8.5e9, "cost_parameters": {"towr_72m_idr": 1}},
        "siting": {"budget_idr": 1, "max_towers": 0},
        "radoi": {},
        "data": {"bounds": [116.5, -2.4, 116.2, -2.1]},
    }
    with pytest.raises(SchemaError) as exc:
        ScenarioSpec.from_dict(bad, source="bad.toml")
    msg = str(exc.value)
    assert msg.startswith("scenario bad.toml: 10 problems found")
    # unknown keys and tables, with the closest names
    assert "[radio] unknown key 'treshold_dbm'; did you mean 'threshold_dbm'?" in msg
    assert "unknown table or top-level key 'radoi'; did you mean 'radio'?" in msg
    assert "did you mean 'tower_72m_idr'" in msg
    # wrong types: what arrived and how to write it
    assert "[radio] height_agl_m must be a number; received 'tall' (str). Write it as " \
           "height_agl_m = 72.0." in msg
    assert "received 8500000000.0 (float). Write it as budget_idr = 8_500_000_000." in msg
    assert "model must be one of 'los', 'itm', 'p1812'" in msg and "Did you mean 'itm'?" in msg
    # a key in the wrong table, ranges, bounds order
    assert "[siting] 'budget_idr' belongs in [costs]" in msg
    assert "max_towers must be ≥ 1; received 0" in msg
    assert "[radio] radius_m must be > 0" in msg
    assert "Is the order lon, lat?" in msg


def test_a_bad_file_is_a_schema_error_naming_the_file(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[radio]\nmodel = itm\n')
    with pytest.raises(SchemaError, match=r"not valid TOML.*Strings need quotes"):
        ScenarioSpec.from_toml(path)
    with pytest.raises(DataError, match="not found"):
        ScenarioSpec.from_toml(tmp_path / "missing.toml")


def test_clutter_needs_a_terrain_model_and_a_known_class():
    with pytest.raises(SchemaError, match=r"\[radio\] clutter='tree' needs model 'itm' or 'p1812'"):
        ScenarioSpec.from_dict({"radio": {"model": "los", "clutter": "tree"}})
    with pytest.raises(SchemaError, match="unknown clutter class 'jungle'"):
        ScenarioSpec.from_dict({"radio": {"model": "itm", "clutter": "jungle"}})
    with pytest.raises(SchemaError, match="received True"):
        ScenarioSpec.from_dict({"radio": {"clutter": True}})
    spec = ScenarioSpec.from_dict({"radio": {"model": "p1812", "clutter": "oil_palm"}})
    assert spec.to_plan_config().clutter_model().name == "uniform-oil_palm"
    assert ScenarioSpec.from_dict({"radio": {"clutter": 10}}).to_plan_config().clutter_model()
    los = ScenarioSpec.from_dict({"radio": {"model": "los", "clutter": "none"}})
    assert los.clutter is None and los.to_plan_config().clutter_model() is None


def test_replace_returns_a_new_spec_and_never_changes_the_old():
    spec = ScenarioSpec.from_dict({"name": "base", "costs": {"budget_idr": 8_500_000_000}})
    before = spec.to_dict()
    new = spec.replace(budget_idr=12_000_000_000, height_agl_m=52.0, threshold_dbm=-110.0)
    assert new is not spec
    assert (new.budget_idr, new.height_agl_m, new.threshold_dbm) == (12_000_000_000, 52.0, -110.0)
    assert spec.to_dict() == before and spec.budget_idr == 8_500_000_000
    cfg = new.to_plan_config()
    assert cfg.link.threshold_dbm == -110.0 and cfg.height_agl_m == 52.0
    assert new.spec_hash != spec.spec_hash
    with pytest.raises(SchemaError, match="unknown scenario key 'budjet_idr'; did you mean 'budget_idr'"):
        spec.replace(budjet_idr=1)
    with pytest.raises(SchemaError, match="height_agl_m must be a number"):
        spec.replace(height_agl_m="tall")
    with pytest.raises(AttributeError):
        spec.budget_idr = 1  # frozen
    # "none" switches off a value with a default
    assert spec.replace(terrain_res_m="none").terrain_res_m is None


def test_hash_is_stable_across_processes_and_ways_of_writing(tmp_path):
    a = tmp_path / "a.toml"
    a.write_text('name = "A"\n[costs]\nbudget_idr = 12_000_000_000\n[radio]\nheight_agl_m = 52\n')
    b = tmp_path / "b.toml"  # same values, other order, defaults written out, another name
    b.write_text('# comment\n[radio]\nheight_agl_m = 52.0\nthreshold_dbm = -105.0\n'
                 '[costs]\nbudget_idr = 12000000000\ncost_parameters = {}\n')
    sa, sb = ScenarioSpec.from_toml(a), ScenarioSpec.from_toml(b)
    assert sa.spec_hash == sb.spec_hash and sa == sb.replace(name="A")
    code = ("from blankspot.scenario import ScenarioSpec; import sys; "
            "print(ScenarioSpec.from_toml(sys.argv[1]).spec_hash)")
    out = subprocess.run([sys.executable, "-c", code, str(a)], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == sa.spec_hash
    assert re.fullmatch(r"[0-9a-f]{64}", sa.spec_hash)


def test_to_toml_reads_back_to_an_equal_spec(tmp_path):
    spec = ScenarioSpec.from_dict({
        "name": 'quote " and <tag>',
        "data": {"bounds": list(WINDOW), "dem": [str(tmp_path / "a.tif"), str(tmp_path / "b.tif")],
                 "village_columns": {"village_id": "kode"}},
        "radio": {"model": "p1812", "clutter": "oil_palm", "terrain_res_m": "none"},
        "costs": {"tower_cost_idr": 1_700_000_000, "cost_parameters": {"tower_72m_idr": 2_000_000_000}},
        "demand": {"targets": [SEGENDANG, "64.01.09.2004"]},
        "siting": {"curve_budgets_idr": [0, 1_000], "max_towers": 3, "stability_threshold_db": "none"},
    })
    text = spec.to_toml()
    tomllib.loads(text)  # valid TOML
    path = tmp_path / "resolved.toml"
    path.write_text(text, encoding="utf-8")
    back = ScenarioSpec.from_toml(path)
    assert back == spec and back.spec_hash == spec.spec_hash
    assert back.terrain_res_m is None and back.dem == (str(tmp_path / "a.tif"), str(tmp_path / "b.tif"))


def test_relative_paths_are_taken_from_the_file_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "s.toml"
    path.write_text('[data]\nsites = "sites.csv"\ndem = ["../dem.tif"]\n')
    spec = ScenarioSpec.from_toml(path)
    assert Path(spec.sites) == tmp_path / "sub" / "sites.csv"
    assert Path(spec.dem[0]) == tmp_path / "sub" / ".." / "dem.tif"


def test_parse_overrides_reads_toml_values_and_checks_names():
    got = parse_overrides(["budget_idr=12_000_000_000", "radio.model=itm", 'targets=["a", "b"]',
                           "certify=false"])
    assert got == {"budget_idr": 12_000_000_000, "model": "itm", "targets": ["a", "b"],
                   "certify": False}
    with pytest.raises(SchemaError) as exc:
        parse_overrides(["budjet_idr=1", "costs.model=itm", "nonsense"])
    msg = str(exc.value)
    assert "3 problems" in msg and "did you mean 'budget_idr'" in msg
    assert "'model' belongs in [radio], not [costs]" in msg and "KEY=VALUE" in msg


def test_missing_input_files_are_listed_together(tmp_path):
    (tmp_path / "boundaries").mkdir()  # a damaged desa file (an absent one is embedded)
    (tmp_path / "boundaries" / "paser_desa.geojson").write_text("{}")
    spec = ScenarioSpec.from_dict({"data": {"data_dir": str(tmp_path), "sites": str(tmp_path / "s.csv"),
                                            "existing": str(tmp_path / "e.csv")}})
    with pytest.raises(DataError) as exc:
        run(spec)
    msg = str(exc.value)
    assert "s.csv" in msg and "e.csv" in msg and "blankspot data fetch" in msg


# --- runs on a small Paser window -----------------------------------------------------------------

@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("footprints")


@pytest.fixture(scope="module")
def small_spec(paser_data_dir):
    d = json.loads(json.dumps(SMALL))
    d["name"] = "small"
    d["data"]["data_dir"] = str(paser_data_dir)
    return ScenarioSpec.from_dict(d)


@pytest.fixture(scope="module")
def small_run(small_spec, cache_dir):
    return run(small_spec, cache_dir=cache_dir)


@pytest.mark.paser
def test_run_gives_the_plan_of_plan_paser(small_run, paser_data_dir, cache_dir):
    r = small_run
    assert isinstance(r, ScenarioResult)
    same = blankspot.plan.plan_paser(
        paser_data_dir, config=PlanConfig(radius_m=8_000.0, n_high_points=8, grid_spacing_m=3_000.0,
                                          certify=False, stability_threshold_db=None),
        bounds=WINDOW, village_ids=[SEGENDANG], cache_dir=cache_dir)
    assert same.footprint_cache["misses"] == 0  # the very same footprints
    assert r.plan.solution.site_ids == same.solution.site_ids
    assert r.people_covered == pytest.approx(same.people_covered)
    assert r.total_cost_idr == same.total_cost_idr <= r.spec.budget_idr
    assert r.ranking is r.plan.ranking and r.desa is r.plan.desa and r.kecamatan is r.plan.kecamatan
    assert 0 <= r.desa_resolved <= 1


@pytest.mark.paser
def test_a_budget_sweep_computes_no_footprint_twice(small_run, small_spec, cache_dir, monkeypatch):
    # on exact paths (the default) only the chosen towers get footprints, for the map
    first = small_run.plan.footprint_cache
    assert small_run.plan.settings.evaluate_at == "points"
    assert first["misses"] + first["hits"] == len(small_run.ranking)
    # on the raster every candidate's footprint is stored once, then read
    small_spec = small_spec.replace(evaluate_at="raster")
    first = run(small_spec, cache_dir=cache_dir).plan.footprint_cache
    assert first["misses"] == len(small_run.plan.sites)  # a key of its own
    assert first["hits"] == len(small_run.ranking)  # the chosen towers' full footprints
    computed = []
    real = CoverageSettings.compute
    monkeypatch.setattr(CoverageSettings, "compute",
                        lambda self, terrain, sites, **kw: computed.append(len(sites))
                        or real(self, terrain, sites, **kw))
    for budget_idr in (3_400_000_000, 17_000_000_000):
        r = run(small_spec.replace(budget_idr=budget_idr), cache_dir=cache_dir)
        stats = r.plan.footprint_cache
        assert stats["misses"] == 0 and stats["hits"] == len(r.plan.sites) + len(r.ranking)
        assert r.total_cost_idr <= budget_idr
    assert set(computed) <= {0}  # the store asks the engine for no site
    # a radio change is another key: computed afresh
    r = run(small_spec.replace(height_agl_m=52.0), cache_dir=cache_dir)
    assert r.plan.footprint_cache["misses"] == len(r.plan.sites)


@pytest.mark.paser
def test_cached_plan_equals_the_computed_plan(small_run, small_spec, cache_dir):
    import numpy as np

    again = run(small_spec, cache_dir=cache_dir)
    fresh = run(small_spec)
    assert fresh.plan.footprint_cache is None
    for r in (again, fresh):
        assert r.plan.solution.site_ids == small_run.plan.solution.site_ids
        assert r.ranking.equals(small_run.ranking)
        assert r.plan.coverage.model == small_run.plan.coverage.model
    np.testing.assert_array_equal(again.plan.coverage.best_rsrp_dbm(),
                                  fresh.plan.coverage.best_rsrp_dbm())


@pytest.mark.paser
def test_a_settlement_file_places_the_people(small_spec, cache_dir, tmp_path):
    """[data] settlements: two dusun of Segendang (one with a figure) and one outside Paser."""
    f = tmp_path / "dusun.csv"
    f.write_text("name,lon,lat,population\nDusun Satu,116.3987,-2.2895,100\n"
                 "Dusun Dua,116.3852,-2.3030,\nElsewhere,110.0,-7.0,50\n", encoding="utf-8")
    spec = small_spec.replace(settlements=str(f))
    assert spec.input_spec().settlements == str(f)
    assert spec.to_plan_config().demand_model == "auto"
    with pytest.warns(BlankspotWarning, match="1 of 3 settlement points lie outside"):
        r = run(spec, cache_dir=cache_dir)
    seg = r.plan.demand
    assert seg["settlement"].tolist() == ["Dusun Satu", "Dusun Dua"]
    assert seg["source"].tolist() == ["settlement file"] * 2
    assert seg["population"].tolist() == pytest.approx([100.0, 316.0])  # 416 in Segendang
    assert r.plan.demand_model.startswith("settlements: settlement file 2 in 1 desa; 1 per desa "
                                          "for 143 (GeoNames place 7, representative point 136)")
    assert r.plan.demand_model.endswith("; 1 outside every desa ignored")
    assert "settlements" in r.input_files
    with pytest.raises(SchemaError, match="demand_model"):
        small_spec.replace(demand_model="census")


@pytest.mark.paser
def test_provenance_names_every_input_its_checksum_and_the_versions(small_run, tmp_path):
    from blankspot.io import REGISTRY

    r = small_run
    files = r.input_files
    # places: the GeoNames table, where the demo's one settlement per desa stands
    assert set(files) == {"villages", "kecamatan_totals", "dem", "places"}
    for record in files.values():
        assert record["sha256"] == REGISTRY[Path(record["path"]).name].sha256
        assert record["bytes"] > 0
    assert {"blankspot", "numpy", "geopandas", "shapely", "rasterio", "pyproj", "numba", "scipy",
            "folium", "python", "gdal", "proj"} <= set(r.versions)
    assert datetime.fromisoformat(r.started_utc).utcoffset().total_seconds() == 0
    assert r.timings_s["total_s"] >= r.timings_s["plan_s"] > 0
    assert r.scenario == r.spec.to_dict() and r.spec_hash == r.spec.spec_hash

    paths = r.write(tmp_path / "out")
    assert {"scenario.toml", "provenance.json", "ranking.csv", "map.html"} <= set(paths)
    prov = json.loads((tmp_path / "out" / "provenance.json").read_text())
    assert prov["spec_hash"] == r.spec_hash and prov["input_files"] == files
    assert "SYNTHETIC" in prov["terrain"]
    assert ScenarioSpec.from_toml(tmp_path / "out" / "scenario.toml") == r.spec
    assert not [p for p in (tmp_path / "out").iterdir() if "tmp" in p.name]


@pytest.mark.paser
def test_scenario_file_is_recorded_in_provenance(small_run, paser_data_dir, tmp_path, cache_dir):
    path = tmp_path / "s.toml"
    path.write_text(
        f'[data]\ndata_dir = {json.dumps(str(paser_data_dir))}\nbounds = {list(WINDOW)}\n'
        '[radio]\nradius_m = 8000.0\n[demand]\ntargets = ["64.01.09.2003"]\n'
        '[siting]\nn_high_points = 8\ngrid_spacing_m = 3000.0\ncertify = false\n'
        'stability_threshold_db = "none"\n')
    r = run(path, cache_dir=cache_dir)
    assert r.input_files["scenario"]["path"] == str(path)
    assert r.plan.footprint_cache["misses"] == 0  # the same computation as small_run


@pytest.mark.paser
def test_own_villages_and_dem_files_take_the_general_path(small_run, small_spec, paser_data_dir,
                                                          cache_dir):
    from blankspot.io import DEMO_DEM_FILE, DESA_FILE, KECAMATAN_CSV_FILE, paser_path

    spec = small_spec.replace(
        villages=str(paser_path(DESA_FILE, paser_data_dir)),
        village_columns={"village_id": "kode", "name": "nama", "kecamatan": "nama_kec",
                         "kecamatan_id": "kode_kec", "population": "penduduk_2010"},
        kecamatan_totals=str(paser_path(KECAMATAN_CSV_FILE, paser_data_dir)),
        dem=[str(paser_path(DEMO_DEM_FILE, paser_data_dir))],
        crs="EPSG:32750",
    )
    assert not spec.uses_paser_data
    r = run(spec, cache_dir=cache_dir)
    assert set(r.input_files) == {"villages", "kecamatan_totals", "dem"}
    # the Paser files named explicitly give the Paser plan, from the same cached footprints
    assert r.plan.footprint_cache["misses"] == 0
    assert r.plan.solution.site_ids == small_run.plan.solution.site_ids
    assert r.desa.equals(small_run.desa)


@pytest.mark.paser
def test_repr_html_is_escaped_and_says_synthetic(small_run, small_spec, cache_dir):
    r = run(small_spec.replace(name="<script>alert(1)</script> & co"), cache_dir=cache_dir)
    text = r._repr_html_()
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in text
    assert "SYNTHETIC" in text and "Rp " in text and "ITM (Longley-Rice)" in text
    assert text.startswith("<table>")
    assert "SYNTHETIC" in small_run.plan._repr_html_()


@pytest.mark.paser
def test_explore_returns_the_plan_map(small_run):
    import folium

    fmap = small_run.explore()
    assert isinstance(fmap, folium.Map)
    html = fmap.get_root().render()
    assert "SYNTHETIC" in html and small_run.ranking["site_id"].iloc[0] in html
    assert isinstance(small_run.plan.explore(), folium.Map)


@pytest.mark.paser
def test_compare_puts_scenarios_side_by_side(small_run, small_spec, cache_dir):
    bigger = run(small_spec.replace(name="double", budget_idr=17_000_000_000), cache_dir=cache_dir)
    table = compare([small_run, bigger])
    assert list(table.columns) == ["small", "double"]
    assert {"budget_idr", "towers", "total_cost_idr", "people_covered", "desa_resolved", "model",
            "threshold_dbm", "height_agl_m"} <= set(table.index)
    assert table.loc["budget_idr", "double"] == 17_000_000_000
    assert table.loc["towers", "small"] == len(small_run.ranking)
    assert table.loc["people_covered", "double"] >= table.loc["people_covered", "small"]
    assert table.loc["threshold_dbm", "small"] == -105.0
    # names given by a dict; repeated names numbered
    assert list(compare({"a": small_run, "b": bigger}).columns) == ["a", "b"]
    assert list(compare([small_run, small_run]).columns) == ["small", "small (2)"]


@pytest.mark.paser
def test_compare_map_has_one_toggleable_layer_per_scenario(small_run, small_spec, cache_dir):
    other = run(small_spec.replace(name="<b>tall</b>", height_agl_m=52.0), cache_dir=cache_dir)
    html = compare_map([small_run, other]).get_root().render()
    # names reach the page HTML-escaped, inside JSON strings (& as \u0026)
    shown = html.replace("\\u0026", "&")
    assert "small (" in html and "&lt;b&gt;tall&lt;/b&gt;" in shown and "<b>tall</b>" not in html
    # every scenario layer is defined before the layer control refers to it
    control = html.index("overlays :")
    for name in re.findall(r"var (feature_group_\w+) = L\.featureGroup", html):
        assert html.index(f"var {name} = ") < control
        assert name in html[control:]


@pytest.mark.paser
def test_map_from_an_output_folder(small_run, tmp_path, paser_data_dir):
    small_run.write(tmp_path)
    html = map_from_outputs(tmp_path, data_dir=paser_data_dir).get_root().render()
    assert small_run.ranking["site_id"].iloc[0] in html
    assert "SYNTHETIC" in html
    with pytest.raises(DataError, match=r"ranking\.csv is missing"):
        map_from_outputs(tmp_path / "nothing-here")


@pytest.mark.paser
def test_compare_map_names_are_inert(small_run):
    from blankspot.reporting.maps import scenarios_map

    hostile = "`${window.__x=1}` {{ 7*7 }} <script>window.__x=2</script>"
    ranking = small_run.ranking.assign(site_id="{{ 6*7 }}`${1}`")
    html = scenarios_map(small_run.plan.villages, {hostile: ranking}).get_root().render()
    shown = html.replace("\\u0026", "&")
    # shown as text: braces as &#123; (so no template runs when the map is written), tags escaped
    assert "&#123;&#123; 7*7 }}" in shown and "&#123;&#123; 6*7 }}" in shown
    assert "{{ 7*7 }}" not in html and "{{ 6*7 }}" not in html
    assert "<script>window.__x" not in html
    # the backticks travel only inside JSON strings, never in a JavaScript template literal
    assert "`${window.__x=1}`" not in re.sub(r'"(?:[^"\\]|\\.)*"', "", html)
