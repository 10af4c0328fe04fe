"""Coverage as a probability: the location-variability helper and probabilistic siting."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.sparse as sp

from blankspot.errors import SchemaError, UnitsError
from blankspot.propagation.budget import DEFAULT_SIGMA_L_DB, coverage_probability
from blankspot.siting import DEFAULT_RESOLVED_SHARE, SitingProblem, solve
from blankspot.siting import _engine as eng


def test_probability_is_one_half_at_the_threshold() -> None:
    assert coverage_probability(-105.0, -105.0, 8.0) == 0.5
    assert coverage_probability(-90.0, -90.0) == 0.5


def test_probability_closed_form_symmetric_and_monotone() -> None:
    t, s = -105.0, 8.0
    d = np.linspace(-40.0, 40.0, 161)
    p = np.asarray(coverage_probability(t + d, t, s))
    assert np.all(np.diff(p) > 0)
    np.testing.assert_allclose(p + p[::-1], 1.0, rtol=0, atol=1e-15)  # p(T+d) + p(T-d) = 1
    expected = [0.5 * math.erfc(-x / (s * math.sqrt(2.0))) for x in d]
    np.testing.assert_allclose(p, expected, rtol=1e-14, atol=1e-300)
    # one sigma above the threshold: Φ(1)
    assert coverage_probability(t + s, t, s) == pytest.approx(0.8413447460685429, rel=1e-12)


def test_default_sigma_matches_the_link_budget_margin() -> None:
    # the 7 dB default margin is 1.2816 σ_L: 90 % of locations
    p = coverage_probability(-105.0 + 1.2816 * DEFAULT_SIGMA_L_DB, -105.0)
    assert p == pytest.approx(0.90, abs=1e-4)


def test_probability_nan_is_zero_and_bad_sigma_is_refused() -> None:
    out = np.asarray(coverage_probability(np.array([np.nan, -200.0, 0.0]), -105.0, 5.5))
    assert out[0] == 0.0 and out[1] < 1e-30 and out[2] == 1.0
    with pytest.raises(UnitsError, match="sigma_l_db"):
        coverage_probability(-100.0, -105.0, 0.0)
    with pytest.raises(UnitsError, match="sigma_l_db"):
        coverage_probability(-100.0, -105.0, math.nan)


# ---------------------------------------------------------------------- probabilistic siting


APPROX = (1 - 1 / math.e) / 2


def _instance(seed: int, *, n_sites: int = 8, n_rows: int = 25, groups: bool = False) -> dict:
    rng = np.random.default_rng(seed)
    reach = rng.random((n_rows, n_sites)) < 0.35
    prob = np.where(reach, rng.uniform(0.02, 1.0, (n_rows, n_sites)), 0.0)
    prob[rng.random((n_rows, n_sites)) < 0.05] = 1.0
    costs = rng.integers(1, 6, n_sites)
    out = dict(
        coverage=sp.csr_array(prob),
        weights=rng.integers(0, 30, n_rows).astype(float),
        costs_idr=costs,
        budget_idr=int(costs.sum() * rng.uniform(0.2, 0.6)),
    )
    if groups:
        out["groups"] = rng.integers(0, 4, n_rows)
    return out


def _build(inst: dict, **kw: object) -> SitingProblem:
    args = {k: inst[k] for k in ("coverage", "weights", "costs_idr", "budget_idr")}
    extra = {k: v for k, v in inst.items() if k not in args}
    return SitingProblem.from_matrix(*args.values(), probabilities=True, **extra, **kw)


def _naive_value(prob: np.ndarray, w: np.ndarray, plan: tuple[int, ...]) -> float:
    served = 1.0 - np.prod(1.0 - prob[:, list(plan)], axis=1)
    return float(w @ served)


def _naive_best(
    inst: dict, value: object, *, max_towers: int | None = None
) -> tuple[float, tuple[int, ...]]:
    n = inst["costs_idr"].size
    best: tuple[float, tuple[int, ...]] = (-1.0, ())
    for k in range(n + 1):
        for plan in itertools.combinations(range(n), k):
            if int(inst["costs_idr"][list(plan)].sum()) > inst["budget_idr"]:
                continue
            if max_towers is not None and k > max_towers:
                continue
            v = value(plan)  # type: ignore[operator]
            if v > best[0]:
                best = (v, plan)
    return best


def test_probability_objective_is_the_expected_people_served() -> None:
    inst = _instance(3)
    p = _build(inst)
    dense = inst["coverage"].toarray()
    for plan in [(), (0,), (1, 2), (0, 3, 5, 7)]:
        assert p.value(plan) == pytest.approx(_naive_value(dense, inst["weights"], plan), rel=1e-12)


def test_engine_gains_are_the_submodular_marginals() -> None:
    inst = _instance(5, groups=True)
    p = _build(inst, objective={"people": 1.0, "desa": 40.0})
    ev = eng.Evaluator(p)
    st = ev.state([1, 4])
    all_gains = ev.gains_all(st)
    before = ev.score(st)
    for j in range(p.n_sites):
        assert ev.gain(j, st) == pytest.approx(all_gains[j], rel=1e-9, abs=1e-9)
        st2 = st.copy()
        ev.add(j, st2)
        assert ev.score(st2) - before == pytest.approx(all_gains[j], rel=1e-9, abs=1e-9)
        assert st2.people == pytest.approx(p.value([1, 4, j]), rel=1e-9)


@pytest.mark.parametrize("seed", range(40))
def test_greedy_and_exact_against_brute_force(seed: int) -> None:
    inst = _instance(seed, n_sites=4 + seed % 7)  # 4 .. 10 sites
    max_towers = None if seed % 3 else 2
    p = _build(inst, max_towers=max_towers)
    dense = inst["coverage"].toarray()
    brute = solve(p, solver="brute_force", lp_bound=False)
    naive, _ = _naive_best(
        inst, lambda plan: _naive_value(dense, inst["weights"], plan), max_towers=max_towers
    )
    assert brute.value == pytest.approx(naive, rel=1e-9, abs=1e-9)
    greedy = solve(p, solver="greedy", lp_bound=False)
    assert greedy.total_cost_idr <= p.budget_idr
    assert greedy.value >= APPROX * brute.value - 1e-9
    assert greedy.bound is not None and greedy.bound >= brute.value - 1e-9
    exact = solve(p, solver="exact")
    assert exact.total_cost_idr <= p.budget_idr
    assert max_towers is None or exact.n_sites <= max_towers
    assert exact.bound is not None
    assert exact.bound >= brute.value - 1e-6 * max(1.0, brute.value)
    assert brute.value >= exact.value - 1e-9
    assert exact.value >= greedy.value - 1e-9
    assert exact.gap is not None and exact.gap >= 0
    assert exact.status in ("optimal", "feasible")
    assert exact.value == pytest.approx(p.objective_value(exact.order), rel=1e-12)
    assert sum(exact.gains) == pytest.approx(exact.value, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("seed", range(15))
def test_desa_objective_with_probabilities_against_brute_force(seed: int) -> None:
    inst = _instance(100 + seed, n_sites=6 + seed % 4, groups=True)
    beta = 0.5
    obj = {"people": 1.0, "desa": 25.0} if seed % 2 else "desa"
    p = _build(inst, objective=obj, resolved_share=beta)
    dense = inst["coverage"].toarray()
    w, g = inst["weights"], inst["groups"]
    people_w, desa_w = (1.0, 25.0) if seed % 2 else (0.0, 1.0)

    def value(plan: tuple[int, ...]) -> float:
        served = w * (1.0 - np.prod(1.0 - dense[:, list(plan)], axis=1))
        out = people_w * float(served.sum())
        for d in range(4):
            need = beta * w[g == d].sum()
            out += desa_w * float(served[g == d].sum() >= need - 1e-9 * max(1.0, need))
        return out

    naive, _ = _naive_best(inst, value)
    brute = solve(p, solver="brute_force", lp_bound=False)
    assert brute.value == pytest.approx(naive, rel=1e-9, abs=1e-9)
    assert p.objective_value(brute.order) == pytest.approx(value(tuple(brute.order)), rel=1e-12)
    exact = solve(p, solver="exact")
    assert exact.bound is not None and exact.bound >= brute.value - 1e-6 * max(1.0, brute.value)
    assert brute.value >= exact.value - 1e-9
    greedy = solve(p, solver="greedy", lp_bound=False)
    assert greedy.total_cost_idr <= p.budget_idr
    assert greedy.bound is not None and greedy.bound >= brute.value - 1e-9
    assert int(p.resolved(brute.order).sum()) == brute.desa_resolved


@pytest.mark.parametrize("seed", range(10))
def test_zero_one_probabilities_give_the_plain_problem_bit_for_bit(seed: int) -> None:
    rng = np.random.default_rng(200 + seed)
    m = (rng.random((30, 8)) < 0.3).astype(np.float64)
    w = rng.integers(0, 30, 30).astype(float)
    c = rng.integers(1, 6, 8)
    kw = dict(groups=rng.integers(0, 3, 30), objective={"people": 1.0, "desa": 20.0})
    plain = SitingProblem.from_matrix(m, w, c, 12, **kw)
    prob = SitingProblem.from_matrix(sp.csr_array(m), w, c, 12, probabilities=True, **kw)
    assert prob.probability is None and not prob.is_probabilistic
    assert (plain.coverage != prob.coverage).nnz == 0
    np.testing.assert_array_equal(plain.weights, prob.weights)
    np.testing.assert_array_equal(plain.row_map, prob.row_map)
    for solver in ("greedy", "quality", "exact", "brute_force"):
        a, b = solve(plain, solver=solver), solve(prob, solver=solver)
        assert a == b, solver


def test_probability_floor_validation_and_targets() -> None:
    m = np.array([[0.005, 0.5], [0.02, 0.0], [0.0, 0.009]])
    p = SitingProblem.from_matrix(m, [1.0, 2.0, 3.0], [1, 1], 2, probabilities=True)
    assert p.is_probabilistic and p.n_demand == 2 and p.row_map.tolist() == [0, 1, -1]
    assert p.value([0, 1]) == pytest.approx(1.0 * 0.5 + 2.0 * 0.02)
    p0 = SitingProblem.from_matrix(
        m, [1.0, 2.0, 3.0], [1, 1], 2, probabilities=True, probability_floor=0.0
    )
    assert p0.n_demand == 3
    assert p0.value([0, 1]) == pytest.approx(1 - 0.995 * 0.5 + 2 * 0.02 + 3 * 0.009)
    with pytest.raises(SchemaError, match=r"\[0, 1\]"):
        SitingProblem.from_matrix([[1.5, 0.2]], [1.0], [1, 1], 2, probabilities=True)
    with pytest.raises(SchemaError, match=r"\[0, 1\]"):
        SitingProblem.from_matrix([[np.nan, 0.2]], [1.0], [1, 1], 2, probabilities=True)
    with pytest.raises(SchemaError, match="probability_floor"):
        SitingProblem.from_matrix(m, [1.0, 2.0, 3.0], [1, 1], 2, probabilities=True,
                                  probability_floor=1.0)
    with pytest.raises(SchemaError, match="cover targets"):
        SitingProblem.from_matrix(
            m, [1.0, 2.0, 3.0], [1, 1], None, probabilities=True, cover_share=0.5
        )
    with pytest.raises(SchemaError, match="cover targets"):
        p.with_constraints(cover_share=0.5)
    # without probabilities=True the 0/1 check still refuses fractions
    with pytest.raises(SchemaError, match="only 0 and 1"):
        SitingProblem.from_matrix(m, [1.0, 2.0, 3.0], [1, 1], 2)
    assert DEFAULT_RESOLVED_SHARE == 0.8


def test_quality_and_curve_on_a_probability_problem() -> None:
    from blankspot.siting import cost_coverage_curve

    inst = _instance(7, n_sites=9)
    p = _build(inst)
    brute = solve(p, solver="brute_force", lp_bound=False)
    greedy = solve(p, solver="greedy", lp_bound=False)
    quality = solve(p, solver="quality", lp_bound=False)
    assert greedy.value - 1e-9 <= quality.value <= brute.value + 1e-9
    assert quality.total_cost_idr <= p.budget_idr
    curve = cost_coverage_curve(p, [2, 5, 10, 20])
    assert (np.diff(curve["covered_weight"].to_numpy()) >= -1e-9).all()
    assert (curve["covered_weight"] <= p.coverable_weight + 1e-9).all()
