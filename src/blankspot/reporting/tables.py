"""Planner tables: the ranked towers and per-desa / per-kecamatan coverage, keyed by kode wilayah."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from blankspot.aggregate import PointCoverage
from blankspot.crs import WGS84
from blankspot.errors import SchemaError
from blankspot.siting.problem import resolved_mask
from blankspot.units import format_idr as format_idr  # re-exported: the money format of every table

if TYPE_CHECKING:
    import geopandas as gpd

    from blankspot.siting import SitingResult

RANKING_COLUMNS = (
    "rank",
    "site_id",
    "lon",
    "lat",
    "height_agl_m",
    "cost_idr",
    "people_new",
    "cumulative_cost_idr",
    "cumulative_people",
    "desa_new",
    "n_desa_served_new",
    "desa_served_new",
    "desa_improved",
    "source",
)

DESA_COLUMNS = (
    "kode",
    "nama",
    "kecamatan",
    "population",
    "population_covered",
    "share_covered",
    "target",
    "served",
    "rsrp_main_dbm",
    "served_by",
    "population_source",
)


BREAKDOWN_COLUMNS = (
    "tower_idr",
    "land_idr",
    "road_idr",
    "power_idr",
    "backhaul_idr",
    "equipment_idr",
    "contingency_idr",
    "power_option",
    "backhaul_option",
    "estimated_components",
    "cost_from",
)


IMPROVED_MIN_PEOPLE = 0.05
"""A tower *improves* a desa when it adds at least this many (expected) people served there."""


@dataclass(frozen=True)
class DesaService:
    """Which desa are served (β of their people), and which tower brought each one there.

    Attributes
    ----------
    village_ids
        the desa, in the order of the arrays below.
    population, population_covered, share
        people of each desa (over its demand cells), people served under the whole plan
        (expected people with probabilities) and their share (NaN for a desa of no people).
    served
        bool: ``share`` ≥ β (with a float slack of 1e-9 relative, as the solvers').
    served_new, improved
        per pick, the desa it brings to served, and the desa where it adds people served
        (at least :data:`IMPROVED_MIN_PEOPLE`) without bringing them to served.
    served_at
        per desa, the pick (0-based) that brought it to served; -1 when it was served before
        any pick (existing towers), -2 when it is not served.
    """

    village_ids: np.ndarray
    population: np.ndarray
    population_covered: np.ndarray
    share: np.ndarray
    served: np.ndarray
    served_new: tuple[tuple[str, ...], ...]
    improved: tuple[tuple[str, ...], ...]
    served_at: np.ndarray


def desa_service(cell_village: np.ndarray, cell_population: np.ndarray,
                 served_before: np.ndarray, pick_served: Sequence[np.ndarray],
                 served_share: float) -> DesaService:
    """Desa served after each pick of a plan, from what each pick serves cell by cell.

    ``served_before`` is the probability (0/1 without probabilities) that each cell is served
    before the first pick (by existing towers); ``pick_served[k]`` that pick ``k`` serves it.
    Picks serve independently, so after ``k`` picks a cell is served with probability
    1 − (1 − before) Π (1 − p); a desa is served when its people served reach ``served_share``
    (β) of its people.

    >>> svc = desa_service(np.array(["a", "a", "b"]), np.array([3.0, 1.0, 2.0]), np.zeros(3),
    ...                    [np.array([1.0, 0, 0]), np.array([0, 1.0, 1.0])], 0.8)
    >>> [list(d) for d in svc.served_new], [list(d) for d in svc.improved], svc.served_at.tolist()
    ([[], ['a', 'b']], [['a'], []], [1, 1])
    """
    vids, codes = np.unique(np.asarray(cell_village).astype(str), return_inverse=True)
    pop = np.asarray(cell_population, dtype=np.float64)
    weight = np.bincount(codes, weights=pop, minlength=len(vids))

    def covered(miss: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=pop * (1.0 - miss), minlength=len(vids))

    def is_served(people_covered: np.ndarray) -> np.ndarray:
        return resolved_mask(people_covered, weight, served_share) & (weight > 0)

    miss = 1.0 - np.asarray(served_before, dtype=np.float64)
    cov = covered(miss)
    served = is_served(cov)
    served_at = np.where(served, -1, -2)
    served_new: list[tuple[str, ...]] = []
    improved: list[tuple[str, ...]] = []
    for k, p in enumerate(pick_served):
        miss = miss * (1.0 - np.asarray(p, dtype=np.float64))
        now = covered(miss)
        now_served = is_served(now)
        new = now_served & ~served
        better = (now - cov >= IMPROVED_MIN_PEOPLE) & ~new
        served_at[new] = k
        served_new.append(tuple(str(v) for v in vids[new]))
        improved.append(tuple(str(v) for v in vids[better]))
        cov, served = now, now_served
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(weight > 0, cov / weight, np.nan)
    return DesaService(vids, weight, cov, share, served, tuple(served_new), tuple(improved),
                       served_at)


def main_settlements(cells: pd.DataFrame) -> pd.Series:
    """Per desa (index ``village_id``), the label of its main settlement: its demand cell with
    the most people (the first such cell on a tie).

    >>> main_settlements(pd.DataFrame({"village_id": ["a", "a", "b"],
    ...                                "population": [1.0, 3.0, 2.0]})).to_dict()
    {'a': 1, 'b': 2}
    """
    pop = pd.to_numeric(cells["population"], errors="coerce").fillna(0.0)
    return pop.groupby(cells["village_id"].to_numpy(), sort=False).idxmax()


def sample_path_loss_db(coverage: object, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Path loss (dB) of each footprint of ``coverage`` (a CoverageResult) at points ``x, y``
    in its CRS: points × footprints, NaN where a footprint has no signal or does not reach."""
    t = coverage.transform  # type: ignore[attr-defined]
    row = np.floor((np.asarray(y, float) - t.f) / t.e).astype(np.int64)
    col = np.floor((np.asarray(x, float) - t.c) / t.a).astype(np.int64)
    footprints = list(coverage.footprints)  # type: ignore[attr-defined]
    out = np.full((len(row), len(footprints)), np.nan)
    for j, fp in enumerate(footprints):
        loss = np.asarray(fp.path_loss_db)
        r, c = row - int(fp.row_off), col - int(fp.col_off)
        inside = (r >= 0) & (r < loss.shape[0]) & (c >= 0) & (c < loss.shape[1])
        out[inside, j] = loss[r[inside], c[inside]]
    return out


def main_settlement_service(cells: gpd.GeoDataFrame, coverages: Sequence[object],
                            service: DesaService, pick_ids: Sequence[Hashable]
                            ) -> tuple[pd.Series, pd.Series]:
    """Per desa, the median RSRP (dBm) of the strongest chosen tower at its main settlement
    (:func:`main_settlements`), and the tower that serves it: the pick that brought it to
    served, or, for a desa served before any pick, the strongest tower there (of
    ``coverages``: the chosen towers first, then existing ones; each a CoverageResult, read
    at the settlement's cell, or a :class:`blankspot.aggregate.PointCoverage` at ``cells``'
    points, read at the settlement itself). Both indexed by kode."""
    main = main_settlements(cells)
    points = cells.loc[main.to_numpy()]
    rows = cells.index.get_indexer(main.to_numpy())
    x, y = points.geometry.x.to_numpy(), points.geometry.y.to_numpy()
    ids = main.index.astype(str)
    rsrp = np.full(len(main), np.nan)
    best = np.full(len(main), np.nan)
    best_id = np.full(len(main), "", dtype=object)
    for k, cov in enumerate(coverages):
        site = np.array([str(s) for s in cov.site_ids])  # type: ignore[attr-defined]
        if not site.size:
            continue
        loss = (cov.dense_db(rows) if isinstance(cov, PointCoverage)  # exact paths to the points
                else sample_path_loss_db(cov, x, y))
        value = np.asarray(cov.budget.rsrp_dbm(loss))  # type: ignore[attr-defined]
        value = np.where(np.isnan(value), -np.inf, value)
        strongest = value.max(axis=1)
        if k == 0:
            rsrp = np.where(np.isfinite(strongest), strongest, np.nan)
        better = strongest > np.where(np.isnan(best), -np.inf, best)
        best_id[better] = site[value.argmax(axis=1)[better]]
        best[better] = strongest[better]
    at = pd.Series(service.served_at, index=service.village_ids.astype(str)).reindex(ids)
    by = np.where(at.to_numpy() >= 0,
                  [str(pick_ids[int(a)]) if a >= 0 else "" for a in at.fillna(-2).to_numpy()],
                  np.where(at.to_numpy() == -1, best_id, ""))
    return pd.Series(rsrp, index=ids), pd.Series(by, index=ids, dtype=object)


def ranking_table(
    result: SitingResult,
    sites: gpd.GeoDataFrame,
    *,
    desa_new: Sequence[Iterable[str]] | None = None,
    site_costs: pd.DataFrame | None = None,
    service: DesaService | None = None,
    names: dict[str, str] | None = None,
) -> pd.DataFrame:
    """One row per chosen tower in pick order.

    ``result`` is a :class:`blankspot.siting.SitingResult`; ``sites`` the candidate frame (any CRS)
    indexed by ``site_id``; ``desa_new`` an optional list (one entry per pick) of the desa names
    in which that pick newly covers people; ``site_costs`` the
    :meth:`blankspot.costs.CostModel.site_costs` frame, whose breakdown columns are appended;
    ``service`` (:func:`desa_service`) fills ``n_desa_served_new``, ``desa_served_new`` (the
    desa the pick brings to served) and ``desa_improved`` (those it only improves), each desa as
    "kode name" (``names``: kode → name), separated by "; ".
    """
    ids = list(result.site_ids)
    if not ids:
        return pd.DataFrame(columns=list(RANKING_COLUMNS))
    chosen = sites.loc[ids].to_crs(WGS84)
    frame = pd.DataFrame(
        {
            "rank": np.arange(1, len(ids) + 1),
            "site_id": ids,
            "lon": chosen.geometry.x.round(6).to_numpy(),
            "lat": chosen.geometry.y.round(6).to_numpy(),
            "height_agl_m": chosen["height_agl_m"].to_numpy(),
            "cost_idr": np.asarray(result.costs_idr, dtype=np.int64),
            "people_new": np.round(np.asarray(result.gains, dtype=float), 1),
            "cumulative_cost_idr": np.asarray(result.cumulative_cost_idr, dtype=np.int64),
            "cumulative_people": np.round(np.asarray(result.cumulative_weight, dtype=float), 1),
            "desa_new": ["; ".join(d) for d in desa_new] if desa_new is not None else "",
            "n_desa_served_new": ([len(d) for d in service.served_new] if service is not None
                                  else 0),
            "desa_served_new": _desa_lists(service.served_new if service else None, names),
            "desa_improved": _desa_lists(service.improved if service else None, names),
            "source": chosen["source"].to_numpy() if "source" in chosen else "",
        }
    )
    frame = frame[list(RANKING_COLUMNS)]
    if site_costs is not None:
        extra = [c for c in BREAKDOWN_COLUMNS if c in site_costs.columns]
        frame = frame.join(site_costs.loc[ids, extra].reset_index(drop=True))
    return frame


def _desa_lists(lists: Sequence[Iterable[str]] | None, names: dict[str, str] | None
                ) -> list[str] | str:
    if lists is None:
        return ""
    names = names or {}
    return ["; ".join(f"{v} {names.get(v, '')}".strip() for v in d) for d in lists]


def desa_table(
    villages: pd.DataFrame, summary: pd.DataFrame, *, targets: Iterable[Hashable] = (),
    service: DesaService | None = None, rsrp_main_dbm: pd.Series | None = None,
    served_by: pd.Series | None = None,
) -> pd.DataFrame:
    """Per desa: kode, nama, kecamatan, population, population covered, share, target flag;
    with ``service`` also ``served`` ("yes"/"no": share ≥ β), and ``rsrp_main_dbm`` (median
    RSRP of the plan's strongest tower at the desa's main settlement, its demand point with
    the most people) and ``served_by`` (the tower that brought it to served, else the
    strongest there) when given, each a Series by kode."""
    v = villages.join(summary[["population_covered", "share_covered"]], how="left")
    ids = v.index.astype(str)
    served = np.full(len(v), "", dtype=object)
    if service is not None:
        by_id = pd.Series(service.served, index=service.village_ids.astype(str))
        served = np.where(by_id.reindex(ids).fillna(False).to_numpy(bool), "yes", "no")
    rsrp = (rsrp_main_dbm.reindex(ids).round(1).to_numpy() if rsrp_main_dbm is not None
            else np.full(len(v), np.nan))
    by = (served_by.reindex(ids).fillna("").to_numpy(dtype=object) if served_by is not None
          else np.full(len(v), "", dtype=object))
    out = pd.DataFrame(
        {
            "kode": v.index.astype(str),
            "nama": v["name"].to_numpy(),
            "kecamatan": v["kecamatan"].to_numpy() if "kecamatan" in v else "",
            "population": v["population"].to_numpy(),
            "population_covered": v["population_covered"].fillna(0.0).round(1).to_numpy(),
            "share_covered": v["share_covered"].fillna(0.0).round(4).to_numpy(),
            "target": v.index.isin(list(targets)),
            "served": served,
            "rsrp_main_dbm": rsrp,
            "served_by": by,
            "population_source": v["population_source"].to_numpy() if "population_source" in v else "",
        }
    )
    return out.sort_values("kode").reset_index(drop=True)[list(DESA_COLUMNS)]


def kecamatan_table(desa: pd.DataFrame) -> pd.DataFrame:
    """Per kecamatan sums of a :func:`desa_table`."""
    g = desa.groupby("kecamatan", sort=True).agg(
        n_desa=("kode", "size"),
        n_target=("target", "sum"),
        population=("population", "sum"),
        population_covered=("population_covered", "sum"),
    )
    g["population_covered"] = g["population_covered"].round(1)
    g["share_covered"] = (g["population_covered"] / g["population"].where(g["population"] > 0)).round(4)
    return g.reset_index()


# --- Labels: English and Bahasa Indonesia ------------------------------------------------------
#
# The Indonesian words of every output live here and nowhere else. Each table column has three
# labels: an English display label (XLSX headers), an Indonesian column name (CSV headers with
# ``lang="id"``: snake_case, units kept) and an Indonesian display label (XLSX headers with
# ``lang="id"``). With ``lang="en"`` a CSV keeps the column names themselves.

LANGS = ("en", "id")
"""Languages of the reports: English (default) and Bahasa Indonesia."""

COLUMN_LABELS: dict[str, tuple[str, str, str]] = {
    # column: (English label, Indonesian column name, Indonesian label)
    # desa and kecamatan
    "kode": ("Village code (kode wilayah)", "kode_desa", "Kode Wilayah"),
    "village_id": ("Village code (kode wilayah)", "kode_desa", "Kode Wilayah"),
    "nama": ("Desa / kelurahan", "nama_desa", "Nama Desa"),
    "name": ("Desa / kelurahan", "nama_desa", "Nama Desa"),
    "kecamatan": ("Kecamatan (district)", "kecamatan", "Kecamatan"),
    "kecamatan_id": ("Kecamatan code (kode wilayah)", "kode_kecamatan", "Kode Kecamatan"),
    "population": ("Population (persons)", "jumlah_penduduk", "Jumlah Penduduk"),
    "population_covered": (
        "Population covered (persons)", "penduduk_terlayani", "Jumlah Penduduk Terlayani"),
    "share_covered": (
        "Share of population covered", "persentase_terlayani", "Persentase Penduduk Terlayani"),
    "target": ("Target blank-spot desa", "desa_sasaran", "Desa Sasaran (Blank Spot)"),
    "population_source": (
        "Source of the population figure", "sumber_penduduk", "Sumber Angka Penduduk"),
    "n_desa": ("Number of desa", "jumlah_desa", "Jumlah Desa"),
    "n_target": ("Number of target desa", "jumlah_desa_sasaran", "Jumlah Desa Sasaran"),
    # ranking
    "rank": ("Rank", "peringkat", "Peringkat"),
    "chosen": ("Chosen tower", "terpilih", "Menara Terpilih"),
    "covered": ("Covered", "terlayani", "Terlayani"),
    "served_by_rank": (
        "Served first by the tower of rank", "dilayani_menara_peringkat",
        "Dilayani Pertama oleh Menara Peringkat"),
    "site_id": ("Site", "id_lokasi", "ID Lokasi"),
    "lon": ("Longitude (°E, WGS 84)", "bujur", "Bujur (°BT, WGS 84)"),
    "lat": ("Latitude (°N, WGS 84)", "lintang", "Lintang (°LU, WGS 84)"),
    "height_agl_m": ("Antenna height above ground (m)", "tinggi_antena_m", "Tinggi Antena (m)"),
    "cost_idr": ("Cost (Rp)", "biaya_idr", "Biaya (Rp)"),
    "people_new": ("People newly covered", "penduduk_baru_terlayani", "Penduduk Baru Terlayani"),
    "cumulative_cost_idr": ("Cumulative cost (Rp)", "biaya_kumulatif_idr", "Biaya Kumulatif (Rp)"),
    "cumulative_people": (
        "Cumulative people covered", "penduduk_kumulatif", "Penduduk Terlayani Kumulatif"),
    "desa_new": (
        "Desa where people are newly covered", "desa_penduduk_baru_terlayani",
        "Desa dengan Penduduk Baru Terlayani"),
    "n_desa_served_new": (
        "Desa brought to served (number)", "jumlah_desa_baru_terlayani",
        "Jumlah Desa Baru Terlayani"),
    "desa_served_new": (
        "Desa brought to served (β of people covered)", "desa_baru_terlayani",
        "Desa Baru Terlayani (β penduduk terlayani)"),
    "desa_improved": (
        "Desa improved, not yet served", "desa_bertambah_cakupan",
        "Desa Bertambah Cakupan, Belum Terlayani"),
    "rsrp_main_dbm": (
        "RSRP at the main settlement (dBm, median)", "rsrp_permukiman_utama_dbm",
        "RSRP di Permukiman Utama (dBm, median)"),
    "served_by": ("Served by tower (site)", "dilayani_menara", "Dilayani Menara (ID Lokasi)"),
    "source": ("Candidate source", "asal_kandidat", "Asal Kandidat"),
    # demand points (plan.gpkg demand_cells)
    "settlement": ("Settlement", "permukiman", "Nama Permukiman"),
    "demand_source": ("Source of the demand point", "asal_titik_permintaan",
                      "Asal Titik Permintaan"),
    # cost breakdown (costs.CostModel.site_costs)
    "tower_idr": ("Tower (Rp)", "biaya_menara_idr", "Biaya Menara (Rp)"),
    "land_idr": ("Land (Rp)", "biaya_lahan_idr", "Biaya Lahan (Rp)"),
    "road_idr": ("Access road (Rp)", "biaya_jalan_idr", "Biaya Jalan Akses (Rp)"),
    "power_idr": ("Power (Rp)", "biaya_listrik_idr", "Biaya Catu Daya (Rp)"),
    "backhaul_idr": ("Backhaul (Rp)", "biaya_backhaul_idr", "Biaya Backhaul (Rp)"),
    "equipment_idr": ("Equipment (Rp)", "biaya_perangkat_idr", "Biaya Perangkat (Rp)"),
    "contingency_idr": ("Contingency (Rp)", "biaya_tak_terduga_idr", "Biaya Tak Terduga (Rp)"),
    "capex_idr": ("Capital cost (Rp)", "belanja_modal_idr", "Belanja Modal (Rp)"),
    "tower_height_m": ("Tower height (m)", "tinggi_menara_m", "Tinggi Menara (m)"),
    "tower_type": ("Tower type", "jenis_menara", "Jenis Menara"),
    "power_option": ("Power option", "opsi_listrik", "Opsi Catu Daya"),
    "backhaul_option": ("Backhaul option", "opsi_backhaul", "Opsi Backhaul"),
    "road_distance_m": ("Distance to road (m)", "jarak_jalan_m", "Jarak ke Jalan (m)"),
    "grid_distance_m": ("Distance to PLN grid (m)", "jarak_jaringan_pln_m", "Jarak ke Jaringan PLN (m)"),
    "backhaul_distance_m": ("Backhaul distance (m)", "jarak_backhaul_m", "Jarak Backhaul (m)"),
    "microwave_hop_m": ("Microwave hop (m)", "hop_microwave_m", "Panjang Hop Microwave (m)"),
    "road_distance_default": (
        "Road distance assumed", "jarak_jalan_asumsi", "Jarak Jalan Asumsi (perkiraan)"),
    "grid_distance_default": (
        "Grid distance assumed", "jarak_pln_asumsi", "Jarak PLN Asumsi (perkiraan)"),
    "backhaul_distance_default": (
        "Backhaul distance assumed", "jarak_backhaul_asumsi", "Jarak Backhaul Asumsi (perkiraan)"),
    "estimated_components": (
        "Estimated components", "komponen_perkiraan", "Komponen Perkiraan"),
    "cost_from": ("Cost from", "asal_biaya", "Asal Biaya"),
    # hindcast (hindcast.csv)
    "plan": ("Plan", "rencana", "Rencana"),
    "budget_idr": ("Budget (Rp)", "anggaran_idr", "Anggaran (Rp)"),
    "n_towers": ("Number of towers", "jumlah_menara", "Jumlah Menara"),
    "site_ids": ("Sites", "id_lokasi_menara", "ID Lokasi Menara"),
    "tower_desa": ("Desa of the towers", "desa_lokasi_menara", "Desa Lokasi Menara"),
    "people_covered": ("People covered", "penduduk_terlayani", "Penduduk Terlayani"),
    "people_target": (
        "People in the target desa", "penduduk_desa_sasaran", "Penduduk Desa Sasaran"),
    "n_desa_served": ("Target desa served", "jumlah_desa_terlayani", "Jumlah Desa Sasaran Terlayani"),
    "desa_served": ("Desa served", "desa_terlayani", "Desa Terlayani"),
    "served_only_here": (
        "Desa served by this plan only", "desa_terlayani_hanya_rencana_ini",
        "Desa Terlayani Hanya oleh Rencana Ini"),
    "desa_2022_not_evaluated": (
        "2022 desa not evaluated (outside the plan)", "desa_2022_tidak_dievaluasi",
        "Desa 2022 Tidak Dievaluasi (di luar rencana)"),
    # why a target desa is not served (why_not.csv)
    "served": ("Served (share ≥ β of its people covered)", "status_terlayani", "Terlayani (≥ β penduduk)"),
    "obstacle": ("What stands in the way", "hambatan", "Hambatan"),
    "best_site_id": ("Best candidate for the desa", "kandidat_terbaik", "Kandidat Terbaik"),
    "best_site_chosen": ("Best candidate chosen", "kandidat_terbaik_terpilih",
                         "Kandidat Terbaik Terpilih"),
    "best_site_share": ("Share the best candidate covers", "persentase_kandidat_terbaik",
                        "Persentase Terlayani Kandidat Terbaik"),
    "best_site_cost_idr": ("Cost of the best candidate (Rp)", "biaya_kandidat_terbaik_idr",
                           "Biaya Kandidat Terbaik (Rp)"),
    "distance_m": ("Distance site–settlement (m)", "jarak_lokasi_permukiman_m",
                   "Jarak Lokasi–Permukiman (m)"),
    "settlement_people": ("People at the settlement", "penduduk_permukiman", "Penduduk Permukiman"),
    "settlement_lon": ("Settlement longitude (°E, WGS 84)", "bujur_permukiman",
                       "Bujur Permukiman (°BT, WGS 84)"),
    "settlement_lat": ("Settlement latitude (°N, WGS 84)", "lintang_permukiman",
                       "Lintang Permukiman (°LU, WGS 84)"),
    "rsrp_dbm": ("Median RSRP at the settlement (dBm)", "rsrp_permukiman_dbm", "RSRP di Permukiman (dBm)"),
    "rsrp_needed_dbm": ("Median RSRP needed (dBm, threshold + location margin)",
                        "rsrp_dibutuhkan_dbm", "RSRP Median yang Dibutuhkan (dBm)"),
    "canopy_loss_db": ("Canopy loss at the handset (dB)", "redaman_kanopi_db",
                       "Redaman Kanopi di Handset (dB)"),
    "clearance_m": ("Clearance of 0.6 Fresnel zone (m)", "ruang_bebas_fresnel_m",
                    "Ruang Bebas Zona Fresnel 0,6 (m)"),
    "los_obstructed": ("Line of sight blocked by terrain", "garis_pandang_terhalang",
                       "Garis Pandang Terhalang Medan"),
    "profile": ("Path profile (PNG)", "profil_lintasan", "Profil Lintasan (PNG)"),
    # summary sheet
    "item": ("Item", "uraian", "Uraian"),
    "value": ("Value", "nilai", "Nilai"),
}
"""Every column the reports write, with its English label and Indonesian name and label."""

TEXT_COLUMNS = frozenset({"kode", "village_id", "kecamatan_id", "site_id"})
"""Codes kept as text everywhere (leading zeros and dots preserved): never numbers."""

SHEET_NAMES: dict[str, tuple[str, str]] = {
    "summary": ("Summary", "Ringkasan"),
    "desa": ("Desa", "Desa"),
    "kecamatan": ("Kecamatan", "Kecamatan"),
    "ranking": ("Ranking", "Peringkat"),
    "costs": ("Costs", "Biaya"),
}
"""XLSX sheet names by table, (English, Indonesian)."""

SUMMARY_LABELS: dict[str, tuple[str, str]] = {
    "title": ("Plan", "Rencana"),
    "n_towers": ("Towers chosen", "Jumlah menara terpilih"),
    "towers": ("Towers, in rank order", "Menara, urut peringkat"),
    "total_cost_idr": ("Total cost (Rp)", "Total biaya (Rp)"),
    "budget_idr": ("Budget (Rp)", "Anggaran (Rp)"),
    "budget_left_idr": ("Budget left (Rp)", "Sisa anggaran (Rp)"),
    "people_covered": ("People newly covered", "Penduduk baru terlayani"),
    "people_in_target_desa_not_yet_served": (
        "People in target desa not yet served", "Penduduk desa sasaran belum terlayani"),
    "people_in_target_desa_served_by_existing_towers": (
        "People in target desa served by existing towers",
        "Penduduk desa sasaran terlayani menara eksisting"),
    "target_desa": ("Target desa (kode wilayah)", "Desa sasaran (kode wilayah)"),
    "objective": (
        "Objective (desa: target desa served, then people; people: people served)",
        "Tujuan (desa: desa sasaran terlayani, lalu penduduk; people: penduduk terlayani)"),
    "n_target_desa_served": (
        "Target desa served (β of people covered)",
        "Desa sasaran terlayani (β penduduk terlayani)"),
    "target_desa_served": (
        "Target desa served (kode wilayah)", "Desa sasaran terlayani (kode wilayah)"),
    "n_desa": ("Desa / kelurahan reported", "Jumlah desa/kelurahan dilaporkan"),
    "population": ("Population of all desa", "Jumlah penduduk seluruh desa"),
    "population_covered": ("Population covered, all desa", "Penduduk terlayani, seluruh desa"),
    "model": ("Propagation model", "Model propagasi"),
    "threshold_dbm": ("Coverage threshold, RSRP (dBm)", "Ambang cakupan, RSRP (dBm)"),
    "solver": ("Ranking method", "Metode pemeringkatan"),
    "status": ("Solver status", "Status solver"),
    "optimum_people": ("Proven optimum, people", "Optimum terbukti, penduduk"),
    "plan_share_of_optimum": ("Plan's share of the optimum", "Capaian rencana terhadap optimum"),
    "terrain": ("Terrain", "Data medan (DEM)"),
    "crs": ("Coordinate reference system", "Sistem referensi koordinat"),
    "created": ("Created", "Dibuat"),
}
"""Rows of the XLSX summary sheet, (English, Indonesian)."""

PHRASES: dict[str, tuple[str, str]] = {
    "map_title": (
        "Tower plan: {n} towers, {cost} of {budget}; {n_served} of {n_target} target desa served, "
        "{people} people newly covered",
        "Rencana menara: {n} menara, {cost} dari {budget}; {n_served} dari {n_target} desa sasaran "
        "terlayani, {people} penduduk baru terlayani",
    ),
    "share_legend": ("Desa: share of people covered", "Desa: persentase penduduk terlayani"),
    "rsrp_legend": ("RSRP of chosen towers", "RSRP menara terpilih"),
    "towers_legend": ("Map symbols", "Simbol peta"),
    "tower": ("Chosen tower (number = rank)", "Menara terpilih (angka = peringkat)"),
    "candidate": ("Candidate site", "Kandidat lokasi"),
    "target_desa": ("Target blank-spot desa", "Desa sasaran blank spot"),
    "kecamatan_boundary": ("Kecamatan boundary", "Batas kecamatan"),
    "north": ("N", "U"),
    "model_line": (
        "Coverage: {model}; covered at RSRP ≥ {threshold:g} dBm; towers {height:g} m; "
        "grid {crs}.",
        "Cakupan: {model}; terlayani bila RSRP ≥ {threshold:g} dBm; menara {height:g} m; "
        "grid {crs}.",
    ),
    "sources_line": ("Sources: {sources}.", "Sumber: {sources}."),
    "made_line": ("Made with blankspot {version} on {date}.", "Dibuat dengan blankspot {version}, {date}."),
    "synthetic_terrain": (
        "Terrain: SYNTHETIC demo DEM (real coarse relief + invented detail below 10 km); not "
        "survey data. Real planning needs a real DEM.",
        "Medan: DEM demo SINTETIS (SYNTHETIC: relief kasar nyata + detail rekaan di bawah 10 km); "
        "bukan data survei. Perencanaan nyata memerlukan DEM nyata.",
    ),
    "rsrp_excellent": ("excellent", "sangat baik"),
    "rsrp_good": ("good", "baik"),
    "rsrp_fair": ("fair", "cukup"),
    "rsrp_covered": ("covered (terlayani)", "terlayani"),
    "rsrp_weak": ("weak (lemah)", "lemah"),
    "dataset_title": (
        "Blank-spot tower plan: {area}",
        "Rencana menara telekomunikasi di wilayah blank spot: {area}",
    ),
    "dataset_description": (
        "Mobile-signal coverage modelled over terrain for {n_desa} desa/kelurahan and {n_towers} "
        "telecom towers ranked by the plan's objective (by default target desa served, then "
        "people covered) per Rupiah under a budget of {budget}. "
        "Per desa and per kecamatan: population and the share of it covered; per tower: rank, "
        "cost with its breakdown, people and desa newly served.",
        "Cakupan sinyal seluler yang dimodelkan di atas data medan untuk {n_desa} desa/kelurahan "
        "dan {n_towers} menara telekomunikasi yang diperingkat menurut tujuan rencana (bawaan: "
        "desa sasaran terlayani, lalu penduduk terlayani) per Rupiah dengan anggaran {budget}. "
        "Per desa dan per kecamatan: jumlah penduduk dan persentase yang terlayani; per menara: "
        "peringkat, biaya beserta rinciannya, serta penduduk dan desa yang baru terlayani.",
    ),
    "method_description": (
        "Line of sight or a propagation model over the terrain gives each candidate's path loss; "
        "an LTE link budget turns it into RSRP; a cell is covered at RSRP ≥ the threshold. People "
        "are spread over demand cells inside each desa; a desa is served when a share β (80 % by "
        "default) of its people is covered. Towers are ranked by lazy greedy on target desa newly "
        "served, then people newly covered, per Rupiah within the budget (or on people alone); "
        "an exact MILP (HiGHS) certifies how far the ranked plan is from the optimum.",
        "Garis pandang (line of sight) atau model propagasi di atas data medan memberi redaman "
        "lintasan tiap kandidat; anggaran daya (link budget) LTE mengubahnya menjadi RSRP; sel "
        "terlayani bila RSRP ≥ ambang. Penduduk disebar ke sel permintaan di dalam tiap desa; "
        "desa terlayani bila porsi β (bawaan 80 %) penduduknya terlayani. Menara diperingkat "
        "dengan algoritma greedy atas tambahan desa sasaran terlayani, lalu tambahan penduduk "
        "terlayani, per Rupiah dalam batas anggaran (atau atas penduduk saja); MILP eksak "
        "(HiGHS) memastikan seberapa dekat rencana dengan optimum.",
    ),
    "producer_unset": (
        "Not set: the agency that publishes these outputs (produsen data) fills this in.",
        "Belum diisi: diisi oleh instansi yang menerbitkan keluaran ini (produsen data).",
    ),
    "contact_unset": (
        "Not set: contact of the publishing agency.",
        "Belum diisi: kontak instansi penerbit.",
    ),
    "licence_unset": (
        "Not set: the publishing agency chooses the licence of these outputs; each input keeps "
        "its own licence (see sumber).",
        "Belum diisi: instansi penerbit menentukan lisensi keluaran ini; setiap data masukan "
        "tetap dengan lisensinya sendiri (lihat sumber).",
    ),
    "source_desa": (
        "desa boundaries and kode wilayah: Kemendagri 2025 (cahyadsn/wilayah_boundaries, MIT); "
        "population: BPS SP2010",
        "batas dan kode wilayah desa: Kemendagri 2025 (cahyadsn/wilayah_boundaries, MIT); "
        "penduduk: BPS SP2010",
    ),
    "source_kecamatan": ("kecamatan totals: Dukcapil 2020", "total kecamatan: Dukcapil 2020"),
    "source_places": ("settlements: GeoNames", "permukiman: GeoNames"),
    "source_dem_synthetic": (
        "DEM: SYNTHETIC demo relief on Mapzen terrain (BSD-3-Clause)",
        "DEM: relief demo SINTETIS (SYNTHETIC) dari medan Mapzen (BSD-3-Clause)",
    ),
    "table_sources": ("| file | role | licence | sha256 |", "| berkas | peran | lisensi | sha256 |"),
    "table_outputs": ("| file | bytes | sha256 |", "| berkas | bita | sha256 |"),
    "metadata_heading": ("Metadata", "Metadata"),
    "outputs_heading": ("Output files", "Berkas keluaran"),
    "sources_heading": ("Sources", "Sumber"),
    "parameters_heading": ("Parameters", "Parameter"),
    # the interactive map (map.html): layers, legend, title, tooltips, popups and controls
    "map_plan_title": (
        "blankspot plan: {n} towers, {cost} of {budget}; {n_served} of {n_target} target desa "
        "served, {people} people newly covered ({model}, RSRP ≥ {threshold:g} dBm)",
        "Rencana blankspot: {n} menara, {cost} dari {budget}; {n_served} dari {n_target} desa "
        "sasaran terlayani, {people} penduduk baru terlayani ({model}, RSRP ≥ {threshold:g} dBm)",
    ),
    "map_terrain": ("Terrain: {source}", "Medan: {source}"),
    "map_model_los": ("LOS + free space", "LOS + ruang bebas"),
    "map_clutter_landcover": (
        "with land-cover clutter cell by cell ({name}) {where}",
        "dengan clutter tutupan lahan per sel ({name}) {where}"),
    "map_clutter": ("with {name} clutter {where}", "dengan clutter {name} {where}"),
    "map_clutter_handset": ("at the handset (P.2108)", "di sisi handset (P.2108)"),
    "map_clutter_path": ("along the path", "sepanjang lintasan"),
    "map_calibrated": ("calibrated", "terkalibrasi"),
    "map_at_points": ("siting on exact paths to the demand points",
                      "penempatan dihitung pada lintasan tepat ke titik permintaan"),
    "map_terrain_res": ("{res:g} m terrain", "medan {res:g} m"),
    "map_synthetic_note": ("Terrain: SYNTHETIC demo DEM", "Medan: DEM demo SINTETIS (SYNTHETIC)"),
    "map_demand": ("People placed by: {demand}", "Sebaran penduduk: {demand}"),
    "demand_line": ("Demand: {demand}.", "Permintaan: {demand}."),
    # the words of a demand model label (blankspot.demand.DemandLayer.label), longest first
    "demand_term_settlements": ("settlements", "permukiman"),
    "demand_term_per_desa": ("1 per desa for", "1 per desa untuk"),
    "demand_term_one_per_desa": ("1 per desa", "1 per desa"),
    "demand_term_geonames": ("GeoNames place", "tempat GeoNames"),
    "demand_term_representative": ("representative point", "titik representatif poligon"),
    "demand_term_file": ("settlement file", "berkas permukiman"),
    "demand_term_osm": ("OSM place", "tempat OSM"),
    "demand_term_ignored": ("outside every desa ignored", "di luar semua desa diabaikan"),
    "demand_term_landcover": ("land cover: built-up and cropland cells in",
                              "tutupan lahan: sel permukiman dan lahan pertanian di"),
    "demand_term_uniform": ("uniform:", "merata:"),
    "demand_term_cells_over": ("m cells over each desa", "m sel di setiap desa"),
    "demand_term_raster": ("population raster:", "raster penduduk:"),
    "demand_term_on_cells": ("m cells", "m sel"),
    "demand_term_on": (" on ", " pada "),
    "demand_term_in": (" in ", " di "),
    "map_layer_desa": (
        "Desa / kelurahan: share of people covered", "Desa / kelurahan: persentase penduduk terlayani"),
    "map_layer_targets": ("Blank-spot target desa ({n})", "Desa sasaran blank spot ({n})"),
    "map_layer_coverage": ("Coverage of chosen towers (RSRP)", "Cakupan menara terpilih (RSRP)"),
    "map_layer_best_server": (
        "Best server: which chosen tower serves each pixel",
        "Server terbaik: menara terpilih yang melayani tiap piksel"),
    "map_layer_towers": ("Chosen towers, ranked ({n})", "Menara terpilih, urut peringkat ({n})"),
    "map_layer_candidates": ("All candidate sites ({n})", "Semua kandidat lokasi ({n})"),
    "map_legend_targets": ("blank-spot target desa ({n})", "desa sasaran blank spot ({n})"),
    "map_legend_rsrp": ("RSRP of chosen towers (median)", "RSRP menara terpilih (median)"),
    "map_opacity": ("overlay opacity", "transparansi lapisan"),
    "map_opacity_aria": ("coverage overlay opacity", "transparansi lapisan cakupan"),
    "map_legend_best_server": ("Best server (tower rank)", "Server terbaik (peringkat menara)"),
    "map_colours_repeat": ("colours repeat every {n} ranks", "warna berulang setiap {n} peringkat"),
    "map_population": ("population", "penduduk"),
    "map_people_covered": ("people covered", "penduduk terlayani"),
    "map_share_covered": ("share covered %", "persentase terlayani %"),
    "map_status_target": ("blank-spot target", "sasaran blank spot"),
    "map_desa_served": ("served: {share} % of its people covered",
                        "terlayani: {share} % penduduknya tercakup"),
    "map_desa_not_served": ("not served: {share} % of its people covered",
                            "belum terlayani: {share} % penduduknya tercakup"),
    "map_obstacle": ("what stands in the way", "hambatan"),
    "map_obstacle_cost": ("cost: its best candidate would serve it, the budget went to others",
                          "biaya: kandidat terbaiknya dapat melayani, anggaran dipakai lokasi lain"),
    "map_obstacle_canopy": ("canopy: the forest at the handset pushes the signal below the threshold",
                            "kanopi: hutan di sisi handset menurunkan sinyal di bawah ambang"),
    "map_obstacle_terrain": ("terrain: the hills block the line of sight",
                             "medan: perbukitan menghalangi garis pandang"),
    "map_obstacle_distance": ("distance: a clear path, but too far for the link budget",
                              "jarak: lintasan bebas, tetapi terlalu jauh untuk anggaran daya"),
    "map_obstacle_no_candidate": ("no candidate site within reach",
                                  "tidak ada kandidat lokasi dalam jangkauan"),
    "map_best_candidate": (
        "best candidate {site}: {share} % of the desa; RSRP {rsrp} dBm at the settlement, {km} km away",
        "kandidat terbaik {site}: {share} % desa; RSRP {rsrp} dBm di permukiman, berjarak {km} km"),
    "map_profile_link": ("path profile (PNG)", "profil lintasan (PNG)"),
    "map_candidate": ("candidate", "kandidat"),
    "map_source": ("source", "asal"),
    "map_height": ("height m AGL", "tinggi m di atas tanah"),
    "map_tower": ("Tower #{rank}", "Menara #{rank}"),
    "map_tower_height": (
        "height {height:g} m AGL · lat {lat:.5f}, lon {lon:.5f}",
        "tinggi {height:g} m di atas tanah · lintang {lat:.5f}, bujur {lon:.5f}"),
    "map_cost_tower": ("tower", "menara"),
    "map_cost_land": ("land", "lahan"),
    "map_cost_road": ("road", "jalan akses"),
    "map_cost_power": ("power", "catu daya"),
    "map_cost_backhaul": ("backhaul", "backhaul"),
    "map_cost_equipment": ("equipment", "perangkat"),
    "map_cost_contingency": ("contingency", "tak terduga"),
    "map_cost_total": ("total", "total"),
    "map_estimate": ("estimate", "perkiraan"),
    "map_people_new": ("people newly covered", "penduduk baru terlayani"),
    "map_cumulative": ("cumulative: {people} people, {cost}", "kumulatif: {people} penduduk, {cost}"),
    "map_desa_served_new": ("desa brought to served", "desa baru terlayani"),
    "map_desa_improved": ("desa improved, not yet served", "desa bertambah cakupan, belum terlayani"),
    "map_none": ("none", "tidak ada"),
    "map_cost_from": ("cost from", "asal biaya"),
    "map_fullscreen": ("Full screen", "Layar penuh"),
    "map_fullscreen_exit": ("Exit full screen", "Keluar dari layar penuh"),
    "map_measure": ("Measure a distance", "Ukur jarak"),
    "map_measure_stop": ("Stop measuring", "Berhenti mengukur"),
    "map_measure_clear": ("Clear measurements", "Hapus pengukuran"),
    "map_measure_finish": ("Click to finish the line", "Klik untuk mengakhiri garis"),
    "map_measure_delete": (
        "Press SHIFT and click to delete a point", "Tekan SHIFT dan klik untuk menghapus titik"),
    "map_measure_move": ("Click and drag to move a point", "Klik dan seret untuk memindahkan titik"),
    "map_measure_resume": (
        "Press CTRL and click to resume the line", "Tekan CTRL dan klik untuk melanjutkan garis"),
    "map_measure_add": ("Press CTRL and click to add a point", "Tekan CTRL dan klik untuk menambah titik"),
    # codes shown on the map: candidate sources and the power and backhaul options
    "map_code_user": ("user", "pengguna"),
    "map_code_high_point": ("high_point", "titik tinggi"),
    "map_code_grid": ("grid", "grid"),
    "map_code_pln": ("pln", "PLN"),
    "map_code_off_grid_solar": ("off_grid_solar", "surya off-grid"),
    "map_code_microwave": ("microwave", "microwave"),
    "map_code_fibre": ("fibre", "serat optik"),
    "map_code_vsat": ("vsat", "VSAT"),
    "map_code_site_file": ("site file", "berkas lokasi"),
    "map_code_flat_price": ("flat price", "harga tetap"),
    "map_code_cost_model": ("cost model", "model biaya"),
    "map_search": ("Cari desa / search desa...", "Cari desa..."),
    "map_search_none": ("Desa not found", "Desa tidak ditemukan"),
    "map_search_clear": ("Clear", "Hapus"),
}
"""Other words of the reports (map title, legend, caption, metadata prose, and every word of the
interactive map under ``map_*``), (English, Indonesian)."""

RSRP_CLASS_PHRASES: dict[float, str] = {
    -80.0: "rsrp_excellent",
    -90.0: "rsrp_good",
    -100.0: "rsrp_fair",
    -105.0: "rsrp_covered",
    -110.0: "rsrp_weak",
}
"""Phrase key of each planner RSRP class, by its lower bound in dBm."""


def check_lang(lang: str) -> str:
    """``lang`` if it is one of :data:`LANGS`; otherwise a :class:`~blankspot.errors.SchemaError`."""
    if lang not in LANGS:
        raise SchemaError(f"lang must be one of {', '.join(map(repr, LANGS))}; received {lang!r}.")
    return lang


def column_name(column: str, lang: str = "en") -> str:
    """CSV header of ``column``: the column itself in English, its Indonesian name with ``"id"``.

    A column without a translation keeps its own name (``tests/test_export.py`` checks that
    every column written has one).

    Examples
    --------
    >>> column_name("share_covered", "id")
    'persentase_terlayani'
    >>> column_name("share_covered")
    'share_covered'
    """
    check_lang(lang)
    if lang == "en" or column not in COLUMN_LABELS:
        return column
    return COLUMN_LABELS[column][1]


def column_label(column: str, lang: str = "en") -> str:
    """XLSX header of ``column``: a display label in English or Bahasa Indonesia.

    Examples
    --------
    >>> column_label("cost_idr", "id")
    'Biaya (Rp)'
    >>> column_label("population")
    'Population (persons)'
    """
    check_lang(lang)
    labels = COLUMN_LABELS.get(column)
    if labels is None:
        return column
    return labels[0] if lang == "en" else labels[2]


def untranslated_columns(columns: Iterable[str]) -> list[str]:
    """The columns of ``columns`` that have no entry in :data:`COLUMN_LABELS`."""
    return [c for c in columns if c not in COLUMN_LABELS]


def phrase(key: str, lang: str = "en", **values: object) -> str:
    """A phrase of :data:`PHRASES` (or a row of :data:`SUMMARY_LABELS`) in ``lang``, formatted."""
    check_lang(lang)
    pair = PHRASES.get(key) or SUMMARY_LABELS[key]
    text = pair[0] if lang == "en" else pair[1]
    return text.format(**values) if values else text


def sheet_name(table: str, lang: str = "en") -> str:
    """XLSX sheet name of a table (``summary``, ``desa``, ``kecamatan``, ``ranking``, ``costs``)."""
    check_lang(lang)
    en, id_ = SHEET_NAMES[table]
    return en if lang == "en" else id_


def translate_columns(frame: pd.DataFrame, lang: str = "en", *, style: str = "name") -> pd.DataFrame:
    """A copy of ``frame`` with headers for ``lang``: ``style="name"`` (CSV) or ``"label"`` (XLSX)."""
    rename = column_name if style == "name" else column_label
    return frame.rename(columns={c: rename(c, lang) for c in frame.columns})

OUTPUT_DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "map.html": ("Interactive map (Leaflet embedded, opens offline)",
                 "Peta interaktif (Leaflet tertanam, dapat dibuka luring)"),
    "map.png": ("Static map for printed reports", "Peta statis untuk laporan cetak"),
    "ranking.csv": ("Ranked towers with cost breakdown", "Peringkat menara beserta rincian biaya"),
    "desa.csv": ("Coverage per desa/kelurahan", "Cakupan per desa/kelurahan"),
    "kecamatan.csv": ("Coverage per kecamatan", "Cakupan per kecamatan"),
    "costs.csv": ("Cost breakdown of every candidate site", "Rincian biaya setiap kandidat lokasi"),
    "curve.csv": ("Cost–coverage curve", "Kurva biaya–cakupan"),
    "stability.csv": ("Ranking stability under changed costs and threshold",
                      "Kestabilan peringkat bila biaya dan ambang berubah"),
    "summary.json": ("Headline figures and the exact solver's certificate",
                     "Angka utama dan sertifikat solver eksak"),
    "coverage.tif": ("Best-server RSRP of the chosen towers (GeoTIFF, dBm)",
                     "RSRP server terbaik menara terpilih (GeoTIFF, dBm)"),
    "report.xlsx": ("Workbook: summary, desa, kecamatan, ranking, costs",
                    "Buku kerja: ringkasan, desa, kecamatan, peringkat, biaya"),
    "plan.gpkg": ("GeoPackage: desa, kecamatan, towers, candidates, demand cells",
                  "GeoPackage: desa, kecamatan, menara, kandidat, sel permintaan"),
    "coverage_rsrp_dbm.cog.tif": ("Best-server RSRP, Cloud-Optimised GeoTIFF (dBm)",
                                  "RSRP server terbaik, Cloud-Optimised GeoTIFF (dBm)"),
    "coverage_best_server.cog.tif": (
        "Rank of the tower serving each cell at RSRP ≥ threshold (0: none), Cloud-Optimised GeoTIFF",
        "Peringkat menara yang melayani tiap sel pada RSRP ≥ ambang (0: tidak ada), "
        "Cloud-Optimised GeoTIFF"),
    "hindcast.csv": ("The 2022 towers as built against blankspot's plan at the same budget",
                     "Menara 2022 yang dibangun dibandingkan rencana blankspot dengan anggaran sama"),
    "why_not.csv": ("Per target desa: served or not, and what stands in the way",
                    "Per desa sasaran: terlayani atau tidak, dan hambatannya"),
    "metadata.md": ("This metadata, for reading", "Metadata ini, untuk dibaca"),
    "metadata.json": ("Metadata of the run", "Metadata proses"),
}
"""What each output file holds, (English, Indonesian)."""

UNIT_LABELS: dict[str, tuple[str, str]] = {
    "population": ("persons", "jiwa"),
    "idr": ("whole Rupiah (IDR), integers", "Rupiah (IDR), bilangan bulat"),
    "share": ("fraction of the population, 0–1", "proporsi penduduk, 0–1"),
    "dbm": ("dBm (decibel-milliwatt)", "dBm (desibel-miliwatt)"),
    "m": ("metres", "meter"),
    "deg": ("degrees, WGS 84 (EPSG:4326)", "derajat, WGS 84 (EPSG:4326)"),
    "rank": ("rank, 1 = chosen first", "peringkat, 1 = dipilih pertama"),
}
"""Units of the reported quantities, (English, Indonesian)."""
