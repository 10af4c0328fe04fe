"""The 2022 hindcast and why a target desa is not served (blankspot.hindcast)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from affine import Affine
from hypothesis import given
from hypothesis import strategies as st

from blankspot.aggregate import build_coverage_matrix
from blankspot.clutter import ClutterModel
from blankspot.config import PASER_TOWER_COST_IDR, PlanConfig
from blankspot.crs import PASER_CRS
from blankspot.hindcast import (
    OBSTACLES,
    WHY_NOT_COLUMNS,
    CandidatePool,
    candidate_pool,
    classify_obstacle,
    desa_shares,
    why_not,
)
from blankspot.io.vectors import sites_frame
from blankspot.propagation.budget import LinkBudget
from blankspot.settings import CoverageSettings
from blankspot.terrain import Terrain

RES_M = 90.0
SIZE = 140  # 12.6 km square


def _terrain(elev: np.ndarray) -> Terrain:
    return Terrain(elevation_m=elev.astype(np.float32),
                   transform=Affine(RES_M, 0.0, 480_000.0, 0.0, -RES_M, 9_800_000.0),
                   crs=PASER_CRS, nodata_mask=np.zeros(elev.shape, bool), source="test",
                   synthetic=True)


def _flat() -> np.ndarray:
    return np.full((SIZE, SIZE), 100.0)


def _ridge() -> np.ndarray:
    """Flat 100 m with a 400 m north-south ridge five cells wide at column 60."""
    elev = _flat()
    elev[:, 58:63] = 500.0
    return elev


def _scene(elev: np.ndarray, settings: CoverageSettings, *, site_col: int, desa_cols: range,
           chosen: tuple[str, ...] = (), tower_m: float = 30.0):
    """One site at row 70, one target desa "D1" of demand rows on row 70 at ``desa_cols``;
    the fake plan result and the pool why_not reads."""
    terrain = _terrain(elev)
    sx, sy = terrain.xy(70, site_col)
    sites = sites_frame(["s1"], [float(sx)], [float(sy)], [tower_m], crs=PASER_CRS,
                        cost_idr=[PASER_TOWER_COST_IDR])
    xs, ys = terrain.xy(np.full(len(desa_cols), 70), np.asarray(desa_cols))
    demand = gpd.GeoDataFrame({"village_id": "D1", "population": 10.0},
                              geometry=gpd.points_from_xy(xs, ys), crs=PASER_CRS,
                              index=pd.RangeIndex(len(desa_cols)))
    cov = settings.compute(terrain, sites)
    matrix = sp.csc_matrix(build_coverage_matrix(cov, demand, budget=settings.link).matrix,
                           dtype=np.float64)
    villages = gpd.GeoDataFrame({"name": ["Desa Satu"]}, index=pd.Index(["D1"], name="village_id"),
                                geometry=[demand.union_all().buffer(300)], crs=PASER_CRS)
    result = SimpleNamespace(settings=settings, config=PlanConfig(), demand=demand,
                             solution=SimpleNamespace(site_ids=chosen), villages=villages,
                             target_ids=("D1",),
                             coverage=cov if chosen else SimpleNamespace(site_ids=()))
    return result, terrain, CandidatePool(sites=sites, matrix=matrix, n_plan_sites=1)


def _why(elev, settings, **kw):
    result, terrain, pool = _scene(elev, settings, **kw)
    table, pngs = why_not(result, terrain, pool=pool)
    assert list(table.columns) == list(WHY_NOT_COLUMNS) and len(table) == 1
    return table.iloc[0], pngs, pool


NO_CLUTTER = CoverageSettings(model="itm", radius_m=15_000.0)


def test_a_ridge_between_site_and_settlement_is_terrain():
    row, pngs, _ = _why(_ridge(), NO_CLUTTER, site_col=20, desa_cols=range(100, 104))
    assert not row["served"] and row["share_covered"] == 0.0
    assert row["obstacle"] == "terrain" and row["los_obstructed"]
    assert row["rsrp_dbm"] < row["rsrp_needed_dbm"]
    assert row["best_site_id"] == "s1" and row["canopy_loss_db"] == 0.0
    assert pngs["D1"][:8] == b"\x89PNG\r\n\x1a\n" and row["profile"] == "profiles/D1.png"


def test_a_far_site_on_flat_ground_is_distance():
    # a demanding threshold: the flat 10 km path is clear but too long for the budget
    settings = NO_CLUTTER.replace(link=LinkBudget(threshold_dbm=-75.0))
    row, _, _ = _why(_flat(), settings, site_col=10, desa_cols=range(125, 129))
    assert row["obstacle"] == "distance" and not row["los_obstructed"]
    assert row["rsrp_dbm"] < row["rsrp_needed_dbm"] and row["distance_m"] > 10_000


def test_forest_at_the_handset_is_canopy():
    forest = CoverageSettings(model="itm", radius_m=15_000.0, clutter=ClutterModel.uniform("tree"))
    probe, _, _ = _why(_flat(), forest.replace(link=LinkBudget(threshold_dbm=-40.0)),
                       site_col=10, desa_cols=range(100, 104))
    # a threshold between the RSRP under the forest and the RSRP without it
    needed = probe["rsrp_dbm"] + 10.0
    margin = LinkBudget().location_margin_db
    row, _, _ = _why(_flat(), forest.replace(link=LinkBudget(threshold_dbm=needed - margin)),
                     site_col=10, desa_cols=range(100, 104))
    assert row["canopy_loss_db"] > 20.0
    assert row["rsrp_dbm"] < row["rsrp_needed_dbm"] <= row["rsrp_dbm"] + row["canopy_loss_db"]
    assert row["obstacle"] == "canopy"


def test_a_candidate_that_would_serve_but_was_not_chosen_is_cost():
    row, _, _ = _why(_flat(), NO_CLUTTER, site_col=60, desa_cols=range(64, 68))
    assert not row["served"] and row["best_site_share"] == 1.0 and not row["best_site_chosen"]
    assert row["obstacle"] == "cost"


def test_the_chosen_site_serving_the_desa_makes_it_served():
    row, pngs, _ = _why(_flat(), NO_CLUTTER, site_col=60, desa_cols=range(64, 68), chosen=("s1",))
    assert row["served"] and row["share_covered"] == 1.0
    assert row["obstacle"] == "" and row["profile"] == "" and pngs == {}


def test_no_candidate_within_the_radius():
    settings = NO_CLUTTER.replace(radius_m=3_000.0)
    row, pngs, _ = _why(_flat(), settings, site_col=5, desa_cols=range(120, 124))
    assert row["obstacle"] == "no candidate" and pngs == {} and row["profile"] == ""


@given(share=st.floats(0, 1), rsrp=st.floats(-160, -60), canopy=st.floats(0, 40),
       obstructed=st.booleans(), within=st.booleans())
def test_classification_is_one_of_the_obstacles_and_follows_its_order(share, rsrp, canopy,
                                                                      obstructed, within):
    got = classify_obstacle(within_radius=within, best_share=share, beta=0.8, rsrp_dbm=rsrp,
                            canopy_loss_db=canopy, obstructed=obstructed, threshold_dbm=-98.0)
    assert got in OBSTACLES
    if not within:
        assert got == "no candidate"
    elif share >= 0.8:
        assert got == "cost"
    elif got == "distance":
        assert not obstructed and (rsrp >= -98.0 or rsrp + canopy < -98.0)


def test_desa_shares_against_a_loop():
    rng = np.random.default_rng(3)
    dense = rng.random((40, 6)) < 0.3
    demand = pd.DataFrame({"village_id": rng.choice(["a", "b", "c"], 40),
                           "population": rng.integers(1, 9, 40).astype(float)})
    got = desa_shares(sp.csc_matrix(dense.astype(float)), [1, 4], demand)
    for v, frame in demand.groupby("village_id"):
        rows = frame.index.to_numpy()
        covered = dense[rows][:, [1, 4]].any(axis=1)
        expected = frame["population"][covered].sum() / frame["population"].sum()
        assert got[v] == pytest.approx(expected)


# --- the small Paser window ----------------------------------------------------------------


@pytest.fixture(scope="module")
def window_terrain(paser_data_dir):
    from blankspot.io.inputs import InputSpec, read_inputs
    from paser_window import SMALL, WINDOW

    return read_inputs(InputSpec(data_dir=paser_data_dir, bounds=WINDOW), SMALL).terrain


def test_hindcast_of_the_window(small_plan, window_terrain):
    h = small_plan.hindcast
    assert list(h["plan"]) == ["2022 as built", "blankspot"]
    built, ours = h.iloc[0], h.iloc[1]
    # Segendang is the only 2022 desa among the window's targets: one tower in it
    assert built["n_towers"] == 1 and built["tower_desa"] == "Segendang"
    assert built["cost_idr"] == built["n_towers"] * PASER_TOWER_COST_IDR == built["budget_idr"]
    assert ours["budget_idr"] == built["budget_idr"] and ours["cost_idr"] <= ours["budget_idr"]
    assert set(built["desa_2022_not_evaluated"].split("; ")) == {
        "Belimbing", "Muara Payang", "Muara Toyu", "Muara Andeh"}

    # the numbers are read off the coverage matrix of the pool
    pool = candidate_pool(small_plan, window_terrain)
    np.testing.assert_array_equal(pool.matrix[:, :pool.n_plan_sites].toarray(),
                                  small_plan.matrix.matrix.toarray())
    demand = small_plan.demand
    people = demand["population"].to_numpy(dtype=float)
    for row in (built, ours):
        cols = [list(pool.sites.index).index(s) for s in row["site_ids"].split("; ")]
        covered = np.asarray(pool.matrix[:, cols].sum(axis=1)).ravel() > 0
        assert row["people_covered"] == pytest.approx(people[covered].sum(), abs=0.05)
        shares = desa_shares(pool.matrix, cols, demand)
        assert row["n_desa_served"] == int((shares >= small_plan.config.served_share).sum())

    # the 2022 tower is the candidate inside Segendang serving most of its people
    from paser_window import SEGENDANG

    polygon = small_plan.villages.geometry.loc[SEGENDANG]
    inside = [j for j, g in enumerate(pool.sites.geometry) if polygon.contains(g)]
    mask = (demand["village_id"] == SEGENDANG).to_numpy()
    own = {j: people[mask][pool.matrix[:, j].toarray().ravel()[mask] > 0].sum() for j in inside}
    chosen = list(pool.sites.index).index(built["site_ids"])
    assert own[chosen] == max(own.values())


def test_why_not_of_the_window(small_plan):
    w = small_plan.why_not
    assert list(w["kode"]) == list(small_plan.target_ids)
    for row in w.to_dict(orient="records"):
        assert row["served"] == (row["share_covered"] >= small_plan.config.served_share)
        assert (row["obstacle"] == "") == row["served"]
        assert row["obstacle"] == "" or row["obstacle"] in OBSTACLES
        assert (row["profile"] != "") == (row["kode"] in (small_plan.profiles_png or {}))


def test_an_unserved_desa_gets_its_profile_file_and_map_link(paser_data_dir, tmp_path):
    """At one tower's budget, with its people spread evenly over the desa, Segendang is not
    served (one settlement would be): why_not.csv, profiles/<kode>.png, the
    map's popup link (in Bahasa Indonesia too) and summary.json say so."""
    from blankspot.plan import plan_paser
    from blankspot.reporting.outputs import write_outputs
    from blankspot.reporting.tables import phrase
    from paser_window import SEGENDANG, SMALL, WINDOW

    result = plan_paser(paser_data_dir, config=SMALL.replace(budget_idr=PASER_TOWER_COST_IDR,
                                                         demand_model="uniform"),
                        bounds=WINDOW, village_ids=[SEGENDANG])
    row = result.why_not.set_index("kode").loc[SEGENDANG]
    assert not row["served"] and row["obstacle"] in OBSTACLES
    for lang in ("en", "id"):
        out = tmp_path / lang
        paths = write_outputs(result, out, lang=lang)
        png = out / "profiles" / f"{SEGENDANG}.png"
        assert png.read_bytes()[:4] == b"\x89PNG" and f"profiles/{SEGENDANG}.png" in paths
        page = (out / "map.html").read_text(encoding="utf-8")
        assert f'href=\\"profiles/{SEGENDANG}.png\\"' in page.replace("\\u003c", "<").replace(
            "\\u003e", ">")
        assert phrase("map_profile_link", lang) in page
        assert phrase(f"map_obstacle_{row['obstacle'].replace(' ', '_')}", lang) in page
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        status = summary["target_desa_status"][SEGENDANG]
        assert status["served"] is False and status["obstacle"] == row["obstacle"]
        assert [h["plan"] for h in summary["hindcast"]] == ["2022 as built", "blankspot"]
        why = pd.read_csv(out / "why_not.csv", dtype=str)
        assert why.columns[0] == ("kode" if lang == "en" else "kode_desa")
        assert (out / "hindcast.csv").is_file()


def test_every_column_has_an_indonesian_name(small_plan):
    import re

    from blankspot.reporting.tables import column_label, column_name, untranslated_columns

    for frame in (small_plan.hindcast, small_plan.why_not):
        assert untranslated_columns(frame.columns) == []
        ids = [column_name(c, "id") for c in frame.columns]
        labels = [column_label(c, "id") for c in frame.columns]
        assert len(set(ids)) == len(ids) and len(set(labels)) == len(labels)
        assert all(re.fullmatch(r"[a-z0-9_]+", c) for c in ids)
