"""Every number of a plan: :class:`PlanConfig`, with units in the names.

A config is a frozen value; derive variants with :meth:`PlanConfig.replace`. The radio part of it
is handed to the coverage engine as a :class:`~blankspot.settings.CoverageSettings`
(:meth:`PlanConfig.coverage_settings`), so engine, footprint store and workers never see the
rest.

>>> PlanConfig().replace(budget_idr=12_000_000_000).budget_idr
12000000000
>>> PlanConfig(model="los").model_label()
'LOS + free space, 90 m terrain'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from blankspot.clutter import ClutterModel
from blankspot.costs import CostParameters
from blankspot.errors import ConfigError, UnitsError, raise_if_problems
from blankspot.propagation.budget import LinkBudget
from blankspot.settings import CoverageSettings
from blankspot.units import DEFAULT_K_FACTOR

__all__ = ["PASER_BUDGET_IDR", "PASER_TOWER_COST_IDR", "TARGET_KEYWORDS", "PlanConfig"]

TARGET_KEYWORDS = ("blankspot", "blankspot_2021", "blankspot_2022", "all")
"""Words ``targets`` takes besides a list of kode wilayah (:func:`blankspot.demand.select_villages`)."""

PASER_BUDGET_IDR = 8_500_000_000
"""APBD 2022 of Kabupaten Paser for blank-spot towers (planning-parameters §1)."""
PASER_TOWER_COST_IDR = 1_700_000_000
"""SSH unit price of one 72 m four-leg tower in 2022 (planning-parameters §1)."""


@dataclass(frozen=True)
class PlanConfig:
    """Every number the chain uses, with units in the names. Derive variants with :meth:`replace`.

    Costs come from :class:`blankspot.costs.CostModel` with ``cost_params`` (default
    :meth:`CostParameters.default`, which prices a 72 m tower on a land grant with PLN at the desa
    at the 2022 SSH of Rp 1.7 B); ``tower_cost_idr`` replaces that with one flat price per tower.
    A cost given on a user's site is always kept.

    Propagation defaults to ITM (Longley-Rice) with Paser's tropical forest under every handset
    (``clutter="auto"``: WorldCover tree cover, R = 20 m, its P.2108 terminal loss; along the
    path for ``"p1812"``; none for ``"los"``), on terrain resampled to 90 m cells
    (``terrain_res_m``) so that screening every candidate stays within a minute or two.
    ``clutter`` also takes None, a class name or WorldCover code (``"oil_palm"``, 40), a
    :class:`blankspot.clutter.ClutterModel` or a grid (see :func:`blankspot.compute_coverage`).
    """

    budget_idr: int = PASER_BUDGET_IDR
    tower_cost_idr: int | None = None
    cost_params: CostParameters | None = None
    height_agl_m: float = 72.0
    rx_height_agl_m: float = 1.5
    radius_m: float = 30_000.0
    k_factor: float = DEFAULT_K_FACTOR
    link: LinkBudget = field(default_factory=LinkBudget)
    model: str = "itm"
    clutter: Any = "auto"
    targets: str | Sequence[str] = "blankspot"
    cell_size_m: float = 250.0
    terrain_res_m: float | None = 90.0
    n_high_points: int = 40
    grid_spacing_m: float = 5_000.0
    min_separation_m: float = 1_000.0
    search_buffer_m: float = 3_000.0
    generate_candidates: bool = True
    max_towers: int | None = None
    batch_size: int = 8
    solver: str = "greedy"
    certify: bool = True
    exact_time_limit_s: float = 60.0
    curve_budgets_idr: tuple[int, ...] | None = None
    stability_threshold_db: float | None = 5.0
    calibration: Any = None
    """None, or a :class:`blankspot.calibration.Calibration` applied to every footprint (``"itm"``
    only; the scenario key ``[radio] calibration`` reads one with ``read_calibration``)."""
    evaluate_at: str = "raster"
    """Where the siting matrix takes its losses: ``"raster"`` (each demand point's cell of the
    full footprints) or ``"points"`` (exact paths to the demand points, ``"itm"`` and ``"los"``;
    :attr:`blankspot.settings.CoverageSettings.evaluate_at`)."""

    def __post_init__(self) -> None:
        problems = []
        for name in ("budget_idr", "tower_cost_idr"):
            v = getattr(self, name)
            if v is None and name == "tower_cost_idr":
                continue
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                problems.append(f"{name} must be a whole number of Rupiah ≥ 0; received {v!r}.")
        for name in ("height_agl_m", "rx_height_agl_m"):
            v = getattr(self, name)
            if not np.isfinite(v) or v < 0:
                problems.append(f"{name} must be ≥ 0 metres above ground; received {v!r}.")
        for name in ("radius_m", "cell_size_m", "k_factor", "grid_spacing_m"):
            v = getattr(self, name)
            if not np.isfinite(v) or v <= 0:
                problems.append(f"{name} must be > 0; received {v!r}.")
        if self.terrain_res_m is not None and not self.terrain_res_m > 0:
            problems.append(f"terrain_res_m must be > 0 or None; received {self.terrain_res_m!r}.")
        if not self.exact_time_limit_s > 0:
            problems.append(f"exact_time_limit_s must be > 0; received {self.exact_time_limit_s!r}.")
        if self.stability_threshold_db is not None and not self.stability_threshold_db > 0:
            problems.append(
                f"stability_threshold_db must be > 0 or None; received {self.stability_threshold_db!r}."
            )
        if self.batch_size < 1:
            problems.append(f"batch_size must be ≥ 1; received {self.batch_size!r}.")
        if self.model not in ("los", "itm", "p1812"):
            problems.append(f"model must be 'los', 'itm' or 'p1812'; received {self.model!r}.")
        elif isinstance(self.clutter, str | int) and self.clutter not in ("auto", "landcover"):
            if self.model == "los":
                problems.append(
                    f"clutter={self.clutter!r} needs model 'itm' or 'p1812': line of sight has no "
                    "clutter term. Use clutter=None (or 'auto') with model='los'."
                )
            else:
                try:
                    self.clutter_model()
                except ValueError as exc:
                    problems.append(f"clutter: {exc}")
        if self.calibration is not None and self.model != "itm":
            problems.append(
                f"calibration corrects the 'itm' prediction (ITM plus P.2108 terminal loss), "
                f"not model {self.model!r}; use model 'itm' or drop the calibration."
            )
        if self.evaluate_at not in ("raster", "points"):
            problems.append(
                f"evaluate_at must be 'raster' or 'points'; received {self.evaluate_at!r}."
            )
        elif self.evaluate_at == "points" and self.model == "p1812":
            problems.append(
                "evaluate_at 'points' computes exact ITM or LOS paths; P.1812 is not available "
                "there yet. Use evaluate_at 'raster' with model 'p1812'."
            )
        raise_if_problems("PlanConfig", problems, UnitsError)

    def clutter_model(self, landcover: Any = None) -> Any:
        """The clutter the coverage models get (None, a ClutterModel or a grid).

        ``"auto"`` is the land cover under each handset when a land-cover grid (WorldCover
        classes on the terrain grid) is given, else Paser's tropical forest everywhere, for
        ``"itm"`` and ``"p1812"`` (:meth:`blankspot.clutter.ClutterModel.uniform`
        ``("tree")``), and none for ``"los"``; ``"landcover"`` needs the grid; a class name or
        code is that class everywhere.
        """
        c = self.clutter
        if isinstance(c, str) and c in ("auto", "landcover"):
            if self.model == "los":
                return None
            if landcover is not None:
                return ClutterModel.paser().with_landcover(landcover)
            if c == "landcover":
                raise ConfigError(
                    "clutter='landcover' needs a land-cover grid: name a land-cover raster "
                    "([data] landcover = ...), or fetch one with: blankspot data fetch landcover "
                    "--area AREA, and name the area ([data] area = ...)."
                )
            return ClutterModel.uniform("tree")
        if isinstance(c, str | int) and not isinstance(c, bool):
            return ClutterModel.uniform(c)
        return c

    def coverage_settings(self, landcover: Any = None) -> CoverageSettings:
        """The radio settings of this config, as the coverage engine and the store take them
        (``landcover``: WorldCover classes on the terrain grid, see :meth:`clutter_model`)."""
        return CoverageSettings(
            model=self.model,
            radius_m=float(self.radius_m),
            rx_height_agl_m=float(self.rx_height_agl_m),
            k_factor=float(self.k_factor),
            link=self.link,
            clutter=self.clutter_model(landcover),
            calibration=self.calibration,
            evaluate_at=self.evaluate_at,
        )

    def model_label(self) -> str:
        """The propagation model in words, with its clutter and terrain resolution."""
        return self.coverage_settings().label(self.terrain_res_m)

    def replace(self, **changes: Any) -> PlanConfig:
        """A new config with some values changed (unknown names are an error)."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ConfigError(
                f"PlanConfig has no field(s) {', '.join(unknown)}; known fields: {', '.join(sorted(known))}."
            )
        return replace(self, **changes)
