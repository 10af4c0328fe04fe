"""Cost–coverage curves and ranking stability, built on :func:`blankspot.siting.solve`.

:func:`cost_coverage_curve` answers "what does each extra billion Rupiah buy?" over a range of
budgets. For the greedy it reuses one run: the greedy at a smaller budget follows the larger
budget's pick sequence up to the first pick it can no longer afford, and only the rest is rerun
(lazily, from the state at that point). Simply truncating the larger budget's ranking by cost
would be wrong, because past that point the smaller budget fills its remainder with other,
cheaper sites; the result here equals a fresh greedy run at every budget.

:func:`ranking_stability` reruns a plan under cost scenarios (×0.6 and ×1.4 for every site, and
random per-site factors in that range) and reports, per site, how often it is chosen and its
mean rank. :func:`stability_from_problems` does the same for any set of problems over the same
candidates, e.g. coverage rebuilt at a threshold ±5 dB.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

import blankspot.siting.solvers as _solvers
from blankspot.errors import ConfigError, InfeasibleError, InputError, SchemaError, UnitsError
from blankspot.siting._engine import Evaluator
from blankspot.siting.problem import SitingProblem, _as_whole_int
from blankspot.siting.solvers import SitingResult, SolverFunc, solve

__all__ = ["cost_coverage_curve", "ranking_stability", "stability_from_problems"]

CURVE_COLUMNS = (
    "budget_idr",
    "n_towers",
    "cost_idr",
    "covered_weight",
    "share",
    "bound",
    "value",
    "gap",
    "desa_resolved",
    "status",
    "solver",
    "plan_budget_idr",
    "site_ids",
)

STABILITY_COLUMNS = (
    "base_rank",
    "n_chosen",
    "share_chosen",
    "mean_rank",
    "min_rank",
    "max_rank",
)


def cost_coverage_curve(
    problem: SitingProblem,
    budgets_idr: Iterable[int],
    *,
    solver: str | SolverFunc = "greedy",
    monotone: bool = True,
    **options: Any,
) -> pd.DataFrame:
    """The best plan found at each budget: towers, cost, people covered, share and bound.

    Parameters
    ----------
    problem
        a budgeted problem (no cover target); its own budget is ignored.
    budgets_idr
        the budgets, whole Rupiah ≥ 0, in any order; one row each, in the order given.
    solver
        ``"greedy"`` (default: one greedy run reused across budgets, see the module docstring)
        or any other solver, run once per budget.
    monotone
        when a smaller budget's plan is better than a larger budget's own plan (the greedy is
        not monotone in the budget), report the smaller budget's plan at the larger budget
        too: it fits there. ``plan_budget_idr`` says which budget's plan a row shows.
    **options
        passed to the solver (e.g. ``lp_bound=False`` to skip the LP certificate).

    Returns
    -------
    pandas.DataFrame
        columns ``budget_idr``, ``n_towers``, ``cost_idr``, ``covered_weight`` (persons),
        ``share`` (of ``problem.total_weight``), ``bound`` (a proven upper bound on the
        objective at that budget), ``value`` (the objective), ``gap``, ``desa_resolved``,
        ``status`` (``"infeasible"`` where the forced sites or kecamatan minima do not fit the
        budget), ``solver``, ``plan_budget_idr`` and ``site_ids`` (in rank order).

    Raises
    ------
    UnitsError
        a budget is not a whole number of Rupiah ≥ 0.
    InputError
        no budget is given, or the problem has a cover target.
    ConfigError
        an option the solver does not take.

    Examples
    --------
    >>> import numpy as np
    >>> p = SitingProblem.from_matrix(
    ...     np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1], [0, 0, 1]]), [4.0, 3.0, 2.0, 5.0],
    ...     [2, 1, 2], 0, site_ids=["A", "B", "C"])
    >>> curve = cost_coverage_curve(p, [1, 3, 5])
    >>> curve[["budget_idr", "n_towers", "cost_idr", "covered_weight"]].to_numpy().tolist()
    [[1, 1, 1, 5.0], [3, 2, 3, 10.0], [5, 3, 5, 14.0]]
    """
    if not isinstance(problem, SitingProblem):
        raise SchemaError(
            f"cost_coverage_curve() takes a SitingProblem; received {type(problem).__name__}."
        )
    if problem.sense != "max":
        raise InputError(
            "cost_coverage_curve needs a budgeted problem, but this one minimises the cost of a "
            "cover target; use problem.with_constraints(cover_share=None, resolve_groups=()) first."
        )
    budgets = _check_budgets(budgets_idr)
    results = _solve_budgets(problem, sorted(set(budgets), reverse=True), solver, options)
    best = _best_so_far(results, monotone=monotone)
    rows = []
    for b in budgets:
        r = results[b]
        if isinstance(r, InfeasibleError):
            rows.append(_infeasible_row(b, solver))
            continue
        shown, from_b = best[b]
        rows.append(_curve_row(b, r, shown, from_b, problem.total_weight))
    frame = pd.DataFrame(rows, columns=list(CURVE_COLUMNS))
    for col in ("budget_idr", "n_towers", "cost_idr", "plan_budget_idr"):
        frame[col] = frame[col].astype("Int64")
    for col in ("covered_weight", "share", "bound", "value", "gap"):
        frame[col] = frame[col].astype("float64")
    frame["desa_resolved"] = frame["desa_resolved"].astype("Int64")
    return frame


def _solve_budgets(
    problem: SitingProblem, order: list[int], solver: str | SolverFunc, options: dict[str, Any]
) -> dict[int, SitingResult | InfeasibleError]:
    """A result (or the reason there is none) per budget, solved from the largest down.

    The greedy reuses the largest feasible budget's pick sequence for every smaller budget.
    """
    results: dict[int, SitingResult | InfeasibleError] = {}
    reuse: list[int] = []
    gains0: np.ndarray | None = None
    greedy = solver == "greedy"
    lp_bound = options.get("lp_bound")
    lp_time = options.get("lp_time_limit_s", 10.0)
    if greedy:
        unknown = set(options) - {"lp_bound", "lp_time_limit_s"}
        if unknown:
            raise ConfigError(f"solver 'greedy' takes no option(s) {sorted(unknown)}.")
        _solvers._check_lp_options(lp_bound, lp_time)
    for b in order:
        try:
            pb = problem.with_constraints(budget_idr=b)
        except InfeasibleError as exc:
            results[b] = exc
            continue
        if greedy:
            if gains0 is None:
                ev = Evaluator(pb)
                gains0 = ev.gains_all(ev.state(pb.forced_in))  # the same at every budget
            results[b], picks = _greedy_at(pb, reuse, gains0, lp_bound, lp_time)
            if len(picks) > len(reuse):
                reuse = picks  # the largest feasible budget's sequence serves every smaller one
        else:
            results[b] = solve(pb, solver=solver, **options)
    return results


def _best_so_far(
    results: Mapping[int, SitingResult | InfeasibleError], *, monotone: bool
) -> dict[int, tuple[SitingResult, int]]:
    """Per feasible budget, the plan to show and the budget it was found at: its own, or with
    ``monotone`` a smaller budget's plan when that one is worth more."""
    best: dict[int, tuple[SitingResult, int]] = {}
    running: tuple[SitingResult, int] | None = None
    for b in sorted(results):
        r = results[b]
        if isinstance(r, InfeasibleError):
            continue
        if (
            monotone
            and running is not None
            and running[0].value > r.value + 1e-9 * max(1.0, abs(r.value))
        ):
            best[b] = running
        else:
            best[b] = (r, b)
            running = best[b]
    return best


