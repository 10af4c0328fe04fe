"""Tests of the cost–coverage curve and of ranking stability."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from blankspot.errors import ConfigError, InfeasibleError, InputError, SchemaError, UnitsError
from blankspot.siting import (
    SitingProblem,
    SitingResult,
    cost_coverage_curve,
    ranking_stability,
    solve,
    stability_from_problems,
)
from blankspot.siting.curve import CURVE_COLUMNS, STABILITY_COLUMNS

# X = 9 people for 3 Rp, Y = 5 for 2 Rp, Z = 2 for 1 Rp, disjoint. At 6 Rp the greedy ranks
# X, Y, Z (cumulative 3, 5, 6). At 4 Rp, cutting that ranking where it passes 4 gives {X} (9),
# but the greedy at 4 Rp takes X and then Z, the one that still fits: 11.
CUT = dict(
    coverage=np.eye(3, dtype=bool),
    weights=[9.0, 5.0, 2.0],
    costs_idr=[3, 2, 1],
    site_ids=["X", "Y", "Z"],
)


def cut_problem(budget=6, **kw):
    spec = {**CUT, **kw}
    return SitingProblem.from_matrix(
        spec.pop("coverage"), spec.pop("weights"), spec.pop("costs_idr"), budget, **spec
    )


def test_curve_is_not_the_truncated_ranking():
    p = cut_problem()
    assert solve(p).site_ids == ("X", "Y", "Z")
    curve = cost_coverage_curve(p, [6, 4, 0])
    assert list(curve.columns) == list(CURVE_COLUMNS)
    assert curve["budget_idr"].tolist() == [6, 4, 0]
    assert curve["site_ids"].tolist() == [("X", "Y", "Z"), ("X", "Z"), ()]
    assert curve["covered_weight"].tolist() == [16.0, 11.0, 0.0]
    assert curve["share"].tolist() == [1.0, 11 / 16, 0.0]
    assert curve["n_towers"].tolist() == [3, 2, 0] and curve["cost_idr"].tolist() == [6, 4, 0]
    assert (curve["bound"] >= curve["value"]).all()
    assert curve["status"].tolist()[0] == "optimal"


def random_problem(rng, n=25, m=120, **kw):
    a = rng.random((m, n)) < 0.12
    w = rng.integers(0, 30, size=m).astype(float)
    c = rng.integers(1, 12, size=n)
    return SitingProblem.from_matrix(a, w, c, int(c.sum()), **kw), int(c.sum())


def test_curve_equals_a_fresh_greedy_run_at_every_budget():
    rng = np.random.default_rng(12)
    for trial in range(25):
        kw = {}
        if trial % 3 == 1:
            kw["location_ids"] = rng.integers(0, 12, size=25)
        if trial % 4 == 2:
            kw["max_towers"] = 6
        if trial % 5 == 3:
            kec = kw["location_ids"] % 5 if "location_ids" in kw else np.repeat(np.arange(5), 5)
            kw.update(kecamatan_ids=kec, min_towers_per_kecamatan={int(kec[-1]): 1})
        p, total = random_problem(rng, **kw)
        budgets = sorted(set(rng.integers(0, total + 1, size=10).tolist()))
        curve = cost_coverage_curve(p, budgets, lp_bound=False, monotone=False)
        for b, ids, status in zip(budgets, curve["site_ids"], curve["status"], strict=True):
            try:
                fresh = solve(p.with_constraints(budget_idr=b), lp_bound=False)
            except InfeasibleError:
                assert status == "infeasible"
                continue
            assert ids == fresh.site_ids


@pytest.mark.parametrize("solver", ["greedy", "exact"])
def test_curve_is_monotone_in_the_budget(solver):
    rng = np.random.default_rng(3)
    p, total = random_problem(rng, n=12, m=60, groups=rng.integers(0, 4, size=60))
    budgets = list(range(0, total + 1, 3))
    curve = cost_coverage_curve(p, budgets[::-1], solver=solver).iloc[::-1]
    assert (np.diff(curve["covered_weight"].to_numpy()) >= -1e-9).all()
    assert (np.diff(curve["bound"].to_numpy()) >= -1e-9).all()
    assert (curve["bound"] >= curve["value"] - 1e-9).all()
    assert curve["desa_resolved"].notna().all()
    assert (curve["cost_idr"] <= curve["budget_idr"]).all()


def test_monotone_keeps_a_smaller_budgets_better_plan():
    def erratic(problem):
        # a deliberately poor solver: at budgets of 5 and above it builds Z only
        plan = [2] if problem.budget_idr >= 5 else [0]
        return SitingResult(
            order=tuple(plan),
            site_ids=tuple(problem.site_ids[j] for j in plan),
            gains=tuple(float(problem.weights[j]) for j in plan),
            costs_idr=tuple(int(problem.costs_idr[j]) for j in plan),
            cumulative_cost_idr=tuple(int(problem.costs_idr[j]) for j in plan),
            cumulative_weight=tuple(float(problem.weights[j]) for j in plan),
            covered_weight=float(problem.weights[plan].sum()),
            total_cost_idr=int(problem.costs_idr[plan].sum()),
            budget_idr=problem.budget_idr,
            status="heuristic",
            solver="erratic",
        )

    p = cut_problem()
    raw = cost_coverage_curve(p, [3, 6], solver=erratic, monotone=False)
    assert raw["covered_weight"].tolist() == [9.0, 2.0]
    fixed = cost_coverage_curve(p, [3, 6], solver=erratic)
    assert fixed["covered_weight"].tolist() == [9.0, 9.0]
    assert fixed["plan_budget_idr"].tolist() == [3, 3]


def test_curve_marks_budgets_the_forced_sites_do_not_fit():
    p = cut_problem(forced_in=["X"])
    curve = cost_coverage_curve(p, [2, 5])
    assert curve["status"].tolist() == ["infeasible", "optimal"]
    assert pd.isna(curve["covered_weight"].iloc[0]) and curve["site_ids"].iloc[0] == ()
    assert curve["site_ids"].iloc[1] == ("X", "Y")  # X forced, then the best that fits


def test_curve_input_problems():
    p = cut_problem()
    with pytest.raises(UnitsError, match="whole numbers of Rupiah"):
        cost_coverage_curve(p, [-1, 2.5])
    with pytest.raises(InputError, match="at least one"):
        cost_coverage_curve(p, [])
    with pytest.raises(InputError, match="needs a budgeted problem"):
        cost_coverage_curve(p.with_constraints(cover_share=0.5), [3])
    with pytest.raises(ConfigError, match="takes no option"):
        cost_coverage_curve(p, [3], time_limit_s=1)
    with pytest.raises(SchemaError, match="takes a SitingProblem"):
        cost_coverage_curve("p", [3])  # type: ignore[arg-type]


# ---------------------------------------------------------------------- stability


def stable_problem(**kw):
    rng = np.random.default_rng(0)
    a = rng.random((200, 15)) < 0.1
    w = rng.integers(1, 50, 200).astype(float)
    c = rng.integers(5, 20, 15)
    ids = [f"s{i}" for i in range(15)]
    return SitingProblem.from_matrix(a, w, c, 40, site_ids=ids, **kw)


def test_ranking_stability_reports_share_and_mean_rank():
    p = stable_problem(forced_in=["s3"])
    frame = ranking_stability(p, n_draws=8, seed=1)
    assert list(frame.columns) == list(STABILITY_COLUMNS)
    assert frame.index.name == "site_id"
    assert frame.index[0] == "s3" and frame.loc["s3", "share_chosen"] == 1.0
    assert frame.loc["s3", "mean_rank"] == 1.0
    assert ((frame["share_chosen"] > 0) & (frame["share_chosen"] <= 1)).all()
    assert (frame["min_rank"] <= frame["mean_rank"]).all()
    assert (frame["mean_rank"] <= frame["max_rank"]).all()
    ranks = frame.attrs["ranks"]
    assert list(ranks.columns[:3]) == ["base", "costs x0.6", "costs x1.4"]
    assert ranks.shape[1] == 11
    base = solve(p)
    assert frame["base_rank"].dropna().sort_values().index.tolist() == list(base.site_ids)
    # cheaper towers under the same budget mean at least as many of them
    assert ranks["costs x0.6"].notna().sum() >= ranks["costs x1.4"].notna().sum()
    again = ranking_stability(p, n_draws=8, seed=1)
    pd.testing.assert_frame_equal(frame, again)


def test_stability_across_coverage_thresholds():
    rng = np.random.default_rng(2)
    signal = rng.normal(-100, 8, size=(150, 10))  # dBm per (cell, site)
    w = rng.integers(1, 20, 150).astype(float)
    c = np.full(10, 5)
    ids = [f"t{i}" for i in range(10)]
    problems = {
        f"{thr:+d} dB": SitingProblem.from_matrix(signal >= -105 + thr, w, c, 15, site_ids=ids)
        for thr in (0, -5, 5)
    }
    frame = stability_from_problems(problems)
    assert frame["n_chosen"].max() <= 3 and len(frame.attrs["scenarios"]) == 3
    assert frame["base_rank"].notna().sum() == 3  # 15 Rp buys 3 towers at the 0 dB threshold


def test_stability_input_problems_and_infeasible_scenarios():
    p = stable_problem()
    other = SitingProblem.from_matrix(np.eye(15, dtype=bool), np.ones(15), np.ones(15, int), 3)
    with pytest.raises(SchemaError, match="other site_ids"):
        stability_from_problems({"a": p, "b": other})
    with pytest.raises(SchemaError, match="at least one"):
        stability_from_problems({})
    with pytest.raises(InputError, match="0 < low ≤ high"):
        ranking_stability(p, cost_factors=(1.4, 0.6))
    with pytest.raises(InputError, match="cost_factors must be two numbers"):
        ranking_stability(p, cost_factors=1.4)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="n_draws must be a whole number"):
        ranking_stability(p, n_draws=-1)
    # the forced site fits the budget at ×1.0 but not at ×1.4
    q = stable_problem(forced_in=["s0", "s1", "s2"]).with_constraints(budget_idr=None or 40)
    cost = q.forced_cost_idr
    tight = q.with_constraints(budget_idr=cost)
    frame = ranking_stability(tight, n_draws=0)
    assert frame.attrs["scenarios"]["costs x1.4"].startswith("infeasible")
    assert frame.loc["s0", "n_chosen"] == 2
