"""Tower siting problems, as arrays.

:class:`SitingProblem` is the pure core of siting: a sparse 0/1 coverage matrix (demand units ×
candidate sites), a weight per demand unit (persons), a capex per candidate (whole Rupiah), a
budget, and optionally the desa of each demand unit, the location and kecamatan of each
candidate and a cover target. It knows nothing about terrain, polygons or CRSs, so every solver
is tested on plain arrays. :meth:`SitingProblem.from_coverage` is the thin adapter from a
:class:`blankspot.aggregate.CoverageMatrix`.

Two goals share one object: the budgeted maximal covering problem (maximise people covered, desa
resolved or a weighted sum of both under the budget) and the partial set cover (minimise the cost
of covering a share α of the people, or of resolving every target desa). Every objective is
monotone submodular in the plan once a desa's coverage is capped at β of its people, so one
lazy-greedy engine serves them all (see :mod:`blankspot.siting.solvers`).

With ``probabilities=True`` the matrix holds the probability that a candidate serves a demand
unit, and the people covered become the expected people served (still monotone submodular).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from blankspot.errors import (
    InfeasibleError,
    InputError,
    Problems,
    SchemaError,
    UnitsError,
    raise_if_problems,
)

__all__ = ["DEFAULT_PROBABILITY_FLOOR", "DEFAULT_RESOLVED_SHARE", "Objective", "SitingProblem"]

DEFAULT_PROBABILITY_FLOOR = 0.01
"""With ``probabilities=True``, coverage probabilities below this are dropped (taken as 0): they
add under 1 % of a person each and would only fill the sparse matrix."""

DEFAULT_RESOLVED_SHARE = 0.8
"""β: a desa counts as resolved when this share of its people is covered."""

_MAX_LISTED = 5
"""How many offending entries an error message lists before it says "and N more"."""

_HASH_SEED = 0x5EED_B1A5
"""Fixed seed for the row hashes used to find identical covering sets (results are checked)."""

_UNSET: Any = object()


def _listing(items: Sequence[object]) -> str:
    """``'a', 'b', 'c'`` with at most ``_MAX_LISTED`` shown."""
    shown = ", ".join(repr(x) for x in items[:_MAX_LISTED])
    more = len(items) - _MAX_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def _as_whole_int(value: object) -> int | None:
    """``value`` as a Python int if it is a whole number (int or integral float), else None."""
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        f = float(value)
        if math.isfinite(f) and f == math.floor(f) and abs(f) < 2.0**63:
            return int(f)
    return None


@dataclass(frozen=True)
class Objective:
    r"""What a budgeted plan maximises: a weighted sum of people covered and desa resolved.

    .. math::

        f(S) = \text{people} \cdot \sum_i w_i [i \text{ covered by } S]
             + \text{desa} \cdot \sum_d v_d \, [\text{cov}_d(S) \ge \beta W_d]

    with :math:`v_d` the value of desa :math:`d` (``group_values``, 1 by default), :math:`W_d` its
    people and :math:`\beta` the ``resolved_share``. ``Objective()`` is the people covered alone;
    ``Objective(people=0.0, desa=1.0)`` counts desa resolved; ``Objective(people=1.0,
    desa=500.0)`` values a resolved desa like 500 more people.

    Attributes
    ----------
    people
        weight of one person covered, ≥ 0.
    desa
        weight of one desa resolved (times its value), ≥ 0; needs ``groups``.
    """

    people: float = 1.0
    desa: float = 0.0

    @classmethod
    def parse(cls, value: object) -> Objective:
        """An Objective from ``"people"``, ``"desa"``, a mapping or an Objective.

        Raises
        ------
        InputError
            unknown name or key, weights that are not numbers, negative or non-finite, or both
            weights zero.
        """
        if isinstance(value, Objective):
            obj = value
        elif isinstance(value, str):
            named = {"people": cls(1.0, 0.0), "desa": cls(0.0, 1.0), "desa_resolved": cls(0.0, 1.0)}
            if value not in named:
                raise InputError(
                    f"unknown objective {value!r}; use 'people', 'desa' (desa resolved), a "
                    "mapping such as {'people': 1.0, 'desa': 500.0}, or an Objective."
                )
            obj = named[value]
        elif isinstance(value, Mapping):
            unknown = sorted(str(k) for k in value if k not in ("people", "desa"))
            if unknown:
                raise InputError(
                    f"objective mapping has unknown key(s) {unknown}; use 'people' and 'desa'."
                )
            try:
                obj = cls(float(value.get("people", 0.0)), float(value.get("desa", 0.0)))
            except (TypeError, ValueError):
                raise InputError(
                    f"objective weights must be numbers; received {value!r}."
                ) from None
        else:
            raise InputError(
                f"objective must be 'people', 'desa', a mapping or an Objective; received "
                f"{type(value).__name__}."
            )
        bad = [
            f"{k}={v!r}"
            for k, v in (("people", obj.people), ("desa", obj.desa))
            if not (math.isfinite(v) and v >= 0)
        ]
        if bad:
            raise InputError(
                f"objective weights must be finite and ≥ 0; received {', '.join(bad)}."
            )
        if obj.people == 0 and obj.desa == 0:
            raise InputError("objective weights are both 0, so every plan is as good as none.")
        return obj


@dataclass(frozen=True, eq=False)
class SitingProblem:
    r"""A tower siting problem over candidate sites, as arrays.

    Build it with :meth:`from_matrix` (arrays) or :meth:`from_coverage` (a coverage matrix);
    the constructor itself does no checking. The problem is immutable: ``with_constraints`` and
    ``with_costs`` return new problems, and solvers return new
    :class:`~blankspot.siting.SitingResult` objects.

    Without a cover target it is the budgeted maximal covering problem (``sense == "max"``):

    .. math::

        \max \; a \sum_i w_i z_i + b \sum_d v_d y_d \quad \text{s.t.} \quad
        z_i \le \sum_{j \in N(i)} x_j, \;\;
        \beta W_d \, y_d \le \sum_{i \in d} w_i z_i, \;\;
        \sum_j c_j x_j \le B, \;\; \sum_j x_j \le K,

        \sum_{j \in L_\ell} x_j \le 1 \;\; \forall \ell, \qquad
        \sum_{j \in K_k} x_j \ge m_k \;\; \forall k, \qquad
        x_j = 1 \; (j \in F_{in}), \;\; x_j = 0 \; (j \in F_{out}),

        x \in \{0, 1\}^n, \; y \in \{0, 1\}^D, \; 0 \le z \le 1

    with :math:`N(i)` the candidates covering demand unit :math:`i`, :math:`w_i` its weight,
    :math:`c_j` the capex of candidate :math:`j` in Rupiah, :math:`B` the budget, :math:`L_\ell`
    the candidates (heights) at location :math:`\ell`, :math:`K_k` those in kecamatan :math:`k`
    and :math:`a, b` the :class:`Objective` weights. With ``cover_share`` (α) or
    ``resolve_groups`` (target desa :math:`T`) it is the partial set cover (``sense == "min"``):
    :math:`\min \sum_j c_j x_j` under the same constraints plus
    :math:`\sum_i w_i z_i \ge \alpha W` and :math:`\sum_{i \in d} w_i z_i \ge \beta W_d \;
    \forall d \in T`.

    Demand rows with identical covering sets and the same desa are merged (weights summed) and
    rows no candidate covers are dropped on construction; neither changes any objective.
    ``row_map`` links the original rows to the merged ones.

    Attributes
    ----------
    coverage
        CSC bool array (merged demand rows × candidates); row ``i`` column ``j`` is True when
        candidate ``j`` covers demand unit ``i``.
    weights
        float64 weight (persons) of each merged row, ≥ 0.
    costs_idr
        int64 capex of each candidate in whole Rupiah, ≥ 0.
    budget_idr
        total Rupiah available, ≥ 0 (for a cover target given no budget: the cost of every
        candidate, so it never binds).
    site_ids
        one id per candidate (column), unique; ``0 .. n-1`` unless given.
    max_towers
        most candidates a plan may hold, forced ones included; None for no limit.
    forced_in
        column indices that every plan holds, in the given order (they rank first).
    forced_out
        column indices that no plan holds.
    row_map
        int64, one per original demand row: its merged row, or -1 when no candidate covers it.
    total_weight
        weight of all original demand rows.
    coverable_weight
        weight of the rows at least one candidate covers (forced-out candidates included).
    groups
        int64 desa code of each merged row (-1: in no desa), or None without ``groups``.
    group_ids
        the desa ids, one per code.
    group_weights
        float64 people :math:`W_d` of each desa over all its original rows, covered or not.
    group_values
        float64 value :math:`v_d` of resolving each desa (1 unless given).
    resolved_share
        :math:`\beta`: a desa is resolved when this share of its people is covered.
    objective
        the :class:`Objective` of a budgeted problem.
    cover_share
        :math:`\alpha` of a cover target, or None.
    resolve_groups
        desa codes that a cover target requires resolved.
    location_codes
        int64 location code of each candidate (at most one candidate per location is chosen), or
        None when every candidate stands alone.
    location_labels
        the location ids, one per code.
    kecamatan_codes
        int64 kecamatan code of each candidate (-1: none), or None.
    kecamatan_labels
        the kecamatan ids, one per code.
    kecamatan_minima
        ``(kecamatan id, minimum)`` pairs: plans hold at least that many towers there.
    probability
        with ``probabilities=True`` (and not all 0/1): CSC float64 of the same pattern as
        ``coverage``, the probability that each candidate serves each demand row; None for a
        0/1 problem. Rows are then not merged.
    """

    coverage: sp.csc_array
    weights: np.ndarray
    costs_idr: np.ndarray
    budget_idr: int
    site_ids: tuple[Hashable, ...]
    max_towers: int | None
    forced_in: tuple[int, ...]
    forced_out: tuple[int, ...]
    row_map: np.ndarray
    total_weight: float
    coverable_weight: float
    groups: np.ndarray | None = None
    group_ids: tuple[Hashable, ...] = ()
    group_weights: np.ndarray | None = None
    group_values: np.ndarray | None = None
    resolved_share: float = DEFAULT_RESOLVED_SHARE
    objective: Objective = field(default_factory=Objective)
    cover_share: float | None = None
    resolve_groups: tuple[int, ...] = ()
    location_codes: np.ndarray | None = None
    location_labels: tuple[Hashable, ...] = ()
    kecamatan_codes: np.ndarray | None = None
    kecamatan_labels: tuple[Hashable, ...] = ()
    kecamatan_minima: tuple[tuple[Hashable, int], ...] = ()
    probability: sp.csc_array | None = None

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_matrix(
        cls,
        coverage: Any,
        weights: Any,
        costs_idr: Any,
        budget_idr: int | None,
        *,
        site_ids: Iterable[Hashable] | None = None,
        max_towers: int | None = None,
        forced_in: Iterable[Hashable] = (),
        forced_out: Iterable[Hashable] = (),
        groups: Any = None,
        group_values: Any = None,
        resolved_share: float = DEFAULT_RESOLVED_SHARE,
        objective: Any = "people",
        cover_share: float | None = None,
        resolve_groups: Any = None,
        location_ids: Any = None,
        kecamatan_ids: Any = None,
        min_towers_per_kecamatan: Mapping[Hashable, int] | None = None,
        probabilities: bool = False,
        probability_floor: float = DEFAULT_PROBABILITY_FLOOR,
    ) -> SitingProblem:
        """Validate arrays and build a problem.

        Parameters
        ----------
        coverage
            (demand × candidate) 0/1 matrix, any scipy.sparse format (a dense 2-D array is
            accepted too). It is never densified.
        weights
            weight of each demand row (persons), finite and ≥ 0.
        costs_idr
            capex of each candidate in whole Rupiah, ≥ 0 (integers, or floats holding whole
            numbers).
        budget_idr
            total Rupiah available, a whole number ≥ 0. None only with a cover target
            (``cover_share`` or ``resolve_groups``): no cap on the cost.
        site_ids
            unique id per candidate; default ``0 .. n-1``.
        max_towers
            most sites in a plan (forced ones included); None for no limit.
        forced_in, forced_out
            site ids every plan must / must not hold. ``forced_in`` keeps its order.
        groups
            desa id of each demand row (None or NaN: in no desa). Rows are merged only within a
            desa. Needed for desa objectives and ``resolve_groups``.
        group_values
            value of resolving each desa: a mapping (or Series) from desa id to a number ≥ 0;
            desa left out count 0. None: 1 for every desa.
        resolved_share
            β in (0, 1]: a desa is resolved when this share of its people is covered.
        objective
            what a budgeted plan maximises: ``"people"`` (default), ``"desa"`` (desa resolved,
            weighted by ``group_values``), ``{"people": a, "desa": b}`` or an
            :class:`Objective`. Not used with a cover target.
        cover_share
            α in (0, 1]: minimise the cost of covering this share of all the people
            (``total_weight``) instead of maximising coverage under the budget.
        resolve_groups
            desa ids (or ``"all"``) that must all be resolved: minimise the cost of that.
        location_ids
            location id of each candidate; candidates sharing one (several heights at one
            place) are alternatives, and a plan holds at most one of them. None: all distinct.
        kecamatan_ids
            kecamatan id of each candidate (needed by ``min_towers_per_kecamatan``).
        min_towers_per_kecamatan
            kecamatan id → least number of towers a plan holds there (forced ones count).
        probabilities
            ``coverage`` holds probabilities in [0, 1] (e.g. from
            :func:`blankspot.propagation.budget.coverage_probability`) instead of 0/1: the
            objective becomes the *expected* people served, see "Probabilities" below.
        probability_floor
            with ``probabilities``, entries below this (default
            :data:`DEFAULT_PROBABILITY_FLOOR`, 0.01) are dropped; in [0, 1).

        Probabilities
        -------------
        Row ``i`` is served by a plan S with probability :math:`1 - \\prod_{j \\in S}(1 - p_{ij})`
        (sites fail independently), so the people term is
        :math:`\\sum_i w_i (1 - \\prod_{j \\in S}(1 - p_{ij}))`, still monotone submodular. A
        desa is resolved when its *expected* share of people served,
        :math:`\\sum_{i \\in d} w_i (1 - \\prod_j (1 - p_{ij})) / W_d`, reaches β (not when
        each point reaches a probability). A matrix whose entries are all 0 or 1 gives the
        plain 0/1 problem, identical to ``probabilities=False``. Rows are not merged (only rows
        no candidate reaches are dropped). Cover targets (``cover_share``,
        ``resolve_groups``) are not available with probabilities. ``coverage`` then holds the
        pattern (which candidate reaches which row) and ``probability`` the values.

        Returns
        -------
        SitingProblem

        Raises
        ------
        SchemaError
            shapes disagree, the matrix is not 0/1, ids are duplicated or unknown.
        InputError
            the objective, a share, ``max_towers``, a kecamatan minimum or a desa value is
            unknown or out of range.
        UnitsError
            a weight, cost or budget is negative, NaN or not whole Rupiah.

        Every problem found is listed; a schema problem outranks the others.
        InfeasibleError
            a constraint cannot be met by any plan, named in the message: forced-in sites over
            the budget or ``max_towers`` or sharing a location, a site both forced in and out,
            a kecamatan minimum beyond its candidates or the budget, a cover target beyond what
            every candidate together covers.

        Examples
        --------
        >>> import numpy as np
        >>> p = SitingProblem.from_matrix(
        ...     np.array([[1, 0], [1, 0], [0, 1], [0, 0]]), [10.0, 5.0, 7.0, 2.0],
        ...     [3, 4], 5, site_ids=["A", "B"])
        >>> p.n_demand_original, p.n_demand, p.total_weight, p.coverable_weight
        (4, 2, 24.0, 22.0)

        A desa is resolved when β of its people are covered; two candidates are two heights
        at one location, so only one can be built:

        >>> q = SitingProblem.from_matrix(
        ...     np.array([[1, 1, 0], [0, 1, 0], [0, 0, 1]]), [6.0, 2.0, 4.0], [1, 2, 1], 3,
        ...     groups=["d1", "d1", "d2"], resolved_share=0.8, objective="desa",
        ...     location_ids=["L1", "L1", "L2"])
        >>> q.objective_value([1, 2]), q.resolved([0, 2]).tolist()
        (2.0, [False, True])
        """
        inputs = _validate_matrix_inputs(
            coverage,
            weights,
            costs_idr,
            budget_idr,
            site_ids=site_ids,
            max_towers=max_towers,
            forced_in=forced_in,
            forced_out=forced_out,
            groups=groups,
            group_values=group_values,
            resolved_share=resolved_share,
            objective=objective,
            cover_share=cover_share,
            resolve_groups=resolve_groups,
            location_ids=location_ids,
            kecamatan_ids=kecamatan_ids,
            min_towers_per_kecamatan=min_towers_per_kecamatan,
            probabilities=probabilities,
            probability_floor=probability_floor,
        )
        problem = cls._from_inputs(inputs)
        problem._check_feasible()
        return problem

    @classmethod
    def _from_inputs(cls, v: _MatrixInputs) -> SitingProblem:
        """Merge the demand rows of validated inputs and build the (unchecked) problem."""
        probability = None
        if v.probability is not None:
            merged, probability, merged_w, row_map, merged_groups = _drop_empty_rows(
                v.probability, v.weights, v.group_codes
            )
            for a in (probability.data, probability.indices, probability.indptr):
                _readonly(a)
        else:
            merged, merged_w, row_map, merged_groups = _merge_rows(
                v.matrix, v.weights, v.group_codes
            )
        if not merged.has_canonical_format:  # pragma: no cover - _merge_rows returns canonical
            merged.sum_duplicates()  # canonical (sorted, no repeats): scipy never rewrites it
        for a in (merged.data, merged.indices, merged.indptr):
            _readonly(a)
        return cls(
            coverage=merged,
            weights=_readonly(merged_w),
            costs_idr=_readonly(v.costs),
            budget_idr=v.budget,
            site_ids=v.site_ids,
            max_towers=v.max_towers,
            forced_in=v.forced_in,
            forced_out=v.forced_out,
            row_map=_readonly(row_map),
            total_weight=float(v.weights.sum()),
            coverable_weight=float(merged_w.sum()),
            resolved_share=v.resolved_share,
            objective=v.objective,
            cover_share=v.cover_share,
            location_codes=None if v.location_codes is None else _readonly(v.location_codes),
            location_labels=v.location_labels,
            kecamatan_codes=None if v.kecamatan_codes is None else _readonly(v.kecamatan_codes),
            kecamatan_labels=v.kecamatan_labels,
            kecamatan_minima=v.kecamatan_minima,
            probability=probability,
            **_group_fields(v, merged_groups),
        )

    @classmethod
    def from_coverage(
        cls,
        coverage_matrix: Any,
        costs_idr: Any,
        budget_idr: int | None,
        *,
        groups: str | Any = None,
        **options: Any,
    ) -> SitingProblem:
        """Build a problem from a :class:`blankspot.aggregate.CoverageMatrix`.

        Parameters
        ----------
        coverage_matrix
            has ``matrix`` (demand × site), ``demand`` (with a ``population`` column, the
            weights) and ``site_ids``.
        costs_idr
            a pandas Series indexed by site id (aligned by id; every site needs a cost), or an
            array in ``site_ids`` order.
        budget_idr
            as in :meth:`from_matrix`.
        groups
            a column of ``coverage_matrix.demand`` (e.g. ``"village_id"``) or an array: the desa
            of each demand row.
        **options
            any other keyword of :meth:`from_matrix` (``max_towers``, ``forced_in``, ...).

        Returns
        -------
        SitingProblem
        """
        site_ids = tuple(coverage_matrix.site_ids)
        if isinstance(costs_idr, pd.Series):
            missing = [s for s in site_ids if s not in costs_idr.index]
            if missing:
                raise SchemaError(
                    f"costs_idr has no cost for {len(missing)} site(s): {_listing(missing)}. "
                    "Give every site in the coverage matrix a cost (a Series indexed by site_id)."
                )
            if not costs_idr.index.is_unique:
                raise SchemaError(
                    "costs_idr has a duplicated site_id in its index; give each site one cost."
                )
            costs_idr = costs_idr.reindex(list(site_ids)).to_numpy()
        if isinstance(groups, str):
            if groups not in coverage_matrix.demand:
                raise SchemaError(
                    f"groups={groups!r} is not a column of the demand table; its columns are "
                    f"{_listing(list(coverage_matrix.demand.columns))}."
                )
            groups = coverage_matrix.demand[groups].to_numpy()
        return cls.from_matrix(
            coverage_matrix.matrix,
            coverage_matrix.demand["population"].to_numpy(),
            costs_idr,
            budget_idr,
            site_ids=site_ids,
            groups=groups,
            **options,
        )

    def with_constraints(
        self,
        *,
        budget_idr: int | None = _UNSET,
        max_towers: int | None = _UNSET,
        forced_in: Iterable[Hashable] = _UNSET,
        forced_out: Iterable[Hashable] = _UNSET,
        min_towers_per_kecamatan: Mapping[Hashable, int] | None = _UNSET,
        objective: Any = _UNSET,
        resolved_share: float = _UNSET,
        cover_share: float | None = _UNSET,
        resolve_groups: Any = _UNSET,
    ) -> SitingProblem:
        """A new problem with other constraints or goal on the same matrix, weights and costs.

        Cheap: the merged matrix is shared, not rebuilt. Arguments left out keep their values;
        ``forced_in``/``forced_out`` take site ids, ``resolve_groups`` desa ids. Setting
        ``cover_share=None`` and ``resolve_groups=()`` turns a cover target back into a
        budgeted problem.

        Raises
        ------
        SchemaError, InputError, UnitsError, InfeasibleError
            as in :meth:`from_matrix`.
        """
        schema: list[str] = []
        numbers = Problems()
        changes: dict[str, Any] = {}
        if max_towers is not _UNSET:
            k = None if max_towers is None else _as_whole_int(max_towers)
            if max_towers is not None and (k is None or k < 0):
                numbers.add(
                    f"max_towers must be a whole number ≥ 0 or None; received {max_towers!r}.",
                    InputError,
                )
            else:
                changes["max_towers"] = k
        index_of = {sid: j for j, sid in enumerate(self.site_ids)}
        if forced_in is not _UNSET:
            changes["forced_in"] = tuple(_resolve_ids("forced_in", forced_in, index_of, schema))
        if forced_out is not _UNSET:
            changes["forced_out"] = tuple(_resolve_ids("forced_out", forced_out, index_of, schema))
        if min_towers_per_kecamatan is not _UNSET:
            changes["kecamatan_minima"] = _check_minima(
                min_towers_per_kecamatan, self.kecamatan_codes is not None, schema, numbers
            )
        if objective is not _UNSET:
            obj = _check_objective(objective, numbers)
            if obj is not None and obj.desa > 0 and self.groups is None:
                schema.append("a desa objective needs groups; build the problem with groups=...")
            changes["objective"] = obj
        if resolved_share is not _UNSET:
            changes["resolved_share"] = _check_share("resolved_share", resolved_share, numbers)
        if cover_share is not _UNSET:
            changes["cover_share"] = (
                None if cover_share is None else _check_share("cover_share", cover_share, numbers)
            )
        if resolve_groups is not _UNSET:
            if self.groups is None and not _is_empty(resolve_groups):
                schema.append("resolve_groups needs groups; build the problem with groups=...")
            else:
                changes["resolve_groups"] = _check_targets(resolve_groups, self.group_ids, schema)
        has_target = changes.get("cover_share", self.cover_share) is not None or bool(
            changes.get("resolve_groups", self.resolve_groups)
        )
        if budget_idr is not _UNSET:
            if budget_idr is None and has_target:
                changes["budget_idr"] = int(self.costs_idr.sum(dtype=object))
            else:
                b = _as_whole_int(budget_idr)
                if b is None or b < 0:
                    numbers.add(
                        f"budget_idr must be a whole number of Rupiah ≥ 0; received {budget_idr!r}.",
                        UnitsError,
                    )
                else:
                    changes["budget_idr"] = b
        if has_target and self.probability is not None:
            schema.append(_NO_TARGET_WITH_PROBABILITIES)
        if has_target and changes.get("objective", self.objective) != Objective():
            schema.append(
                "objective applies to budgeted problems; with cover_share or resolve_groups the "
                "plan minimises cost instead. Pass objective='people'."
            )
        _raise_problems("SitingProblem.with_constraints", schema, numbers)
        problem = replace(self, **changes)
        problem._check_feasible()
        return problem

    def with_costs(self, costs_idr: Any, *, budget_idr: int | None = _UNSET) -> SitingProblem:
        """A new problem with other candidate costs (and optionally budget) on the same matrix.

        Used for cost scenarios (×0.6 / ×1.4). Costs are validated as in :meth:`from_matrix`.
        """
        schema: list[str] = []
        numbers = Problems()
        c = _check_costs(costs_idr, self.n_sites, schema, numbers)
        _raise_problems("SitingProblem.with_costs", schema, numbers)
        assert c is not None
        problem = replace(self, costs_idr=_readonly(c))
        if budget_idr is not _UNSET:
            return problem.with_constraints(budget_idr=budget_idr)
        problem._check_feasible()
        return problem

    def _check_feasible(self) -> None:
        """Raise InfeasibleError naming every constraint no plan can meet."""
        problems: list[str] = []
        both = sorted(set(self.forced_in) & set(self.forced_out))
        if both:
            problems.append(
                f"site(s) {_listing([self.site_ids[j] for j in both])} are both forced in and "
                "forced out; remove them from one of the two lists."
            )
        cost = self.forced_cost_idr
        if cost > self.budget_idr:
            ids = [self.site_ids[j] for j in self.forced_in]
            problems.append(
                f"the forced-in site(s) {_listing(ids)} cost {cost} IDR in total but budget_idr is "
                f"{self.budget_idr} IDR, short by {cost - self.budget_idr} IDR; raise the budget "
                "or force fewer sites in."
            )
        if self.max_towers is not None and len(self.forced_in) > self.max_towers:
            problems.append(
                f"{len(self.forced_in)} sites are forced in but max_towers is {self.max_towers}; "
                "raise max_towers or force fewer sites in."
            )
        if self.location_codes is not None:
            by_loc: dict[int, list[int]] = {}
            for j in self.forced_in:
                by_loc.setdefault(int(self.location_codes[j]), []).append(j)
            for loc, js in by_loc.items():
                if len(js) > 1:
                    problems.append(
                        f"one height per location: the forced-in site(s) "
                        f"{_listing([self.site_ids[j] for j in js])} share location "
                        f"{self.location_labels[loc]!r}; force in only one of them."
                    )
        problems += _minima_problems(self)
        problems += _target_problems(self)
        raise_if_problems("siting constraints cannot all be met", problems, InfeasibleError)

    # ------------------------------------------------------------------ properties

    @property
    def n_sites(self) -> int:
        """Number of candidate sites (columns)."""
        return int(self.coverage.shape[1])

    @property
    def n_demand(self) -> int:
        """Number of demand rows after merging (rows no candidate covers are dropped)."""
        return int(self.coverage.shape[0])

    @property
    def n_demand_original(self) -> int:
        """Number of demand rows as given."""
        return int(self.row_map.shape[0])

    @property
    def n_groups(self) -> int:
        """Number of desa (0 without ``groups``)."""
        return len(self.group_ids)

    @property
    def sense(self) -> str:
        """``"max"`` (the objective under the budget) or ``"min"`` (the cost of a cover target)."""
        return "min" if self.cover_share is not None or self.resolve_groups else "max"

    @property
    def uncoverable_weight(self) -> float:
        """Weight of the demand rows no candidate covers."""
        return self.total_weight - self.coverable_weight

    @property
    def forced_cost_idr(self) -> int:
        """Total capex of the forced-in sites."""
        return int(sum(int(self.costs_idr[j]) for j in self.forced_in))

    @property
    def min_towers_per_kecamatan(self) -> dict[Hashable, int]:
        """Kecamatan id → least number of towers a plan holds there."""
        return dict(self.kecamatan_minima)

    def index_of(self, site_id: Hashable) -> int:
        """Column index of ``site_id``; raises SchemaError for an unknown id."""
        for j, sid in enumerate(self.site_ids):
            if sid == site_id:
                return j
        raise SchemaError(
            f"unknown site id {site_id!r}; the problem's ids are {_listing(self.site_ids)}."
        )

    # ------------------------------------------------------------------ evaluating plans

    @property
    def is_probabilistic(self) -> bool:
        """Whether coverage is a probability per entry (``probabilities=True``, not all 0/1)."""
        return self.probability is not None

    def served_rows(self, sites: Iterable[int]) -> np.ndarray:
        """float64 per merged row: the probability ``sites`` serve it, 1 − Π(1 − p).

        For a 0/1 problem, 1.0 where covered and 0.0 elsewhere.
        """
        if self.probability is None:
            return self.covered_rows(sites).astype(np.float64)
        miss = np.ones(self.n_demand)
        indptr, indices, data = self.probability.indptr, self.probability.indices, self.probability.data
        for j in sites:
            sl = slice(indptr[j], indptr[j + 1])
            miss[indices[sl]] *= 1.0 - data[sl]
        served: np.ndarray = 1.0 - miss
        return served

    def covered_rows(self, sites: Iterable[int]) -> np.ndarray:
        """Bool mask over the merged rows covered by the candidate indices ``sites``.

        With probabilities: the rows some site of ``sites`` reaches (probability ≥ the floor).
        """
        covered = np.zeros(self.n_demand, dtype=bool)
        indptr, indices = self.coverage.indptr, self.coverage.indices
        for j in sites:
            covered[indices[indptr[j] : indptr[j + 1]]] = True
        return covered

    def covered_mask(self, sites: Iterable[int]) -> np.ndarray:
        """Bool mask over the *original* demand rows covered by candidate indices ``sites``."""
        merged = self.covered_rows(sites)
        out = np.zeros(self.n_demand_original, dtype=bool)
        keep = self.row_map >= 0
        out[keep] = merged[self.row_map[keep]]
        return out

    def value(self, sites: Iterable[int]) -> float:
        """Covered weight (persons) of the candidate indices ``sites``; with probabilities, the
        expected people served, Σ w_i (1 − Π_{j ∈ sites} (1 − p_ij))."""
        if self.probability is not None:
            return float(self.weights @ self.served_rows(sites))
        return float(self.weights[self.covered_rows(sites)].sum())

    def cost_idr(self, sites: Iterable[int]) -> int:
        """Total capex of the candidate indices ``sites``."""
        return int(sum(int(self.costs_idr[j]) for j in sites))

    def group_covered(self, sites: Iterable[int]) -> np.ndarray:
        """Covered weight of each desa (float64, one per ``group_ids``) under ``sites`` (expected
        people served, with probabilities)."""
        if self.groups is None:
            return np.zeros(0)
        if self.probability is not None:
            in_g = self.groups >= 0
            served = self.weights * self.served_rows(sites)
            return np.bincount(self.groups[in_g], weights=served[in_g], minlength=self.n_groups)
        covered = self.covered_rows(sites) & (self.groups >= 0)
        return np.bincount(
            self.groups[covered], weights=self.weights[covered], minlength=self.n_groups
        )

    def group_shares(self, sites: Iterable[int]) -> np.ndarray:
        """Share of each desa's people covered under ``sites`` (1.0 for a desa of no people)."""
        if self.groups is None:
            return np.zeros(0)
        assert self.group_weights is not None
        cov = self.group_covered(sites)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(self.group_weights > 0, cov / self.group_weights, 1.0)
        return np.minimum(share, 1.0)

    def resolved(self, sites: Iterable[int]) -> np.ndarray:
        """Bool per desa: at least ``resolved_share`` of its people covered under ``sites``."""
        if self.groups is None:
            return np.zeros(0, dtype=bool)
        assert self.group_weights is not None
        return resolved_mask(self.group_covered(sites), self.group_weights, self.resolved_share)

    def meets_target(self, sites: Iterable[int]) -> bool:
        """Whether ``sites`` meet the cover target (True for a budgeted problem)."""
        sites = list(sites)
        if self.cover_share is not None:
            need = self.cover_share * self.total_weight
            if self.value(sites) < need - _value_tolerance(need):
                return False
        if self.resolve_groups:
            ok = self.resolved(sites)
            return bool(ok[list(self.resolve_groups)].all())
        return True

    def objective_value(self, sites: Iterable[int]) -> float:
        """The problem's objective at ``sites``: ``Objective`` value (max), or cost (min)."""
        sites = list(sites)
        if self.sense == "min":
            return float(self.cost_idr(sites))
        value = 0.0
        if self.objective.people:
            value += self.objective.people * self.value(sites)
        if self.objective.desa:
            assert self.group_values is not None
            value += self.objective.desa * float(self.group_values[self.resolved(sites)].sum())
        return value

    def __repr__(self) -> str:
        extra = ""
        if self.groups is not None:
            extra += f", n_groups={self.n_groups}, resolved_share={self.resolved_share:g}"
        if self.sense == "min":
            extra += f", cover_share={self.cover_share}, resolve_groups={len(self.resolve_groups)}"
        elif self.objective != Objective():
            extra += f", objective={self.objective}"
        if self.location_codes is not None:
            extra += f", n_locations={len(self.location_labels)}"
        if self.probability is not None:
            extra += ", probabilities=True"
        if self.kecamatan_minima:
            extra += f", kecamatan_minima={dict(self.kecamatan_minima)}"
        return (
            f"SitingProblem(n_sites={self.n_sites}, n_demand={self.n_demand} "
            f"(from {self.n_demand_original}), budget_idr={self.budget_idr}, "
            f"max_towers={self.max_towers}, forced_in={len(self.forced_in)}, "
            f"forced_out={len(self.forced_out)}, coverable_weight={self.coverable_weight:g} "
            f"of {self.total_weight:g}{extra})"
        )


