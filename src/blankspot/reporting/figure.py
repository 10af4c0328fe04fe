"""The static A4 map of a plan for printed reports (matplotlib, no tiles): share covered,
RSRP, numbered towers, north arrow, scale bar, legend, and a caption naming the terrain."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from blankspot.reporting.maps import RSRP_CLASSES_DBM, SHARE_COLOURS, rsrp_to_rgba, share_colour
from blankspot.reporting.provenance import (
    area_of,
    crs_label,
    map_title,
    now_iso,
    short_sources,
    terrain_text,
    version,
)
from blankspot.reporting.summary import demand_text
from blankspot.reporting.tables import RSRP_CLASS_PHRASES, check_lang, phrase

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.collections import PatchCollection
    from matplotlib.figure import Figure
    from matplotlib.path import Path as MplPath

    from blankspot.plan import PlanResult

__all__ = ["plan_figure"]


def _paths_of(geoms: Iterable[Any]) -> tuple[list[MplPath], list[int]]:
    """matplotlib Paths of (Multi)Polygons, holes included; empty geometries are skipped."""
    from matplotlib.path import Path as MplPath

    out: list[MplPath] = []
    keep: list[int] = []
    for i, geom in enumerate(geoms):
        if geom is None or geom.is_empty:
            continue
        verts: list[np.ndarray] = []
        codes: list[np.ndarray] = []
        for poly in getattr(geom, "geoms", [geom]):
            for ring in (poly.exterior, *poly.interiors):
                xy = np.asarray(ring.coords)[:, :2]
                if len(xy) < 3:
                    continue
                c = np.full(len(xy), MplPath.LINETO, dtype=np.uint8)
                c[0], c[-1] = MplPath.MOVETO, MplPath.CLOSEPOLY
                verts.append(xy)
                codes.append(c)
        if verts:
            out.append(MplPath(np.concatenate(verts), np.concatenate(codes)))
            keep.append(i)
    return out, keep


def _polygons(ax: Axes, geoms: Iterable[Any], *, facecolors: str | list[str] = "none",
              edgecolor: str = "#555555", linewidth: float = 0.4, zorder: int = 1,
              alpha: float | None = None) -> PatchCollection:
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import PathPatch

    paths, keep = _paths_of(geoms)
    if isinstance(facecolors, list | np.ndarray):
        facecolors = [facecolors[i] for i in keep]
    coll = PatchCollection([PathPatch(p) for p in paths], facecolors=facecolors,
                           edgecolors=edgecolor, linewidths=linewidth, zorder=zorder, alpha=alpha)
    ax.add_collection(coll)
    return coll


def _nice_length_m(span_m: float) -> float:
    """A round scale-bar length near a fifth of ``span_m``: 1, 2 or 5 × 10^k metres."""
    target = max(span_m / 5.0, 1.0)
    power = 10 ** np.floor(np.log10(target))
    for step in (5, 2, 1):
        if step * power <= target:
            return float(step * power)
    return float(power)


def _scale_bar(ax: Axes, bounds: tuple[float, float, float, float], *, lang: str) -> None:
    xmin, ymin, xmax, ymax = bounds
    length = _nice_length_m(xmax - xmin)
    x0, y0 = xmin + 0.04 * (xmax - xmin), ymin + 0.035 * (ymax - ymin)
    h = 0.008 * (ymax - ymin)
    from matplotlib.patches import Rectangle

    for k, colour in enumerate(("black", "white", "black", "white")):
        ax.add_patch(Rectangle((x0 + k * length / 4, y0), length / 4, h, facecolor=colour,
                               edgecolor="black", linewidth=0.6, zorder=9))
    unit, scale = ("km", 1000.0) if length >= 1000 else ("m", 1.0)
    for k in (0, 2, 4):
        value = k * length / 4 / scale
        ax.text(x0 + k * length / 4, y0 + 1.6 * h, f"{value:g}" + (f" {unit}" if k == 4 else ""),
                ha="center", va="bottom", fontsize=7, zorder=9)


def _north_arrow(ax: Axes, *, lang: str) -> None:
    ax.annotate("", xy=(0.95, 0.965), xytext=(0.95, 0.885), xycoords="axes fraction",
                arrowprops={"facecolor": "black", "edgecolor": "black", "width": 3,
                            "headwidth": 11, "headlength": 11}, zorder=9)
    ax.text(0.95, 0.86, phrase("north", lang), transform=ax.transAxes, ha="center", va="top",
            fontsize=11, fontweight="bold", zorder=9)


def plan_figure(result: PlanResult, *, lang: str = "en", created: str | None = None) -> Figure:
    """A static map of the plan for printed reports (A4 portrait), as a matplotlib Figure.

    Desa are coloured by the share of people covered (the classes of the interactive map), the
    chosen towers' RSRP is drawn in the planner classes, target desa are outlined, kecamatan
    boundaries named, candidates dotted and the chosen towers numbered by rank; with a north
    arrow (grid north of the analysis CRS), a scale bar, a legend, a title and a caption naming
    the terrain (SYNTHETIC for the demo DEM), the model and the sources. No basemap tiles.
    """
    import textwrap

    from matplotlib import patheffects
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch


    check_lang(lang)
    cov, cfg = result.coverage, result.config
    villages = result.villages
    fig = Figure(figsize=(8.27, 11.69))
    ax = fig.add_axes((0.04, 0.25, 0.92, 0.66))
    xmin, ymin, xmax, ymax = villages.total_bounds
    pad = 0.03 * max(xmax - xmin, ymax - ymin)
    bounds = (xmin - pad, ymin - pad, xmax + pad, ymax + pad)

    share = villages["share_covered"] if "share_covered" in villages else pd.Series(np.nan, villages.index)
    _polygons(ax, villages.geometry, facecolors=[share_colour(s) for s in share.to_numpy(float)],
              edgecolor="none", linewidth=0, zorder=1)

    if len(cov.footprints):
        rsrp = cov.best_rsrp_dbm()
        step = max(1, int(np.ceil(max(rsrp.shape) / 2000)))
        rgba = rsrp_to_rgba(rsrp[::step, ::step], alpha=170)
        t = cov.transform
        h, w = rsrp.shape
        ax.imshow(rgba, extent=(t.c, t.c + t.a * w, t.f + t.e * h, t.f), origin="upper",
                  interpolation="nearest", zorder=2)

    _polygons(ax, villages.geometry, edgecolor="#777777", linewidth=0.3, zorder=3)
    by = "kecamatan_id" if "kecamatan_id" in villages.columns else "kecamatan"
    if by in villages.columns:
        kec = villages[[by, "kecamatan", "geometry"] if by != "kecamatan" else [by, "geometry"]]
        kec = kec.dissolve(by=by, aggfunc="first").reset_index()
        _polygons(ax, kec.geometry, edgecolor="#222222", linewidth=1.0, zorder=4)
        halo = [patheffects.withStroke(linewidth=2.2, foreground="white")]
        for _, row in kec.iterrows():
            p = row.geometry.representative_point()
            ax.text(p.x, p.y, str(row["kecamatan"]).upper(), fontsize=6, color="#222222",
                    ha="center", va="center", zorder=6, path_effects=halo, style="italic")
    if "target" in villages.columns and villages["target"].any():
        _polygons(ax, villages.geometry[villages["target"].astype(bool)], edgecolor="#b2182b",
                  linewidth=1.6, zorder=5)

    sites = result.sites
    ax.scatter(sites.geometry.x, sites.geometry.y, s=6, c="#555555", zorder=6, linewidths=0)
    ranking = result.ranking
    if len(ranking):
        pts = sites.geometry.loc[[str(s) for s in ranking["site_id"]]]
        ax.scatter(pts.x, pts.y, s=190, c="#b2182b", edgecolors="white", linewidths=1.5, zorder=7)
        for rank, x, y in zip(ranking["rank"], pts.x, pts.y, strict=True):
            ax.text(x, y, str(int(rank)), ha="center", va="center", color="white", fontsize=7,
                    fontweight="bold", zorder=8)

    ax.set_xlim(bounds[0], bounds[2])
    ax.set_ylim(bounds[1], bounds[3])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    _scale_bar(ax, bounds, lang=lang)
    _north_arrow(ax, lang=lang)

    fig.text(0.5, 0.985, textwrap.fill(map_title(result, lang), width=78), ha="center", va="top",
             fontsize=11.5, fontweight="bold")
    code, area = area_of(result)
    fig.text(0.5, 0.935, f"{area}" + (f" ({code})" if code and code not in area else ""),
             ha="center", va="top", fontsize=9)

    share_handles = [
        Patch(facecolor=c, edgecolor="#777777", linewidth=0.4,
              label=f"{20 * i}–{20 * (i + 1)} %")
        for i, c in enumerate(SHARE_COLOURS)
    ]
    rsrp_handles = []
    for lo, hi, label, colour in RSRP_CLASSES_DBM:
        key = RSRP_CLASS_PHRASES.get(lo)
        words = phrase(key, lang) if key else label
        span = f"≥ {lo:g}" if not np.isfinite(hi) else f"{lo:g} … {hi:g}"
        span = span.replace("-", "−")
        rsrp_handles.append(Patch(facecolor=colour, label=f"{span} dBm {words}"))
    symbol_handles = [
        Line2D([], [], marker="o", linestyle="", markersize=10, markerfacecolor="#b2182b",
               markeredgecolor="white", label=phrase("tower", lang)),
        Line2D([], [], marker="o", linestyle="", markersize=3, markerfacecolor="#555555",
               markeredgecolor="none", label=phrase("candidate", lang)),
        Patch(facecolor="none", edgecolor="#b2182b", linewidth=1.6,
              label=phrase("target_desa", lang)),
        Line2D([], [], color="#222222", linewidth=1.0, label=phrase("kecamatan_boundary", lang)),
    ]
    lax = fig.add_axes((0.04, 0.115, 0.92, 0.125))
    lax.set_axis_off()
    for x, title, handles in (
        (0.0, phrase("share_legend", lang), share_handles),
        (0.30, phrase("rsrp_legend", lang), rsrp_handles),
        (0.66, phrase("towers_legend", lang), symbol_handles),
    ):
        leg = lax.legend(handles=handles, title=title, loc="upper left", bbox_to_anchor=(x, 1.0),
                         fontsize=7, title_fontsize=7.5, frameon=False, alignment="left")
        lax.add_artist(leg)

    caption = [
        terrain_text(result, lang),
        phrase("model_line", lang, model=result.model_label(), threshold=cfg.link.threshold_dbm,
               height=cfg.height_agl_m, crs=crs_label(result)).replace("≥ -", "≥ −"),
        phrase("demand_line", lang, demand=demand_text(result, lang)),
        phrase("sources_line", lang, sources="; ".join(short_sources(result, lang))),
        phrase("made_line", lang, version=version(), date=(created or now_iso())[:10]),
    ]
    y = 0.11
    for k, line in enumerate(caption):
        wrapped = textwrap.fill(line, width=125 if k == 0 and result.terrain_synthetic else 140)
        fig.text(0.04, y, wrapped, ha="left", va="top", fontsize=6.8,
                 color="#b2182b" if k == 0 and result.terrain_synthetic else "#222222",
                 fontweight="bold" if k == 0 and result.terrain_synthetic else "normal")
        y -= 0.012 * (wrapped.count("\n") + 1) + 0.006
    return fig


# --- metadata ------------------------------------------------------------------------------------
