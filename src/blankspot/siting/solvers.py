"""Solvers for :class:`~blankspot.siting.SitingProblem`, and the ranked :class:`SitingResult`.

``solve(problem, solver=...)`` dispatches through a small registry. Every solver handles every
objective (people covered, desa resolved, weighted sums; or the cheapest plan for a cover
target) and every constraint (budget, ``max_towers``, forced sites, one height per location,
kecamatan minima):

``"greedy"`` (default)
    lazy cost-effectiveness greedy (Minoux's accelerated greedy) on the submodular score of
    :mod:`blankspot.siting._engine`, plus the best single site; at least (1 − 1/e)/2 ≈ 0.316 of
    the optimum for budgeted people coverage without further constraints (Khuller, Moss & Naor
    1999). For a cover target, the greedy set cover by Rupiah per unit of progress, then
    redundant sites pruned. The pick order is the ranked tower list.
``"quality"``
    partial enumeration (every top single, pair and triple of seeds, each completed by the
    greedy) then 1-out and 2-out swap local search; never worse than ``"greedy"``, and reports
    its improvement over it.
``"exact"``
    the MILP solved by HiGHS (``highspy``), warm-started from the greedy plan, with a time
    limit and a relative gap; reports the solver's bound.
``"brute_force"``
    exact, by enumerating every plan of the free candidates (at most
    :data:`BRUTE_FORCE_MAX_SITES` of them).

Every answer carries a certificate: ``bound`` is a proven bound on the optimum (upper for a
budgeted problem, lower on cost for a cover target), the best of the solver's own bound, the
submodular bound and the LP relaxation (``lp_bound``, solved once per problem and cached), and
``gap`` says how far the plan may be from the optimum. :func:`register_solver` adds more; any
callable ``f(problem, **options) -> SitingResult`` may also be passed as ``solver``. Every plan
a solver returns is checked against every constraint before it is handed back.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar, overload

import numpy as np
import pandas as pd
import scipy.sparse as sp

import blankspot.siting._engine as eng
import blankspot.siting._milp as _milp
from blankspot.errors import (
    BlankspotError,
    ConfigError,
    InfeasibleError,
    Problems,
    SchemaError,
    UnitsError,
)
from blankspot.siting.problem import Objective, SitingProblem, _location_codes, resolved_mask

__all__ = [
    "BRUTE_FORCE_MAX_SITES",
    "SitingResult",
    "available_solvers",
    "lp_relaxation_bound",
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
_F = TypeVar("_F", bound=SolverFunc)

_REL_TOL = 1e-7
"""Relative slack when a bound (LP or MILP, computed in floating point) meets a plan's value."""


# ---------------------------------------------------------------------- result


