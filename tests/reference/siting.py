"""Slow, obvious siting references: every plan enumerated, and a greedy without lazy evaluation.

Both work on a dense 0/1 matrix (demand × candidate) and know nothing of row merging, heaps or
subset-sum transforms, so they check ``blankspot.siting`` independently.
"""

from __future__ import annotations

import itertools
import math

import numpy as np


def all_plans(n: int) -> np.ndarray:
    """Bool (2**n × n): row s holds plan s (bit j set = candidate j chosen)."""
    s = np.arange(1 << n)[:, None]
    return ((s >> np.arange(n)) & 1).astype(bool)


def brute_force_optimum(
    coverage,
    weights,
    costs_idr,
    budget_idr: int,
    *,
    max_towers: int | None = None,
    forced_in=(),
    forced_out=(),
) -> tuple[float, frozenset[int]]:
    """Best covered weight over every plan within budget and constraints, and one best plan.

    Returns ``(-inf, frozenset())`` when no plan meets the constraints.
    """
    a = np.asarray(coverage, dtype=bool)
    w = np.asarray(weights, dtype=float)
    c = np.asarray(costs_idr, dtype=np.int64)
    n = a.shape[1]
    plans = all_plans(n)
    value = (plans.astype(np.int64) @ a.T.astype(np.int64) > 0) @ w
    cost = plans.astype(np.int64) @ c
    ok = cost <= budget_idr
    if max_towers is not None:
        ok &= plans.sum(axis=1) <= max_towers
    for j in forced_in:
        ok &= plans[:, j]
    for j in forced_out:
        ok &= ~plans[:, j]
    if not ok.any():
        return -math.inf, frozenset()
    best = int(np.flatnonzero(ok)[np.argmax(value[ok])])
    return float(value[best]), frozenset(np.flatnonzero(plans[best]).tolist())


def brute_force_by_combinations(coverage, weights, costs_idr, budget_idr: int) -> float:
    """The same optimum through itertools, one plan at a time (for the tiniest problems)."""
    a = np.asarray(coverage, dtype=bool)
    w = np.asarray(weights, dtype=float)
    n = a.shape[1]
    best = 0.0
    for k in range(n + 1):
        for plan in itertools.combinations(range(n), k):
            if sum(int(costs_idr[j]) for j in plan) > budget_idr:
                continue
            covered = a[:, list(plan)].any(axis=1) if plan else np.zeros(a.shape[0], bool)
            best = max(best, float(w[covered].sum()))
    return best


def plain_greedy(
    coverage, weights, costs_idr, budget_idr: int, *, max_towers=None, forced_in=(), forced_out=()
) -> list[int]:
    """Cost-effectiveness greedy recomputing every gain at every step (no lazy evaluation).

    Same rule as the library's ratio greedy: forced-in first, then repeatedly the affordable
    candidate with the highest gain per Rupiah (free ones first), ties to more gain, then to the
    lower index; stop when nothing affordable adds weight. The best-single comparison is not
    made here.
    """
    a = np.asarray(coverage, dtype=bool)
    w = np.asarray(weights, dtype=float)
    c = [int(x) for x in costs_idr]
    covered = np.zeros(a.shape[0], dtype=bool)
    picks = list(forced_in)
    for j in picks:
        covered |= a[:, j]
    left = budget_idr - sum(c[j] for j in picks)
    while max_towers is None or len(picks) < max_towers:
        best = None
        for j in range(a.shape[1]):
            if j in picks or j in forced_out or c[j] > left:
                continue
            gain = float(w[a[:, j] & ~covered].sum())
            if gain <= 0:
                continue
            key = (math.inf if c[j] == 0 else gain / c[j], gain, -j)
            if best is None or key > best[0]:
                best = (key, j)
        if best is None:
            break
        j = best[1]
        picks.append(j)
        covered |= a[:, j]
        left -= c[j]
    return picks


def brute_force_general(
    coverage,
    weights,
    costs_idr,
    budget_idr: int | None,
    *,
    max_towers: int | None = None,
    forced_in=(),
    forced_out=(),
    groups=None,
    resolved_share: float = 0.8,
    group_values=None,
    people: float = 1.0,
    desa: float = 0.0,
    cover_share: float | None = None,
    resolve_groups=(),
    location_ids=None,
    kecamatan_ids=None,
    minima=None,
) -> tuple[float, frozenset[int]]:
    """Every objective and constraint of ``SitingProblem``, one plan at a time on dense arrays.

    Budgeted (no cover target): the best ``people · covered + desa · Σ v_d [desa d resolved]``.
    With ``cover_share`` or ``resolve_groups``: the least cost meeting the target. A desa is
    resolved when its covered weight reaches ``resolved_share`` of all its rows' weight. Ties go
    to the cheapest plan, then the one covering most people, then the smallest. Returns
    ``(±inf, frozenset())`` when no plan meets the constraints.
    """
    a = np.asarray(coverage, dtype=bool)
    w = np.asarray(weights, dtype=float)
    c = np.asarray(costs_idr, dtype=np.int64)
    n = a.shape[1]
    cover = cover_share is not None or len(resolve_groups) > 0
    if budget_idr is None:
        budget_idr = int(c.sum())
    labels = [] if groups is None else list(dict.fromkeys(g for g in groups if g is not None))
    total = {d: sum(w[i] for i in range(len(w)) if groups[i] == d) for d in labels}
    values = (
        {d: 1.0 for d in labels}
        if group_values is None
        else {d: float(group_values.get(d, 0.0)) for d in labels}
    )
    locs = list(range(n)) if location_ids is None else list(location_ids)
    best = None
    for plan in all_plans(n):
        chosen = np.flatnonzero(plan)
        cost = int(c[chosen].sum())
        if cost > budget_idr:
            continue
        if max_towers is not None and len(chosen) > max_towers:
            continue
        if any(not plan[j] for j in forced_in) or any(plan[j] for j in forced_out):
            continue
        if len({locs[j] for j in chosen}) < len(chosen):
            continue
        if minima and any(
            sum(1 for j in chosen if kecamatan_ids[j] == k) < m for k, m in minima.items()
        ):
            continue
        covered = a[:, chosen].any(axis=1) if chosen.size else np.zeros(a.shape[0], bool)
        covered_w = float(w[covered].sum())
        resolved = {
            d: sum(w[i] for i in range(len(w)) if covered[i] and groups[i] == d)
            >= resolved_share * total[d] - 1e-9 * max(1.0, resolved_share * total[d])
            for d in labels
        }
        if cover:
            need = (cover_share or 0.0) * float(w.sum())
            if covered_w < need - 1e-9 * max(1.0, need):
                continue
            if not all(resolved[d] for d in resolve_groups):
                continue
            key = (-cost, covered_w, -len(chosen))
            value = float(cost)
        else:
            value = people * covered_w + desa * sum(values[d] for d in labels if resolved[d])
            key = (value, -cost, -len(chosen))
        if best is None or key > best[0]:
            best = (key, value, frozenset(chosen.tolist()))
    if best is None:
        return (math.inf if cover else -math.inf), frozenset()
    return best[1], best[2]
