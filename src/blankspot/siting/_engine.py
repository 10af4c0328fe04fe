"""The lazy-greedy engine behind every siting solver.

One monotone submodular score serves all objectives (planning parameters §4):

* budgeted problems maximise
  ``a · P(S) + b · Σ_d v_d · min(1, cov_d(S) / (β W_d))``, the desa-resolved count relaxed by
  capping each desa at β of its people (the cap keeps it submodular, and it equals the count
  whenever every desa is either resolved or untouched);
* cover targets reach ``min(P(S), α W) + Σ_{d ∈ T} min(cov_d(S), β W_d)``, which hits its ceiling
  exactly when the target is met.

:class:`Evaluator` gives marginal gains (one candidate, or all at once with a sparse product);
:class:`Tracker` says whether a pick keeps the plan feasible (budget, ``max_towers``, one
candidate per location, and enough budget and slots kept back for the kecamatan minima still
open); :func:`lazy_greedy` is Minoux's accelerated greedy on gain per Rupiah.

With probabilities (``problem.probability``) a state also keeps ``miss``, the probability
Π_{k ∈ S}(1 − p_ik) that the plan leaves row ``i`` unserved; the gain of ``j`` is
Σ_i w_i p_ij miss_i (then the desa caps as above). The expected people served is monotone
submodular, and so is its cap per desa, so the lazy evaluation stays valid. Everything here is
private and mutable only during one solver call; solvers return frozen results.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import scipy.sparse as sp

from blankspot.errors import InfeasibleError
from blankspot.siting.problem import SitingProblem, _location_codes, resolved_mask

Key = tuple[float, float, int]


def key(gain: float, cost: int, j: int) -> Key:
    """Heap key: best gain per Rupiah first (free sites first), then more gain, then index."""
    ratio = math.inf if cost == 0 else gain / cost
    return (-ratio, -gain, j)


# ---------------------------------------------------------------------- objective


class State:
    """Covered rows, people covered and covered weight per desa of one plan under construction."""

    __slots__ = ("cov_d", "covered", "miss", "people", "sites")

    def __init__(
        self,
        covered: np.ndarray,
        people: float,
        cov_d: np.ndarray | None,
        miss: np.ndarray | None = None,
    ) -> None:
        self.covered = covered
        self.people = people
        self.cov_d = cov_d
        self.miss = miss  # with probabilities: P(row unserved); covered is then miss == 0
        self.sites: list[int] = []

    def copy(self) -> State:
        out = State(
            self.covered.copy(),
            self.people,
            None if self.cov_d is None else self.cov_d.copy(),
            None if self.miss is None else self.miss.copy(),
        )
        out.sites = list(self.sites)
        return out


class Evaluator:
    """Marginal gains of the problem's submodular score (see the module docstring)."""

    def __init__(self, problem: SitingProblem) -> None:
        p = problem
        self.problem = p
        self.indptr = p.coverage.indptr
        self.indices = p.coverage.indices
        self.w = p.weights
        self.costs = p.costs_idr
        self.prob: np.ndarray | None = None if p.probability is None else p.probability.data
        self.sense = p.sense
        n_groups = p.n_groups
        self.cap = np.zeros(n_groups)
        self.u = np.zeros(n_groups)
        self.constant = 0.0
        self.p_cap: float | None = None
        if p.groups is not None:
            assert p.group_weights is not None and p.group_values is not None
            self.cap = p.resolved_share * p.group_weights
        if self.sense == "max":
            self.a = float(p.objective.people)
            if p.objective.desa > 0 and p.groups is not None:
                assert p.group_values is not None
                live = self.cap > 0
                self.u = np.where(
                    live, p.objective.desa * p.group_values / np.where(live, self.cap, 1), 0.0
                )
                # a desa without people is resolved by every plan
                self.constant = float(p.objective.desa * p.group_values[~live].sum())
        else:
            self.a = 0.0
            if p.cover_share is not None:
                self.p_cap = p.cover_share * p.total_weight
            for d in p.resolve_groups:
                if self.cap[d] > 0:
                    self.u[d] = 1.0
        active = self.u > 0
        self.row_group: np.ndarray | None = None
        if active.any():
            assert p.groups is not None
            g = p.groups
            self.row_group = np.where((g >= 0) & active[np.maximum(g, 0)], g, -1)
        self.n_groups = n_groups
        self.tol = 1e-9 * max(1.0, p.total_weight)

    # -- states

    def state(self, sites: Iterable[int] = ()) -> State:
        st = State(
            np.zeros(self.problem.n_demand, dtype=bool),
            0.0,
            np.zeros(self.n_groups) if self.row_group is not None else None,
            None if self.prob is None else np.ones(self.problem.n_demand),
        )
        for j in sites:
            self.add(int(j), st)
        return st

    def rows(self, j: int) -> np.ndarray:
        out: np.ndarray = self.indices[self.indptr[j] : self.indptr[j + 1]]
        return out

    def gain(self, j: int, st: State) -> float:
        """Score gained by adding candidate ``j`` to ``st``."""
        rows = self.rows(j)
        if self.prob is not None:
            new, wn = self._expected_new(j, rows, st)
        elif self.row_group is None and self.p_cap is None:
            g = float(self.w[rows] @ ~st.covered[rows])
            return g if self.a == 1.0 else self.a * g
        else:
            new = rows[~st.covered[rows]]
            wn = self.w[new]
        dp = float(wn.sum())
        value = self.a * dp
        if self.p_cap is not None:
            value += min(st.people + dp, self.p_cap) - min(st.people, self.p_cap)
        if self.row_group is not None and new.size:
            assert st.cov_d is not None
            grp = self.row_group[new]
            sel = grp >= 0
            if sel.any():
                uniq, inv = np.unique(grp[sel], return_inverse=True)
                add = np.bincount(inv, weights=wn[sel])
                cur = st.cov_d[uniq]
                cap = self.cap[uniq]
                value += float(self.u[uniq] @ (np.minimum(cur + add, cap) - np.minimum(cur, cap)))
        return value

    def _expected_new(self, j: int, rows: np.ndarray, st: State) -> tuple[np.ndarray, np.ndarray]:
        """With probabilities: the rows of ``j`` and the expected people each newly gets."""
        assert self.prob is not None and st.miss is not None
        p = self.prob[self.indptr[j] : self.indptr[j + 1]]
        wn: np.ndarray = self.w[rows] * p * st.miss[rows]
        return rows, wn

    def add(self, j: int, st: State) -> None:
        rows = self.rows(j)
        if self.prob is not None:
            assert st.miss is not None
            _, wn = self._expected_new(j, rows, st)
            st.miss[rows] *= 1.0 - self.prob[self.indptr[j] : self.indptr[j + 1]]
            st.covered[rows] = st.miss[rows] == 0.0
            st.people += float(wn.sum())
            if st.cov_d is not None:
                assert self.row_group is not None
                grp = self.row_group[rows]
                sel = grp >= 0
                np.add.at(st.cov_d, grp[sel], wn[sel])
            st.sites.append(j)
            return
        new = rows[~st.covered[rows]]
        if new.size:
            st.covered[new] = True
            wn = self.w[new]
            st.people += float(wn.sum())
            if st.cov_d is not None:
                assert self.row_group is not None
                grp = self.row_group[new]
                sel = grp >= 0
                np.add.at(st.cov_d, grp[sel], wn[sel])
        st.sites.append(j)

    def gains_all(self, st: State) -> np.ndarray:
        """Every candidate's gain given ``st``: sparse products, never a loop over candidates."""
        coverage = self.problem.coverage
        if self.problem.probability is not None:
            assert st.miss is not None
            coverage = self.problem.probability  # rows weighted by p_ij: Σ_i w_i p_ij miss_i
            uncovered_w = self.w * st.miss
        else:
            uncovered_w = np.where(st.covered, 0.0, self.w)
        people = np.asarray(coverage.T @ uncovered_w, dtype=np.float64).ravel()
        value = self.a * people if self.a != 1.0 else people.copy()
        if self.p_cap is not None:
            value += np.minimum(st.people + people, self.p_cap) - min(st.people, self.p_cap)
        if self.row_group is not None:
            assert st.cov_d is not None
            rows = np.flatnonzero((self.row_group >= 0) & (uncovered_w > 0))
            if rows.size:
                g_mat = sp.csr_array(
                    (uncovered_w[rows], (rows, self.row_group[rows])),
                    shape=(coverage.shape[0], self.n_groups),
                )
                per = sp.coo_array(coverage.T @ g_mat)
                cur = st.cov_d[per.col]
                cap = self.cap[per.col]
                inc = self.u[per.col] * (np.minimum(cur + per.data, cap) - np.minimum(cur, cap))
                value += np.bincount(per.row, weights=inc, minlength=coverage.shape[1])
        return value

    def score(self, st: State) -> float:
        """The submodular score of ``st`` (the relaxed objective, or progress to the target)."""
        value = self.a * st.people + self.constant
        if self.p_cap is not None:
            value += min(st.people, self.p_cap)
        if st.cov_d is not None:
            value += float(self.u @ np.minimum(st.cov_d, self.cap))
        return value

    def max_score(self) -> float:
        """The score of covering every coverable row: a cap on any plan's score."""
        everything = self.problem.coverable_weight
        value = self.a * everything + self.constant
        if self.p_cap is not None:
            value += min(everything, self.p_cap)
        if self.row_group is not None:
            value += float(self.u @ self.cap)
        return value

    def ceiling(self) -> float:
        """Cover mode: the score at which the target is met."""
        value = 0.0
        if self.p_cap is not None:
            value += self.p_cap
        if self.row_group is not None:
            value += float(self.u @ self.cap)
        return value

    def target_met(self, st: State) -> bool:
        """Cover mode: the target is met by ``st`` (α of the people, every target desa)."""
        p = self.problem
        if self.p_cap is not None and st.people < self.p_cap - 1e-9 * max(1.0, self.p_cap):
            return False
        if self.row_group is not None:
            assert st.cov_d is not None and p.group_weights is not None
            ok = resolved_mask(st.cov_d, p.group_weights, p.resolved_share)
            return bool(ok[self.u > 0].all())
        return True


