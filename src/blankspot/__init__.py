"""blankspot: find mobile-signal blank spots and rank telecom towers against a Rupiah budget.

>>> import blankspot
>>> result = blankspot.plan_paser()                  # doctest: +SKIP
>>> result.ranking                                   # doctest: +SKIP

The public names are re-exported here; everything else lives in its module
(``blankspot.io``, ``blankspot.coverage``, ``blankspot.siting``, ...).
"""

from __future__ import annotations

from blankspot._version import __version__

_LAZY = {
    "Terrain": "blankspot.terrain",
    "LinkBudget": "blankspot.propagation.budget",
    "compute_coverage": "blankspot.coverage",
    "CoverageResult": "blankspot.coverage",
    "SitingProblem": "blankspot.siting",
    "SitingResult": "blankspot.siting",
    "solve": "blankspot.siting",
    "PlanConfig": "blankspot.config",
    "PlanResult": "blankspot.plan",
    # not "plan": the submodule blankspot.plan would shadow a function of that name once
    # imported; use ``from blankspot.plan import plan``
    "plan_paser": "blankspot.plan",
    "write_outputs": "blankspot.reporting",
    "ScenarioSpec": "blankspot.scenario",
    "ScenarioResult": "blankspot.scenario",
    "write_reports": "blankspot.reporting",
    "read_terrain": "blankspot.io",
    "read_villages": "blankspot.io",
    "read_sites": "blankspot.io",
    "fetch_paser": "blankspot.io",
    "fetch_area": "blankspot.io",
}

__all__ = ["__version__", "show_versions", *_LAZY]


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'blankspot' has no attribute {name!r}")


def show_versions() -> None:
    """Print the versions of blankspot and the libraries it builds on."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    print(f"blankspot  {__version__}")
    print(f"python     {platform.python_version()} ({platform.machine()})")
    for pkg in ("numpy", "numba", "scipy", "pandas", "geopandas", "shapely", "pyproj", "rasterio",
                "pyogrio", "folium", "click", "pooch"):
        try:
            print(f"{pkg:10s} {version(pkg)}")
        except PackageNotFoundError:
            print(f"{pkg:10s} not installed")