def _value_tolerance(scale: float) -> float:
    """Slack for comparing sums of float weights (relative 1e-9, at least 1e-9)."""
    return 1e-9 * max(1.0, abs(scale))


def resolved_mask(covered: np.ndarray, group_weights: np.ndarray, share: float) -> np.ndarray:
    """Bool per desa: its people covered reach ``share`` (β) of its people W_d, with a float
    slack (relative 1e-9, at least 1e-9 people): the one rule of a desa served.

    >>> resolved_mask(np.array([80.0, 79.0, 0.0]), np.array([100.0, 100.0, 0.0]), 0.8).tolist()
    [True, False, True]
    """
    need = share * group_weights
    return covered >= need - 1e-9 * np.maximum(1.0, need)


def _is_empty(value: Any) -> bool:
    if isinstance(value, str):
        return False
    try:
        return len(value) == 0
    except TypeError:
        return False


def _minima_problems(problem: SitingProblem) -> list[str]:
    """Kecamatan minima no plan can meet: too few open locations, or over budget / max_towers."""
    if not problem.kecamatan_minima:
        return []
    out: list[str] = []
    plan = minima_completion(problem)
    for label, need, open_locs in plan.short:
        out.append(
            f"kecamatan {label!r} needs at least {need} more tower(s) but has only {open_locs} "
            "open candidate location(s) (not forced out, not taken by a forced-in site); lower "
            "its minimum in min_towers_per_kecamatan or add candidates there."
        )
    if not plan.short:
        total_cost = problem.forced_cost_idr + plan.cost_idr
        if total_cost > problem.budget_idr:
            out.append(
                f"the kecamatan minima {dict(problem.kecamatan_minima)} need at least "
                f"{plan.cost_idr} IDR of towers beyond the forced-in sites ({total_cost} IDR in "
                f"all) but budget_idr is {problem.budget_idr} IDR; raise the budget or lower the "
                "minima."
            )
        n_total = len(problem.forced_in) + plan.count
        if problem.max_towers is not None and n_total > problem.max_towers:
            out.append(
                f"the kecamatan minima {dict(problem.kecamatan_minima)} need at least {n_total} "
                f"towers (forced-in included) but max_towers is {problem.max_towers}; raise "
                "max_towers or lower the minima."
            )
    return out


