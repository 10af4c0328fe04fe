"""The siting MILP and its LP relaxation, solved by HiGHS through ``highspy``.

``highspy`` is used rather than :func:`scipy.optimize.milp` because it takes a starting plan
(``setSolution``): the greedy plan is handed to HiGHS as its first incumbent, so a time limit
never ends with less than the greedy answer. The LP relaxation of the same model is the bound
every solver reports as its certificate; it is computed once per problem and cached.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import threading
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from blankspot.errors import InfeasibleError
from blankspot.siting._engine import Evaluator
from blankspot.siting.problem import SitingProblem, _location_codes, minima_completion

if TYPE_CHECKING:
    import highspy

LP_AUTO_MAX_NNZ = 250_000
"""``lp_bound=None`` ("auto") solves the LP relaxation when the merged coverage matrix has at most
this many entries; beyond that the solver's own bound alone is reported. HiGHS solves such LPs
in about a second; an area-wide one (10⁶ entries and more) can take minutes, while the greedy's
submodular bound there is usually within a few per cent of the LP's."""

_LP_CACHE: weakref.WeakKeyDictionary[SitingProblem, dict[float, LPBound]] = (
    weakref.WeakKeyDictionary()
)
_LOCK = threading.Lock()
_BANNER_SHOWN = False


@dataclass(frozen=True)
class LPBound:
    """The LP relaxation's optimum (``value``), or None with the reason in ``status``."""

    value: float | None
    status: str
    runtime_s: float


@dataclass(frozen=True)
class Model:
    """Column layout of the MILP: x (sites), z (demand rows), y (desa resolved)."""

    n: int
    rows: np.ndarray
    ydesa: np.ndarray
    cost_scale: int
    objective_offset: float
    sign: float  # +1: HiGHS minimises the objective itself (cost); -1: it minimises -objective
    fixed_zero: np.ndarray


def highs_available() -> bool:
    """Whether ``highspy`` can be imported."""
    try:
        import highspy  # noqa: F401
    except ImportError:  # pragma: no cover - highspy is a dependency
        return False
    return True


def _highs() -> highspy.Highs:
    """A quiet ``highspy.Highs``. HiGHS prints a banner to the C stdout on its first
    construction in a process; it is kept out of our output."""
    global _BANNER_SHOWN
    try:
        import highspy
    except ImportError as exc:  # pragma: no cover - highspy is a dependency
        raise ImportError(
            "the exact siting solver and the LP bound need highspy: pip install highspy"
        ) from exc
    with _LOCK:
        # highspy annotates its methods but not Highs.__init__
        if _BANNER_SHOWN:
            h = highspy.Highs()  # type: ignore[no-untyped-call]
        else:
            with _quiet_c_stdout():
                h = highspy.Highs()  # type: ignore[no-untyped-call]
            _BANNER_SHOWN = True
    h.setOptionValue("output_flag", False)
    return h


@contextlib.contextmanager
def _quiet_c_stdout() -> Iterator[None]:
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError, AttributeError):  # pragma: no cover - no real stdout
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def useful_sites(problem: SitingProblem, ev: Evaluator, budget_free: int) -> np.ndarray:
    """Bool per candidate: may change a plan's value or is needed for a kecamatan minimum.

    A site adding nothing beside the forced-in sites adds nothing beside any plan
    (submodularity), so such sites only matter where a kecamatan minimum is still open.
    """
    forced = list(problem.forced_in)
    delta = ev.gains_all(ev.state(forced))
    useful = (delta > 0) & (problem.costs_idr <= budget_free)
    if problem.kecamatan_minima and problem.kecamatan_codes is not None:
        code = {lab: k for k, lab in enumerate(problem.kecamatan_labels)}
        for label, minimum in problem.kecamatan_minima:
            k = code.get(label)
            have = sum(1 for j in forced if problem.kecamatan_codes[j] == k)
            if k is not None and have < minimum:
                useful |= (problem.kecamatan_codes == k) & (problem.costs_idr <= budget_free)
    useful[list(problem.forced_in)] = True
    useful[list(problem.forced_out)] = False
    return useful


