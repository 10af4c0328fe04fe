"""Coarse-to-fine planning: the lazily refined plan equals the exhaustive fine plan.

The refinement loop is tested on matrices (no terrain) against brute force, including a case
where the coarse ranking is wrong, and by hypothesis on random instances whose coarse bounds
obey the margin; then on a window of the 1 arc-second demo DEM at 90 m and 30 m against every
candidate computed at 30 m.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blankspot.errors import InputError, SchemaError
from blankspot.siting import SitingProblem, refine_plan, solve

EXACT = {"mip_rel_gap": 0.0}


def _fine_from(matrix: np.ndarray):
    calls: list[list[int]] = []

    def fine(indices):
        calls.append(list(indices))
        return sp.csc_array(matrix[:, list(indices)])

    return fine, calls


def _optimum(fine: np.ndarray, weights, costs, budget, **options) -> float:
    problem = SitingProblem.from_matrix(fine, weights, costs, budget, **options)
    return solve(problem, solver="brute_force").value


def test_a_wrong_coarse_ranking_is_corrected():
    # coarse: site 0 looks best (rows 0-5); fine: it covers row 0 only, and sites 1 + 2 are best
    upper = np.zeros((8, 4), dtype=bool)
    upper[0:6, 0] = True
    upper[0:3, 1] = True
    upper[3:6, 2] = True
    upper[6:8, 3] = True
    fine = upper.copy()
    fine[1:6, 0] = False
    weights = np.ones(8)
    fine_fn, calls = _fine_from(fine)
    costs = [1, 1, 1, 3]  # site 3 is over budget: no relaxation picks it
    r = refine_plan(upper, fine_fn, weights, costs, 2, exact_options=EXACT)
    assert set(r.site_ids) == {1, 2}
    assert r.value == 6.0 == _optimum(fine, weights, costs, 2)
    assert r.upper_bound >= r.value and r.gap == 0.0 and r.certified
    assert 0 in calls[0]  # the coarse favourite is refined first
    assert 3 not in r.refined  # never chosen by a relaxation: never recomputed
    assert [rd.upper_bound for rd in r.rounds] == sorted(
        [rd.upper_bound for rd in r.rounds], reverse=True)


def test_lower_sets_bound_the_optimum_from_below():
    upper = np.array([[1, 1, 0], [1, 1, 0], [1, 0, 1], [0, 0, 1]], dtype=bool)
    fine = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 1], [0, 0, 1]], dtype=bool)
    lower = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]], dtype=bool)
    weights = [5.0, 4.0, 3.0, 2.0]
    r = refine_plan(upper, _fine_from(fine)[0], weights, [1, 1, 1], 1, lower=lower,
                    exact_options=EXACT)
    opt = _optimum(fine, weights, [1, 1, 1], 1)
    assert r.value == opt
    for rd in r.rounds:
        assert rd.lower_bound is not None and rd.lower_bound <= opt <= rd.upper_bound
    assert not r.margin_exceeded and not r.lower_exceeded


def test_a_fine_set_outside_its_bracket_is_reported():
    upper = np.array([[1, 0], [0, 1], [0, 0]], dtype=bool)
    fine = np.array([[1, 0], [0, 1], [1, 0]], dtype=bool)  # site 0 reaches row 2: U_0 is wrong
    r = refine_plan(upper, _fine_from(fine)[0], [1.0, 1.0, 1.0], [1, 1], 1)
    assert r.margin_exceeded == (0,)
    assert not r.certified
    # the refined column is used as computed
    assert r.value == 2.0 and r.site_ids == (0,)


def test_a_lower_set_too_large_spoils_only_the_lower_bounds():
    upper = np.array([[1, 0], [1, 1], [1, 1]], dtype=bool)  # site 0 looks best: refined first
    lower = np.array([[1, 0], [1, 0], [0, 1]], dtype=bool)
    fine = np.array([[1, 0], [0, 1], [0, 1]], dtype=bool)  # site 0 misses row 1 of its L_0
    r = refine_plan(upper, _fine_from(fine)[0], [1.0, 1.0, 1.0], [1, 1], 1, lower=lower,
                    exact_options=EXACT)
    assert 0 in r.lower_exceeded and not r.margin_exceeded
    assert r.certified and r.value == 2.0 and r.site_ids == (1,)


def test_desa_objective_is_certified_too():
    rng = np.random.default_rng(3)
    fine = rng.random((30, 7)) < 0.25
    upper = fine | (rng.random((30, 7)) < 0.2)
    weights = rng.integers(1, 9, 30).astype(float)
    groups = np.repeat(np.arange(6), 5)
    costs = rng.integers(1, 4, 7)
    options = {"groups": groups, "objective": {"people": 1.0, "desa": 20.0}}
    r = refine_plan(upper, _fine_from(fine)[0], weights, costs, 5, exact_options=EXACT,
                    **options)
    assert r.value == pytest.approx(_optimum(fine, weights, costs, 5, **options))
    assert r.upper_bound >= r.value - 1e-9


def test_known_fine_columns_are_not_recomputed():
    upper = np.array([[1, 1], [1, 1], [0, 1]], dtype=bool)
    fine = np.array([[1, 0], [1, 0], [0, 1]], dtype=bool)
    fine_fn, calls = _fine_from(fine)
    r = refine_plan(upper, fine_fn, [1.0, 1.0, 1.0], [1, 1], 1, fine={1: [2]})
    assert r.site_ids == (0,) and r.value == 2.0
    assert all(1 not in c for c in calls) and r.refined == (0,)


def test_refused_options_and_bad_shapes():
    upper = np.eye(3, dtype=bool)
    with pytest.raises(InputError, match="cover_share"):
        refine_plan(upper, _fine_from(upper)[0], [1.0] * 3, [1] * 3, None, cover_share=0.5)
    with pytest.raises(SchemaError, match=r"shape \(3, 1\)"):
        refine_plan(upper, lambda js: np.ones((3, 1)), [1.0] * 3, [1] * 3, 1,
                    lower=np.ones((3, 1), dtype=bool))
    with pytest.raises(SchemaError, match="demand rows"):
        refine_plan(upper, lambda js: np.ones((2, len(js))), [1.0] * 3, [1] * 3, 1)


@st.composite
def _instances(draw):
    n_rows = draw(st.integers(1, 12))
    n_sites = draw(st.integers(1, 7))
    seed = draw(st.integers(0, 2**32 - 1))
    margin_db = draw(st.sampled_from([0.0, 1.0, 3.0, 10.0]))
    budget = draw(st.integers(0, 8))
    return n_rows, n_sites, seed, margin_db, budget


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_instances())
def test_refined_plan_equals_brute_force_on_random_instances(instance):
    """Fine power ``r_fine``; coarse power within the margin of it; sets read from both."""
    n_rows, n_sites, seed, margin_db, budget = instance
    rng = np.random.default_rng(seed)
    thr = 0.0
    r_fine = rng.normal(0.0, 6.0, (n_rows, n_sites))
    r_coarse = r_fine + rng.uniform(-margin_db, margin_db, r_fine.shape)
    fine = r_fine >= thr
    upper = r_coarse >= thr - margin_db
    lower = r_coarse >= thr + margin_db
    weights = rng.integers(0, 20, n_rows).astype(float)
    costs = rng.integers(1, 4, n_sites)
    r = refine_plan(upper, _fine_from(fine)[0], weights, costs, budget, lower=lower,
                    exact_options=EXACT)
    opt = _optimum(fine, weights, costs, budget)
    assert r.value == pytest.approx(opt)
    assert r.upper_bound >= opt - 1e-9
    assert r.solution.total_cost_idr <= budget
    assert not r.margin_exceeded and not r.lower_exceeded and r.certified
    assert all(j in r.refined for j in r.solution.order)
    for rd in r.rounds:
        assert rd.lower_bound is not None and rd.lower_bound <= opt + 1e-9


@pytest.fixture(scope="module")
def window_case(paser_source_dir):
    """Segendang on the 1 arc-second demo DEM at 90 m and 30 m, ten candidates, 5 km."""
    from blankspot.candidates import generate_candidates
    from blankspot.config import PlanConfig
    from blankspot.demand import demand_cells
    from blankspot.io.terrain import read_terrain
    from blankspot.io.vectors import read_villages
    from paser_window import SEGENDANG, WINDOW

    dem = paser_source_dir / "terrain" / "paser_dem_demo_1s_synthetic.tif"
    coarse = read_terrain(dem, bounds=WINDOW, res_m=90.0)
    fine = read_terrain(dem, bounds=WINDOW, res_m=30.0)
    villages = read_villages(paser_source_dir / "paser_desa.geojson", crs=coarse.crs)
    area = villages.loc[[SEGENDANG]].geometry.union_all()
    demand = demand_cells(villages, cell_size_m=250.0, village_ids=[SEGENDANG])
    sites = generate_candidates(coarse, area, height_agl_m=72.0, n_high_points=6,
                                grid_spacing_m=2_500.0, min_separation_m=1_000.0,
                                search_buffer_m=1_000.0).iloc[:10]
    sites = sites.assign(cost_idr=np.array([3, 2, 2, 3, 2, 3, 2, 2, 3, 2][: len(sites)]) * 10**8)
    settings_ = PlanConfig(radius_m=5_000.0).coverage_settings()
    return coarse, fine, sites, demand, settings_


@pytest.fixture(scope="module")
def window_margin(window_case):
    from blankspot.coarse_to_fine import measure_margin

    coarse, fine, sites, demand, settings_ = window_case
    return measure_margin(coarse, fine, sites, demand, settings=settings_)


def test_margin_measurement_on_the_window(window_margin):
    m = window_margin
    assert m.n_sites == 10 and m.n_pairs > 100
    assert 0 <= m.median_db <= m.p95_db <= m.p99_db <= m.max_db
    assert m.upper_quantile_db(0.99) <= m.need_upper_db
    assert m.abs_diff_db.shape == (m.n_pairs,)


def test_coarse_to_fine_plan_equals_the_exhaustive_fine_plan(window_case, window_margin):
    from blankspot.aggregate import build_coverage_matrix
    from blankspot.coarse_to_fine import coarse_to_fine_plan

    coarse, fine, sites, demand, settings_ = window_case
    m = window_margin
    # every candidate at 30 m: the exhaustive plan
    full = build_coverage_matrix(settings_.compute(fine, sites), demand).matrix
    weights = demand["population"].to_numpy(float)
    costs = sites["cost_idr"].astype(np.int64).to_numpy()
    budget = 5 * 10**8
    exhaustive = solve(SitingProblem.from_matrix(full, weights, costs, budget,
                                                 site_ids=[str(s) for s in sites.index]),
                       solver="brute_force")
    assert exhaustive.value > 0
    margin = float(m.need_upper_db) + 0.5  # the measured maximum: the certificate holds here
    result = coarse_to_fine_plan(coarse, fine, sites, demand, settings=settings_,
                                 budget_idr=budget, margin_db=margin,
                                 lower_margin_db=float(m.need_lower_db) + 0.5,
                                 exact_options=EXACT)
    r = result.refinement
    assert r.value == pytest.approx(exhaustive.value)
    assert r.upper_bound >= exhaustive.value - 1e-9
    assert r.certified and not r.margin_exceeded and not r.lower_exceeded
    assert 1 <= r.n_refined <= len(sites)
    for rd in r.rounds:
        assert rd.lower_bound is not None and rd.lower_bound <= exhaustive.value + 1e-9
    # the plan's value read on the exhaustive 30 m matrix is the certified value
    chosen = [sites.index.get_loc(s) for s in result.site_ids]
    assert weights[full.toarray()[:, chosen].any(axis=1)].sum() == pytest.approx(r.value)
    optimal_sets = [
        set(p) for p in _optimal_plans(full, weights, costs, budget, exhaustive.value)]
    assert {sites.index.get_loc(s) for s in result.site_ids} in optimal_sets
    assert result.summary()["n_refined"] == r.n_refined


def _optimal_plans(matrix, weights, costs, budget, value):
    """Every plan within budget reaching ``value`` (by enumeration; small instances)."""
    from itertools import combinations

    m = sp.csc_array(matrix).toarray().astype(bool)
    n = m.shape[1]
    out = []
    for k in range(n + 1):
        for plan in combinations(range(n), k):
            if sum(int(costs[j]) for j in plan) > budget:
                continue
            covered = m[:, list(plan)].any(axis=1) if plan else np.zeros(len(weights), bool)
            if abs(weights[covered].sum() - value) <= 1e-9:
                out.append(plan)
    return out