@dataclass(frozen=True)
class _MinimaPlan:
    cost_idr: int
    count: int
    short: tuple[tuple[Hashable, int, int], ...]


def minima_completion(problem: SitingProblem) -> _MinimaPlan:
    """Cheapest towers beyond the forced-in sites that meet every kecamatan minimum.

    A location's cost is its cheapest open candidate; each kecamatan takes its cheapest open
    locations. Exact, since kecamatans do not share candidates and a location lies in one
    kecamatan. ``short`` lists ``(kecamatan, towers needed, open locations)`` where too few.
    """
    codes = problem.kecamatan_codes
    assert codes is not None
    loc = _location_codes(problem)
    forced = set(problem.forced_in)
    out_set = set(problem.forced_out)
    used_locs = {int(loc[j]) for j in forced}
    label_code = {lab: k for k, lab in enumerate(problem.kecamatan_labels)}
    cost = 0
    count = 0
    short: list[tuple[Hashable, int, int]] = []
    for label, minimum in problem.kecamatan_minima:
        k = label_code.get(label, -2)
        have = sum(1 for j in forced if int(codes[j]) == k)
        need = minimum - have
        if need <= 0:
            continue
        best: dict[int, int] = {}
        for jj in np.flatnonzero(codes == k):
            j = int(jj)
            if j in out_set or j in forced or int(loc[j]) in used_locs:
                continue
            c = int(problem.costs_idr[j])
            lj = int(loc[j])
            if lj not in best or c < best[lj]:
                best[lj] = c
        if len(best) < need:
            short.append((label, need, len(best)))
            continue
        cost += sum(sorted(best.values())[:need])
        count += need
    return _MinimaPlan(cost_idr=cost, count=count, short=tuple(short))


