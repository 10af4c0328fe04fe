"""The radio settings every footprint depends on, as one small value.

:class:`CoverageSettings` is what the coverage engine, the footprint store and the dask workers
take, instead of the whole :class:`blankspot.config.PlanConfig`: the propagation model, radius,
receiver height, k-factor, link budget and clutter. It knows how to compute the coverage of a
set of sites (:meth:`CoverageSettings.compute`), which keyword options the per-site function
takes (:meth:`CoverageSettings.site_options`), what enters a footprint's cache key
(:meth:`CoverageSettings.key_parts`) and how to name the model for people
(:meth:`CoverageSettings.label`).

>>> s = CoverageSettings(model="los", radius_m=10_000.0)
>>> s.label()
'LOS + free space'
>>> s.site_options()["freq_mhz"]
900.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from blankspot.calibration import Calibration, CalibrationCorrection
from blankspot.clutter import ClutterModel
from blankspot.coverage import (
    MAX_LOSS_MARGIN_DB,
    TERRAIN_MODELS,
    CoverageResult,
    compute_coverage,
    point_path_loss,
)
from blankspot.errors import ConfigError, format_problems
from blankspot.propagation.budget import LinkBudget
from blankspot.propagation.radial import ITM_SWEEPS
from blankspot.terrain import Terrain
from blankspot.units import DEFAULT_K_FACTOR

__all__ = ["EVALUATE_AT", "MODEL_NAMES", "CoverageSettings"]

EVALUATE_AT = ("raster", "points")
"""Where the siting matrix takes its losses (:attr:`CoverageSettings.evaluate_at`)."""

MODEL_NAMES = {"los": "LOS + free space", "itm": "ITM (Longley-Rice)", "p1812": "ITU-R P.1812"}
"""How each model is named for people (maps, tables, summaries)."""


@dataclass(frozen=True)
class CoverageSettings:
    """Everything a footprint depends on besides the terrain and the site.

    Attributes
    ----------
    model
        ``"los"``, ``"itm"`` or ``"p1812"`` (:mod:`blankspot.coverage`).
    radius_m
        Largest distance computed from a site, metres.
    rx_height_agl_m
        Handset height above ground, metres.
    k_factor
        Effective earth radius factor (LOS, and antenna elevation angles).
    link
        The link budget: its frequency sets the loss, its MAPL where the terrain models stop.
    clutter
        None, a :class:`~blankspot.clutter.ClutterModel` (uniform or with a land-cover grid), or
        a grid on the terrain (see :func:`blankspot.coverage.compute_coverage`).
    max_loss_db
        Terrain models: cells costlier than this are not computed. None: the budget's MAPL
        plus :data:`blankspot.coverage.MAX_LOSS_MARGIN_DB`.
    calibration
        None, or a :class:`~blankspot.calibration.Calibration` (``"itm"`` only) applied to every
        footprint (:mod:`blankspot.coverage`, "Calibration"); its correction, with its content
        hash, enters the cache key.
    itm_sweep
        ``"itm"`` only: ``"exact"`` evaluates ITM at every cell; ``"adaptive"`` only at
        breakpoints and checked segments, interpolating the rest
        (:func:`blankspot.propagation.radial.radial_path_loss`). ``"adaptive"`` enters the
        cache key, so cached footprints of the two never mix.
    evaluate_at
        Where the siting matrix (demand × candidate) takes its losses: ``"raster"`` (default)
        reads each demand point's cell from the site's full footprint (radial sweep);
        ``"points"`` computes the exact path from each site to each demand point within its
        radius (:func:`blankspot.coverage.point_path_loss`), ``"itm"`` and ``"los"`` only.
        Maps and rasters of the chosen towers are footprints either way. Enters the cache key
        only when it is ``"points"``, so the raster keys are unchanged.
    """

    model: str = "itm"
    radius_m: float = 30_000.0
    rx_height_agl_m: float = 1.5
    k_factor: float = DEFAULT_K_FACTOR
    link: LinkBudget = field(default_factory=LinkBudget)
    clutter: Any = None
    max_loss_db: float | None = None
    calibration: Calibration | CalibrationCorrection | None = None
    itm_sweep: str = "exact"
    evaluate_at: str = "raster"

    def __post_init__(self) -> None:
        problems = []
        if self.model not in MODEL_NAMES:
            problems.append(f"model must be one of {', '.join(map(repr, MODEL_NAMES))}; "
                            f"received {self.model!r}.")
        for name in ("radius_m", "k_factor"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
                problems.append(f"{name} must be a finite number > 0; received {v!r}.")
        if not (isinstance(self.rx_height_agl_m, int | float) and self.rx_height_agl_m >= 0):
            problems.append(f"rx_height_agl_m must be >= 0 m; received {self.rx_height_agl_m!r}.")
        if not isinstance(self.link, LinkBudget):
            problems.append(f"link must be a LinkBudget; received {type(self.link).__name__}.")
        if self.itm_sweep not in ITM_SWEEPS:
            problems.append(f"itm_sweep must be one of {', '.join(map(repr, ITM_SWEEPS))}; "
                            f"received {self.itm_sweep!r}.")
        if self.model == "los" and self.clutter is not None:
            problems.append("clutter needs model 'itm' or 'p1812': line of sight has no clutter "
                            "term. Use clutter=None with model='los'.")
        if self.calibration is not None:
            corr = self.correction()
            if corr is None:
                problems.append("calibration must be None or a blankspot.calibration."
                                "Calibration (read_calibration); received "
                                f"{type(self.calibration).__name__}.")
            elif self.model != corr.model:
                problems.append(f"calibration corrects the {corr.model!r} prediction, not "
                                f"model {self.model!r}; use model 'itm' or drop the "
                                "calibration.")
        if self.evaluate_at not in EVALUATE_AT:
            problems.append(f"evaluate_at must be one of {', '.join(map(repr, EVALUATE_AT))}; "
                            f"received {self.evaluate_at!r}.")
        elif self.evaluate_at == "points" and self.model == "p1812":
            problems.append("evaluate_at 'points' computes exact ITM or LOS paths; P.1812 is not "
                            "available there yet. Use evaluate_at 'raster' with model 'p1812'.")
        if problems:
            raise ConfigError(format_problems("CoverageSettings", problems), problems=problems)

    def correction(self) -> CalibrationCorrection | None:
        """The calibration's correction (what the engine applies), or None."""
        cal = self.calibration
        if isinstance(cal, Calibration):
            return cal.correction()
        return cal if isinstance(cal, CalibrationCorrection) else None

    @property
    def freq_mhz(self) -> float:
        """Carrier frequency, MHz (the budget's)."""
        return float(self.link.freq_mhz)

    @property
    def terrain_model(self) -> bool:
        """True for the models that compute loss over the terrain profile (ITM, P.1812)."""
        return self.model in TERRAIN_MODELS

    def effective_max_loss_db(self, link: LinkBudget | None = None) -> float | None:
        """The loss cut-off of the terrain models (None for ``"los"``)."""
        if not self.terrain_model:
            return None
        if self.max_loss_db is not None:
            return float(self.max_loss_db)
        return float((link or self.link).max_path_loss_db + MAX_LOSS_MARGIN_DB)

    def replace(self, **changes: Any) -> CoverageSettings:
        """A copy with some settings changed."""
        return replace(self, **changes)

    def site_options(self) -> dict[str, Any]:
        """Keyword options of :func:`blankspot.coverage.site_footprint` beyond the site."""
        options: dict[str, Any] = {
            "freq_mhz": self.freq_mhz,
            "rx_height_agl_m": float(self.rx_height_agl_m),
            "k_factor": float(self.k_factor),
        }
        if self.clutter is not None:
            options["clutter"] = self.clutter
        if self.calibration is not None:
            # plain values with their content hash: they travel to workers and into the key
            options["calibration"] = self.correction()
        if self.model == "itm" and self.itm_sweep != "exact":
            # only when not the default, so the keys of exact footprints stay as they were
            options["itm_sweep"] = self.itm_sweep
        return options

    def key_parts(self) -> dict[str, Any]:
        """What of these settings enters a footprint's cache key: the model, the radius and
        every option the per-site function gets (with the terrain models' loss cut-off, and
        the calibration's correction with its content hash, only when there is one)."""
        options = self.site_options()
        cut = self.effective_max_loss_db()
        if cut is not None:
            options["max_loss_db"] = cut
        parts: dict[str, Any] = {
            "model": self.model, "radius_m": float(self.radius_m), "options": options,
        }  # fmt: skip
        if self.evaluate_at != "raster":
            parts["evaluate_at"] = self.evaluate_at
        return parts

    def compute(self, terrain: Terrain, sites: Any, *, progress: bool = False) -> CoverageResult:
        """Coverage of ``sites`` on ``terrain`` with these settings, in this process."""
        return compute_coverage(
            terrain,
            sites,
            budget=self.link,
            model=self.model,
            radius_m=float(self.radius_m),
            rx_height_agl_m=float(self.rx_height_agl_m),
            k_factor=float(self.k_factor),
            clutter=self.clutter,
            max_loss_db=self.max_loss_db,
            progress=progress,
            calibration=self.calibration,
            itm_sweep=self.itm_sweep if self.model == "itm" else "exact",
        )

    def point_losses(self, terrain: Terrain, sites: Any, points_xy: Any) -> Any:
        """Coupling loss (dB) from ``sites`` to ``points_xy`` on exact paths with these
        settings: a float64 ``scipy.sparse.csc_array``, points × sites
        (:func:`blankspot.coverage.point_path_loss`)."""
        return point_path_loss(terrain, sites, points_xy, **self.point_options())

    def point_options(self) -> dict[str, Any]:
        """Keyword options of :func:`blankspot.coverage.point_path_loss` and
        :func:`blankspot.distributed.point_path_loss_distributed` beyond the sites and points:
        the same model, link, clutter, calibration and loss cut-off in a process and on
        workers."""
        return {
            "budget": self.link,
            "model": self.model,
            "radius_m": float(self.radius_m),
            "rx_height_agl_m": float(self.rx_height_agl_m),
            "k_factor": float(self.k_factor),
            "clutter": self.clutter,
            "max_loss_db": self.effective_max_loss_db(),
            "calibration": self.calibration,
        }

    def label(self, terrain_res_m: float | None = None) -> str:
        """The model in words, e.g. ``"ITM (Longley-Rice) with tree clutter at the handset
        (P.2108), 90 m terrain"``."""
        text = MODEL_NAMES.get(self.model, self.model)
        if self.clutter is not None:
            where = "at the handset (P.2108)" if self.model == "itm" else "along the path"
            if isinstance(self.clutter, ClutterModel) and self.clutter.name.endswith("-settlements"):
                text += (f" with tree clutter, built-up at settlements ({self.clutter.name}) "
                         f"{where}")
            elif isinstance(self.clutter, ClutterModel) and self.clutter.landcover is not None:
                text += f" with land-cover clutter cell by cell ({self.clutter.name}) {where}"
            else:
                name = self.clutter.name if isinstance(self.clutter, ClutterModel) else "grid"
                text += f" with {name} clutter {where}"
        if self.calibration is not None:
            text += ", calibrated"
        if self.model == "itm" and self.itm_sweep != "exact":
            text += f", {self.itm_sweep} sweep"
        if self.evaluate_at == "points":
            text += ", siting on exact paths to the demand points"  # map_at_points
        if terrain_res_m is not None:
            text += f", {terrain_res_m:g} m terrain"
        return text
