"""Solvers for :class:`~blankspot.siting.SitingProblem`, and the ranked :class:`SitingResult`.

``solve(problem, solver=...)`` dispatches through a small registry:

``"greedy"`` (default)
    lazy cost-effectiveness greedy (Minoux's accelerated greedy) plus the best single site; at
    least (1 − 1/e)/2 ≈ 0.316 of the optimum without ``max_towers`` (Khuller, Moss & Naor 1999).
    The pick order is the ranked tower list. Reports a proven upper bound on the optimum.
``"brute_force"``
    exact, by enumerating every plan of the free candidates (at most
    :data:`BRUTE_FORCE_MAX_SITES` of them).
``"exact"``
    exact MILP solved by HiGHS through :func:`scipy.optimize.milp`, with a time limit and a
    relative gap; reports the solver's bound.

:func:`register_solver` adds more (partial enumeration, swap polishing, ...); any callable
``f(problem, **options) -> SitingResult`` may also be passed as ``solver``. Every plan a solver
returns is checked against the budget, ``max_towers`` and the forced sites before it is handed
back.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from blankspot.errors import InfeasibleError, SchemaError, UnitsError
from blankspot.siting.problem import SitingProblem

__all__ = [
    "BRUTE_FORCE_MAX_SITES",
    "SitingResult",
    "available_solvers",
    "register_solver",
    "solve",
]

BRUTE_FORCE_MAX_SITES = 22
"""Most free candidates ``solver="brute_force"`` enumerates (2**22 plans, about 0.2 GB)."""

STATUSES = ("optimal", "feasible", "heuristic")
"""``optimal``: proven best (MILP: within ``mip_rel_gap``); ``feasible``: a valid plan from an
exact solver stopped early, with ``bound``; ``heuristic``: a valid plan with no optimality proof."""

SolverFunc = Callable[..., "SitingResult"]
_SOLVERS: dict[str, SolverFunc] = {}


# ---------------------------------------------------------------------- result


@dataclass(frozen=True)
class SitingResult:
    """A ranked plan: the chosen sites in pick order, with cumulative cost and coverage.

    Forced-in sites come first (``n_forced`` of them), then the solver's picks in order; for the
    greedy solver that order is the ranking, and every prefix is the greedy plan for its own
    cumulative cost. Exact solvers rank their set the same way (best weight per Rupiah first).

    Attributes
    ----------
    order
        candidate (column) indices in pick order.
    site_ids
        the ids of those candidates, in the same order.
    gains
        weight (persons) each pick newly covers, given the picks before it.
    costs_idr
        capex of each pick in Rupiah.
    cumulative_cost_idr, cumulative_weight
        running totals along ``order``.
    covered_weight
        weight covered by the whole plan (the objective).
    total_cost_idr
        capex of the whole plan; never above ``budget_idr``.
    budget_idr
        the budget the plan was made for.
    status
        ``"optimal"``, ``"feasible"`` or ``"heuristic"`` (see :data:`STATUSES`).
    solver
        name of the solver that made the plan.
    bound
        a proven upper bound on the optimal covered weight, or None when none is known.
    note
        what happened, in words (e.g. that the best single site beat the greedy set).
    n_forced
        how many of the first picks were forced in.
    runtime_s
        wall time of the solver in seconds (not compared in ``==``).
    """

    order: tuple[int, ...]
    site_ids: tuple[Hashable, ...]
    gains: tuple[float, ...]
    costs_idr: tuple[int, ...]
    cumulative_cost_idr: tuple[int, ...]
    cumulative_weight: tuple[float, ...]
    covered_weight: float
    total_cost_idr: int
    budget_idr: int
    status: str
    solver: str
    bound: float | None = None
    note: str = ""
    n_forced: int = 0
    runtime_s: float = field(default=0.0, compare=False)

    @property
    def n_sites(self) -> int:
        """Number of sites in the plan."""
        return len(self.order)

    @property
    def gap(self) -> float | None:
        """Relative gap ``(bound − covered_weight) / bound``; None without a bound."""
        if self.bound is None:
            return None
        if self.bound <= 0:
            return 0.0
        return max(0.0, (self.bound - self.covered_weight) / self.bound)

    def covered_mask(self, problem: SitingProblem) -> np.ndarray:
        """Bool mask over the problem's original demand rows that the plan covers.

        Raises
        ------
        SchemaError
            when ``problem`` is not the one this result was solved from (other site ids).
        """
        n = problem.n_sites
        if any(j >= n for j in self.order) or tuple(
            problem.site_ids[j] for j in self.order
        ) != tuple(self.site_ids):
            raise SchemaError(
                "this result does not belong to the given problem: its site ids do not match "
                "the problem's columns. Pass the SitingProblem the result was solved from."
            )
        return problem.covered_mask(self.order)

    def to_frame(self) -> pd.DataFrame:
        """The ranked plan as a table, one row per site in pick order.

        Columns: ``rank`` (1 = first pick), ``site_id``, ``cost_idr``, ``weight_new``,
        ``cumulative_cost_idr`` and ``cumulative_weight``.
        """
        return pd.DataFrame(
            {
                "rank": np.arange(1, len(self.order) + 1, dtype=np.int64),
                "site_id": pd.Series(list(self.site_ids), dtype=object),
                "cost_idr": np.asarray(self.costs_idr, dtype=np.int64),
                "weight_new": np.asarray(self.gains, dtype=np.float64),
                "cumulative_cost_idr": np.asarray(self.cumulative_cost_idr, dtype=np.int64),
                "cumulative_weight": np.asarray(self.cumulative_weight, dtype=np.float64),
            }
        )


# ---------------------------------------------------------------------- dispatch


def register_solver(name: str, func: SolverFunc | None = None) -> Any:
    """Register ``func(problem, **options) -> SitingResult`` under ``name``.

    Usable as a decorator (``@register_solver("my_solver")``). Re-registering a name replaces it.
    """

    def _register(f: SolverFunc) -> SolverFunc:
        _SOLVERS[name] = f
        return f

    return _register(func) if func is not None else _register


def available_solvers() -> tuple[str, ...]:
    """Names ``solve()`` accepts for ``solver``."""
    return tuple(_SOLVERS)


def solve(
    problem: SitingProblem, *, solver: str | SolverFunc = "greedy", **options: Any
) -> SitingResult:
    """Choose sites for ``problem`` and rank them.

    Parameters
    ----------
    problem
        the siting problem; it is not changed.
    solver
        ``"greedy"`` (default), ``"brute_force"``, ``"exact"``, another registered name, or a
        callable ``f(problem, **options) -> SitingResult``.
    **options
        passed to the solver, e.g. ``time_limit_s`` and ``mip_rel_gap`` for ``"exact"``.

    Returns
    -------
    SitingResult
        a new result; its plan is checked against every constraint.

    Raises
    ------
    UnitsError
        unknown solver name, or a problem too large for ``"brute_force"``.
    InfeasibleError
        a solver returned a plan that breaks a constraint.

    Examples
    --------
    >>> import numpy as np
    >>> p = SitingProblem.from_matrix(
    ...     np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1], [0, 0, 1]]), [4.0, 3.0, 2.0, 5.0],
    ...     [2, 1, 2], 3, site_ids=["A", "B", "C"])
    >>> r = solve(p)
    >>> r.site_ids, r.covered_weight, r.total_cost_idr
    (('B', 'C'), 10.0, 3)
    >>> solve(p, solver="brute_force").covered_weight
    10.0
    """
    if not isinstance(problem, SitingProblem):
        raise SchemaError(
            f"solve() takes a SitingProblem; received {type(problem).__name__}. Build one with "
            "SitingProblem.from_matrix() or SitingProblem.from_coverage()."
        )
    if callable(solver):
        func, name = solver, getattr(solver, "__name__", "custom")
    else:
        try:
            func, name = _SOLVERS[solver], solver
        except (KeyError, TypeError):
            raise UnitsError(
                f"unknown solver {solver!r}; choose one of {', '.join(map(repr, _SOLVERS))} or "
                "pass a callable f(problem, **options) -> SitingResult."
            ) from None
    result = func(problem, **options)
    if not isinstance(result, SitingResult):
        raise SchemaError(f"solver {name!r} returned {type(result).__name__}, not a SitingResult.")
    _check_plan(problem, result, name)
    return result


def _check_plan(problem: SitingProblem, result: SitingResult, name: str) -> None:
    """Refuse any plan that breaks a constraint, so no unearned answer leaves ``solve()``."""
    problems: list[str] = []
    order = list(result.order)
    n = problem.n_sites
    if any(not 0 <= j < n for j in order):
        problems.append("it names a candidate index outside the problem")
        order = [j for j in order if 0 <= j < n]
    if len(set(order)) != len(order):
        problems.append("it picks a site twice")
    cost = sum(int(problem.costs_idr[j]) for j in order)
    if cost > problem.budget_idr:
        problems.append(f"it costs {cost} IDR, over budget_idr {problem.budget_idr} IDR")
    if cost != result.total_cost_idr:
        problems.append(f"it reports total_cost_idr {result.total_cost_idr} but costs {cost} IDR")
    if problem.max_towers is not None and len(order) > problem.max_towers:
        problems.append(f"it holds {len(order)} sites, over max_towers {problem.max_towers}")
    missing = [problem.site_ids[j] for j in problem.forced_in if j not in set(order)]
    if missing:
        problems.append(f"it leaves out forced-in site(s) {missing!r}")
    banned = [problem.site_ids[j] for j in set(problem.forced_out) & set(order)]
    if banned:
        problems.append(f"it holds forced-out site(s) {banned!r}")
    if problems:
        raise InfeasibleError(
            f"solver {name!r} returned a plan that breaks the problem's constraints: "
            + "; ".join(problems)
            + ". This is a bug in that solver; please report it."
        )


# ---------------------------------------------------------------------- shared machinery


def _gain(problem: SitingProblem, j: int, covered: np.ndarray) -> float:
    """Weight of the rows candidate ``j`` covers that are not yet covered."""
    indptr = problem.coverage.indptr
    rows = problem.coverage.indices[indptr[j] : indptr[j + 1]]
    return float(problem.weights[rows] @ ~covered[rows])


def _mark(problem: SitingProblem, j: int, covered: np.ndarray) -> None:
    indptr = problem.coverage.indptr
    covered[problem.coverage.indices[indptr[j] : indptr[j + 1]]] = True


def _marginal_gains(problem: SitingProblem, covered: np.ndarray) -> np.ndarray:
    """Every candidate's gain given ``covered``: one sparse product, Aᵀ (w ∘ ¬covered)."""
    uncovered_w = np.where(covered, 0.0, problem.weights)
    return np.asarray(problem.coverage.T @ uncovered_w, dtype=np.float64).ravel()


