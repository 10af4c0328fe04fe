"""Every number of a plan: :class:`PlanConfig`, with units in the names.

A config is a frozen value; derive variants with :meth:`PlanConfig.replace`. The radio part of it
is handed to the coverage engine as a :class:`~blankspot.settings.CoverageSettings`
(:meth:`PlanConfig.coverage_settings`), so engine, footprint store and workers never see the
rest.

>>> PlanConfig().replace(budget_idr=12_000_000_000).budget_idr
12000000000
>>> PlanConfig(model="los").model_label()
'LOS + free space, siting on exact paths to the demand points, 90 m terrain'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from blankspot.clutter import ClutterModel, settlement_clutter
from blankspot.costs import CostParameters
from blankspot.coverage import MAX_LOSS_MARGIN_DB
from blankspot.demand import DEMAND_MODELS
from blankspot.errors import ConfigError, UnitsError, raise_if_problems
from blankspot.propagation.budget import DEFAULT_SIGMA_L_DB, LinkBudget
from blankspot.settings import CoverageSettings
from blankspot.siting.problem import DEFAULT_PROBABILITY_FLOOR, Objective
from blankspot.units import DEFAULT_K_FACTOR

__all__ = [
    "COVERAGE_MODES",
    "EVALUATE_AT_CHOICES",
    "OBJECTIVES",
    "PASER_BUDGET_IDR",
    "PASER_TOWER_COST_IDR",
    "TARGET_KEYWORDS",
    "PlanConfig",
]

OBJECTIVES = ("desa", "people")
"""What a plan maximises: ``desa`` (target desa served, then people) or ``people``."""

COVERAGE_MODES = ("threshold", "probability")
"""How a demand point is served: a hard cut at the threshold (location margin included), or the
probability that RSRP reaches the threshold under location variability σ_L."""

EVALUATE_AT_CHOICES = ("auto", "points", "raster")
"""Where a plan takes its losses (:attr:`PlanConfig.evaluate_at`)."""

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
    demand_model: str = "auto"
    """Where people are placed within each desa (:func:`blankspot.demand.demand_layer`):
    ``"auto"`` (the best source at hand: population raster, land cover, settlement points, one
    settlement per desa), ``"raster"``, ``"landcover"``, ``"settlements"`` or ``"uniform"``."""
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
    objective: str = "desa"
    """``"desa"`` (default): maximise the number of target desa served, then the people served
    (lexicographic: one desa outweighs every person of the target desa); ``"people"``: the
    people served alone."""
    served_share: float = 0.8
    """β in (0, 1]: a desa is served when at least this share of its settled people is served
    (planning parameters §4; with ``coverage="probability"``, the expected share)."""
    coverage: str = "threshold"
    """``"threshold"``: a point is served at RSRP − location margin ≥ the threshold (0/1);
    ``"probability"``: it is served with probability Q((T − RSRP) / σ_L) from the median RSRP,
    and the location margin is not applied (the probability replaces it)."""
    sigma_l_db: float = DEFAULT_SIGMA_L_DB
    """σ_L, the location variability in dB of ``coverage="probability"`` (ITU-R P.1546-6 §12:
    5.5 dB for digital systems of 1 MHz or more)."""
    probability_floor: float = DEFAULT_PROBABILITY_FLOOR
    """With ``coverage="probability"``, probabilities below this are dropped from the matrix."""
    evaluate_at: str = "auto"
    """Where the siting matrix and the tables take their losses: ``"points"`` (exact paths to
    the demand points, ``"itm"`` and ``"los"``), ``"raster"`` (each demand point's cell of the
    full footprints), or ``"auto"`` (default): points where the model has them (``"itm"``,
    ``"los"`` at the threshold), else the raster (``"p1812"``, ``coverage="probability"``).
    The chosen towers' footprints are computed on the raster either way, for the maps
    (:meth:`resolved_evaluate_at`;
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
        if self.demand_model not in DEMAND_MODELS:
            problems.append(f"demand_model must be one of {', '.join(map(repr, DEMAND_MODELS))}; "
                            f"received {self.demand_model!r}.")
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
        if self.objective not in OBJECTIVES:
            problems.append(
                f"objective must be 'desa' (target desa served, then people) or 'people'; "
                f"received {self.objective!r}."
            )
        if self.coverage not in COVERAGE_MODES:
            problems.append(
                f"coverage must be 'threshold' or 'probability'; received {self.coverage!r}."
            )
        elif self.coverage == "probability" and self.evaluate_at == "points":
            problems.append(
                "coverage='probability' reads its probabilities from the footprints; with "
                "evaluate_at='points' the matrix is built at the threshold only. Use "
                "evaluate_at='raster' with coverage='probability'."
            )
        if not (_is_real(self.served_share) and 0 < self.served_share <= 1):
            problems.append(
                f"served_share (β) must be a share in (0, 1], e.g. 0.8; received "
                f"{self.served_share!r}."
            )
        if not (_is_real(self.sigma_l_db) and np.isfinite(self.sigma_l_db) and self.sigma_l_db > 0):
            problems.append(
                f"sigma_l_db must be a finite number of dB > 0 (5.5 for LTE, ITU-R P.1546-6 "
                f"§12); received {self.sigma_l_db!r}."
            )
        if not (_is_real(self.probability_floor) and 0 <= self.probability_floor < 1):
            problems.append(
                f"probability_floor must be in [0, 1), e.g. 0.01; received "
                f"{self.probability_floor!r}."
            )
        if self.calibration is not None and self.model != "itm":
            problems.append(
                f"calibration corrects the 'itm' prediction (ITM plus P.2108 terminal loss), "
                f"not model {self.model!r}; use model 'itm' or drop the calibration."
            )
        if self.evaluate_at not in EVALUATE_AT_CHOICES:
            problems.append(
                f"evaluate_at must be 'auto', 'points' or 'raster'; received "
                f"{self.evaluate_at!r}."
            )
        elif self.evaluate_at == "points" and self.model == "p1812":
            problems.append(
                "evaluate_at 'points' computes exact ITM or LOS paths; P.1812 is not available "
                "there yet. Use evaluate_at 'raster' with model 'p1812'."
            )
        raise_if_problems("PlanConfig", problems, UnitsError)

    def clutter_model(self, landcover: Any = None, *, terrain: Any = None,
                      settlement_xy: Any = None) -> Any:
        """The clutter the coverage models get (None, a ClutterModel or a grid).

        ``"auto"`` is the land cover under each handset when a land-cover grid (WorldCover
        classes on the terrain grid) is given; without one, and with settlement points
        (``settlement_xy``, their x and y on ``terrain``), tree cover with built-up at each
        settlement's cell (:func:`blankspot.clutter.settlement_clutter`); else Paser's tropical
        forest everywhere (:meth:`blankspot.clutter.ClutterModel.uniform` ``("tree")``). That is
        for ``"itm"`` and ``"p1812"``; ``"los"`` gets none. ``"landcover"`` needs the grid; a
        class name or code is that class everywhere.
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
            if terrain is not None and settlement_xy is not None and len(settlement_xy[0]):
                return settlement_clutter(terrain, *settlement_xy)
            return ClutterModel.uniform("tree")
        if isinstance(c, str | int) and not isinstance(c, bool):
            return ClutterModel.uniform(c)
        return c

    def resolved_evaluate_at(self) -> str:
        """Where this config takes its losses, ``"points"`` or ``"raster"``: ``"auto"`` is
        ``"points"`` for ``"itm"`` and ``"los"`` at the threshold, and ``"raster"`` for
        ``"p1812"`` (no exact point paths yet) and ``coverage="probability"`` (which reads
        its probabilities from the footprints).

        >>> PlanConfig().resolved_evaluate_at(), PlanConfig(model="p1812").resolved_evaluate_at()
        ('points', 'raster')
        """
        if self.evaluate_at != "auto":
            return self.evaluate_at
        if self.model in ("itm", "los") and self.coverage == "threshold":
            return "points"
        return "raster"

    def siting_objective(self, people: float) -> Objective:
        """The siting objective of this config for target desa holding ``people`` people.

        ``"desa"`` is lexicographic, desa served first and people second, as one weighted sum:
        a desa weighs ``ceil(people) + 1``, more than every person together, so no number of
        people ever outweighs one desa, and among plans serving as many desa the one serving
        more people wins. (The exact solver's relative gap, 1e-4, is then smaller than one
        desa for up to 9,999 target desa, so its desa count is exact and its people are
        within the gap.)

        >>> PlanConfig().siting_objective(416.0)
        Objective(people=1.0, desa=417.0)
        >>> PlanConfig(objective="people").siting_objective(416.0)
        Objective(people=1.0, desa=0.0)
        """
        if self.objective == "desa":
            return Objective(people=1.0, desa=float(math.ceil(people)) + 1.0)
        return Objective(people=1.0, desa=0.0)

    def probability_loss_db(self) -> float:
        """With ``coverage="probability"``: the largest path loss whose probability can reach
        ``probability_floor`` at the lowest threshold the plan tries (the stability run's
        threshold − d): the MAPL without location margin plus σ_L · Q⁻¹(floor) + d.

        >>> cfg = PlanConfig(coverage="probability")
        >>> round(cfg.probability_loss_db() - cfg.link.max_path_loss_db, 1)
        24.8
        """
        from scipy.stats import norm

        floor = max(float(self.probability_floor), 1e-6)
        return float(self.link.max_path_loss_db + self.link.location_margin_db
                     + self.sigma_l_db * float(norm.isf(floor))
                     + (self.stability_threshold_db or 0.0))

    def coverage_settings(self, landcover: Any = None, *, terrain: Any = None,
                          settlement_xy: Any = None) -> CoverageSettings:
        """The radio settings of this config, as the coverage engine and the store take them
        (``landcover``: WorldCover classes on the terrain grid; ``terrain`` and
        ``settlement_xy``: the settlement points; see :meth:`clutter_model`).

        With ``coverage="probability"`` the terrain models' loss cut-off is raised, where the
        usual one (MAPL + 20 dB) would be short, to :meth:`probability_loss_db` plus 3 dB, so
        every cell whose probability reaches the floor is computed."""
        max_loss_db = None
        if self.coverage == "probability":
            need = self.probability_loss_db() + 3.0
            if need > self.link.max_path_loss_db + MAX_LOSS_MARGIN_DB:
                max_loss_db = need
        return CoverageSettings(
            model=self.model,
            radius_m=float(self.radius_m),
            rx_height_agl_m=float(self.rx_height_agl_m),
            k_factor=float(self.k_factor),
            link=self.link,
            clutter=self.clutter_model(landcover, terrain=terrain, settlement_xy=settlement_xy),
            calibration=self.calibration,
            max_loss_db=max_loss_db,
            evaluate_at=self.resolved_evaluate_at(),
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


def _is_real(value: Any) -> bool:
    """A real number, not a bool."""
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
