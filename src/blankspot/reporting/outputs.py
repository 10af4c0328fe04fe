"""Write a plan's outputs: the map, the tables, the coverage raster, the summary and the
reports of :mod:`blankspot.reporting.export`, each under a temporary name and renamed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from blankspot.io.outputs import write_csv, write_raster, write_text
from blankspot.reporting.export import write_reports
from blankspot.reporting.summary import (
    best_rsrp_dbm,
    plan_folium_map,
    plan_summary,
    terrain_note,
)

if TYPE_CHECKING:
    import os

    from blankspot.plan import PlanResult

__all__ = ["write_outputs"]


def write_outputs(result: PlanResult, out_dir: str | os.PathLike[str], *, lang: str = "en"
                  ) -> dict[str, Path]:
    """Write the map, the tables, the coverage raster and a summary into ``out_dir``.

    ``map.html``, ``ranking.csv`` (with each tower's cost breakdown), ``desa.csv``,
    ``kecamatan.csv``, ``costs.csv`` (every candidate), ``curve.csv`` (cost–coverage curve),
    ``stability.csv`` (ranking under costs ×0.6/×1.4 and threshold ±5 dB), ``summary.json``
    (headline figures and the exact solver's certificate) and ``coverage.tif``.

    Each file is written under a temporary name and renamed, so an interrupted run never leaves
    a half-written file. Returns {name: path}.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
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
    write_csv(result.ranking, paths["ranking.csv"], index=False)
    paths["desa.csv"] = out / "desa.csv"
    write_csv(result.desa, paths["desa.csv"], index=False)
    paths["kecamatan.csv"] = out / "kecamatan.csv"
    write_csv(result.kecamatan, paths["kecamatan.csv"], index=False)
    paths["costs.csv"] = out / "costs.csv"
    write_csv(result.site_costs, paths["costs.csv"], index_label="site_id")
    if result.curve is not None:
        paths["curve.csv"] = out / "curve.csv"
        write_csv(result.curve, paths["curve.csv"], index=False)
    if result.stability is not None:
        paths["stability.csv"] = out / "stability.csv"
        write_csv(result.stability, paths["stability.csv"], index_label="site_id")
    paths["summary.json"] = out / "summary.json"
    write_text(json.dumps(plan_summary(result), indent=2, ensure_ascii=False, default=str),
               paths["summary.json"])

    fmap = plan_folium_map(result, rsrp_dbm=rsrp)
    paths["map.html"] = out / "map.html"
    write_text(fmap.get_root().render(), paths["map.html"])

    # report.xlsx, plan.gpkg, the COGs, map.png, metadata (see blankspot.reporting.export);
    # lang="id" rewrites the four tables above with Indonesian headers
    paths.update(write_reports(result, out, lang=lang, other_outputs=paths))
    return paths