# ---------------------------------------------------------------------- feasibility


class Tracker:
    """Whether a pick keeps a plan feasible, and what it leaves.

    Tracks the budget left, the picks left under ``max_towers``, the locations taken, and the
    kecamatan minima still open. For the minima it keeps a *reserve*: the cheapest way to meet
    them from the open locations (exact, see :func:`blankspot.siting.problem.minima_completion`).
    A pick is allowed only when the reserve still fits the budget and the slots after it.

    Every refusal is permanent: the slack ``budget left − reserve`` only falls as picks are
    made, and so does what a pick saves from the reserve. So a lazy greedy may drop a refused
    candidate for good and still pick exactly what a plain greedy picks.
    """

    def __init__(self, problem: SitingProblem, budget_idr: int, chosen: Sequence[int]) -> None:
        self.problem = problem
        self.costs = problem.costs_idr
        self.budget_left = int(budget_idr) - sum(int(self.costs[j]) for j in chosen)
        k = problem.max_towers
        self.picks_left = None if k is None else k - len(chosen)
        self.loc = _location_codes(problem) if problem.location_codes is not None else None
        self.loc_used: set[int] = set()
        if self.loc is not None:
            self.loc_used = {int(self.loc[j]) for j in chosen}
        self.kec = problem.kecamatan_codes
        self.need: dict[int, int] = {}
        self.avail: dict[int, list[tuple[int, int]]] = {}  # kecamatan -> sorted (cost, location)
        self.reserve_k: dict[int, int] = {}
        self.reserve = 0
        self.need_total = 0
        if problem.kecamatan_minima:
            self._init_minima(chosen)

    def _init_minima(self, chosen: Sequence[int]) -> None:
        p = self.problem
        assert self.kec is not None
        loc = _location_codes(p)
        chosen_set = set(chosen)
        used = {int(loc[j]) for j in chosen}
        out = set(p.forced_out)
        code = {lab: k for k, lab in enumerate(p.kecamatan_labels)}
        for label, minimum in p.kecamatan_minima:
            kk = code.get(label)
            if kk is None:  # no candidate there: the problem check already refused it
                continue
            have = sum(1 for j in chosen if int(self.kec[j]) == kk)
            need = minimum - have
            if need <= 0:
                continue
            best: dict[int, int] = {}
            for jj in np.flatnonzero(self.kec == kk):
                j = int(jj)
                lj = int(loc[j])
                if j in out or j in chosen_set or lj in used:
                    continue
                c = int(self.costs[j])
                if lj not in best or c < best[lj]:
                    best[lj] = c
            self.need[kk] = need
            self.avail[kk] = sorted((c, lj) for lj, c in best.items())
            self.reserve_k[kk] = sum(c for c, _ in self.avail[kk][:need])
        self.reserve = sum(self.reserve_k.values())
        self.need_total = sum(self.need.values())
        if self.loc is None:
            self.loc = loc

    def slack(self) -> int:
        return self.budget_left - self.reserve

    def any_left(self) -> bool:
        return self.picks_left is None or self.picks_left > 0

    def _saving(self, j: int, kk: int) -> int | None:
        """What picking ``j`` saves from kecamatan ``kk``'s reserve; None if its location is gone."""
        assert self.loc is not None
        lj = int(self.loc[j])
        lst = self.avail[kk]
        need = self.need[kk]
        try:
            pos = [loc for _, loc in lst].index(lj)
        except ValueError:
            return None
        if pos < need:
            return lst[pos][0]
        return lst[need - 1][0]

    def check(self, j: int) -> bool:
        """Whether candidate ``j`` can be added now."""
        c = int(self.costs[j])
        if c > self.budget_left:
            return False
        if self.picks_left is not None and self.picks_left < 1:
            return False
        if self.loc is not None and int(self.loc[j]) in self.loc_used:
            return False
        if not self.need_total:
            return True
        assert self.kec is not None
        kk = int(self.kec[j])
        if self.need.get(kk, 0) > 0:
            saving = self._saving(j, kk)
            if saving is None:  # pragma: no cover - its location would be in loc_used
                return False
            return c - saving <= self.slack()
        if self.picks_left is not None and self.picks_left - 1 < self.need_total:
            return False
        return c <= self.slack()

    def take(self, j: int) -> None:
        c = int(self.costs[j])
        self.budget_left -= c
        if self.picks_left is not None:
            self.picks_left -= 1
        if self.loc is not None:
            lj = int(self.loc[j])
            self.loc_used.add(lj)
        if self.need_total:
            assert self.kec is not None and self.loc is not None
            kk = int(self.kec[j])
            if self.need.get(kk, 0) > 0:
                lj = int(self.loc[j])
                self.avail[kk] = [(cc, ll) for cc, ll in self.avail[kk] if ll != lj]
                self.need[kk] -= 1
                self.need_total -= 1
                self.reserve -= self.reserve_k[kk]
                self.reserve_k[kk] = sum(cc for cc, _ in self.avail[kk][: self.need[kk]])
                self.reserve += self.reserve_k[kk]

    def deficit_candidates(self, excluded: set[int]) -> list[int]:
        """Open candidates in a kecamatan whose minimum is still unmet."""
        if not self.need_total:
            return []
        assert self.kec is not None
        out = set(self.problem.forced_out) | excluded
        kks = [kk for kk, n in self.need.items() if n > 0]
        cand = np.flatnonzero(np.isin(self.kec, kks))
        return [int(j) for j in cand if int(j) not in out]