@dataclass(frozen=True)
class SitingResult:
    """A ranked plan: the chosen sites in pick order, with cumulative cost and coverage.

    Forced-in sites come first (``n_forced`` of them), then the solver's picks in order; for the
    greedy solver that order is the ranking. Other solvers rank their set the same way (best
    gain per Rupiah first, given the sites before).

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
        weight (persons) covered by the whole plan.
    total_cost_idr
        capex of the whole plan; never above ``budget_idr``.
    budget_idr
        the budget the plan was made for.
    status
        ``"optimal"``, ``"feasible"`` or ``"heuristic"`` (see :data:`STATUSES`).
    solver
        name of the solver that made the plan.
    bound
        a proven bound on the optimal objective: an upper bound for a budgeted problem
        (``sense == "max"``), a lower bound on the cost for a cover target (``"min"``); None
        when none is known.
    note
        what happened, in words (e.g. that the best single site beat the greedy set).
    n_forced
        how many of the first picks were forced in.
    runtime_s
        wall time of the solver in seconds (not compared in ``==``).
    objective_value
        the problem's objective for the plan: the :class:`~blankspot.siting.Objective` value
        (people covered by default) or, for a cover target, the cost in Rupiah. None means
        ``covered_weight``.
    sense
        ``"max"`` or ``"min"``, as the problem's.
    lp_bound
        the LP relaxation's optimum, the same kind of bound as ``bound``; None when it was not
        computed (too large for ``lp_bound="auto"``, or switched off).
    desa_resolved
        how many desa have at least ``resolved_share`` of their people covered (None without
        ``groups``).
    greedy_value
        the greedy plan's objective where the solver compared with it (``"quality"``,
        ``"exact"``).
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
    objective_value: float | None = None
    sense: str = "max"
    lp_bound: float | None = None
    desa_resolved: int | None = None
    greedy_value: float | None = None

    @property
    def n_sites(self) -> int:
        """Number of sites in the plan."""
        return len(self.order)

    @property
    def value(self) -> float:
        """The objective value (``objective_value``, or ``covered_weight`` when unset)."""
        return self.covered_weight if self.objective_value is None else self.objective_value

    @property
    def gap(self) -> float | None:
        """Relative distance to the bound; None without a bound.

        ``(bound − value) / bound`` for a budgeted problem, ``(value − bound) / value`` for a
        cover target (cost above its lower bound).
        """
        if self.bound is None:
            return None
        if self.sense == "min":
            return 0.0 if self.value <= 0 else max(0.0, (self.value - self.bound) / self.value)
        if self.bound <= 0:
            return 0.0
        return max(0.0, (self.bound - self.value) / self.bound)

    @property
    def improvement(self) -> float | None:
        """Relative gain over ``greedy_value`` (cost saved for a cover target); None without."""
        if self.greedy_value is None:
            return None
        if self.sense == "min":
            return (
                0.0
                if self.greedy_value <= 0
                else (self.greedy_value - self.value) / self.greedy_value
            )
        return (
            0.0 if self.greedy_value <= 0 else (self.value - self.greedy_value) / self.greedy_value
        )

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


@overload
def register_solver(name: str, func: None = None) -> Callable[[_F], _F]: ...
@overload
def register_solver(name: str, func: _F) -> _F: ...
def register_solver(name: str, func: _F | None = None) -> _F | Callable[[_F], _F]:
    """Register ``func(problem, **options) -> SitingResult`` under ``name``.

    Usable as a decorator (``@register_solver("my_solver")``). Re-registering a name replaces it.
    """

    def _register(f: _F) -> _F:
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
        ``"greedy"`` (default), ``"quality"``, ``"exact"``, ``"brute_force"``, another
        registered name, or a callable ``f(problem, **options) -> SitingResult``.
    **options
        passed to the solver, e.g. ``time_limit_s`` and ``mip_rel_gap`` for ``"exact"``;
        ``lp_bound`` (True, False or None for "auto") and ``lp_time_limit_s`` for every
        built-in solver.

    Returns
    -------
    SitingResult
        a new result; its plan is checked against every constraint.

    Raises
    ------
    ConfigError
        unknown solver name or option, a bad option value, or a problem too large for
        ``"brute_force"``.
    UnitsError
        a time limit that is not > 0 seconds.
    InfeasibleError
        no plan meets the constraints (the message names them), or a solver returned a plan
        that breaks one.

    Examples
    --------
    >>> import numpy as np
    >>> p = SitingProblem.from_matrix(
    ...     np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1], [0, 0, 1]]), [4.0, 3.0, 2.0, 5.0],
    ...     [2, 1, 2], 3, site_ids=["A", "B", "C"])
    >>> r = solve(p)
    >>> r.site_ids, r.covered_weight, r.total_cost_idr
    (('B', 'C'), 10.0, 3)
    >>> r.bound, round(r.gap, 3)  # the LP relaxation allows 11: within 9.1 % of the optimum
    (11.0, 0.091)
    >>> solve(p, solver="brute_force").covered_weight
    10.0

    The cheapest plan covering 80 % of the 14 people:

    >>> q = p.with_constraints(cover_share=0.8, budget_idr=None)
    >>> r = solve(q, solver="exact")
    >>> r.site_ids, r.total_cost_idr, r.covered_weight, r.status
    (('A', 'C'), 4, 14.0, 'optimal')
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
            raise ConfigError(
                f"unknown solver {solver!r}; choose one of {', '.join(map(repr, _SOLVERS))} or "
                "pass a callable f(problem, **options) -> SitingResult."
            ) from None
    try:
        result = func(problem, **options)
    except TypeError as exc:
        if "unexpected keyword argument" in str(exc):
            raise ConfigError(f"solver {name!r}: {exc}.") from None
        raise
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
    chosen = set(order)
    missing = [problem.site_ids[j] for j in problem.forced_in if j not in chosen]
    if missing:
        problems.append(f"it leaves out forced-in site(s) {missing!r}")
    banned = [problem.site_ids[j] for j in set(problem.forced_out) & chosen]
    if banned:
        problems.append(f"it holds forced-out site(s) {banned!r}")
    if problem.location_codes is not None and order:
        loc = _location_codes(problem)[order]
        counts = np.bincount(loc)
        twice = [problem.location_labels[lc] for lc in np.flatnonzero(counts > 1)]
        if twice:
            problems.append(f"it holds two heights at location(s) {twice!r}")
    for label, short in _minima_shortfall(problem, order):
        problems.append(f"it holds {short} tower(s) too few in kecamatan {label!r}")
    if problem.sense == "min" and not problem.meets_target(order):
        problems.append("it does not meet the cover target")
    if problems:
        raise InfeasibleError(
            f"solver {name!r} returned a plan that breaks the problem's constraints: "
            + "; ".join(problems)
            + ". This is a bug in that solver; please report it."
        )


def _minima_shortfall(problem: SitingProblem, order: Sequence[int]) -> list[tuple[Hashable, int]]:
    if not problem.kecamatan_minima:
        return []
    assert problem.kecamatan_codes is not None
    code = {lab: k for k, lab in enumerate(problem.kecamatan_labels)}
    held = [int(problem.kecamatan_codes[j]) for j in order]
    out = []
    for label, minimum in problem.kecamatan_minima:
        have = held.count(code.get(label, -2))
        if have < minimum:
            out.append((label, minimum - have))
    return out


# ---------------------------------------------------------------------- shared machinery


def _tol(scale: float) -> float:
    return _REL_TOL * max(1.0, abs(scale))


def _options_problems(**checks: tuple[bool, str, type[BlankspotError]]) -> None:
    """Raise every failed check at once, as the most serious kind among them."""
    bad = Problems()
    for ok, msg, kind in checks.values():
        if not ok:
            bad.add(msg, kind)
    if bad:
        error = bad.error_type()
        raise error("solver options: " + "; ".join(bad) + ".", problems=list(bad))


def _check_lp_options(lp_bound: Any, lp_time_limit_s: Any) -> None:
    _options_problems(
        lp=(
            lp_bound in (None, True, False),
            f"lp_bound must be True, False or None (auto); received {lp_bound!r}",
            ConfigError,
        ),
        lp_time=(
            isinstance(lp_time_limit_s, int | float) and lp_time_limit_s > 0,
            f"lp_time_limit_s must be > 0 seconds; received {lp_time_limit_s!r}",
            UnitsError,
        ),
    )


def lp_relaxation_bound(problem: SitingProblem, *, time_limit_s: float = 10.0) -> float | None:
    """The LP relaxation's optimum of ``problem``, a certificate for any plan.

    For a budgeted problem it bounds the objective from above; for a cover target it bounds the
    cost from below. Solved once per problem (and time limit) and cached; None when HiGHS did
    not finish within ``time_limit_s``.

    Raises
    ------
    InfeasibleError
        the relaxation has no solution, so no plan meets the constraints.
    """
    if problem.n_sites == 0:
        return problem.objective_value(())
    return _milp.lp_bound(problem, time_limit_s=time_limit_s).value


def _lp_value(
    problem: SitingProblem, lp_bound: bool | None, lp_time_limit_s: float
) -> float | None:
    if lp_bound is False or problem.n_sites == 0:
        return None
    if lp_bound is None and (
        problem.coverage.nnz > _milp.LP_AUTO_MAX_NNZ or not _milp.highs_available()
    ):
        return None
    return lp_relaxation_bound(problem, time_limit_s=lp_time_limit_s)


def _combine(problem: SitingProblem, bounds: Iterable[float | None]) -> float | None:
    """The tightest of several proven bounds (min for a budgeted problem, max for a cover)."""
    known = [float(b) for b in bounds if b is not None and math.isfinite(b)]
    if not known:
        return None
    return max(known) if problem.sense == "min" else min(known)


def _proven(problem: SitingProblem, value: float, bound: float | None) -> bool:
    """Whether ``bound`` meets ``value`` (a bound past the value, by float noise, counts)."""
    if bound is None:
        return False
    if problem.sense == "min":
        return bound >= value - _tol(value)
    return bound <= value + _tol(bound)


class _Unlimited:
    """A tracker that allows every pick (ranking a plan already known to be feasible)."""

    need_total = 0

    def check(self, j: int) -> bool:
        return True

    def take(self, j: int) -> None:
        pass

    def any_left(self) -> bool:
        return True


def _rank_set(problem: SitingProblem, chosen: Iterable[int]) -> list[int]:
    """Order a plan: forced-in first, then the rest by greedy gain per Rupiah within the set."""
    forced = list(problem.forced_in)
    rest = sorted(set(chosen) - set(forced))
    ev = eng.Evaluator(problem)
    st = ev.state(forced)
    bounds = ev.gains_all(st)
    picks, _ = eng.lazy_greedy(ev, st, _Unlimited(), rest, bounds)  # type: ignore[arg-type]
    taken = set(picks)
    tail = [j for j in rest if j not in taken]  # sites that add nothing given the others
    return forced + picks + tail


def _result(
    problem: SitingProblem,
    order: Sequence[int],
    *,
    solver: str,
    status: str,
    bound: float | None,
    note: str,
    started: float,
    lp: float | None = None,
    greedy_value: float | None = None,
) -> SitingResult:
    """Build a result from a pick order, recomputing every gain from the matrix."""
    ev_cov = problem.coverage
    covered = np.zeros(problem.n_demand, dtype=bool)
    gains: list[float] = []
    if problem.probability is not None:
        prob = problem.probability
        miss = np.ones(problem.n_demand)
        for j in order:
            sl = slice(prob.indptr[j], prob.indptr[j + 1])
            rows, p = prob.indices[sl], prob.data[sl]
            gains.append(float(problem.weights[rows] @ (p * miss[rows])))
            miss[rows] *= 1.0 - p
    for j in order if problem.probability is None else ():
        rows = ev_cov.indices[ev_cov.indptr[j] : ev_cov.indptr[j + 1]]
        gains.append(float(problem.weights[rows] @ ~covered[rows]))
        covered[rows] = True
    costs = [int(problem.costs_idr[j]) for j in order]
    cum_cost = list(np.cumsum(costs, dtype=np.int64).tolist()) if costs else []
    cum_w = list(np.cumsum(gains).tolist()) if gains else []
    covered_weight = float(cum_w[-1]) if cum_w else 0.0
    value = problem.objective_value(order)
    if bound is not None:
        if problem.sense == "min":
            bound = min(float(bound), value) + 0.0
        else:
            bound = max(float(bound), value) + 0.0  # + 0.0 turns -0.0 into 0.0
    resolved = None
    if problem.groups is not None:
        resolved = int(problem.resolved(order).sum())
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
        objective_value=value,
        sense=problem.sense,
        lp_bound=lp,
        desa_resolved=resolved,
        greedy_value=greedy_value,
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


def _what(problem: SitingProblem) -> str:
    return "covered" if problem.objective.desa == 0 else "value"


def _better(problem: SitingProblem, a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Whether plan score ``a`` beats ``b``: (objective, tie-break), with a float slack."""
    tol = _tol(max(abs(a[0]), abs(b[0]))) * 1e-2
    if a[0] > b[0] + tol:
        return True
    if a[0] < b[0] - tol:
        return False
    return a[1] > b[1] + _tol(max(abs(a[1]), abs(b[1]))) * 1e-2


