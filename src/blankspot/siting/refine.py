"""Lazy refinement: a plan on fine coverage from coarse bounds, certified by the exact solver.

Each candidate ``j`` has an *upper* covering set ``U_j`` (every demand row it could serve at the
fine resolution, from a coarse run read with a margin below the threshold) and, optionally, a
*lower* set ``L_j`` (rows it serves for sure, read with the margin above). Its *fine* set ``F_j``
is costly (a recomputation) and lies between them: ``L_j ⊆ F_j ⊆ U_j``.

:func:`refine_plan` solves the budgeted problem exactly with ``F_j`` for the candidates already
refined and ``U_j`` for the others. Every objective of :class:`~blankspot.siting.Objective` is
monotone in the covering sets (people covered, desa resolved), so that problem is a relaxation:
its optimum bounds the fine optimum from above. When its plan holds refined candidates only, the
plan's value *is* its fine value, and the plan is optimal on the fine sets (within the solver's
``mip_rel_gap``). Otherwise the plan's unrefined candidates are refined and the problem solved
again; each round refines at least one candidate, so the loop ends. The lower sets give, at each
round, a plan whose value bounds the fine optimum from below (greedy on ``F`` and ``L``).

The bound is exact when every unrefined candidate's fine set lies inside its upper set, which is
what the margin promises; :attr:`Refinement.margin_exceeded` lists the refined candidates whose
fine set left their upper set, the margin's check on the candidates that were recomputed
(:attr:`Refinement.lower_exceeded` those that missed rows of their lower set, which only the
reported lower bounds assume).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from blankspot.errors import InputError, Problems, SchemaError
from blankspot.siting.problem import SitingProblem
from blankspot.siting.solvers import SitingResult, solve

__all__ = ["RefineRound", "Refinement", "refine_plan"]

FineColumns = Callable[[Sequence[int]], Any]
"""``f(candidate indices) -> (demand × len(indices))`` fine covering columns, sparse or dense."""

_REFUSED_OPTIONS = ("cover_share", "resolve_groups", "probabilities")


@dataclass(frozen=True)
class RefineRound:
    """One round of :func:`refine_plan`.

    Attributes
    ----------
    upper_bound
        the optimum bound of the relaxed problem (fine sets where refined, upper sets else).
    lower_bound
        the value of the greedy plan on fine and lower sets (None without lower sets): a lower
        bound on the fine optimum while the lower sets hold.
    chosen_unrefined
        how many candidates of the relaxed plan were not refined yet (refined after the round).
    n_refined
        candidates refined before the round.
    solve_s
        seconds spent in the solvers in this round.
    """

    upper_bound: float
    lower_bound: float | None
    chosen_unrefined: int
    n_refined: int
    solve_s: float


@dataclass(frozen=True, eq=False)
class Refinement:
    """The plan of :func:`refine_plan` and its certificate.

    Attributes
    ----------
    solution
        the plan, solved on :attr:`problem`; every site of it is refined, so its value is its
        value on the fine sets.
    problem
        the last relaxed problem: fine columns for refined candidates, upper columns else.
    upper_bound
        bound on the fine optimum (the relaxed problem's proven bound).
    refined
        indices of the candidates recomputed at the fine resolution, in the order refined.
    rounds
        every round, in order.
    margin_exceeded
        indices of refined candidates whose fine set has rows outside their upper set: the
        margin the certificate rests on was wrong for them.
    lower_exceeded
        indices of refined candidates whose fine set misses rows of their lower set (only the
        rounds' lower bounds rest on those sets).
    fine_seconds
        time spent in ``fine_columns``.
    """

    solution: SitingResult
    problem: SitingProblem
    upper_bound: float
    refined: tuple[int, ...]
    rounds: tuple[RefineRound, ...]
    margin_exceeded: tuple[int, ...]
    fine_seconds: float
    lower_exceeded: tuple[int, ...] = ()

    @property
    def value(self) -> float:
        """The plan's objective on the fine sets."""
        return self.solution.value

    @property
    def gap(self) -> float:
        """``(upper_bound − value) / upper_bound`` (0 when the bound is 0)."""
        if self.upper_bound <= 0:
            return 0.0
        return max(0.0, (self.upper_bound - self.value) / self.upper_bound)

    @property
    def n_refined(self) -> int:
        """How many candidates were recomputed at the fine resolution."""
        return len(self.refined)

    @property
    def certified(self) -> bool:
        """The exact solver proved the plan (status ``optimal``) and no refined candidate left
        its upper set. The certificate still assumes the upper sets hold for the others."""
        return self.solution.status == "optimal" and not self.margin_exceeded

    @property
    def site_ids(self) -> tuple[Hashable, ...]:
        """The plan's site ids, in rank order."""
        return self.solution.site_ids

    def summary(self) -> dict[str, Any]:
        """The certificate as plain numbers."""
        return {
            "plan_value": self.value,
            "upper_bound": self.upper_bound,
            "gap": self.gap,
            "status": self.solution.status,
            "certified": self.certified,
            "n_candidates": self.problem.n_sites,
            "n_refined": self.n_refined,
            "rounds": len(self.rounds),
            "margin_exceeded": len(self.margin_exceeded),
            "lower_exceeded": len(self.lower_exceeded),
            "sites": [str(s) for s in self.site_ids],
            "cost_idr": int(self.solution.total_cost_idr),
        }


def _csc(matrix: Any, name: str, shape: tuple[int, int] | None = None) -> sp.csc_array:
    out = sp.csc_array(matrix if sp.issparse(matrix) else np.asarray(matrix)).astype(bool)
    out.eliminate_zeros()
    out.sort_indices()
    if shape is not None and out.shape != shape:
        raise SchemaError(
            f"{name} has shape {out.shape}; it must be {shape} (demand rows × candidates). Give "
            "one column per candidate, rows in the order of the upper matrix."
        )
    return out


def _column(m: sp.csc_array, j: int) -> np.ndarray:
    rows: np.ndarray = m.indices[m.indptr[j] : m.indptr[j + 1]]
    return rows


def _assemble(upper: sp.csc_array, fine: dict[int, np.ndarray]) -> sp.csc_array:
    """``upper`` with the columns of ``fine`` put in."""
    n_rows, n_cols = upper.shape
    cols = [fine[j] if j in fine else _column(upper, j) for j in range(n_cols)]
    indptr = np.concatenate([[0], np.cumsum([len(c) for c in cols])]).astype(np.int64)
    indices = np.concatenate(cols).astype(np.int32) if n_cols else np.zeros(0, np.int32)
    data = np.ones(len(indices), dtype=bool)
    return sp.csc_array((data, indices, indptr), shape=(n_rows, n_cols))


def refine_plan(
    upper: Any,
    fine_columns: FineColumns,
    weights: Any,
    costs_idr: Any,
    budget_idr: int,
    *,
    lower: Any = None,
    fine: dict[int, Any] | None = None,
    exact_options: dict[str, Any] | None = None,
    **problem_options: Any,
) -> Refinement:
    """The optimal plan on fine covering sets, computing only the fine sets that can matter.

    Parameters
    ----------
    upper
        demand × candidate 0/1 matrix of upper sets ``U_j`` (each candidate's fine set must lie
        inside its column).
    fine_columns
        ``f(indices)`` returns the fine columns of those candidates (demand × len(indices)),
        e.g. by recomputing their coverage on a finer terrain.
    weights, costs_idr, budget_idr
        as :meth:`SitingProblem.from_matrix`.
    lower
        optional demand × candidate matrix of lower sets ``L_j ⊆ F_j``: each round then reports a
        lower bound; refined candidates are checked against it.
    fine
        fine columns already known, ``{index: row indices or a bool mask}`` (they count as
        refined but not as recomputed).
    exact_options
        options of the exact solver (``time_limit_s``, ``mip_rel_gap``).
    **problem_options
        constraints and objective of :meth:`SitingProblem.from_matrix` (``site_ids``,
        ``max_towers``, ``forced_in``, ``forced_out``, ``groups``, ``objective``,
        ``location_ids``, ...). Cover targets and probabilities are refused.

    Returns
    -------
    Refinement
        the plan, the bound, the candidates refined and the rounds.

    Raises
    ------
    InputError
        a cover target or probabilities among ``problem_options``.
    SchemaError
        a matrix or a returned fine block of the wrong shape.

    Examples
    --------
    The coarse run says site 0 covers rows 0–2 for sure and site 1 may cover all four; at the
    fine resolution site 1 covers only row 3, so site 0 is the best single site:

    >>> import numpy as np
    >>> upper = np.array([[1, 1], [1, 1], [1, 1], [0, 1]])
    >>> fine = np.array([[1, 0], [1, 0], [1, 0], [0, 1]])
    >>> r = refine_plan(upper, lambda js: fine[:, js], [1.0] * 4, [1, 1], 1)
    >>> r.site_ids, r.value, r.upper_bound, r.refined
    ((0,), 3.0, 3.0, (1, 0))
    """
    problems = Problems()
    for key in _REFUSED_OPTIONS:
        if problem_options.get(key):
            problems.add(
                f"{key}={problem_options[key]!r} is not supported by refine_plan: it certifies "
                "budgeted maximum coverage (people or desa resolved). Drop it, or solve the "
                "fine problem directly.",
                InputError,
            )
    problems.raise_if_any("refine_plan")
    upper_m = _csc(upper, "upper")
    shape = (int(upper_m.shape[0]), int(upper_m.shape[1]))
    lower_m = None if lower is None else _csc(lower, "lower", shape)
    exact = dict(exact_options or {})

    fine_sets: dict[int, np.ndarray] = {}
    exceeded: list[int] = []
    lower_exceeded: list[int] = []
    for j, col in (fine or {}).items():
        fine_sets[int(j)] = _as_rows(col, shape[0])
    refined: list[int] = []
    rounds: list[RefineRound] = []
    fine_s = 0.0

    def relaxed() -> SitingProblem:
        return SitingProblem.from_matrix(
            _assemble(upper_m, fine_sets), weights, costs_idr, budget_idr, **problem_options
        )

    while True:
        t = time.perf_counter()
        problem = relaxed()
        result = solve(problem, solver="exact", **exact)
        lower_value = None
        if lower_m is not None:
            lower_problem = SitingProblem.from_matrix(
                _assemble(lower_m, fine_sets), weights, costs_idr, budget_idr, **problem_options
            )
            lower_value = solve(lower_problem, solver="greedy", lp_bound=False).value
        bound = result.bound if result.bound is not None else result.value
        todo = [j for j in result.order if j not in fine_sets]
        rounds.append(RefineRound(float(bound), lower_value, len(todo), len(fine_sets),
                                  time.perf_counter() - t))
        if not todo:
            return Refinement(
                solution=result, problem=problem, upper_bound=float(bound),
                refined=tuple(refined), rounds=tuple(rounds), margin_exceeded=tuple(exceeded),
                fine_seconds=fine_s, lower_exceeded=tuple(lower_exceeded),
            )
        t = time.perf_counter()
        block = _csc(fine_columns(list(todo)), "the block fine_columns returned",
                     (shape[0], len(todo)))
        fine_s += time.perf_counter() - t
        for k, j in enumerate(todo):
            rows = _column(block, k).copy()
            if not _inside(rows, _column(upper_m, j)):
                exceeded.append(j)
            if lower_m is not None and not _inside(_column(lower_m, j), rows):
                lower_exceeded.append(j)
            # the relaxation uses the fine set as computed, inside its bracket or not
            fine_sets[j] = rows
            refined.append(j)


def _inside(a: np.ndarray, b: np.ndarray) -> bool:
    """Every row of ``a`` is in ``b`` (both sorted)."""
    return bool(np.isin(a, b, assume_unique=True).all())


def _as_rows(col: Any, n_rows: int) -> np.ndarray:
    arr = np.asarray(col).ravel()
    if arr.dtype == bool:
        if arr.size != n_rows:
            raise SchemaError(
                f"a fine column given as a bool mask has {arr.size} entries; it needs one per "
                f"demand row ({n_rows})."
            )
        return np.flatnonzero(arr).astype(np.int32)
    rows = np.unique(arr.astype(np.int64))
    if rows.size and (rows[0] < 0 or rows[-1] >= n_rows):
        raise SchemaError(
            f"a fine column given as row indices has rows outside 0..{n_rows - 1}; received "
            f"{rows[0]}..{rows[-1]}."
        )
    return rows.astype(np.int32)