def _key(gain: float, cost: int, j: int) -> tuple[float, float, int]:
    """Heap key: best weight per Rupiah first (free sites first), then more weight, then index."""
    ratio = math.inf if cost == 0 else gain / cost
    return (-ratio, -gain, j)


def _lazy_greedy(
    problem: SitingProblem,
    covered: np.ndarray,
    candidates: Iterable[int],
    gains0: np.ndarray,
    budget_left: int,
    picks_left: int | None,
) -> tuple[list[int], list[float], int]:
    """Lazy (Minoux) cost-effectiveness greedy; updates ``covered`` in place.

    ``gains0`` are valid upper bounds on each candidate's current gain (submodularity keeps
    stale gains as upper bounds). A popped candidate is re-evaluated, and taken only when its
    fresh key still beats every stale key on the heap; otherwise it goes back. A candidate that
    no longer fits the budget, or adds nothing, leaves for good: budgets only shrink and gains
    only fall. Returns the picks, their gains and the budget left.
    """
    costs = problem.costs_idr
    heap = [_key(float(gains0[j]), int(costs[j]), int(j)) for j in candidates]
    heapq.heapify(heap)
    fresh_at = {}  # candidate -> number of picks when its key was last computed
    picks: list[int] = []
    gains: list[float] = []
    while heap and (picks_left is None or len(picks) < picks_left):
        _, neg_gain, j = heapq.heappop(heap)
        cost = int(costs[j])
        if cost > budget_left:
            continue
        if fresh_at.get(j) == len(picks):
            gain = -neg_gain  # evaluated since the last pick: the key is exact
        else:
            gain = _gain(problem, j, covered)
            if gain <= 0.0:
                continue
            key = _key(gain, cost, j)
            if heap and key > heap[0]:
                fresh_at[j] = len(picks)
                heapq.heappush(heap, key)
                continue
        picks.append(j)
        gains.append(gain)
        _mark(problem, j, covered)
        budget_left -= cost
    return picks, gains, budget_left


