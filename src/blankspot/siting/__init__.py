"""Siting: choose and rank tower sites against a Rupiah budget.

:class:`SitingProblem` holds the arrays (coverage matrix, weights, costs, budget, desa,
locations, kecamatan and constraints); :func:`solve` returns a ranked :class:`SitingResult`
with a proven bound. :func:`refine_plan` finds the optimal plan on fine coverage from coarse
bounds, recomputing only the candidates that can enter it. :func:`cost_coverage_curve` sweeps budgets; :func:`ranking_stability` and
:func:`stability_from_problems` show how a ranking holds up under other costs or coverage.
"""

from blankspot.siting.curve import (
    cost_coverage_curve,
    ranking_stability,
    stability_from_problems,
)
from blankspot.siting.problem import (
    DEFAULT_PROBABILITY_FLOOR,
    DEFAULT_RESOLVED_SHARE,
    Objective,
    SitingProblem,
)
from blankspot.siting.refine import Refinement, RefineRound, refine_plan
from blankspot.siting.solvers import (
    BRUTE_FORCE_MAX_SITES,
    SitingResult,
    available_solvers,
    lp_relaxation_bound,
    register_solver,
    solve,
)

__all__ = [
    "BRUTE_FORCE_MAX_SITES",
    "DEFAULT_PROBABILITY_FLOOR",
    "DEFAULT_RESOLVED_SHARE",
    "Objective",
    "RefineRound",
    "Refinement",
    "SitingProblem",
    "SitingResult",
    "available_solvers",
    "cost_coverage_curve",
    "lp_relaxation_bound",
    "ranking_stability",
    "refine_plan",
    "register_solver",
    "solve",
    "stability_from_problems",
]