def _curve_row(
    b: int, own: SitingResult, shown: SitingResult, from_b: int, total_weight: float
) -> dict[str, Any]:
    """One row of the curve: the plan ``shown`` at budget ``b``, with ``own``'s bound."""
    bound = own.bound
    value = shown.value
    gap = None
    if bound is not None:
        gap = 0.0 if bound <= 0 else max(0.0, (bound - value) / bound)
    status = own.status if shown is own else ("optimal" if gap == 0.0 else "heuristic")
    return {
        "budget_idr": b,
        "n_towers": shown.n_sites,
        "cost_idr": shown.total_cost_idr,
        "covered_weight": shown.covered_weight,
        "share": shown.covered_weight / total_weight if total_weight > 0 else 0.0,
        "bound": bound,
        "value": value,
        "gap": gap,
        "desa_resolved": shown.desa_resolved,
        "status": status,
        "solver": shown.solver,
        "plan_budget_idr": from_b,
        "site_ids": tuple(shown.site_ids),
    }


def _check_budgets(budgets_idr: Iterable[int]) -> list[int]:
    if isinstance(budgets_idr, int | np.integer):
        budgets_idr = [int(budgets_idr)]
    values = list(budgets_idr)
    if not values:
        raise InputError(
            "budgets_idr must hold at least one budget; received none. Pass e.g. "
            "[8_500_000_000, 14_500_000_000]."
        )
    bad = [b for b in values if (x := _as_whole_int(b)) is None or x < 0]
    if bad:
        raise UnitsError(
            f"budgets_idr must be whole numbers of Rupiah ≥ 0; received {bad}. Pass e.g. "
            "[8_500_000_000, 14_500_000_000]."
        )
    return [int(_as_whole_int(b)) for b in values]  # type: ignore[arg-type]