def _location_codes(problem: SitingProblem) -> np.ndarray:
    """Location code per candidate; each candidate its own location when none were given."""
    if problem.location_codes is not None:
        return problem.location_codes
    return np.arange(problem.n_sites, dtype=np.int64)


def _target_problems(problem: SitingProblem) -> list[str]:
    """Cover targets beyond what every open candidate together covers."""
    if problem.sense != "min":
        return []
    open_sites = sorted(set(range(problem.n_sites)) - set(problem.forced_out))
    out: list[str] = []
    if problem.cover_share is not None:
        best = problem.value(open_sites)
        need = problem.cover_share * problem.total_weight
        if best < need - _value_tolerance(need):
            share = best / problem.total_weight if problem.total_weight > 0 else 0.0
            out.append(
                f"cover_share α={problem.cover_share:g} cannot be met: the best any candidate set "
                f"covers is {share:.2f} of the {problem.total_weight:g} people "
                f"({problem.uncoverable_weight:g} are out of every candidate's reach"
                + (", and forced-out sites are left out" if problem.forced_out else "")
                + "); lower cover_share or add candidates."
            )
    if problem.resolve_groups:
        assert problem.group_weights is not None
        cov = problem.group_covered(open_sites)
        ok = resolved_mask(cov, problem.group_weights, problem.resolved_share)
        bad = [d for d in problem.resolve_groups if not ok[d]]
        for d in bad[:_MAX_LISTED]:
            share = cov[d] / problem.group_weights[d]
            out.append(
                f"desa {problem.group_ids[d]} cannot reach β={problem.resolved_share:g}: the best "
                f"any candidate set covers is {share:.2f} of its {problem.group_weights[d]:g} "
                "people; lower resolved_share, drop it from resolve_groups or add candidates "
                "that reach it."
            )
        if len(bad) > _MAX_LISTED:
            out.append(
                f"and {len(bad) - _MAX_LISTED} more desa cannot reach "
                f"β={problem.resolved_share:g}: "
                f"{_listing([problem.group_ids[d] for d in bad[_MAX_LISTED:]])}."
            )
    return out


