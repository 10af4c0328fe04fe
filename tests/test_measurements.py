"""Reading drive-test exports, their validation, linking to sites and thinning."""

from __future__ import annotations

import codecs
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from blankspot.errors import BlankspotWarning, DataError, SchemaError, UnitsError
from blankspot.io.vectors import read_sites, sites_frame
from blankspot.measurements import (
    MEASUREMENT_COLUMNS,
    link_measurements,
    read_measurements,
    thin_measurements,
)

FIXTURES = Path(__file__).parent / "fixtures" / "measurements"


@pytest.fixture(scope="module")
def sites() -> gpd.GeoDataFrame:
    return read_sites(FIXTURES / "sites.csv", crs="EPSG:32750")


def _read(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BlankspotWarning)
        return read_measurements(path, **kw)


def _write(tmp_path: Path, text: str, name: str = "m.csv", encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


# --- formats ------------------------------------------------------------------------------
def test_generic_csv_schema(sites):
    m = _read(FIXTURES / "generic.csv", sites=sites)
    assert list(m.columns) == [*MEASUREMENT_COLUMNS, "geometry"]
    assert len(m) == 5
    assert m.crs.to_epsg() == 32750
    assert m["rsrp_dbm"].tolist() == [-78.5, -84.0, -91.2, -88.7, -95.4]
    assert m["site_id"].iloc[0] == "PSR001" and pd.isna(m["site_id"].iloc[4])
    assert m["cell_id"].iloc[2] == "2"
    assert m["technology"].unique().tolist() == ["LTE"]
    assert m["time"].iloc[1] == pd.Timestamp("2026-03-31 14:43:05")
    assert (m["source_format"] == "generic").all()
    assert m["source_line"].tolist() == [2, 3, 4, 5, 6]
    assert m.attrs["separator"] == "," and m.attrs["decimal_comma"] is False


def test_indonesian_excel_semicolons_and_decimal_commas_are_read():
    with pytest.warns(BlankspotWarning, match="decimal comma"):
        m = read_measurements(FIXTURES / "generic_id_excel.csv")
    assert m.attrs["separator"] == ";"
    assert m.attrs["decimal_comma"] is True
    assert m.attrs["encoding"] == "UTF-8 with BOM"
    assert m["lon"].tolist() == [116.0512, 116.053, 116.0561]
    assert m["rsrp_dbm"].tolist() == [-78.5, -84.0, -91.2]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-8-sig", "cp1252"])
def test_encodings(tmp_path, encoding):
    text = (FIXTURES / "generic.csv").read_text(encoding="utf-8")
    p = _write(tmp_path, text, encoding=encoding)
    m = _read(p)
    assert len(m) == 5 and m["rsrp_dbm"].iloc[0] == -78.5


def test_utf16_excel_unicode_text_tab_separated(tmp_path):
    text = "lon\tlat\trsrp_dbm\r\n116,05\t-1,85\t-80,5\r\n116,06\t-1,86\t-90\r\n"
    p = tmp_path / "unicode.txt"
    p.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    m = _read(p)
    assert m.attrs["encoding"] == "UTF-16" and m.attrs["separator"] == "\t"
    assert m["rsrp_dbm"].tolist() == [-80.5, -90.0]


def test_gnettrack_export():
    with pytest.warns(BlankspotWarning, match="without coordinates.*other technologies"):
        m = read_measurements(FIXTURES / "gnettrack.txt")
    assert (m["source_format"] == "gnettrack").all()
    # 6 rows: one without GPS fix, one 3G (RSCP, not RSRP) left out
    assert m["rsrp_dbm"].tolist() == [-79.0, -80.0, -83.0, -91.0]
    assert m["node_id"].tolist() == ["4101", "4101", "4101", "4102"]
    assert m["cell_id"].tolist() == ["1", "1", "2", "1"]
    assert m["operator"].iloc[0] == "Telkomsel"
    assert m["time"].iloc[0] == pd.Timestamp("2026-03-31 14:43:00")
    assert m["source_line"].tolist() == [2, 3, 4, 7]


def test_gnettrack_keeps_all_technologies_on_request():
    m = _read(FIXTURES / "gnettrack.txt", technologies=None)
    assert sorted(m["technology"].unique()) == ["LTE", "UMTS"]


def test_opencellid_measurements():
    m = _read(FIXTURES / "opencellid.csv")
    assert (m["source_format"] == "opencellid").all()
    assert m["rsrp_dbm"].tolist() == [-79.0, -84.0, -89.0]  # the GSM row is left out
    assert m["cell_id"].tolist() == ["1049857", "1049857", "1050113"]
    assert m["node_id"].tolist() == ["4101", "4101", "4102"]  # ECI // 256
    assert m["operator"].iloc[0] == "510-10"
    assert m["time"].iloc[0] == pd.Timestamp(1774968180, unit="s")


@pytest.mark.parametrize("fmt", ["netmonster", "networkcellinfo"])
def test_app_csv_exports(fmt):
    m = _read(FIXTURES / f"{fmt}.csv", format=fmt)
    assert (m["source_format"] == fmt).all()
    assert m["rsrp_dbm"].tolist() == [-79.0, -84.0, -89.0]
    assert m["lon"].iloc[0] == pytest.approx(116.0512)
    assert m["lat"].iloc[0] == pytest.approx(-1.8505)
    assert m["cell_id"].iloc[2] == "1050113"
    assert m["node_id"].iloc[2] == "4102"
    assert m["technology"].iloc[0] == "LTE"
    assert m["time"].iloc[1] == pd.Timestamp("2026-03-31 14:43:05")


def test_explicit_columns(tmp_path):
    p = _write(tmp_path, "Bujur,Lintang,Sinyal (dBm)\n116.05,-1.85,-80\n")
    m = _read(p, columns={"lon": "Bujur", "lat": "Lintang", "rsrp_dbm": "Sinyal (dBm)"})
    assert m[["lon", "lat", "rsrp_dbm"]].iloc[0].tolist() == [116.05, -1.85, -80.0]


def test_values_with_units(tmp_path):
    p = _write(tmp_path, "Longitude,Latitude,RSRP\n116.05,-1.85,-79 dBm\n116.06,-1.86,-81dBm\n")
    assert _read(p)["rsrp_dbm"].tolist() == [-79.0, -81.0]


# --- validation ---------------------------------------------------------------------------
def test_missing_columns_are_named_with_suggestions(tmp_path):
    p = _write(tmp_path, "longitud,latitud,rsrp\n116.05,-1.85,-80\n")
    with pytest.raises(SchemaError) as exc:
        read_measurements(p)
    msg = str(exc.value)
    assert "no column for lon" in msg and "no column for lat" in msg
    assert "'longitud'" in msg and "columns=" in msg


def test_out_of_range_and_swapped_coordinates(tmp_path):
    p = _write(tmp_path, "lon,lat,rsrp_dbm\n116.05,-1.85,-80\n-1.85,116.05,-81\n250,10,-82\n")
    with pytest.raises(SchemaError) as exc:
        read_measurements(p)
    msg = str(exc.value)
    assert "2 point(s) have lon/lat outside valid degrees" in msg
    assert "line 3" in msg and "line 4" in msg
    assert "swapped" in msg


def test_rsrp_out_of_range(tmp_path):
    p = _write(
        tmp_path, "lon,lat,rsrp_dbm\n116.05,-1.85,-160\n116.05,-1.86,-20\n116.05,-1.87,-80\n"
    )
    with pytest.raises(SchemaError) as exc:
        read_measurements(p)
    msg = str(exc.value)
    assert "2 RSRP value(s) outside -156 ... -31 dBm" in msg
    assert "line 2: -160" in msg and "line 3: -20" in msg


def test_rsrp_as_asu_gets_a_hint(tmp_path):
    p = _write(tmp_path, "lon,lat,rsrp_dbm\n116.05,-1.85,45\n116.05,-1.86,60\n")
    with pytest.raises(SchemaError, match="ASU"):
        read_measurements(p)


def test_duplicates_reported_or_dropped(tmp_path):
    text = (
        "lon,lat,rsrp_dbm,time\n116.05,-1.85,-80,2026-03-31 10:00:00\n"
        "116.05,-1.85,-80,2026-03-31 10:00:00\n116.05,-1.85,-80,2026-03-31 10:00:01\n"
    )
    p = _write(tmp_path, text)
    with pytest.raises(SchemaError, match=r"1 row\(s\) repeat an earlier row.*line 3"):
        read_measurements(p)
    with pytest.warns(BlankspotWarning, match="dropped 1 duplicated"):
        m = read_measurements(p, drop_duplicates=True)
    assert len(m) == 2  # a stationary logger one second later is not a duplicate


def test_decimal_comma_in_a_comma_separated_file(tmp_path):
    p = _write(tmp_path, 'lon,lat,rsrp_dbm\n116.05,-1.85,-80\n116.06,-1.86,"-81,5"\n')
    m = _read(p)  # a quoted decimal comma is still a number
    assert m["rsrp_dbm"].tolist() == [-80.0, -81.5]
    p = _write(tmp_path, "lon,lat,rsrp_dbm\n116.05,-1.85,-80\n116.06,-1.86,abc\n")
    with pytest.raises(SchemaError, match=r"not numbers: line 3: 'abc'"):
        read_measurements(p)


def test_unquoted_decimal_commas_in_a_comma_separated_file(tmp_path):
    p = _write(tmp_path, "lon,lat,rsrp_dbm\n116.05,-1.85,-80\n116,06,-1,86,-81\n")
    with pytest.raises(DataError, match="decimal comma in a comma-separated file"):
        read_measurements(p)


def test_mixed_decimal_separators(tmp_path):
    p = _write(tmp_path, "lon;lat;rsrp_dbm\n116,05;-1,85;-80\n116.06;-1.86;-81\n")
    with pytest.raises(SchemaError, match="mixes decimal commas"):
        read_measurements(p)


def test_points_far_from_every_site(tmp_path, sites):
    p = _write(tmp_path, "lon,lat,rsrp_dbm\n116.05,-1.85,-80\n116.90,-1.20,-90\n")
    with pytest.raises(SchemaError, match=r"1 point\(s\) lie farther than 30 km.*line 3"):
        read_measurements(p, sites=sites)
    assert len(_read(p, sites=sites, max_site_distance_km=150.0)) == 2


def test_every_problem_listed_at_once(tmp_path, sites):
    text = (
        "lon;lat;rsrp_dbm\n"
        "116,05;-1,85;-80\n"  # fine
        "116,05;-1,85;-80\n"  # duplicate
        "250;-1,85;-80\n"  # out of range
        "116,05;-1,85;-170\n"  # RSRP out of range
        "116,9;-1,2;-90\n"  # far from the sites
        "116,05;-1,85;x\n"  # not a number
    )
    with pytest.raises(SchemaError) as exc:
        read_measurements(_write(tmp_path, text), sites=sites)
    msg = str(exc.value)
    assert "5 problems found" in msg
    for part in ("not numbers", "outside valid degrees", "RSRP value(s) outside",
                 "repeat an earlier row", "farther than 30 km"):  # fmt: skip
        assert part in msg


def test_file_errors(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_measurements(tmp_path / "missing.csv")
    with pytest.raises(DataError, match="empty"):
        read_measurements(_write(tmp_path, "\n\n"))
    with pytest.raises(DataError, match="no rows"):
        read_measurements(_write(tmp_path, "lon,lat,rsrp_dbm\n"))
    with pytest.raises(UnitsError, match="Did you mean 'gnettrack'"):
        read_measurements(FIXTURES / "generic.csv", format="gnetrack")


# --- linking ------------------------------------------------------------------------------
def test_link_by_site_id_cell_and_node(sites):
    m = _read(FIXTURES / "generic.csv")
    linked = link_measurements(m, sites)
    assert linked["site_link"].tolist() == ["id", "id", "id", "id", "none"]
    assert linked["site_id"].iloc[3] == "PSR002"
    ncell = _read(FIXTURES / "networkcellinfo.csv", format="networkcellinfo")
    by_cell = link_measurements(ncell, sites, cell_column="cells")
    assert by_cell["site_id"].tolist() == ["PSR001", "PSR001", "PSR002"]
    assert (by_cell["site_link"] == "id").all()
    by_map = link_measurements(ncell.drop(columns="node_id"), sites,
                               cell_sites={1049857: "PSR001", "1050113": "PSR002"})  # fmt: skip
    assert by_map["site_id"].tolist() == ["PSR001", "PSR001", "PSR002"]
    # G-NetTrack: the eNodeB id of the file is the site's id in this network's table
    g = _read(FIXTURES / "gnettrack.txt")
    renamed = sites.rename(index={"PSR001": "4101", "PSR002": "4102"})
    assert link_measurements(g, renamed)["site_id"].tolist() == ["4101"] * 3 + ["4102"]


def test_link_warns_about_unknown_ids(sites):
    m = _read(FIXTURES / "generic.csv")
    m.loc[0, "site_id"] = "PSR009"
    with pytest.warns(BlankspotWarning, match="'PSR009'"):
        linked = link_measurements(m, sites)
    assert linked["site_link"].iloc[0] == "none"
    assert linked["site_id_in_file"].iloc[0] == "PSR009"


def test_link_to_the_strongest_predicted_site():
    from blankspot.testing import cell_centre, make_terrain

    t = make_terrain("flat")
    a, b = cell_centre(t, 32, 8), cell_centre(t, 32, 56)
    sites = sites_frame(["A", "B"], [a[0], b[0]], [a[1], b[1]], 30.0, crs=t.crs)
    xs = np.array([a[0] + 90, a[0] + 300, b[0] - 120, b[0] - 400])
    pts = gpd.GeoDataFrame(
        {"rsrp_dbm": -80.0, "site_id": [np.nan, "A", np.nan, np.nan]},
        geometry=shapely.points(xs, np.full(4, a[1])),
        crs=t.crs,
    )
    linked = link_measurements(pts, sites, terrain=t)
    assert linked["site_id"].tolist() == ["A", "A", "B", "B"]
    assert (
        linked["site_link"].tolist() == ["strongest_predicted", "id"] + ["strongest_predicted"] * 2
    )
    assert (link_measurements(pts, sites)["site_link"] == ["none", "id", "none", "none"]).all()
    near = link_measurements(pts, sites, terrain=t, max_distance_m=100.0)
    assert near["site_link"].tolist() == ["strongest_predicted", "id", "none", "none"]


# --- thinning -----------------------------------------------------------------------------
def _drive(n: int, speed_m: float) -> gpd.GeoDataFrame:
    x = 500_010.5 + speed_m * np.arange(n)
    rsrp = np.where(np.arange(n) % 2 == 0, -80.0, -90.0)
    return gpd.GeoDataFrame(
        {"rsrp_dbm": rsrp, "site_id": "A", "lon": 0.0, "lat": 0.0},
        geometry=shapely.points(x, np.full(n, 9_800_001.0)),
        crs="EPSG:32750",
    )


def test_thinning_equal_weight_per_bin():
    slow = _drive(300, 1.0)  # 300 samples over 300 m
    thin = thin_measurements(slow, cell_m=30.0)
    assert len(thin) == 10
    assert (thin["n_samples"] == 30).all()
    lin = 10 * np.log10((10 ** (-8.0) + 10 ** (-9.0)) / 2)
    assert thin["rsrp_dbm"].to_numpy() == pytest.approx(np.full(10, lin))
    db = thin_measurements(slow, cell_m=30.0, average="db")
    assert db["rsrp_dbm"].to_numpy() == pytest.approx(np.full(10, -85.0))
    assert thin["lon"].iloc[0] == pytest.approx(116.99, abs=0.02)  # mean position, WGS 84
    fast = thin_measurements(_drive(10, 30.0), cell_m=30.0)
    assert len(fast) == 10 and (fast["n_samples"] == 1).all()


def test_thinning_in_wavelengths_and_by_site():
    d = _drive(100, 1.0)
    t = thin_measurements(d, wavelengths=40, freq_mhz=900.0)
    assert t["bin_m"].iloc[0] == pytest.approx(40 * 299.792458 / 900.0)
    d["site_id"] = np.where(np.arange(100) < 50, "A", "B")
    by_site = thin_measurements(d, cell_m=1000.0)
    assert sorted(by_site["site_id"]) == ["A", "B"]
    with pytest.raises(UnitsError, match="exactly one"):
        thin_measurements(d, cell_m=30.0, wavelengths=40, freq_mhz=900.0)
    with pytest.raises(UnitsError, match="projected CRS"):
        thin_measurements(d.to_crs("EPSG:4326"), cell_m=30.0)