def _greedy_at(
    problem: SitingProblem,
    reuse: list[int],
    gains0: np.ndarray,
    lp_bound: bool | None,
    lp_time_limit_s: float,
) -> tuple[SitingResult, list[int]]:
    """The greedy result at the problem's budget, reusing a larger budget's ratio sequence;
    also this budget's own ratio sequence."""
    import time

    started = time.perf_counter()
    plan = _solvers._greedy_max(problem, reuse=reuse, gains0=gains0, prefix_bounds=False)
    lp = _solvers._lp_value(problem, lp_bound, lp_time_limit_s)
    result = _solvers._finish(
        problem, plan.order, "greedy", plan.note, started, [plan.bound, lp], lp
    )
    return result, list(plan.ratio_picks)


def _infeasible_row(budget: int, solver: Any) -> dict[str, Any]:
    return {
        "budget_idr": budget,
        "n_towers": pd.NA,
        "cost_idr": pd.NA,
        "covered_weight": math.nan,
        "share": math.nan,
        "bound": math.nan,
        "value": math.nan,
        "gap": math.nan,
        "desa_resolved": pd.NA,
        "status": "infeasible",
        "solver": solver if isinstance(solver, str) else getattr(solver, "__name__", "custom"),
        "plan_budget_idr": pd.NA,
        "site_ids": (),
    }


# ---------------------------------------------------------------------- ranking stability


def ranking_stability(
    problem: SitingProblem,
    *,
    cost_factors: tuple[float, float] = (0.6, 1.4),
    n_draws: int = 20,
    seed: int | None = 0,
    solver: str | SolverFunc = "greedy",
    **options: Any,
) -> pd.DataFrame:
    """How often each site is chosen, and at what rank, when costs change.

    Scenarios: the problem as given (``"base"``); every cost ×``cost_factors[0]`` and
    ×``cost_factors[1]`` (the budget stays, so cheaper towers mean more of them); and
    ``n_draws`` draws with an independent factor per site, uniform in that range. Costs are
    rounded to whole Rupiah.

    Parameters
    ----------
    problem
        the problem to perturb.
    cost_factors
        (low, high) multipliers, 0 < low ≤ high.
    n_draws
        number of random per-site draws, ≥ 0.
    seed
        seed for the draws (a local generator; the global NumPy state is untouched).
    solver, **options
        as for :func:`~blankspot.siting.solve`.

    Returns
    -------
    pandas.DataFrame
        as :func:`stability_from_problems`.
    """
    if not isinstance(problem, SitingProblem):
        raise SchemaError(
            f"ranking_stability() takes a SitingProblem; received {type(problem).__name__}."
        )
    try:
        lo, hi = (float(f) for f in cost_factors)
    except (TypeError, ValueError):
        raise InputError(
            f"cost_factors must be two numbers (low, high); received {cost_factors!r}."
        ) from None
    k = _as_whole_int(n_draws)
    problems_found = []
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo <= hi):
        problems_found.append(
            f"cost_factors must satisfy 0 < low ≤ high; received {cost_factors!r}"
        )
    if k is None or k < 0:
        problems_found.append(f"n_draws must be a whole number ≥ 0; received {n_draws!r}")
    if problems_found:
        raise InputError("ranking_stability: " + "; ".join(problems_found) + ".")
    assert k is not None
    costs = problem.costs_idr.astype(np.float64)
    scenarios: dict[Hashable, np.ndarray] = {
        f"costs x{lo:g}": costs * lo,
        f"costs x{hi:g}": costs * hi,
    }
    rng = np.random.default_rng(seed)
    for i in range(k):
        scenarios[f"draw {i + 1}"] = costs * rng.uniform(lo, hi, size=costs.size)
    problems: dict[Hashable, SitingProblem | InfeasibleError] = {"base": problem}
    for label, c in scenarios.items():
        try:
            problems[label] = problem.with_costs(np.round(c).astype(np.int64))
        except InfeasibleError as exc:
            problems[label] = exc
    return stability_from_problems(problems, solver=solver, **options)  # type: ignore[arg-type]