# ---------------------------------------------------------------------- new validation helpers


def _raise_problems(what: str, schema: list[str], numbers: Problems) -> None:
    """Raise the schema problems, then the others, as the most serious kind among them."""
    problems = Problems()
    for message in schema:
        problems.add(message, SchemaError)
    problems.extend(numbers)
    problems.kinds |= numbers.kinds
    problems.raise_if_any(what)


def _check_objective(value: Any, numbers: Problems) -> Objective | None:
    try:
        return Objective.parse(value)
    except InputError as exc:
        numbers.add(str(exc), InputError)
        return None


def _check_share(name: str, value: Any, numbers: Problems) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        numbers.add(f"{name} must be a share in (0, 1]; received {value!r}.", InputError)
        return None
    if not (math.isfinite(v) and 0 < v <= 1):
        numbers.add(
            f"{name} must be a share in (0, 1] (0.8 = 80 %); received {value!r}.",
            InputError,
        )
        return None
    return v


def _check_labels(
    name: str,
    labels: Any,
    n: int | None,
    schema: list[str],
    what: str,
    *,
    unique_missing: bool = False,
) -> tuple[np.ndarray | None, tuple[Hashable, ...] | None]:
    """Codes (int64, -1 for missing) and the distinct labels in order of first appearance.

    With ``unique_missing`` a missing label gets a code of its own (a location of its own).
    """
    if labels is None:
        return None, None
    if isinstance(labels, str):
        schema.append(f"{name} must be a sequence, one per {what}, not one string.")
        return None, None
    values = labels.to_numpy() if isinstance(labels, pd.Series | pd.Index) else labels
    try:
        arr = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    except Exception:  # pragma: no cover - exotic inputs
        schema.append(f"{name} must be a sequence of ids.")
        return None, None
    if arr.ndim != 1:
        schema.append(f"{name} must be 1-D, one per {what}; received shape {arr.shape}.")
        return None, None
    if n is not None and arr.shape[0] != n:
        schema.append(
            f"{name} has {arr.shape[0]} entries but there are {n} {what}s; give one each."
        )
        return None, None
    try:
        codes, uniques = pd.factorize(arr, use_na_sentinel=True)
    except TypeError:
        schema.append(f"{name} must hold hashable ids (strings or integers).")
        return None, None
    codes = np.asarray(codes, dtype=np.int64)
    labels_out = tuple(uniques.tolist() if hasattr(uniques, "tolist") else list(uniques))
    if unique_missing and (codes < 0).any():
        missing = np.flatnonzero(codes < 0)
        codes = codes.copy()
        codes[missing] = len(labels_out) + np.arange(missing.size)
        labels_out = labels_out + tuple(f"<none:{int(j)}>" for j in missing)
    return codes, labels_out


def _check_minima(
    minima: Mapping[Hashable, int] | None,
    have_kecamatan: bool,
    schema: list[str],
    numbers: Problems,
) -> tuple[tuple[Hashable, int], ...]:
    if minima is None:
        return ()
    if not isinstance(minima, Mapping | pd.Series):
        schema.append(
            "min_towers_per_kecamatan must be a mapping of kecamatan id → least number of "
            f"towers; received {type(minima).__name__}."
        )
        return ()
    items = list(minima.items())
    if items and not have_kecamatan:
        schema.append("min_towers_per_kecamatan needs kecamatan_ids (one per candidate).")
        return ()
    out: list[tuple[Hashable, int]] = []
    bad: list[str] = []
    for label, m in items:
        k = _as_whole_int(m)
        if k is None or k < 0:
            bad.append(f"{label!r}: {m!r}")
        elif k > 0:
            out.append((label, k))
    if bad:
        numbers.add(
            f"min_towers_per_kecamatan values must be whole numbers ≥ 0; received {_listing(bad)}.",
            InputError,
        )
    return tuple(out)


def _check_location_kecamatan(
    loc: np.ndarray, loc_labels: tuple[Hashable, ...], kec: np.ndarray, schema: list[str]
) -> None:
    """Every candidate at one location lies in one kecamatan."""
    frame = pd.DataFrame({"loc": loc, "kec": kec})
    n_kec = frame.groupby("loc")["kec"].nunique()
    bad = n_kec.index[n_kec > 1].tolist()
    if bad:
        schema.append(
            f"location(s) {_listing([loc_labels[b] for b in bad])} hold candidates in different "
            "kecamatan; a location lies in one kecamatan, so check location_ids and kecamatan_ids."
        )


def _check_group_values(
    values: Any, g_ids: tuple[Hashable, ...], schema: list[str], numbers: Problems
) -> np.ndarray:
    out = np.ones(len(g_ids), dtype=np.float64)
    if values is None:
        return out
    if not isinstance(values, Mapping | pd.Series):
        schema.append(
            "group_values must be a mapping (or Series) from desa id to value; received "
            f"{type(values).__name__}."
        )
        return out
    index = {g: d for d, g in enumerate(g_ids)}
    out[:] = 0.0
    unknown = [k for k in values.keys() if k not in index]
    if unknown:
        schema.append(f"group_values names {len(unknown)} unknown desa id(s): {_listing(unknown)}.")
    bad = []
    for k, v in values.items():
        try:
            f = float(v)
        except (TypeError, ValueError):
            f = math.nan
        if not (math.isfinite(f) and f >= 0):
            bad.append(k)
        elif k in index:
            out[index[k]] = f
    if bad:
        numbers.add(
            f"group_values must be finite and ≥ 0; received bad value(s) for {_listing(bad)}.",
            InputError,
        )
    return out


