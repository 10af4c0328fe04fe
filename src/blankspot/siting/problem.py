"""The budgeted maximal covering problem, as arrays.

:class:`SitingProblem` is the pure core of siting: a sparse 0/1 coverage matrix (demand units ×
candidate sites), a weight per demand unit (persons), a capex per candidate (whole Rupiah) and a
budget. It knows nothing about terrain, polygons or CRSs, so every solver is tested on plain
arrays. :meth:`SitingProblem.from_coverage` is the thin adapter from a
:class:`blankspot.aggregate.CoverageMatrix`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from blankspot.errors import InfeasibleError, SchemaError, UnitsError, raise_if_problems

__all__ = ["SitingProblem"]

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


@dataclass(frozen=True, eq=False)
class SitingProblem:
    r"""A budgeted maximal covering problem over candidate tower sites.

    Build it with :meth:`from_matrix` (arrays) or :meth:`from_coverage` (a coverage matrix);
    the constructor itself does no checking. The problem is immutable: ``with_constraints``
    returns a new problem, and solvers return new :class:`~blankspot.siting.SitingResult`
    objects.

    .. math::

        \max \sum_i w_i z_i \quad \text{s.t.} \quad
        z_i \le \sum_{j \in N(i)} x_j \;\; \forall i, \qquad
        \sum_j c_j x_j \le B, \qquad \sum_j x_j \le K, \qquad
        x_j = 1 \; (j \in F_{in}), \quad x_j = 0 \; (j \in F_{out}), \qquad
        x \in \{0, 1\}^n, \; 0 \le z \le 1

    with :math:`N(i)` the candidates covering demand unit :math:`i`, :math:`w_i` its weight,
    :math:`c_j` the capex of candidate :math:`j` in Rupiah and :math:`B` the budget.

    Demand rows with identical covering sets are merged (weights summed) and rows no candidate
    covers are dropped on construction; neither changes the objective. ``row_map`` links the
    original rows to the merged ones.

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
        total Rupiah available, ≥ 0.
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

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_matrix(
        cls,
        coverage: Any,
        weights: Any,
        costs_idr: Any,
        budget_idr: int,
        *,
        site_ids: Iterable[Hashable] | None = None,
        max_towers: int | None = None,
        forced_in: Iterable[Hashable] = (),
        forced_out: Iterable[Hashable] = (),
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
            total Rupiah available, a whole number ≥ 0.
        site_ids
            unique id per candidate; default ``0 .. n-1``.
        max_towers
            most sites in a plan (forced ones included); None for no limit.
        forced_in, forced_out
            site ids every plan must / must not hold. ``forced_in`` keeps its order.

        Returns
        -------
        SitingProblem

        Raises
        ------
        SchemaError
            shapes disagree, the matrix is not 0/1, ids are duplicated or unknown.
        UnitsError
            a weight, cost or budget is negative, NaN or not whole Rupiah.
        InfeasibleError
            the forced-in sites cost more than the budget or outnumber ``max_towers``, or a site
            is both forced in and forced out.

        Examples
        --------
        >>> import numpy as np
        >>> p = SitingProblem.from_matrix(
        ...     np.array([[1, 0], [1, 0], [0, 1], [0, 0]]), [10.0, 5.0, 7.0, 2.0],
        ...     [3, 4], 5, site_ids=["A", "B"])
        >>> p.n_demand_original, p.n_demand, p.total_weight, p.coverable_weight
        (4, 2, 24.0, 22.0)
        """
        schema: list[str] = []
        units: list[str] = []

        matrix, shape = _check_matrix(coverage, schema)
        n_rows, n_cols = shape if shape is not None else (None, None)

        w = _check_weights(weights, n_rows, schema, units)
        c = _check_costs(costs_idr, n_cols, schema, units)

        budget = _as_whole_int(budget_idr)
        if budget is None:
            units.append(
                f"budget_idr must be a whole number of Rupiah; received {budget_idr!r}. "
                "Pass an int such as 8_500_000_000."
            )
        elif budget < 0:
            units.append(
                f"budget_idr must be ≥ 0; received {budget}. Pass the total Rupiah available, "
                "e.g. 8_500_000_000."
            )

        if max_towers is not None:
            k = _as_whole_int(max_towers)
            if k is None or k < 0:
                units.append(
                    f"max_towers must be a whole number ≥ 0 or None; received {max_towers!r}."
                )
            else:
                max_towers = k

        ids = _check_site_ids(site_ids, n_cols, schema)
        index_of = {sid: j for j, sid in enumerate(ids)} if ids is not None else None
        f_in = _resolve_ids("forced_in", forced_in, index_of, schema)
        f_out = _resolve_ids("forced_out", forced_out, index_of, schema)

        problems = schema + units
        raise_if_problems(
            "SitingProblem.from_matrix", problems, SchemaError if schema else UnitsError
        )
        assert matrix is not None and w is not None and c is not None and ids is not None
        assert budget is not None

        merged, merged_w, row_map = _merge_rows(matrix, w)
        if not merged.has_canonical_format:  # pragma: no cover - _merge_rows returns canonical
            merged.sum_duplicates()  # canonical (sorted, no repeats): scipy never rewrites it
        for a in (merged.data, merged.indices, merged.indptr):
            _readonly(a)
        problem = cls(
            coverage=merged,
            weights=_readonly(merged_w),
            costs_idr=_readonly(c),
            budget_idr=budget,
            site_ids=ids,
            max_towers=max_towers,
            forced_in=tuple(f_in),
            forced_out=tuple(f_out),
            row_map=_readonly(row_map),
            total_weight=float(w.sum()),
            coverable_weight=float(merged_w.sum()),
        )
        problem._check_feasible()
        return problem

    @classmethod
    def from_coverage(
        cls,
        coverage_matrix: Any,
        costs_idr: Any,
        budget_idr: int,
        *,
        max_towers: int | None = None,
        forced_in: Iterable[Hashable] = (),
        forced_out: Iterable[Hashable] = (),
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
        budget_idr, max_towers, forced_in, forced_out
            as in :meth:`from_matrix`.

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
        return cls.from_matrix(
            coverage_matrix.matrix,
            coverage_matrix.demand["population"].to_numpy(),
            costs_idr,
            budget_idr,
            site_ids=site_ids,
            max_towers=max_towers,
            forced_in=forced_in,
            forced_out=forced_out,
        )

    def with_constraints(
        self,
        *,
        budget_idr: int = _UNSET,
        max_towers: int | None = _UNSET,
        forced_in: Iterable[Hashable] = _UNSET,
        forced_out: Iterable[Hashable] = _UNSET,
    ) -> SitingProblem:
        """A new problem with other constraints on the same matrix, weights and costs.

        Cheap: the merged matrix is shared, not rebuilt. Arguments left out keep their values;
        ``forced_in``/``forced_out`` take site ids.

        Raises
        ------
        UnitsError, SchemaError, InfeasibleError
            as in :meth:`from_matrix`.
        """
        schema: list[str] = []
        units: list[str] = []
        changes: dict[str, Any] = {}
        if budget_idr is not _UNSET:
            b = _as_whole_int(budget_idr)
            if b is None or b < 0:
                units.append(
                    f"budget_idr must be a whole number of Rupiah ≥ 0; received {budget_idr!r}."
                )
            else:
                changes["budget_idr"] = b
        if max_towers is not _UNSET:
            k = None if max_towers is None else _as_whole_int(max_towers)
            if max_towers is not None and (k is None or k < 0):
                units.append(
                    f"max_towers must be a whole number ≥ 0 or None; received {max_towers!r}."
                )
            else:
                changes["max_towers"] = k
        index_of = {sid: j for j, sid in enumerate(self.site_ids)}
        if forced_in is not _UNSET:
            changes["forced_in"] = tuple(_resolve_ids("forced_in", forced_in, index_of, schema))
        if forced_out is not _UNSET:
            changes["forced_out"] = tuple(_resolve_ids("forced_out", forced_out, index_of, schema))
        raise_if_problems(
            "SitingProblem.with_constraints", schema + units, SchemaError if schema else UnitsError
        )
        problem = replace(self, **changes)
        problem._check_feasible()
        return problem

    def _check_feasible(self) -> None:
        """Raise InfeasibleError when the forced sites alone break a constraint."""
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
    def uncoverable_weight(self) -> float:
        """Weight of the demand rows no candidate covers."""
        return self.total_weight - self.coverable_weight

    @property
    def forced_cost_idr(self) -> int:
        """Total capex of the forced-in sites."""
        return int(sum(int(self.costs_idr[j]) for j in self.forced_in))

    def index_of(self, site_id: Hashable) -> int:
        """Column index of ``site_id``; raises SchemaError for an unknown id."""
        for j, sid in enumerate(self.site_ids):
            if sid == site_id:
                return j
        raise SchemaError(
            f"unknown site id {site_id!r}; the problem's ids are {_listing(self.site_ids)}."
        )

    def covered_rows(self, sites: Iterable[int]) -> np.ndarray:
        """Bool mask over the merged rows covered by the candidate indices ``sites``."""
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
        """Covered weight of the candidate indices ``sites`` (the objective)."""
        return float(self.weights[self.covered_rows(sites)].sum())

    def __repr__(self) -> str:
        return (
            f"SitingProblem(n_sites={self.n_sites}, n_demand={self.n_demand} "
            f"(from {self.n_demand_original}), budget_idr={self.budget_idr}, "
            f"max_towers={self.max_towers}, forced_in={len(self.forced_in)}, "
            f"forced_out={len(self.forced_out)}, coverable_weight={self.coverable_weight:g} "
            f"of {self.total_weight:g})"
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


def _check_weights(
    weights: Any, n_rows: int | None, schema: list[str], units: list[str]
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
        units.append(
            f"weights must be finite; received {nan.size} NaN/inf at row(s) "
            f"{_listing(nan.tolist())}. Fill missing population with 0 or drop those rows."
        )
    neg = np.flatnonzero(w < 0)
    if neg.size:
        units.append(
            f"weights must be ≥ 0; received {neg.size} negative value(s) at row(s) "
            f"{_listing(neg.tolist())} (e.g. {w[neg[0]]:g})."
        )
    return w


def _check_costs(
    costs: Any, n_cols: int | None, schema: list[str], units: list[str]
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
            units.append(
                f"costs_idr must be finite; received NaN/inf at candidate(s) {_listing(nan.tolist())}."
            )
        finite = np.where(np.isfinite(c), c, 0.0)
        frac = np.flatnonzero((finite != np.floor(finite)) | (np.abs(finite) >= 2.0**53))
        if frac.size:
            units.append(
                f"costs_idr must be whole Rupiah; received {frac.size} fractional or too-large "
                f"value(s) at candidate(s) {_listing(frac.tolist())} (e.g. {float(c[frac[0]])!r}). "
                "Round them first: np.round(costs).astype('int64')."
            )
        c = finite.astype(np.int64)
    elif c.dtype.kind == "u":
        big = np.flatnonzero(c > np.iinfo(np.int64).max)
        if big.size:
            units.append(f"costs_idr too large for int64 at candidate(s) {_listing(big.tolist())}.")
        c = np.minimum(c, np.iinfo(np.int64).max).astype(np.int64)
    else:
        c = c.astype(np.int64)
    neg = np.flatnonzero(c < 0)
    if neg.size:
        units.append(
            f"costs_idr must be ≥ 0; received {neg.size} negative value(s) at candidate(s) "
            f"{_listing(neg.tolist())} (e.g. {int(c[neg[0]])})."
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
    matrix: sp.csc_array, weights: np.ndarray
) -> tuple[sp.csc_array, np.ndarray, np.ndarray]:
    """Merge rows with identical covering sets and drop empty rows.

    Returns the merged CSC matrix, the summed weights and, for every original row, the merged
    row it went to (-1 when dropped). Merged rows keep the order of their first original row.

    Rows are grouped by a 64-bit multiset hash of their column sets (one sparse product,
    wrapping modulo 2**64), then the grouping is proven exact: summing the rows of each group
    column by column, every entry of the merged matrix must equal the group's size, which holds
    exactly when all rows of the group cover the same columns. A hash collision, were one ever
    to happen, falls back to exact grouping, so different rows are never merged.
    """
    n_rows, n_cols = matrix.shape
    count = np.bincount(matrix.indices, minlength=n_rows)
    kept = np.flatnonzero(count > 0)
    row_map = np.full(n_rows, -1, dtype=np.int64)
    if kept.size == 0:
        return sp.csc_array((0, n_cols), dtype=bool), np.zeros(0), row_map

    h = _row_hash(matrix)[kept]
    order = np.argsort(h, kind="stable")  # equal hashes together, first occurrence first
    h_s = h[order]
    new_group = np.ones(order.size, dtype=bool)
    new_group[1:] = h_s[1:] != h_s[:-1]
    group = np.empty(order.size, dtype=np.int64)
    group[order] = np.cumsum(new_group) - 1
    first = order[new_group]  # position in `kept` of each group's first row

    merged, row_map = _merge_by(matrix, kept, group, first)
    if merged is None:  # a hash collision: group exactly instead (never seen in practice)
        group, first = _exact_groups(matrix.tocsr(), kept)
        merged, row_map = _merge_by(matrix, kept, group, first)
        assert merged is not None
    n_groups = merged.shape[0]
    merged_w = np.bincount(row_map[kept], weights=weights[kept], minlength=n_groups)
    return merged, merged_w.astype(np.float64), row_map


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


def _exact_groups(csr: sp.csr_array, kept: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group rows by their exact column sets (slow; only after a hash collision)."""
    keys: dict[bytes, int] = {}
    group = np.empty(kept.size, dtype=np.int64)
    first: list[int] = []
    for pos, r in enumerate(kept):
        key = csr.indices[csr.indptr[r] : csr.indptr[r + 1]].tobytes()
        g = keys.setdefault(key, len(keys))
        if g == len(first):
            first.append(pos)
        group[pos] = g
    return group, np.asarray(first, dtype=np.int64)