# ---------------------------------------------------------------------- greedy: budgeted


@dataclass(frozen=True)
class _GreedyPlan:
    order: list[int]
    ratio_picks: list[int]  # the ratio-greedy sequence after forced-in (before minima fill)
    value: float
    bound: float
    note: str


def _greedy_max(
    problem: SitingProblem,
    *,
    reuse: Sequence[int] = (),
    gains0: np.ndarray | None = None,
    prefix_bounds: bool = True,
) -> _GreedyPlan:
    """The budgeted greedy: ratio greedy, minima filled, then the best single site compared.

    ``reuse`` is a ratio-greedy sequence made for a larger budget on the same problem
    otherwise. Its longest prefix that stays feasible here is exactly this budget's greedy
    prefix: at each step the larger-budget greedy picked the best key among a superset of the
    candidates allowed here, so when its pick is allowed here it is also the best here. The
    rest is rerun lazily from there. (Truncating the larger-budget sequence by cost alone would
    be wrong: past the first pick that no longer fits, the smaller budget picks other sites.)

    ``gains0`` are the gains beside the forced-in sites when already known (they do not depend
    on the budget). ``prefix_bounds=False`` computes the submodular bound at the forced-in and
    final plans only, not also at a quarter and half of the sequence.
    """
    ev = eng.Evaluator(problem)
    forced = list(problem.forced_in)
    st = ev.state(forced)
    tr = eng.Tracker(problem, problem.budget_idr, forced)
    if gains0 is None:
        gains0 = ev.gains_all(st)
    bound = eng.upper_bound(problem, ev, st, problem.budget_idr, gains0)

    prefix: list[int] = []
    for j in reuse:
        if not tr.any_left() or not tr.check(j):
            break
        ev.add(j, st)
        tr.take(j)
        prefix.append(j)
    bounds = gains0  # stale after a reused prefix, but still upper bounds (submodularity)
    candidates = eng.open_candidates(problem, tr, bounds, st.sites)
    picks, _ = eng.lazy_greedy(ev, st, tr, candidates.tolist(), bounds)
    ratio = prefix + picks
    fill = eng.fill_minima(ev, st, tr)
    greedy_order = forced + ratio + fill

    # the bound at a few prefixes of the greedy sequence (one sparse product each)
    seq = ratio + fill
    points = {len(seq) // 4, len(seq) // 2, len(seq)} if prefix_bounds else {len(seq)}
    for k in sorted(points - {0}):
        st_k = st if k == len(seq) else ev.state(forced + seq[:k])
        bound = min(bound, eng.upper_bound(problem, ev, st_k, problem.budget_idr))

    greedy_value = problem.objective_value(greedy_order)
    what = _what(problem)
    order, value = greedy_order, greedy_value
    note = ""
    if not seq:
        tr0 = eng.Tracker(problem, problem.budget_idr, forced)
        note = _nothing_to_add_note(problem, tr0.budget_left, tr0.picks_left)
    else:
        single = _best_single(problem, ev, gains0)
        if single is not None:
            s_order, s_value, j = single
            s_score = ev.score(ev.state(s_order))
            g_score = ev.score(st)
            if _better(problem, (s_value, s_score), (greedy_value, g_score)):
                order, value = s_order, s_value
                note = (
                    f"the best single site {problem.site_ids[j]!r} ({s_value:g} {what}) beat the "
                    f"ratio-greedy set ({greedy_value:g} {what})."
                )
            else:
                note = (
                    f"the ratio-greedy set ({greedy_value:g} {what}) beat or tied the best single "
                    f"site {problem.site_ids[j]!r} ({s_value:g} {what})."
                )
    if seq and problem.objective.desa > 0 and problem.objective.people > 0:
        # the capped desa shares can lead the ratio greedy away from people where no desa can
        # be served; the people greedy is tried too and kept when the true objective is better
        alt = _greedy_max(replace(problem, objective=Objective(people=1.0, desa=0.0)),
                          prefix_bounds=False)
        alt_value = problem.objective_value(alt.order)
        if _better(problem, (alt_value, 0.0), (value, 0.0)):
            note = (f"the people greedy ({alt_value:g} value) beat the desa greedy "
                    f"({value:g} value). " + note)
            order, value = alt.order, alt_value
    return _GreedyPlan(order=order, ratio_picks=ratio, value=value, bound=bound, note=note)


def _best_single(
    problem: SitingProblem, ev: eng.Evaluator, gains0: np.ndarray
) -> tuple[list[int], float, int] | None:
    """The plan forced-in + the single best allowed site (+ minima), its value and the site."""
    forced = list(problem.forced_in)
    tr = eng.Tracker(problem, problem.budget_idr, forced)
    cand = eng.open_candidates(problem, tr, gains0, forced)
    if cand.size == 0:
        return None
    by_gain = cand[np.lexsort((cand, -gains0[cand]))]
    if not forced and problem.objective.desa > 0 and problem.groups is not None:
        # the capped share of a desa under-values the one site that serves it whole: rank the
        # single sites by their true objective instead (one sparse product for all of them)
        single = _single_site_values(problem)[cand]
        by_gain = cand[np.lexsort((cand, -gains0[cand], -single))]
    for j in by_gain.tolist():
        if tr.check(j):
            st = ev.state(forced)
            tr.take(j)
            ev.add(j, st)
            fill = eng.fill_minima(ev, st, tr)
            order = [*forced, j, *fill]
            return order, problem.objective_value(order), j
    return None


def _single_site_values(problem: SitingProblem) -> np.ndarray:
    """The objective of each candidate built alone (no forced-in site), for every candidate."""
    values = problem.probability if problem.probability is not None else problem.coverage
    m = sp.csc_array(values, dtype=np.float64)
    people = problem.weights @ m
    out = problem.objective.people * np.asarray(people, dtype=np.float64)
    assert problem.groups is not None and problem.group_weights is not None
    assert problem.group_values is not None
    rows = np.flatnonzero(problem.groups >= 0)
    onehot = sp.csr_array(
        (problem.weights[rows], (problem.groups[rows], rows)),
        shape=(problem.n_groups, problem.n_demand),
    )
    covered = sp.csc_array(onehot @ m)  # desa × candidates: people served by the site alone
    resolved = np.zeros(problem.n_sites)
    for j in range(problem.n_sites):
        sl = slice(covered.indptr[j], covered.indptr[j + 1])
        d = covered.indices[sl]
        w = problem.group_weights[d]
        ok = resolved_mask(covered.data[sl], w, problem.resolved_share) & (w > 0)
        resolved[j] = problem.group_values[d[ok]].sum()
    # a desa with no people counts as resolved by any plan, alone or not
    empty = float(problem.group_values[(problem.group_weights <= 0)].sum())
    return out + problem.objective.desa * (resolved + empty)


@register_solver("greedy")
def greedy(
    problem: SitingProblem, *, lp_bound: bool | None = None, lp_time_limit_s: float = 10.0
) -> SitingResult:
    """Lazy cost-effectiveness greedy plus the best single site (Khuller–Moss–Naor).

    Forced-in sites are placed first, in their given order. Then, while the constraints allow,
    the candidate with the most score gained per Rupiah is taken (free candidates first when
    they add something); candidates are re-evaluated lazily from a heap of stale gains. Any
    kecamatan minimum still open is then met at the best gain per Rupiah. Finally the best
    single site (with the forced ones) is compared, and kept if it is strictly better.

    For a cover target (``problem.sense == "min"``) the greedy instead adds the candidate with
    the least Rupiah per unit of progress until the target is met, then drops sites the target
    no longer needs, most expensive first.

    ``bound`` is proven: the submodular bound (or, for a cover, a fractional-knapsack lower
    bound on cost) combined with the LP relaxation; ``status`` is ``"optimal"`` only when the
    bound meets the plan.

    Parameters
    ----------
    lp_bound
        solve the LP relaxation for the certificate: True, False, or None ("auto": when the
        matrix has at most ``LP_AUTO_MAX_NNZ`` entries).
    lp_time_limit_s
        time limit for that LP, seconds.
    """
    started = time.perf_counter()
    _check_lp_options(lp_bound, lp_time_limit_s)
    if problem.sense == "min":
        return _greedy_cover_result(problem, started, lp_bound, lp_time_limit_s)
    plan = _greedy_max(problem)
    lp = _lp_value(problem, lp_bound, lp_time_limit_s)
    return _finish(problem, plan.order, "greedy", plan.note, started, [plan.bound, lp], lp)


def _finish(
    problem: SitingProblem,
    order: list[int],
    solver: str,
    note: str,
    started: float,
    bounds: Sequence[float | None],
    lp: float | None,
    greedy_value: float | None = None,
) -> SitingResult:
    value = problem.objective_value(order)
    bound = _combine(problem, bounds)
    proven = _proven(problem, value, bound)
    if proven and "optimal" not in note:
        note = (note + " " if note else "") + "The bound meets the plan's value, so it is optimal."
    return _result(
        problem,
        order,
        solver=solver,
        status="optimal" if proven else "heuristic",
        bound=bound,
        note=note,
        started=started,
        lp=lp,
        greedy_value=greedy_value,
    )


# ---------------------------------------------------------------------- greedy: cover target


def _greedy_cover(
    problem: SitingProblem, *, seed: Sequence[int] = (), banned: Iterable[int] = ()
) -> list[int] | None:
    """Greedy set cover for the target, minima filled and redundant sites pruned; None if the
    greedy cannot meet the target within the budget and other constraints."""
    begun = eng.start(problem, problem.budget_idr, seed)
    if begun is None:
        return None
    ev, st, tr = begun
    if not ev.target_met(st):
        bounds = ev.gains_all(st)
        bounds[list(banned)] = 0.0
        candidates = eng.open_candidates(problem, tr, bounds, st.sites)
        eng.lazy_greedy(ev, st, tr, candidates.tolist(), bounds, stop=ev.target_met)
    if not ev.target_met(st):
        return None
    eng.fill_minima(ev, st, tr)
    return _prune(problem, list(st.sites))


def _prune(problem: SitingProblem, order: list[int]) -> list[int]:
    """Drop sites the target and the minima do not need, most expensive (then latest) first.

    Keeps a count of plan sites per demand row, so testing a site costs only its own rows: the
    weight it alone covers is what the plan would lose without it.
    """
    forced = set(problem.forced_in)
    removable = sorted(
        (j for j in order if j not in forced),
        key=lambda j: (-int(problem.costs_idr[j]), -order.index(j)),
    )
    if not removable:
        return list(order)
    cov = problem.coverage
    w = problem.weights
    count = np.zeros(problem.n_demand, dtype=np.int32)
    for j in order:
        count[cov.indices[cov.indptr[j] : cov.indptr[j + 1]]] += 1
    people = float(w[count > 0].sum())
    need_people = None
    if problem.cover_share is not None:
        need_people = problem.cover_share * problem.total_weight
    targets = list(problem.resolve_groups)
    cov_d = need_d = None
    if targets:
        assert problem.groups is not None and problem.group_weights is not None
        cov_d = problem.group_covered(order)
        need_d = problem.resolved_share * problem.group_weights
    kec_count: dict[int, int] = {}
    minima: dict[int, int] = {}
    if problem.kecamatan_minima:
        assert problem.kecamatan_codes is not None
        code = {lab: k for k, lab in enumerate(problem.kecamatan_labels)}
        minima = {code[lab]: m for lab, m in problem.kecamatan_minima if lab in code}
        for j in order:
            k = int(problem.kecamatan_codes[j])
            kec_count[k] = kec_count.get(k, 0) + 1
    plan = list(order)
    for j in removable:
        if minima:
            k = int(problem.kecamatan_codes[j])  # type: ignore[index]
            if k in minima and kec_count.get(k, 0) - 1 < minima[k]:
                continue
        rows = cov.indices[cov.indptr[j] : cov.indptr[j + 1]]
        alone = rows[count[rows] == 1]
        loss = float(w[alone].sum())
        if need_people is not None and people - loss < need_people - 1e-9 * max(1.0, need_people):
            continue
        loss_d = None
        if cov_d is not None and need_d is not None:
            g = problem.groups[alone]  # type: ignore[index]
            keep = g >= 0
            loss_d = np.bincount(g[keep], weights=w[alone][keep], minlength=problem.n_groups)
            after = cov_d - loss_d
            if any(after[d] < need_d[d] - 1e-9 * max(1.0, need_d[d]) for d in targets):
                continue
        count[rows] -= 1
        people -= loss
        if loss_d is not None:
            cov_d = cov_d - loss_d  # type: ignore[operator]
        if minima:
            kec_count[int(problem.kecamatan_codes[j])] -= 1  # type: ignore[index]
        plan.remove(j)
    if not problem.meets_target(plan):  # pragma: no cover - float drift in the running sums
        return list(order)
    return plan


def _greedy_cover_result(
    problem: SitingProblem, started: float, lp_bound: bool | None, lp_time_limit_s: float
) -> SitingResult:
    order = _greedy_cover(problem)
    lp = _lp_value(problem, lp_bound, lp_time_limit_s)  # raises when the LP proves infeasibility
    if order is None:
        raise InfeasibleError(_cover_failed_message(problem, lp))
    ev = eng.Evaluator(problem)
    st = ev.state(problem.forced_in)
    low = eng.cover_lower_bound(problem, ev, st, ev.gains_all(st))
    note = (
        f"greedy cover: {len(order)} site(s) for {problem.cost_idr(order)} IDR, after dropping "
        "sites the target no longer needed; ranked by gain per Rupiah."
    )
    return _finish(problem, _rank_set(problem, order), "greedy", note, started, [low, lp], lp)


def _cover_failed_message(problem: SitingProblem, lp: float | None) -> str:
    target = []
    if problem.cover_share is not None:
        target.append(f"cover_share α={problem.cover_share:g}")
    if problem.resolve_groups:
        target.append(
            f"{len(problem.resolve_groups)} desa resolved at β={problem.resolved_share:g}"
        )
    limits = [f"budget_idr {problem.budget_idr} IDR"]
    if problem.max_towers is not None:
        limits.append(f"max_towers {problem.max_towers}")
    if problem.location_codes is not None:
        limits.append("one height per location")
    if problem.kecamatan_minima:
        limits.append("the kecamatan minima")
    hint = (
        f" The LP relaxation needs at least {lp:.0f} IDR, so a plan may still exist: try "
        "solver='exact'."
        if lp is not None
        else " Try solver='exact' for a proof either way."
    )
    return (
        f"the greedy cover could not meet the target ({' and '.join(target)}) within "
        f"{', '.join(limits)}.{hint} Otherwise raise the budget or lower the target."
    )


# ---------------------------------------------------------------------- quality


@register_solver("quality")
def quality(
    problem: SitingProblem,
    *,
    n_seeds: int = 20,
    pair_seeds: int = 8,
    triple_seeds: int = 5,
    swap_width: int = 8,
    max_rounds: int = 50,
    time_limit_s: float = 60.0,
    lp_bound: bool | None = None,
    lp_time_limit_s: float = 10.0,
) -> SitingResult:
    """Partial enumeration over the best seeds, then swap local search.

    Every single site among the ``n_seeds`` best (by their value alone), every pair among the
    ``pair_seeds`` best and every triple among the ``triple_seeds`` best seeds a plan that the
    greedy then completes (Feldman, Nutov & Shoham 2023: one seed already gives 0.6174·OPT for
    budgeted coverage). The best plan is then polished by local search until no move helps:
    drop one site (or two) and add the best of the ``swap_width`` sites with the most gain,
    letting the greedy refill the budget freed. For a cover target the seeds start the greedy
    cover, and a move drops one or two sites and covers again without them.

    The greedy plan is always among those tried, so the result is never worse; ``greedy_value``
    and ``improvement`` report the difference. Stops early at ``time_limit_s`` with the best
    plan so far.
    """
    started = time.perf_counter()
    _check_lp_options(lp_bound, lp_time_limit_s)
    _options_problems(
        seeds=(
            all(
                isinstance(v, int) and v >= 0
                for v in (n_seeds, pair_seeds, triple_seeds, swap_width, max_rounds)
            ),
            "n_seeds, pair_seeds, triple_seeds, swap_width and max_rounds must be whole numbers ≥ 0",
            ConfigError,
        ),
        time=(
            isinstance(time_limit_s, int | float) and time_limit_s > 0,
            f"time_limit_s must be > 0 seconds; received {time_limit_s!r}",
            UnitsError,
        ),
    )
    deadline = started + float(time_limit_s)
    if problem.sense == "min":
        return _quality_cover(
            problem, started, deadline, n_seeds, swap_width, max_rounds, lp_bound, lp_time_limit_s
        )

    base = _greedy_max(problem)
    ev = eng.Evaluator(problem)
    first = list(base.order)
    search = _Incumbent(first, _plan_score(problem, ev, first))
    seeds = _quality_seeds(problem, ev, n_seeds, pair_seeds, triple_seeds)
    _try_seeds(problem, ev, search, seeds, deadline)
    rounds = 0
    while rounds < max_rounds and time.perf_counter() < deadline:
        rounds += 1
        if not _improving_swap(problem, ev, search, swap_width, deadline):
            break
    best, tried, moves = search.plan, search.tried, search.moves

    order = _rank_set(problem, best)
    lp = _lp_value(problem, lp_bound, lp_time_limit_s)
    value = problem.objective_value(order)
    gain = value - base.value
    pct = 100.0 * gain / base.value if base.value > 0 else 0.0
    note = (
        f"quality: {value:g} {_what(problem)} against {base.value:g} for the greedy "
        f"({pct:+.2f} %), after {tried} completions over {len(seeds)} seeds and {moves} "
        "improving swap(s)."
    )
    return _finish(problem, order, "quality", note, started, [base.bound, lp], lp, base.value)


@dataclass
class _Incumbent:
    """The best plan a local search has found, its score, and the effort spent so far."""

    plan: list[int]
    score: tuple[float, float]
    tried: int = 1  # plans completed, the greedy plan it starts from included
    moves: int = 0  # improving swaps

    def offer(self, problem: SitingProblem, plan: list[int], score: tuple[float, float]) -> bool:
        """Keep ``plan`` if it is better; say whether it was."""
        if _better(problem, score, self.score):
            self.plan, self.score = plan, score
            return True
        return False


def _plan_score(
    problem: SitingProblem, ev: eng.Evaluator, order: Sequence[int]
) -> tuple[float, float]:
    """What the budgeted local search maximises: the objective, then the submodular score."""
    return problem.objective_value(order), ev.score(ev.state(order))


def _complete(
    problem: SitingProblem, prefix: Sequence[int], banned: Sequence[int] = ()
) -> list[int] | None:
    """The greedy plan grown from ``prefix`` without ``banned`` (None: the prefix is infeasible)."""
    begun = eng.start(problem, problem.budget_idr, prefix)
    if begun is None:
        return None
    ev_, st, tr = begun
    bounds = ev_.gains_all(st)
    bounds[list(banned)] = 0.0
    cand = eng.open_candidates(problem, tr, bounds, st.sites)
    eng.lazy_greedy(ev_, st, tr, cand.tolist(), bounds)
    eng.fill_minima(ev_, st, tr)
    return list(st.sites)


def _quality_seeds(
    problem: SitingProblem, ev: eng.Evaluator, n_seeds: int, pair_seeds: int, triple_seeds: int
) -> list[tuple[int, ...]]:
    """Single sites, pairs and triples among the open candidates with the most gain alone."""
    forced = list(problem.forced_in)
    gains0 = ev.gains_all(ev.state(forced))
    tr0 = eng.Tracker(problem, problem.budget_idr, forced)
    cand = eng.open_candidates(problem, tr0, gains0, forced)
    top = cand[np.lexsort((cand, -gains0[cand]))].tolist()
    seeds: list[tuple[int, ...]] = [(j,) for j in top[:n_seeds]]
    seeds += list(itertools.combinations(top[:pair_seeds], 2))
    seeds += list(itertools.combinations(top[:triple_seeds], 3))
    return seeds


def _try_seeds(
    problem: SitingProblem,
    ev: eng.Evaluator,
    search: _Incumbent,
    seeds: Sequence[tuple[int, ...]],
    deadline: float,
) -> None:
    """Complete every seed greedily (until the deadline), keeping the best plan."""
    for seed in seeds:
        if time.perf_counter() > deadline:
            break
        plan = _complete(problem, seed)
        search.tried += 1
        if plan is not None:
            search.offer(problem, plan, _plan_score(problem, ev, plan))


def _improving_swap(
    problem: SitingProblem, ev: eng.Evaluator, search: _Incumbent, swap_width: int, deadline: float
) -> bool:
    """One local-search move: drop one site (or two), add one of the ``swap_width`` best, refill.

    Drops that lose least per Rupiah are tried first; the first move that improves the plan is
    taken. False when none does (or the deadline passed).
    """
    best, best_score = search.plan, search.score
    forced = list(problem.forced_in)
    free = [j for j in best if j not in set(forced)]
    # drop the sites that lose least per Rupiah first
    loss = {j: best_score[1] - ev.score(ev.state([k for k in best if k != j])) for j in free}
    free.sort(key=lambda j: (loss[j] / max(1, int(problem.costs_idr[j])), j))
    drops: list[tuple[int, ...]] = [(j,) for j in free]
    drops += list(itertools.combinations(free[:6], 2))
    for drop in drops:
        if time.perf_counter() > deadline:
            break
        kept = [k for k in best if k not in drop]
        begun = eng.start(problem, problem.budget_idr, [k for k in kept if k not in set(forced)])
        if begun is None:
            continue
        ev_, st, tr = begun
        g = ev_.gains_all(st)
        g[list(drop)] = 0.0
        adds = eng.open_candidates(problem, tr, g, st.sites)
        adds = adds[np.lexsort((adds, -g[adds]))][:swap_width].tolist()
        for add in [None, *adds]:
            prefix = [k for k in kept if k not in set(forced)] + ([add] if add is not None else [])
            plan = _complete(problem, prefix, banned=drop)
            search.tried += 1
            if plan is None:
                continue
            if search.offer(problem, plan, _plan_score(problem, ev, plan)):
                search.moves += 1
                return True
    return False


def _quality_cover(
    problem: SitingProblem,
    started: float,
    deadline: float,
    n_seeds: int,
    swap_width: int,
    max_rounds: int,
    lp_bound: bool | None,
    lp_time_limit_s: float,
) -> SitingResult:
    base = _greedy_cover(problem)
    lp = _lp_value(problem, lp_bound, lp_time_limit_s)
    if base is None:
        raise InfeasibleError(_cover_failed_message(problem, lp))
    forced = set(problem.forced_in)

    def score(order: Sequence[int]) -> tuple[float, float]:
        return -float(problem.cost_idr(order)), -float(len(order))

    best, best_score = base, score(base)
    base_cost = problem.cost_idr(base)
    ev = eng.Evaluator(problem)
    st0 = ev.state(problem.forced_in)
    g0 = ev.gains_all(st0)
    tr0 = eng.Tracker(problem, problem.budget_idr, list(problem.forced_in))
    cand = eng.open_candidates(problem, tr0, g0, list(problem.forced_in))
    ratio = g0[cand] / np.maximum(problem.costs_idr[cand], 1)
    top = cand[np.lexsort((cand, -ratio))].tolist()
    tried = 1
    for j in top[:n_seeds]:
        if time.perf_counter() > deadline:
            break
        plan = _greedy_cover(problem, seed=[j])
        tried += 1
        if plan is not None and _better(problem, score(plan), best_score):
            best, best_score = plan, score(plan)
    rounds = moves = 0
    while rounds < max_rounds and time.perf_counter() < deadline:
        rounds += 1
        improved = False
        free = sorted(
            (j for j in best if j not in forced), key=lambda j: -int(problem.costs_idr[j])
        )
        drops: list[tuple[int, ...]] = [(j,) for j in free]
        drops += list(itertools.combinations(free[: max(2, swap_width // 2)], 2))
        for drop in drops:
            if time.perf_counter() > deadline:
                break
            kept = [k for k in best if k not in drop and k not in forced]
            plan = _greedy_cover(problem, seed=kept, banned=drop)
            tried += 1
            if plan is not None and _better(problem, score(plan), best_score):
                best, best_score = plan, score(plan)
                improved = True
                moves += 1
                break
        if not improved:
            break
    order = _rank_set(problem, best)
    ev_low = eng.cover_lower_bound(problem, ev, st0, g0)
    cost = problem.cost_idr(order)
    pct = 100.0 * (base_cost - cost) / base_cost if base_cost > 0 else 0.0
    note = (
        f"quality cover: {cost} IDR against {base_cost} IDR for the greedy ({pct:.2f} % less), "
        f"after {tried} covers and {moves} improving swap(s)."
    )
    return _finish(problem, order, "quality", note, started, [ev_low, lp], lp, float(base_cost))


# ---------------------------------------------------------------------- brute force


@register_solver("brute_force")
def brute_force(
    problem: SitingProblem,
    *,
    max_sites: int = BRUTE_FORCE_MAX_SITES,
    lp_bound: bool | None = None,
    lp_time_limit_s: float = 10.0,
) -> SitingResult:
    """Exact optimum by enumerating every plan of the free candidates.

    Free candidates are those not forced either way, affordable next to the forced-in sites and
    adding something beside them (or standing in a kecamatan whose minimum is still open). Plan
    values come from subset-sum (zeta) transforms over the covering sets of the demand rows (one
    for the people, one per desa that counts), so 2**n plans cost O(n·2**n) array work per
    transform. Among optimal plans the cheapest, then the smallest, is returned (for a cover
    target: the one covering most people, then the smallest).

    With probabilities every plan's exact objective is computed: the expected people served,
    Σ_i w_i (1 − Π_{j ∈ S}(1 − p_ij)), and the desa whose expected share reaches β, from the
    products Π(1 − p_ij) built up plan by plan (O(rows · 2**n)).

    Raises
    ------
    ConfigError
        more than ``max_sites`` free candidates.
    InfeasibleError
        no plan meets the constraints; the message names the one that fails on its own, or
        says that they fail together.
    """
    started = time.perf_counter()
    _check_lp_options(lp_bound, lp_time_limit_s)
    ev = eng.Evaluator(problem)
    forced = list(problem.forced_in)
    st = ev.state(forced)
    budget_free = problem.budget_idr - problem.forced_cost_idr
    free = _free_candidates(problem, ev, budget_free)
    n = int(free.size)
    if n > max_sites:
        raise ConfigError(
            f"brute_force enumerates all 2**n plans and takes at most {max_sites} free "
            f"candidates; this problem has {n} (after setting forced sites aside and dropping "
            "unaffordable candidates and those that cover nothing new). Use solver='exact' or "
            "solver='greedy'."
        )
    picks_left = None if problem.max_towers is None else problem.max_towers - len(forced)
    plans = _Enumeration(problem, st, free)
    size = plans.size
    cost, count = _plan_costs(problem, plans)
    masks = _constraint_masks(problem, plans, cost, count, budget_free, picks_left)
    if problem.probability is not None:
        people, value = _expected_plan_values(problem, plans, st)
    else:
        people = st.people + plans.newly(problem.weights[plans.rows])
        value = _plan_values(problem, plans, people, masks)  # adds the cover target's masks
    best = _best_plan(problem, masks, value, people, cost, count)
    chosen = [int(free[k]) for k in range(n) if (int(best) >> k) & 1]
    order = _rank_set(problem, [*forced, *chosen])
    lp = _lp_value(problem, lp_bound, lp_time_limit_s)
    value_total = problem.objective_value(order)
    note = f"enumerated {size} plans of {n} free candidates."
    if n == 0 or picks_left == 0:
        note = _nothing_to_add_note(problem, budget_free, picks_left)
    return _result(
        problem,
        order,
        solver="brute_force",
        status="optimal",
        bound=value_total,
        note=note,
        started=started,
        lp=lp,
    )


def _free_candidates(problem: SitingProblem, ev: eng.Evaluator, budget_free: int) -> np.ndarray:
    """Candidates brute force enumerates: not forced either way, not sharing a forced-in site's
    location, affordable and adding something (or needed for a kecamatan minimum)."""
    forced = list(problem.forced_in)
    useful = _milp.useful_sites(problem, ev, budget_free)
    useful[forced] = False
    if problem.location_codes is not None and forced:
        loc = _location_codes(problem)
        useful &= ~np.isin(loc, loc[forced])
    return np.flatnonzero(useful)


class _Enumeration:
    """Every plan of the free candidates as a bit mask (bit ``k``: ``free[k]`` is built)."""

    def __init__(self, problem: SitingProblem, st: eng.State, free: np.ndarray) -> None:
        self.free = free
        self.n = n = int(free.size)
        self.size = 1 << n
        self.plans = np.arange(self.size, dtype=np.int64)
        self.full = self.size - 1
        self.rows = np.flatnonzero(~st.covered)  # demand rows the forced-in sites leave open
        if n:
            sub = sp.csr_array(problem.coverage[self.rows][:, free])
            self.bits = np.asarray(
                sub @ (np.int64(1) << np.arange(n, dtype=np.int64)), dtype=np.int64
            )
        else:
            self.bits = np.zeros(self.rows.size, dtype=np.int64)

    def newly(self, weights: np.ndarray) -> np.ndarray:
        """Weight newly covered by every plan: zeta[m] sums rows whose set lies inside m."""
        zeta = np.bincount(self.bits, weights=weights, minlength=self.size).astype(np.float64)
        for k in range(self.n):
            view = zeta.reshape(-1, 2, 1 << k)
            view[:, 1, :] += view[:, 0, :]
        added: np.ndarray = zeta[self.full] - zeta[self.full ^ self.plans]
        return added


_EXPECTED_CHUNK = 1 << 22
"""Most plan × row products brute force holds at once for a probability problem."""


def _expected_plan_values(
    problem: SitingProblem, plans: _Enumeration, st: eng.State
) -> tuple[np.ndarray, np.ndarray]:
    """Probability problems: expected people served and objective value of every plan."""
    assert problem.probability is not None and st.miss is not None
    rows = np.flatnonzero(st.miss > 0)  # rows the forced-in sites may still leave unserved
    prob = sp.csc_array(problem.probability[rows][:, plans.free]).toarray()
    people = st.people + _expected_gain(plans, st.miss[rows], prob, problem.weights[rows])
    value = problem.objective.people * people
    if problem.groups is not None and problem.objective.desa > 0:
        assert problem.group_weights is not None and problem.group_values is not None
        base = problem.group_covered(list(problem.forced_in))
        g = problem.groups[rows]
        for d in range(problem.n_groups):
            if problem.group_values[d] <= 0:
                continue
            in_d = g == d
            cov = base[d] + _expected_gain(
                plans, st.miss[rows[in_d]], prob[in_d], problem.weights[rows[in_d]]
            )
            ok = resolved_mask(cov, problem.group_weights[d : d + 1], problem.resolved_share)
            value = value + problem.objective.desa * problem.group_values[d] * ok
    return people, value


def _expected_gain(
    plans: _Enumeration, miss0: np.ndarray, prob: np.ndarray, w: np.ndarray
) -> np.ndarray:
    """Expected weight every plan newly serves: Σ_i w_i miss0_i (1 − Π_{k ∈ plan}(1 − p_ik)),
    the products built plan by plan, a block of rows at a time."""
    size = plans.size
    out = np.zeros(size)
    chunk = max(1, _EXPECTED_CHUNK // size)
    for lo in range(0, miss0.size, chunk):
        sl = slice(lo, lo + chunk)
        miss = np.empty((size, miss0[sl].size))
        miss[0] = miss0[sl]
        for k in range(plans.n):
            miss[1 << k : 2 << k] = miss[: 1 << k] * (1.0 - prob[sl, k])
        out += (miss0[sl] - miss) @ w[sl]
    return out


def _plan_costs(problem: SitingProblem, plans: _Enumeration) -> tuple[np.ndarray, np.ndarray]:
    """Cost (Rupiah, beyond the forced-in sites) and number of free sites of every plan."""
    cost = np.zeros(plans.size, dtype=np.int64)
    count = np.zeros(plans.size, dtype=np.int16)
    for k, j in enumerate(plans.free):
        cost[1 << k : 2 << k] = cost[: 1 << k] + int(problem.costs_idr[j])
        count[1 << k : 2 << k] = count[: 1 << k] + 1
    return cost, count


def _constraint_masks(
    problem: SitingProblem,
    plans: _Enumeration,
    cost: np.ndarray,
    count: np.ndarray,
    budget_free: int,
    picks_left: int | None,
) -> dict[str, np.ndarray]:
    """Per constraint (budget, towers, locations, kecamatan minima), the plans that meet it."""
    size, free, forced = plans.size, plans.free, list(problem.forced_in)
    masks: dict[str, np.ndarray] = {"budget_idr": cost <= budget_free}
    if picks_left is not None:
        masks["max_towers"] = count <= picks_left
    if problem.location_codes is not None:
        loc = _location_codes(problem)[free]
        ok = np.ones(size, dtype=bool)
        for lc in np.unique(loc):
            ks = np.flatnonzero(loc == lc)
            if ks.size > 1:
                ok &= _popcount(plans.plans, ks) <= 1
        masks["one height per location"] = ok
    if problem.kecamatan_minima:
        assert problem.kecamatan_codes is not None
        code = {lab: k for k, lab in enumerate(problem.kecamatan_labels)}
        ok = np.ones(size, dtype=bool)
        for label, minimum in problem.kecamatan_minima:
            kk = code.get(label, -2)
            have = sum(1 for j in forced if int(problem.kecamatan_codes[j]) == kk)
            ks = np.flatnonzero(problem.kecamatan_codes[free] == kk)
            ok &= have + _popcount(plans.plans, ks) >= minimum
        masks["kecamatan minima"] = ok
    return masks


def _plan_values(
    problem: SitingProblem, plans: _Enumeration, people: np.ndarray, masks: dict[str, np.ndarray]
) -> np.ndarray:
    """Objective value of every plan (budgeted problems); for a cover target, add its masks."""
    size, rows, forced = plans.size, plans.rows, list(problem.forced_in)
    cover = problem.sense == "min"
    value = np.zeros(size)
    if not cover:
        value += problem.objective.people * people
    if problem.groups is not None and (cover or problem.objective.desa > 0):
        assert problem.group_weights is not None and problem.group_values is not None
        groups_rows = problem.groups[rows]
        targets_ok = np.ones(size, dtype=bool)
        base_cov = problem.group_covered(forced)
        live = (
            list(problem.resolve_groups)
            if cover
            else [d for d in range(problem.n_groups) if problem.group_values[d] > 0]
        )
        for d in live:
            in_d = groups_rows == d
            extra = plans.newly(np.where(in_d, problem.weights[rows], 0.0)) if in_d.any() else 0.0
            cov_d = np.broadcast_to(base_cov[d] + extra, (size,))
            need = problem.resolved_share * problem.group_weights[d]
            ok_d = cov_d >= need - 1e-9 * max(1.0, need)
            if cover:
                targets_ok &= ok_d
            else:
                value += problem.objective.desa * problem.group_values[d] * ok_d
        if cover:
            masks["target desa resolved"] = targets_ok
    if cover and problem.cover_share is not None:
        need = problem.cover_share * problem.total_weight
        masks[f"cover_share α={problem.cover_share:g}"] = people >= need - 1e-9 * max(1.0, need)
    return value


def _best_plan(
    problem: SitingProblem,
    masks: dict[str, np.ndarray],
    value: np.ndarray,
    people: np.ndarray,
    cost: np.ndarray,
    count: np.ndarray,
) -> int:
    """The best plan meeting every mask: most value, then cheapest, then smallest (for a cover
    target: cheapest, then most people, then smallest). Raises when none meets them all."""
    ok = np.ones(value.size, dtype=bool)
    for m in masks.values():
        ok &= m
    if not ok.any():
        raise InfeasibleError(_enumeration_infeasible(problem, masks))
    if problem.sense == "min":
        best_cost = cost[ok].min()
        ties = np.flatnonzero(ok & (cost == best_cost))
        return int(ties[np.lexsort((ties, count[ties], -people[ties]))[0]])
    v = np.where(ok, value, -np.inf)
    best_value = v.max()
    ties = np.flatnonzero(v >= best_value - 1e-12 * max(1.0, abs(best_value)))
    return int(ties[np.lexsort((ties, count[ties], cost[ties]))[0]])


def _popcount(plans: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """How many of the bit positions ``bits`` each plan holds."""
    out = np.zeros(plans.size, dtype=np.int16)
    for k in bits:
        out += ((plans >> int(k)) & 1).astype(np.int16)
    return out


def _enumeration_infeasible(problem: SitingProblem, masks: dict[str, np.ndarray]) -> str:
    alone = [name for name, m in masks.items() if not m.any()]
    if alone:
        return (
            "siting constraints cannot all be met: no plan satisfies "
            + " nor ".join(alone)
            + " (every plan was enumerated). Relax "
            + ("it." if len(alone) == 1 else "them.")
        )
    return (
        "siting constraints cannot all be met: each of "
        + ", ".join(masks)
        + " holds for some plan but no plan satisfies all of them together (every plan was "
        "enumerated). Raise the budget, lower the target or the minima, or drop a constraint."
    )


# ---------------------------------------------------------------------- exact MILP


@register_solver("exact")
def exact(
    problem: SitingProblem,
    *,
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-4,
    warm_start: bool = True,
    lp_bound: bool | None = None,
    lp_time_limit_s: float = 10.0,
) -> SitingResult:
    r"""Solve the MILP with HiGHS (``highspy``), warm-started from the greedy plan.

    The model is the one in :class:`~blankspot.siting.SitingProblem`'s docstring, on the merged
    demand rows; candidates that can add nothing beside the forced-in sites (and are not needed
    for a kecamatan minimum) are fixed to 0. ``status`` is ``"optimal"`` when HiGHS proves the
    plan within ``mip_rel_gap`` of its bound (``gap`` gives the achieved gap), ``"feasible"``
    when the time limit stops it with a plan. Costs are divided by their greatest common divisor
    so the budget row stays integral; the plan is checked in whole Rupiah afterwards.

    With coverage probabilities the objective 1 − Π(1 − p_ij x_j) is not linear; the model
    replaces it by its concave upper bound z_i ≤ Σ_j p_ij x_j, z_i ≤ 1, whose optimum (and
    HiGHS's dual bound) bounds the expected objective from above. The result is the better of
    HiGHS's plan and the greedy plan by the true expected objective, ``bound`` is that upper
    bound (so ``gap`` is the certified gap) and ``status`` is ``"feasible"`` unless the gap
    closes: bound-certified, not proven optimal.

    The greedy plan is handed to HiGHS as its first incumbent (``Highs.setSolution``), so a
    time limit never returns less than the greedy answer; :func:`scipy.optimize.milp` has no
    such input, which is why ``highspy`` is used.

    Parameters
    ----------
    time_limit_s
        wall-clock limit for HiGHS, seconds.
    mip_rel_gap
        relative gap at which HiGHS stops and calls the plan optimal.
    warm_start
        start HiGHS from the greedy plan.
    lp_bound, lp_time_limit_s
        as for ``"greedy"``.
    """
    started = time.perf_counter()
    _check_lp_options(lp_bound, lp_time_limit_s)
    _options_problems(
        time=(
            isinstance(time_limit_s, int | float) and time_limit_s > 0,
            f"time_limit_s must be > 0 seconds; received {time_limit_s!r}",
            UnitsError,
        ),
        gap=(
            isinstance(mip_rel_gap, int | float) and 0 <= mip_rel_gap < 1,
            f"mip_rel_gap must be in [0, 1); received {mip_rel_gap!r}",
            ConfigError,
        ),
    )

    trivial = _forced_only_result(problem, started)
    if trivial is not None:
        return trivial
    start_plan, greedy_value, greedy_bound = _greedy_start(problem) if warm_start else _NO_START
    lp = _lp_value(problem, lp_bound, lp_time_limit_s)
    spent = time.perf_counter() - started
    outcome = _milp.solve_milp(
        problem,
        start=start_plan,
        time_limit_s=max(0.1, float(time_limit_s) - spent),
        mip_rel_gap=float(mip_rel_gap),
    )
    bound = _combine(problem, [outcome.bound, lp, greedy_bound])
    if outcome.plan is None:
        if start_plan is None:
            raise InfeasibleError(
                f"HiGHS found no plan within time_limit_s={time_limit_s:g} ({outcome.message}) "
                "and the greedy found none either; raise time_limit_s."
            )
        return _result(
            problem,
            start_plan,
            solver="exact",
            status="heuristic",
            bound=bound,
            note=f"HiGHS found no plan ({outcome.message}); this is the greedy plan. Raise "
            "time_limit_s for an exact answer.",
            started=started,
            lp=lp,
            greedy_value=greedy_value,
        )

    order = _rank_set(problem, outcome.plan)
    order, repaired = _repair(problem, order)
    if problem.probability is not None:
        return _bound_certified(problem, order, start_plan, bound, started, lp, greedy_value)
    value = problem.objective_value(order)
    status, note = _exact_status(outcome, repaired, mip_rel_gap, greedy_value)
    if start_plan is not None and not repaired:
        # HiGHS keeps the best incumbent, so it is never worse than the greedy start
        start_value = problem.objective_value(start_plan)
        worse = value < start_value if problem.sense == "max" else value > start_value
        if worse and not _proven(problem, value, start_value):  # pragma: no cover - defensive
            order, value, status = _rank_set(problem, start_plan), start_value, "heuristic"
    return _result(
        problem,
        order,
        solver="exact",
        status=status,
        bound=bound,
        note=note,
        started=started,
        lp=lp,
        greedy_value=greedy_value,
    )


_NO_START: tuple[None, None, None] = (None, None, None)


def _bound_certified(
    problem: SitingProblem,
    order: list[int],
    start_plan: list[int] | None,
    bound: float | None,
    started: float,
    lp: float | None,
    greedy_value: float | None,
) -> SitingResult:
    """The exact solver's answer to a probability problem: the better of HiGHS's plan and the
    greedy one, by the true expected objective, certified by the MILP's upper bound."""
    plans = [order] if start_plan is None else [order, _rank_set(problem, start_plan)]
    values = [problem.objective_value(p) for p in plans]
    best = int(np.argmax(values))  # HiGHS's plan on ties
    value = values[best]
    status = "optimal" if _proven(problem, value, bound) else "feasible"
    gap = None if bound is None or bound <= 0 else max(0.0, (bound - value) / bound)
    note = (
        "coverage probabilities: the MILP maximises the upper bound min(1, Σ_j p_ij x_j) of "
        "each row's chance 1 − Π(1 − p_ij x_j), so its optimum bounds the expected objective "
        "from above (bound-certified, not proven optimal); "
        + ("HiGHS's plan" if best == 0 else "the greedy plan")
        + f" is the better by the true objective ({value:g})"
        + ("" if gap is None else f", within {gap:.2%} of the bound")
        + "."
    )
    return _result(
        problem,
        plans[best],
        solver="exact",
        status=status,
        bound=bound,
        note=note,
        started=started,
        lp=lp,
        greedy_value=greedy_value,
    )


def _forced_only_result(problem: SitingProblem, started: float) -> SitingResult | None:
    """The forced-in sites as the (optimal) plan when no candidate can add anything to them and
    they already meet any target; None when the MILP has work to do."""
    ev = eng.Evaluator(problem)
    budget_free = problem.budget_idr - problem.forced_cost_idr
    useful = _milp.useful_sites(problem, ev, budget_free)
    useful[list(problem.forced_in)] = False
    picks_left = None if problem.max_towers is None else problem.max_towers - len(problem.forced_in)
    forced_only = list(problem.forced_in)
    if (not useful.any() or picks_left == 0) and (
        problem.sense == "max"
        or (problem.meets_target(forced_only) and not _minima_shortfall(problem, forced_only))
    ):
        value = problem.objective_value(forced_only)
        return _result(
            problem,
            forced_only,
            solver="exact",
            status="optimal",
            bound=value,
            note=_nothing_to_add_note(problem, budget_free, picks_left),
            started=started,
        )
    return None


def _greedy_start(
    problem: SitingProblem,
) -> tuple[list[int], float, float | None] | tuple[None, None, None]:
    """The greedy plan, its value and bound, to warm-start HiGHS (Nones when it finds none)."""
    try:
        g = greedy(problem, lp_bound=False)
    except InfeasibleError:
        return _NO_START
    return list(g.order), g.value, g.bound


def _exact_status(
    outcome: _milp.MilpOutcome, repaired: bool, mip_rel_gap: float, greedy_value: float | None
) -> tuple[str, str]:
    """Status and note of an exact result from HiGHS's outcome and how it was started."""
    if repaired:
        status = "feasible"
        note = (
            "HiGHS's plan broke a constraint by a rounding sliver; it was repaired, so the plan "
            "is no longer proven optimal."
        )
    elif outcome.status == "optimal":
        status = "optimal"
        gap = outcome.gap if outcome.gap is not None else 0.0
        note = f"HiGHS proved the plan optimal within mip_rel_gap={mip_rel_gap:g} (gap {gap:.2e})."
    else:
        status = "feasible"
        note = f"HiGHS stopped early ({outcome.message}); bound and gap say how far it got."
    if greedy_value is not None and outcome.warm:
        note += f" Warm-started from the greedy plan ({greedy_value:g})."
    elif greedy_value is not None:
        note += f" Started cold ({outcome.message}); the greedy plan had {greedy_value:g}."
    return status, note


def _repair(problem: SitingProblem, order: list[int]) -> tuple[list[int], bool]:
    """Fix a MILP plan that breaks a constraint by a float sliver; True when anything changed.

    Over the budget or ``max_towers``: drop the least useful non-forced sites. Short of a cover
    target (a row counted by a near-zero x): add sites by the greedy cover.
    """
    order = list(order)
    repaired = False

    def over() -> bool:
        cost = problem.cost_idr(order)
        too_many = problem.max_towers is not None and len(order) > problem.max_towers
        return cost > problem.budget_idr or too_many

    forced = set(problem.forced_in)
    while over():
        removable = [j for j in order if j not in forced]
        if not removable:  # pragma: no cover - forced sites alone are checked feasible
            break
        base = problem.objective_value(order)
        loss = [base - problem.objective_value([k for k in order if k != j]) for j in removable]
        if problem.sense == "min":
            loss = [-x for x in loss]
        drop = removable[int(np.argmin(loss))]
        order.remove(drop)
        repaired = True
    if problem.sense == "min" and not problem.meets_target(order):
        fixed = _greedy_cover(problem, seed=[j for j in order if j not in forced])
        if fixed is not None:
            order, repaired = _rank_set(problem, fixed), True
    return order, repaired
