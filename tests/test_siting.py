"""Tests of blankspot.siting: the problem, the greedy, brute-force and exact solvers."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from blankspot.errors import ConfigError, InfeasibleError, InputError, SchemaError, UnitsError
from blankspot.siting import (
    BRUTE_FORCE_MAX_SITES,
    SitingProblem,
    SitingResult,
    available_solvers,
    register_solver,
    solve,
)
from reference.siting import (
    brute_force_by_combinations,
    brute_force_optimum,
    plain_greedy,
)

KMN_RATIO = (1 - 1 / math.e) / 2  # greedy + best single, Khuller-Moss-Naor 1999

# ---------------------------------------------------------------------- tiny specimens

# Rows 0..3, sites A B C. A={0,1}, B={1,2}, C={2,3}. Worked by hand: with budget 3 the plans are
# {A,B} 9, {B,C} 10, {A} 7, {B} 5, {C} 7, so {B,C} is optimal at 10.
TINY = dict(
    coverage=np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1], [0, 0, 1]]),
    weights=[4.0, 3.0, 2.0, 5.0],
    costs_idr=[2, 1, 2],
    budget_idr=3,
    site_ids=["A", "B", "C"],
)

# The ratio greedy takes cheap B (2 people per Rupiah) and can no longer afford A; the best
# single site A covers 10, the greedy set only 2.
TRAP = dict(
    coverage=np.array([[1, 0], [0, 1]]),
    weights=[10.0, 2.0],
    costs_idr=[10, 1],
    budget_idr=10,
    site_ids=["A", "B"],
)

# Unit costs, budget 2: greedy takes S1 (4 rows) then one of S2/S3 (1 more) = 5, while S2+S3
# covers all 6 rows.
GREEDY_GAP = dict(
    coverage=np.array([[1, 1, 0], [1, 1, 0], [1, 0, 1], [1, 0, 1], [0, 1, 0], [0, 0, 1]]),
    weights=[1.0] * 6,
    costs_idr=[1, 1, 1],
    budget_idr=2,
    site_ids=["S1", "S2", "S3"],
)


def tiny(**overrides):
    kw = {**TINY, **overrides}
    return SitingProblem.from_matrix(
        kw.pop("coverage"), kw.pop("weights"), kw.pop("costs_idr"), kw.pop("budget_idr"), **kw
    )


def make(spec, **kw):
    spec = {**spec, **kw}
    return SitingProblem.from_matrix(
        spec.pop("coverage"),
        spec.pop("weights"),
        spec.pop("costs_idr"),
        spec.pop("budget_idr"),
        **spec,
    )


def random_instance(rng, n_sites, n_rows, *, density=0.3, zero_cost_p=0.1):
    a = rng.random((n_rows, n_sites)) < density
    w = rng.integers(0, 20, size=n_rows).astype(float)
    c = rng.integers(1, 10, size=n_sites)
    c[rng.random(n_sites) < zero_cost_p] = 0
    budget = int(rng.integers(0, max(1, int(c.sum()))))
    return a, w, c, budget


# ---------------------------------------------------------------------- hand-solved problems


@pytest.mark.parametrize("solver", ["greedy", "quality", "brute_force", "exact"])
def test_tiny_problem_solved_by_hand(solver):
    r = solve(tiny(), solver=solver)
    assert set(r.site_ids) == {"B", "C"}
    assert r.site_ids == ("B", "C")  # B first: 5 people for 1 Rupiah
    assert r.covered_weight == 10.0
    assert r.total_cost_idr == 3
    assert r.gains == (5.0, 5.0)
    assert r.cumulative_cost_idr == (1, 3)
    assert r.cumulative_weight == (5.0, 10.0)
    assert r.solver == solver
    if solver in ("brute_force", "exact"):
        assert r.status == "optimal" and r.bound == 10.0
    assert r.bound is not None and r.bound >= 10.0
    assert r.value == r.objective_value == 10.0 and r.sense == "max"


def test_tiny_problem_matches_both_references():
    assert brute_force_optimum(TINY["coverage"], TINY["weights"], TINY["costs_idr"], 3)[0] == 10.0
    assert (
        brute_force_by_combinations(TINY["coverage"], TINY["weights"], TINY["costs_idr"], 3) == 10
    )


def test_best_single_site_beats_ratio_greedy():
    r = solve(make(TRAP))
    assert r.site_ids == ("A",)
    assert r.covered_weight == 10.0
    assert "best single site 'A'" in r.note and "beat" in r.note
    assert solve(make(TRAP), solver="brute_force").covered_weight == 10.0


def test_greedy_can_be_suboptimal_and_says_so():
    r = solve(make(GREEDY_GAP))
    assert r.site_ids[0] == "S1"
    assert r.covered_weight == 5.0
    assert r.status == "heuristic"
    assert r.bound is not None and r.bound >= 6.0
    assert r.gap is not None and r.gap > 0
    assert solve(make(GREEDY_GAP), solver="brute_force").covered_weight == 6.0
    assert solve(make(GREEDY_GAP), solver="exact").covered_weight == 6.0


def test_greedy_that_covers_everything_is_proven_optimal():
    r = solve(tiny(budget_idr=100))
    assert r.covered_weight == 14.0
    assert r.status == "optimal" and r.bound == 14.0


def test_zero_cost_site_is_taken_first_even_with_no_budget():
    p = tiny(costs_idr=[2, 0, 2], budget_idr=0)
    r = solve(p)
    assert r.site_ids == ("B",)
    assert r.total_cost_idr == 0 and r.covered_weight == 5.0
    assert r.status == "optimal"
    r2 = solve(tiny(costs_idr=[2, 0, 2], budget_idr=2))
    assert r2.site_ids[0] == "B"


def test_zero_cost_site_adding_nothing_is_not_taken():
    cov = np.array([[1, 1], [0, 0]])
    p = SitingProblem.from_matrix(cov, [3.0, 1.0], [1, 0], 1, site_ids=["A", "free"])
    r = solve(p)
    # the free site is taken first (it covers row 0), then A adds nothing and is skipped
    assert r.site_ids == ("free",)


def test_nothing_affordable_gives_empty_optimal_plan():
    r = solve(tiny(budget_idr=0))
    assert r.order == () and r.covered_weight == 0.0 and r.total_cost_idr == 0
    assert r.status == "optimal"
    assert "no candidate fits" in r.note and "cheapest costs 1 IDR" in r.note
    assert r.to_frame().empty
    for solver in ("brute_force", "exact"):
        assert solve(tiny(budget_idr=0), solver=solver).order == ()


def test_problem_without_candidates_or_demand():
    p = SitingProblem.from_matrix(sp.csc_array((3, 0), dtype=bool), [1.0, 2.0, 3.0], [], 10)
    assert p.n_sites == 0 and p.n_demand == 0 and p.coverable_weight == 0.0
    assert p.total_weight == 6.0
    for solver in ("greedy", "quality", "brute_force", "exact"):
        r = solve(p, solver=solver)
        assert r.order == () and r.status == "optimal"
    q = SitingProblem.from_matrix(sp.csc_array((0, 2), dtype=bool), [], [1, 2], 10)
    assert solve(q).order == () and solve(q, solver="exact").order == ()


# ---------------------------------------------------------------------- constraints


def test_forced_in_placed_first_in_given_order():
    r = solve(tiny(forced_in=["C", "A"], budget_idr=5))
    assert r.site_ids[:2] == ("C", "A")
    assert r.n_forced == 2
    # A={0,1} and C={2,3} cover every row, so B adds nothing and is not taken
    assert r.site_ids == ("C", "A")
    assert r.covered_weight == 14.0


@pytest.mark.parametrize("solver", ["greedy", "quality", "brute_force", "exact"])
def test_forced_out_and_max_towers_are_honoured(solver):
    r = solve(tiny(forced_out=["B"], budget_idr=100, max_towers=1), solver=solver)
    assert "B" not in r.site_ids
    assert len(r.order) == 1
    assert r.covered_weight == 7.0


@pytest.mark.parametrize("solver", ["greedy", "quality", "brute_force", "exact"])
def test_forced_in_reaching_max_towers(solver):
    r = solve(tiny(forced_in=["A"], max_towers=1, budget_idr=100), solver=solver)
    assert r.site_ids == ("A",) and r.status == "optimal"


def test_forced_in_over_budget_is_infeasible_and_named():
    with pytest.raises(InfeasibleError) as info:
        tiny(forced_in=["A", "C"], budget_idr=3)
    msg = str(info.value)
    assert "'A', 'C'" in msg and "4 IDR" in msg and "budget_idr is 3 IDR" in msg
    assert "short by 1 IDR" in msg


def test_infeasible_constraints_listed_together():
    with pytest.raises(InfeasibleError) as info:
        tiny(forced_in=["A", "B"], forced_out=["B"], max_towers=1, budget_idr=2)
    msg = str(info.value)
    assert "3 problems" in msg
    assert "both forced in and forced out" in msg and "max_towers is 1" in msg


def test_with_constraints_returns_new_problem_sharing_the_matrix():
    p = tiny()
    q = p.with_constraints(budget_idr=100, max_towers=2, forced_out=["A"])
    assert q is not p and q.coverage is p.coverage
    assert (p.budget_idr, p.max_towers, p.forced_out) == (3, None, ())
    assert (q.budget_idr, q.max_towers, q.forced_out) == (100, 2, (0,))
    with pytest.raises(InfeasibleError):
        q.with_constraints(forced_in=["B", "C"], budget_idr=2)
    with pytest.raises(UnitsError, match="budget_idr"):
        p.with_constraints(budget_idr=-1)
    with pytest.raises(SchemaError, match="unknown site id"):
        p.with_constraints(forced_in=["Z"])


# ---------------------------------------------------------------------- validation


def test_every_input_problem_is_reported_at_once():
    with pytest.raises(SchemaError) as info:
        SitingProblem.from_matrix(
            np.array([[2, 0], [1, 0]]),
            [1.0, -1.0, 3.0],
            [1.5, -2],
            -5,
            site_ids=["a", "a"],
            forced_in=["zz"],
        )
    msg = str(info.value)
    for part in (
        "only 0 and 1",
        "weights has 3 entries but coverage has 2",
        "weights must be ≥ 0",
        "whole Rupiah",
        "costs_idr must be ≥ 0",
        "budget_idr must be ≥ 0; received -5",
        "duplicated id(s): 'a'",
        "unknown site id(s): 'zz'",
    ):
        assert part in msg, part


def test_units_errors_alone_raise_units_error():
    with pytest.raises(UnitsError, match=r"budget_idr must be ≥ 0; received -5\."):
        tiny(budget_idr=-5)
    with pytest.raises(UnitsError, match="NaN"):
        tiny(weights=[1.0, np.nan, 1.0, 1.0])
    with pytest.raises(UnitsError, match="finite"):
        tiny(costs_idr=[1.0, np.nan, 2.0])
    with pytest.raises(UnitsError, match="whole number"):
        tiny(budget_idr=2.5)
    with pytest.raises(InputError, match="max_towers"):
        tiny(max_towers=-1)


def test_input_and_units_problems_together_raise_input_error_listing_both():
    with pytest.raises(InputError) as info:
        tiny(max_towers=-1, budget_idr=-5)
    assert len(info.value.problems) == 2
    assert "max_towers must be a whole number" in info.value.problems[1]
    assert "budget_idr must be ≥ 0" in info.value.problems[0]


def test_whole_float_costs_and_budget_are_accepted_as_int64():
    p = tiny(costs_idr=[2.0, 1.0, 2.0], budget_idr=3.0)
    assert p.costs_idr.dtype == np.int64 and p.budget_idr == 3
    big = tiny(costs_idr=[1.7e9, 2.9e9, 2.08e9], budget_idr=8_500_000_000)
    assert big.costs_idr.tolist() == [1_700_000_000, 2_900_000_000, 2_080_000_000]


def test_shape_and_type_errors():
    with pytest.raises(SchemaError, match="costs_idr has 2 entries"):
        tiny(costs_idr=[1, 2])
    with pytest.raises(SchemaError, match="site_ids has 2 entries"):
        tiny(site_ids=["A", "B"])
    with pytest.raises(SchemaError, match="2-D"):
        SitingProblem.from_matrix(np.array([1, 0]), [1.0, 1.0], [1], 1)
    with pytest.raises(SchemaError, match="only 0 and 1"):
        SitingProblem.from_matrix(sp.csr_array(np.array([[0.5, 1.0]])), [1.0], [1, 1], 1)
    with pytest.raises(SchemaError, match="only 0 and 1"):
        SitingProblem.from_matrix(sp.csr_array(np.array([[np.nan, 1.0]])), [1.0], [1, 1], 1)
    with pytest.raises(SchemaError, match="weights must be numbers"):
        tiny(weights=["a", "b", "c", "d"])


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "lil", "dok", "dense"])
def test_any_matrix_format_gives_the_same_problem(fmt):
    a = np.asarray(TINY["coverage"])
    m = a if fmt == "dense" else sp.csr_array(a).asformat(fmt)
    p = tiny(coverage=m)
    assert isinstance(p.coverage, sp.csc_array) and p.coverage.dtype == bool
    assert np.array_equal(p.coverage.toarray(), a.astype(bool))
    assert solve(p).covered_weight == 10.0


def test_repeated_coo_entries_mean_covered_once():
    m = sp.coo_array((np.ones(3), ([0, 0, 1], [1, 1, 0])), shape=(2, 2))
    p = SitingProblem.from_matrix(m, [1.0, 2.0], [1, 1], 1)
    assert p.coverage.toarray().tolist() == [[False, True], [True, False]]


def test_problem_arrays_are_read_only_and_solving_leaves_them_alone():
    p = tiny()
    before = (p.coverage.copy(), p.weights.copy(), p.costs_idr.copy())
    for solver in ("greedy", "brute_force", "exact"):
        solve(p, solver=solver)
    assert (p.coverage != before[0]).nnz == 0
    assert np.array_equal(p.weights, before[1]) and np.array_equal(p.costs_idr, before[2])
    with pytest.raises(ValueError, match="read-only"):
        p.weights[0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        p.coverage.indices[0] = 1
    with pytest.raises(AttributeError):
        p.budget_idr = 5  # type: ignore[misc]


def test_input_arrays_are_not_changed():
    a = sp.csc_array(np.asarray(TINY["coverage"], dtype=np.uint8))
    w = np.array(TINY["weights"])
    tiny(coverage=a, weights=w)
    assert a.dtype == np.uint8 and np.array_equal(a.toarray(), TINY["coverage"])
    assert w.flags.writeable


# ---------------------------------------------------------------------- merging demand rows


def test_identical_rows_are_merged_and_uncoverable_rows_dropped():
    cov = np.array([[1, 0], [0, 0], [1, 0], [0, 1], [1, 1], [0, 0], [1, 1]])
    w = [1.0, 5.0, 2.0, 3.0, 4.0, 6.0, 0.5]
    p = SitingProblem.from_matrix(cov, w, [1, 1], 2)
    assert p.n_demand_original == 7
    assert p.n_demand == 3
    assert p.total_weight == 21.5
    assert p.coverable_weight == 10.5
    assert p.uncoverable_weight == 11.0
    assert p.row_map.tolist() == [0, -1, 0, 1, 2, -1, 2]
    assert p.coverage.toarray().tolist() == [[True, False], [False, True], [True, True]]
    assert p.weights.tolist() == [3.0, 3.0, 4.5]
    r = solve(p, solver="brute_force")
    assert r.covered_mask(p).tolist() == [True, False, True, True, True, False, True]
    only_first = solve(p.with_constraints(forced_out=[1]))
    assert only_first.covered_mask(p).tolist() == [True, False, True, False, True, False, True]


def test_merging_survives_many_rows_and_keeps_first_occurrence_order():
    rng = np.random.default_rng(3)
    patterns = rng.random((5, 40)) < 0.2
    patterns[0] = False
    which = rng.integers(0, 5, size=2000)
    a = patterns[which]
    w = rng.random(2000)
    p = SitingProblem.from_matrix(sp.csr_array(a), w, np.ones(40, dtype=int), 3)
    distinct = [k for k in dict.fromkeys(which.tolist()) if k != 0]
    assert p.n_demand == len(distinct)
    assert np.array_equal(p.coverage.toarray(), patterns[distinct])
    for pos, k in enumerate(distinct):
        assert p.weights[pos] == pytest.approx(w[which == k].sum())
    assert np.array_equal(p.row_map >= 0, which != 0)


def test_hash_collisions_never_merge_different_rows(monkeypatch):
    from blankspot.siting import problem as problem_module

    rng = np.random.default_rng(9)
    a = (rng.random((300, 12)) < 0.2)[rng.integers(0, 300, size=900)]
    w = rng.random(900)
    honest = SitingProblem.from_matrix(sp.csr_array(a), w, np.ones(12, dtype=int), 4)
    # every row hashes alike: the exact check must catch it and group rows exactly
    monkeypatch.setattr(problem_module, "_row_hash", lambda m: np.zeros(m.shape[0], np.uint64))
    fooled = SitingProblem.from_matrix(sp.csr_array(a), w, np.ones(12, dtype=int), 4)
    assert np.array_equal(fooled.row_map, honest.row_map)
    assert (fooled.coverage != honest.coverage).nnz == 0
    assert np.allclose(fooled.weights, honest.weights)
    kept = honest.row_map >= 0
    assert np.array_equal(honest.coverage.toarray()[honest.row_map[kept]], a[kept])


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), dup=st.integers(1, 4))
@example(seed=0, dup=3)
def test_merging_identical_rows_does_not_change_the_optimum(seed, dup):
    rng = np.random.default_rng(seed)
    a, w, c, b = random_instance(rng, 6, 8)
    # repeat every row `dup` times with the weight split between the copies
    a_rep = np.repeat(a, dup, axis=0)
    w_rep = np.repeat(w / dup, dup)
    merged = SitingProblem.from_matrix(sp.csr_array(a_rep), w_rep, c, b)
    assert merged.n_demand <= a.shape[0]
    ref, _ = brute_force_optimum(a, w, c, b)
    assert solve(merged, solver="brute_force").covered_weight == pytest.approx(ref)


# ---------------------------------------------------------------------- solvers against references


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 8), m=st.integers(1, 12))
@example(seed=1, n=3, m=4)
def test_brute_force_solver_matches_reference(seed, n, m):
    rng = np.random.default_rng(seed)
    a, w, c, b = random_instance(rng, n, m)
    k = int(rng.integers(1, n + 1)) if rng.random() < 0.3 else None
    f_out = [int(j) for j in rng.choice(n, size=int(rng.integers(0, 2)), replace=False)]
    p = SitingProblem.from_matrix(a, w, c, b, max_towers=k, forced_out=f_out)
    ref, _ = brute_force_optimum(a, w, c, b, max_towers=k, forced_out=f_out)
    r = solve(p, solver="brute_force")
    assert r.covered_weight == pytest.approx(ref)
    assert r.status == "optimal" and r.total_cost_idr <= b


def test_greedy_meets_kmn_guarantee_and_its_bound_is_valid():
    rng = np.random.default_rng(20240917)
    worst = 1.0
    for _ in range(150):
        n = int(rng.integers(2, 13))
        a, w, c, b = random_instance(rng, n, int(rng.integers(3, 30)), density=0.25)
        p = SitingProblem.from_matrix(a, w, c, b)
        opt, _ = brute_force_optimum(a, w, c, b)
        r = solve(p)
        assert r.total_cost_idr <= b
        assert r.covered_weight >= KMN_RATIO * opt - 1e-9
        assert r.bound is not None and r.bound >= opt - 1e-9  # a proven bound never undercuts
        if r.status == "optimal":
            assert r.covered_weight == pytest.approx(opt)
        if opt > 0:
            worst = min(worst, r.covered_weight / opt)
    assert worst >= KMN_RATIO


def test_lazy_greedy_picks_what_a_plain_greedy_picks():
    rng = np.random.default_rng(7)
    for _ in range(100):
        n = int(rng.integers(1, 15))
        a, w, c, b = random_instance(rng, n, int(rng.integers(1, 40)))
        k = int(rng.integers(1, n + 1)) if rng.random() < 0.3 else None
        p = SitingProblem.from_matrix(a, w, c, b, max_towers=k)
        r = solve(p)
        if r.note.startswith("the best single site"):
            continue  # the comparison with the best single site replaced the greedy set
        assert list(r.order) == plain_greedy(a, w, c, b, max_towers=k)


def test_exact_equals_brute_force_on_random_instances():
    rng = np.random.default_rng(11)
    for _ in range(25):
        n = int(rng.integers(1, 11))
        a, w, c, b = random_instance(rng, n, int(rng.integers(1, 25)))
        k = int(rng.integers(1, n + 1)) if rng.random() < 0.3 else None
        f_in = [0] if c[0] <= b and (k is None or k >= 1) and rng.random() < 0.3 else []
        p = SitingProblem.from_matrix(a, w, c, b, max_towers=k, forced_in=f_in)
        ref, _ = brute_force_optimum(a, w, c, b, max_towers=k, forced_in=f_in)
        r = solve(p, solver="exact", mip_rel_gap=0.0)
        assert r.covered_weight == pytest.approx(ref)
        assert r.status == "optimal"
        assert r.bound is not None and r.bound >= ref - 1e-6
        assert r.total_cost_idr <= b


def test_exact_with_rupiah_sized_costs_stays_within_budget():
    rng = np.random.default_rng(5)
    a, w, _, _ = random_instance(rng, 10, 30)
    c = rng.integers(1_500_000_000, 3_000_000_000, size=10)
    b = int(c[:4].sum())
    r = solve(SitingProblem.from_matrix(a, w, c, b), solver="exact", mip_rel_gap=0.0)
    ref, _ = brute_force_optimum(a, w, c, b)
    assert r.total_cost_idr <= b and r.covered_weight == pytest.approx(ref)


def test_exact_reports_options_problems():
    with pytest.raises(UnitsError, match="time_limit_s"):
        solve(tiny(), solver="exact", time_limit_s=0)


# ---------------------------------------------------------------------- properties


@st.composite
def instances(draw, max_sites=7, max_rows=10):
    n = draw(st.integers(1, max_sites))
    m = draw(st.integers(1, max_rows))
    a = np.array(draw(st.lists(st.booleans(), min_size=n * m, max_size=n * m))).reshape(m, n)
    w = np.array(draw(st.lists(st.integers(0, 9), min_size=m, max_size=m)), dtype=float)
    c = np.array(draw(st.lists(st.integers(0, 6), min_size=n, max_size=n)), dtype=np.int64)
    b = draw(st.integers(0, 20))
    return a, w, c, b


PINNED = (
    np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1], [0, 0, 1]], dtype=bool),
    np.array([4.0, 3.0, 2.0, 5.0]),
    np.array([2, 1, 2]),
    3,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    inst=instances(), col=st.lists(st.booleans(), min_size=10, max_size=10), cost=st.integers(0, 6)
)
@example(inst=PINNED, col=[True] * 10, cost=1)
def test_adding_a_candidate_never_lowers_the_optimum(inst, col, cost):
    a, w, c, b = inst
    extra = np.array(col[: a.shape[0]], dtype=bool)[:, None]
    before = solve(SitingProblem.from_matrix(a, w, c, b), solver="brute_force").covered_weight
    after = solve(
        SitingProblem.from_matrix(np.hstack([a, extra]), w, np.append(c, cost), b),
        solver="brute_force",
    ).covered_weight
    assert after >= before - 1e-9


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inst=instances(), more=st.integers(0, 10))
@example(inst=PINNED, more=1)
def test_raising_the_budget_never_lowers_the_optimum(inst, more):
    a, w, c, b = inst
    p = SitingProblem.from_matrix(a, w, c, b)
    low = solve(p, solver="brute_force").covered_weight
    high = solve(p.with_constraints(budget_idr=b + more), solver="brute_force").covered_weight
    assert high >= low - 1e-9


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inst=instances(max_sites=10, max_rows=15), k=st.one_of(st.none(), st.integers(0, 5)))
@example(inst=PINNED, k=None)
@example(inst=PINNED, k=0)
def test_greedy_never_exceeds_budget_and_stays_under_the_exact_optimum(inst, k):
    a, w, c, b = inst
    p = SitingProblem.from_matrix(a, w, c, b, max_towers=k)
    r = solve(p)
    exact = solve(p, solver="brute_force")
    assert r.total_cost_idr <= b and sum(r.costs_idr) == r.total_cost_idr
    assert k is None or len(r.order) <= k
    assert r.covered_weight <= exact.covered_weight + 1e-9
    assert r.bound is not None and r.bound >= exact.covered_weight - 1e-9
    assert r.cumulative_cost_idr == tuple(np.cumsum(r.costs_idr).tolist())
    assert r.covered_weight == pytest.approx(p.value(r.order))


# ---------------------------------------------------------------------- result object and dispatch


def test_to_frame_columns_and_types():
    f = solve(tiny()).to_frame()
    assert list(f.columns) == [
        "rank",
        "site_id",
        "cost_idr",
        "weight_new",
        "cumulative_cost_idr",
        "cumulative_weight",
    ]
    assert f["rank"].tolist() == [1, 2]
    assert f["site_id"].tolist() == ["B", "C"]
    assert f["cost_idr"].dtype == np.int64 and f["cumulative_cost_idr"].dtype == np.int64
    assert f["cumulative_weight"].tolist() == [5.0, 10.0]


def test_result_is_frozen_and_belongs_to_its_problem():
    p = tiny()
    r = solve(p)
    with pytest.raises(AttributeError):
        r.status = "optimal"  # type: ignore[misc]
    other = tiny(site_ids=["X", "Y", "Z"])
    with pytest.raises(SchemaError, match="does not belong"):
        r.covered_mask(other)
    assert r.covered_mask(p).tolist() == [False, True, True, True]


def test_solver_dispatch():
    assert {"greedy", "quality", "brute_force", "exact"} <= set(available_solvers())
    with pytest.raises(ConfigError, match="unknown solver 'simplex'"):
        solve(tiny(), solver="simplex")
    with pytest.raises(SchemaError, match="takes a SitingProblem"):
        solve("not a problem")  # type: ignore[arg-type]


def test_callable_solver_is_checked():
    def everything(problem):
        return SitingResult(
            order=(0, 1, 2),
            site_ids=("A", "B", "C"),
            gains=(7.0, 2.0, 5.0),
            costs_idr=(2, 1, 2),
            cumulative_cost_idr=(2, 3, 5),
            cumulative_weight=(7.0, 9.0, 14.0),
            covered_weight=14.0,
            total_cost_idr=5,
            budget_idr=3,
            status="optimal",
            solver="everything",
        )

    with pytest.raises(InfeasibleError, match="over budget_idr 3 IDR"):
        solve(tiny(), solver=everything)
    assert solve(tiny(budget_idr=5), solver=everything).covered_weight == 14.0


def test_registered_solver_is_dispatched():
    calls = []

    @register_solver("test_only_greedy")
    def _mine(problem, **options):
        calls.append(options)
        return solve(problem)

    try:
        r = solve(tiny(), solver="test_only_greedy", flavour="plain")
        assert r.covered_weight == 10.0 and calls == [{"flavour": "plain"}]
    finally:
        from blankspot.siting import solvers

        solvers._SOLVERS.pop("test_only_greedy")


def test_brute_force_refuses_large_problems_clearly():
    rng = np.random.default_rng(0)
    n = BRUTE_FORCE_MAX_SITES + 1
    a = np.eye(n, dtype=bool)
    p = SitingProblem.from_matrix(a, rng.random(n) + 1, np.ones(n, dtype=int), n)
    with pytest.raises(ConfigError, match=rf"at most {BRUTE_FORCE_MAX_SITES} free candidates"):
        solve(p, solver="brute_force")
    # forced sites do not count towards the limit
    q = p.with_constraints(forced_in=[0, 1])
    assert solve(q, solver="brute_force").covered_weight == pytest.approx(q.weights.sum())


def test_from_coverage_aligns_costs_by_site_id():
    from blankspot.aggregate import CoverageMatrix

    cm = CoverageMatrix(
        matrix=sp.csc_matrix(np.asarray(TINY["coverage"])),
        demand=pd.DataFrame(
            {"village_id": ["v1", "v1", "v2", "v2"], "population": TINY["weights"]}
        ),
        site_ids=("A", "B", "C"),
    )
    costs = pd.Series({"C": 2, "A": 2, "B": 1})
    p = SitingProblem.from_coverage(cm, costs, 3)
    assert p.costs_idr.tolist() == [2, 1, 2]
    assert solve(p).site_ids == ("B", "C")
    with pytest.raises(SchemaError, match="no cost for 1 site"):
        SitingProblem.from_coverage(cm, costs.drop("B"), 3)


def test_no_warnings_on_ordinary_use():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for solver in ("greedy", "brute_force", "exact"):
            solve(tiny(), solver=solver)
            solve(make(GREEDY_GAP), solver=solver)
