"""Tests of the siting objectives (desa resolved, weighted, cover targets), the location and
kecamatan constraints, the quality solver, the HiGHS exact solver and the LP certificate."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from blankspot.errors import ConfigError, InfeasibleError, InputError, SchemaError, UnitsError
from blankspot.siting import (
    Objective,
    SitingProblem,
    lp_relaxation_bound,
    solve,
)
from reference.siting import brute_force_general

EXACT_SOLVERS = ["brute_force", "exact"]
ALL_SOLVERS = ["greedy", "quality", "brute_force", "exact"]

# ---------------------------------------------------------------------- tiny specimens

# Rows r0..r4; desa d1 = {r0 (6), r1 (2)}, desa 64.01.09.2003 = {r2 (4), r3 (1)}, r4 (10) in no
# desa. Sites: A={r0} 1 Rp, B={r0,r1} 2 Rp, C={r2} 1 Rp, D={r4} 1 Rp; r3 is out of reach.
# At β = 0.8, d1 needs 6.4 people (only B gives it) and the other desa needs 4 (C gives it).
# Worked by hand at budget 3: people covered is best with {A,C,D} = 20 (one desa resolved);
# desa resolved is best with {B,C} = 2 (12 people).
D2 = "64.01.09.2003"
DESA = dict(
    coverage=np.array(
        [[1, 1, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0], [0, 0, 0, 1]], dtype=bool
    ),
    weights=[6.0, 2.0, 4.0, 1.0, 10.0],
    costs_idr=[1, 2, 1, 1],
    budget_idr=3,
    site_ids=["A", "B", "C", "D"],
    groups=["d1", "d1", D2, D2, None],
)

# Two heights at location L1: A30 = {r0, r4}, A60 = {r0, r1, r2}; B = {r3} at L2. Weights 5, 4,
# 3, 2, 6. With budget 4 all three cover everything (20), but one height per location leaves
# A60 + B = 14 as the best.
LOCATIONS = dict(
    coverage=np.array([[1, 1, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]], dtype=bool),
    weights=[5.0, 4.0, 3.0, 2.0, 6.0],
    costs_idr=[1, 2, 1],
    budget_idr=4,
    site_ids=["A30", "A60", "B"],
    location_ids=["L1", "L1", "L2"],
)

# A and B in kecamatan k1 cover 10 people each; C in k2 covers 1 for 2 Rp. Budget 2: without
# a minimum A + B (20); with at least one tower in k2, only C fits.
KECAMATAN = dict(
    coverage=np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=bool),
    weights=[10.0, 10.0, 1.0],
    costs_idr=[1, 1, 2],
    budget_idr=2,
    site_ids=["A", "B", "C"],
    kecamatan_ids=["k1", "k1", "k2"],
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


# ---------------------------------------------------------------------- objectives by hand


@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_people_objective_on_the_desa_specimen(solver):
    r = solve(make(DESA), solver=solver)
    assert r.covered_weight == 20.0 and set(r.site_ids) == {"A", "C", "D"}
    assert r.desa_resolved == 1 and r.value == 20.0


@pytest.mark.parametrize("solver", ["quality", "brute_force", "exact"])
def test_desa_resolved_objective(solver):
    p = make(DESA, objective="desa")
    r = solve(p, solver=solver)
    assert set(r.site_ids) == {"B", "C"}
    assert r.value == 2.0 and r.desa_resolved == 2 and r.covered_weight == 12.0
    assert p.resolved(r.order).tolist() == [True, True]
    assert p.group_shares(r.order).tolist() == [1.0, 0.8]


def test_desa_greedy_follows_the_capped_score_and_says_how_far_it_may_be():
    # capped at β W_d, A is worth 6/6.4 of d1 for 1 Rp and B all of it for 2 Rp, so the greedy
    # takes C then A and resolves one desa only; its bound still covers the optimum of 2
    r = solve(make(DESA, objective="desa"))
    assert r.site_ids == ("C", "A") and r.value == 1.0 and r.desa_resolved == 1
    assert r.bound >= 2.0 and r.status == "heuristic"


@pytest.mark.parametrize("solver", ALL_SOLVERS)
@pytest.mark.parametrize(("desa_weight", "best"), [(5.0, {"A", "C", "D"}), (10.0, {"B", "C"})])
def test_weighted_objective(solver, desa_weight, best):
    # {A,C,D}: 20 people + 1 desa; {B,C}: 12 people + 2 desa
    r = solve(make(DESA, objective={"people": 1.0, "desa": desa_weight}), solver=solver)
    optimum = max(20 + desa_weight, 12 + 2 * desa_weight)
    if solver == "greedy" and desa_weight == 10.0:  # the capped score misleads it, as above
        assert r.value == 30.0 and r.bound >= optimum
        return
    assert set(r.site_ids) == best
    assert r.value == optimum


def test_group_values_weight_the_desa():
    p = make(DESA, objective="desa", group_values={"d1": 3.0})  # the other desa counts 0
    assert p.group_values.tolist() == [3.0, 0.0]
    r = solve(p, solver="exact")
    assert "B" in r.site_ids and r.value == 3.0


def test_desa_weights_count_uncovered_rows_and_rows_merge_only_within_a_desa():
    p = make(DESA)
    assert p.group_ids == ("d1", D2)
    assert p.group_weights.tolist() == [8.0, 5.0]  # r3 is out of reach but still counts
    # r0 and r1 differ in coverage; nothing merges here, r3 is dropped
    assert p.n_demand == 4 and p.row_map.tolist() == [0, 1, 2, -1, 3]
    same_cover = np.array([[1], [1], [1]], dtype=bool)
    q = SitingProblem.from_matrix(same_cover, [1.0, 2.0, 3.0], [1], 1, groups=["a", "b", "a"])
    assert q.n_demand == 2 and q.row_map.tolist() == [0, 1, 0]
    assert q.groups.tolist() == [0, 1] and q.weights.tolist() == [4.0, 2.0]
    assert SitingProblem.from_matrix(same_cover, [1.0, 2.0, 3.0], [1], 1).n_demand == 1


def test_group_hash_collisions_never_merge_rows_of_different_desa(monkeypatch):
    from blankspot.siting import problem as problem_module

    rng = np.random.default_rng(4)
    a = (rng.random((40, 6)) < 0.3)[rng.integers(0, 40, size=300)]
    groups = rng.integers(0, 5, size=300)
    w = rng.random(300)
    honest = SitingProblem.from_matrix(sp.csr_array(a), w, np.ones(6, int), 2, groups=groups)
    monkeypatch.setattr(problem_module, "_group_salt", lambda g: np.zeros(g.size, np.uint64))
    fooled = SitingProblem.from_matrix(sp.csr_array(a), w, np.ones(6, int), 2, groups=groups)
    assert np.array_equal(fooled.row_map, honest.row_map)
    assert np.array_equal(fooled.groups, honest.groups)
    kept = honest.row_map >= 0
    labels = np.asarray(honest.group_ids)
    assert np.array_equal(labels[honest.groups[honest.row_map[kept]]], groups[kept])


# ---------------------------------------------------------------------- cover targets by hand


@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_min_cost_to_resolve_every_target_desa(solver):
    p = make(DESA, budget_idr=None, resolve_groups="all")
    assert p.sense == "min" and p.budget_idr == 5
    r = solve(p, solver=solver)
    assert set(r.site_ids) == {"B", "C"} and r.total_cost_idr == 3
    assert r.value == 3.0 and r.sense == "min"
    assert r.bound is not None and r.bound <= 3.0


@pytest.mark.parametrize("solver", ALL_SOLVERS)
@pytest.mark.parametrize(("share", "cost"), [(0.5, 2), (0.9, 4)])
def test_min_cost_to_cover_a_share_of_the_people(solver, share, cost):
    # W = 23: α=0.5 needs 11.5 (D + A = 16 for 2 Rp); α=0.9 needs 20.7 (B + C + D = 22, 4 Rp)
    r = solve(make(DESA, budget_idr=None, cover_share=share), solver=solver)
    assert r.total_cost_idr == cost
    assert r.covered_weight >= share * 23
    if solver != "greedy":
        assert r.status == "optimal" or solver == "quality"


def test_cover_target_within_a_budget_cap():
    p = make(DESA, budget_idr=3, cover_share=0.9)  # needs 4 Rp: nothing fits under 3
    for solver in EXACT_SOLVERS:
        with pytest.raises(InfeasibleError, match="cannot all be met"):
            solve(p, solver=solver)
    with pytest.raises(InfeasibleError, match="budget_idr 3 IDR"):
        solve(p)


def test_unreachable_desa_is_named_with_its_best_share():
    with pytest.raises(InfeasibleError) as info:
        make(DESA, budget_idr=None, resolve_groups=[D2], resolved_share=1.0)
    msg = str(info.value)
    assert f"desa {D2} cannot reach β=1: the best any candidate set covers is 0.80" in msg


def test_unreachable_cover_share_is_named():
    with pytest.raises(
        InfeasibleError,
        match=r"cover_share α=0.99 cannot be met: the best any "
        r"candidate set covers is 0.96 of the 23 people",
    ):
        make(DESA, budget_idr=None, cover_share=0.99)
    with pytest.raises(InfeasibleError, match="forced-out sites are left out"):
        make(DESA, budget_idr=None, cover_share=0.9, forced_out=["D"])


def test_cover_target_to_budgeted_and_back():
    p = make(DESA)
    q = p.with_constraints(cover_share=0.5, budget_idr=None)
    assert q.sense == "min" and q.coverage is p.coverage
    back = q.with_constraints(cover_share=None, budget_idr=3)
    assert back.sense == "max" and solve(back).covered_weight == 20.0


# ---------------------------------------------------------------------- location and kecamatan


@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_one_height_per_location(solver):
    r = solve(make(LOCATIONS), solver=solver)
    if solver == "greedy":  # A30 first (11 people for 1 Rp) shuts A60 out: 13, not 14
        assert set(r.site_ids) == {"A30", "B"} and r.covered_weight == 13.0 <= 14.0 <= r.bound
    else:
        assert set(r.site_ids) == {"A60", "B"} and r.covered_weight == 14.0
    free = make({k: v for k, v in LOCATIONS.items() if k != "location_ids"})
    assert solve(free, solver=solver).covered_weight == 20.0


def test_forced_in_heights_sharing_a_location_are_infeasible():
    with pytest.raises(InfeasibleError, match="share location 'L1'"):
        make(LOCATIONS, forced_in=["A30", "A60"])


@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_kecamatan_minimum_is_honoured(solver):
    assert solve(make(KECAMATAN), solver=solver).covered_weight == 20.0
    r = solve(make(KECAMATAN, min_towers_per_kecamatan={"k2": 1}), solver=solver)
    assert r.site_ids == ("C",) and r.covered_weight == 1.0


@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_kecamatan_minimum_takes_a_site_adding_nothing(solver):
    # C covers nobody, yet a tower must stand in k2
    p = make(
        KECAMATAN,
        coverage=np.array([[1, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=bool),
        budget_idr=4,
        min_towers_per_kecamatan={"k2": 1},
    )
    r = solve(p, solver=solver)
    assert set(r.site_ids) == {"A", "B", "C"} and r.covered_weight == 20.0


def test_kecamatan_minima_problems_are_named():
    with pytest.raises(
        InfeasibleError,
        match=r"kecamatan 'k2' needs at least 2 more tower\(s\) "
        r"but has only 1 open candidate location",
    ):
        make(KECAMATAN, min_towers_per_kecamatan={"k2": 2})
    with pytest.raises(InfeasibleError, match="need at least 2 IDR of towers"):
        make(KECAMATAN, budget_idr=1, min_towers_per_kecamatan={"k2": 1})
    with pytest.raises(InfeasibleError, match="need at least 3 towers"):
        make(KECAMATAN, budget_idr=9, max_towers=2, min_towers_per_kecamatan={"k1": 2, "k2": 1})
    with pytest.raises(InfeasibleError, match="kecamatan 'k9' needs at least 1"):
        make(KECAMATAN, min_towers_per_kecamatan={"k9": 1})


def test_constraints_that_fail_only_together_are_named():
    # resolving d1 needs B (2 Rp); a tower in k2 needs C (1 Rp, for nobody); budget 2
    p = make(
        DESA,
        budget_idr=2,
        resolve_groups=["d1"],
        kecamatan_ids=["k1", "k1", "k2", "k1"],
        min_towers_per_kecamatan={"k2": 1},
    )
    with pytest.raises(InfeasibleError, match="no plan satisfies all of them together"):
        solve(p, solver="brute_force")
    with pytest.raises(InfeasibleError, match="cannot all be met"):
        solve(p, solver="exact")
    with pytest.raises(InfeasibleError, match="kecamatan minima"):
        solve(p)


def test_new_input_problems_are_reported_at_once():
    with pytest.raises(SchemaError) as info:
        SitingProblem.from_matrix(
            np.eye(2, dtype=bool),
            [1.0, 1.0],
            [1, 1],
            1,
            groups=["a"],
            location_ids=["x", "y", "z"],
            kecamatan_ids=["k", "k"],
            min_towers_per_kecamatan={"k": 1},
            resolve_groups=["zz"],
            objective="desa",
        )
    msg = str(info.value)
    assert "groups has 1 entries" in msg and "location_ids has 3 entries" in msg
    with pytest.raises(SchemaError, match="needs kecamatan_ids"):
        make(KECAMATAN, kecamatan_ids=None, min_towers_per_kecamatan={"k2": 1})
    with pytest.raises(SchemaError, match="unknown desa id"):
        make(DESA, budget_idr=None, resolve_groups=["nowhere"])
    with pytest.raises(SchemaError, match="a desa objective needs groups"):
        make(KECAMATAN, objective="desa")
    with pytest.raises(SchemaError, match="objective applies to budgeted problems"):
        make(DESA, objective="desa", cover_share=0.5)
    with pytest.raises(SchemaError, match="different kecamatan"):
        make(LOCATIONS, kecamatan_ids=["k1", "k2", "k1"])
    with pytest.raises(InputError) as info:
        make(DESA, resolved_share=1.5, cover_share=0.0, objective={"people": -1})
    msg = str(info.value)
    assert "resolved_share must be a share in (0, 1]" in msg and "cover_share" in msg
    assert "finite and ≥ 0" in msg
    with pytest.raises(UnitsError, match="budget_idr must be a whole number"):
        make(DESA, budget_idr=None)
    with pytest.raises(InputError, match="unknown objective"):
        Objective.parse("coverage")


def test_problem_repr_and_objective_parsing():
    assert Objective.parse("desa") == Objective(0.0, 1.0)
    assert Objective.parse({"people": 2}) == Objective(2.0, 0.0)
    text = repr(make(DESA, objective="desa", location_ids=["a", "b", "c", "d"]))
    assert "n_groups=2" in text and "n_locations=4" in text


# ---------------------------------------------------------------------- solvers against references


def random_spec(rng, kind, *, n_max=10, m_max=15):
    """A random small instance of one objective, with random constraints, and the reference's
    keywords for it."""
    n = int(rng.integers(1, n_max + 1))
    m = int(rng.integers(1, m_max + 1))
    a = rng.random((m, n)) < 0.3
    w = rng.integers(0, 20, size=m).astype(float)
    c = rng.integers(1, 10, size=n)
    c[rng.random(n) < 0.1] = 0
    groups = [f"d{g}" if rng.random() < 0.9 else None for g in rng.integers(0, 4, size=m)]
    groups[0] = "d0"  # at least one desa
    beta = float(rng.choice([0.5, 0.8, 1.0]))
    kw = dict(groups=groups, resolved_share=beta)
    ref = dict(groups=groups, resolved_share=beta)
    if rng.random() < 0.4:
        locs = [f"L{x}" for x in rng.integers(0, n // 2 + 1, size=n)]
        kw["location_ids"] = ref["location_ids"] = locs
    if rng.random() < 0.3:
        kecs = [f"K{x}" for x in rng.integers(0, 3, size=n)]
        if "location_ids" in kw:
            first = {}
            kecs = [
                first.setdefault(loc, k) for loc, k in zip(kw["location_ids"], kecs, strict=True)
            ]
        mins = {kecs[0]: 1}
        kw.update(kecamatan_ids=kecs, min_towers_per_kecamatan=mins)
        ref.update(kecamatan_ids=kecs, minima=mins)
    if rng.random() < 0.3:
        kw["max_towers"] = ref["max_towers"] = int(rng.integers(1, n + 1))
    if rng.random() < 0.2:
        kw["forced_out"] = ref["forced_out"] = [int(rng.integers(0, n))]
    if rng.random() < 0.2 and "forced_out" not in kw:
        kw["forced_in"] = ref["forced_in"] = [int(rng.integers(0, n))]
    budget = int(rng.integers(0, max(1, int(c.sum())) + 1))
    if kind == "desa":
        kw["objective"] = "desa"
        ref.update(people=0.0, desa=1.0)
    elif kind == "mix":
        kw["objective"] = {"people": 1.0, "desa": 25.0}
        ref.update(people=1.0, desa=25.0)
    elif kind == "share":
        kw["cover_share"] = ref["cover_share"] = float(rng.choice([0.3, 0.5, 0.7]))
        budget = None if rng.random() < 0.5 else budget
    elif kind == "resolve":
        labels = sorted({g for g in groups if g is not None})
        kw["resolve_groups"] = ref["resolve_groups"] = labels[: max(1, len(labels) // 2)]
        budget = None if rng.random() < 0.5 else budget
    return a, w, c, budget, kw, ref


KINDS = ["people", "desa", "mix", "share", "resolve"]


@pytest.mark.parametrize("kind", KINDS)
def test_exact_solvers_equal_the_reference_and_heuristics_stay_within_bounds(kind):
    rng = np.random.default_rng(KINDS.index(kind) + 100)
    checked = 0
    for _ in range(40):
        a, w, c, b, kw, ref = random_spec(rng, kind)
        opt, _ = brute_force_general(a, w, c, b, **ref)
        try:
            p = SitingProblem.from_matrix(a, w, c, b, **kw)
        except InfeasibleError:
            assert not math.isfinite(opt)
            continue
        if not math.isfinite(opt):
            for solver in EXACT_SOLVERS:
                with pytest.raises(InfeasibleError):
                    solve(p, solver=solver)
            continue
        for solver in EXACT_SOLVERS:
            r = solve(p, solver=solver, **({"mip_rel_gap": 0.0} if solver == "exact" else {}))
            assert r.value == pytest.approx(opt), (solver, kw, b)
            assert r.status == "optimal"
        lp = lp_relaxation_bound(p)
        for solver in ("greedy", "quality"):
            try:
                r = solve(p, solver=solver)
            except InfeasibleError:
                assert p.sense == "min"  # a heuristic cover may miss a tight budget
                continue
            assert r.total_cost_idr <= p.budget_idr
            if p.sense == "max":
                assert r.value <= opt + 1e-9 and r.bound >= opt - 1e-6 and lp >= opt - 1e-6
            else:
                assert r.value >= opt - 1e-9 and r.bound <= opt + 1e-6 and lp <= opt + 1e-6
            assert r.lp_bound == pytest.approx(lp)
        checked += 1
    assert checked >= 10


def test_quality_is_never_worse_than_greedy_and_reports_the_improvement():
    # unit costs, budget 2: greedy takes S1 (4 rows) then one more = 5; S2 + S3 cover all 6
    a = np.array([[1, 1, 0], [1, 1, 0], [1, 0, 1], [1, 0, 1], [0, 1, 0], [0, 0, 1]])
    p = SitingProblem.from_matrix(a, [1.0] * 6, [1, 1, 1], 2, site_ids=["S1", "S2", "S3"])
    g, q = solve(p), solve(p, solver="quality")
    assert g.covered_weight == 5.0 and q.covered_weight == 6.0
    assert q.greedy_value == 5.0 and q.improvement == pytest.approx(0.2)
    assert "+20.00 %" in q.note
    rng = np.random.default_rng(8)
    for _ in range(30):
        a, w, c, b, kw, _ = random_spec(rng, "people", n_max=14, m_max=30)
        try:
            p = SitingProblem.from_matrix(a, w, c, b, **kw)
        except InfeasibleError:
            continue
        assert solve(p, solver="quality").value >= solve(p).value - 1e-9


def test_quality_cover_never_costs_more_than_the_greedy_cover():
    rng = np.random.default_rng(9)
    for _ in range(30):
        a, w, c, _, kw, _ = random_spec(rng, "share", n_max=12, m_max=25)
        try:
            p = SitingProblem.from_matrix(a, w, c, None, **kw)
            g = solve(p)
        except InfeasibleError:
            continue
        q = solve(p, solver="quality")
        assert q.total_cost_idr <= g.total_cost_idr and q.greedy_value == g.total_cost_idr


# ---------------------------------------------------------------------- exact: HiGHS specifics


def medium(seed=0, n=300, m=3000, budget_sites=8):
    rng = np.random.default_rng(seed)
    a = sp.random(m, n, density=0.01, random_state=rng, format="csc") > 0
    w = rng.gamma(0.5, 3.0, size=m)
    c = rng.integers(1_000_000_000, 2_500_000_000, size=n)
    return SitingProblem.from_matrix(a, w, c, int(budget_sites * 1_700_000_000))


def test_exact_is_warm_started_and_never_below_the_greedy_under_a_time_limit():
    p = medium()
    g = solve(p)
    r = solve(p, solver="exact", time_limit_s=0.2)
    assert r.status in ("optimal", "feasible")
    assert r.value >= g.value - 1e-6 and r.greedy_value == pytest.approx(g.value)
    assert r.bound >= r.value and r.gap is not None and r.gap >= 0
    assert "greedy plan" in r.note


def test_exact_retries_cold_when_highs_mishandles_the_start(monkeypatch):
    from blankspot.siting import _milp

    real = _milp._run_milp
    calls = []

    def flaky(problem, start, time_limit_s, mip_rel_gap):
        calls.append(start)
        return None if start is not None else real(problem, start, time_limit_s, mip_rel_gap)

    monkeypatch.setattr(_milp, "_run_milp", flaky)
    p = make(DESA, objective="desa")
    r = solve(p, solver="exact")
    assert calls[0] is not None and calls[1] is None
    assert r.value == 2.0 and "mishandled the start plan" in r.note


def test_lp_bound_is_computed_once_per_problem(monkeypatch):
    from blankspot.siting import _milp

    p = medium(seed=1, n=60, m=400)
    first = lp_relaxation_bound(p)
    monkeypatch.setattr(_milp, "build", lambda *a, **k: pytest.fail("LP solved twice"))
    assert lp_relaxation_bound(p) == first
    r = solve(p)
    assert r.lp_bound == first and r.bound <= first + 1e-9
    assert solve(p, lp_bound=False).lp_bound is None


def test_highs_prints_nothing():
    code = textwrap.dedent(
        """
        import numpy as np
        from blankspot.siting import SitingProblem, solve
        p = SitingProblem.from_matrix(np.eye(3, dtype=bool), [1.0, 2.0, 3.0], [1, 1, 1], 2)
        solve(p, solver="exact")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "" and out.stderr == ""


