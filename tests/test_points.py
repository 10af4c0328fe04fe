"""Exact point paths: the batched kernel against p2p_tls on terrain_profile, the coverage
function against predict_at_points, the matrix against raster mode, and bad inputs."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from blankspot.aggregate import build_coverage_matrix, matrix_from_point_losses
from blankspot.calibration import Calibration, predict_at_points
from blankspot.clutter import ClutterModel
from blankspot.config import PlanConfig
from blankspot.coverage import compute_coverage, point_path_loss, site_footprint
from blankspot.diagnostics import terrain_profile
from blankspot.errors import ConfigError, InputError, SchemaError, UnitsError
from blankspot.propagation import points as pp
from blankspot.propagation.antenna import Sector, elevation_angle_deg
from blankspot.propagation.budget import LinkBudget
from blankspot.propagation.itm import make_pfl, p2p_tls
from blankspot.propagation.models import free_space_loss_db
from blankspot.propagation.radial import ItmParams
from blankspot.settings import CoverageSettings
from blankspot.testing import cell_centre, make_terrain, sites_frame

PARAMS = ItmParams()


def random_points(t, n, seed):
    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = t.bounds
    return rng.uniform(xmin, xmax, n), rng.uniform(ymin, ymax, n)


def slow_itm(t, site, h_tx, x, y, params=PARAMS, h_rx=1.5, f_mhz=900.0):
    """The slow twin: terrain_profile, make_pfl, p2p_tls, one path at a time."""
    d, h = terrain_profile(t, site, (x, y))
    r = p2p_tls(h_tx, h_rx, make_pfl(h, float(d[1])), params.climate, params.n0, f_mhz,
                params.pol, params.epsilon, params.sigma, params.mdvar, params.time_pct,
                params.location_pct, params.situation_pct)  # fmt: skip
    angle = float(elevation_angle_deg(h[0] + h_tx, h, float(d[1]), rx_height_agl_m=h_rx))
    return r.loss_db, angle


# --- the kernel ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["rough", "two_valleys", "knife_edge", "tilted_plane"])
def test_kernel_is_p2p_tls_on_terrain_profile_bit_for_bit(kind):
    t = make_terrain(kind, seed=4)
    site = cell_centre(t, 30.3, 33.7)
    px, py = random_points(t, 40, seed=len(kind))
    params = ItmParams(climate=5, n0=320.0, pol=0, epsilon=25.0, sigma=0.02, time_pct=90.0,
                       location_pct=30.0, situation_pct=70.0)  # fmt: skip
    out = pp.point_path_loss(t, *site, 25.0, px, py, freq_mhz=1800.0, itm_params=params,
                             rx_height_agl_m=2.0)  # fmt: skip
    for i in range(px.size):
        loss, angle = slow_itm(t, site, 25.0, px[i], py[i], params, h_rx=2.0, f_mhz=1800.0)
        assert out.loss_db[i] == loss
        assert out.elevation_deg[i] == pytest.approx(angle, abs=1e-9)
    assert out.distance_m == pytest.approx(np.hypot(px - site[0], py - site[1]))


def test_parallel_kernel_gives_the_same_bits():
    t = make_terrain("rough", seed=2)
    px, py = random_points(t, 64, seed=9)
    site = cell_centre(t, 20, 40)
    serial = pp.point_path_loss(t, *site, 30.0, px, py)
    parallel = pp.point_path_loss(t, *site, 30.0, px, py, parallel=True)
    assert serial.loss_db.tobytes() == parallel.loss_db.tobytes()
    assert serial.elevation_deg.tobytes() == parallel.elevation_deg.tobytes()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.floats(0.0, 63.0), st.floats(0.0, 63.0)), min_size=1, max_size=8),
       st.floats(2.0, 80.0))  # fmt: skip
def test_a_point_gets_the_same_loss_alone_or_in_any_batch(cells, h_tx):
    """Each path depends on its own point only: a point computed alone, or with others in any
    order, gets the same bits."""
    t = make_terrain("rough", seed=1)
    site = cell_centre(t, 31.5, 32.25)
    x, y = t.xy(np.array([c[0] for c in cells]), np.array([c[1] for c in cells]))
    batch = pp.point_path_loss(t, *site, h_tx, x, y)
    rev = pp.point_path_loss(t, *site, h_tx, x[::-1], y[::-1])
    np.testing.assert_array_equal(batch.loss_db, rev.loss_db[::-1])
    for i in range(len(cells)):
        alone = pp.point_path_loss(t, *site, h_tx, x[i : i + 1], y[i : i + 1])
        np.testing.assert_array_equal(alone.loss_db, batch.loss_db[i : i + 1])


def test_los_is_free_space_where_visible_and_nothing_behind_a_wall():
    t = make_terrain("flat")
    x, y = cell_centre(t, 32, 32)
    d = np.array([100.0, 450.0, 900.0])
    out = pp.point_path_loss(t, x, y, 30.0, x + d, np.full(3, y), model="los")
    assert out.loss_db == pytest.approx(free_space_loss_db(d, 900.0), abs=1e-9)
    # flat ground: the path leaves toward the receiver, 28.5 m below over d (and the curvature)
    assert out.elevation_deg == pytest.approx(np.degrees(np.arctan(-28.5 / d)), abs=0.01)
    wall = make_terrain("knife_edge")  # a 200 m wall 8 cells east of the site
    x, y = cell_centre(wall, 32, 32)
    out = pp.point_path_loss(wall, x, y, 30.0, x + np.array([150.0, 400.0]), np.full(2, y),
                             model="los")  # fmt: skip
    assert np.isfinite(out.loss_db[0]) and np.isnan(out.loss_db[1])
    itm = pp.point_path_loss(wall, x, y, 30.0, x + np.array([400.0]), np.array([y]))
    assert itm.loss_db[0] > free_space_loss_db(400.0, 900.0) + 10.0  # diffraction loss


def test_nodata_on_the_path_gives_no_loss():
    t = make_terrain("nodata_hole")
    rows, cols = np.nonzero(t.nodata_mask)
    r, c = int(rows.mean()), int(cols.mean())
    x0, y0 = cell_centre(t, r, 2)
    xs, ys = t.xy(np.array([r, 2]), np.array([t.shape[1] - 2, 12]))
    out = pp.point_path_loss(t, x0, y0, 30.0, xs, ys)
    assert np.isnan(out.loss_db[0]) and np.isfinite(out.loss_db[1])  # across the hole, beside it
    assert c > 12


def test_kernel_inputs_are_checked_at_once():
    t = make_terrain("flat")
    x, y = cell_centre(t, 32, 32)
    with pytest.raises(ConfigError, match="p1812"):
        pp.point_path_loss(t, x, y, 30.0, [x + 100], [y], model="p1812")
    with pytest.raises(UnitsError) as exc:
        pp.point_path_loss(t, x, y, -1.0, [x, x], [y], model="okumura")
    msg = str(exc.value)
    assert "'okumura'" in msg and "height_agl_m" in msg and "1-D arrays of one length" in msg
    with pytest.raises(InputError, match="outside the terrain"):
        pp.point_path_loss(t, x, y, 30.0, [x + 1e6], [y])
    with pytest.raises(UnitsError, match="finite"):
        pp.point_path_loss(t, x, y, 30.0, [np.nan], [y])


# --- the coverage function -------------------------------------------------------------------


def scene():
    t = make_terrain("rough", size=64, seed=3)
    lc = np.full(t.shape, 30, np.int16)
    lc[:, 32:] = 10
    sx, sy = cell_centre(t, 32.4, 31.2)
    sites = sites_frame(["A", "B"], [sx, sx - 600.0], [sy, sy + 300.0], [30.0, 45.0], crs=t.crs)
    return t, lc, sites


def test_points_are_predict_at_points_with_clutter_and_calibration():
    t, lc, sites = scene()
    px, py = random_points(t, 60, seed=5)
    cal = Calibration(offset_db=3.0, slope_db_per_decade=2.0, terminal_loss_db={10: 18.0},
                      p2108_terminal_loss_db={10: 25.0}, n_points=10, sigma_l_db=6.0)  # fmt: skip
    clutter = ClutterModel.paser().with_landcover(lc)
    loss = point_path_loss(t, sites, np.column_stack([px, py]), clutter=clutter, calibration=cal,
                           max_loss_db=300.0, radius_m=3000.0).toarray()  # fmt: skip
    pts = gpd.GeoDataFrame(geometry=shapely.points(px, py), crs=t.crs)
    for j, sid in enumerate(sites.index):
        p = predict_at_points(t, sites, pts, site_id=sid, landcover=lc)
        want = cal.correction().apply(p["path_loss_db"].to_numpy(float),
                                      p["distance_m"].to_numpy(float),
                                      p["landcover_class"].fillna(-1).to_numpy(np.int64))  # fmt: skip
        inside = p["distance_m"].to_numpy() <= 3000.0
        got = loss[:, j]
        assert (got[~inside] == 0).all()  # beyond the radius: no entry
        assert got[inside] == pytest.approx(want[inside], abs=1e-6)


def test_points_follow_the_raster_at_cell_centres():
    """At cell centres the exact path and the radial sweep are the same model: close, not equal
    (the sweep approximates the start of each path by its radial)."""
    t, _, sites = scene()
    rng = np.random.default_rng(2)
    rows, cols = rng.integers(2, 62, 80), rng.integers(2, 62, 80)
    x, y = t.xy(rows, cols)
    clutter = ClutterModel.uniform("tree")
    loss = point_path_loss(t, sites, np.column_stack([x, y]), clutter=clutter, radius_m=1500.0,
                           max_loss_db=300.0)  # fmt: skip
    cov = compute_coverage(t, sites, model="itm", clutter=clutter, radius_m=1500.0,
                           max_loss_db=300.0)  # fmt: skip
    for j, fp in enumerate(cov.footprints):
        raster = fp.sample(rows, cols).astype(float)
        got = loss[:, [j]].toarray().ravel()
        both = np.isfinite(raster) & (got > 0)
        assert both.sum() > 20
        assert np.median(np.abs(got[both] - raster[both])) < 1.0
        assert (np.isfinite(raster) == (got > 0)).mean() > 0.9


def test_los_points_with_an_antenna_match_the_raster_on_flat_ground():
    t = make_terrain("flat")
    x0, y0 = cell_centre(t, 32, 32)
    sites = sites_frame(["A"], [x0], [y0], [30.0], crs=t.crs)
    east = Sector(azimuth_deg=90.0)
    rows, cols = np.meshgrid(np.arange(20, 45, 3), np.arange(20, 45, 3), indexing="ij")
    rows, cols = rows.ravel(), cols.ravel()
    keep = (rows != 32) | (cols != 32)
    rows, cols = rows[keep], cols[keep]
    x, y = t.xy(rows, cols)
    got = point_path_loss(t, sites, np.column_stack([x, y]), model="los", radius_m=600.0,
                          antennas={"A": east}).toarray().ravel()  # fmt: skip
    fp = site_footprint(t, "A", x0, y0, 30.0, radius_m=600.0, antenna=east)
    want = fp.sample(rows, cols).astype(float)
    assert np.isfinite(want).all() and (got > 0).all()
    assert got == pytest.approx(want, abs=0.02)
    behind = cols < 32
    plain = point_path_loss(t, sites, np.column_stack([x, y]), model="los",
                            radius_m=600.0).toarray().ravel()  # fmt: skip
    assert (got - plain)[behind] == pytest.approx(25.0, abs=1e-6)  # front-to-back


def test_the_cut_and_the_radius_leave_points_out():
    t, _, sites = scene()
    px, py = random_points(t, 50, seed=8)
    xy = np.column_stack([px, py])
    full = point_path_loss(t, sites, xy, max_loss_db=300.0, radius_m=5000.0).toarray()
    cut = point_path_loss(t, sites, xy, max_loss_db=110.0, radius_m=5000.0).toarray()
    assert ((cut > 0) == ((full > 0) & (full <= 110.0))).all()
    off = np.vstack([xy, [[t.bounds[2] + 500.0, py[0]]]])  # one point off the terrain
    out = point_path_loss(t, sites, off, max_loss_db=300.0, radius_m=5000.0)
    assert out.shape == (51, 2) and out[[50], :].nnz == 0


def test_coverage_inputs_are_checked_at_once():
    t, _, sites = scene()
    xy = np.array([[t.bounds[0] + 100.0, t.bounds[3] - 100.0]])
    with pytest.raises(ConfigError, match="p1812"):
        point_path_loss(t, sites, xy, model="p1812")
    with pytest.raises(UnitsError) as exc:
        point_path_loss(t, sites, [1.0, 2.0], model="los", clutter=ClutterModel.uniform("tree"),
                        radius_m=-5.0)  # fmt: skip
    msg = str(exc.value)
    assert "(n, 2)" in msg and "radius_m" in msg and "clutter" in msg
    bad = sites.copy()
    bad["height_agl_m"] = -1.0
    with pytest.raises(SchemaError, match="height_agl_m"):
        point_path_loss(t, bad, xy)


# --- settings, matrix, plan ------------------------------------------------------------------


def test_settings_choice_and_key():
    raster = CoverageSettings()
    points = CoverageSettings(evaluate_at="points")
    assert "evaluate_at" not in raster.key_parts()  # raster keys are unchanged
    assert points.key_parts()["evaluate_at"] == "points"
    with pytest.raises(ConfigError, match="evaluate_at must be one of"):
        CoverageSettings(evaluate_at="grid")
    with pytest.raises(ConfigError, match=r"P\.1812"):
        CoverageSettings(model="p1812", evaluate_at="points")
    with pytest.raises(UnitsError, match="evaluate_at"):
        PlanConfig(evaluate_at="cells")
    with pytest.raises(UnitsError, match="evaluate_at='raster' with coverage='probability'"):
        PlanConfig(evaluate_at="points", coverage="probability")
    assert PlanConfig(evaluate_at="points").coverage_settings().evaluate_at == "points"
    assert points.label(90.0) == (
        "ITM (Longley-Rice), siting on exact paths to the demand points, 90 m terrain"
    )
    assert "exact paths" not in raster.label()


def test_matrix_from_point_losses_reads_each_budget():
    t, _, sites = scene()
    px, py = random_points(t, 80, seed=11)
    cells = gpd.GeoDataFrame({"village_id": ["v"] * 80, "population": np.ones(80)},
                             geometry=shapely.points(px, py), crs=t.crs)  # fmt: skip
    loss = point_path_loss(t, sites, np.column_stack([px, py]), radius_m=2000.0)
    for threshold in (-95.0, -105.0, -115.0):
        budget = LinkBudget(threshold_dbm=threshold)
        m = matrix_from_point_losses(loss, cells, sites.index, budget=budget).matrix.toarray()
        dense = loss.toarray()
        assert (m == ((dense > 0) & (dense <= budget.max_path_loss_db))).all()
    with pytest.raises(SchemaError, match="rows"):
        matrix_from_point_losses(loss, cells.iloc[:5], sites.index, budget=LinkBudget())


def test_plan_in_points_mode_agrees_with_raster_mode(paser_data_dir, small_plan):
    """Segendang window, 8 km radius, people spread over 250 m cells (1,319 demand points): the
    same candidates and demand, losses at the points."""
    from blankspot.plan import plan_paser
    from paser_window import SEGENDANG, WINDOW

    uniform = small_plan.config.replace(demand_model="uniform")
    raster = plan_paser(paser_data_dir, config=uniform, bounds=WINDOW, village_ids=[SEGENDANG])
    r = plan_paser(paser_data_dir, config=uniform.replace(evaluate_at="points"),
                   bounds=WINDOW, village_ids=[SEGENDANG])  # fmt: skip
    assert r.settings.evaluate_at == "points"
    assert list(r.sites.index) == list(raster.sites.index)
    a, b = raster.matrix.matrix.toarray(), r.matrix.matrix.toarray()
    assert a.shape == b.shape and a.sum() > 1000
    assert (a != b).mean() < 0.05  # measured 1.4 % of demand × site entries
    assert (a.any(axis=1) != b.any(axis=1)).mean() < 0.02  # measured 0.3 % of the points
    assert abs(r.people_covered - raster.people_covered) < 0.05 * raster.people_covered
    # the chosen towers still get full raster footprints for the maps
    assert len(r.coverage.footprints) == len(r.ranking)
    raster_cov = build_coverage_matrix(r.coverage, r.demand)
    assert raster_cov.matrix.shape[0] == len(r.demand)


def test_auto_takes_points_where_the_model_has_them():
    assert PlanConfig().evaluate_at == "auto"
    assert PlanConfig().coverage_settings().evaluate_at == "points"
    assert PlanConfig(model="los").coverage_settings().evaluate_at == "points"
    # P.1812 has no exact point paths yet, and probabilities come from the footprints
    assert PlanConfig(model="p1812").coverage_settings().evaluate_at == "raster"
    assert PlanConfig(coverage="probability").coverage_settings().evaluate_at == "raster"
    assert PlanConfig(evaluate_at="raster").coverage_settings().evaluate_at == "raster"
    with pytest.raises(UnitsError, match="'auto', 'points' or 'raster'"):
        PlanConfig(evaluate_at="cells")


@pytest.mark.paser
def test_points_mode_tables_read_the_losses_the_matrix_read(paser_data_dir):
    """On exact paths the matrix, the desa table (share, served, RSRP at the main settlement)
    and why_not.csv take the same losses: what a planner reads is what the solver counted."""
    import pandas as pd

    from blankspot.aggregate import PointCoverage
    from blankspot.io.inputs import InputSpec, read_inputs
    from blankspot.plan import plan_paser
    from blankspot.reporting.tables import main_settlements
    from paser_window import SEGENDANG, SMALL, WINDOW

    full = SMALL.replace(demand_model="uniform")  # five towers
    one = full.replace(budget_idr=1_700_000_000)  # one tower: Segendang not served
    terrain = read_inputs(InputSpec(data_dir=paser_data_dir, bounds=WINDOW), full).terrain
    r = plan_paser(paser_data_dir, config=full, bounds=WINDOW, village_ids=[SEGENDANG])
    assert r.settings.evaluate_at == "points" and len(r.ranking) == 5
    chosen = [list(r.matrix.site_ids).index(s) for s in r.solution.site_ids]
    covered = np.asarray(r.matrix.matrix[:, chosen].sum(axis=1)).ravel() > 0
    pop = r.demand["population"].to_numpy()
    share = pop[covered].sum() / pop.sum()
    row = r.desa.set_index("kode").loc[SEGENDANG]
    assert float(row["share_covered"]) == pytest.approx(share, abs=1e-4)
    assert row["served"] == ("yes" if share >= full.served_share else "no")
    # the RSRP at the main settlement is the exact path's, from the strongest chosen tower
    cells = r.demand.reset_index(drop=True)
    main = int(main_settlements(cells)[SEGENDANG])
    losses = PointCoverage.compute(terrain, r.sites.loc[list(r.solution.site_ids)],
                                 cells.iloc[[main]], r.settings)
    want = float(r.settings.link.rsrp_dbm(np.nanmin(losses.dense_db()[0])))
    assert float(row["rsrp_main_dbm"]) == pytest.approx(want, abs=0.05)
    r = plan_paser(paser_data_dir, config=one, bounds=WINDOW, village_ids=[SEGENDANG])
    assert r.why_not["served"].tolist() == [False]
    # why not served: the RSRP of the best candidate on the exact path to the settlement
    w = r.why_not.iloc[0]
    pt = gpd.GeoSeries(gpd.points_from_xy([w["settlement_lon"]], [w["settlement_lat"]]),
                       crs="EPSG:4326").to_crs(terrain.crs)
    site = r.sites.loc[[w["best_site_id"]]]
    loss = r.settings.point_losses(terrain, site, [[pt.x.iloc[0], pt.y.iloc[0]]])
    assert loss.nnz == 1 and pd.notna(w["rsrp_dbm"])
    got = float(r.settings.link.rsrp_dbm(loss.toarray()[0, 0]))
    assert float(w["rsrp_dbm"]) == pytest.approx(got, abs=0.5)  # lon/lat kept to 1e-6°


def test_why_not_in_points_mode_reads_the_exact_path(paser_data_dir, small_plan):
    """With evaluate_at="points" an unserved desa's RSRP is its exact path's, as the siting
    matrix took it, not a footprint's cell (no footprint of an unchosen site is computed)."""
    from blankspot.io.inputs import InputSpec, read_inputs
    from blankspot.plan import plan_paser
    from paser_window import SEGENDANG, WINDOW

    config = small_plan.config.replace(demand_model="uniform", evaluate_at="points",
                                       budget_idr=200_000_000)  # below any tower: none built
    r = plan_paser(paser_data_dir, config=config, bounds=WINDOW, village_ids=[SEGENDANG])
    row = r.why_not.set_index("kode").loc[SEGENDANG]
    assert not row["served"] and not row["best_site_chosen"] and row["profile"]
    lonlat = r.demand.geometry.to_crs("EPSG:4326")
    k = np.flatnonzero(np.isclose(lonlat.x, row["settlement_lon"], atol=1e-6)
                       & np.isclose(lonlat.y, row["settlement_lat"], atol=1e-6))[:1]
    assert k.size == 1
    terrain = read_inputs(InputSpec(data_dir=paser_data_dir, bounds=WINDOW), config).terrain
    xy = np.column_stack([r.demand.geometry.x.to_numpy(), r.demand.geometry.y.to_numpy()])[k]
    loss = r.settings.point_losses(terrain, r.sites.loc[[row["best_site_id"]]], xy)
    assert loss.nnz == 1
    assert row["rsrp_dbm"] == round(float(r.settings.link.rsrp_dbm(loss[0, 0])), 1)


def test_a_land_cover_code_unknown_at_a_point_is_refused():
    t, lc, sites = scene()
    lc = lc.copy()
    px, py = random_points(t, 5, seed=9)
    r, c = np.rint(t.rowcol(px[:1], py[:1])).astype(int)
    lc[r[0], c[0]] = 99  # not a class of the model
    with pytest.raises(InputError, match="99"):
        point_path_loss(t, sites, np.column_stack([px, py]),
                        clutter=ClutterModel.paser().with_landcover(lc), radius_m=3000.0)