def _check_targets(targets: Any, g_ids: tuple[Hashable, ...], schema: list[str]) -> tuple[int, ...]:
    if targets is None:
        return ()
    if isinstance(targets, str):
        if targets == "all":
            return tuple(range(len(g_ids)))
        targets = [targets]
    index = {g: d for d, g in enumerate(g_ids)}
    wanted = list(dict.fromkeys(targets.tolist() if hasattr(targets, "tolist") else targets))
    unknown = [t for t in wanted if t not in index]
    if unknown:
        schema.append(
            f"resolve_groups names {len(unknown)} unknown desa id(s): {_listing(unknown)}; use ids "
            "from groups, or 'all'."
        )
    return tuple(sorted(index[t] for t in wanted if t in index))


# ---------------------------------------------------------------------- from_matrix inputs


@dataclass(frozen=True)
class _MatrixInputs:
    """The inputs of :meth:`SitingProblem.from_matrix` once every check has passed."""

    matrix: sp.csc_array
    weights: np.ndarray
    costs: np.ndarray
    budget: int
    max_towers: int | None
    site_ids: tuple[Hashable, ...]
    forced_in: tuple[int, ...]
    forced_out: tuple[int, ...]
    group_codes: np.ndarray | None
    group_ids: tuple[Hashable, ...] | None
    group_values: np.ndarray | None
    targets: tuple[int, ...] | None
    objective: Objective
    resolved_share: float
    cover_share: float | None
    location_codes: np.ndarray | None
    location_labels: tuple[Hashable, ...]
    kecamatan_codes: np.ndarray | None
    kecamatan_labels: tuple[Hashable, ...]
    kecamatan_minima: tuple[tuple[Hashable, int], ...]
    probability: sp.csc_array | None = None


_NO_TARGET_WITH_PROBABILITIES = (
    "cover targets (cover_share, resolve_groups) are not available with probabilities=True; "
    "maximise the expected people under a budget instead, or threshold the probabilities "
    "into a 0/1 matrix."
)


def _validate_matrix_inputs(
    coverage: Any,
    weights: Any,
    costs_idr: Any,
    budget_idr: int | None,
    *,
    site_ids: Iterable[Hashable] | None,
    max_towers: int | None,
    forced_in: Iterable[Hashable],
    forced_out: Iterable[Hashable],
    groups: Any,
    group_values: Any,
    resolved_share: float,
    objective: Any,
    cover_share: float | None,
    resolve_groups: Any,
    location_ids: Any,
    kecamatan_ids: Any,
    min_towers_per_kecamatan: Mapping[Hashable, int] | None,
    probabilities: bool = False,
    probability_floor: float = DEFAULT_PROBABILITY_FLOOR,
) -> _MatrixInputs:
    """Check every input of :meth:`SitingProblem.from_matrix` and raise all problems at once.

    Shape and id problems raise SchemaError (with any other problems listed after them); else a
    bad objective, share, count or desa value raises InputError, and bad weights, costs or budget
    alone raise UnitsError.
    """
    schema: list[str] = []
    numbers = Problems()

    probability = None
    if probabilities:
        probability, shape = _check_probability_matrix(coverage, probability_floor, schema)
        matrix = None if probability is None else _pattern(probability)
        if probability is not None and bool(np.all(probability.data == 1.0)):
            probability = None  # all 0/1: the plain problem, bit for bit
    else:
        matrix, shape = _check_matrix(coverage, schema)
    n_rows, n_cols = shape if shape is not None else (None, None)

    w = _check_weights(weights, n_rows, schema, numbers)
    c = _check_costs(costs_idr, n_cols, schema, numbers)

    has_target = cover_share is not None or (
        resolve_groups is not None and not _is_empty(resolve_groups)
    )
    budget = _check_budget(budget_idr, has_target, numbers)
    k_max = _check_max_towers(max_towers, numbers)

    ids = _check_site_ids(site_ids, n_cols, schema)
    index_of = {sid: j for j, sid in enumerate(ids)} if ids is not None else None
    f_in = _resolve_ids("forced_in", forced_in, index_of, schema)
    f_out = _resolve_ids("forced_out", forced_out, index_of, schema)

    g_codes, g_ids = _check_labels("groups", groups, n_rows, schema, "demand row")
    obj = _check_objective(objective, numbers)
    beta = _check_share("resolved_share", resolved_share, numbers)
    alpha = None if cover_share is None else _check_share("cover_share", cover_share, numbers)
    loc_codes, loc_labels = _check_labels(
        "location_ids", location_ids, n_cols, schema, "candidate", unique_missing=True
    )
    kec_codes, kec_labels = _check_labels(
        "kecamatan_ids", kecamatan_ids, n_cols, schema, "candidate"
    )
    minima = _check_minima(min_towers_per_kecamatan, kec_codes is not None, schema, numbers)
    if loc_codes is not None and loc_labels is not None and kec_codes is not None:
        _check_location_kecamatan(loc_codes, loc_labels, kec_codes, schema)
    g_values, targets = _check_desa_inputs(
        groups, g_ids, group_values, resolve_groups, schema, numbers
    )
    _check_goal(obj, groups, has_target, schema)
    if probabilities and has_target:
        schema.append(_NO_TARGET_WITH_PROBABILITIES)

    _raise_problems("SitingProblem.from_matrix", schema, numbers)
    assert matrix is not None and w is not None and c is not None and ids is not None
    assert obj is not None and beta is not None
    if budget is None:  # a cover target without a budget: the cost of every candidate
        budget = int(c.sum(dtype=object))
    return _MatrixInputs(
        matrix=matrix,
        weights=w,
        costs=c,
        budget=budget,
        max_towers=k_max,
        site_ids=ids,
        forced_in=tuple(f_in),
        forced_out=tuple(f_out),
        group_codes=g_codes,
        group_ids=g_ids,
        group_values=g_values,
        targets=targets,
        objective=obj,
        resolved_share=beta,
        cover_share=alpha,
        location_codes=loc_codes,
        location_labels=loc_labels or (),
        kecamatan_codes=kec_codes,
        kecamatan_labels=kec_labels or (),
        kecamatan_minima=minima,
        probability=probability,
    )


def _check_budget(budget_idr: object, has_target: bool, numbers: Problems) -> int | None:
    """The budget in whole Rupiah; None for a cover target without one (or a bad budget)."""
    if budget_idr is None and has_target:
        return None  # from_matrix sets it to the total cost once the costs are known
    budget = _as_whole_int(budget_idr)
    if budget is None:
        numbers.add(
            f"budget_idr must be a whole number of Rupiah; received {budget_idr!r}. "
            "Pass an int such as 8_500_000_000 (None only with cover_share or "
            "resolve_groups).", UnitsError
        )
    elif budget < 0:
        numbers.add(
            f"budget_idr must be ≥ 0; received {budget}. Pass the total Rupiah "
            "available, e.g. 8_500_000_000.", UnitsError
        )
    return budget


def _check_max_towers(max_towers: object, numbers: Problems) -> int | None:
    """``max_towers`` as an int, or None for no limit (or a bad value, listed in ``numbers``)."""
    if max_towers is None:
        return None
    k = _as_whole_int(max_towers)
    if k is None or k < 0:
        numbers.add(
            f"max_towers must be a whole number ≥ 0 or None; received {max_towers!r}.",
            InputError,
        )
        return None
    return k


def _check_desa_inputs(
    groups: Any,
    g_ids: tuple[Hashable, ...] | None,
    group_values: Any,
    resolve_groups: Any,
    schema: list[str],
    numbers: Problems,
) -> tuple[np.ndarray | None, tuple[int, ...] | None]:
    """Value of each desa and the target desa codes; (None, None) without ``groups``."""
    if g_ids is not None or groups is not None:
        g_values = _check_group_values(group_values, g_ids or (), schema, numbers)
        targets = _check_targets(resolve_groups, g_ids or (), schema)
        return g_values, targets
    if group_values is not None:
        schema.append("group_values needs groups (the desa id of each demand row).")
    if resolve_groups is not None and not _is_empty(resolve_groups):
        schema.append("resolve_groups needs groups (the desa id of each demand row).")
    return None, None


def _check_goal(obj: Objective | None, groups: Any, has_target: bool, schema: list[str]) -> None:
    """The objective fits the problem: desa weights need groups, cover targets need none."""
    if obj is not None and obj.desa > 0 and groups is None:
        schema.append(
            "a desa objective needs groups (the desa id of each demand row); pass groups=..."
        )
    if has_target and obj is not None and obj != Objective():
        schema.append(
            "objective applies to budgeted problems; with cover_share or resolve_groups the "
            "plan minimises cost instead. Leave objective at 'people'."
        )


