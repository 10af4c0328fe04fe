"""Calibration in the product: ``blankspot calibrate``, ``[radio] calibration`` in a scenario,
the coverage engine's hook, the cache key, and what a run records.

The CLI is run on :func:`blankspot.testing.write_calibration_scene`: measurements made from the
prediction with an offset of +6 dB, a forest loss of 18 dB instead of P.2108's 25.1 dB, σ_L = 7
dB and 3 % outliers 25 dB too strong. Tolerances as in tests/test_calibration.py (about four
standard errors): offset ± 1 dB, forest loss ± 1.5 dB, σ_L ± 1 dB; the cross-validated RMSE
without outliers within 1 dB of σ_L, and with them within 1 dB of the RMS of noise and outliers.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner

from blankspot.cache import input_key
from blankspot.calibration import (
    Calibration,
    read_calibration,
    residual_colour,
    write_calibration,
)
from blankspot.cli import main
from blankspot.clutter import ClutterModel
from blankspot.config import PlanConfig
from blankspot.coverage import compute_coverage, site_footprint
from blankspot.errors import ConfigError, DataError, SchemaError, UnitsError
from blankspot.io.vectors import sites_frame
from blankspot.propagation.budget import LinkBudget
from blankspot.scenario import ScenarioSpec, run
from blankspot.settings import CoverageSettings
from blankspot.testing import (
    SCENE_FOREST_LOSS_DB,
    SCENE_OFFSET_DB,
    SCENE_OUTLIER_DB,
    SCENE_OUTLIER_SHARE,
    SCENE_SIGMA_L_DB,
    cell_centre,
    make_terrain,
    write_calibration_scene,
)
from paser_window import SEGENDANG, WINDOW


def _offset_only(offset_db: float = 6.0, **kw) -> Calibration:
    return Calibration(offset_db=offset_db, n_points=100, sigma_l_db=7.0, **kw)


# --- blankspot calibrate ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def scene_files(tmp_path_factory) -> dict[str, Path]:
    return write_calibration_scene(tmp_path_factory.mktemp("scene"))


@pytest.fixture(scope="module")
def cli_run(scene_files):
    folder = scene_files["scenario.toml"].parent
    out = folder / "calibration.toml"
    res = CliRunner().invoke(main, [
        "calibrate", "--scenario", str(scene_files["scenario.toml"]),
        "--measurements", str(scene_files["measurements.csv"]),
        "--landcover", str(scene_files["landcover.tif"]), "--k", "4",
        "--out", str(out), "--report-dir", str(folder / "report"),
    ])  # fmt: skip
    return res, out, folder / "report"


def test_cli_recovers_offset_forest_loss_and_sigma(cli_run):
    res, out, _report = cli_run
    assert res.exit_code == 0, res.output
    cal = read_calibration(out)
    assert cal.offset_db == pytest.approx(SCENE_OFFSET_DB, abs=1.0)
    assert cal.terminal_loss_db[10] == pytest.approx(SCENE_FOREST_LOSS_DB, abs=1.5)
    assert cal.sigma_l_db == pytest.approx(SCENE_SIGMA_L_DB, abs=1.0)
    assert cal.fitted == ("offset_db", "terminal_loss_db.10") and cal.cv_folds == 4
    for text in ("offset", "tree_cover", "sigma_L", "before", "after (CV)", "RMSE", "±6dB",
                 "landcover", "distance", "location margin"):  # fmt: skip
        assert text in res.output


def test_cli_cross_validated_rmse_falls_to_the_noise(cli_run):
    _res, out, _report = cli_run
    cal = read_calibration(out)
    before, after = cal.stat("before"), cal.stat("after_cv")
    assert before["rmse_db"] > 11.0
    assert after["rmse_inliers_db"] == pytest.approx(SCENE_SIGMA_L_DB, abs=1.0)
    noise = math.sqrt(SCENE_SIGMA_L_DB**2 + SCENE_OUTLIER_SHARE * SCENE_OUTLIER_DB**2)
    assert after["rmse_db"] == pytest.approx(noise, abs=1.0)
    assert abs(after["mean_error_db"]) < 1.0
    for site in "ABCD":
        assert abs(cal.stat("after_cv", "site", site)["mean_error_db"]) < 1.5


def test_cli_writes_the_residual_plot_and_tables(cli_run):
    _res, _out, report = cli_run
    assert (report / "residuals.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    stats = (report / "statistics.csv").read_text()
    assert "after_cv" in stats and "10 tree_cover" in stats
    header = (report / "points.csv").read_text().splitlines()[0]
    for col in ("residual_db", "residual_cv_db", "calibrated_rsrp_dbm", "lon", "lat"):
        assert col in header


def test_cli_map_reads_the_points_of_a_calibration_report(cli_run, tmp_path):
    from blankspot.cli import _residual_points

    _res, _out, report = cli_run
    pts = _residual_points(report / "points.csv")
    assert len(pts) > 2000 and pts.crs.to_epsg() == 4326 and "residual_db" in pts
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\n")
    with pytest.raises(SchemaError, match="lacks column"):
        _residual_points(bad)


def test_cli_errors_exit_without_traceback(scene_files, tmp_path):
    runner = CliRunner()
    scenario = scene_files["scenario.toml"]
    los = tmp_path / "los.toml"
    los.write_text(scenario.read_text().replace('model = "itm"', 'model = "los"')
                   .replace('"dem.tif"', json.dumps(str(scene_files["dem.tif"])))
                   .replace('"sites.csv"', json.dumps(str(scene_files["sites.csv"]))))
    res = runner.invoke(main, ["calibrate", "--scenario", str(los), "--measurements",
                               str(scene_files["measurements.csv"])])  # fmt: skip
    assert res.exit_code == 2 and "Traceback" not in res.output and "'itm'" in res.output
    nosites = tmp_path / "nosites.toml"
    nosites.write_text("\n".join(line for line in los.read_text().replace(
        'model = "los"', 'model = "itm"').splitlines() if not line.startswith("sites")))
    res = runner.invoke(main, ["calibrate", "--scenario", str(nosites), "--measurements",
                               str(scene_files["measurements.csv"])])  # fmt: skip
    assert res.exit_code == 2 and "names no sites" in res.output
    res = runner.invoke(main, ["calibrate", "--scenario", str(scenario), "--measurements",
                               str(scene_files["measurements.csv"]), "--classes", "ten"])
    assert res.exit_code == 2 and "--classes" in res.output


# --- the engine ---------------------------------------------------------------------------------
def _one_site(t):
    s = cell_centre(t, 32, 32)
    return sites_frame(["A"], [s[0]], [s[1]], 30.0, crs=t.crs)


def test_an_offset_raises_rsrp_by_as_much_everywhere():
    t = make_terrain("rough", size=64, seed=3)
    sites = _one_site(t)
    budget = LinkBudget()
    kw = {"budget": budget, "model": "itm", "radius_m": 900.0,
          "clutter": ClutterModel.uniform("tree")}  # fmt: skip
    plain = compute_coverage(t, sites, **kw)
    cal = compute_coverage(t, sites, calibration=_offset_only(6.0), **kw)
    a, b = plain.best_rsrp_dbm(), cal.best_rsrp_dbm()
    both = np.isfinite(a) & np.isfinite(b)
    assert both.sum() > 1000
    np.testing.assert_allclose(b[both], a[both] + 6.0, atol=1e-3)
    assert np.isfinite(b).sum() >= np.isfinite(a).sum()  # never a cell less
    assert "calibration" in cal.model


def test_the_sweep_reaches_the_cells_a_calibration_brings_within_the_cut():
    t = make_terrain("rough", size=64, seed=3)
    site = cell_centre(t, 32, 32)
    kw = {"model": "itm", "radius_m": 900.0, "clutter": ClutterModel.uniform("tree")}
    full = site_footprint(t, "A", *site, 30.0, **kw)  # no cut-off at all
    cut = float(np.nanpercentile(full.path_loss_db, 50))
    cal = site_footprint(t, "A", *site, 30.0, max_loss_db=cut, calibration=_offset_only(10.0),
                         **kw)  # fmt: skip
    expect = np.where(full.path_loss_db - 10.0 <= cut, full.path_loss_db - 10.0, np.nan)
    rows, cols = np.nonzero(np.isfinite(expect))
    got = cal.sample(rows + full.row_off, cols + full.col_off)
    np.testing.assert_allclose(got, expect[rows, cols], atol=1e-3)


def test_a_fitted_class_loss_replaces_p2108_for_that_class():
    t = make_terrain("flat")
    site = cell_centre(t, 32, 32)
    lc = np.full(t.shape, 30, np.int16)
    lc[:, 32:] = 10
    cal = Calibration(offset_db=0.0, terminal_loss_db={10: 18.0},
                      p2108_terminal_loss_db={10: 25.0794}, n_points=100)  # fmt: skip
    kw = {"model": "itm", "radius_m": 600.0, "clutter": lc}
    a = site_footprint(t, "A", *site, 30.0, **kw)
    b = site_footprint(t, "A", *site, 30.0, calibration=cal, **kw)
    assert float(b.sample(32, 50) - a.sample(32, 50)) == pytest.approx(18.0 - 25.0794, abs=1e-3)
    assert float(b.sample(32, 14) - a.sample(32, 14)) == pytest.approx(0.0, abs=1e-6)


def test_a_calibration_needs_itm():
    t = make_terrain("flat")
    with pytest.raises(UnitsError, match="'itm'"):
        site_footprint(t, "A", *cell_centre(t, 32, 32), 30.0, model="p1812",
                       calibration=_offset_only())  # fmt: skip
    with pytest.raises(ConfigError, match="'itm'"):
        CoverageSettings(model="p1812", calibration=_offset_only())
    with pytest.raises(UnitsError, match="calibration"):
        PlanConfig(model="los", calibration=_offset_only())


# --- the map ------------------------------------------------------------------------------------
def test_measurement_layer_and_legend_on_a_map():
    import folium

    from blankspot.reporting.maps import add_measurements

    t = make_terrain("flat")
    x, y = t.xy(np.array([10, 20, 30]), np.array([10, 20, 30]))
    pts = gpd.GeoDataFrame(
        {"rsrp_dbm": [-90.0, -100.0, -80.0], "predicted_rsrp_dbm": [-90.5, -85.0, -95.0],
         "residual_db": [0.5, -15.0, 15.0]},
        geometry=shapely.points(x, y), crs=t.crs,
    )  # fmt: skip
    fmap = add_measurements(folium.Map(location=(-1.8, 116.8)), pts)
    folium.LayerControl().add_to(fmap)
    page = fmap.get_root().render()
    assert page.count("blankspot-measurements-legend") == 1
    for residual in (0.5, -15.0, 15.0):  # white, red, blue
        assert residual_colour(residual) in page
    assert residual_colour(-15.0).startswith("#d") and residual_colour(15.0).startswith("#4")
    assert "<b>measured</b> -100.0 dBm" in page and "<b>residual</b> -15.0 dB" in page
    assert "3 points, mean +0.2 dB, 33% within ±6 dB" in page


# --- the cache key ------------------------------------------------------------------------------
def test_the_cache_key_changes_with_the_calibration(tmp_path):
    plain = CoverageSettings()
    assert "calibration" not in plain.key_parts()["options"]  # keys without one are unchanged
    six = CoverageSettings(calibration=_offset_only(6.0))
    five = CoverageSettings(calibration=_offset_only(5.0))
    keys = {input_key(s.key_parts()) for s in (plain, six, five)}
    assert len(keys) == 3
    # the same fitted values read from a file: the same key, whatever the file's statistics
    path = write_calibration(tmp_path / "c.toml", _offset_only(6.0))
    again = CoverageSettings(calibration=read_calibration(path))
    assert input_key(again.key_parts()) == input_key(six.key_parts())
    assert six.key_parts()["options"]["calibration"].sha256 == \
        read_calibration(path).correction().sha256  # fmt: skip


# --- a scenario naming a calibration ------------------------------------------------------------
def _scenario(tmp_path: Path, radio: str, data: str = "") -> Path:
    path = tmp_path / "s.toml"
    path.write_text(f"[data]\n{data}\n[radio]\n{radio}\n")
    return path


def test_bad_calibration_files_are_listed_at_once(tmp_path):
    path = _scenario(tmp_path, 'calibration = "none-such.toml"', 'sites = "missing.csv"')
    with pytest.raises(DataError) as exc:
        run(path)
    msg = str(exc.value)
    assert "none-such.toml" in msg and "missing.csv" in msg
    bad = tmp_path / "bad.toml"
    bad.write_text('[calibration]\nformat_version = 1\nmodel = "p1812"\noffset_db = "six"\n')
    path = _scenario(tmp_path, 'calibration = "bad.toml"\nmodel = "p1812"')
    with pytest.raises(ConfigError) as exc:
        run(path)
    msg = str(exc.value)
    for part in ("model = 'p1812'", "'p1812' is not one", "offset_db must be a number",
                 "lacks 'n_points'"):  # fmt: skip
        assert part in msg
    write_calibration(tmp_path / "c.toml", _offset_only(freq_mhz=900.0))
    path = _scenario(tmp_path, 'calibration = "c.toml"\nfreq_mhz = 1800.0')
    with pytest.raises(ConfigError, match="fitted at 900 MHz, but freq_mhz = 1800"):
        run(path)


def test_the_calibration_path_is_taken_from_the_scenario_folder(tmp_path):
    write_calibration(tmp_path / "c.toml", _offset_only(6.0))
    spec = ScenarioSpec.from_toml(_scenario(tmp_path, 'calibration = "c.toml"'))
    assert Path(spec.calibration) == tmp_path / "c.toml"
    assert spec.to_plan_config().calibration.offset_db == pytest.approx(6.0)
    assert spec.to_plan_config().coverage_settings().calibration is not None


@pytest.mark.paser
def test_a_calibrated_scenario_runs_and_names_its_calibration(paser_data_dir, tmp_path):
    path = write_calibration(tmp_path / "calibration.toml", _offset_only(6.0))
    base = {
        "data": {"bounds": list(WINDOW), "data_dir": str(paser_data_dir)},
        "radio": {"radius_m": 8_000.0, "evaluate_at": "raster"},  # every footprint stored
        "demand": {"targets": [SEGENDANG]},
        "siting": {"n_high_points": 8, "grid_spacing_m": 3_000.0, "certify": False,
                   "stability_threshold_db": "none"},
    }  # fmt: skip
    cache = tmp_path / "footprints"
    plain = run(ScenarioSpec.from_dict(base), cache_dir=cache)
    base["radio"]["calibration"] = str(path)
    r = run(ScenarioSpec.from_dict(base), cache_dir=cache)
    assert "calibration" in r.plan.coverage.model
    # no footprint of the uncalibrated run is reused; a rerun reuses all of its own
    assert r.plan.footprint_cache["misses"] == len(r.plan.sites)
    assert run(ScenarioSpec.from_dict(base), cache_dir=cache).plan.footprint_cache["misses"] == 0
    assert r.people_covered >= plain.people_covered  # 6 dB more signal covers no one less
    paths = r.write(tmp_path / "out")
    prov = json.loads(paths["provenance.json"].read_text())
    meta = json.loads(paths["metadata.json"].read_text())
    sha = r.input_files["calibration"]["sha256"]
    assert prov["input_files"]["calibration"]["path"] == str(path)
    assert prov["calibration"]["sha256"] == sha and prov["calibration"]["offset_db"] == 6.0
    assert meta["parameter"]["calibration"]["path"] == str(path)
    assert meta["parameter"]["calibration"]["sha256"] == sha
    assert meta["parameter"]["calibration"]["offset_db"] == 6.0
    # the plan's map with measurements around the first tower
    tower = r.plan.sites.loc[[str(r.ranking["site_id"].iloc[0])]]
    x0, y0 = float(tower.geometry.x.iloc[0]), float(tower.geometry.y.iloc[0])
    pts = gpd.GeoDataFrame(
        {"rsrp_dbm": [-90.0, -100.0, -80.0], "predicted_rsrp_dbm": [-90.5, -85.0, -95.0],
         "residual_db": [0.5, -15.0, 15.0], "site_id": ["<b>x</b>"] * 3},
        geometry=shapely.points([x0 + 500, x0 - 800, x0], [y0, y0, y0 + 900]), crs=tower.crs,
    )  # fmt: skip
    page = r.explore(measurements=pts).get_root().render()
    assert "blankspot-measurements-legend" in page and "measured − predicted" in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    # the same from the command line, on the output folder
    wgs = pts.to_crs("EPSG:4326")
    csv = tmp_path / "points.csv"
    pts.drop(columns="geometry").assign(lon=wgs.geometry.x, lat=wgs.geometry.y).to_csv(csv)
    res = CliRunner().invoke(main, ["map", str(tmp_path / "out"), "--measurements", str(csv),
                                    "--data-dir", str(paser_data_dir),
                                    "--out", str(tmp_path / "m.html")])  # fmt: skip
    assert res.exit_code == 0, res.output
    page = (tmp_path / "m.html").read_text(encoding="utf-8")
    assert "blankspot-measurements-legend" in page
    assert '"Measurements: measured \\u2212 predicted" : feature_group' in page  # in the control
