"""Reports of a plan: CSV/XLSX with Indonesian headers, GeoPackage, COGs, static map, metadata."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from click.testing import CliRunner

from blankspot.errors import SchemaError
from blankspot.reporting.export import (
    GPKG_LAYERS,
    METADATA_JSON_FILE,
    REPORT_FORMATS,
    report_tables,
    write_reports,
)
from blankspot.reporting.tables import (
    COLUMN_LABELS,
    PHRASES,
    SUMMARY_LABELS,
    column_label,
    column_name,
    untranslated_columns,
)
from paser_window import SEGENDANG, SMALL, WINDOW

KODE_DESA = re.compile(r"^64\.01\.\d\d\.\d{4}$")

pytestmark = pytest.mark.paser



@pytest.fixture(scope="module")
def reports(small_plan, tmp_path_factory):
    """{lang: (folder, paths)} for English and Bahasa Indonesia."""
    out = {}
    for lang in ("en", "id"):
        folder = tmp_path_factory.mktemp(f"reports-{lang}")
        out[lang] = (folder, write_reports(small_plan, folder, lang=lang))
    return out


# --- labels --------------------------------------------------------------------------------------


def test_every_column_written_has_a_translation(small_plan):
    tables = report_tables(small_plan)
    for name, frame in tables.items():
        assert untranslated_columns(frame.columns) == [], name
        ids = [column_name(c, "id") for c in frame.columns]
        labels = [column_label(c, "id") for c in frame.columns]
        assert len(set(ids)) == len(ids) and len(set(labels)) == len(labels), name
        assert all(re.fullmatch(r"[a-z0-9_]+", c) for c in ids), name
    for key, labels in {**COLUMN_LABELS, **PHRASES, **SUMMARY_LABELS}.items():
        assert all(isinstance(t, str) and t.strip() for t in labels), key
    assert column_name("village_id", "id") == "kode_desa"
    assert column_label("kode", "id") == "Kode Wilayah"
    assert column_label("share_covered", "id") == "Persentase Penduduk Terlayani"
    assert column_label("cost_idr", "id") == "Biaya (Rp)"


def test_unknown_language_or_format_is_refused(small_plan, tmp_path):
    with pytest.raises(SchemaError, match="lang"):
        write_reports(small_plan, tmp_path, lang="fr")
    with pytest.raises(SchemaError, match="'pdf'"):
        write_reports(small_plan, tmp_path, formats=("csv", "pdf"))
    assert not any(tmp_path.iterdir())


def test_all_reports_are_written(reports):
    for folder, paths in reports.values():
        names = {p.name for p in folder.iterdir()}
        assert names == set(paths)
        assert {"report.xlsx", "plan.gpkg", "coverage_rsrp_dbm.cog.tif",
                "coverage_best_server.cog.tif", "map.png", "metadata.json", "metadata.md",
                "desa.csv", "kecamatan.csv", "ranking.csv", "costs.csv"} <= names
        assert not [n for n in names if "tmp" in n]


# --- CSV and XLSX --------------------------------------------------------------------------------


def test_csv_headers_in_english_and_indonesian(small_plan, reports):
    en = pd.read_csv(reports["en"][1]["desa.csv"], dtype={"kode": str})
    id_ = pd.read_csv(reports["id"][1]["desa.csv"], dtype={"kode_desa": str})
    assert list(en.columns) == list(small_plan.desa.columns)
    assert list(id_.columns[:6]) == ["kode_desa", "nama_desa", "kecamatan", "jumlah_penduduk",
                                     "penduduk_terlayani", "persentase_terlayani"]
    assert (id_["kode_desa"] == en["kode"]).all() and id_["kode_desa"].str.match(KODE_DESA).all()
    pd.testing.assert_frame_equal(id_.set_axis(list(en.columns), axis=1), en)  # NaN = NaN
    ranking = pd.read_csv(reports["id"][1]["ranking.csv"])
    assert {"peringkat", "id_lokasi", "biaya_idr", "biaya_kumulatif_idr"} <= set(ranking.columns)
    assert ranking["biaya_idr"].dtype == np.int64
    kec = pd.read_csv(reports["id"][1]["kecamatan.csv"], dtype={"kode_kecamatan": str})
    assert len(kec) == 10 and kec["kode_kecamatan"].str.match(r"^64\.01\.\d\d$").all()


def test_xlsx_sheets_text_codes_and_rupiah(small_plan, reports):
    from openpyxl import load_workbook

    en = pd.read_excel(reports["en"][1]["report.xlsx"], sheet_name=None)
    assert list(en) == ["Summary", "Desa", "Kecamatan", "Ranking", "Costs"]
    id_ = pd.read_excel(reports["id"][1]["report.xlsx"], sheet_name=None)
    assert list(id_) == ["Ringkasan", "Desa", "Kecamatan", "Peringkat", "Biaya"]

    desa = id_["Desa"]
    assert list(desa.columns[:4]) == ["Kode Wilayah", "Nama Desa", "Kecamatan", "Jumlah Penduduk"]
    assert "Persentase Penduduk Terlayani" in desa.columns
    assert len(desa) == 144 and desa["Kode Wilayah"].map(type).eq(str).all()
    assert list(desa["Kode Wilayah"]) == list(small_plan.desa["kode"])
    assert desa["Jumlah Penduduk"].sum() == 277_400
    ranking = id_["Peringkat"]
    assert list(ranking["Biaya (Rp)"]) == list(small_plan.ranking["cost_idr"])
    assert list(id_["Biaya"]["ID Lokasi"]) == list(small_plan.site_costs.index.astype(str))
    summary = dict(zip(id_["Ringkasan"]["Uraian"], id_["Ringkasan"]["Nilai"], strict=True))
    assert summary["Total biaya (Rp)"] == small_plan.total_cost_idr
    assert "SYNTHETIC" in summary["Data medan (DEM)"]

    wb = load_workbook(reports["id"][1]["report.xlsx"])
    ws = wb["Desa"]
    assert ws.freeze_panes == "A2"
    assert ws["A2"].data_type == "s" and ws["A2"].number_format == "@"
    assert KODE_DESA.match(ws["A2"].value)
    assert ws.column_dimensions["A"].width >= len("64.01.01.2009")
    ws = wb["Peringkat"]
    header = [c.value for c in ws[1]]
    cost = ws.cell(row=2, column=header.index("Biaya (Rp)") + 1)
    assert isinstance(cost.value, int) and cost.number_format == "#,##0"
    assert ws.freeze_panes == "A2"
    ws = wb["Kecamatan"]
    assert ws["A2"].data_type == "s" and re.fullmatch(r"64\.01\.\d\d", ws["A2"].value)


def test_xlsx_keeps_codes_with_leading_zeros_as_text(tmp_path):
    from openpyxl import load_workbook

    from blankspot.io.outputs import write_xlsx

    frame = pd.DataFrame({"kode": ["007", "64.01", "64.10"], "cost_idr": [1, 2_000_000_000, 3]})
    path = write_xlsx({"T": frame}, tmp_path / "t.xlsx", number_formats={"T": ["@", "#,##0"]})
    back = pd.read_excel(path, dtype={"kode": str})
    assert list(back["kode"]) == ["007", "64.01", "64.10"]
    assert list(back["cost_idr"]) == [1, 2_000_000_000, 3]
    ws = load_workbook(path)["T"]
    assert [c.data_type for c in ws["A"][1:]] == ["s", "s", "s"]
    assert [f.name for f in tmp_path.iterdir()] == ["t.xlsx"]


# --- GeoPackage ----------------------------------------------------------------------------------


def test_geopackage_layers_crs_and_content(small_plan, reports):
    import geopandas as gpd
    import pyogrio

    path = reports["en"][1]["plan.gpkg"]
    assert [name for name, _ in pyogrio.list_layers(path)] == list(GPKG_LAYERS)
    for layer in GPKG_LAYERS:
        assert pyogrio.read_info(path, layer=layer)["crs"] == "EPSG:32750", layer
    desa = gpd.read_file(path, layer="desa")
    assert len(desa) == 144 and desa.crs.to_epsg() == 32750
    assert desa["village_id"].str.match(KODE_DESA).all()
    assert {"population", "population_covered", "share_covered", "target"} <= set(desa.columns)
    assert desa.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert desa.loc[desa["village_id"] == SEGENDANG, "target"].item()
    kec = gpd.read_file(path, layer="kecamatan")
    assert len(kec) == 10 and kec["population"].sum() == 277_400
    towers = gpd.read_file(path, layer="towers")
    assert list(towers["rank"]) == list(range(1, len(small_plan.ranking) + 1))
    assert towers["cost_idr"].sum() == small_plan.total_cost_idr
    assert (towers.geom_type == "Point").all()
    # a tower's point is its site in the analysis CRS
    first = small_plan.sites.geometry.loc[small_plan.ranking["site_id"].iloc[0]]
    assert towers.geometry.iloc[0].distance(first) < 1e-6
    cands = gpd.read_file(path, layer="candidates")
    assert len(cands) == len(small_plan.sites) and cands["chosen"].sum() == len(towers)
    assert set(cands.loc[cands["chosen"], "site_id"]) == set(small_plan.solution.site_ids)
    cells = gpd.read_file(path, layer="demand_cells")
    assert len(cells) == len(small_plan.demand)
    # the demo's one settlement of Segendang: the desa's representative point
    assert cells["settlement"].tolist() == ["Segendang"]
    assert cells["demand_source"].tolist() == ["representative point"]
    covered = cells.loc[cells["covered"], "population"].sum()
    assert covered == pytest.approx(small_plan.people_covered, rel=1e-6)


def test_geopackage_fields_in_bahasa_indonesia(small_plan, reports):
    import geopandas as gpd

    path = reports["id"][1]["plan.gpkg"]
    desa = gpd.read_file(path, layer="desa")
    assert {"kode_desa", "nama_desa", "jumlah_penduduk", "persentase_terlayani"} <= set(desa.columns)
    assert desa["kode_desa"].str.match(KODE_DESA).all()
    towers = gpd.read_file(path, layer="towers")
    assert list(towers["peringkat"]) == list(range(1, len(small_plan.ranking) + 1))
    cells = gpd.read_file(path, layer="demand_cells")
    assert {"permukiman", "asal_titik_permintaan"} <= set(cells.columns)
    assert cells.loc[cells["terlayani"], "jumlah_penduduk"].sum() == pytest.approx(
        small_plan.people_covered, rel=1e-6)


def test_geopackage_is_not_left_half_written(small_plan, tmp_path, monkeypatch):
    import geopandas as gpd

    from blankspot.io.outputs import write_geopackage
    from blankspot.reporting.export import report_layers

    layers = report_layers(small_plan)
    calls = []
    real = gpd.GeoDataFrame.to_file

    def third_fails(self, *args, **kwargs):
        calls.append(kwargs.get("layer"))
        if len(calls) == 3:
            raise OSError("disk full")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", third_fails)
    with pytest.raises(OSError, match="disk full"):
        write_geopackage(layers, tmp_path / "plan.gpkg")
    assert list(tmp_path.iterdir()) == []


# --- Cloud-Optimised GeoTIFF ---------------------------------------------------------------------

_TYPE_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 16: 8,
              17: 8, 18: 8}
_TILE_TAGS = {322: "tile_width", 323: "tile_length", 324: "tile_offsets", 325: "tile_bytes",
              256: "width", 257: "height"}


def _tiff_ifds(data: bytes) -> tuple[list[dict], bool]:
    """The IFDs of a (Big)TIFF: offset, size and tile tags of each, in file order."""
    bo = {b"II": "<", b"MM": ">"}[data[:2]]
    big = struct.unpack(bo + "H", data[2:4])[0] == 43
    word = "Q" if big else "I"
    offset = struct.unpack(bo + word, data[8:16] if big else data[4:8])[0]
    ifds = []
    while offset:
        n = struct.unpack(bo + ("Q" if big else "H"), data[offset : offset + (8 if big else 2)])[0]
        start = offset + (8 if big else 2)
        size = 20 if big else 12
        ifd: dict = {"offset": offset}
        for k in range(n):
            e = start + k * size
            tag, typ = struct.unpack(bo + "HH", data[e : e + 4])
            count = struct.unpack(bo + word, data[e + 4 : e + (12 if big else 8)])[0]
            value_at = e + (12 if big else 8)
            if tag not in _TILE_TAGS:
                continue
            fmt = {3: "H", 4: "I", 16: "Q"}[typ]
            nbytes = count * _TYPE_SIZE[typ]
            if nbytes > (8 if big else 4):
                value_at = struct.unpack(bo + word, data[value_at : value_at + (8 if big else 4)])[0]
            values = struct.unpack(bo + fmt * count, data[value_at : value_at + nbytes])
            ifd[_TILE_TAGS[tag]] = values if tag in (324, 325) else values[0]
        ifds.append(ifd)
        nxt = start + n * size
        offset = struct.unpack(bo + word, data[nxt : nxt + (8 if big else 4)])[0]
    return ifds, big


def cog_problems(path) -> list[str]:
    """Why a file is not a Cloud-Optimised GeoTIFF (after GDAL's validate_cloud_optimized_geotiff).

    Tiled main image and overviews; overviews present when the image is larger than a tile; the
    GDAL structural-metadata ghost header saying the IFDs come before the data; every IFD before
    any tile data; the smallest overview's data first and the full resolution's last; each
    image's tiles in order.
    """
    data = Path(path).read_bytes()
    ifds, big = _tiff_ifds(data)
    problems = []
    ghost = data[16 if big else 8 :][:400]
    if not ghost.startswith(b"GDAL_STRUCTURAL_METADATA_SIZE="):
        problems.append("no GDAL structural metadata after the header")
    elif b"LAYOUT=IFDS_BEFORE_DATA" not in ghost:
        problems.append("structural metadata lacks LAYOUT=IFDS_BEFORE_DATA")
    for i, ifd in enumerate(ifds):
        if "tile_offsets" not in ifd:
            problems.append(f"IFD {i} is not tiled")
    if problems:
        return problems
    main = ifds[0]
    if (main["width"] > main["tile_width"] or main["height"] > main["tile_length"]) and len(ifds) < 2:
        problems.append("no overviews although the image is larger than one tile")
    first_data = min(o for ifd in ifds for o in ifd["tile_offsets"] if o)
    if any(ifd["offset"] > first_data for ifd in ifds):
        problems.append("an IFD comes after tile data")
    starts = [min(o for o in ifd["tile_offsets"] if o) for ifd in ifds]
    if any(starts[i + 1] > starts[i] for i in range(len(starts) - 1)):
        problems.append("overview data does not come before the full-resolution data")
    for i, ifd in enumerate(ifds):
        offsets = [o for o in ifd["tile_offsets"] if o]
        if offsets != sorted(offsets):
            problems.append(f"tiles of IFD {i} are not in order")
    return problems


def test_coverage_rasters_are_valid_cogs(small_plan, reports):
    paths = reports["en"][1]
    cov = small_plan.coverage
    for name in ("coverage_rsrp_dbm.cog.tif", "coverage_best_server.cog.tif"):
        path = paths[name]
        assert cog_problems(path) == [], name
        with rasterio.open(path) as src:
            assert src.crs.to_epsg() == 32750
            assert src.profile["tiled"] and src.block_shapes[0] == (256, 256)
            assert src.overviews(1), name
            assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
            assert src.tags(ns="IMAGE_STRUCTURE").get("COMPRESSION") == "DEFLATE"
            assert "SYNTHETIC" in src.tags()["terrain"]
            assert src.transform == cov.transform and src.shape == cov.shape
        if shutil.which("gdalinfo"):
            info = subprocess.run(["gdalinfo", str(path)], capture_output=True, text=True,
                                  check=True).stdout
            assert "LAYOUT=COG" in info
    with rasterio.open(paths["coverage_rsrp_dbm.cog.tif"]) as src:
        rsrp = src.read(1)
        assert src.tags()["units"] == "dBm"
    np.testing.assert_array_equal(rsrp, cov.best_rsrp_dbm())
    with rasterio.open(paths["coverage_best_server.cog.tif"]) as src:
        server = src.read(1)
        tags = src.tags()
        assert src.nodata == 0
    n = len(small_plan.ranking)
    assert set(np.unique(server)) <= set(range(n + 1)) and server.max() == n
    assert tags["rank_1"] == small_plan.ranking["site_id"].iloc[0]
    served = server > 0
    assert (rsrp[served] >= small_plan.config.link.threshold_dbm - 1e-3).all()
    assert served.sum() == cov.covered_mask().sum()


def test_cog_check_rejects_a_plain_tiled_geotiff(tmp_path):
    from affine import Affine

    from blankspot.io.outputs import write_cog, write_raster

    arr = np.arange(600 * 700, dtype=np.float32).reshape(600, 700)
    kwargs = {"transform": Affine(30, 0, 400_000, 0, -30, 9_800_000), "crs": "EPSG:32750"}
    plain = write_raster(tmp_path / "plain.tif", arr, **kwargs)
    assert cog_problems(plain)
    cog = write_cog(tmp_path / "cog.tif", arr, **kwargs)
    assert cog_problems(cog) == []
    with rasterio.open(cog) as src:
        assert src.overviews(1) == [2, 4]  # halving until 700 cells fit in a 256 tile
        np.testing.assert_array_equal(src.read(1), arr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cog.tif", "plain.tif"]


# --- static map ----------------------------------------------------------------------------------


def test_static_map_png(reports):
    from PIL import Image

    for lang, (_folder, paths) in reports.items():
        path = paths["map.png"]
        assert path.stat().st_size > 100_000
        with Image.open(path) as img:
            assert img.format == "PNG"
            assert img.size[1] > img.size[0] >= 1200  # A4 portrait at 150 dpi
            assert "SYNTHETIC" in img.text["Description"]
            assert ("Permintaan: permukiman: 1 per desa" if lang == "id"
                    else "Demand: settlements: 1 per desa") in img.text["Description"]
            title = img.text["Title"]
            colours = img.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 50
        assert ("Rencana menara" if lang == "id" else "Tower plan") in title
        served = ("1 dari 1 desa sasaran terlayani" if lang == "id"
                  else "1 of 1 target desa served")
        assert served in title


# --- metadata ------------------------------------------------------------------------------------

SATU_DATA_KEYS = ("judul", "deskripsi", "produsen_data", "kode_referensi_wilayah", "periode",
                  "satuan", "sumber", "metode", "lisensi", "kontak", "tanggal")


def test_metadata_keys_sources_and_checksums(small_plan, reports):
    from blankspot.io.datasets import REGISTRY, sha256_file

    for lang, (folder, paths) in reports.items():
        meta = json.loads(paths[METADATA_JSON_FILE].read_text(encoding="utf-8"))
        assert set(SATU_DATA_KEYS) <= set(meta)
        assert set(meta["kunci_en"]) >= set(SATU_DATA_KEYS) - {"kunci_en"}
        assert meta["bahasa"] == lang
        assert set(meta["judul"]) == {"id", "en"}
        ref = meta["kode_referensi_wilayah"]
        assert ref["kabupaten"] == "64.01" and ref["desa_sasaran"] == [SEGENDANG]
        assert len(ref["kecamatan"]) == 10 and ref["jumlah_desa"] == 144
        sources = {Path(s["file"]).name: s for s in meta["sumber"]}
        for name in ("paser_desa.geojson", "paser_kecamatan.csv", "paser_dem_demo_1s_synthetic.tif"):
            assert sources[name]["sha256"] == REGISTRY[name].sha256
            assert sources[name]["licence"] == REGISTRY[name].licence
        assert sources["paser_dem_demo_1s_synthetic.tif"]["synthetic"] is True
        assert "SYNTHETIC" in meta["catatan_medan"]["en"]
        assert meta["model_permintaan"]["en"] == small_plan.demand_model
        assert meta["model_permintaan"]["id"] == ("permukiman: 1 per desa (tempat GeoNames 7, "
                                                  "titik representatif poligon 137)")
        assert meta["metode"]["model_permintaan"] == small_plan.demand_model
        assert sources["paser_places_geonames.csv"]["sha256"] == (
            REGISTRY["paser_places_geonames.csv"].sha256)
        assert meta["parameter"]["budget_idr"] == SMALL.budget_idr
        assert meta["parameter"]["link"]["threshold_dbm"] == -105.0
        assert meta["metode"]["model"] == small_plan.coverage.model
        assert re.match(r"^\d{4}-\d\d-\d\dT", meta["tanggal"]["dibuat"])
        listed = {o["file"]: o for o in meta["keluaran"]}
        assert set(listed) == {p.name for p in folder.iterdir()} - {METADATA_JSON_FILE}
        for name, entry in listed.items():
            assert entry["sha256"] == sha256_file(folder / name), name
            assert entry["bytes"] == (folder / name).stat().st_size
        # no path of the machine that wrote it
        text = paths[METADATA_JSON_FILE].read_text(encoding="utf-8")
        assert str(folder) not in text and str(Path.home()) not in text
        md = paths["metadata.md"].read_text(encoding="utf-8")
        assert "64.01.09.2003" in md and listed["map.png"]["sha256"] in md


def test_metadata_overrides_and_reproducible_date(small_plan, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    paths = write_reports(small_plan, tmp_path, formats=("csv", "metadata"),
                          metadata={"produsen_data": "Dinas Kominfo Kabupaten Paser",
                                    "kontak": "kominfo@example.go.id"})
    meta = json.loads(paths[METADATA_JSON_FILE].read_text(encoding="utf-8"))
    assert meta["produsen_data"] == "Dinas Kominfo Kabupaten Paser"
    assert meta["kontak"] == "kominfo@example.go.id"
    assert meta["tanggal"]["dibuat"] == "2023-11-14T22:13:20+00:00"
    assert {o["file"] for o in meta["keluaran"]} == {
        "desa.csv", "kecamatan.csv", "ranking.csv", "costs.csv", "metadata.md"}


# --- atomicity and the command line --------------------------------------------------------------


def test_failure_leaves_only_complete_files(small_plan, tmp_path, monkeypatch):
    import blankspot.reporting.export

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(blankspot.reporting.export, "plan_figure", boom)
    with pytest.raises(KeyboardInterrupt):
        write_reports(small_plan, tmp_path, formats=REPORT_FORMATS)
    names = {p.name for p in tmp_path.iterdir()}
    assert "map.png" not in names and "metadata.json" not in names
    assert not [n for n in names if "tmp" in n]
    assert pd.read_excel(tmp_path / "report.xlsx", sheet_name=None)  # what is there is whole


def test_cli_demo_in_bahasa_indonesia(paser_data_dir, tmp_path):
    from blankspot.cli import main

    out = tmp_path / "out"
    args = ["--quiet", "demo", "--out", str(out), "--data-dir", str(paser_data_dir),
            "--bounds", *map(str, WINDOW), "--targets", SEGENDANG, "--radius-km", "6",
            "--lang", "id"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    desa = pd.read_csv(out / "desa.csv", dtype={"kode_desa": str})
    assert desa.columns[0] == "kode_desa" and len(desa) == 144
    with pd.ExcelFile(out / "report.xlsx") as book:
        assert book.sheet_names[0] == "Ringkasan"
    meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    listed = {o["file"] for o in meta["keluaran"]}
    assert {"map.html", "coverage.tif", "summary.json", "plan.gpkg", "map.png"} <= listed
    assert (out / "map.html").is_file() and (out / "coverage.tif").is_file()