def _place_forced(problem: SitingProblem) -> tuple[np.ndarray, int, int | None]:
    """Covered rows after the forced-in sites, the budget left, and the picks left."""
    covered = problem.covered_rows(problem.forced_in)
    budget_left = problem.budget_idr - problem.forced_cost_idr
    picks_left = None if problem.max_towers is None else problem.max_towers - len(problem.forced_in)
    return covered, budget_left, picks_left


def _free_mask(problem: SitingProblem, budget_left: int) -> np.ndarray:
    """Candidates a solver may still add: not forced either way, and within ``budget_left``."""
    free = problem.costs_idr <= budget_left
    free[list(problem.forced_in)] = False
    free[list(problem.forced_out)] = False
    return free


def _rank_set(problem: SitingProblem, chosen: Iterable[int]) -> list[int]:
    """Order a plan: forced-in first, then the rest by greedy weight per Rupiah within the set."""
    forced = list(problem.forced_in)
    rest = sorted(set(chosen) - set(forced))
    covered = problem.covered_rows(forced)
    gains0 = _marginal_gains(problem, covered)
    picks, _, _ = _lazy_greedy(problem, covered, rest, gains0, budget_left=2**62, picks_left=None)
    tail = [j for j in rest if j not in set(picks)]  # sites that add nothing given the others
    return forced + picks + tail


