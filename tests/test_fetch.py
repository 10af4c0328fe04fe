"""blankspot data fetch against a local HTTP server laid out like the real providers.

The server (127.0.0.1 only) serves tiny files generated here in each provider's URL layout and
format: Copernicus GLO-30 tiles and tileList.txt, ESA WorldCover tiles and grid GeoJSON, a
WorldPop national GeoTIFF, an Overpass JSON answer and an OpenCelliD per-country CSV. Tests
script its misbehaviour per path: cut transfers, HTTP errors, silence, corrupted bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from rasterio.transform import from_bounds

from blankspot.cli import main
from blankspot.errors import DataError, SchemaError, UnitsError
from blankspot.io import fetch as F
from blankspot.io import providers as P

BOUNDS = (116.2, -1.9, 116.4, -1.7)  # inland Paser; with the 30 km margin: 4 GLO-30 tiles
SEA = (118.5, -4.9, 118.7, -4.7)  # Makassar Strait / Flores Sea: no tile
DEM_TILES = [P.copernicus_tile(lat, lon) for lat in (-3, -2, -1) for lon in (115, 116)]
WC_TILE = "S03E114"
TOKEN = "pk.secret-token"


# --- fixture files, in the providers' formats -------------------------------------------------------
def _tif(path: Path, bounds, shape, dtype, values, nodata=None) -> bytes:
    h, w = shape
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype=dtype,
                       crs="EPSG:4326", transform=from_bounds(*bounds, w, h), nodata=nodata) as dst:
        dst.write(values.astype(dtype), 1)
    return path.read_bytes()


def _provider_files(tmp: Path) -> dict[str, bytes]:
    """``{url path: bytes}`` for every provider, under /cop, /wc, /wp, /ocid."""
    tmp.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {}
    for lat in (-3, -2, -1):
        for lon in (115, 116):
            tile = P.copernicus_tile(lat, lon)
            yy, xx = np.mgrid[0:36, 0:36]
            files[f"/cop/{P.copernicus_tile_path(tile)}"] = _tif(
                tmp / f"{tile}.tif", (lon, lat, lon + 1, lat + 1), (36, 36), "float32",
                100.0 + yy + xx + 10 * (lon - 115))
    files["/cop/tileList.txt"] = ("\n".join(DEM_TILES) + "\nCopernicus_DSM_COG_10_N00_00_E006_00_DEM\n").encode()
    grid = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"ll_tile": t},
         "geometry": {"type": "Polygon", "coordinates": [[[114, -3], [117, -3], [117, 0], [114, 0],
                                                          [114, -3]]]}}
        for t in (WC_TILE, "N00E006")]}
    files["/wc/v200/2021/esa_worldcover_grid.geojson"] = json.dumps(grid).encode()
    classes = np.where(np.arange(30 * 30).reshape(30, 30) % 3 == 0, 10, 40)
    files[f"/wc/{P.worldcover_tile_path(WC_TILE)}"] = _tif(
        tmp / "wc.tif", (114, -3, 117, 0), (30, 30), "uint8", classes, nodata=0)
    files[f"/wp/{P.worldpop_path('IDN')}"] = _tif(
        tmp / "wp.tif", (114, -4, 118, 0), (40, 40), "float32", np.full((40, 40), 2.5),
        nodata=-99999.0)
    overpass = {"version": 0.6, "elements": [
        {"type": "way", "id": 1, "tags": {"highway": "primary", "name": "Jl. Negara"},
         "geometry": [{"lat": -1.8, "lon": 116.25}, {"lat": -1.78, "lon": 116.3}]},
        {"type": "way", "id": 2, "tags": {"power": "line", "voltage": "150000"},
         "geometry": [{"lat": -1.85, "lon": 116.21}, {"lat": -1.75, "lon": 116.39}]},
        {"type": "node", "id": 3, "lat": -1.81, "lon": 116.33,
         "tags": {"place": "village", "name": "Desa Contoh"}},
        {"type": "way", "id": 4, "tags": {"highway": "footway"},
         "geometry": [{"lat": -1.8, "lon": 116.25}, {"lat": -1.8, "lon": 116.26}]},
    ]}
    files["/overpass/api/interpreter"] = json.dumps(overpass).encode()
    rows = [
        "LTE,510,10,1234,5678,0,116.30,-1.80,1000,12,1,1500000000,1600000000,0",
        "GSM,510,1,22,333,0,116.10,-1.95,2500,3,1,1500000000,1650000000,0",
        "UMTS,510,11,5,6,0,120.00,-5.00,900,4,1,1500000000,1600000000,0",  # far away
        "LTE,502,12,7,8,0,116.31,-1.81,900,4,1,1500000000,1600000000,0",  # not Indonesia
    ]
    files["/ocid/ocid/downloads"] = gzip.compress(("\n".join(rows) + "\n").encode(), mtime=0)
    return files


# --- the server ------------------------------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):
        self.server.app.serve(self, "GET")  # type: ignore[attr-defined]

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        self.rfile.read(length)
        self.server.app.serve(self, "POST")  # type: ignore[attr-defined]


class FakeProviders:
    """Serves ``files``; ``modes[path]`` is a list of behaviours used one per request."""

    def __init__(self, files: dict[str, bytes]):
        self.files = files
        self.modes: dict[str, list[str]] = {}
        self.log: list[tuple[str, str, str | None]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.app = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def base_urls(self) -> dict[str, str]:
        return {"dem": f"{self.url}/cop", "landcover": f"{self.url}/wc", "population": f"{self.url}/wp",
                "osm": f"{self.url}/overpass/api/interpreter", "towers": f"{self.url}/ocid"}

    def requests_for(self, fragment: str) -> list[tuple[str, str, str | None]]:
        return [r for r in self.log if fragment in r[1]]

    def serve(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(h.path)
        path = parts.path
        self.log.append((method, h.path, h.headers.get("Range")))
        if path == "/ocid/ocid/downloads" and parse_qs(parts.query).get("token") != [TOKEN]:
            return self._send(h, 200, b"INVALID_TOKEN", close=False)
        queue = self.modes.get(path) or []
        mode = queue.pop(0) if queue else "ok"
        body = self.files.get(path)
        if mode == "hang":
            time.sleep(3)
            h.close_connection = True
            return
        if mode.isdigit():
            return self._send(h, int(mode), b"error\n")
        if body is None:
            return self._send(h, 404, b"NoSuchKey\n")
        if mode == "corrupt":
            body = body[:-16] + b"\x00" * 16
        if mode == "half":  # announce everything, send half, hang up
            h.send_response(200)
            h.send_header("Content-Length", str(len(body)))
            h.send_header("ETag", '"v1"')
            h.end_headers()
            h.wfile.write(body[: len(body) // 2])
            h.wfile.flush()
            h.close_connection = True
            return
        if mode == "half-nolength":  # HTTP/1.0 style: the end of the connection ends the body
            h.send_response(200)
            h.send_header("Connection", "close")
            h.end_headers()
            h.wfile.write(body[: len(body) // 2])
            h.close_connection = True
            return
        rng = h.headers.get("Range")
        if rng and rng.startswith("bytes=") and method == "GET":
            start = int(rng[6:].split("-")[0])
            h.send_response(206)
            h.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            h.send_header("Content-Length", str(len(body) - start))
            h.send_header("ETag", '"v1"')
            h.end_headers()
            h.wfile.write(body[start:])
            return
        self._send(h, 200, body)

    @staticmethod
    def _send(h, status: int, body: bytes, close: bool = False) -> None:
        h.send_response(status)
        h.send_header("Content-Length", str(len(body)))
        h.send_header("ETag", '"v1"')
        h.end_headers()
        h.wfile.write(body)


@pytest.fixture(scope="module")
def provider_files(tmp_path_factory) -> dict[str, bytes]:
    return _provider_files(tmp_path_factory.mktemp("provider-files"))


@pytest.fixture
def server(provider_files):
    fake = FakeProviders(dict(provider_files))
    fake.thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def _settings(server, **kw) -> F.FetchSettings:
    kw = {"timeout_s": 1.0, "retries": 2, "backoff_s": 0.01, "progress": False, **kw}
    return F.FetchSettings(base_urls=server.base_urls(), **kw)


def _half_written(root: Path) -> list[str]:
    """Files that are not complete data: temporaries anywhere, partial bytes outside .partial."""
    bad = []
    for p in root.rglob("*"):
        if not p.is_file():
            continue
        rel = p.relative_to(root).as_posix()
        in_partial = f"/{F.PARTIAL_DIR}/" in f"/{rel}"
        if p.name.startswith("tmp") or ".tmp-" in p.name or (p.suffix == ".part" and not in_partial):
            bad.append(rel)
    return bad


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


# --- tile naming ----------------------------------------------------------------------------------
def test_tile_names_follow_the_providers():
    assert P.copernicus_tile(-2, 116) == "Copernicus_DSM_COG_10_S02_00_E116_00_DEM"
    assert P.copernicus_tile(3, -60) == "Copernicus_DSM_COG_10_N03_00_W060_00_DEM"
    assert P.copernicus_tile_path("X") == "X/X.tif"
    assert P.worldcover_tiles((115.3, -2.7, 116.9, -0.6)) == ["S03E114"]
    assert P.worldcover_tile_path("S03E114") == "v200/2021/map/ESA_WorldCover_10m_2021_v200_S03E114_Map.tif"
    assert P.worldcover_tiles((116.5, -0.5, 117.5, 0.5)) == ["S03E114", "S03E117", "N00E114", "N00E117"]
    assert P.worldpop_path() == "GIS/Population/Global_2000_2020_Constrained/2020/BSGM/IDN/idn_ppp_2020_constrained.tif"
    q = P.overpass_query(BOUNDS)
    assert q.startswith("[out:json]") and "(-1.900000,116.200000,-1.700000,116.400000)" in q
    assert "out geom;" in q and "isolated_dwelling" in q


def test_resolve_area_from_the_embedded_boundaries_and_bounds():
    paser = F.resolve_area("64.01")
    assert paser.name == "64.01" and paser.title == "Kabupaten Paser"
    lon_min, lat_min, lon_max, lat_max = paser.bounds
    assert 115.5 < lon_min < lon_max < 116.7 and -2.5 < lat_min < lat_max < -0.9
    kec = F.resolve_area("64.01.09")
    assert kec.bounds[0] >= lon_min and kec.bounds[2] <= lon_max
    assert F.resolve_area("64.01.09.2003").title
    grown = paser.with_margin(30)
    assert grown[0] == pytest.approx(lon_min - 30 / (111.32 * np.cos(np.radians(abs(lat_min)))), rel=1e-3)
    assert F.resolve_area(bounds=BOUNDS).name == "bbox_116.200_-1.900_116.400_-1.700"
    with pytest.raises(SchemaError, match=r"64\.02.*not a kode wilayah.*--bounds"):
        F.resolve_area("64.02")
    with pytest.raises(UnitsError, match="LON_MIN < LON_MAX"):
        F.resolve_area(bounds=(116.4, -1.9, 116.2, -1.7))
    with pytest.raises(SchemaError, match="either an area code"):
        F.resolve_area()


# --- a fetch, a second fetch, a resumed fetch --------------------------------------------------
def test_fetch_every_source_then_fetch_again_downloads_nothing(server, tmp_path, monkeypatch):
    monkeypatch.setenv(P.OPENCELLID_KEY_ENV, TOKEN)
    data = tmp_path / "data"
    out = F.fetch_area(["all"], bounds=BOUNDS, name="demo", data_dir=data, settings=_settings(server))
    assert set(out) == set(P.SOURCES)
    assert all(p.parent == data / "demo" and p.is_file() for p in out.values())

    with rasterio.open(out["dem"]) as dem:
        grown = F.Area("x", BOUNDS).with_margin(30)
        assert dem.bounds.left <= grown[0] + 0.03 and dem.bounds.right >= grown[2] - 0.03
        assert dem.dtypes[0] == "float32" and "Copernicus" in dem.tags()["ATTRIBUTION"]
        assert dem.read(1).min() >= 100  # every cell from a tile (none is sea here)
    with rasterio.open(out["landcover"]) as lc:
        assert set(np.unique(lc.read(1))) <= {10, 40}
    with rasterio.open(out["population"]) as pop:
        assert np.allclose(pop.read(1), 2.5)
    import geopandas as gpd
    import pyogrio

    assert [name for name, _ in pyogrio.list_layers(out["osm"])] == ["roads", "power", "places"]
    roads = gpd.read_file(out["osm"], layer="roads")
    assert list(roads["highway"]) == ["primary"]  # the footway is not a road
    assert gpd.read_file(out["osm"], layer="places")["name"].tolist() == ["Desa Contoh"]
    towers = out["towers"].read_text()
    assert "LTE-10-1234-5678" in towers and "GSM-1-22-333" in towers
    assert "120.0" not in towers and ",502," not in towers

    entries = F.fetched_sources("demo", data)
    assert entries == F.fetched_areas(data)["demo"]
    downloads = [e for e in entries if e["kind"] == "download"]
    products = [e for e in entries if e["kind"] == "product"]
    assert {e["source"] for e in products} == set(P.SOURCES)
    assert len(downloads) == 4 + 1 + 2 + 1 + 1 + 1  # 4 DEM tiles + list, grid + tile, pop, osm, ocid
    for e in entries:
        assert {"url", "bytes", "sha256", "date", "licence", "file"} <= set(e)
        assert (data / e["file"]).stat().st_size == e["bytes"]
        assert hashlib.sha256((data / e["file"]).read_bytes()).hexdigest() == e["sha256"]
    tile = next(e for e in downloads if e["file"].endswith("S02_00_E116_00_DEM.tif"))
    assert tile["url"] == f"{server.url}/cop/{P.copernicus_tile_path(P.copernicus_tile(-2, 116))}"
    assert tile["hash"] == "recorded" and tile["licence"] == "Copernicus-DEM"
    assert TOKEN not in (data / "demo" / "sources.json").read_text()
    assert TOKEN not in (data / "downloads" / "registry.json").read_text()
    assert _half_written(data) == []

    server.log.clear()
    again = F.fetch_area(["all"], bounds=BOUNDS, name="demo", data_dir=data, settings=_settings(server))
    assert again == out
    assert server.log == []  # nothing downloaded again


def test_an_interrupted_download_resumes_with_a_range_request(server, tmp_path):
    tile = P.copernicus_tile(-2, 116)
    path = f"/cop/{P.copernicus_tile_path(tile)}"
    server.modes[path] = ["half"]
    data = tmp_path / "data"
    F.fetch_area(["dem"], bounds=BOUNDS, data_dir=data, settings=_settings(server))
    reqs = server.requests_for(tile)
    assert len(reqs) == 2 and reqs[0][2] is None
    size = len(server.files[path])
    assert reqs[1][2] == f"bytes={size // 2}-"
    got = (data / "downloads" / "copernicus" / f"{tile}.tif").read_bytes()
    assert _sha(got) == _sha(server.files[path])
    assert list((data / "downloads").rglob("*.part")) == []
    assert _half_written(data) == []


def test_a_download_cut_on_every_try_keeps_its_bytes_for_the_next_run(server, tmp_path):
    tile = P.copernicus_tile(-2, 116)
    path = f"/cop/{P.copernicus_tile_path(tile)}"
    server.modes[path] = ["half", "half", "half"]
    data = tmp_path / "data"
    with pytest.raises(DataError) as info:
        F.fetch_area(["dem"], bounds=BOUNDS, data_dir=data, settings=_settings(server))
    msg = str(info.value)
    assert f"{server.url}{path}" in msg and "closed" in msg and "--from-dir" in msg
    assert not (data / "downloads" / "copernicus" / f"{tile}.tif").exists()
    assert not (data / F.Area("x", BOUNDS).name).exists()
    assert not list(data.glob("bbox_*"))  # no product, no registry for the area
    assert _half_written(data) == []
    assert len(list((data / "downloads" / F.PARTIAL_DIR).glob("*.part"))) == 1
    server.log.clear()
    F.fetch_area(["dem"], bounds=BOUNDS, data_dir=data, settings=_settings(server))
    assert [r[2] for r in server.requests_for(tile)] == [f"bytes={len(server.files[path]) // 2}-"]
    assert list((data / "downloads").rglob("*.part")) == []


# --- corrupted downloads --------------------------------------------------------------------------
def test_a_download_that_changed_since_its_first_fetch_is_refused(server, tmp_path):
    data = tmp_path / "data"
    F.fetch_area(["dem"], bounds=BOUNDS, data_dir=data, settings=_settings(server))
    tile = P.copernicus_tile(-2, 116)
    kept = data / "downloads" / "copernicus" / f"{tile}.tif"
    kept.write_bytes(kept.read_bytes()[:100])  # damaged on disk: fetched again, verified
    server.modes[f"/cop/{P.copernicus_tile_path(tile)}"] = ["corrupt"]
    with pytest.raises(DataError) as info:
        F.fetch_area(["dem"], bounds=BOUNDS, data_dir=data, settings=_settings(server))
    msg = str(info.value)
    assert "does not match the SHA-256 recorded" in msg and tile in msg and "--refresh" in msg
    assert not kept.exists()  # neither the damaged copy nor the corrupted download
    assert _half_written(data) == []
    # the provider is fine again: the next fetch restores the recorded file
    F.fetch_area(["dem"], bounds=BOUNDS, data_dir=data, settings=_settings(server))
    assert _sha(kept.read_bytes()) == _sha(server.files[f"/cop/{P.copernicus_tile_path(tile)}"])


def test_a_truncated_file_without_length_is_detected_and_removed(server, tmp_path):
    path = f"/wc/{P.worldcover_tile_path(WC_TILE)}"
    server.modes[path] = ["half-nolength"]
    data = tmp_path / "data"
    with pytest.raises(DataError, match="not a readable GeoTIFF") as info:
        F.fetch_area(["landcover"], bounds=BOUNDS, data_dir=data, settings=_settings(server))
    assert f"{server.url}{path}" in str(info.value)
    assert not list((data / "downloads" / "worldcover").glob("*.tif"))
    registry = json.loads((data / "downloads" / "registry.json").read_text())
    assert not any(k.endswith("_Map.tif") for k in registry)
    assert _half_written(data) == []


# --- servers that fail ------------------------------------------------------------------------------
@pytest.mark.parametrize(("mode", "expect"), [("404", "not found (HTTP 404)"), ("500", "HTTP 500")])
def test_http_errors_name_the_url_and_the_hand_over(server, tmp_path, mode, expect):
    path = f"/wp/{P.worldpop_path()}"
    server.modes[path] = [mode] * 5
    data = tmp_path / "data"
    with pytest.raises(DataError) as info:
        F.fetch_area(["population"], area="64.01", data_dir=data, settings=_settings(server))
    msg = str(info.value)
    assert f"{server.url}{path}" in msg and expect in msg
    assert "blankspot data fetch population --area CODE --from-dir DIR" in msg
    tries = len(server.requests_for(path))
    assert tries == (1 if mode == "404" else 3)  # a 404 is not retried, a 500 is
    assert not (data / "64.01").exists()
    assert _half_written(data) == [] and not list(data.rglob("*.part"))


def test_a_server_that_never_answers_times_out(server, tmp_path):
    server.modes["/cop/tileList.txt"] = ["hang", "hang"]
    t0 = time.perf_counter()
    with pytest.raises(DataError, match=r"tileList\.txt: the connection timed out"):
        F.fetch_area(["dem"], bounds=BOUNDS, data_dir=tmp_path / "data",
                     settings=_settings(server, timeout_s=0.5, retries=1))
    assert time.perf_counter() - t0 < 5
    assert _half_written(tmp_path / "data") == []


def test_without_a_network_the_error_names_the_url_and_the_hand_over(tmp_path):
    dead = {s: "http://127.0.0.1:9/nothing" for s in P.SOURCES}  # port 9: nobody answers
    settings = F.FetchSettings(timeout_s=0.5, retries=1, backoff_s=0.01, progress=False,
                               base_urls=dead)
    with pytest.raises(DataError) as info:
        F.fetch_area(["dem"], area="64.01", data_dir=tmp_path, settings=settings)
    msg = str(info.value)
    assert "http://127.0.0.1:9/nothing/tileList.txt: the connection failed" in msg
    assert "blankspot data fetch dem --area CODE --from-dir DIR" in msg
    assert _half_written(tmp_path) == [] and not list(tmp_path.rglob("*.part"))


def test_an_overpass_error_remark_is_not_taken_for_data(server, tmp_path):
    answer = {"elements": [], "remark": "runtime error: Query timed out in \"query\" at line 3"}
    server.files["/overpass/api/interpreter"] = json.dumps(answer).encode()
    with pytest.raises(DataError, match="answered with an error: runtime error: Query timed out"):
        F.fetch_area(["osm"], bounds=BOUNDS, data_dir=tmp_path, settings=_settings(server))
    assert not list((tmp_path / "downloads" / "overpass").glob("*.json"))


def test_an_area_at_sea_has_no_tiles(server, tmp_path):
    data = tmp_path / "data"
    with pytest.raises(DataError, match=r"no Copernicus GLO-30 tile.*the area is sea"):
        F.fetch_area(["dem"], bounds=SEA, data_dir=data, settings=_settings(server))
    with pytest.raises(DataError, match=r"no ESA WorldCover tile.*sea"):
        F.fetch_area(["landcover"], bounds=(130.5, -9.9, 130.7, -9.7), data_dir=data,
                     settings=_settings(server))
    assert not list(data.glob("bbox_*")) and _half_written(data) == []
    assert not [r for r in server.log if r[1].endswith(".tif")]  # only the indexes were asked


def test_unknown_source_is_a_schema_error(tmp_path):
    with pytest.raises(SchemaError, match=r"unknown data source.*'roads'.*dem, landcover"):
        F.fetch_area(["roads"], area="64.01", data_dir=tmp_path)


# --- towers --------------------------------------------------------------------------------------------
def test_towers_need_a_token_or_a_file(server, tmp_path, monkeypatch):
    monkeypatch.delenv(P.OPENCELLID_KEY_ENV, raising=False)
    with pytest.raises(DataError, match=r"OPENCELLID_API_KEY.*--from-file"):
        F.fetch_area(["towers"], bounds=BOUNDS, data_dir=tmp_path, settings=_settings(server))
    with pytest.raises(DataError, match="INVALID_TOKEN") as info:
        F.fetch_area(["towers"], bounds=BOUNDS, data_dir=tmp_path, token="wrong",
                     settings=_settings(server))
    assert "wrong" not in str(info.value)  # the token is redacted
    assert not list((tmp_path / "downloads" / "opencellid").glob("*"))
    export = tmp_path / "mine.csv"
    export.write_text(",".join(P.OPENCELLID_COLUMNS) + "\n"
                      "LTE,510,10,1,2,0,116.3,-1.8,1000,5,1,1500000000,1600000000,0\n")
    out = F.fetch_area(["towers"], bounds=BOUNDS, data_dir=tmp_path, from_file=export,
                       settings=_settings(server))
    assert "LTE-10-1-2" in out["towers"].read_text()
    entry = next(e for e in F.fetched_sources(F.resolve_area(bounds=BOUNDS).name, tmp_path)
                 if e["kind"] == "download")
    assert entry["handed_over"] == "mine.csv" and entry["licence"] == "CC-BY-SA-4.0"


# --- without a network: hand the files over --------------------------------------------------------
def test_from_dir_takes_the_providers_files_without_network(provider_files, tmp_path):
    folder = tmp_path / "handed"
    folder.mkdir()
    for path, body in provider_files.items():
        name = Path(path).name
        if path.startswith("/overpass"):
            name = "overpass.json"
        elif path.startswith("/ocid"):
            name = "510.csv.gz"
        (folder / name).write_bytes(body)
    dead = {s: "http://127.0.0.1:9/nothing" for s in P.SOURCES}  # port 9: nobody answers
    settings = F.FetchSettings(timeout_s=0.5, retries=0, progress=False, base_urls=dead)
    out = F.fetch_area(["all"], bounds=BOUNDS, data_dir=tmp_path / "data", from_dir=folder,
                       settings=settings)
    assert set(out) == set(P.SOURCES)
    missing = tmp_path / "empty"
    missing.mkdir()
    with pytest.raises(DataError, match=r"idn_ppp_2020_constrained\.tif is not in .*empty"):
        F.fetch_area(["population"], bounds=BOUNDS, data_dir=tmp_path / "data", from_dir=missing,
                     settings=settings)


# --- the command line ------------------------------------------------------------------------------------
def test_cli_fetch_for_a_kabupaten_and_its_errors(server, tmp_path, monkeypatch):
    for source, url in server.base_urls().items():
        monkeypatch.setenv(P.PROVIDERS[source].env, url)
    data = tmp_path / "data"
    res = CliRunner().invoke(main, ["data", "fetch", "dem", "osm", "--area", "64.01",
                                    "--data-dir", str(data), "--timeout", "2"])
    assert res.exit_code == 0, res.output
    assert (data / "64.01" / "dem_copernicus_glo30.tif").is_file()
    assert (data / "64.01" / "osm.gpkg").is_file() and "sources.json" in res.output
    res = CliRunner().invoke(main, ["data", "status", "--data-dir", str(data)])
    assert res.exit_code == 0 and "area 64.01: dem, osm" in res.output

    server.files.pop("/wp/" + P.worldpop_path())
    res = CliRunner().invoke(main, ["data", "fetch", "population", "--area", "64.01",
                                    "--data-dir", str(data), "--retries", "0"])
    assert res.exit_code == 3
    assert "HTTP 404" in res.output and "--from-dir DIR" in res.output
    assert "Traceback" not in res.output
    res = CliRunner().invoke(main, ["data", "fetch", "dem", "--area", "99.99", "--data-dir", str(data)])
    assert res.exit_code == 2 and "not a kode wilayah" in res.output
    res = CliRunner().invoke(main, ["data", "fetch", "--data-dir", str(data)])
    assert res.exit_code == 2 and "--from DIR" in res.output
    res = CliRunner().invoke(main, ["data", "fetch", "dem", "--from", str(tmp_path), "--area", "64.01"])
    assert res.exit_code == 2 and "--from-dir" in res.output
