"""Views of a plan: the words and figures every output shares.

The terrain note (which names SYNTHETIC terrain wherever a result is shown), the demand note
(which names the demand model and its source the same way), the headline figures
of ``summary.json``, the map title, the folium map of a plan and the HTML table notebooks show.
They take a :class:`blankspot.plan.PlanResult` and never import the chain.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from blankspot.clutter import ClutterModel
from blankspot.reporting.maps import plan_map, why_not_popups
from blankspot.reporting.tables import PHRASES, check_lang, phrase
from blankspot.settings import MODEL_NAMES
from blankspot.units import format_idr

if TYPE_CHECKING:
    import folium
    import geopandas as gpd

    from blankspot.plan import PlanResult

__all__ = [
    "best_rsrp_dbm",
    "demand_note",
    "demand_text",
    "explanation_summary",
    "model_text",
    "plan_folium_map",
    "plan_summary",
    "plan_title",
    "served_targets",
    "summary_html",
    "terrain_note",
]


def terrain_note(result: PlanResult, lang: str = "en") -> str:
    """How the terrain must be described wherever the result is shown (in ``lang``; synthetic
    terrain is named SYNTHETIC in both languages)."""
    check_lang(lang)
    if result.terrain_synthetic:
        return phrase("synthetic_terrain", lang)
    return phrase("map_terrain", lang, source=result.terrain_source)


def demand_text(result: PlanResult, lang: str = "en") -> str:
    """The demand model and its source (:attr:`PlanResult.demand_model`) in ``lang``: its words
    from the ``demand_term_*`` entries of :data:`~blankspot.reporting.tables.PHRASES`.

    >>> from types import SimpleNamespace
    >>> r = SimpleNamespace(demand_model="settlements: 1 per desa (GeoNames place 7, "
    ...                     "representative point 137)")
    >>> demand_text(r, "id")
    'permukiman: 1 per desa (tempat GeoNames 7, titik representatif poligon 137)'
    """
    check_lang(lang)
    text = str(result.demand_model)
    if lang == "en":
        return text
    terms = {en: id_ for key, (en, id_) in PHRASES.items() if key.startswith("demand_term_")}
    pattern = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    return re.sub(pattern, lambda m: terms[m.group(0)], text)


def demand_note(result: PlanResult, lang: str = "en") -> str:
    """Where the people were placed, as the map shows it under its title."""
    return phrase("map_demand", lang, demand=demand_text(result, lang))


def plan_summary(result: PlanResult) -> dict[str, Any]:
    """The headline figures of a plan and how far it is from optimal, for ``summary.json``."""
    sol, cert, cfg = result.solution, result.certificate, result.config
    served = served_targets(result)
    summary: dict[str, Any] = {
        "towers": list(sol.site_ids),
        "total_cost_idr": int(sol.total_cost_idr),
        "budget_idr": int(cfg.budget_idr),
        "people_covered": round(float(sol.covered_weight), 1),
        "people_in_target_desa_not_yet_served": round(float(result.problem.total_weight), 1),
        "people_in_target_desa_served_by_existing_towers": round(result.people_served_existing, 1),
        "target_desa": list(result.target_ids),
        "objective": cfg.objective,
        "coverage": cfg.coverage,
        "served_share": cfg.served_share,
        "n_target_desa_served": len(served),
        "target_desa_served": served,
        "solver": sol.solver,
        "status": sol.status,
        # the solver's bound is on its objective: people alone, or desa weighted above people
        "bound_objective": None if sol.bound is None else round(float(sol.bound), 1),
        "bound_people": (None if sol.bound is None or cfg.objective != "people"
                         else round(float(sol.bound), 1)),
        "model": result.coverage.model,
        "threshold_dbm": cfg.link.threshold_dbm,
        "sigma_l_db": cfg.sigma_l_db if cfg.coverage == "probability" else None,
        "terrain": terrain_note(result),
        "propagation": result.model_label(),
        "demand_model": result.demand_model,
        "timings_s": {k: round(v, 2) for k, v in result.timings_s.items()},
    }
    if cert is not None:
        exact = float(cert.covered_weight)
        summary["certificate"] = {
            "solver": cert.solver,
            "status": cert.status,
            "optimum_people": round(exact, 1),
            "optimum_desa_served": int(cert.desa_resolved or 0),
            "objective_value": round(float(cert.value), 3),
            "gap": None if cert.gap is None else round(float(cert.gap), 6),
            "plan_share_of_optimum": round(float(sol.covered_weight) / exact, 4) if exact > 0 else 1.0,
            "optimal_towers": list(cert.site_ids),
        }
    return summary


def _plain(value: Any) -> Any:
    """A table cell as JSON: NA and NaN as null, numpy scalars as Python ones."""
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
        return None
    return value.item() if isinstance(value, np.generic) else value


def explanation_summary(result: PlanResult) -> dict[str, Any]:
    """``hindcast`` (one entry per plan of ``hindcast.csv``) and ``target_desa_status`` (per
    target desa: served or not and, when not, why: the rows of ``why_not.csv``), for
    ``summary.json``; empty for a plan without them."""
    out: dict[str, Any] = {}
    if result.hindcast is not None:
        out["hindcast"] = [{k: _plain(v) for k, v in row.items()}
                           for row in result.hindcast.to_dict(orient="records")]
    if result.why_not is not None:
        out["target_desa_status"] = {
            str(row["kode"]): {k: _plain(v) for k, v in row.items() if k != "kode"}
            for row in result.why_not.to_dict(orient="records")
        }
    return out


def served_targets(result: PlanResult) -> list[str]:
    """The target desa the plan serves (``served`` in the desa table), by kode."""
    desa = result.desa
    if "served" not in desa:
        return []
    targets = set(map(str, result.target_ids))
    return [str(k) for k, ok in zip(desa["kode"], desa["served"] == "yes", strict=True)
            if ok and str(k) in targets]


def best_rsrp_dbm(result: PlanResult) -> np.ndarray:
    """Best-server RSRP (dBm) of the chosen towers on the analysis grid; NaN without signal."""
    cov = result.coverage
    if len(cov.footprints):
        return cov.best_rsrp_dbm()
    return np.full(cov.shape, np.nan, np.float32)


def model_text(result: PlanResult, lang: str = "en") -> str:
    """The propagation model as it ran, in words: :meth:`PlanResult.model_label` in English,
    the same parts from :data:`~blankspot.reporting.tables.PHRASES` in Bahasa Indonesia."""
    check_lang(lang)
    if lang == "en":
        return result.model_label()
    settings = result.settings or result.config.coverage_settings()
    model = settings.model
    text = phrase("map_model_los", lang) if model == "los" else MODEL_NAMES.get(model, model)
    clutter = settings.clutter
    if clutter is not None:
        where = phrase("map_clutter_handset" if model == "itm" else "map_clutter_path", lang)
        if isinstance(clutter, ClutterModel) and clutter.landcover is not None:
            text += " " + phrase("map_clutter_landcover", lang, name=clutter.name, where=where)
        else:
            name = clutter.name if isinstance(clutter, ClutterModel) else "grid"
            text += " " + phrase("map_clutter", lang, name=name, where=where)
    if settings.calibration is not None:
        text += ", " + phrase("map_calibrated", lang)
    if settings.evaluate_at == "points":
        text += ", " + phrase("map_at_points", lang)
    if result.config.terrain_res_m is not None:
        text += ", " + phrase("map_terrain_res", lang, res=result.config.terrain_res_m)
    return text


def plan_title(result: PlanResult, lang: str = "en") -> str:
    """The one-line title of a plan's map, in ``lang``."""
    cfg = result.config
    people = f"{result.people_covered:,.0f}"
    return phrase(
        "map_plan_title", lang, n=len(result.ranking), cost=format_idr(result.total_cost_idr),
        budget=format_idr(cfg.budget_idr),
        people=people.replace(",", ".") if lang == "id" else people,
        n_target=len(result.target_ids), n_served=len(served_targets(result)),
        model=model_text(result, lang), threshold=cfg.link.threshold_dbm,
    )