def _upper_bound(
    problem: SitingProblem,
    plan: Sequence[int],
    value: float,
    delta: np.ndarray | None = None,
) -> float:
    """A proven upper bound on the optimum, from submodularity, at any plan S ⊇ forced-in.

    For the optimal plan O: f(O) ≤ f(S) + Σ_{j ∈ O∖S} Δ_j(S), with Δ_j(S) the gain of j given S.
    O∖S holds free candidates only (forced-in sites are in S), costs at most B − c(forced) and
    has at most K − |forced| sites, so the sum is at most the fractional knapsack over the Δ_j
    (and at most the K − |forced| largest Δ_j). ``delta`` are the Δ_j(S) when already known.
    """
    if delta is None:
        delta = _marginal_gains(problem, problem.covered_rows(plan))
    budget_free = problem.budget_idr - problem.forced_cost_idr
    free = _free_mask(problem, budget_free)
    free[list(plan)] = False
    free &= delta > 0
    d = delta[free]
    c = problem.costs_idr[free]
    zero = c == 0
    extra = float(d[zero].sum())
    d_paid, c_paid = d[~zero], c[~zero]
    if d_paid.size:
        by_ratio = np.argsort(-(d_paid / c_paid), kind="stable")
        d_s, c_s = d_paid[by_ratio], c_paid[by_ratio]
        cum = np.cumsum(c_s)
        k = int(np.searchsorted(cum, budget_free, side="right"))
        extra += float(d_s[:k].sum())
        if k < d_s.size:
            room = budget_free - (int(cum[k - 1]) if k else 0)
            extra += float(d_s[k]) * room / float(c_s[k])
    if problem.max_towers is not None:
        k_free = problem.max_towers - len(problem.forced_in)
        top = float(np.sort(d)[::-1][:k_free].sum()) if k_free > 0 else 0.0
        extra = min(extra, top)
    return min(value + extra, problem.coverable_weight)