def _group_fields(v: _MatrixInputs, merged_groups: np.ndarray | None) -> dict[str, Any]:
    """The desa fields of a problem (none without groups): codes per merged row, people..."""
    if v.group_codes is None:
        return {}
    assert v.group_ids is not None and v.group_values is not None and v.targets is not None
    assert merged_groups is not None  # _merge_rows keeps a code per row when given groups
    in_group = v.group_codes >= 0
    g_weights = np.bincount(
        v.group_codes[in_group], weights=v.weights[in_group], minlength=len(v.group_ids)
    )
    return dict(
        groups=_readonly(merged_groups),
        group_ids=v.group_ids,
        group_weights=_readonly(g_weights.astype(np.float64)),
        group_values=_readonly(v.group_values),
        resolve_groups=v.targets,
    )


# ---------------------------------------------------------------------- validation helpers


def _readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def _check_matrix(
    coverage: Any, schema: list[str]
) -> tuple[sp.csc_array | None, tuple[int, int] | None]:
    """The matrix as canonical CSC bool (None when unusable) and its shape (None when unknown)."""
    if sp.issparse(coverage):
        # csc/csr/coo keep repeated entries, so their values are checked as given
        m = coverage if coverage.format in ("csc", "csr", "coo") else sp.coo_array(coverage)
    else:
        try:
            dense = np.asarray(coverage)
        except Exception as exc:  # pragma: no cover - exotic inputs
            schema.append(
                f"coverage must be a scipy.sparse 0/1 matrix; received {type(coverage).__name__} "
                f"({exc})."
            )
            return None, None
        if dense.ndim != 2:
            schema.append(
                f"coverage must be 2-D (demand × candidate); received shape {dense.shape}. "
                "Pass a scipy.sparse matrix."
            )
            return None, None
        if dense.dtype.kind not in "biuf":
            schema.append(f"coverage must be numeric 0/1; received dtype {dense.dtype}.")
            return None, None
        m = sp.coo_array(dense)
    if m.ndim != 2:
        schema.append(f"coverage must be 2-D; received shape {m.shape}.")
        return None, None
    shape = (int(m.shape[0]), int(m.shape[1]))
    data = m.data
    if data.dtype.kind not in "biuf":
        schema.append(f"coverage must be numeric 0/1; received dtype {data.dtype}.")
        return None, shape
    if data.dtype.kind != "b":
        bad = ~((data == 0) | (data == 1))
        if bad.any():
            vals = np.unique(data[bad])
            schema.append(
                f"coverage must hold only 0 and 1 (covered or not); received "
                f"{int(bad.sum())} other value(s) such as {_listing(vals.tolist())}. Threshold "
                "the signal first, e.g. (rsrp_dbm >= -105)."
            )
            return None, shape
    out = sp.csc_array(m.astype(bool))  # a copy; bool addition is OR, so repeats stay 1
    out.sum_duplicates()
    out.eliminate_zeros()
    out.sort_indices()
    return out, shape


def _check_probability_matrix(
    coverage: Any, floor: Any, schema: list[str]
) -> tuple[sp.csc_array | None, tuple[int, int] | None]:
    """The matrix of probabilities as canonical CSC float64, entries below ``floor`` dropped."""
    if not (
        isinstance(floor, int | float)
        and not isinstance(floor, bool)
        and math.isfinite(floor)
        and 0 <= floor < 1
    ):
        schema.append(f"probability_floor must be in [0, 1); received {floor!r}.")
        return None, None
    if sp.issparse(coverage):
        m = sp.coo_array(coverage)
    else:
        try:
            dense = np.asarray(coverage)
        except Exception as exc:  # pragma: no cover - exotic inputs
            schema.append(f"coverage must be a matrix of probabilities ({exc}).")
            return None, None
        if dense.ndim != 2 or dense.dtype.kind not in "biuf":
            schema.append(
                f"coverage must be a 2-D numeric matrix of probabilities; received shape "
                f"{dense.shape}, dtype {dense.dtype}."
            )
            return None, None
        m = sp.coo_array(dense)
    if m.ndim != 2 or m.data.dtype.kind not in "biuf":
        schema.append(f"coverage must be a 2-D numeric matrix; received dtype {m.data.dtype}.")
        return None, None
    shape = (int(m.shape[0]), int(m.shape[1]))
    out = sp.csc_array(m.astype(np.float64))
    out.sum_duplicates()
    data = out.data
    bad = ~((data >= 0) & (data <= 1))  # NaN is bad too
    if bad.any():
        vals = np.unique(data[bad])
        schema.append(
            f"coverage probabilities must lie in [0, 1]; received {int(bad.sum())} other "
            f"value(s) such as {_listing(vals.tolist())} (repeated entries are added up)."
        )
        return None, shape
    out.data[data < max(float(floor), np.finfo(np.float64).tiny)] = 0.0
    out.eliminate_zeros()
    out.sort_indices()
    return out, shape


def _pattern(probability: sp.csc_array) -> sp.csc_array:
    """The 0/1 (bool) pattern of a probability matrix, with the same structure."""
    return sp.csc_array(
        (np.ones(probability.nnz, dtype=bool), probability.indices.copy(), probability.indptr.copy()),
        shape=probability.shape,
    )


def _drop_empty_rows(
    probability: sp.csc_array, weights: np.ndarray, groups: np.ndarray | None
) -> tuple[sp.csc_array, sp.csc_array, np.ndarray, np.ndarray, np.ndarray | None]:
    """Drop the rows no candidate reaches (probabilities are not merged): the pattern, the
    probabilities, the weights, the row map and the desa of each kept row."""
    n_rows, n_cols = probability.shape
    count = np.bincount(probability.indices, minlength=n_rows)
    kept = np.flatnonzero(count > 0)
    row_map = np.full(n_rows, -1, dtype=np.int64)
    row_map[kept] = np.arange(kept.size, dtype=np.int64)
    index_dtype = np.int32 if kept.size < 2**31 else np.int64
    prob = sp.csc_array(
        (probability.data.copy(), row_map.astype(index_dtype)[probability.indices],
         probability.indptr.copy()),
        shape=(int(kept.size), n_cols),
    )
    prob.sort_indices()
    merged_groups = None if groups is None else groups[kept].astype(np.int64)
    return _pattern(prob), prob, weights[kept].astype(np.float64), row_map, merged_groups


def _check_weights(
    weights: Any, n_rows: int | None, schema: list[str], numbers: Problems
) -> np.ndarray | None:
    w = np.asarray(weights.to_numpy() if isinstance(weights, pd.Series) else weights)
    if w.dtype.kind not in "biuf" or w.dtype.kind == "b":
        schema.append(
            f"weights must be numbers (persons per demand unit); received dtype {w.dtype}."
        )
        return None
    w = w.astype(np.float64)
    if w.ndim != 1:
        schema.append(f"weights must be 1-D, one per demand row; received shape {w.shape}.")
        return None
    if n_rows is not None and w.shape[0] != n_rows:
        schema.append(
            f"weights has {w.shape[0]} entries but coverage has {n_rows} demand rows; give one "
            "weight per row."
        )
    nan = np.flatnonzero(~np.isfinite(w))
    if nan.size:
        numbers.add(
            f"weights must be finite; received {nan.size} NaN/inf at row(s) "
            f"{_listing(nan.tolist())}. Fill missing population with 0 or drop those rows.",
            UnitsError,
        )
    neg = np.flatnonzero(w < 0)
    if neg.size:
        numbers.add(
            f"weights must be ≥ 0; received {neg.size} negative value(s) at row(s) "
            f"{_listing(neg.tolist())} (e.g. {w[neg[0]]:g}).", UnitsError
        )
    return w


def _check_costs(
    costs: Any, n_cols: int | None, schema: list[str], numbers: Problems
) -> np.ndarray | None:
    c = np.asarray(costs.to_numpy() if isinstance(costs, pd.Series) else costs)
    if c.dtype == object:
        try:
            c = (
                c.astype(np.float64)
                if any(isinstance(x, float) for x in c.ravel())
                else c.astype(np.int64)
            )
        except (TypeError, ValueError, OverflowError):
            schema.append("costs_idr must be numbers (whole Rupiah); received non-numeric values.")
            return None
    if c.dtype.kind not in "iuf":
        schema.append(f"costs_idr must be whole Rupiah as int64; received dtype {c.dtype}.")
        return None
    if c.ndim != 1:
        schema.append(f"costs_idr must be 1-D, one per candidate; received shape {c.shape}.")
        return None
    if n_cols is not None and c.shape[0] != n_cols:
        schema.append(
            f"costs_idr has {c.shape[0]} entries but coverage has {n_cols} candidate columns; "
            "give one cost per candidate."
        )
    if c.dtype.kind == "f":
        nan = np.flatnonzero(~np.isfinite(c))
        if nan.size:
            numbers.add(
                f"costs_idr must be finite; received NaN/inf at candidate(s) {_listing(nan.tolist())}.",
                UnitsError,
            )
        finite = np.where(np.isfinite(c), c, 0.0)
        frac = np.flatnonzero((finite != np.floor(finite)) | (np.abs(finite) >= 2.0**53))
        if frac.size:
            numbers.add(
                f"costs_idr must be whole Rupiah; received {frac.size} fractional or too-large "
                f"value(s) at candidate(s) {_listing(frac.tolist())} (e.g. {float(c[frac[0]])!r}). "
                "Round them first: np.round(costs).astype('int64').", UnitsError
            )
        c = finite.astype(np.int64)
    elif c.dtype.kind == "u":
        big = np.flatnonzero(c > np.iinfo(np.int64).max)
        if big.size:
            numbers.add(
                f"costs_idr too large for int64 at candidate(s) {_listing(big.tolist())}.",
                UnitsError,
            )
        c = np.minimum(c, np.iinfo(np.int64).max).astype(np.int64)
    else:
        c = c.astype(np.int64)
    neg = np.flatnonzero(c < 0)
    if neg.size:
        numbers.add(
            f"costs_idr must be ≥ 0; received {neg.size} negative value(s) at candidate(s) "
            f"{_listing(neg.tolist())} (e.g. {int(c[neg[0]])}).", UnitsError
        )
    return c


