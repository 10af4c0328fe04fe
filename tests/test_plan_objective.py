"""The desa objective and coverage probabilities, wired through the plan.

Problems are built the way :func:`blankspot.plan.plan` builds them (``plan._problem`` on a
``CoverageMatrix`` and the demand cells) and solved against a brute force written here, apart
from the library: every plan within the budget, scored by desa served (β of the people, the
expected share with probabilities) and then people.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from blankspot.aggregate import CoverageMatrix, build_coverage_matrix
from blankspot.cli import main
from blankspot.config import PlanConfig
from blankspot.errors import ConfigError, SchemaError, UnitsError
from blankspot.plan import _problem
from blankspot.propagation.budget import LinkBudget, coverage_probability
from blankspot.reporting.tables import desa_service, main_settlements
from blankspot.scenario import ScenarioSpec
from blankspot.siting import solve
from test_aggregate import SHAPE, StandInCoverage, StandInFootprint, cells, centre

BETA = 0.8


def matrix_of(values: np.ndarray, village_ids, population, *, probability: bool = False
              ) -> tuple[CoverageMatrix, pd.DataFrame]:
    demand = pd.DataFrame({"village_id": list(village_ids), "population": list(population)})
    m = sp.csc_array(np.asarray(values, dtype=float))
    site_ids = tuple(f"s{j}" for j in range(m.shape[1]))
    return CoverageMatrix(matrix=m, demand=demand, site_ids=site_ids,
                          probability=m if probability else None), demand


def naive_best(values: np.ndarray, village_ids, population, costs, budget, *, desa: bool,
               beta: float = BETA) -> tuple[int, float]:
    """(desa served, people served) of the best plan: lexicographic with ``desa``, people alone
    otherwise; with probabilities, expected people and expected share per desa."""
    values = np.asarray(values, dtype=float)
    w = np.asarray(population, dtype=float)
    vids = np.asarray(village_ids)
    best: tuple[float, ...] = (-1.0,)
    best_pair = (0, 0.0)
    n = values.shape[1]
    for k in range(n + 1):
        for plan in itertools.combinations(range(n), k):
            if sum(costs[j] for j in plan) > budget:
                continue
            served = 1.0 - np.prod([1.0 - values[:, j] for j in plan], axis=0) if plan \
                else np.zeros(len(w))
            people = float(w @ served)
            n_desa = 0
            for d in np.unique(vids):
                in_d = vids == d
                if w[in_d].sum() > 0 and w[in_d] @ served[in_d] >= beta * w[in_d].sum() - 1e-9:
                    n_desa += 1
            score = (n_desa, people) if desa else (people,)
            if score > best:
                best, best_pair = score, (n_desa, people)
    return best_pair


def scored(problem, result) -> tuple[int, float]:
    order = list(result.order)
    return int(problem.resolved(order).sum()), problem.value(order)


# --- config, scenario and command line -----------------------------------------------------------


def test_defaults_are_the_desa_objective_with_a_hard_threshold():
    cfg = PlanConfig()
    assert (cfg.objective, cfg.served_share, cfg.coverage, cfg.sigma_l_db) == (
        "desa", 0.8, "threshold", 5.5)
    assert cfg.siting_objective(416.0).desa == 417.0


def test_bad_objective_values_are_all_reported():
    with pytest.raises(UnitsError) as info:
        PlanConfig(objective="villages", served_share=1.2, coverage="soft", sigma_l_db=0.0,
                   probability_floor=1.0)
    text = str(info.value)
    for word in ("objective", "served_share", "coverage", "sigma_l_db", "probability_floor"):
        assert word in text


def test_probability_mode_computes_every_cell_the_floor_keeps():
    """The loss cut-off covers the stability run at threshold − 5 dB down to p = 0.01."""
    cfg = PlanConfig(coverage="probability")
    cut = cfg.coverage_settings().effective_max_loss_db()
    lowest = cfg.link.replace(threshold_dbm=cfg.link.threshold_dbm - 5.0)
    loss_at_floor = lowest.eirp_re_dbm + lowest.rx_gain_dbi - lowest.body_loss_db - (
        lowest.threshold_dbm - cfg.sigma_l_db * 2.3263478740408408)
    assert cut >= loss_at_floor
    assert PlanConfig().coverage_settings().max_loss_db is None  # threshold mode: unchanged


def test_scenario_keys_round_trip():
    spec = ScenarioSpec.from_dict({
        "siting": {"objective": "people", "served_share": 0.9},
        "radio": {"coverage": "probability", "sigma_l_db": 8.0, "probability_floor": 0.02},
    })
    cfg = spec.to_plan_config()
    assert (cfg.objective, cfg.served_share, cfg.coverage, cfg.sigma_l_db,
            cfg.probability_floor) == ("people", 0.9, "probability", 8.0, 0.02)
    again = ScenarioSpec.from_dict(spec.to_dict())
    assert again.to_plan_config() == cfg and again.spec_hash == spec.spec_hash
    assert ScenarioSpec().to_plan_config().objective == "desa"


def test_scenario_refuses_bad_values_at_once():
    with pytest.raises(SchemaError) as info:
        ScenarioSpec.from_dict({"siting": {"objective": "peple", "served_share": 0.0},
                                "radio": {"coverage": "prob"}})
    text = str(info.value)
    assert "Did you mean 'people'" in text and "served_share" in text and "coverage" in text


def test_demo_offers_the_objective_options():
    out = CliRunner().invoke(main, ["demo", "--help"]).output
    for option in ("--objective [desa|people]", "--served-share", "--coverage", "--sigma-l-db"):
        assert option in out


@pytest.mark.paser
def test_probability_mode_refuses_dask_with_a_fix(paser_data_dir):
    from blankspot.plan import plan_paser
    from paser_window import SEGENDANG, SMALL, WINDOW

    with pytest.raises(ConfigError, match="coverage='threshold'"):
        plan_paser(paser_data_dir, config=SMALL.replace(coverage="probability"), bounds=WINDOW,
                   village_ids=[SEGENDANG], scheduler="threads")


# --- probabilities in the coverage matrix ------------------------------------------------------


def test_probability_matrix_is_q_of_the_median_rsrp_without_the_margin():
    link = LinkBudget()
    median_loss = link.eirp_re_dbm + link.rx_gain_dbi - link.body_loss_db - link.threshold_dbm
    # at the threshold the median gives p = 0.5: the 7 dB margin is not taken again
    losses = np.full(SHAPE, np.nan)
    losses[0, 0] = median_loss
    losses[0, 1] = median_loss - 1.2816 * 5.5  # 90 % of locations
    losses[0, 2] = median_loss + 20.0  # p < 0.01: dropped
    losses[0, 3] = median_loss - 3.0
    cov = StandInCoverage((StandInFootprint("a", 0, 0, losses),), budget=link)
    demand = cells([centre(0, c) for c in range(5)])
    m = build_coverage_matrix(cov, demand, sigma_l_db=5.5)
    p = m.probability.toarray().ravel()
    assert p[0] == pytest.approx(0.5)
    assert p[1] == pytest.approx(0.9, abs=1e-4)
    assert p[2] == 0.0 and p[4] == 0.0
    assert p[3] == pytest.approx(coverage_probability(link.threshold_dbm + 3.0))
    assert m.matrix.toarray().ravel().tolist() == [True, True, False, True, False]
    # the hard cut keeps the margin: only the point 7 dB above the threshold is covered
    hard = build_coverage_matrix(cov, demand).matrix.toarray().ravel()
    assert hard.tolist() == [False, True, False, False, False]


# --- the desa objective through the plan's problem ---------------------------------------------


def test_desa_objective_prefers_serving_a_desa_over_more_people():
    # s0 reaches 60 of 100 people in desa A (not served); s1 serves all 10 people of desa B
    values = np.array([[1, 0]] * 6 + [[0, 0]] * 4 + [[0, 1]])
    vids = ["A"] * 10 + ["B"]
    pop = [10.0] * 10 + [10.0]
    matrix, demand = matrix_of(values, vids, pop)
    costs = np.array([1, 1])
    people = solve(_problem(matrix, demand, costs, PlanConfig(budget_idr=1, objective="people")))
    problem = _problem(matrix, demand, costs, PlanConfig(budget_idr=1))
    assert people.site_ids == ("s0",)
    # the greedy's ratio step ranks by the capped share (0.75 of a desa and 60 people beat one
    # desa and 10 people per Rupiah); its best single site, ranked by the true objective, wins
    for solver in ("greedy", "exact", "brute_force"):
        desa = solve(problem, solver=solver)
        assert desa.site_ids == ("s1",) and desa.desa_resolved == 1, solver


small_instances = st.integers(0, 10_000).map(lambda seed: np.random.default_rng(seed))


def random_instance(rng, *, probability: bool):
    n_rows, n_sites = int(rng.integers(4, 12)), int(rng.integers(2, 7))
    if probability:
        values = rng.uniform(0, 1, (n_rows, n_sites)) * (rng.uniform(0, 1, (n_rows, n_sites)) < 0.5)
        values[values < 0.01] = 0.0
    else:
        values = (rng.uniform(0, 1, (n_rows, n_sites)) < 0.35).astype(float)
    vids = [f"d{int(v)}" for v in rng.integers(0, 3, n_rows)]
    pop = rng.integers(1, 30, n_rows).astype(float)
    costs = rng.integers(1, 5, n_sites)
    budget = int(rng.integers(1, int(costs.sum()) + 1))
    return values, vids, pop, costs, budget


@settings(max_examples=40, deadline=None)
@given(small_instances)
def test_exact_and_brute_force_agree_with_naive_enumeration_on_the_desa_objective(rng):
    values, vids, pop, costs, budget = random_instance(rng, probability=False)
    matrix, demand = matrix_of(values, vids, pop)
    problem = _problem(matrix, demand, costs, PlanConfig(budget_idr=budget))
    want = naive_best(values, vids, pop, costs, budget, desa=True)
    for solver in ("brute_force", "exact"):
        got = scored(problem, solve(problem, solver=solver))
        assert got[0] == want[0] and got[1] == pytest.approx(want[1])
    greedy = solve(problem)
    g = scored(problem, greedy)
    assert greedy.total_cost_idr <= budget
    assert (g[0], g[1]) <= (want[0], want[1] + 1e-9)


@pytest.mark.parametrize("seed", range(12))
def test_greedy_agrees_with_brute_force_where_desa_do_not_share_towers(seed):
    """Each site reaches one desa only, and serves it alone or not at all: the greedy on desa
    per Rupiah (then people) is then exact at unit costs, like the brute force."""
    rng = np.random.default_rng(seed)
    n_desa = 4
    rows, vids, pop, cols = [], [], [], []
    for d in range(n_desa):
        people = float(rng.integers(5, 50))
        rows.append(d)
        vids.append(f"d{d}")
        pop.append(people)
        for _ in range(int(rng.integers(1, 3))):
            col = np.zeros(n_desa)
            col[d] = 1.0 if rng.uniform() < 0.7 else 0.0
            cols.append(col)
    values = np.array(cols).T
    costs = np.ones(values.shape[1], dtype=int)
    budget = int(rng.integers(1, n_desa + 1))
    matrix, demand = matrix_of(values, vids, pop)
    problem = _problem(matrix, demand, costs, PlanConfig(budget_idr=budget))
    want = naive_best(values, vids, pop, costs, budget, desa=True)
    for solver in ("greedy", "brute_force", "exact"):
        got = scored(problem, solve(problem, solver=solver))
        assert got[0] == want[0] and got[1] == pytest.approx(want[1])


# --- coverage probabilities through the plan's problem -----------------------------------------


@settings(max_examples=30, deadline=None)
@given(small_instances, st.sampled_from(["desa", "people"]))
def test_probability_objective_against_brute_force(rng, objective):
    values, vids, pop, costs, budget = random_instance(rng, probability=True)
    matrix, demand = matrix_of(values, vids, pop, probability=True)
    cfg = PlanConfig(budget_idr=budget, objective=objective, coverage="probability")
    problem = _problem(matrix, demand, costs, cfg)
    assert problem.is_probabilistic or not values[(values > 0) & (values < 1)].size
    want = naive_best(values, vids, pop, costs, budget, desa=objective == "desa")
    brute = scored(problem, solve(problem, solver="brute_force"))
    assert brute[0] == want[0] and brute[1] == pytest.approx(want[1])
    opt = cfg.siting_objective(float(np.sum(pop))).desa * want[0] + want[1]
    greedy = solve(problem)
    assert greedy.total_cost_idr <= budget
    assert greedy.value <= opt + 1e-6
    exact = solve(problem, solver="exact")
    assert exact.total_cost_idr <= budget and exact.value <= opt + 1e-6
    assert exact.bound is None or exact.bound >= opt - 1e-6  # the bound is an upper bound


def test_probability_problem_drops_entries_under_the_floor():
    values = np.array([[0.005, 0.5], [0.3, 0.0]])
    matrix, demand = matrix_of(values, ["a", "a"], [1.0, 1.0], probability=True)
    problem = _problem(matrix, demand, np.array([1, 1]),
                       PlanConfig(budget_idr=2, coverage="probability"))
    assert problem.value([0]) == pytest.approx(0.3)
    assert problem.value([0, 1]) == pytest.approx(0.5 + 0.3)


# --- which desa each tower serves --------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.05, 1.0))
def test_desa_service_served_is_share_at_least_beta_and_never_undone(seed, beta):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 15))
    vids = np.array([f"d{int(v)}" for v in rng.integers(0, 4, n)])
    pop = rng.integers(0, 20, n).astype(float)
    before = (rng.uniform(0, 1, n) < 0.2).astype(float)
    picks = [rng.uniform(0, 1, n) * (rng.uniform(0, 1, n) < 0.5) for _ in range(4)]
    svc = desa_service(vids, pop, before, picks, beta)
    has_people = svc.population > 0
    assert np.array_equal(svc.served, has_people & (svc.share >= beta - 1e-9))
    firsts = [v for d in svc.served_new for v in d]
    assert len(firsts) == len(set(firsts))  # brought to served once, and it stays served
    assert set(firsts) <= set(svc.village_ids[svc.served])
    for k, d in enumerate(svc.served_new):
        assert not set(d) & set(svc.improved[k])
        for v in d:
            assert svc.served_at[list(svc.village_ids).index(v)] == k
    served_before = svc.village_ids[svc.served_at == -1]
    assert not set(served_before) & set(firsts)


def test_main_settlement_is_the_cell_with_most_people():
    frame = pd.DataFrame({"village_id": ["a", "b", "a", "b"], "population": [1.0, 5.0, 4.0, 5.0]},
                         index=[10, 11, 12, 13])
    assert main_settlements(frame).to_dict() == {"a": 12, "b": 11}


# --- the plan on the Segendang window ----------------------------------------------------------


@pytest.mark.paser
def test_plan_reports_desa_served_and_which_tower_serves_them(small_plan):
    r = small_plan
    assert r.config.objective == "desa" and r.problem.objective.desa > r.problem.total_weight
    desa = r.desa.set_index("kode")
    assert set(desa["served"]) <= {"yes", "no"}
    share, beta = desa["share_covered"], r.config.served_share  # share rounded to 4 decimals
    assert (share[desa["served"] == "yes"] >= beta - 5e-5).all()
    assert (share[desa["served"] == "no"] < beta + 5e-5).all()
    served = desa.index[desa["served"] == "yes"]
    # every served desa names a chosen tower, which is the one bringing it to served
    assert set(desa.loc[served, "served_by"]) <= set(r.solution.site_ids)
    brought = [kode for cell in r.ranking["desa_served_new"] for kode in
               [part.split(" ")[0] for part in str(cell).split("; ") if part]]
    assert sorted(brought) == sorted(served)
    assert int(r.ranking["n_desa_served_new"].sum()) == len(served)
    for _, row in r.ranking.iterrows():
        for part in [p for p in str(row["desa_served_new"]).split("; ") if p]:
            assert desa.loc[part.split(" ")[0], "served_by"] == row["site_id"]
    # RSRP at the main settlement: a served desa's is a real signal, NaN where none reaches
    assert desa.loc[served, "rsrp_main_dbm"].notna().all()
    from blankspot.reporting.summary import plan_summary

    s = plan_summary(r)
    assert s["objective"] == "desa" and s["n_target_desa_served"] == len(
        set(served) & set(r.target_ids)) == r.solution.desa_resolved


@pytest.mark.paser
def test_probability_plan_on_the_window(paser_data_dir):
    from blankspot.plan import plan_paser
    from paser_window import SEGENDANG, SMALL, WINDOW

    cfg = SMALL.replace(coverage="probability", certify=False, stability_threshold_db=None,
                        curve_budgets_idr=(0, SMALL.budget_idr))
    r = plan_paser(paser_data_dir, config=cfg, bounds=WINDOW, village_ids=[SEGENDANG])
    assert r.problem.is_probabilistic
    assert r.matrix.probability is not None
    p = r.matrix.probability.data
    assert p.min() >= cfg.probability_floor and p.max() <= 1.0 and 0 < np.median(p) < 1
    # expected people: what the solver reports is Σ w (1 − Π(1 − p)) of its plan
    assert r.solution.covered_weight == pytest.approx(r.problem.value(r.solution.order))
    desa = r.desa.set_index("kode")
    assert (desa["share_covered"] <= 1.0 + 1e-9).all()
    assert (desa.loc[desa["served"] == "yes", "share_covered"] >= 0.8 - 5e-5).all()
    assert (desa.loc[desa["served"] == "no", "share_covered"] < 0.8 + 5e-5).all()
    assert math.isfinite(float(r.curve["covered_weight"].iloc[-1]))


@settings(max_examples=40, deadline=None)
@given(small_instances, st.booleans())
def test_desa_greedy_never_scores_below_the_people_greedy(rng, probability):
    """The desa greedy keeps the people greedy's plan when that scores better on desa, then
    people: where no desa can be served, the plan covers as many people as the people plan."""
    values, vids, pop, costs, budget = random_instance(rng, probability=probability)
    matrix, demand = matrix_of(values, vids, pop, probability=probability)
    mode = "probability" if probability else "threshold"
    desa_problem = _problem(matrix, demand, costs, PlanConfig(budget_idr=budget, coverage=mode))
    people_problem = _problem(matrix, demand, costs,
                              PlanConfig(budget_idr=budget, coverage=mode, objective="people"))
    by_desa = scored(desa_problem, solve(desa_problem))
    by_people = scored(desa_problem, solve(people_problem))
    assert by_desa[0] > by_people[0] or (
        by_desa[0] == by_people[0] and by_desa[1] >= by_people[1] - 1e-9)


@pytest.mark.paser
def test_exact_plan_replaces_a_greedy_plan_serving_fewer_desa(paser_data_dir, monkeypatch):
    """With the desa objective, an exact certificate serving more target desa than the greedy
    plan becomes the plan (here the greedy is made to return no tower at all)."""
    import blankspot.plan as plan_module
    from paser_window import SEGENDANG, SMALL, WINDOW

    real_solve = plan_module.solve

    def no_tower_greedy(problem, solver="greedy", **options):
        if solver == "greedy":
            return real_solve(problem.with_costs(problem.costs_idr, budget_idr=0), **options)
        return real_solve(problem, solver=solver, **options)

    monkeypatch.setattr(plan_module, "solve", no_tower_greedy)
    cfg = SMALL.replace(stability_threshold_db=None, curve_budgets_idr=(0,))
    r = plan_module.plan_paser(paser_data_dir, config=cfg, bounds=WINDOW, village_ids=[SEGENDANG])
    assert r.solution.solver == "exact" and r.solution.desa_resolved == 1
    assert "the exact plan serves 1 target desa, the greedy 0" in r.solution.note
    assert tuple(r.ranking["site_id"]) == tuple(r.certificate.site_ids)
    assert int(r.ranking["n_desa_served_new"].sum()) == 1
    # the people objective keeps the greedy plan, whatever the certificate
    people = plan_module.plan_paser(paser_data_dir, config=cfg.replace(objective="people"),
                                    bounds=WINDOW, village_ids=[SEGENDANG])
    assert people.solution.solver == "greedy" and people.solution.n_sites == 0