def test_solver_options_are_checked():
    p = make(DESA)
    with pytest.raises(ConfigError, match="lp_bound must be True, False or None"):
        solve(p, lp_bound="yes")
    with pytest.raises(ConfigError, match="unexpected keyword argument"):
        solve(p, solver="greedy", time_limit_s=3)
    with pytest.raises(ConfigError, match="whole numbers ≥ 0"):
        solve(p, solver="quality", n_seeds=-1)
    with pytest.raises(ConfigError, match="mip_rel_gap") as info:  # with a unit problem
        solve(p, solver="exact", mip_rel_gap=2, time_limit_s=-1)
    assert "time_limit_s must be > 0 seconds" in str(info.value)
    assert len(info.value.problems) == 2
    with pytest.raises(UnitsError, match="lp_time_limit_s must be > 0 seconds"):
        solve(p, lp_time_limit_s=0)


# ---------------------------------------------------------------------- properties


@st.composite
def desa_instances(draw, max_sites=7, max_rows=10):
    n = draw(st.integers(1, max_sites))
    m = draw(st.integers(1, max_rows))
    a = np.array(draw(st.lists(st.booleans(), min_size=n * m, max_size=n * m))).reshape(m, n)
    w = np.array(draw(st.lists(st.integers(0, 9), min_size=m, max_size=m)), dtype=float)
    c = np.array(draw(st.lists(st.integers(0, 6), min_size=n, max_size=n)), dtype=np.int64)
    g = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=m, max_size=m))
    b = draw(st.integers(0, 20))
    return a, w, c, b, g