def _tolerance(problem: SitingProblem) -> float:
    return 1e-9 * max(1.0, problem.total_weight)


def _result(
    problem: SitingProblem,
    order: Sequence[int],
    *,
    solver: str,
    status: str,
    bound: float | None,
    note: str,
    started: float,
) -> SitingResult:
    """Build a result from a pick order, recomputing every gain from the matrix."""
    covered = np.zeros(problem.n_demand, dtype=bool)
    gains: list[float] = []
    for j in order:
        gains.append(_gain(problem, j, covered))
        _mark(problem, j, covered)
    costs = [int(problem.costs_idr[j]) for j in order]
    cum_cost = list(np.cumsum(costs, dtype=np.int64).tolist()) if costs else []
    cum_w = list(np.cumsum(gains).tolist()) if gains else []
    covered_weight = float(cum_w[-1]) if cum_w else 0.0
    if bound is not None:
        bound = max(float(bound), covered_weight) + 0.0  # + 0.0 turns -0.0 into 0.0
    return SitingResult(
        order=tuple(int(j) for j in order),
        site_ids=tuple(problem.site_ids[j] for j in order),
        gains=tuple(gains),
        costs_idr=tuple(costs),
        cumulative_cost_idr=tuple(int(x) for x in cum_cost),
        cumulative_weight=tuple(float(x) for x in cum_w),
        covered_weight=covered_weight,
        total_cost_idr=int(sum(costs)),
        budget_idr=problem.budget_idr,
        status=status,
        solver=solver,
        bound=bound,
        note=note,
        n_forced=len(problem.forced_in),
        runtime_s=time.perf_counter() - started,
    )


def _nothing_to_add_note(problem: SitingProblem, budget_left: int, picks_left: int | None) -> str:
    prefix = "forced-in sites only; " if problem.forced_in else ""
    if picks_left == 0:
        return prefix + f"max_towers={problem.max_towers} is reached by the forced-in sites."
    free_all = np.ones(problem.n_sites, dtype=bool)
    free_all[list(problem.forced_in)] = False
    free_all[list(problem.forced_out)] = False
    if not free_all.any():
        return prefix + "no candidate is left once forced sites are set."
    cheapest = int(problem.costs_idr[free_all].min())
    if cheapest > budget_left:
        return (
            prefix + f"no candidate fits the budget left ({budget_left} IDR; the cheapest costs "
            f"{cheapest} IDR), so this plan is optimal."
        )
    return prefix + "no affordable candidate covers any further demand, so this plan is optimal."


# ---------------------------------------------------------------------- greedy