def stability_from_problems(
    problems: Mapping[Hashable, SitingProblem],
    *,
    solver: str | SolverFunc = "greedy",
    **options: Any,
) -> pd.DataFrame:
    """Per site: how often it is chosen across ``problems``, and its mean rank when chosen.

    Parameters
    ----------
    problems
        label → problem, all over the same candidates (same ``site_ids``), e.g. coverage built
        at the threshold and at ±5 dB, or costs ×0.6 / ×1.4. The first is the base scenario.
        A scenario whose constraints cannot be met is skipped (and listed in
        ``frame.attrs["scenarios"]``).
    solver, **options
        as for :func:`~blankspot.siting.solve`.

    Returns
    -------
    pandas.DataFrame
        indexed by ``site_id`` (every site chosen at least once), sorted by ``base_rank`` then
        by how often chosen; columns ``base_rank`` (rank in the first scenario, 1 = first pick;
        NA when not chosen there), ``n_chosen``, ``share_chosen`` (of the scenarios solved),
        ``mean_rank``, ``min_rank`` and ``max_rank`` (over the scenarios choosing it).
        ``frame.attrs["ranks"]`` holds every rank (site × scenario) and
        ``frame.attrs["scenarios"]`` what happened in each scenario.

    Raises
    ------
    SchemaError
        no problems, or problems over different candidates.
    """
    if not problems:
        raise SchemaError("stability_from_problems needs at least one problem.")
    labels = list(problems)
    first = next((p for p in problems.values() if isinstance(p, SitingProblem)), None)
    if first is None:
        raise SchemaError("stability_from_problems: no scenario has a feasible problem.")
    bad = [
        lab
        for lab, p in problems.items()
        if isinstance(p, SitingProblem) and tuple(p.site_ids) != tuple(first.site_ids)
    ]
    wrong = [
        lab for lab, p in problems.items() if not isinstance(p, SitingProblem | InfeasibleError)
    ]
    if bad or wrong:
        parts = []
        if bad:
            parts.append(
                f"scenario(s) {bad!r} have other site_ids than {labels[0]!r}; build every problem "
                "over the same candidates in the same order"
            )
        if wrong:
            parts.append(f"scenario(s) {wrong!r} are not SitingProblems")
        raise SchemaError("stability_from_problems: " + "; ".join(parts) + ".")
    ids = list(first.site_ids)
    ranks = pd.DataFrame(index=pd.Index(ids, name="site_id", dtype=object), dtype="float64")
    outcome: dict[Hashable, str] = {}
    for lab in labels:
        p = problems[lab]
        if isinstance(p, InfeasibleError):
            outcome[lab] = f"infeasible: {p}"
            continue
        try:
            r = solve(p, solver=solver, **options)
        except InfeasibleError as exc:
            outcome[lab] = f"infeasible: {exc}"
            continue
        col = np.full(len(ids), np.nan)
        col[list(r.order)] = np.arange(1, r.n_sites + 1)
        ranks[lab] = col
        outcome[lab] = f"{r.status}: {r.n_sites} sites, {r.total_cost_idr} IDR, value {r.value:g}"
    solved = list(ranks.columns)
    chosen = ranks.notna()
    n_chosen = chosen.sum(axis=1)
    keep = n_chosen > 0
    base = ranks[labels[0]] if labels[0] in ranks else pd.Series(np.nan, index=ranks.index)
    frame = pd.DataFrame(
        {
            "base_rank": base.astype("Int64"),
            "n_chosen": n_chosen.astype("int64"),
            "share_chosen": n_chosen / max(1, len(solved)),
            "mean_rank": ranks.mean(axis=1),
            "min_rank": ranks.min(axis=1).astype("Int64"),
            "max_rank": ranks.max(axis=1).astype("Int64"),
        }
    )[list(STABILITY_COLUMNS)]
    frame = frame[keep]
    frame = frame.assign(_b=frame["base_rank"].astype("float64").fillna(math.inf))
    frame = frame.sort_values(["_b", "share_chosen", "mean_rank"], ascending=[True, False, True])
    frame = frame.drop(columns="_b")
    frame.attrs["ranks"] = ranks.loc[frame.index]
    frame.attrs["scenarios"] = outcome
    return frame