# ---------------------------------------------------------------------- greedy


def lazy_greedy(
    ev: Evaluator,
    st: State,
    tr: Tracker,
    candidates: Iterable[int],
    bounds: np.ndarray,
    *,
    stop: Callable[[State], bool] | None = None,
) -> tuple[list[int], list[float]]:
    """Lazy (Minoux) cost-effectiveness greedy; updates ``st`` and ``tr`` in place.

    ``bounds`` are valid upper bounds on each candidate's current gain (submodularity keeps
    stale gains as upper bounds). A popped candidate is re-evaluated, and taken only when its
    fresh key still beats every stale key on the heap; otherwise it goes back. A candidate the
    tracker refuses, or that adds nothing, leaves for good (see :class:`Tracker`). ``stop`` ends
    the run early (a cover target met). Returns the picks and their gains.
    """
    costs = ev.costs
    heap = [key(float(bounds[j]), int(costs[j]), int(j)) for j in candidates]
    heapq.heapify(heap)
    fresh_at: dict[int, int] = {}  # candidate -> number of picks when its key was last computed
    picks: list[int] = []
    gains: list[float] = []
    while heap and tr.any_left():
        if stop is not None and stop(st):
            break
        _, neg_gain, j = heapq.heappop(heap)
        if not tr.check(j):
            continue
        cost = int(costs[j])
        if fresh_at.get(j) == len(picks):
            gain = -neg_gain  # evaluated since the last pick: the key is exact
        else:
            gain = ev.gain(j, st)
            if gain <= 0.0:
                continue
            k = key(gain, cost, j)
            if heap and k > heap[0]:
                fresh_at[j] = len(picks)
                heapq.heappush(heap, k)
                continue
        picks.append(j)
        gains.append(gain)
        ev.add(j, st)
        tr.take(j)
    return picks, gains