def plan_folium_map(result: PlanResult, *, rsrp_dbm: np.ndarray | None = None,
                    measurements: gpd.GeoDataFrame | None = None,
                    lang: str = "en") -> folium.Map:
    """The folium map of a plan, as written to ``map.html`` (``rsrp_dbm``: precomputed raster;
    ``measurements``: points with a residual, drawn coloured by it; ``lang``: ``"en"`` or
    ``"id"``, the language of every word on it; see :func:`blankspot.reporting.maps.plan_map`)."""
    cov = result.coverage
    title = plan_title(result, lang)
    return plan_map(
        result.villages,
        ranking=result.ranking,
        candidates=result.sites,
        rsrp_dbm=best_rsrp_dbm(result) if rsrp_dbm is None else rsrp_dbm,
        rsrp_transform=cov.transform,
        rsrp_crs=cov.crs,
        title=title,
        terrain_note=terrain_note(result, lang),
        demand_note=demand_note(result, lang),
        best_server=cov.best_server(covered_only=True) if len(cov.footprints) else None,
        best_server_ids=cov.site_ids,
        measurements=measurements,
        lang=lang,
        desa_popups=why_not_popups(result.why_not, lang),
    )


def summary_html(result: PlanResult, *, heading: str = "blankspot plan",
                 rows: Sequence[tuple[str, Any]] = ()) -> str:
    """A compact HTML table of a plan's headline figures (notebooks show it for a result).

    ``rows`` are extra (label, value) pairs put first. Every string is HTML-escaped.
    """
    cfg, sol, cert = result.config, result.solution, result.certificate
    share = result.total_cost_idr / cfg.budget_idr if cfg.budget_idr else 0.0
    table = [
        *rows,
        ("towers", f"{len(result.ranking)} of {len(result.sites)} candidates"),
        ("cost", f"{format_idr(result.total_cost_idr)} of {format_idr(cfg.budget_idr)} "
                 f"({share:.0%} of the budget)"),
        ("people newly covered", f"{result.people_covered:,.0f} of "
                                 f"{float(result.problem.total_weight):,.0f} in "
                                 f"{len(result.target_ids)} target desa"),
        ("model", f"{result.model_label()}, RSRP ≥ {cfg.link.threshold_dbm:g} dBm, "
                  f"{cfg.height_agl_m:g} m towers"),
        ("solver", f"{sol.solver} ({sol.status})"),
    ]
    if cert is not None and cert.covered_weight > 0:
        table.append(("exact optimum", f"{float(cert.covered_weight):,.0f} people; this plan reaches "
                                       f"{result.people_covered / float(cert.covered_weight):.1%}"))
    table.append(("terrain", terrain_note(result)))
    table.append(("demand", result.demand_model))
    cells = []
    for label, value in table:
        style = ' style="color:#b2182b;font-weight:bold"' if "SYNTHETIC" in str(value) else ""
        cells.append(f"<tr><th style=\"text-align:left\">{html.escape(str(label))}</th>"
                     f"<td style=\"text-align:left\"{style}>{html.escape(str(value))}</td></tr>")
    return (f"<table><caption style=\"text-align:left\"><b>{html.escape(heading)}</b></caption>"
            f"{''.join(cells)}</table>")