def build(problem: SitingProblem, *, relax: bool) -> tuple[highspy.HighsLp, Model]:
    """The problem as a ``highspy.HighsLp`` (integral x and y unless ``relax``)."""
    import highspy

    ev = Evaluator(problem)
    n = problem.n_sites
    budget_free = problem.budget_idr - problem.forced_cost_idr
    useful = useful_sites(problem, ev, budget_free)
    cover = problem.sense == "min"
    rows, ydesa = _model_columns(problem, ev, cover)
    m = int(rows.size)
    g = int(ydesa.size)
    n_cols = n + m + g

    lower = np.zeros(n_cols)
    upper = np.ones(n_cols)
    upper[:n][~useful] = 0.0
    lower[list(problem.forced_in)] = 1.0

    costs = problem.costs_idr
    positive = costs[costs > 0]
    scale = int(np.gcd.reduce(positive)) if positive.size else 1
    objective, sign, offset = _objective(problem, ev, rows, ydesa, scale, cover=cover)
    a, row_lo, row_hi = _constraints(problem, ev, useful, rows, ydesa, scale, cover=cover)

    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = int(a.shape[0])
    lp.col_cost_ = objective
    lp.col_lower_ = lower
    lp.col_upper_ = upper
    lp.row_lower_ = row_lo
    lp.row_upper_ = row_hi
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(np.float64)
    lp.a_matrix_.num_col_ = n_cols
    lp.a_matrix_.num_row_ = int(a.shape[0])
    if not relax:
        integer = highspy.HighsVarType.kInteger
        continuous = highspy.HighsVarType.kContinuous
        lp.integrality_ = [integer] * n + [continuous] * m + [integer] * g
    model = Model(
        n=n,
        rows=rows,
        ydesa=ydesa,
        cost_scale=scale,
        objective_offset=offset,
        sign=sign,
        fixed_zero=~useful,
    )
    return lp, model