def fill_minima(ev: Evaluator, st: State, tr: Tracker) -> list[int]:
    """Meet the kecamatan minima still open: best gain per Rupiah among allowed picks."""
    picks: list[int] = []
    while tr.need_total > 0:
        best: tuple[Key, int] | None = None
        for j in tr.deficit_candidates(set(st.sites)):
            if not tr.check(j):
                continue
            k = key(ev.gain(j, st), int(ev.costs[j]), j)
            if best is None or k < best[0]:
                best = (k, j)
        if best is None:  # pragma: no cover - the reserve always leaves the cheapest one
            raise InfeasibleError(
                "the kecamatan minima could not be met; this is a bug in the siting engine, "
                "please report it."
            )
        j = best[1]
        ev.add(j, st)
        tr.take(j)
        picks.append(j)
    return picks


def open_candidates(
    problem: SitingProblem, tr: Tracker, bounds: np.ndarray, chosen: Iterable[int]
) -> np.ndarray:
    """Candidates worth putting on the heap: open, not chosen, affordable and adding something."""
    ok = (bounds > 0) & (problem.costs_idr <= tr.budget_left)
    ok[list(problem.forced_out)] = False
    ok[list(chosen)] = False
    return np.flatnonzero(ok)


def start(
    problem: SitingProblem, budget_idr: int, prefix: Sequence[int] = ()
) -> tuple[Evaluator, State, Tracker] | None:
    """Evaluator, state and tracker after the forced-in sites and ``prefix``.

    None when ``prefix`` cannot be added in order (a pick the tracker refuses).
    """
    ev = Evaluator(problem)
    forced = list(problem.forced_in)
    st = ev.state(forced)
    tr = Tracker(problem, budget_idr, forced)
    for j in prefix:
        if j in st.sites or not tr.check(j):
            return None
        ev.add(j, st)
        tr.take(j)
    return ev, st, tr


