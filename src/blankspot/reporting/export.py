"""Reports of a plan for planners and archives: tables, workbook, GeoPackage, COGs, map, metadata.

One entry, :func:`write_reports`, writes into a folder:

=================================  =================================================================
``ranking.csv`` ``desa.csv``       the planner tables, headers in English (column names) or
``kecamatan.csv`` ``costs.csv``    Bahasa Indonesia (``lang="id"``)
``report.xlsx``                    one workbook: Summary/Ringkasan, Desa, Kecamatan,
                                   Ranking/Peringkat, Costs/Biaya; kode wilayah as text, Rupiah as
                                   whole numbers with thousands separators, header row frozen
``plan.gpkg``                      layers ``desa``, ``kecamatan``, ``towers``, ``candidates``,
                                   ``demand_cells`` in the analysis CRS (EPSG:32750 for Paser)
``coverage_rsrp_dbm.cog.tif``      best-server RSRP (dBm), Cloud-Optimised GeoTIFF with overviews
``coverage_best_server.cog.tif``   rank of the serving tower per cell (0: none), COG
``map.png``                        static map for printed reports (A4 portrait, 150 dpi)
``metadata.json`` ``metadata.md``  sources, method, parameters, dates and output checksums, with
                                   the elements of Satu Data Indonesia metadata (Perpres 39/2019)
=================================  =================================================================

Every file goes through :func:`blankspot.io.outputs.atomic_path`: written under a temporary name
and renamed, so an error leaves no half-written file. The words of the reports in both languages
are in :mod:`blankspot.reporting.tables`; this module arranges the content and :mod:`blankspot.io.outputs`
writes it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from blankspot.errors import SchemaError
from blankspot.io.datasets import (
    sha256_file,
)
from blankspot.io.outputs import (
    ColumnFormat,
    write_cog,
    write_csv,
    write_figure,
    write_geopackage,
    write_text,
    write_xlsx,
)
from blankspot.reporting.figure import plan_figure
from blankspot.reporting.provenance import (
    PASER_PERIOD,
    area_of,
    crs_label,
    input_sources,
    is_paser,
    map_title,
    now_iso,
    software,
    terrain_text,
    version,
)
from blankspot.reporting.summary import (
    demand_text,
    plan_summary,
    terrain_note,
)
from blankspot.reporting.tables import (
    OUTPUT_DESCRIPTIONS,
    TEXT_COLUMNS,
    UNIT_LABELS,
    check_lang,
    column_label,
    column_name,
    phrase,
    sheet_name,
    translate_columns,
)
from blankspot.units import format_idr

if TYPE_CHECKING:
    import geopandas as gpd

    from blankspot.config import PlanConfig
    from blankspot.plan import PlanResult

REPORT_FORMATS = ("csv", "xlsx", "gpkg", "cog", "png", "metadata")
"""Everything :func:`write_reports` can write; ``metadata`` is always written last."""

CSV_FILES = {"ranking": "ranking.csv", "desa": "desa.csv", "kecamatan": "kecamatan.csv",
             "costs": "costs.csv"}
XLSX_FILE = "report.xlsx"
GPKG_FILE = "plan.gpkg"
RSRP_COG_FILE = "coverage_rsrp_dbm.cog.tif"
SERVER_COG_FILE = "coverage_best_server.cog.tif"
PNG_FILE = "map.png"
METADATA_JSON_FILE = "metadata.json"
METADATA_MD_FILE = "metadata.md"

GPKG_LAYERS = ("desa", "kecamatan", "towers", "candidates", "demand_cells")
"""Layers of ``plan.gpkg``, in order (``demand_cells`` only when the plan has demand cells)."""

_KEYS_EN = {
    "standar_metadata": "metadata_standard",
    "judul": "title",
    "deskripsi": "description",
    "produsen_data": "data_producer",
    "kode_referensi_wilayah": "area_reference_codes",
    "periode": "period",
    "satuan": "units",
    "sumber": "sources",
    "metode": "method",
    "parameter": "parameters",
    "lisensi": "licence",
    "kontak": "contact",
    "tanggal": "dates",
    "sistem_koordinat": "coordinate_reference_system",
    "catatan_medan": "terrain_note",
    "model_permintaan": "demand_model",
    "perangkat_lunak": "software",
    "bahasa": "language",
    "ringkasan": "summary",
    "keluaran": "outputs",
}


# --- public entry --------------------------------------------------------------------------------


def write_reports(
    result: PlanResult,
    out_dir: str | os.PathLike[str],
    *,
    lang: str = "en",
    formats: Iterable[str] = REPORT_FORMATS,
    other_outputs: Mapping[str, str | os.PathLike[str]] | None = None,
    metadata: Mapping[str, object] | None = None,
) -> dict[str, Path]:
    """Write the reports of a plan into ``out_dir``; return ``{file name: path}``.

    Parameters
    ----------
    result
        A :class:`blankspot.plan.PlanResult`.
    out_dir
        Folder to write into (created).
    lang
        ``"en"`` (default) or ``"id"`` (Bahasa Indonesia): CSV and XLSX headers, sheet names, the
        map's words and the readable metadata. Values are the same in both.
    formats
        Any of :data:`REPORT_FORMATS`: ``csv``, ``xlsx``, ``gpkg``, ``cog``, ``png``,
        ``metadata``.
    other_outputs
        Files of the same run written elsewhere (e.g. by :func:`blankspot.plan.write_outputs`),
        ``{name: path}``, listed with their checksums in the metadata.
    metadata
        Values for metadata elements the run cannot know, e.g. ``{"produsen_data": "Dinas
        Kominfo Kabupaten Paser", "kontak": "...", "lisensi": "CC-BY-4.0"}``; they replace the
        defaults of the same key.

    Returns
    -------
    dict of str to Path

    Raises
    ------
    SchemaError
        An unknown ``lang`` or format.

    Examples
    --------
    >>> from blankspot.plan import plan_paser
    >>> result = plan_paser(bounds=(116.22, -2.42, 116.50, -2.17),
    ...                     village_ids=["64.01.09.2003"])                 # doctest: +SKIP
    >>> paths = write_reports(result, "out/segendang", lang="id")           # doctest: +SKIP
    >>> sorted(paths)[:3]                                                   # doctest: +SKIP
    ['costs.csv', 'coverage_best_server.cog.tif', 'coverage_rsrp_dbm.cog.tif']
    """
    check_lang(lang)
    formats = tuple(dict.fromkeys(formats))
    unknown = [f for f in formats if f not in REPORT_FORMATS]
    if unknown:
        raise SchemaError(
            f"unknown report format(s) {', '.join(map(repr, unknown))}; choose from "
            f"{', '.join(REPORT_FORMATS)}."
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    created = now_iso()
    paths: dict[str, Path] = {}
    tables = report_tables(result)
    if "csv" in formats:
        for key, name in CSV_FILES.items():
            paths[name] = write_csv(translate_columns(tables[key], lang), out / name, index=False,
                                    formula_safe=True)
    if "xlsx" in formats:
        paths[XLSX_FILE] = write_workbook(result, out / XLSX_FILE, lang=lang, tables=tables,
                                          created=created)
    if "gpkg" in formats:
        paths[GPKG_FILE] = write_geopackage(report_layers(result, lang=lang), out / GPKG_FILE)
    if "cog" in formats:
        paths.update(write_coverage_cogs(result, out))
    if "png" in formats:
        fig = plan_figure(result, lang=lang, created=created)
        paths[PNG_FILE] = write_figure(
            fig, out / PNG_FILE, dpi=150,
            metadata={"Title": map_title(result, lang),
                      "Description": f"{terrain_text(result, lang)} "
                                     f"{phrase('demand_line', lang, demand=demand_text(result, lang))}",
                      "Software": f"blankspot {version()}"},
        )
    if "metadata" in formats:
        paths.update(write_metadata(result, out, outputs={**(other_outputs or {}), **paths},
                                    lang=lang, created=created, overrides=metadata))
    return paths


# --- tables and workbook -------------------------------------------------------------------------


def report_tables(result: PlanResult) -> dict[str, pd.DataFrame]:
    """The planner tables with English column names: ``ranking``, ``desa``, ``kecamatan``, ``costs``.

    The kecamatan table gains its code (``kecamatan_id``) when the villages carry one; the costs
    table has the candidate ``site_id`` as its first column.
    """
    kec = result.kecamatan.copy()
    villages = result.villages
    if "kecamatan_id" in villages.columns and "kecamatan_id" not in kec.columns:
        codes = villages.groupby("kecamatan", sort=False)["kecamatan_id"].first().astype(str)
        kec.insert(0, "kecamatan_id", kec["kecamatan"].map(codes))
    costs = result.site_costs.rename_axis("site_id").reset_index()
    costs["site_id"] = costs["site_id"].astype(str)
    return {"ranking": result.ranking.copy(), "desa": result.desa.copy(), "kecamatan": kec,
            "costs": costs}


def excel_format(column: str) -> str | None:
    """Excel number format of a report column: text for codes, ``#,##0`` for Rupiah, ..."""
    if column in TEXT_COLUMNS:
        return "@"
    if column.endswith("_idr") or column in {"population", "n_desa", "n_target", "rank"}:
        return "#,##0"
    if column.startswith("share"):
        return "0.0%"
    if column in {"population_covered", "people_new", "cumulative_people"}:
        return "#,##0.0"
    if column in {"lon", "lat"}:
        return "0.000000"
    if column.endswith("_m"):
        return "#,##0.0"
    return None


def summary_rows(
    result: PlanResult, *, lang: str = "en", created: str | None = None
) -> list[tuple[str, object]]:
    """``(key, value)`` rows of the summary sheet: the plan's headline figures."""
    s = plan_summary(result)
    cert = s.get("certificate") or {}
    desa = result.desa
    code, area = area_of(result)
    rows: list[tuple[str, object]] = [
        ("title", f"{area} ({code})" if code and code not in area else area),
        ("n_towers", len(result.ranking)),
        ("towers", ", ".join(map(str, s["towers"]))),
        ("total_cost_idr", int(s["total_cost_idr"])),
        ("budget_idr", int(s["budget_idr"])),
        ("budget_left_idr", int(s["budget_idr"]) - int(s["total_cost_idr"])),
        ("people_covered", s["people_covered"]),
        ("people_in_target_desa_not_yet_served", s["people_in_target_desa_not_yet_served"]),
        ("people_in_target_desa_served_by_existing_towers",
         s["people_in_target_desa_served_by_existing_towers"]),
        ("target_desa", ", ".join(map(str, s["target_desa"]))),
        ("objective", s["objective"]),
        ("n_target_desa_served", s["n_target_desa_served"]),
        ("target_desa_served", ", ".join(map(str, s["target_desa_served"]))),
        ("n_desa", len(desa)),
        ("population", int(desa["population"].sum())),
        ("population_covered", round(float(desa["population_covered"].sum()), 1)),
        ("model", s["model"]),
        ("threshold_dbm", s["threshold_dbm"]),
        ("solver", s["solver"]),
        ("status", s["status"]),
    ]
    if cert:
        rows += [("optimum_people", cert.get("optimum_people")),
                 ("plan_share_of_optimum", cert.get("plan_share_of_optimum"))]
    rows += [
        ("terrain", terrain_text(result, lang)),
        ("crs", crs_label(result)),
        ("created", created or now_iso()),
    ]
    return rows


def write_workbook(
    result: PlanResult,
    path: str | os.PathLike[str],
    *,
    lang: str = "en",
    tables: Mapping[str, pd.DataFrame] | None = None,
    created: str | None = None,
) -> Path:
    """Write ``report.xlsx``: the summary and the four planner tables, headers in ``lang``."""

    check_lang(lang)
    tables = tables or report_tables(result)
    rows = summary_rows(result, lang=lang, created=created)
    summary = pd.DataFrame(
        {column_label("item", lang): [phrase(k, lang) for k, _ in rows],
         column_label("value", lang): [v for _, v in rows]}
    )
    value_formats = [
        "#,##0" if k.endswith("_idr") else "0.0%" if k == "plan_share_of_optimum"
        else "#,##0.0" if k.startswith(("people", "population", "optimum")) else None
        for k, _ in rows
    ]
    sheets = {sheet_name("summary", lang): summary}
    formats: dict[str, list[ColumnFormat]] = {sheet_name("summary", lang): [None, value_formats]}
    for key in ("desa", "kecamatan", "ranking", "costs"):
        frame = tables[key]
        name = sheet_name(key, lang)
        sheets[name] = translate_columns(frame, lang, style="label")
        formats[name] = [excel_format(c) for c in frame.columns]
    return write_xlsx(sheets, path, number_formats=formats)


# --- GeoPackage ----------------------------------------------------------------------------------


def report_layers(result: PlanResult, *, lang: str = "en") -> dict[str, gpd.GeoDataFrame]:
    """The GeoPackage layers of a plan, all in the analysis CRS: ``{layer name: GeoDataFrame}``.

    Field names are the English column names, or with ``lang="id"`` their Indonesian names
    (:func:`blankspot.reporting.tables.column_name`; attributes the villages were read with keep theirs).

    - ``desa``: every desa polygon with population, ``population_covered``, ``share_covered``,
      ``target`` and the attributes it was read with; key ``village_id`` (text).
    - ``kecamatan``: the desa dissolved per kecamatan, with the kecamatan table's sums.
    - ``towers``: the chosen towers (points) with the ranking's columns (``rank``, ``cost_idr``
      and its breakdown, people and desa newly served).
    - ``candidates``: every candidate with its cost breakdown, ``chosen`` and ``rank`` (empty
      when not chosen).
    - ``demand_cells``: the demand points of the target desa with ``settlement``,
      ``demand_source`` (the demand frame's ``source``), ``covered`` and ``served_by_rank``
      (the first chosen tower covering the cell).
    """
    import geopandas as gpd

    from blankspot.crs import require_same

    crs = result.coverage.crs
    villages = result.villages
    sites = result.sites
    require_same(villages.crs, crs, "villages", "the coverage grid")
    require_same(sites.crs, crs, "sites", "the coverage grid")

    desa = villages.copy()
    desa.index = desa.index.astype(str)
    desa.index.name = "village_id"
    first = [c for c in ("name", "kecamatan", "kecamatan_id", "population", "population_covered",
                         "share_covered", "target", "population_source") if c in desa.columns]
    desa = desa[first + [c for c in desa.columns if c not in first]]

    tables = report_tables(result)
    kec_table = tables["kecamatan"]
    by = "kecamatan_id" if "kecamatan_id" in villages.columns else "kecamatan"
    dissolved = villages[[by, "geometry"]].dissolve(by=by).reset_index()
    kecamatan = gpd.GeoDataFrame(
        kec_table.merge(dissolved, on=by, how="left"), geometry="geometry", crs=crs
    )

    ranking = result.ranking
    ids = [str(s) for s in ranking["site_id"]] if len(ranking) else []
    towers = gpd.GeoDataFrame(
        ranking.reset_index(drop=True),
        geometry=gpd.GeoSeries(sites.geometry.loc[ids].to_numpy(), crs=crs),
        crs=crs,
    )

    rank_of = {sid: i + 1 for i, sid in enumerate(ids)}
    candidates = sites.copy()
    candidates.index = candidates.index.astype(str)
    candidates.index.name = "site_id"
    extra = [c for c in result.site_costs.columns if c not in candidates.columns]
    costs = result.site_costs[extra].copy()
    costs.index = costs.index.astype(str)
    candidates = candidates.join(costs)
    candidates["chosen"] = candidates.index.isin(ids)
    candidates["rank"] = pd.array([rank_of.get(s) for s in candidates.index], dtype="Int64")

    layers: dict[str, gpd.GeoDataFrame] = {"desa": desa, "kecamatan": kecamatan, "towers": towers,
                                 "candidates": candidates}
    demand = result.demand
    if demand is not None and len(demand) and hasattr(demand, "geometry"):
        cells = demand.copy()
        cells["village_id"] = cells["village_id"].astype(str)
        if "source" in cells.columns:  # "source" names a candidate's origin in the reports
            cells = cells.rename(columns={"source": "demand_source"})
        served = _served_by_rank(result, len(cells))
        if served is not None:
            cells["covered"] = served > 0
            cells["served_by_rank"] = pd.array(
                np.where(served > 0, served, None),  # type: ignore[call-overload]  # numpy stubs: None fill
                dtype="Int64",
            )
        layers["demand_cells"] = cells
    if lang != "en":
        layers = {name: _translated(layer, lang) for name, layer in layers.items()}
    return layers


def _translated(layer: gpd.GeoDataFrame, lang: str) -> gpd.GeoDataFrame:
    """A layer with its field names (and index name) in ``lang``; the geometry keeps its name."""
    geometry = layer.geometry.name
    names = {c: column_name(c, lang) for c in layer.columns if c != geometry}
    out = layer.rename(columns=names)
    if out.index.name is not None:
        out.index.name = column_name(out.index.name, lang)
    return out


def _served_by_rank(result: PlanResult, n_cells: int) -> np.ndarray | None:
    """Per demand cell the rank of the first chosen tower covering it (0: none)."""
    matrix = result.matrix
    if matrix is None or matrix.matrix.shape[0] != n_cells:
        return None
    column = {str(s): j for j, s in enumerate(matrix.site_ids)}
    served = np.zeros(n_cells, dtype=np.int64)
    csc = matrix.matrix.tocsc()
    for rank, sid in enumerate(result.solution.site_ids, 1):
        j = column.get(str(sid))
        if j is None:
            continue
        rows = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
        rows = rows[np.asarray(csc.data[csc.indptr[j] : csc.indptr[j + 1]], dtype=bool)]
        fresh = rows[served[rows] == 0]
        served[fresh] = rank
    return served


# --- rasters -------------------------------------------------------------------------------------


def write_coverage_cogs(result: PlanResult, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Best-server RSRP and, when there are towers, the serving tower's rank, as COGs."""

    out = Path(out_dir)
    cov, cfg = result.coverage, result.config
    has_towers = len(cov.footprints) > 0
    rsrp = cov.best_rsrp_dbm() if has_towers else np.full(cov.shape, np.nan, np.float32)
    tags = {
        "model": cov.model,
        "threshold_dbm": f"{cfg.link.threshold_dbm:g}",
        "terrain": terrain_note(result),
        "towers": ",".join(map(str, result.solution.site_ids)),
        "crs": crs_label(result),
    }
    paths = {RSRP_COG_FILE: write_cog(
        out / RSRP_COG_FILE, rsrp.astype(np.float32), transform=cov.transform, crs=cov.crs,
        nodata=np.nan, description="best-server RSRP of the chosen towers, dBm (NaN: no signal)",
        tags={"units": "dBm", **tags}, resampling="average",
    )}
    if has_towers:
        rank_of = {str(s): i + 1 for i, s in enumerate(result.solution.site_ids)}
        lut = np.array([0] + [rank_of.get(str(s), 0) for s in cov.site_ids], dtype=np.uint16)
        server = lut[cov.best_server(covered_only=True) + 1]
        ranks = {f"rank_{r}": s for s, r in rank_of.items()}
        paths[SERVER_COG_FILE] = write_cog(
            out / SERVER_COG_FILE, server, transform=cov.transform, crs=cov.crs, nodata=0,
            dtype="uint16",
            description="rank of the tower serving the cell at RSRP >= threshold (0: none)",
            tags={"units": "rank", **tags, **ranks}, resampling="nearest",
        )
    return paths


# --- static map ----------------------------------------------------------------------------------


def run_metadata(
    result: PlanResult,
    outputs: Mapping[str, str | os.PathLike[str]],
    *,
    lang: str = "en",
    created: str | None = None,
    overrides: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """The metadata of a run as a dict (what ``metadata.json`` holds).

    The elements of Satu Data Indonesia metadata (Perpres 39/2019) are the top-level keys, in
    Indonesian: ``judul``, ``deskripsi``, ``produsen_data``, ``kode_referensi_wilayah``,
    ``periode``, ``satuan``, ``sumber``, ``metode``, ``lisensi``, ``kontak``, ``tanggal``;
    ``kunci_en`` gives each its English name, and prose is given in both languages
    (``{"id": ..., "en": ...}``). ``keluaran`` lists every output with its size and SHA-256.
    """

    check_lang(lang)
    created = created or now_iso()
    cfg = result.config
    code, area = area_of(result)
    summary = plan_summary(result)

    def both(key: str, **values: object) -> dict[str, str]:
        return {"id": phrase(key, "id", **values), "en": phrase(key, "en", **values)}

    def unit(key: str) -> dict[str, str]:
        en, id_ = UNIT_LABELS[key]
        return {"id": id_, "en": en}

    villages = result.villages
    kec_codes = sorted(map(str, villages["kecamatan_id"].unique())) \
        if "kecamatan_id" in villages.columns else []
    period: dict[str, object] = {"tanggal_analisis": created[:10]}
    if is_paser(result):
        period.update(PASER_PERIOD)
    if cfg.tower_cost_idr is None and cfg.cost_params is None:
        period["tahun_harga"] = 2022
        period["catatan_harga"] = "SSH 2022: packaged cost defaults (blankspot/data/cost_defaults.toml)"

    keluaran = []
    for _name, path in sorted(outputs.items()):
        p = Path(path)
        if not p.is_file() or p.name == METADATA_JSON_FILE:
            continue
        desc = OUTPUT_DESCRIPTIONS.get(p.name)
        keluaran.append({
            "file": p.name,
            "bytes": p.stat().st_size,
            "sha256": sha256_file(p),
            "deskripsi": {"id": desc[1], "en": desc[0]} if desc else None,
        })

    meta: dict[str, object] = {
        "standar_metadata": {
            "id": "Elemen metadata Satu Data Indonesia (Perpres 39/2019)",
            "en": "Metadata elements of Satu Data Indonesia (Presidential Regulation 39/2019)",
        },
        "kunci_en": dict(_KEYS_EN),
        "judul": both("dataset_title", area=area),
        "deskripsi": both("dataset_description", n_desa=len(result.desa),
                          n_towers=len(result.ranking), budget=format_idr(cfg.budget_idr)),
        "produsen_data": both("producer_unset"),
        "kode_referensi_wilayah": {
            "sistem": "Kode wilayah Kemendagri (Permendagri 137/2017 scheme"
            + ("; Kepmendagri 300.2.2-2138/2025)" if is_paser(result) else ")"),
            "kabupaten": code,
            "kecamatan": kec_codes,
            "jumlah_desa": len(result.desa),
            "desa_sasaran": list(map(str, result.target_ids)),
        },
        "periode": period,
        "satuan": {
            "population": unit("population"),
            "population_covered": unit("population"),
            "people_new": unit("population"),
            "share_covered": unit("share"),
            "*_idr": unit("idr"),
            "rsrp_dbm": unit("dbm"),
            "*_m": unit("m"),
            "lon, lat": unit("deg"),
            "rank": unit("rank"),
        },
        "sumber": input_sources(result),
        "metode": {
            "deskripsi": both("method_description"),
            "model": summary["model"],
            "model_label": result.model_label(),
            "solver": summary["solver"],
            "status": summary["status"],
            "sertifikat": summary.get("certificate"),
            "catatan_medan": terrain_text(result, "en"),
            "model_permintaan": result.demand_model,
        },
        "parameter": _config_dict(cfg),
        "lisensi": {
            "keluaran": both("licence_unset"),
            "masukan": {str(s["file"]): s["licence"] for s in input_sources(result)},
        },
        "kontak": both("contact_unset"),
        "tanggal": {"dibuat": created, "tanggal_analisis": created[:10]},
        "sistem_koordinat": crs_label(result),
        "catatan_medan": {"id": terrain_text(result, "id"), "en": terrain_text(result, "en")},
        "model_permintaan": {"id": demand_text(result, "id"), "en": demand_text(result, "en")},
        "perangkat_lunak": software(),
        "bahasa": lang,
        "ringkasan": {k: v for k, v in summary.items() if k != "timings_s"},
        "keluaran": keluaran,
    }
    for key, value in (overrides or {}).items():
        meta[str(key)] = value
    return meta


def metadata_markdown(meta: Mapping[str, object], *, lang: str = "en") -> str:
    """A readable rendering of :func:`run_metadata` in ``lang`` (what ``metadata.md`` holds)."""
    check_lang(lang)

    def text(value: object) -> str:
        if isinstance(value, Mapping) and set(value) == {"id", "en"}:
            return str(value[lang])
        if isinstance(value, list | tuple):
            return ", ".join(map(str, value))
        return str(value)

    title = text(meta["judul"])
    lines = [f"# {phrase('metadata_heading', lang)}: {title}", ""]
    keys = _KEYS_EN
    for key in ("deskripsi", "produsen_data", "kontak", "sistem_koordinat", "catatan_medan",
                "model_permintaan"):
        label = key if lang == "id" else keys.get(key, key)
        lines += [f"- **{label}**: {text(meta[key])}"]
    ref = meta["kode_referensi_wilayah"]
    assert isinstance(ref, Mapping)
    label = "kode_referensi_wilayah" if lang == "id" else keys["kode_referensi_wilayah"]
    lines += [f"- **{label}**: " + "; ".join(f"{k} = {text(v)}" for k, v in ref.items())]
    period = meta["periode"]
    assert isinstance(period, Mapping)
    label = "periode" if lang == "id" else keys["periode"]
    lines += [f"- **{label}**: " + "; ".join(f"{k} = {v}" for k, v in period.items())]
    label = "tanggal" if lang == "id" else keys["tanggal"]
    tanggal = meta["tanggal"]
    assert isinstance(tanggal, Mapping)
    lines += [f"- **{label}**: {tanggal['dibuat']}"]
    method = meta["metode"]
    assert isinstance(method, Mapping)
    label = "metode" if lang == "id" else keys["metode"]
    lines += [f"- **{label}**: {text(method['deskripsi'])} ({method['model_label']}; "
              f"{method['model']}; {method['solver']})", ""]

    lines += [f"## {phrase('sources_heading', lang)}", "", phrase("table_sources", lang),
              "|---|---|---|---|"]
    sources = meta["sumber"]
    assert isinstance(sources, list)
    for s in sources:
        lines.append(f"| `{s['file']}` | {s['role']} | {s['licence'] or ''} | "
                     f"`{(s['sha256'] or '')[:16]}` |")
    lines += ["", f"## {phrase('parameters_heading', lang)}", "", "```json",
              json.dumps(meta["parameter"], indent=2, ensure_ascii=False), "```", ""]
    lines += [f"## {phrase('outputs_heading', lang)}", "", phrase("table_outputs", lang),
              "|---|---:|---|"]
    listed = meta["keluaran"]
    assert isinstance(listed, list)
    for o in listed:
        lines.append(f"| `{o['file']}` | {o['bytes']} | `{o['sha256']}` |")
    lines.append("")
    return "\n".join(lines)


def write_metadata(
    result: PlanResult,
    out_dir: str | os.PathLike[str],
    *,
    outputs: Mapping[str, str | os.PathLike[str]],
    lang: str = "en",
    created: str | None = None,
    overrides: Mapping[str, object] | None = None,
) -> dict[str, Path]:
    """Write ``metadata.md`` and then ``metadata.json`` (whose checksums include the ``.md``)."""

    out = Path(out_dir)
    created = created or now_iso()
    md_path = out / METADATA_MD_FILE
    outputs = {k: v for k, v in outputs.items() if Path(v).name != METADATA_MD_FILE}
    meta = run_metadata(result, outputs, lang=lang, created=created, overrides=overrides)
    write_text(metadata_markdown(meta, lang=lang), md_path)
    desc = OUTPUT_DESCRIPTIONS[METADATA_MD_FILE]
    listed = meta["keluaran"]
    assert isinstance(listed, list)
    listed.append({"file": METADATA_MD_FILE, "bytes": md_path.stat().st_size,
                   "sha256": sha256_file(md_path), "deskripsi": {"id": desc[1], "en": desc[0]}})
    json_path = write_text(json.dumps(meta, indent=2, ensure_ascii=False, default=str) + "\n",
                           out / METADATA_JSON_FILE)
    return {METADATA_MD_FILE: md_path, METADATA_JSON_FILE: json_path}


def refresh_output_checksums(out_dir: str | os.PathLike[str], names: Iterable[str]) -> bool:
    """After files of a written set are redrawn (``map.html`` by ``blankspot map OUTDIR``),
    update their sizes and checksums in ``metadata.json`` and ``metadata.md``.

    Returns False (and changes nothing) when the folder has no ``metadata.json``. A
    ``metadata.json`` that is not valid JSON is a :class:`blankspot.errors.DataError`.
    """
    from blankspot.errors import DataError

    out = Path(out_dir)
    json_path = out / METADATA_JSON_FILE
    if not json_path.is_file():
        return False
    try:
        meta = json.loads(json_path.read_text(encoding="utf-8"))
        listed = meta["keluaran"]
        assert isinstance(listed, list)
    except (OSError, ValueError, KeyError, TypeError, AssertionError) as exc:
        raise DataError(
            f"{os.fspath(json_path)} cannot be read as the metadata of an output set ({exc}); "
            "write the outputs again with blankspot run or blankspot demo."
        ) from None
    names = set(names)
    for entry in listed:
        if isinstance(entry, dict) and entry.get("file") in names and (out / entry["file"]).is_file():
            p = out / entry["file"]
            entry.update(bytes=p.stat().st_size, sha256=sha256_file(p))
    lang = meta.get("bahasa") if meta.get("bahasa") in ("en", "id") else "en"
    md_path = out / METADATA_MD_FILE
    others = [e for e in listed if not (isinstance(e, dict) and e.get("file") == METADATA_MD_FILE)]
    meta["keluaran"] = others
    try:
        markdown = metadata_markdown(meta, lang=lang)
    except (KeyError, TypeError, AssertionError):
        markdown = None
    if markdown is not None and md_path.is_file():
        write_text(markdown, md_path)
        desc = OUTPUT_DESCRIPTIONS[METADATA_MD_FILE]
        others.append({"file": METADATA_MD_FILE, "bytes": md_path.stat().st_size,
                       "sha256": sha256_file(md_path), "deskripsi": {"id": desc[1], "en": desc[0]}})
    else:
        meta["keluaran"] = listed
    write_text(json.dumps(meta, indent=2, ensure_ascii=False, default=str) + "\n", json_path)
    return True


# --- helpers -------------------------------------------------------------------------------------


def _config_dict(cfg: PlanConfig) -> dict[str, object]:
    """Every field of a :class:`~blankspot.plan.PlanConfig` as JSON-ready values."""
    from dataclasses import asdict, fields, is_dataclass

    out: dict[str, object] = {}
    for f in fields(cfg):
        v = getattr(cfg, f.name)
        if callable(getattr(v, "record", None)):  # a calibration: its file and fitted values
            out[f.name] = _jsonable(v.record())
        elif is_dataclass(v) and not isinstance(v, type):
            try:
                out[f.name] = {k: _jsonable(x) for k, x in asdict(v).items()}
            except TypeError:
                out[f.name] = repr(v)
        else:
            out[f.name] = _jsonable(v)
    if cfg.cost_params is None:
        out["cost_params"] = "default (blankspot/data/cost_defaults.toml)"
    return out


def _jsonable(v: object) -> object:
    if v is None or isinstance(v, bool | int | float | str):
        return v
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    return repr(v)
