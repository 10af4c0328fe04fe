"""Calibrate the prediction against measurements, and show predicted against measured.

The chain, for measurements read with :func:`blankspot.measurements.read_measurements` and
linked to their serving sites with :func:`blankspot.measurements.link_measurements`:

1. :func:`predict_at_points`: the ITM point-to-point loss from the serving site to each point
   over the terrain profile (as :mod:`blankspot.diagnostics` runs it), plus the P.2108 §3.1
   terminal clutter loss of the point's land-cover class, through the link budget to RSRP.
2. :func:`calibrate`: the statistics before, a robust fit (:func:`fit_calibration`) and the
   statistics after, out of sample: k-fold cross-validation with folds grouped by site
   (:func:`cross_validate`), so that the "after" figures are those of a site the fit has not
   seen.
3. :func:`write_calibration` / :func:`read_calibration`: the fitted values in a TOML file a
   scenario names (``[radio] calibration = "calibration.toml"``), and
   :func:`apply_calibration` to correct a path-loss grid with them.
4. :func:`plot_residuals` (PNG) and :func:`measurements_layer` (folium) to show it.

Sign convention: the **residual** is measured minus predicted RSRP, in dB. A positive residual
means the signal is stronger than predicted (the model is pessimistic there); the "mean error"
of the statistics is the mean residual.

The calibrated model
--------------------
For a point at distance d from its site, in land-cover class c, with ITM basic loss L_ITM::

    RSRP_cal = EIRP_RE + G_rx - L_body - L_ITM - T(c) + offset + slope * log10(d / d_ref)

where T(c) is the fitted terminal loss of class c for the classes fitted (forest first of all),
and the P.2108 §3.1 loss of the class otherwise. The offset is common to all sites and
classes, so at least one class with measurements must keep its P.2108 loss to anchor it
(otherwise the offset and the class losses are not separable). The slope (dB per decade of
distance, d_ref = 1 km) is optional.

The fit is a robust least squares (:func:`scipy.optimize.least_squares`, ``soft_l1`` loss by
default, scale f = 1.4826 · MAD of the least-squares residuals), so a few percent of gross
outliers (a phone indoors, another operator's cell) do not drag it; a bounded loss still lets
each one-sided outlier pull by up to f, so the points beyond 3 robust σ are then left out and
the fit repeated once (``reject_sigmas``). σ_L, the location
variability, is the robust spread of the fitted residuals: 1.4826 · MAD, which equals the
standard deviation for normal residuals and ignores the outliers.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import html
import itertools
import json
import math
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from blankspot.clutter import ClutterModel, loss_for_class
from blankspot.errors import (
    BlankspotWarning,
    DataError,
    InputError,
    SchemaError,
    UnitsError,
    format_problems,
)
from blankspot.propagation.budget import LinkBudget
from blankspot.propagation.radial import ItmParams
from blankspot.terrain import Terrain

if TYPE_CHECKING:
    import folium
    from matplotlib.figure import Figure

__all__ = [
    "CALIBRATION_FORMAT_VERSION",
    "DEFAULT_DISTANCE_BANDS_KM",
    "Calibration",
    "CalibrationCorrection",
    "apply_calibration",
    "calibrate",
    "cross_validate",
    "error_statistics",
    "fit_calibration",
    "measurements_layer",
    "plot_residuals",
    "predict_at_points",
    "predict_calibrated",
    "read_calibration",
    "residual_colour",
    "write_calibration",
]

CALIBRATION_FORMAT_VERSION = 1
"""Version of the calibration TOML layout written by :func:`write_calibration`."""

DEFAULT_DISTANCE_BANDS_KM = (0.0, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, math.inf)
"""Edges of the distance bands of the statistics, km."""

WITHIN_DB = 6.0
"""The statistics give the share of points whose residual is within ± this many dB."""

MAD_TO_SIGMA = 1.482602218505602
"""1 / Φ⁻¹(3/4): MAD times this is the standard deviation of normal data."""

OUTLIER_SIGMAS = 3.0
"""Points whose residual is more than this many robust σ from the median are outliers in the
statistics' ``rmse_inliers_db``."""

FOREST_CLASS = 10
"""ESA WorldCover tree cover, the class whose terminal loss is fitted by default."""

_STAT_COLUMNS = ("n", "mean_error_db", "rmse_db", "std_db", "within_6db_share", "rmse_inliers_db")


# --- prediction at points -----------------------------------------------------------------
def _points_xy(points: gpd.GeoDataFrame, terrain: Terrain) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(points, gpd.GeoDataFrame) or points.crs is None:
        raise UnitsError(
            "measurements must be a GeoDataFrame with a CRS (read_measurements returns one)."
        )
    geoms = points.geometry if points.crs == terrain.crs else points.geometry.to_crs(terrain.crs)
    return np.asarray(geoms.x, dtype=float), np.asarray(geoms.y, dtype=float)


