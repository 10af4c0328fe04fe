"""Calibration against synthetic measurements made from blankspot's own prediction.

There are no real measurements in the repository. The measurements are made from
:func:`predict_at_points` itself with known parameters, and the calibration must find them:

- an offset of +6 dB (measured stronger than predicted),
- a forest (WorldCover 10) terminal loss of 18 dB instead of P.2108's 25.1 dB (20 m canopy,
  900 MHz, 1.5 m handset),
- log-normal location variability of σ_L = 7 dB,
- 3 % outliers 25 dB too strong.

Tolerances (about 4 standard errors of each fitted value with ~2900 points): offset ± 1 dB,
forest loss ± 1.5 dB, σ_L ± 1 dB, distance slope (true 0) ± 2 dB/decade; the cross-validated
RMSE falls from its uncalibrated value (~13 dB) to within 1 dB of σ_L without the outliers
(``rmse_inliers_db``) and to within 1 dB of the RMS of noise and outliers with them.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from blankspot.calibration import (
    Calibration,
    apply_calibration,
    calibrate,
    cross_validate,
    error_statistics,
    fit_calibration,
    measurements_layer,
    plot_residuals,
    predict_at_points,
    predict_calibrated,
    read_calibration,
    residual_colour,
    write_calibration,
)
from blankspot.clutter import terminal_loss_db
from blankspot.errors import DataError, SchemaError, UnitsError
from blankspot.io.vectors import sites_frame
from blankspot.testing import (
    SCENE_FOREST_LOSS_DB,
    SCENE_OFFSET_DB,
    SCENE_OUTLIER_DB,
    SCENE_OUTLIER_SHARE,
    SCENE_SIGMA_L_DB,
    cell_centre,
    make_calibration_scene,
    make_terrain,
)

TRUE_OFFSET_DB = SCENE_OFFSET_DB
TRUE_FOREST_LOSS_DB = SCENE_FOREST_LOSS_DB
SIGMA_L_DB = SCENE_SIGMA_L_DB
OUTLIER_SHARE = SCENE_OUTLIER_SHARE
OUTLIER_DB = SCENE_OUTLIER_DB


def make_scene() -> dict:
    """A 3.8 km square of rough terrain, 4 sites, forest and grass in 480 m blocks
    (:func:`blankspot.testing.make_calibration_scene`)."""
    return make_calibration_scene()


@pytest.fixture(scope="module")
def scene() -> dict:
    return make_scene()


@pytest.fixture(scope="module")
def cal(scene) -> Calibration:
    return calibrate(scene["points"], k=4)


# --- prediction ---------------------------------------------------------------------------
def test_prediction_is_the_coverage_engines_itm_with_clutter():
    from blankspot.coverage import site_footprint

    t = make_terrain("rough", size=64, seed=3)
    lc = np.full(t.shape, 30, np.int16)
    lc[:, 32:] = 10
    sx, sy = cell_centre(t, 32, 32)
    sites = sites_frame(["A"], [sx], [sy], 30.0, crs=t.crs)
    fp = site_footprint(t, "A", sx, sy, 30.0, model="itm", radius_m=2000.0, clutter=lc)
    rows = np.array([5, 10, 32, 50, 60, 20, 45])
    cols = np.array([5, 50, 60, 10, 32, 40, 3])
    x, y = t.xy(rows, cols)
    pts = gpd.GeoDataFrame(geometry=shapely.points(x, y), crs=t.crs)
    p = predict_at_points(t, sites, pts, site_id="A", landcover=lc)
    # the radial sweep's value at the cell centre, and the exact path: the same model
    assert p["path_loss_db"].to_numpy() == pytest.approx(fp.sample(rows, cols), abs=0.2)
    forest = p["landcover_class"].to_numpy() == 10
    assert p["terminal_loss_db"].to_numpy()[forest] == pytest.approx(
        float(terminal_loss_db(900.0, 1.5, 10)), abs=1e-4
    )
    assert (p["terminal_loss_db"].to_numpy()[~forest] == 0.0).all()
    assert p.attrs["freq_mhz"] == 900.0


def test_prediction_without_a_path_is_nan():
    t = make_terrain("flat")
    s = cell_centre(t, 32, 32)
    sites = sites_frame(["A"], [s[0]], [s[1]], 30.0, crs=t.crs)
    pts = gpd.GeoDataFrame(
        {"site_id": ["A", "Z", "A"]},
        geometry=shapely.points([s[0] + 300, s[0] + 300, s[0] + 9000], [s[1]] * 3),
        crs=t.crs,
    )
    p = predict_at_points(t, sites, pts)
    assert np.isfinite(p["predicted_rsrp_dbm"].iloc[0])
    assert p["predicted_rsrp_dbm"].iloc[1:].isna().all()  # unknown site, outside the grid
    assert p["landcover_class"].isna().all()  # no land cover: no class, no terminal loss


# --- recovering the known parameters ------------------------------------------------------
def test_recovers_offset_forest_loss_and_sigma(cal):
    assert cal.offset_db == pytest.approx(TRUE_OFFSET_DB, abs=1.0)
    assert cal.terminal_loss_db[10] == pytest.approx(TRUE_FOREST_LOSS_DB, abs=1.5)
    assert cal.p2108_terminal_loss_db[10] == pytest.approx(25.08, abs=0.01)
    assert cal.sigma_l_db == pytest.approx(SIGMA_L_DB, abs=1.0)
    assert cal.fitted == ("offset_db", "terminal_loss_db.10")
    assert cal.n_sites == 4 and cal.cv_folds == 4
    assert 0.0 < cal.standard_errors_db["offset_db"] < 0.5
    assert cal.location_margin_db(90.0) == pytest.approx(1.2816 * cal.sigma_l_db, rel=1e-3)


def test_cross_validated_rmse_falls_to_the_noise(cal, scene):
    before = cal.stat("before")
    after = cal.stat("after_cv")
    expected_all = math.sqrt(SIGMA_L_DB**2 + OUTLIER_SHARE * OUTLIER_DB**2)
    assert before["rmse_db"] > 11.0
    assert after["rmse_db"] < before["rmse_db"] - 4.0
    assert after["rmse_inliers_db"] == pytest.approx(SIGMA_L_DB, abs=1.0)
    assert after["rmse_db"] == pytest.approx(expected_all, abs=1.0)
    assert abs(after["mean_error_db"]) < 1.0
    assert after["within_6db_share"] > before["within_6db_share"] + 0.2
    # per group: the forest bias is gone out of sample
    assert cal.stat("before", "landcover", "10 tree_cover")["mean_error_db"] > 11.0
    assert abs(cal.stat("after_cv", "landcover", "10 tree_cover")["mean_error_db"]) < 1.5
    for site in "ABCD":
        assert abs(cal.stat("after_cv", "site", site)["mean_error_db"]) < 1.5


def test_distance_slope_of_a_model_without_one(scene):
    c = fit_calibration(scene["points"], fit_slope=True)
    assert c.slope_db_per_decade == pytest.approx(0.0, abs=2.0)
    assert c.offset_db == pytest.approx(TRUE_OFFSET_DB, abs=1.0)
    assert c.terminal_loss_db[10] == pytest.approx(TRUE_FOREST_LOSS_DB, abs=1.5)


def test_robust_loss_resists_outliers_where_least_squares_does_not(scene):
    robust = fit_calibration(scene["points"])
    ols = fit_calibration(scene["points"], loss="linear")
    bias_ols = ols.offset_db - TRUE_OFFSET_DB
    assert bias_ols > 0.5  # the +25 dB outliers drag ordinary least squares up
    assert abs(robust.offset_db - TRUE_OFFSET_DB) < bias_ols


def test_folds_are_grouped_by_site(scene):
    r_cv, folds = cross_validate(scene["points"], k=3, seed=1)
    sites = scene["points"]["site_id"].to_numpy()
    for s in "ABCD":
        assert len(set(folds[sites == s])) == 1  # a site lies in one fold
    assert len(set(folds.tolist())) == 3
    assert np.isfinite(r_cv).all()


def test_offset_and_class_losses_must_be_separable(scene):
    with pytest.raises(UnitsError, match="not separable"):
        fit_calibration(scene["points"], fit_classes=(10, 30))
    only = fit_calibration(scene["points"], fit_offset=False, fit_classes=(10, 30))
    assert only.offset_db == 0.0 and set(only.terminal_loss_db) == {10, 30}
    with pytest.raises(UnitsError, match="nothing to fit"):
        fit_calibration(scene["points"], fit_offset=False, fit_classes=())


def test_apply_calibration_matches_the_fitted_prediction(cal, scene):
    p = scene["points"]
    corrected = apply_calibration(
        p["path_loss_db"].to_numpy(), p["distance_m"].to_numpy(),
        p["landcover_class"].to_numpy(dtype=np.int64), cal,
    )  # fmt: skip
    rsrp = p.attrs["rsrp_offset_db"] - corrected
    assert rsrp == pytest.approx(predict_calibrated(p, cal))
    forest = p["landcover_class"].to_numpy() == 10
    shift = p["path_loss_db"].to_numpy() - corrected
    assert shift[~forest] == pytest.approx(np.full((~forest).sum(), cal.offset_db))
    assert shift[forest] == pytest.approx(
        np.full(forest.sum(), cal.offset_db + 25.0794 - cal.terminal_loss_db[10]), abs=1e-3
    )
    grid = apply_calibration(np.array([[120.0, np.nan]]), 1000.0, np.array([[30, 10]]), cal)
    assert grid[0, 0] == pytest.approx(120.0 - cal.offset_db) and np.isnan(grid[0, 1])
    with pytest.raises(UnitsError, match="land-cover class"):
        apply_calibration(120.0, 1000.0, None, cal)


def test_error_statistics_by_group():
    r = np.array([1.0, -1.0, 7.0, np.nan, 3.0])
    st = error_statistics(r, site_id=["a", "a", "b", "b", "b"], landcover_class=[10, 30, 10, 30, 30],
                          distance_m=[100.0, 600.0, 1500.0, 1500.0, 30_000.0])  # fmt: skip
    overall = st[st.group == "overall"].iloc[0]
    assert overall["n"] == 4
    assert overall["mean_error_db"] == pytest.approx(2.5)
    assert overall["rmse_db"] == pytest.approx(math.sqrt((1 + 1 + 49 + 9) / 4))
    assert overall["within_6db_share"] == pytest.approx(0.75)
    assert st[st.group == "site"]["key"].tolist() == ["a", "b"]
    assert st[st.group == "landcover"]["key"].tolist() == ["10 tree_cover", "30 grassland"]
    bands = st[st.group == "distance"]["key"].tolist()
    assert bands == ["0-0.5 km", "0.5-1 km", "1-2 km", ">20 km"]


# --- TOML ---------------------------------------------------------------------------------
def test_calibration_toml_round_trip(cal, tmp_path):
    path = write_calibration(tmp_path / "calibration.toml", cal)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calibration.toml"]  # no temp left
    text = path.read_text()
    assert "[calibration]" in text and "[[statistics]]" in text and 'model = "itm"' in text
    back = read_calibration(path)
    assert back.offset_db == pytest.approx(cal.offset_db, abs=1e-4)
    assert back.terminal_loss_db[10] == pytest.approx(cal.terminal_loss_db[10], abs=1e-4)
    assert back.p2108_terminal_loss_db == pytest.approx(cal.p2108_terminal_loss_db, abs=1e-4)
    assert back.sigma_l_db == pytest.approx(cal.sigma_l_db, abs=1e-4)
    assert (back.n_points, back.n_sites, back.cv_folds) == (cal.n_points, 4, 4)
    assert back.created == cal.created and back.fitted == cal.fitted
    assert back.stat("after_cv")["rmse_db"] == pytest.approx(cal.stat("after_cv")["rmse_db"],
                                                             abs=1e-3)  # fmt: skip
    assert back.class_names == {10: "tree_cover"}


def test_read_calibration_lists_every_problem(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_calibration(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[calibration\n")
    with pytest.raises(SchemaError, match="not valid TOML"):
        read_calibration(bad)
    bad.write_text(
        '[calibration]\nformat_version = 1\nmodel = "p1812"\noffset_db = "six"\n'
        "slope_db_per_decade = 0.0\nreference_distance_m = 0.0\nsigma_l_db = 7.0\n"
        '[calibration.terminal_loss_db]\n"10" = 18.0\nforest = 1.0\n'
    )
    with pytest.raises(SchemaError) as exc:
        read_calibration(bad)
    msg = str(exc.value)
    for part in ("lacks 'n_points'", "offset_db must be a number", "'p1812'",
                 "reference_distance_m must be > 0", "'forest' is not a class code",
                 "p2108_terminal_loss_db] lacks class(es) [10]"):  # fmt: skip
        assert part in msg


# --- showing it ---------------------------------------------------------------------------
def test_residual_plot_png(cal, scene, tmp_path):
    p = scene["points"]
    r_cv, _ = cross_validate(p, k=4)
    out = tmp_path / "residuals.png"
    fig = plot_residuals(p["distance_m"], p["residual_db"], r_cv, out_path=out,
                         sigma_l_db=cal.sigma_l_db, title="synthetic")  # fmt: skip
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["residuals.png"]
    assert len(fig.axes) == 2


def test_folium_layer_escapes_user_strings(scene):
    import folium

    p = scene["points"].iloc[:5].copy()
    p["site_id"] = ["<script>alert(1)</script>", "A", "B", "C", "D"]
    p["cell_id"] = ["c&d", None, None, None, None]
    layer = measurements_layer(p)
    m = folium.Map(location=(-1.8, 116.0))
    layer.add_to(m)
    html_text = m.get_root().render()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_text
    assert "<script>alert(1)</script>" not in html_text
    assert "c&amp;d" in html_text
    assert "residual" in html_text
    big = measurements_layer(scene["points"], max_points=50)
    assert len(big._children) == 50


def test_residual_colours():
    assert residual_colour(0.0) == "#f7f7f7"
    assert residual_colour(-30.0) == "#b2182b"  # weaker than predicted: red
    assert residual_colour(30.0) == "#2166ac"
    assert residual_colour(float("nan")) == "#999999"


def test_calibrate_end_to_end_from_a_file(tmp_path):
    """read_measurements -> link -> predict -> calibrate on a small flat scene."""
    from blankspot.measurements import link_measurements, read_measurements

    t = make_terrain("flat", size=64)
    s = cell_centre(t, 32, 32)
    sites = sites_frame(["A"], [s[0]], [s[1]], 30.0, crs=t.crs)
    rng = np.random.default_rng(0)
    x = s[0] + rng.uniform(-900, 900, 200)
    y = s[1] + rng.uniform(-900, 900, 200)
    far = np.hypot(x - s[0], y - s[1]) > 150
    pts = gpd.GeoDataFrame(geometry=shapely.points(x[far], y[far]), crs=t.crs)
    pred = predict_at_points(t, sites, pts, site_id="A")
    wgs = pts.to_crs("EPSG:4326")
    rsrp = pred["predicted_rsrp_dbm"].to_numpy() + 4.0 + rng.normal(0, 2.0, len(pts))
    csv = tmp_path / "drive.csv"
    pd.DataFrame({"lat": wgs.geometry.y.round(7), "lon": wgs.geometry.x.round(7),
                  "rsrp": rsrp.round(1)}).to_csv(csv, index=False)  # fmt: skip
    m = read_measurements(csv, sites=sites)
    linked = link_measurements(m, sites, terrain=t)
    assert (linked["site_link"] == "strongest_predicted").all()
    with pytest.warns(Warning, match="one site only"):
        c = calibrate(predict_at_points(t, sites, linked), k=5, fit_classes=())
    assert c.offset_db == pytest.approx(4.0, abs=0.5)
    assert c.sigma_l_db == pytest.approx(2.0, abs=0.5)