def _check_site_ids(
    site_ids: Iterable[Hashable] | None, n_cols: int | None, schema: list[str]
) -> tuple[Hashable, ...] | None:
    if site_ids is None:
        return tuple(range(n_cols)) if n_cols is not None else None
    if isinstance(site_ids, pd.Index | pd.Series | np.ndarray):
        ids = tuple(site_ids.tolist())
    elif isinstance(site_ids, str):
        schema.append("site_ids must be a sequence of ids, not one string.")
        return None
    else:
        ids = tuple(site_ids)
    if n_cols is not None and len(ids) != n_cols:
        schema.append(
            f"site_ids has {len(ids)} entries but coverage has {n_cols} candidate columns; give "
            "one id per candidate."
        )
    try:
        counts = pd.Series(ids, dtype=object).value_counts()
    except TypeError:
        schema.append("site_ids must be hashable (strings or integers).")
        return None
    dups = counts[counts > 1].index.tolist()
    if dups:
        schema.append(
            f"site_ids must be unique; received {len(dups)} duplicated id(s): {_listing(dups)}."
        )
    return ids


def _resolve_ids(
    what: str,
    ids: Iterable[Hashable],
    index_of: dict[Hashable, int] | None,
    schema: list[str],
) -> list[int]:
    if isinstance(ids, str):
        ids = [ids]
    wanted = list(dict.fromkeys(ids.tolist() if hasattr(ids, "tolist") else ids))  # keep order
    if index_of is None:
        return []
    unknown = [s for s in wanted if s not in index_of]
    if unknown:
        schema.append(
            f"{what} names {len(unknown)} unknown site id(s): {_listing(unknown)}. Use ids from "
            "site_ids (column indices 0 .. n-1 when site_ids is not given)."
        )
    return [index_of[s] for s in wanted if s in index_of]


# ---------------------------------------------------------------------- merging rows


def _merge_rows(
    matrix: sp.csc_array, weights: np.ndarray, groups: np.ndarray | None = None
) -> tuple[sp.csc_array, np.ndarray, np.ndarray, np.ndarray | None]:
    """Merge rows with identical covering sets (and the same desa) and drop empty rows.

    Returns the merged CSC matrix, the summed weights, for every original row the merged row it
    went to (-1 when dropped), and the desa code of each merged row (None without ``groups``).
    Merged rows keep the order of their first original row.

    Rows are grouped by a 64-bit multiset hash of their column sets (one sparse product,
    wrapping modulo 2**64) plus a salt for their desa, then the grouping is proven exact:
    summing the rows of each group column by column, every entry of the merged matrix must
    equal the group's size, which holds exactly when all rows of the group cover the same
    columns, and every row of a group must carry the group's desa. A hash collision, were one
    ever to happen, falls back to exact grouping, so different rows are never merged.
    """
    n_rows, n_cols = matrix.shape
    count = np.bincount(matrix.indices, minlength=n_rows)
    kept = np.flatnonzero(count > 0)
    row_map = np.full(n_rows, -1, dtype=np.int64)
    if kept.size == 0:
        empty_groups = None if groups is None else np.zeros(0, dtype=np.int64)
        return sp.csc_array((0, n_cols), dtype=bool), np.zeros(0), row_map, empty_groups

    h = _row_hash(matrix)
    if groups is not None:
        h = h + _group_salt(groups)  # wraps modulo 2**64, like the row hash itself
    h = h[kept]
    order = np.argsort(h, kind="stable")  # equal hashes together, first occurrence first
    h_s = h[order]
    new_group = np.ones(order.size, dtype=bool)
    new_group[1:] = h_s[1:] != h_s[:-1]
    group = np.empty(order.size, dtype=np.int64)
    group[order] = np.cumsum(new_group) - 1
    first = order[new_group]  # position in `kept` of each group's first row

    merged, row_map = _merge_by(matrix, kept, group, first)
    merged_groups = None
    if merged is not None and groups is not None:
        merged_groups = _merged_groups(groups, kept, row_map, merged.shape[0])
    if merged is None or (groups is not None and merged_groups is None):
        # a hash collision: group exactly instead (never seen in practice)
        group, first = _exact_groups(matrix.tocsr(), kept, groups)
        merged, row_map = _merge_by(matrix, kept, group, first)
        assert merged is not None
        if groups is not None:
            merged_groups = _merged_groups(groups, kept, row_map, merged.shape[0])
            assert merged_groups is not None
    n_merged = merged.shape[0]
    merged_w = np.bincount(row_map[kept], weights=weights[kept], minlength=n_merged)
    return merged, merged_w.astype(np.float64), row_map, merged_groups


def _group_salt(groups: np.ndarray) -> np.ndarray:
    """A random 64-bit salt per desa code (code -1, no desa, has one too)."""
    n = int(groups.max(initial=-1)) + 2
    salt = np.random.default_rng(_HASH_SEED + 1).integers(0, 2**63, size=n, dtype=np.int64)
    per_row: npt.NDArray[np.uint64] = salt.astype(np.uint64)[groups + 1]
    return per_row


def _merged_groups(
    groups: np.ndarray, kept: np.ndarray, row_map: np.ndarray, n_merged: int
) -> np.ndarray | None:
    """The desa of each merged row; None when a merged row mixes desa (a hash collision)."""
    out = np.empty(n_merged, dtype=np.int64)
    out[row_map[kept]] = groups[kept]
    if not np.array_equal(out[row_map[kept]], groups[kept]):
        return None
    return out


def _row_hash(matrix: sp.csc_array) -> np.ndarray:
    """A 64-bit multiset hash of each row's column set: the sum of random column salts."""
    salt = np.random.default_rng(_HASH_SEED).integers(
        0, 2**63, size=matrix.shape[1], dtype=np.int64
    )
    return np.asarray(matrix @ salt.astype(np.uint64), dtype=np.uint64)


def _merge_by(
    matrix: sp.csc_array, kept: np.ndarray, group: np.ndarray, first: np.ndarray
) -> tuple[sp.csc_array | None, np.ndarray]:
    """Merge the rows ``kept`` by ``group``; None when some group holds different rows."""
    n_rows, n_cols = matrix.shape
    n_groups = int(first.size)
    rank = np.empty(n_groups, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(n_groups)  # order of first occurrence
    row_map = np.full(n_rows, -1, dtype=np.int64)
    row_map[kept] = rank[group]
    if n_groups == n_rows:  # nothing dropped or merged: the row numbers stand
        return matrix, row_map
    index_dtype = np.int32 if n_groups < 2**31 else np.int64
    indices = row_map.astype(index_dtype)[matrix.indices]
    if n_groups == kept.size:  # rows dropped, none merged: renumbering keeps the order
        merged = sp.csc_array(
            (matrix.data.copy(), indices, matrix.indptr.copy()), shape=(n_groups, n_cols)
        )
        return merged, row_map
    size = np.bincount(row_map[kept], minlength=n_groups)
    tally = sp.csc_array(
        (np.ones(indices.size, dtype=np.int32), indices, matrix.indptr.copy()),
        shape=(n_groups, n_cols),
    )
    tally.sum_duplicates()  # sorts each column and adds up the rows of a group
    if not np.array_equal(tally.data, size[tally.indices]):
        return None, row_map
    merged = sp.csc_array(
        (np.ones(tally.data.size, dtype=bool), tally.indices, tally.indptr),
        shape=(n_groups, n_cols),
    )
    return merged, row_map


def _exact_groups(
    csr: sp.csr_array, kept: np.ndarray, groups: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Group rows by their exact column sets and desa (slow; only after a hash collision)."""
    keys: dict[tuple[int, bytes], int] = {}
    group = np.empty(kept.size, dtype=np.int64)
    first: list[int] = []
    for pos, r in enumerate(kept):
        desa = -1 if groups is None else int(groups[r])
        key = (desa, csr.indices[csr.indptr[r] : csr.indptr[r + 1]].tobytes())
        g = keys.setdefault(key, len(keys))
        if g == len(first):
            first.append(pos)
        group[pos] = g
    return group, np.asarray(first, dtype=np.int64)
