"""Siting: choose and rank tower sites against a Rupiah budget.

:class:`SitingProblem` holds the arrays (coverage matrix, weights, costs, budget and
constraints); :func:`solve` returns a ranked :class:`SitingResult`.
"""

from blankspot.siting.problem import SitingProblem
from blankspot.siting.solvers import (
    BRUTE_FORCE_MAX_SITES,
    SitingResult,
    available_solvers,
    register_solver,
    solve,
)

__all__ = [
    "BRUTE_FORCE_MAX_SITES",
    "SitingProblem",
    "SitingResult",
    "available_solvers",
    "register_solver",
    "solve",
]