def upper_bound(
    problem: SitingProblem,
    ev: Evaluator,
    st: State,
    budget_idr: int,
    delta: np.ndarray | None = None,
) -> float:
    """A proven upper bound on the best score, from submodularity, at a plan ``st`` ⊇ forced-in.

    For the optimal plan O: f(O) ≤ f(S) + Σ_{j ∈ O∖S} Δ_j(S), with Δ_j(S) the gain of j given S.
    O∖S holds open, not forced candidates only, costs at most B − c(forced) and has at most
    K − |forced| sites, so the sum is at most the fractional knapsack over the Δ_j (and at
    most the K − |forced| largest Δ_j). Dropping the location and kecamatan constraints only
    loosens it. The score bounds the objective (the desa count never exceeds its relaxation).
    """
    if delta is None:
        delta = ev.gains_all(st)
    budget_free = budget_idr - problem.forced_cost_idr
    free = (problem.costs_idr <= budget_free) & (delta > 0)
    free[list(problem.forced_in)] = False
    free[list(problem.forced_out)] = False
    free[st.sites] = False
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
    return min(ev.score(st) + extra, ev.max_score())


def cover_lower_bound(problem: SitingProblem, ev: Evaluator, st: State, delta: np.ndarray) -> float:
    """A proven lower bound on the cheapest plan meeting the target, from submodularity.

    The optimal plan O ⊇ forced-in must add D = ceiling − f(forced) of score, and its sites add
    at most their gains Δ_j(forced) (submodularity), so its extra cost is at least that of the
    fractional knapsack that gathers D at the best gain per Rupiah.
    """
    deficit = ev.ceiling() - ev.score(st)
    forced_cost = float(problem.forced_cost_idr)
    free = delta > 0
    free[list(problem.forced_in)] = False
    free[list(problem.forced_out)] = False
    d = delta[free]
    c = problem.costs_idr[free].astype(np.float64)
    zero = c == 0
    deficit -= float(d[zero].sum())
    if deficit <= ev.tol:
        return forced_cost
    d, c = d[~zero], c[~zero]
    order = np.argsort(-(d / c), kind="stable")
    d, c = d[order], c[order]
    cum = np.cumsum(d)
    k = int(np.searchsorted(cum, deficit, side="left"))
    if k >= d.size:
        return math.inf
    before = float(cum[k - 1]) if k else 0.0
    bound: float = forced_cost + float(c[:k].sum()) + c[k] * (deficit - before) / d[k]
    return bound