def _rowcol(terrain: Terrain, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fractional (row, col) of map coordinates, cell centres at whole numbers."""
    t = terrain.transform
    return (y - t.f) / t.e - 0.5, (x - t.c) / t.a - 0.5


def _codes(values: Any) -> np.ndarray:
    """Land-cover codes as int64, -1 where missing."""
    num = pd.to_numeric(pd.Series(values), errors="coerce")
    return np.asarray(num.fillna(-1).to_numpy(dtype=float), dtype=np.int64)


def _class_grid(
    terrain: Terrain, landcover: Any, clutter_model: ClutterModel | None
) -> tuple[ClutterModel | None, np.ndarray | None, int | None]:
    """(model with the class table, land-cover grid or None, uniform class or None)."""
    if landcover is None and clutter_model is None:
        return None, None, None
    model = clutter_model if clutter_model is not None else ClutterModel.paser()
    if isinstance(landcover, ClutterModel):
        model = landcover
        landcover = None
    if landcover is not None:
        grid = np.asarray(landcover)
        if grid.shape != terrain.shape or not np.issubdtype(grid.dtype, np.integer):
            raise UnitsError(
                f"landcover must be an integer grid of class codes shaped like the terrain "
                f"{terrain.shape}; received {grid.dtype} {grid.shape}. Read it with "
                "blankspot.clutter.landcover_classes(terrain, path)."
            )
        return model, grid, None
    if model.landcover is not None:
        return model, np.asarray(model.landcover), None
    return model, None, model.uniform_class


def predict_at_points(
    terrain: Terrain,
    sites: gpd.GeoDataFrame,
    measurements: gpd.GeoDataFrame,
    *,
    site_id: str | None = None,
    budget: LinkBudget | None = None,
    landcover: Any = None,
    clutter_model: ClutterModel | None = None,
    rx_height_agl_m: float = 1.5,
    itm_params: ItmParams | None = None,
) -> gpd.GeoDataFrame:
    """Predicted path loss and RSRP from the serving site to each measurement point.

    Per point: the terrain profile from the site to the point
    (:func:`blankspot.diagnostics.terrain_profile`, bilinear heights at the terrain
    resolution), NTIA ITM point-to-point on it (:func:`blankspot.propagation.itm.p2p_tls`,
    the ``itm_params`` climate and ground, 50 % time, locations and situations), plus the
    P.2108 §3.1 terminal loss of the land-cover class of the point's cell
    (:func:`blankspot.clutter.loss_for_class`), through ``budget`` to RSRP. This is the
    model :func:`blankspot.coverage.site_footprint` evaluates with ``model="itm"`` and a
    clutter model, on the exact path instead of the radial sweep. Antenna patterns are not
    applied (an omni of the budget's gain).

    Parameters
    ----------
    terrain
        The grid, in the analysis CRS.
    sites
        The sites table (index ``site_id``, ``height_agl_m``, Point geometry).
    measurements
        Points with a CRS (reprojected to the terrain's); ``site_id`` names each point's
        serving site unless ``site_id=`` is given; ``rsrp_dbm``, when present, gives the
        residual.
    site_id
        Predict every point from this one site instead.
    budget
        Link budget (default :class:`~blankspot.propagation.budget.LinkBudget`); its
        ``freq_mhz`` is the frequency.
    landcover
        Integer land-cover codes on the terrain grid (ESA WorldCover), or a
        :class:`~blankspot.clutter.ClutterModel` that is uniform or carries a grid; None: no
        terminal clutter loss (class ``<NA>``).
    clutter_model
        The class table for ``landcover`` codes (default the Paser classes).
    rx_height_agl_m
        Handset height above ground, metres.
    itm_params
        ITM settings (default the Paser ones).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``measurements`` with ``site_id`` (the site predicted from),
        ``distance_m``, ``basic_loss_db`` (ITM), ``landcover_class`` (Int64),
        ``terminal_loss_db`` (P.2108, 0 without land cover), ``path_loss_db`` (their sum),
        ``predicted_rsrp_dbm`` and, with ``rsrp_dbm``, ``residual_db`` (measured minus
        predicted). NaN where there is no prediction: an unknown or missing site, a point
        outside the terrain or within 1 m of the site, nodata along the path. ``attrs`` hold
        ``freq_mhz``, ``rx_height_agl_m``, ``model`` and ``rsrp_offset_db`` (EIRP per
        resource element + G_rx − L_body).
    """
    from blankspot.diagnostics import terrain_profile
    from blankspot.propagation.itm import make_pfl, p2p_tls

    budget = budget if budget is not None else LinkBudget()
    params = itm_params if itm_params is not None else ItmParams()
    if not (math.isfinite(float(rx_height_agl_m)) and float(rx_height_agl_m) > 0):
        raise UnitsError(
            f"rx_height_agl_m must be a height > 0 m above ground; received {rx_height_agl_m!r}."
        )
    model, grid, uniform = _class_grid(terrain, landcover, clutter_model)
    x, y = _points_xy(measurements, terrain)
    n = len(measurements)
    if site_id is not None:
        serving = np.full(n, str(site_id), dtype=object)
    elif "site_id" in measurements:
        serving = measurements["site_id"].to_numpy(dtype=object)
    else:
        raise SchemaError(
            "the measurements have no site_id column: link them first "
            "(blankspot.measurements.link_measurements) or pass site_id=."
        )
    site_geoms = sites.geometry if sites.crs == terrain.crs else sites.geometry.to_crs(terrain.crs)
    site_xy = {
        str(s): (float(g.x), float(g.y), float(h))
        for s, g, h in zip(sites.index, site_geoms, sites["height_agl_m"], strict=True)
    }
    freq = float(budget.freq_mhz)
    kw: dict[str, Any] = {
        "climate": params.climate, "n0": params.n0, "pol": params.pol,
        "epsilon": params.epsilon, "sigma": params.sigma, "mdvar": params.mdvar,
        "time_pct": params.time_pct, "location_pct": params.location_pct,
        "situation_pct": params.situation_pct,
    }  # fmt: skip
    dist = np.full(n, np.nan)
    basic = np.full(n, np.nan)
    row, col = _rowcol(terrain, x, y)
    inside = (
        np.isfinite(row) & np.isfinite(col) & (row >= -0.5) & (row < terrain.shape[0] - 0.5)
        & (col >= -0.5) & (col < terrain.shape[1] - 0.5)
    )  # fmt: skip
    for i in range(n):
        s = serving[i]
        if not inside[i] or not isinstance(s, str) or s not in site_xy:
            continue
        sx, sy, h = site_xy[s]
        d = math.hypot(x[i] - sx, y[i] - sy)
        if d < 1.0:
            continue
        dist[i] = d
        try:
            dd, hh = terrain_profile(terrain, (sx, sy), (x[i], y[i]))
            res = p2p_tls(h, float(rx_height_agl_m), make_pfl(hh, float(dd[1])), f_mhz=freq,
                          **kw)  # fmt: skip
        except (InputError, UnitsError):  # off the terrain, across a DEM void, out of range
            continue
        basic[i] = res.loss_db
    classes = pd.array([pd.NA] * n, dtype="Int64")
    terminal = np.zeros(n)
    if model is not None:
        if grid is not None:
            r = np.rint(np.nan_to_num(row, nan=-1.0)).astype(np.int64)
            c = np.rint(np.nan_to_num(col, nan=-1.0)).astype(np.int64)
            ok = inside & (r >= 0) & (r < terrain.shape[0]) & (c >= 0) & (c < terrain.shape[1])
            codes = np.full(n, -1, dtype=np.int64)
            codes[ok] = grid[r[ok], c[ok]]
        else:
            codes = np.full(n, int(uniform) if uniform is not None else -1, dtype=np.int64)
        table = {k: loss_for_class(v, freq, float(rx_height_agl_m))
                 for k, v in model.classes.items()}  # fmt: skip
        unknown = sorted({int(v) for v in codes[codes >= 0]} - set(table))
        if unknown:
            raise UnitsError(
                f"land-cover codes {unknown} at measurement points are not classes of the "
                f"clutter model (known: {sorted(table)}). Add them with "
                "ClutterModel.with_class(), or fill the land-cover raster."
            )
        known = codes >= 0
        classes = pd.array(np.where(known, codes, 0), dtype="Int64")
        classes[~known] = pd.NA
        terminal = np.array([table.get(int(v), np.nan) if v >= 0 else np.nan for v in codes])
    k_dbm = budget.eirp_re_dbm + budget.rx_gain_dbi - budget.body_loss_db
    out = measurements.copy()
    out["site_id"] = serving
    out["distance_m"] = dist
    out["basic_loss_db"] = basic
    out["landcover_class"] = classes
    out["terminal_loss_db"] = terminal
    out["path_loss_db"] = basic + terminal
    out["predicted_rsrp_dbm"] = k_dbm - out["path_loss_db"].to_numpy(dtype=float)
    if "rsrp_dbm" in out:
        out["residual_db"] = out["rsrp_dbm"].to_numpy(dtype=float) - out["predicted_rsrp_dbm"]
    out.attrs.update(
        freq_mhz=freq,
        rx_height_agl_m=float(rx_height_agl_m),
        model="itm",
        rsrp_offset_db=float(k_dbm),
        itm_params=params.describe(),
        clutter=model.describe() if model is not None else "none",
    )
    return out


# --- statistics ---------------------------------------------------------------------------
def _robust_sigma(r: np.ndarray) -> float:
    r = r[np.isfinite(r)]
    if r.size == 0:
        return math.nan
    return float(MAD_TO_SIGMA * np.median(np.abs(r - np.median(r))))


def _stats(r: np.ndarray, centre: float, limit: float) -> dict[str, float]:
    r = r[np.isfinite(r)]
    n = int(r.size)
    if n == 0:
        return {"n": 0, "mean_error_db": math.nan, "rmse_db": math.nan, "std_db": math.nan,
                "within_6db_share": math.nan, "rmse_inliers_db": math.nan}  # fmt: skip
    inl = r[np.abs(r - centre) <= limit] if math.isfinite(limit) else r
    return {
        "n": n,
        "mean_error_db": float(np.mean(r)),
        "rmse_db": float(np.sqrt(np.mean(r * r))),
        "std_db": float(np.std(r, ddof=1)) if n > 1 else math.nan,
        "within_6db_share": float(np.mean(np.abs(r) <= WITHIN_DB)),
        "rmse_inliers_db": float(np.sqrt(np.mean(inl * inl))) if inl.size else math.nan,
    }


def _band_label(lo: float, hi: float) -> str:
    return f"{lo:g}-{hi:g} km" if math.isfinite(hi) else f">{lo:g} km"


def error_statistics(
    residual_db: Any,
    *,
    site_id: Any = None,
    landcover_class: Any = None,
    distance_m: Any = None,
    distance_bands_km: Sequence[float] = DEFAULT_DISTANCE_BANDS_KM,
    class_names: Mapping[int, str] | None = None,
) -> pd.DataFrame:
    """Error statistics of residuals (measured − predicted, dB), overall and per group.

    Parameters
    ----------
    residual_db
        Residuals; NaN ones are ignored.
    site_id, landcover_class, distance_m
        Per-point groups (any may be None): the serving site, the land-cover class code and
        the distance from the site (binned by ``distance_bands_km``).
    distance_bands_km
        Increasing band edges, km.
    class_names
        Class code -> name for the keys (default the Paser class names).

    Returns
    -------
    pandas.DataFrame
        One row per group: ``group`` (``"overall"``, ``"site"``, ``"landcover"``,
        ``"distance"``), ``key`` (``"all"``, the site id, ``"10 tree_cover"``, ``"1-2 km"``),
        ``n``, ``mean_error_db`` (mean residual), ``rmse_db``, ``std_db``,
        ``within_6db_share`` (share with |residual| <= 6 dB), ``rmse_inliers_db`` (RMSE
        without the points more than 3 robust σ from the overall median, see
        :data:`OUTLIER_SIGMAS`). Empty groups are left out.
    """
    r = np.asarray(residual_db, dtype=float)
    finite = r[np.isfinite(r)]
    centre = float(np.median(finite)) if finite.size else math.nan
    limit = OUTLIER_SIGMAS * _robust_sigma(r)
    rows: list[dict[str, Any]] = [{"group": "overall", "key": "all", **_stats(r, centre, limit)}]
    if site_id is not None:
        sid = pd.Series(np.asarray(site_id, dtype=object)).astype(str).to_numpy()
        for s in sorted(set(sid[np.isfinite(r)])):
            rows.append({"group": "site", "key": s, **_stats(r[sid == s], centre, limit)})
    if landcover_class is not None:
        from blankspot.clutter import PASER_CLASSES

        names = dict(class_names) if class_names is not None else {
            k: v.name for k, v in PASER_CLASSES.items()
        }  # fmt: skip
        codes = _codes(landcover_class)
        for c in sorted(set(codes[np.isfinite(r)])):
            key = "unknown" if c < 0 else f"{c} {names.get(int(c), 'class')}".strip()
            rows.append({"group": "landcover", "key": key, **_stats(r[codes == c], centre, limit)})
    if distance_m is not None:
        d_km = np.asarray(distance_m, dtype=float) / 1000.0
        edges = [float(e) for e in distance_bands_km]
        for lo, hi in itertools.pairwise(edges):
            sel = (d_km >= lo) & (d_km < hi)
            if np.isfinite(r[sel]).any():
                rows.append({"group": "distance", "key": _band_label(lo, hi),
                             **_stats(r[sel], centre, limit)})  # fmt: skip
    return pd.DataFrame(rows, columns=["group", "key", *_STAT_COLUMNS])


# --- the calibration ----------------------------------------------------------------------
@dataclass(frozen=True)
class Calibration:
    """Fitted corrections of the ITM + P.2108 prediction (module docstring, "The calibrated
    model"), with the statistics that justify them.

    Attributes
    ----------
    offset_db
        Added to the predicted RSRP (subtracted from the path loss), dB.
    slope_db_per_decade
        Added per decade of distance beyond ``reference_distance_m`` (0 when not fitted).
    reference_distance_m
        d_ref of the slope, metres.
    terminal_loss_db
        Fitted terminal loss per land-cover class code, dB; replaces that class's P.2108 loss.
    p2108_terminal_loss_db
        The P.2108 §3.1 loss each fitted class had in the prediction (what
        :func:`apply_calibration` takes out), dB.
    sigma_l_db
        Location variability σ_L: 1.4826 · MAD of the fitted residuals, dB.
    standard_errors_db
        Standard error of each fitted value (``"offset_db"``, ``"slope_db_per_decade"``,
        ``"terminal_loss_db.10"``, ...), dB, from the fit's Jacobian and σ_L.
    fitted
        Names of the fitted values.
    n_points, n_sites
        Points and sites given to the fit.
    n_outliers
        Points left out of the final fit as outliers (``reject_sigmas``).
    model
        The prediction calibrated (``"itm"``: ITM plus P.2108 terminal loss).
    freq_mhz, rx_height_agl_m
        Frequency and handset height of the prediction.
    loss, f_scale_db
        The robust loss of :func:`scipy.optimize.least_squares` and its scale.
    created
        UTC time of the fit, ISO 8601.
    cv_folds
        Folds of the grouped cross-validation (0: none).
    statistics
        :func:`error_statistics` rows with a ``stage`` column: ``"before"`` (uncalibrated),
        ``"after_cv"`` (out of sample, cross-validated by site), ``"after_fit"`` (in sample).
    class_names
        Names of the fitted classes.
    source, file_sha256
        The file it was read from and its SHA-256 (:func:`read_calibration`; empty otherwise).
    """

    offset_db: float
    slope_db_per_decade: float = 0.0
    reference_distance_m: float = 1000.0
    terminal_loss_db: Mapping[int, float] = field(default_factory=dict)
    p2108_terminal_loss_db: Mapping[int, float] = field(default_factory=dict)
    sigma_l_db: float = math.nan
    standard_errors_db: Mapping[str, float] = field(default_factory=dict)
    fitted: tuple[str, ...] = ()
    n_points: int = 0
    n_outliers: int = 0
    n_sites: int = 0
    model: str = "itm"
    freq_mhz: float = math.nan
    rx_height_agl_m: float = 1.5
    loss: str = "soft_l1"
    f_scale_db: float = math.nan
    created: str = ""
    cv_folds: int = 0
    statistics: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False, compare=False)
    class_names: Mapping[int, str] = field(default_factory=dict)
    source: str = field(default="", compare=False)
    file_sha256: str = field(default="", compare=False)

    def record(self) -> dict[str, Any]:
        """The calibration as JSON-ready values for a run's ``metadata.json`` and
        ``provenance.json``: its file (``path``, ``sha256``; empty when not read from one), the
        fitted values and the content hash of the correction the engine applies."""
        return {
            "path": self.source,
            "sha256": self.file_sha256,
            "model": self.model,
            "offset_db": self.offset_db,
            "slope_db_per_decade": self.slope_db_per_decade,
            "reference_distance_m": self.reference_distance_m,
            "terminal_loss_db": {str(k): v for k, v in sorted(self.terminal_loss_db.items())},
            "p2108_terminal_loss_db": {
                str(k): v for k, v in sorted(self.p2108_terminal_loss_db.items())
            },
            "sigma_l_db": self.sigma_l_db,
            "fitted": list(self.fitted),
            "n_points": self.n_points,
            "n_sites": self.n_sites,
            "created": self.created,
            "correction_sha256": self.correction().sha256,
        }

    def location_margin_db(self, location_pct: float = 90.0) -> float:
        """Margin for ``location_pct`` % of locations: σ_L · Φ⁻¹(p), e.g. 1.2816 σ_L at 90 %
        (the budget's ``location_margin_db``)."""
        from scipy.stats import norm

        if not 0.0 < location_pct < 100.0:
            raise UnitsError(f"location_pct must be in (0, 100); received {location_pct!r}.")
        return float(self.sigma_l_db * norm.ppf(location_pct / 100.0))

    def correction(self) -> CalibrationCorrection:
        """The part of this calibration that changes a path loss (what the coverage engine
        applies and what enters a footprint's cache key), with its content hash."""
        return CalibrationCorrection.of(self)

    def stat(self, stage: str, group: str = "overall", key: str = "all") -> dict[str, float]:
        """One row of :attr:`statistics` as a dict (KeyError when absent)."""
        s = self.statistics
        hit = s[(s["stage"] == stage) & (s["group"] == group) & (s["key"] == key)]
        if hit.empty:
            raise KeyError(f"no statistics for stage={stage!r}, group={group!r}, key={key!r}")
        return {c: hit.iloc[0][c] for c in _STAT_COLUMNS}

    def summary(self) -> str:
        """A few lines for a terminal or a report."""
        lines = [
            f"calibration of {self.model} at {self.freq_mhz:g} MHz: {self.n_points} points "
            f"({self.n_outliers} left out as outliers), {self.n_sites} site(s)",
            f"  offset        {self.offset_db:+.2f} dB"
            + _se(self.standard_errors_db.get("offset_db")),
        ]
        if "slope_db_per_decade" in self.fitted:
            lines.append(
                f"  slope         {self.slope_db_per_decade:+.2f} dB/decade"
                + _se(self.standard_errors_db.get("slope_db_per_decade"))
            )
        for c, v in sorted(self.terminal_loss_db.items()):
            name = self.class_names.get(c, "")
            lines.append(
                f"  class {c} {name}: terminal loss {v:.2f} dB (P.2108 "
                f"{self.p2108_terminal_loss_db.get(c, math.nan):.2f})"
                + _se(self.standard_errors_db.get(f"terminal_loss_db.{c}"))
            )
        lines.append(f"  sigma_L       {self.sigma_l_db:.2f} dB")
        for stage in ("before", "after_cv", "after_fit"):
            try:
                st = self.stat(stage)
            except KeyError:
                continue
            lines.append(
                f"  {stage:<10} mean {st['mean_error_db']:+6.2f}  RMSE {st['rmse_db']:5.2f}  "
                f"std {st['std_db']:5.2f}  within ±6 dB {100 * st['within_6db_share']:5.1f} %"
            )
        return "\n".join(lines)


@dataclass(frozen=True)
class CalibrationCorrection:
    """The corrections of a :class:`Calibration` that change a path loss, as plain values.

    This is what :class:`blankspot.settings.CoverageSettings` hands the coverage engine (and
    dask workers) and what enters a footprint's cache key: numbers and tuples only, with
    ``sha256``, the content hash of the values (:meth:`Calibration.correction`).

    Attributes
    ----------
    offset_db, slope_db_per_decade, reference_distance_m
        As in :class:`Calibration`.
    class_delta_db
        ``(class code, fitted − P.2108 terminal loss in dB)`` per fitted class, sorted.
    sha256
        SHA-256 of the canonical JSON of the values above and the model.
    model
        The prediction calibrated (``"itm"``).

    >>> c = Calibration(offset_db=6.0, terminal_loss_db={10: 18.0},
    ...                 p2108_terminal_loss_db={10: 25.0}).correction()
    >>> c.class_delta_db, c.max_reduction_db(30_000.0)
    (((10, -7.0),), 13.0)
    """

    offset_db: float
    slope_db_per_decade: float
    reference_distance_m: float
    class_delta_db: tuple[tuple[int, float], ...]
    sha256: str
    model: str = "itm"

    @classmethod
    def of(cls, cal: Calibration) -> CalibrationCorrection:
        """The correction of ``cal``."""
        deltas = tuple(sorted(
            (int(c), float(v) - float(cal.p2108_terminal_loss_db.get(c, 0.0)))
            for c, v in cal.terminal_loss_db.items()
        ))  # fmt: skip
        values: dict[str, Any] = {
            "model": str(cal.model),
            "offset_db": float(cal.offset_db),
            "slope_db_per_decade": float(cal.slope_db_per_decade),
            "reference_distance_m": float(cal.reference_distance_m),
            "class_delta_db": [[c, v] for c, v in deltas],
        }
        text = json.dumps(values, sort_keys=True, separators=(",", ":"))
        return cls(
            offset_db=values["offset_db"],
            slope_db_per_decade=values["slope_db_per_decade"],
            reference_distance_m=values["reference_distance_m"],
            class_delta_db=deltas,
            sha256=hashlib.sha256(text.encode()).hexdigest(),
            model=values["model"],
        )

    def max_reduction_db(self, radius_m: float) -> float:
        """The most this correction can lower a path loss within ``radius_m`` of a site, dB
        (>= 0): what the engine adds to the loss cut-off of its sweep, so that no cell the
        correction brings within the cut-off is skipped."""
        ends = [self.slope_db_per_decade * math.log10(max(d, 1.0) / self.reference_distance_m)
                for d in (1.0, float(radius_m))]  # fmt: skip
        classes = max([0.0] + [-v for _, v in self.class_delta_db])
        return max(0.0, self.offset_db + max(0.0, *ends) + classes)

    def apply(self, path_loss_db: Any, distance_m: Any, landcover_class: Any) -> np.ndarray:
        """Calibrated path loss (see :func:`apply_calibration`)."""
        loss = np.asarray(path_loss_db, dtype=float)
        out = loss - self.offset_db
        if self.slope_db_per_decade:
            d = np.asarray(distance_m, dtype=float)
            out = out - self.slope_db_per_decade * np.log10(
                np.maximum(d, 1.0) / self.reference_distance_m
            )
        if self.class_delta_db:
            if landcover_class is None:
                raise UnitsError(
                    "apply_calibration(): this calibration fitted the terminal loss of "
                    f"class(es) {[c for c, _ in self.class_delta_db]}; pass each cell's "
                    "land-cover class."
                )
            codes = np.asarray(landcover_class)
            if not np.issubdtype(codes.dtype, np.integer):
                raise UnitsError(
                    f"landcover_class must hold integer class codes; received {codes.dtype}."
                )
            for c, delta in self.class_delta_db:
                out = out + np.where(codes == c, delta, 0.0)
        return np.asarray(out, dtype=float)


def _se(v: float | None) -> str:
    return f" (± {v:.2f})" if v is not None and math.isfinite(v) else ""


def _design(
    points: pd.DataFrame,
    classes: Sequence[int],
    fit_offset: bool,
    fit_slope: bool,
    reference_distance_m: float,
) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    """(y, A, names, class codes) of the linear model y = A θ + ε over the usable points.

    y is the residual with the fitted classes' P.2108 loss put back (r0 − T0 · 1[c fitted]);
    the class columns carry −1, so θ_c is the class's terminal loss.
    """
    r0 = points["residual_db"].to_numpy(dtype=float)
    t0 = points["terminal_loss_db"].to_numpy(dtype=float)
    codes = _codes(points["landcover_class"])
    d = points["distance_m"].to_numpy(dtype=float)
    fitted_mask = np.isin(codes, list(classes))
    y = r0 - np.where(fitted_mask, t0, 0.0)
    cols: list[np.ndarray] = []
    names: list[str] = []
    if fit_offset:
        cols.append(np.ones_like(y))
        names.append("offset_db")
    if fit_slope:
        cols.append(np.log10(np.maximum(d, 1.0) / reference_distance_m))
        names.append("slope_db_per_decade")
    for c in classes:
        cols.append(-(codes == c).astype(float))
        names.append(f"terminal_loss_db.{c}")
    a = np.column_stack(cols) if cols else np.zeros((y.size, 0))
    return y, a, names, codes


def fit_calibration(
    points: pd.DataFrame,
    *,
    fit_offset: bool = True,
    fit_slope: bool = False,
    fit_classes: Sequence[int] = (FOREST_CLASS,),
    loss: str = "soft_l1",
    f_scale_db: float | None = None,
    min_points_per_class: int = 30,
    reference_distance_m: float = 1000.0,
    reject_sigmas: float | None = OUTLIER_SIGMAS,
) -> Calibration:
    """Fit the offset, the optional distance slope and the terminal loss of some classes.

    Parameters
    ----------
    points
        :func:`predict_at_points` output with ``residual_db`` (rows with NaN residual are
        ignored).
    fit_offset, fit_slope
        Fit the common offset (dB) and the slope (dB per decade of distance).
    fit_classes
        Land-cover codes whose terminal loss is fitted (default forest, 10); a class with fewer
        than ``min_points_per_class`` points keeps its P.2108 loss (with a warning).
    loss
        Robust loss of :func:`scipy.optimize.least_squares`: ``"soft_l1"`` (default),
        ``"huber"``, ``"cauchy"``, ``"arctan"`` or ``"linear"`` (ordinary least squares).
    f_scale_db
        Residual scale where the loss turns robust, dB; default 1.4826 · MAD of the ordinary
        least-squares residuals.
    min_points_per_class
        See ``fit_classes``.
    reference_distance_m
        d_ref of the slope, metres.
    reject_sigmas
        After the robust fit, points whose residual lies more than this many robust σ
        (1.4826 · MAD) from the median are left out and the fit is repeated once; None (or
        ``loss="linear"``) keeps every point. A bounded loss still lets each one-sided outlier
        pull by up to ``f_scale_db``; this removes that bias.

    Returns
    -------
    Calibration
        Without statistics (:func:`calibrate` adds them).

    Raises
    ------
    UnitsError
        Too few points, nothing to fit, a bad loss, or an offset that cannot be separated from
        the class losses (every measured class fitted).
    """
    from scipy.optimize import least_squares

    problems: list[str] = []
    if loss not in ("linear", "soft_l1", "huber", "cauchy", "arctan"):
        problems.append(
            f"loss must be 'soft_l1', 'huber', 'cauchy', 'arctan' or 'linear'; received {loss!r}."
        )
    need = {"residual_db", "terminal_loss_db", "landcover_class", "distance_m"}
    missing = sorted(need - set(points.columns))
    if missing:
        problems.append(
            f"points lack column(s) {', '.join(missing)}; pass the output of predict_at_points()."
        )
    if problems:
        raise UnitsError(format_problems("fit_calibration()", problems))
    ok = np.isfinite(points["residual_db"].to_numpy(dtype=float))
    pts = points.loc[ok]
    codes_all = _codes(pts["landcover_class"])
    classes: list[int] = []
    for c in dict.fromkeys(int(v) for v in fit_classes):
        count = int(np.sum(codes_all == c))
        if count >= min_points_per_class:
            classes.append(c)
        elif count:
            import warnings

            warnings.warn(
                f"land-cover class {c} has only {count} point(s) (< {min_points_per_class}); "
                "its terminal loss is not fitted and keeps its P.2108 value.",
                BlankspotWarning,
                stacklevel=2,
            )
    if fit_offset and classes:
        anchors = set(codes_all[codes_all >= 0].tolist()) - set(classes)
        if not anchors and not np.any(codes_all < 0):
            problems.append(
                f"every land-cover class with points ({sorted(set(codes_all.tolist()))}) is "
                "fitted, so the offset and the class losses are not separable; leave at least "
                "one class at its P.2108 loss (fit_classes=) or pass fit_offset=False."
            )
    if not (fit_offset or fit_slope or classes):
        problems.append("nothing to fit: enable fit_offset, fit_slope or fit_classes.")
    n_par = int(fit_offset) + int(fit_slope) + len(classes)
    if len(pts) < max(10, 3 * n_par):
        problems.append(
            f"{len(pts)} point(s) with a prediction; at least {max(10, 3 * n_par)} are needed."
        )
    if problems:
        raise UnitsError(format_problems("fit_calibration()", problems))
    y, a, names, codes = _design(pts, classes, fit_offset, fit_slope, reference_distance_m)
    theta0, *_ = np.linalg.lstsq(a, y, rcond=None)
    scale = float(f_scale_db) if f_scale_db is not None else _robust_sigma(y - a @ theta0)
    if not (math.isfinite(scale) and scale > 0):
        scale = 1.0

    def solve(rows: np.ndarray, start: np.ndarray) -> np.ndarray:
        if loss == "linear":
            sol, *_ = np.linalg.lstsq(a[rows], y[rows], rcond=None)
            return np.asarray(sol, dtype=float)
        ar, yr = a[rows], y[rows]
        res = least_squares(lambda t: ar @ t - yr, start, jac=lambda t: ar, loss=loss,
                            f_scale=scale, method="trf")  # fmt: skip
        return np.asarray(res.x, dtype=float)

    every = np.ones(y.size, dtype=bool)
    theta = solve(every, theta0)
    inlier = every
    if reject_sigmas is not None and loss != "linear":
        # one-sided outliers (a phone indoors, a wrong server) still pull a bounded loss by
        # up to f_scale each: drop those beyond reject_sigmas robust sigmas and fit again
        resid = y - a @ theta
        centre = float(np.median(resid))
        inlier = np.abs(resid - centre) <= float(reject_sigmas) * _robust_sigma(resid)
        if inlier.sum() >= max(10, 3 * n_par):
            theta = solve(inlier, theta)
        else:
            inlier = every
    resid = y - a @ theta
    sigma = _robust_sigma(resid)
    try:
        cov = np.linalg.inv(a.T @ a) * sigma**2
        se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    except np.linalg.LinAlgError:
        se = np.full(len(names), np.nan)
    values = dict(zip(names, theta.tolist(), strict=True))
    freq = float(points.attrs.get("freq_mhz", math.nan))
    rx_h = float(points.attrs.get("rx_height_agl_m", 1.5))
    p2108: dict[int, float] = {}
    for c in classes:
        t0 = pts["terminal_loss_db"].to_numpy(dtype=float)[codes == c]
        p2108[c] = float(np.nanmedian(t0)) if t0.size else math.nan
    from blankspot.clutter import PASER_CLASSES

    sites = pts["site_id"] if "site_id" in pts else pd.Series([], dtype=object)
    return Calibration(
        offset_db=float(values.get("offset_db", 0.0)),
        slope_db_per_decade=float(values.get("slope_db_per_decade", 0.0)),
        reference_distance_m=float(reference_distance_m),
        terminal_loss_db={c: float(values[f"terminal_loss_db.{c}"]) for c in classes},
        p2108_terminal_loss_db=p2108,
        sigma_l_db=sigma,
        standard_errors_db=dict(zip(names, se.tolist(), strict=True)),
        fitted=tuple(names),
        n_points=len(pts),
        n_outliers=int((~inlier).sum()),
        n_sites=int(sites.nunique()),
        model=str(points.attrs.get("model", "itm")),
        freq_mhz=freq,
        rx_height_agl_m=rx_h,
        loss=loss,
        f_scale_db=scale,
        created=_dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat(),
        class_names={c: PASER_CLASSES[c].name for c in classes if c in PASER_CLASSES},
    )


def predict_calibrated(points: pd.DataFrame, cal: Calibration) -> np.ndarray:
    """Calibrated predicted RSRP (dBm) at :func:`predict_at_points` points."""
    pred = points["predicted_rsrp_dbm"].to_numpy(dtype=float)
    loss = points["path_loss_db"].to_numpy(dtype=float)
    corrected = apply_calibration(
        loss, points["distance_m"].to_numpy(dtype=float),
        _codes(points["landcover_class"]),
        cal,
    )  # fmt: skip
    return np.asarray(pred + (loss - corrected), dtype=float)


def apply_calibration(
    path_loss_db: Any,
    distance_m: Any,
    landcover_class: Any,
    cal: Calibration | CalibrationCorrection,
) -> np.ndarray:
    """Calibrated path loss: ``path_loss_db`` with the fitted corrections.

    ``path_loss_db`` is the loss of the calibrated model before calibration: ITM basic loss
    plus the P.2108 terminal loss of the class, as :func:`blankspot.coverage.site_footprint`
    gives it with ``model="itm"`` and a clutter model. Returned::

        L − offset − slope · log10(d / d_ref) + (T_fit(c) − T_P2108(c)) for fitted classes c

    Parameters
    ----------
    path_loss_db, distance_m, landcover_class
        Broadcastable arrays (or scalars): loss (dB), distance from the site (m, clipped to
        >= 1 m) and land-cover code (int; negative for unknown, which gets no class term).
        ``landcover_class`` may be None only when no class loss was fitted.
    cal
        The calibration.

    Returns
    -------
    numpy.ndarray
        float64 path loss, dB; NaN where ``path_loss_db`` is NaN.
    """
    corr = cal.correction() if isinstance(cal, Calibration) else cal
    if not isinstance(corr, CalibrationCorrection):
        raise UnitsError(
            "apply_calibration(): cal must be a Calibration or a CalibrationCorrection; "
            f"received {type(cal).__name__}."
        )
    return corr.apply(path_loss_db, distance_m, landcover_class)


# --- cross-validation ---------------------------------------------------------------------
def _folds(groups: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, bool]:
    """Fold number per point, grouping by ``groups``; (folds, grouped)."""
    uniq = np.array(sorted(set(groups.tolist())), dtype=object)
    rng = np.random.default_rng(seed)
    if uniq.size >= 2:
        k = min(k, uniq.size)
        order = rng.permutation(uniq.size)
        fold_of = {uniq[j]: i % k for i, j in enumerate(order)}
        return np.array([fold_of[g] for g in groups], dtype=np.int64), True
    n = groups.size
    return rng.permutation(n) % max(2, min(k, n)), False


def cross_validate(
    points: pd.DataFrame,
    *,
    k: int = 5,
    seed: int = 0,
    **fit_kwargs: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-sample residuals by k-fold cross-validation grouped by site.

    The sites are dealt into ``min(k, number of sites)`` folds at random (``seed``); each fold's
    points are predicted by a calibration fitted on the other folds' points
    (:func:`fit_calibration` with ``fit_kwargs``), so a site is never in the fit that predicts
    it. With one site, the folds are of points instead (with a warning: those figures are
    optimistic, neighbouring points share their shadowing).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The cross-validated residual (measured − calibrated prediction, dB; NaN where the
        point has no prediction or its fold could not be fitted) and the fold of each point.
    """
    import warnings

    r = points["residual_db"].to_numpy(dtype=float)
    ok = np.isfinite(r)
    groups = points["site_id"].astype(str).to_numpy() if "site_id" in points else \
        np.full(len(points), "all", dtype=object)  # fmt: skip
    folds = np.full(len(points), -1, dtype=np.int64)
    f_ok, grouped = _folds(groups[ok], k, seed)
    folds[ok] = f_ok
    if not grouped:
        warnings.warn(
            "cross_validate(): one site only, so the folds are of points, not of sites; the "
            "out-of-sample figures are optimistic.",
            BlankspotWarning,
            stacklevel=2,
        )
    out = np.full(len(points), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BlankspotWarning)
        for f in sorted(set(f_ok.tolist())):
            test = folds == f
            train = ok & ~test
            try:
                cal = fit_calibration(points.loc[train], **fit_kwargs)
            except UnitsError:
                continue
            out[test] = r[test] - (predict_calibrated(points.loc[test], cal)
                                   - points["predicted_rsrp_dbm"].to_numpy(dtype=float)[test])  # fmt: skip
    return out, folds


def calibrate(
    points: pd.DataFrame,
    *,
    k: int = 5,
    seed: int = 0,
    distance_bands_km: Sequence[float] = DEFAULT_DISTANCE_BANDS_KM,
    **fit_kwargs: Any,
) -> Calibration:
    """Fit a calibration on all points, with statistics before, after (cross-validated by
    site) and after in sample.

    Parameters
    ----------
    points
        :func:`predict_at_points` output with ``residual_db``.
    k, seed
        Folds and random seed of :func:`cross_validate`.
    distance_bands_km
        Band edges of the per-distance statistics.
    fit_kwargs
        :func:`fit_calibration` options (``fit_slope=True``, ``fit_classes=(10, 95)``, ...).

    Returns
    -------
    Calibration
        With :attr:`Calibration.statistics` for the stages ``before``, ``after_cv`` and
        ``after_fit`` and :attr:`Calibration.cv_folds`.
    """
    cal = fit_calibration(points, **fit_kwargs)
    r_before = points["residual_db"].to_numpy(dtype=float)
    r_fit = r_before - (predict_calibrated(points, cal)
                        - points["predicted_rsrp_dbm"].to_numpy(dtype=float))  # fmt: skip
    r_cv, folds = cross_validate(points, k=k, seed=seed, **fit_kwargs)
    site = points["site_id"].to_numpy(dtype=object) if "site_id" in points else None
    lc = points["landcover_class"] if "landcover_class" in points else None
    dist = points["distance_m"].to_numpy(dtype=float)
    frames = []
    for stage, r in (("before", r_before), ("after_cv", r_cv), ("after_fit", r_fit)):
        st = error_statistics(
            r, site_id=site, landcover_class=lc, distance_m=dist,
            distance_bands_km=distance_bands_km,
        )  # fmt: skip
        st.insert(0, "stage", stage)
        frames.append(st)
    n_folds = len(set(folds[folds >= 0].tolist()))
    return replace(cal, statistics=pd.concat(frames, ignore_index=True), cv_folds=n_folds)


# --- TOML in and out ----------------------------------------------------------------------
def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if math.isnan(f):
            return "nan"
        if math.isinf(f):
            return "inf" if f > 0 else "-inf"
        return repr(round(f, 4))
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    s = str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{s}"'


def write_calibration(path: str | os.PathLike[str], cal: Calibration) -> Path:
    """Write ``cal`` as a calibration TOML file, atomically (temporary name, then rename).

    The file holds ``[calibration]`` (format version, date, model, frequency, handset height,
    points, sites, loss, fitted names, offset, slope, σ_L and the 90 % location margin),
    ``[calibration.terminal_loss_db]`` and ``[calibration.p2108_terminal_loss_db]`` (class
    code -> dB), ``[calibration.standard_errors_db]`` and one ``[[statistics]]`` table per
    statistics row. A scenario names it as ``[radio] calibration = "<path>"``.

    Returns
    -------
    pathlib.Path
    """
    from blankspot.io.outputs import atomic_path

    lines = [
        "# blankspot calibration of the prediction against measurements",
        "# residual = measured - predicted RSRP (dB); apply with blankspot.calibration.apply_calibration",
        "",
        "[calibration]",
    ]
    head: dict[str, Any] = {
        "format_version": CALIBRATION_FORMAT_VERSION,
        "created": cal.created,
        "model": cal.model,
        "freq_mhz": cal.freq_mhz,
        "rx_height_agl_m": cal.rx_height_agl_m,
        "n_points": cal.n_points,
        "n_outliers": cal.n_outliers,
        "n_sites": cal.n_sites,
        "loss": cal.loss,
        "f_scale_db": cal.f_scale_db,
        "cv_folds": cal.cv_folds,
        "fitted": list(cal.fitted),
        "offset_db": cal.offset_db,
        "slope_db_per_decade": cal.slope_db_per_decade,
        "reference_distance_m": cal.reference_distance_m,
        "sigma_l_db": cal.sigma_l_db,
        "location_margin_90_db": cal.location_margin_db(90.0) if math.isfinite(cal.sigma_l_db)
        else math.nan,
    }  # fmt: skip
    lines += [f"{k} = {_toml_value(v)}" for k, v in head.items()]
    for table, values in (
        ("terminal_loss_db", cal.terminal_loss_db),
        ("p2108_terminal_loss_db", cal.p2108_terminal_loss_db),
        ("standard_errors_db", cal.standard_errors_db),
        ("class_names", cal.class_names),
    ):
        lines += ["", f"[calibration.{table}]"]
        lines += [
            f'"{k}" = {_toml_value(v)}'
            for k, v in sorted(values.items(), key=lambda kv: str(kv[0]))
        ]
    if not cal.statistics.empty:
        for rec in cal.statistics.to_dict("records"):
            lines += ["", "[[statistics]]"]
            lines += [f"{k} = {_toml_value(v)}" for k, v in rec.items()]
    text = "\n".join(lines) + "\n"
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


_REQUIRED_KEYS: dict[str, type | tuple[type, ...]] = {
    "format_version": int,
    "model": str,
    "offset_db": (int, float),
    "slope_db_per_decade": (int, float),
    "reference_distance_m": (int, float),
    "sigma_l_db": (int, float),
    "n_points": int,
}


def read_calibration(path: str | os.PathLike[str]) -> Calibration:
    """Read a calibration TOML file written by :func:`write_calibration`.

    Raises
    ------
    DataError
        The file is missing or unreadable.
    SchemaError
        Not TOML, or keys missing, of the wrong type or out of range; all listed at once.
    """
    p = Path(os.fspath(path))
    if not p.is_file():
        raise DataError(f"calibration file not found: {p}. Write one with write_calibration().")
    try:
        raw = p.read_bytes()
        doc = tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise SchemaError(f"calibration file {p} is not UTF-8 text: {exc}.") from exc
    except OSError as exc:
        raise DataError(f"could not read calibration file {p} ({exc}).") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SchemaError(f"calibration file {p} is not valid TOML: {exc}.") from exc
    problems: list[str] = []
    cal = doc.get("calibration")
    if not isinstance(cal, dict):
        raise SchemaError(format_problems(f"calibration file {p}", ["no [calibration] table."]))
    for key, typ in _REQUIRED_KEYS.items():
        if key not in cal:
            problems.append(f"[calibration] lacks {key!r}.")
        elif not isinstance(cal[key], typ) or isinstance(cal[key], bool):
            problems.append(f"[calibration] {key} must be a number; received {cal[key]!r}.")
    if (
        isinstance(cal.get("format_version"), int)
        and cal["format_version"] > CALIBRATION_FORMAT_VERSION
    ):
        problems.append(
            f"format_version {cal['format_version']} is newer than this blankspot reads "
            f"({CALIBRATION_FORMAT_VERSION}); update blankspot."
        )
    if isinstance(cal.get("model"), str) and cal["model"] != "itm":
        problems.append(f"model {cal['model']!r} is not one this blankspot calibrates ('itm').")
    sigma = cal.get("sigma_l_db")
    if isinstance(sigma, (int, float)) and not (sigma >= 0 or math.isnan(sigma)):
        problems.append(f"sigma_l_db must be >= 0 dB; received {sigma!r}.")
    ref = cal.get("reference_distance_m")
    if isinstance(ref, (int, float)) and not ref > 0:
        problems.append(f"reference_distance_m must be > 0 m; received {ref!r}.")

    def table(name: str, number: bool = True) -> dict[Any, Any]:
        raw = cal.get(name, {})
        if not isinstance(raw, dict):
            problems.append(f"[calibration.{name}] must be a table; received {raw!r}.")
            return {}
        out: dict[Any, Any] = {}
        for k, v in raw.items():
            key: Any = k
            if name != "standard_errors_db":
                try:
                    key = int(k)
                except ValueError:
                    problems.append(f"[calibration.{name}] key {k!r} is not a class code.")
                    continue
            if number and (not isinstance(v, (int, float)) or isinstance(v, bool)):
                problems.append(f"[calibration.{name}] {k} must be a number (dB); received {v!r}.")
                continue
            out[key] = float(v) if number else str(v)
        return out

    terminal = table("terminal_loss_db")
    p2108 = table("p2108_terminal_loss_db")
    missing = sorted(set(terminal) - set(p2108))
    if missing:
        problems.append(
            f"[calibration.p2108_terminal_loss_db] lacks class(es) {missing}, which "
            "apply_calibration needs to take the P.2108 loss out."
        )
    ses = table("standard_errors_db")
    names = table("class_names", number=False)
    stats = doc.get("statistics", [])
    if not isinstance(stats, list):
        problems.append("[[statistics]] must be an array of tables.")
        stats = []
    if problems:
        raise SchemaError(format_problems(f"calibration file {p}", problems))
    fitted = cal.get("fitted", [])
    return Calibration(
        offset_db=float(cal["offset_db"]),
        slope_db_per_decade=float(cal["slope_db_per_decade"]),
        reference_distance_m=float(cal["reference_distance_m"]),
        terminal_loss_db=terminal,
        p2108_terminal_loss_db=p2108,
        sigma_l_db=float(cal["sigma_l_db"]),
        standard_errors_db=ses,
        fitted=tuple(str(f) for f in fitted) if isinstance(fitted, list) else (),
        n_points=int(cal["n_points"]),
        n_outliers=int(cal.get("n_outliers", 0)),
        n_sites=int(cal.get("n_sites", 0)),
        model=str(cal["model"]),
        freq_mhz=float(cal.get("freq_mhz", math.nan)),
        rx_height_agl_m=float(cal.get("rx_height_agl_m", 1.5)),
        loss=str(cal.get("loss", "")),
        f_scale_db=float(cal.get("f_scale_db", math.nan)),
        created=str(cal.get("created", "")),
        cv_folds=int(cal.get("cv_folds", 0)),
        statistics=pd.DataFrame(stats),
        class_names=names,
        source=os.fspath(p),
        file_sha256=hashlib.sha256(raw).hexdigest(),
    )


# --- showing it ---------------------------------------------------------------------------
def plot_residuals(
    distance_m: Any,
    residual_before_db: Any,
    residual_after_db: Any,
    *,
    out_path: str | os.PathLike[str] | None = None,
    title: str | None = None,
    sigma_l_db: float | None = None,
) -> Figure:
    """Residual against distance, and the residual histograms, before and after calibration.

    Left: residual (measured − predicted, dB) against distance (log axis), before (grey) and
    after (blue), with the median in each distance decile. Right: histograms of both, with a
    normal curve of σ_L when given.

    Parameters
    ----------
    distance_m, residual_before_db, residual_after_db
        Per point (NaN ignored); "after" is best the cross-validated residual of
        :func:`cross_validate`.
    out_path
        Save as PNG there (temporary name, then rename), or None.
    title
        Figure title.
    sigma_l_db
        σ_L for the normal curve.

    Returns
    -------
    matplotlib.figure.Figure
        Not registered with pyplot (Agg-safe).
    """
    from matplotlib.figure import Figure

    d = np.asarray(distance_m, dtype=float)
    rb = np.asarray(residual_before_db, dtype=float)
    ra = np.asarray(residual_after_db, dtype=float)
    fig = Figure(figsize=(11.0, 4.5), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    for r, colour, label in ((rb, "0.6", "before"), (ra, "#1f6fb2", "after")):
        ok = np.isfinite(r) & np.isfinite(d) & (d > 0)
        if not ok.any():
            continue
        ax1.scatter(d[ok] / 1000.0, r[ok], s=4, alpha=0.35, color=colour, lw=0, label=label)
        q = np.unique(np.quantile(d[ok], np.linspace(0, 1, 11)))
        if q.size >= 2:
            idx = np.clip(np.searchsorted(q, d[ok], side="right") - 1, 0, q.size - 2)
            med = [np.median(r[ok][idx == i]) if np.any(idx == i) else np.nan
                   for i in range(q.size - 1)]  # fmt: skip
            mid = np.sqrt(q[:-1] * q[1:]) / 1000.0
            ax1.plot(mid, med, color="k" if label == "before" else "#0b3c6b", lw=1.8,
                     marker="o", ms=3, label=f"median ({label})")  # fmt: skip
    ax1.axhline(0.0, color="k", lw=0.8)
    for s in (-WITHIN_DB, WITHIN_DB):
        ax1.axhline(s, color="k", lw=0.6, ls=":")
    ax1.set_xscale("log")
    from matplotlib.ticker import FuncFormatter

    km = FuncFormatter(lambda v, _pos: f"{v:g}")
    ax1.xaxis.set_major_formatter(km)
    ax1.xaxis.set_minor_formatter(km)
    ax1.tick_params(axis="x", which="minor", labelsize=7)
    ax1.set_xlabel("distance from the serving site (km)")
    ax1.set_ylabel("residual: measured − predicted (dB)")
    ax1.grid(True, lw=0.4, alpha=0.5)
    ax1.legend(loc="best", fontsize=8)
    both = np.concatenate([rb[np.isfinite(rb)], ra[np.isfinite(ra)]])
    if both.size:
        lo, hi = np.percentile(both, [0.5, 99.5])
        bins = np.linspace(min(lo, -WITHIN_DB) - 1, max(hi, WITHIN_DB) + 1, 50)
        for r, colour, label in ((rb, "0.6", "before"), (ra, "#1f6fb2", "after")):
            rr = r[np.isfinite(r)]
            if rr.size:
                ax2.hist(rr, bins=bins, density=True, alpha=0.55, color=colour,
                         label=f"{label}: mean {np.mean(rr):+.1f}, RMSE "
                               f"{np.sqrt(np.mean(rr * rr)):.1f} dB")  # fmt: skip
        if sigma_l_db is not None and math.isfinite(sigma_l_db) and sigma_l_db > 0:
            xs = np.linspace(bins[0], bins[-1], 200)
            ax2.plot(xs, np.exp(-0.5 * (xs / sigma_l_db) ** 2) / (sigma_l_db * math.sqrt(2 * math.pi)),
                     color="#0b3c6b", lw=1.2, label=f"normal, σ_L = {sigma_l_db:.1f} dB")  # fmt: skip
    ax2.set_xlabel("residual (dB)")
    ax2.set_ylabel("density")
    ax2.legend(loc="best", fontsize=8)
    ax2.grid(True, lw=0.4, alpha=0.5)
    if title:
        fig.suptitle(title)
    if out_path is not None:
        from blankspot.io.outputs import atomic_path

        with atomic_path(out_path) as tmp, open(tmp, "xb") as fh:
            fig.savefig(fh, format="png", dpi=110)
    return fig


_COLOUR_STOPS = (
    (-20.0, (178, 24, 43)),
    (-10.0, (239, 138, 98)),
    (-3.0, (247, 247, 247)),
    (3.0, (247, 247, 247)),
    (10.0, (103, 169, 207)),
    (20.0, (33, 102, 172)),
)


def residual_colour(residual_db: float) -> str:
    """Hex colour of a residual: red where the signal is weaker than predicted (the model is
    optimistic), white within ±3 dB, blue where stronger; clipped at ±20 dB; grey for NaN."""
    if not math.isfinite(residual_db):
        return "#999999"
    v = min(max(residual_db, _COLOUR_STOPS[0][0]), _COLOUR_STOPS[-1][0])
    for (x0, c0), (x1, c1) in itertools.pairwise(_COLOUR_STOPS):
        if v <= x1:
            t = 0.0 if x1 == x0 else (v - x0) / (x1 - x0)
            rgb = [round(a + t * (b - a)) for a, b in zip(c0, c1, strict=True)]
            return "#{:02x}{:02x}{:02x}".format(*rgb)
    return "#{:02x}{:02x}{:02x}".format(*_COLOUR_STOPS[-1][1])


def measurements_layer(
    points: gpd.GeoDataFrame,
    *,
    residual_column: str = "residual_db",
    predicted_column: str = "predicted_rsrp_dbm",
    name: str = "Measurements: measured − predicted",
    max_points: int = 20_000,
    show: bool = True,
) -> folium.FeatureGroup:
    """A folium layer of the measurements, coloured by residual (:func:`residual_colour`).

    Each point is a small circle with a popup giving the measured and predicted RSRP, the
    residual, the serving site, the cell and the time; every text from the file is escaped
    with :func:`html.escape`. Beyond ``max_points`` an even subsample is drawn (the layer name
    says so).

    Parameters
    ----------
    points
        :func:`predict_at_points` output (any CRS; drawn in WGS 84), or measurements with a
        residual column.
    residual_column, predicted_column
        Columns to colour by and to show as the prediction (e.g. a calibrated one).
    name, show
        Layer name and initial visibility in the layer control.
    max_points
        Most points drawn.
    """
    import folium

    g = points.to_crs("EPSG:4326") if points.crs is not None else points
    n = len(g)
    take = np.arange(n)
    label = name
    if n > max_points:
        take = np.linspace(0, n - 1, max_points).round().astype(np.int64)
        label = f"{name} ({max_points} of {n})"
    group = folium.FeatureGroup(name=html.escape(label), show=show)
    lon = np.asarray(g.geometry.x, dtype=float)
    lat = np.asarray(g.geometry.y, dtype=float)
    meas = g["rsrp_dbm"].to_numpy(dtype=float) if "rsrp_dbm" in g else np.full(n, np.nan)
    pred = (
        g[predicted_column].to_numpy(dtype=float) if predicted_column in g else np.full(n, np.nan)
    )
    res = g[residual_column].to_numpy(dtype=float) if residual_column in g else meas - pred

    def text(col: str, i: int) -> str:
        if col not in g:
            return ""
        v = g[col].iloc[i]
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
            return ""
        return html.escape(str(v))

    for i in take:
        if not (math.isfinite(lon[i]) and math.isfinite(lat[i])):
            continue
        rows = [
            f"<b>measured</b> {meas[i]:.1f} dBm" if math.isfinite(meas[i]) else "",
            f"<b>predicted</b> {pred[i]:.1f} dBm" if math.isfinite(pred[i]) else "",
            f"<b>residual</b> {res[i]:+.1f} dB" if math.isfinite(res[i]) else "",
        ]
        for col, lab in (("site_id", "site"), ("site_link", "linked by"), ("cell_id", "cell"),
                         ("time", "time"), ("technology", "technology")):  # fmt: skip
            t = text(col, int(i))
            if t:
                rows.append(f"<b>{lab}</b> {t}")
        folium.CircleMarker(
            location=(float(lat[i]), float(lon[i])),
            radius=4,
            weight=0.5,
            color="#333333",
            fill=True,
            fill_color=residual_colour(float(res[i])),
            fill_opacity=0.9,
            popup=folium.Popup("<br>".join(r for r in rows if r), max_width=260),
        ).add_to(group)
    return group
