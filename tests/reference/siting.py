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