@register_solver("greedy")
def greedy(problem: SitingProblem) -> SitingResult:
    """Lazy cost-effectiveness greedy plus the best single site (Khuller–Moss–Naor).

    Forced-in sites are placed first, in their given order. Then, while budget and
    ``max_towers`` allow, the affordable candidate with the most newly covered weight per Rupiah
    is taken (free candidates first when they add weight); candidates are re-evaluated lazily
    from a heap of stale gains. Finally the best affordable single site (with the forced ones)
    is compared, and kept if it covers strictly more. ``bound`` is a proven upper bound from
    submodularity (see ``status``: ``"optimal"`` only when the bound meets the plan).
    """
    started = time.perf_counter()
    covered, budget_left, picks_left = _place_forced(problem)
    forced_value = float(problem.weights[covered].sum())
    gains0 = _marginal_gains(problem, covered)
    candidates = np.flatnonzero(_free_mask(problem, budget_left) & (gains0 > 0))

    forced = list(problem.forced_in)
    # the bound at the forced-in plan costs nothing more (its gains are at hand); it is often the
    # tightest for budgets, since the full budget is left to fill there
    bound = _upper_bound(problem, forced, forced_value, gains0)

    if candidates.size == 0 or picks_left == 0:
        note = _nothing_to_add_note(problem, budget_left, picks_left)
        return _finish_greedy(problem, forced, note, started, forced_value, bound)

    picks, gains, _ = _lazy_greedy(
        problem, covered, candidates.tolist(), gains0, budget_left, picks_left
    )
    # ... and at a few prefixes of the greedy sequence (one sparse product each)
    cum = forced_value + np.cumsum(gains)
    for k in sorted({len(picks) // 4, len(picks) // 2, len(picks)} - {0}):
        bound = min(bound, _upper_bound(problem, forced + picks[:k], float(cum[k - 1])))
    greedy_value = forced_value + math.fsum(gains)
    best = int(candidates[np.argmax(gains0[candidates])])
    single_value = forced_value + float(gains0[best])
    if single_value > greedy_value + _tolerance(problem) * 1e-3:
        order = [*forced, best]
        note = (
            f"the best single site {problem.site_ids[best]!r} ({single_value:g} covered) beat the "
            f"ratio-greedy set ({greedy_value:g} covered)."
        )
    else:
        order = [*forced, *picks]
        note = (
            f"the ratio-greedy set ({greedy_value:g} covered) beat or tied the best single site "
            f"{problem.site_ids[best]!r} ({single_value:g} covered)."
        )
    return _finish_greedy(problem, order, note, started, max(single_value, greedy_value), bound)


def _finish_greedy(
    problem: SitingProblem,
    order: list[int],
    note: str,
    started: float,
    value: float,
    bound: float,
) -> SitingResult:
    proven = bound - value <= _tolerance(problem)
    if proven and "optimal" not in note:
        note += " The upper bound equals the plan's coverage, so it is optimal."
    return _result(
        problem,
        order,
        solver="greedy",
        status="optimal" if proven else "heuristic",
        bound=bound,
        note=note,
        started=started,
    )


# ---------------------------------------------------------------------- brute force


@register_solver("brute_force")
def brute_force(problem: SitingProblem, *, max_sites: int = BRUTE_FORCE_MAX_SITES) -> SitingResult:
    """Exact optimum by enumerating every plan of the free candidates.

    Free candidates are those not forced either way, affordable next to the forced-in sites and
    adding weight beside them. Plan values come from a subset-sum (zeta) transform over the
    covering sets of the demand rows, so 2**n plans cost O(n·2**n) array work. Among optimal
    plans the cheapest, then the smallest, is returned.

    Raises
    ------
    UnitsError
        more than ``max_sites`` free candidates.
    """
    started = time.perf_counter()
    covered, budget_left, picks_left = _place_forced(problem)
    gains0 = _marginal_gains(problem, covered)
    free = np.flatnonzero(_free_mask(problem, budget_left) & (gains0 > 0))
    n = int(free.size)
    if n > max_sites:
        raise UnitsError(
            f"brute_force enumerates all 2**n plans and takes at most {max_sites} free "
            f"candidates; this problem has {n} (after setting forced sites aside and dropping "
            "unaffordable candidates and those that cover nothing new). Use solver='exact' or "
            "solver='greedy'."
        )
    if n == 0 or picks_left == 0:
        note = _nothing_to_add_note(problem, budget_left, picks_left)
        order = list(problem.forced_in)
        value = problem.value(order)
        return _result(
            problem,
            order,
            solver="brute_force",
            status="optimal",
            bound=value,
            note=note,
            started=started,
        )

    rows = np.flatnonzero(~covered)
    sub = sp.csr_array(problem.coverage[rows][:, free])
    bits = np.asarray(sub @ (np.int64(1) << np.arange(n, dtype=np.int64)), dtype=np.int64)
    size = 1 << n
    # zeta[m] = weight of uncovered rows whose covering set (among free sites) lies inside m
    zeta = np.bincount(bits, weights=problem.weights[rows], minlength=size).astype(np.float64)
    for k in range(n):
        view = zeta.reshape(-1, 2, 1 << k)
        view[:, 1, :] += view[:, 0, :]
    full = size - 1
    plans = np.arange(size, dtype=np.int64)
    value = zeta[full] - zeta[full ^ plans]  # weight newly covered by plan S

    cost = np.zeros(size, dtype=np.int64)
    count = np.zeros(size, dtype=np.int16)
    for k, j in enumerate(free):
        cost[1 << k : 2 << k] = cost[: 1 << k] + int(problem.costs_idr[j])
        count[1 << k : 2 << k] = count[: 1 << k] + 1
    ok = cost <= budget_left
    if picks_left is not None:
        ok &= count <= picks_left
    value = np.where(ok, value, -np.inf)
    best_value = value.max()
    ties = np.flatnonzero(value >= best_value - _tolerance(problem) * 1e-3)
    best = ties[np.lexsort((ties, count[ties], cost[ties]))[0]]
    chosen = [int(free[k]) for k in range(n) if (int(best) >> k) & 1]
    order = _rank_set(problem, [*problem.forced_in, *chosen])
    value_total = problem.value(order)
    return _result(
        problem,
        order,
        solver="brute_force",
        status="optimal",
        bound=value_total,
        note=f"enumerated {size} plans of {n} free candidates.",
        started=started,
    )


# ---------------------------------------------------------------------- exact MILP


@register_solver("exact")
def exact(
    problem: SitingProblem,
    *,
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-4,
) -> SitingResult:
    r"""Solve the MILP with HiGHS (:func:`scipy.optimize.milp`).

    .. math::

        \max \sum_i w_i z_i \;\; \text{s.t.} \;\; z_i \le \sum_{j \in N(i)} x_j, \;\;
        \sum_j c_j x_j \le B, \;\; \sum_j x_j \le K, \;\; x \in \{0,1\}^n, \; 0 \le z \le 1

    on the merged demand rows. ``status`` is ``"optimal"`` when HiGHS proves the plan within
    ``mip_rel_gap`` of its bound (``gap`` gives the achieved gap), ``"feasible"`` when the time
    limit stops it with a plan. Costs are divided by their greatest common divisor so the budget
    row stays integral; the plan is checked in whole Rupiah afterwards. No warm start:
    :func:`scipy.optimize.milp` does not accept one.

    Parameters
    ----------
    time_limit_s
        wall-clock limit for HiGHS, seconds.
    mip_rel_gap
        relative gap at which HiGHS stops and calls the plan optimal.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    started = time.perf_counter()
    problems = []
    if not (isinstance(time_limit_s, int | float) and time_limit_s > 0):
        problems.append(f"time_limit_s must be > 0 seconds; received {time_limit_s!r}")
    if not (isinstance(mip_rel_gap, int | float) and 0 <= mip_rel_gap < 1):
        problems.append(f"mip_rel_gap must be in [0, 1); received {mip_rel_gap!r}")
    if problems:
        raise UnitsError("exact solver options: " + "; ".join(problems) + ".")

    n = problem.n_sites
    covered, budget_free, picks_left = _place_forced(problem)
    # candidates adding nothing beside the forced-in sites never improve a plan: fix them to 0
    free = _free_mask(problem, budget_free) & (_marginal_gains(problem, covered) > 0)
    if not free.any() or picks_left == 0:
        order = list(problem.forced_in)
        return _result(
            problem,
            order,
            solver="exact",
            status="optimal",
            bound=problem.value(order),
            note=_nothing_to_add_note(problem, budget_free, picks_left),
            started=started,
        )
    # rows of weight 0 cannot change the objective: leave their z out
    rows = np.flatnonzero(problem.weights > 0)
    m = int(rows.size)
    lb = np.zeros(n + m)
    ub = np.ones(n + m)
    ub[:n][~free] = 0.0
    lb[list(problem.forced_in)] = 1.0
    ub[list(problem.forced_in)] = 1.0
    objective = np.concatenate([np.zeros(n), -problem.weights[rows]])
    integrality = np.concatenate([np.ones(n), np.zeros(m)])

    constraints = []
    if m:
        cover = sp.csr_array(problem.coverage)[rows].astype(np.float64)
        link = sp.hstack([-cover, sp.identity(m, format="csr")], format="csr")
        constraints.append(LinearConstraint(link, -np.inf, 0.0))
    costs = problem.costs_idr
    if (costs > 0).any():
        g = int(np.gcd.reduce(costs[costs > 0]))
        row = np.concatenate([costs / g, np.zeros(m)])
        constraints.append(
            LinearConstraint(
                sp.csr_array(row.reshape(1, -1)), -np.inf, float(problem.budget_idr // g)
            )
        )
    if problem.max_towers is not None:
        row = np.concatenate([np.ones(n), np.zeros(m)])
        constraints.append(
            LinearConstraint(sp.csr_array(row.reshape(1, -1)), -np.inf, float(problem.max_towers))
        )

    res = milp(
        objective,
        integrality=integrality,
        bounds=Bounds(lb, ub),
        constraints=constraints,
        options={
            "time_limit": float(time_limit_s),
            "mip_rel_gap": float(mip_rel_gap),
            "disp": False,
        },
    )
    dual = getattr(res, "mip_dual_bound", None)
    milp_bound = -float(dual) if dual is not None and np.isfinite(dual) else None

    if res.x is None:
        if res.status == 2:
            raise InfeasibleError(f"HiGHS reports the siting MILP infeasible: {res.message}")
        fallback = greedy(problem)
        bound = (
            fallback.bound if milp_bound is None else min(fallback.bound or math.inf, milp_bound)
        )
        return _result(
            problem,
            fallback.order,
            solver="exact",
            status="heuristic",
            bound=bound,
            note=f"HiGHS found no plan ({res.message}); this is the greedy plan. "
            "Raise time_limit_s for an exact answer.",
            started=started,
        )

    chosen = [int(j) for j in np.flatnonzero(res.x[:n] > 0.5)]
    order = _rank_set(problem, chosen)
    order, repaired = _repair(problem, order)
    value = problem.value(order)
    if repaired:
        status = "feasible"
        note = (
            "HiGHS's plan broke the budget or max_towers by a rounding sliver; sites were dropped "
            "to fit, so the plan is no longer proven optimal."
        )
    elif res.status == 0:
        status = "optimal"
        gap = (
            0.0
            if milp_bound is None or milp_bound <= 0
            else max(0.0, (milp_bound - value) / milp_bound)
        )
        note = f"HiGHS proved the plan optimal within mip_rel_gap={mip_rel_gap:g} (gap {gap:.2e})."
    else:
        status = "feasible"
        note = f"HiGHS stopped early ({res.message}); bound and gap say how far it got."
    return _result(
        problem, order, solver="exact", status=status, bound=milp_bound, note=note, started=started
    )


def _repair(problem: SitingProblem, order: list[int]) -> tuple[list[int], bool]:
    """Drop the least useful non-forced sites until the plan fits; True when anything dropped."""
    order = list(order)
    repaired = False

    def over() -> bool:
        cost = sum(int(problem.costs_idr[j]) for j in order)
        too_many = problem.max_towers is not None and len(order) > problem.max_towers
        return cost > problem.budget_idr or too_many

    forced = set(problem.forced_in)
    while over():
        removable = [j for j in order if j not in forced]
        if not removable:  # pragma: no cover - forced sites alone are checked feasible
            break
        base = problem.value(order)
        loss = [base - problem.value([k for k in order if k != j]) for j in removable]
        drop = removable[int(np.argmin(loss))]
        order.remove(drop)
        repaired = True
    return order, repaired
