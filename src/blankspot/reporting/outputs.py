"""Write a plan's outputs: the map, the tables, the coverage raster, the summary and the
reports of :mod:`blankspot.reporting.export`, as one set.

Every file is written into a hidden staging folder beside the output folder and checked; the
staging folder then replaces the output folder whole (:func:`blankspot.io.outputs.output_set`).
A run that fails or is interrupted leaves the previous set exactly as it was.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from blankspot.io.outputs import output_set, write_bytes, write_csv, write_raster, write_text
from blankspot.reporting.export import (
    GPKG_FILE,
    METADATA_JSON_FILE,
    METADATA_MD_FILE,
    PNG_FILE,
    RSRP_COG_FILE,
    SERVER_COG_FILE,
    XLSX_FILE,
    write_reports,
)
from blankspot.reporting.summary import (
    best_rsrp_dbm,
    explanation_summary,
    plan_folium_map,
    plan_summary,
    terrain_note,
)
from blankspot.reporting.tables import translate_columns

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping

    from blankspot.plan import PlanResult

__all__ = ["OUTPUT_FILES", "write_outputs"]

OUTPUT_FILES: tuple[str, ...] = (
    "coverage.tif", "ranking.csv", "desa.csv", "kecamatan.csv", "costs.csv", "curve.csv",
    "stability.csv", "summary.json", "map.html", XLSX_FILE, GPKG_FILE, RSRP_COG_FILE,
    SERVER_COG_FILE, PNG_FILE, METADATA_MD_FILE, METADATA_JSON_FILE, "scenario.toml",
    "provenance.json", "hindcast.csv", "why_not.csv", "profiles",
)
"""Every file an output set may hold. When a new set replaces an old one, these names of the
old set go (a run without stability runs leaves no ``stability.csv``); other files are kept."""


def write_outputs(result: PlanResult, out_dir: str | os.PathLike[str], *, lang: str = "en",
                  extra_text: Mapping[str, str] | None = None) -> dict[str, Path]:
    """Write the map, the tables, the coverage raster and a summary into ``out_dir``.

    ``map.html``, ``ranking.csv`` (with each tower's cost breakdown), ``desa.csv``,
    ``kecamatan.csv``, ``costs.csv`` (every candidate), ``curve.csv`` (cost–coverage curve),
    ``stability.csv`` (ranking under costs ×0.6/×1.4 and threshold ±5 dB), ``hindcast.csv``
    (the 2022 towers as built against this plan at the same budget), ``why_not.csv`` (per
    target desa: served or not, and why) with ``profiles/<kode>.png`` (the path profile from
    each unserved desa's best candidate to its settlement, linked from the map), ``summary.json``
    (headline figures, the exact solver's certificate, the hindcast and the why-not per target
    desa) and ``coverage.tif``. With
    ``lang="id"`` the map and the reports of :func:`blankspot.reporting.export.write_reports`
    are in Bahasa Indonesia.

    ``extra_text`` ({file name: text}, e.g. ``scenario.toml``) joins the same set, before the
    metadata, whose checksums list it.

    The files are written into a staging folder and swapped in as one set: an error or an
    interruption leaves the previous set in ``out_dir`` untouched, and files of an earlier set
    that this run does not write are gone. Returns {name: path}.
    """
    final = Path(out_dir)
    with output_set(final, known=OUTPUT_FILES) as stage:
        paths = _write_all(result, stage, lang=lang, extra_text=extra_text or {})
    return {name: final / p.name for name, p in paths.items()}


def _write_all(result: PlanResult, out: Path, *, lang: str, extra_text: Mapping[str, str]
               ) -> dict[str, Path]:
    paths: dict[str, Path] = {}
    cfg = result.config
    cov = result.coverage
    rsrp = best_rsrp_dbm(result)
    note = terrain_note(result)
    paths["coverage.tif"] = out / "coverage.tif"
    write_raster(
        paths["coverage.tif"],
        rsrp.astype(np.float32),
        transform=cov.transform,
        crs=cov.crs,
        nodata=np.nan,
        description="best-server RSRP of the chosen towers, dBm (NaN: no signal)",
        tags={
            "units": "dBm",
            "model": cov.model,
            "threshold_dbm": str(cfg.link.threshold_dbm),
            "terrain": note,
            "towers": ",".join(map(str, result.solution.site_ids)),
        },
    )
    paths["ranking.csv"] = out / "ranking.csv"
    write_csv(result.ranking, paths["ranking.csv"], index=False, formula_safe=True)
    paths["desa.csv"] = out / "desa.csv"
    write_csv(result.desa, paths["desa.csv"], index=False, formula_safe=True)
    paths["kecamatan.csv"] = out / "kecamatan.csv"
    write_csv(result.kecamatan, paths["kecamatan.csv"], index=False, formula_safe=True)
    paths["costs.csv"] = out / "costs.csv"
    write_csv(result.site_costs, paths["costs.csv"], index_label="site_id", formula_safe=True)
    if result.curve is not None:
        paths["curve.csv"] = out / "curve.csv"
        write_csv(result.curve, paths["curve.csv"], index=False, formula_safe=True)
    if result.stability is not None:
        paths["stability.csv"] = out / "stability.csv"
        write_csv(result.stability, paths["stability.csv"], index_label="site_id", formula_safe=True)
    if result.hindcast is not None:
        paths["hindcast.csv"] = write_csv(translate_columns(result.hindcast, lang),
                                          out / "hindcast.csv", index=False, formula_safe=True)
    if result.why_not is not None:
        paths["why_not.csv"] = write_csv(translate_columns(result.why_not, lang),
                                         out / "why_not.csv", index=False, formula_safe=True)
    for kode, png in sorted((result.profiles_png or {}).items()):
        name = f"profiles/{kode}.png"
        paths[name] = write_bytes(png, out / name)
    paths["summary.json"] = out / "summary.json"
    summary = {**plan_summary(result), **explanation_summary(result)}
    write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=str),
               paths["summary.json"])

    fmap = plan_folium_map(result, rsrp_dbm=rsrp, lang=lang)
    paths["map.html"] = out / "map.html"
    write_text(fmap.get_root().render(), paths["map.html"])

    for name, text in extra_text.items():
        paths[name] = write_text(text, out / name)

    # report.xlsx, plan.gpkg, the COGs, map.png, metadata (see blankspot.reporting.export);
    # lang="id" rewrites the four tables above with Indonesian headers
    paths.update(write_reports(result, out, lang=lang, other_outputs=paths))
    return paths
