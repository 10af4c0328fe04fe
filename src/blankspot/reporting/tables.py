"""Planner tables: the ranked towers and per-desa / per-kecamatan coverage, keyed by kode wilayah."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from blankspot.crs import WGS84
from blankspot.errors import SchemaError
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


def ranking_table(
    result: SitingResult,
    sites: gpd.GeoDataFrame,
    *,
    desa_new: Sequence[Iterable[str]] | None = None,
    site_costs: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per chosen tower in pick order.

    ``result`` is a :class:`blankspot.siting.SitingResult`; ``sites`` the candidate frame (any CRS)
    indexed by ``site_id``; ``desa_new`` an optional list (one entry per pick) of the desa names
    that pick newly serves; ``site_costs`` the :meth:`blankspot.costs.CostModel.site_costs` frame,
    whose breakdown columns are appended.
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
            "source": chosen["source"].to_numpy() if "source" in chosen else "",
        }
    )
    frame = frame[list(RANKING_COLUMNS)]
    if site_costs is not None:
        extra = [c for c in BREAKDOWN_COLUMNS if c in site_costs.columns]
        frame = frame.join(site_costs.loc[ids, extra].reset_index(drop=True))
    return frame


def desa_table(
    villages: pd.DataFrame, summary: pd.DataFrame, *, targets: Iterable[Hashable] = ()
) -> pd.DataFrame:
    """Per desa: kode, nama, kecamatan, population, population covered, share, target flag."""
    v = villages.join(summary[["population_covered", "share_covered"]], how="left")
    out = pd.DataFrame(
        {
            "kode": v.index.astype(str),
            "nama": v["name"].to_numpy(),
            "kecamatan": v["kecamatan"].to_numpy() if "kecamatan" in v else "",
            "population": v["population"].to_numpy(),
            "population_covered": v["population_covered"].fillna(0.0).round(1).to_numpy(),
            "share_covered": v["share_covered"].fillna(0.0).round(4).to_numpy(),
            "target": v.index.isin(list(targets)),
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
    "desa_new": ("Desa newly served", "desa_baru_terlayani", "Desa Baru Terlayani"),
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
        "Tower plan: {n} towers, {cost} of {budget}; {people} people newly covered in {n_target} "
        "target desa",
        "Rencana menara: {n} menara, {cost} dari {budget}; {people} penduduk baru terlayani di "
        "{n_target} desa sasaran",
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
        "telecom towers ranked by people newly covered per Rupiah under a budget of {budget}. "
        "Per desa and per kecamatan: population and the share of it covered; per tower: rank, "
        "cost with its breakdown, people and desa newly served.",
        "Cakupan sinyal seluler yang dimodelkan di atas data medan untuk {n_desa} desa/kelurahan "
        "dan {n_towers} menara telekomunikasi yang diperingkat menurut tambahan penduduk terlayani "
        "per Rupiah dengan anggaran {budget}. Per desa dan per kecamatan: jumlah penduduk dan "
        "persentase yang terlayani; per menara: peringkat, biaya beserta rinciannya, serta "
        "penduduk dan desa yang baru terlayani.",
    ),
    "method_description": (
        "Line of sight or a propagation model over the terrain gives each candidate's path loss; "
        "an LTE link budget turns it into RSRP; a cell is covered at RSRP ≥ the threshold. People "
        "are spread over demand cells inside each desa. Towers are ranked by lazy greedy on people "
        "newly covered per Rupiah within the budget; an exact MILP (HiGHS) certifies how far the "
        "ranked plan is from the optimum.",
        "Garis pandang (line of sight) atau model propagasi di atas data medan memberi redaman "
        "lintasan tiap kandidat; anggaran daya (link budget) LTE mengubahnya menjadi RSRP; sel "
        "terlayani bila RSRP ≥ ambang. Penduduk disebar ke sel permintaan di dalam tiap desa. "
        "Menara diperingkat dengan algoritma greedy atas tambahan penduduk terlayani per Rupiah "
        "dalam batas anggaran; MILP eksak (HiGHS) memastikan seberapa dekat rencana dengan "
        "optimum.",
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
        "blankspot plan: {n} towers, {cost} of {budget}, {people} people newly covered in "
        "{n_target} target desa ({model}, RSRP ≥ {threshold:g} dBm)",
        "Rencana blankspot: {n} menara, {cost} dari {budget}, {people} penduduk baru terlayani "
        "di {n_target} desa sasaran ({model}, RSRP ≥ {threshold:g} dBm)",
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
    "map_desa_new": ("desa newly served", "desa baru terlayani"),
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