PINNED = (
    DESA["coverage"],
    np.array(DESA["weights"]),
    np.array(DESA["costs_idr"]),
    3,
    ["d1", "d1", "d2", "d2", "x"],
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inst=desa_instances(), desa_weight=st.sampled_from([0.0, 1.0, 7.5]))
@example(inst=PINNED, desa_weight=7.5)
def test_lp_bound_exact_and_heuristics_are_ordered(inst, desa_weight):
    a, w, c, b, g = inst
    objective = {"people": 1.0, "desa": desa_weight}
    p = SitingProblem.from_matrix(a, w, c, b, groups=g, objective=objective)
    opt = solve(p, solver="brute_force").value
    assert lp_relaxation_bound(p) >= opt - 1e-6
    for solver in ("greedy", "quality"):
        r = solve(p, solver=solver)
        assert r.value <= opt + 1e-9 <= r.bound + 2e-9
        assert r.total_cost_idr <= b


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inst=desa_instances(), share=st.sampled_from([0.25, 0.5, 0.9]))
@example(inst=PINNED, share=0.5)
def test_cover_lp_bound_exact_and_heuristics_are_ordered(inst, share):
    a, w, c, _, g = inst
    try:
        p = SitingProblem.from_matrix(a, w, c, None, groups=g, cover_share=share)
    except InfeasibleError:
        return
    opt = solve(p, solver="brute_force").value
    assert lp_relaxation_bound(p) <= opt + 1e-6
    for solver in ("greedy", "quality"):
        r = solve(p, solver=solver)
        assert r.bound - 1e-6 <= opt <= r.value + 1e-9
        assert p.meets_target(r.order)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    inst=desa_instances(),
    col=st.lists(st.booleans(), min_size=10, max_size=10),
    cost=st.integers(0, 6),
)
@example(inst=PINNED, col=[True] * 10, cost=1)
def test_adding_a_candidate_never_lowers_the_desa_optimum(inst, col, cost):
    a, w, c, b, g = inst
    extra = np.array(col[: a.shape[0]], dtype=bool)[:, None]
    before = solve(
        SitingProblem.from_matrix(a, w, c, b, groups=g, objective="desa"), solver="brute_force"
    )
    after = solve(
        SitingProblem.from_matrix(
            np.hstack([a, extra]), w, np.append(c, cost), b, groups=g, objective="desa"
        ),
        solver="brute_force",
    )
    assert after.value >= before.value


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inst=desa_instances(), more=st.integers(0, 10))
@example(inst=PINNED, more=1)
def test_raising_the_budget_never_lowers_the_optimum_under_locations(inst, more):
    a, w, c, b, g = inst
    locs = [j // 2 for j in range(a.shape[1])]  # pairs of heights
    p = SitingProblem.from_matrix(
        a, w, c, b, groups=g, objective={"people": 1, "desa": 3}, location_ids=locs
    )
    low = solve(p, solver="brute_force").value
    high = solve(p.with_constraints(budget_idr=b + more), solver="brute_force").value
    assert high >= low - 1e-9