def _model_columns(
    problem: SitingProblem, ev: Evaluator, cover: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Demand rows that get a z column and desa that get a y column (after the n x columns).

    Rows get one when they carry weight in the objective or a target; desa when their
    resolution is worth something in a budgeted problem.
    """
    w = problem.weights
    want = np.zeros(problem.n_demand, dtype=bool)
    if ev.a > 0 or ev.p_cap is not None:
        want |= w > 0
    if ev.row_group is not None:
        want |= (ev.row_group >= 0) & (w > 0)
    rows = np.flatnonzero(want)
    ydesa = np.flatnonzero(ev.u > 0) if not cover else np.zeros(0, dtype=np.int64)
    return rows, ydesa


def _objective(
    problem: SitingProblem,
    ev: Evaluator,
    rows: np.ndarray,
    ydesa: np.ndarray,
    scale: int,
    *,
    cover: bool,
) -> tuple[np.ndarray, float, float]:
    """Objective coefficients HiGHS minimises, the sign and the constant of the true objective.

    A cover target minimises cost (in units of ``scale`` Rupiah); a budgeted problem maximises
    people and desa, so HiGHS minimises their negative.
    """
    n, m = problem.n_sites, int(rows.size)
    objective = np.zeros(n + m + int(ydesa.size))
    if cover:
        objective[:n] = problem.costs_idr / scale
        return objective, 1.0, 0.0
    objective[n : n + m] = -ev.a * problem.weights[rows]
    if ydesa.size:
        assert problem.group_values is not None
        objective[n + m :] = -problem.objective.desa * problem.group_values[ydesa]
    return objective, -1.0, ev.constant


class _RowBlocks:
    """Constraint rows ``low <= A @ columns <= high``, gathered block by block in order."""

    def __init__(self, n_cols: int) -> None:
        self.n_cols = n_cols
        self.blocks: list[sp.csr_array] = []
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []

    def add(self, mat: sp.sparray, low: np.ndarray | float, high: np.ndarray | float) -> None:
        rows = sp.csr_array(mat)
        k = rows.shape[0]
        self.blocks.append(rows)
        self.lo.append(np.broadcast_to(np.asarray(low, dtype=np.float64), (k,)))
        self.hi.append(np.broadcast_to(np.asarray(high, dtype=np.float64), (k,)))

    def stacked(self) -> tuple[sp.csc_array, np.ndarray, np.ndarray]:
        """The CSC matrix (sorted indices) and the row bounds."""
        if self.blocks:
            a = sp.vstack(self.blocks, format="csc")
            row_lo = np.concatenate(self.lo)
            row_hi = np.concatenate(self.hi)
        else:
            a = sp.csc_array((0, self.n_cols))
            row_lo = row_hi = np.zeros(0)
        a.sort_indices()
        return a, row_lo, row_hi


def _constraints(
    problem: SitingProblem,
    ev: Evaluator,
    useful: np.ndarray,
    rows: np.ndarray,
    ydesa: np.ndarray,
    scale: int,
    *,
    cover: bool,
) -> tuple[sp.csc_array, np.ndarray, np.ndarray]:
    """Every constraint row of the model: coverage links, budget, towers, locations, kecamatan
    minima, desa resolution and cover targets (only those that can bind)."""
    n, m, g = problem.n_sites, int(rows.size), int(ydesa.size)
    n_cols = n + m + g
    out = _RowBlocks(n_cols)
    inf = math.inf
    costs = problem.costs_idr
    if m:
        # with probabilities, z_i ≤ Σ_j p_ij x_j (and z_i ≤ 1): the concave upper bound of
        # 1 − Π(1 − p_ij x_j), so the model's optimum bounds the expected people from above
        link_matrix = problem.coverage if problem.probability is None else problem.probability
        a_sub = sp.csr_array(link_matrix)[rows].astype(np.float64)
        link = sp.hstack([-a_sub, sp.identity(m, format="csr"), sp.csr_array((m, g))], format="csr")
        out.add(link, -inf, 0.0)
    if (costs > 0).any() and int(costs[useful].sum()) > problem.budget_idr:
        row = np.concatenate([costs / scale, np.zeros(m + g)])
        out.add(sp.csr_array(row.reshape(1, -1)), -inf, float(problem.budget_idr // scale))
    if problem.max_towers is not None and int(useful.sum()) > problem.max_towers:
        row = np.concatenate([np.ones(n), np.zeros(m + g)])
        out.add(sp.csr_array(row.reshape(1, -1)), -inf, float(problem.max_towers))
    _location_rows(out, problem, useful)
    _kecamatan_rows(out, problem)
    if g:
        _desa_rows(out, problem, ev, rows, ydesa)
    if cover:
        _cover_rows(out, problem, ev, rows)
    return out.stacked()


def _location_rows(out: _RowBlocks, problem: SitingProblem, useful: np.ndarray) -> None:
    """At most one candidate per location, for locations with several useful candidates."""
    if problem.location_codes is None:
        return
    loc = _location_codes(problem)
    cols = np.flatnonzero(useful)
    counts = np.bincount(loc[cols], minlength=len(problem.location_labels))
    shared = np.flatnonzero(counts > 1)
    if shared.size:
        index = {int(lc): r for r, lc in enumerate(shared)}
        sel = [j for j in cols if int(loc[j]) in index]
        mat = sp.csr_array(
            (np.ones(len(sel)), ([index[int(loc[j])] for j in sel], sel)),
            shape=(shared.size, out.n_cols),
        )
        out.add(mat, -math.inf, 1.0)


def _kecamatan_rows(out: _RowBlocks, problem: SitingProblem) -> None:
    """At least the minimum number of towers in each kecamatan that has one."""
    if not problem.kecamatan_minima:
        return
    assert problem.kecamatan_codes is not None
    code = {lab: k for k, lab in enumerate(problem.kecamatan_labels)}
    for label, minimum in problem.kecamatan_minima:
        k = code.get(label)
        sel: np.ndarray | list[int] = (
            np.flatnonzero(problem.kecamatan_codes == k) if k is not None else []
        )
        row = np.zeros(out.n_cols)
        row[sel] = 1.0
        out.add(sp.csr_array(row.reshape(1, -1)), float(minimum), math.inf)


def _desa_rows(
    out: _RowBlocks, problem: SitingProblem, ev: Evaluator, rows: np.ndarray, ydesa: np.ndarray
) -> None:
    """A desa counts as resolved only when enough of its people are covered:
    cap_d · y_d ≤ Σ_{i ∈ d} w_i z_i."""
    assert problem.groups is not None
    n, m, g = problem.n_sites, int(rows.size), int(ydesa.size)
    w = problem.weights
    pos = {int(d): k for k, d in enumerate(ydesa)}
    in_y = np.array([int(problem.groups[r]) in pos for r in rows], dtype=bool)
    r_idx = np.array([pos[int(problem.groups[r])] for r in rows[in_y]], dtype=np.int64)
    mat = sp.csr_array(
        (-w[rows[in_y]], (r_idx, n + np.flatnonzero(in_y))), shape=(g, out.n_cols)
    ).tolil()
    for k, d in enumerate(ydesa):
        mat[k, n + m + k] = ev.cap[d]
    out.add(mat, -math.inf, 0.0)


def _cover_rows(out: _RowBlocks, problem: SitingProblem, ev: Evaluator, rows: np.ndarray) -> None:
    """Cover targets: the share of all people, and β of the people of each target desa."""
    n, m = problem.n_sites, int(rows.size)
    w = problem.weights
    if ev.p_cap is not None:
        row = np.zeros(out.n_cols)
        row[n : n + m] = w[rows]
        out.add(sp.csr_array(row.reshape(1, -1)), ev.p_cap * (1 - 1e-12), math.inf)
    targets = [d for d in problem.resolve_groups if ev.cap[d] > 0]
    if targets:
        assert problem.groups is not None
        pos = {d: k for k, d in enumerate(targets)}
        grp = problem.groups[rows]
        sel = np.flatnonzero(np.isin(grp, targets))
        mat = sp.csr_array(
            (w[rows[sel]], ([pos[int(grp[s])] for s in sel], n + sel)),
            shape=(len(targets), out.n_cols),
        )
        out.add(mat, ev.cap[targets] * (1 - 1e-12), math.inf)


def start_vector(problem: SitingProblem, model: Model, plan: Sequence[int]) -> np.ndarray:
    """Column values for a plan: x, z (rows covered) and y (desa resolved)."""
    x = np.zeros(model.n)
    x[list(plan)] = 1.0
    if problem.probability is not None:
        z = problem.served_rows(plan)[model.rows]  # 1 − Π(1 − p) ≤ min(1, Σ p): feasible
    else:
        z = problem.covered_rows(plan)[model.rows].astype(np.float64)
    y = np.zeros(model.ydesa.size)
    if model.ydesa.size:
        y = problem.resolved(plan)[model.ydesa].astype(np.float64)
    return np.concatenate([x, z, y])


def lp_bound(problem: SitingProblem, *, time_limit_s: float = 10.0) -> LPBound:
    """The LP relaxation's optimum, in the problem's objective (an upper bound for a budgeted
    problem, a lower bound on cost for a cover target); cached per problem and time limit.

    Raises
    ------
    InfeasibleError
        the relaxation is infeasible, so no plan meets the constraints.
    """
    with _LOCK:
        cached = _LP_CACHE.get(problem, {})
        for limit, found in cached.items():
            if found.value is not None or limit >= time_limit_s:
                return found
    import time

    import highspy

    t = time.perf_counter()
    lp, model = build(problem, relax=True)
    h = _highs()
    h.setOptionValue("time_limit", float(time_limit_s))
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    runtime = time.perf_counter() - t
    if status == highspy.HighsModelStatus.kOptimal:
        raw = float(h.getInfo().objective_function_value)
        value = _to_objective(raw, model)
        found = LPBound(value, "optimal", runtime)
    elif status == highspy.HighsModelStatus.kInfeasible:
        raise InfeasibleError(infeasible_message(problem, "the LP relaxation"))
    else:
        found = LPBound(None, h.modelStatusToString(status), runtime)
    with _LOCK:
        _LP_CACHE.setdefault(problem, {})[float(time_limit_s)] = found
    return found


def _to_objective(raw: float, model: Model) -> float:
    if model.sign > 0:
        return raw * model.cost_scale
    return -raw + model.objective_offset


@dataclass(frozen=True)
class MilpOutcome:
    plan: list[int] | None
    status: str  # "optimal", "feasible", "none"
    bound: float | None
    message: str
    gap: float | None
    warm: bool = False


def solve_milp(
    problem: SitingProblem,
    *,
    start: Sequence[int] | None,
    time_limit_s: float,
    mip_rel_gap: float,
) -> MilpOutcome:
    """Solve the MILP with HiGHS, warm-started from ``start`` (a feasible plan) when given.

    HiGHS's answer is checked: the plan read back must have the objective HiGHS reports. When
    it does not (HiGHS 1.16 can map a start plan wrongly through its presolve and then stop at
    once with a wrong "optimal"), the start is dropped and the model solved again from scratch
    in the time left.
    """
    import time

    t0 = time.perf_counter()
    outcome = _run_milp(problem, start, time_limit_s, mip_rel_gap)
    if outcome is None and start is not None:
        left = max(0.1, time_limit_s - (time.perf_counter() - t0))
        outcome = _run_milp(problem, None, left, mip_rel_gap)
        if outcome is not None:
            outcome = MilpOutcome(
                outcome.plan,
                outcome.status,
                outcome.bound,
                outcome.message + "; HiGHS mishandled the start plan, so it ran again without it",
                outcome.gap,
                warm=False,
            )
    if outcome is None:  # pragma: no cover - only after the retry also disagreed
        return MilpOutcome(
            None,
            "none",
            None,
            "HiGHS returned a plan that does not match its own objective",
            None,
            warm=False,
        )
    return outcome


def _run_milp(
    problem: SitingProblem, start: Sequence[int] | None, time_limit_s: float, mip_rel_gap: float
) -> MilpOutcome | None:
    """One HiGHS run; None when the plan it returns disagrees with its reported objective."""
    import highspy

    lp, model = build(problem, relax=False)
    h = _highs()
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    h.passModel(lp)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = start_vector(problem, model, start).tolist()
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    if status == highspy.HighsModelStatus.kInfeasible:
        raise InfeasibleError(infeasible_message(problem, "HiGHS"))
    dual = float(info.mip_dual_bound)
    bound = _to_objective(dual, model) if math.isfinite(dual) else None
    has_plan = info.primal_solution_status == 2  # kSolutionStatusFeasible
    message = h.modelStatusToString(status)
    if not has_plan:
        return MilpOutcome(None, "none", bound, message, None, warm=start is not None)
    x = np.asarray(h.getSolution().col_value[: model.n])
    plan = [int(j) for j in np.flatnonzero(x > 0.5)]
    claimed = _to_objective(float(info.objective_function_value), model)
    actual = problem.objective_value(plan)
    if problem.probability is not None:
        # the model's value is the upper bound of the plan's, never below it
        if claimed < actual - 1e-6 * max(1.0, abs(actual)):
            return None
    elif abs(claimed - actual) > 1e-6 * max(1.0, abs(actual)):
        return None
    gap = float(info.mip_gap) if math.isfinite(info.mip_gap) else None
    state = "optimal" if status == highspy.HighsModelStatus.kOptimal else "feasible"
    return MilpOutcome(plan, state, bound, message, gap, warm=start is not None)


def infeasible_message(problem: SitingProblem, who: str) -> str:
    """Name the constraints that, together, leave no plan (single ones are caught earlier)."""
    parts = []
    if problem.sense == "min":
        goal = []
        if problem.cover_share is not None:
            goal.append(f"cover_share α={problem.cover_share:g}")
        if problem.resolve_groups:
            goal.append(
                f"{len(problem.resolve_groups)} target desa resolved at "
                f"β={problem.resolved_share:g}"
            )
        parts.append(" and ".join(goal))
    parts.append(f"budget_idr {problem.budget_idr} IDR")
    if problem.max_towers is not None:
        parts.append(f"max_towers {problem.max_towers}")
    if problem.location_codes is not None:
        parts.append("one height per location")
    if problem.kecamatan_minima:
        plan = minima_completion(problem)
        parts.append(
            f"the kecamatan minima {dict(problem.kecamatan_minima)} (at least "
            f"{plan.cost_idr} IDR beyond the forced-in sites)"
        )
    if problem.forced_in:
        parts.append(f"{len(problem.forced_in)} forced-in site(s)")
    return (
        f"siting constraints cannot all be met: {who} proves that no plan satisfies "
        + ", ".join(parts)
        + " together. Each holds on its own; raise the budget, lower the target or the minima, "
        "or drop a constraint."
    )
