"""The Paser plan map opened in headless Chromium (house style §6: maps are checked in a browser).

The map is the one ``write_outputs`` writes, for a plan on a small window around Segendang (all
144 desa are drawn). The browser is the distribution's Chromium (``apt-get install chromium``),
driven by Playwright through ``executable_path``; no browser is downloaded. Playwright rather than
Selenium: it routes every request through the test (so anything leaving the machine is caught and
fails the test), reports console messages and uncaught errors as events, types with real key
events, and talks to Chromium directly, with no chromedriver whose version must match.

Every test fails on a JavaScript error or on any request other than ``file:``/``data:``/localhost.
Basemap tiles, the one remote resource the map names, are answered with a blank local tile.
"""

from __future__ import annotations

import io
import os
import shutil
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest

from blankspot.plan import write_outputs
from blankspot.reporting.maps import (
    BASEMAP_TILES,
    LAYER_BEST_SERVER,
    LAYER_CANDIDATES,
    LAYER_COVERAGE,
    LAYER_DESA,
    LAYER_TARGETS,
    LAYER_TOWERS,
    MAP_PHRASES,
    plan_map,
)
from blankspot.reporting.tables import PHRASES, phrase
from paser_window import SEGENDANG

VIEWPORT = {"width": 1200, "height": 800}
EVIL = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
EVIL_SITE = "s`${window.__xss=3}`</script><b>"

pytestmark = pytest.mark.paser


def _skip_or_fail(reason: str):
    """Skip where the browser is missing; on CI (``CI`` set) fail, so the check cannot vanish."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def _chromium_path() -> str | None:
    return (os.environ.get("BLANKSPOT_CHROMIUM") or shutil.which("chromium")
            or shutil.which("chromium-browser"))


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("the playwright package is not installed: pip install -e '.[test]'")
    path = _chromium_path()
    if path is None:
        _skip_or_fail("no Chromium on PATH: apt-get install chromium (or set BLANKSPOT_CHROMIUM)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path)
        yield browser
        browser.close()


def _blank_tile() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (256, 256), (236, 236, 236)).save(buf, format="PNG")
    return buf.getvalue()


@dataclass
class OpenMap:
    """A loaded map page and what happened while it was open."""

    page: object
    errors: list = field(default_factory=list)  # console errors and uncaught exceptions
    blocked: list = field(default_factory=list)  # requests that tried to leave the machine
    tiles: list = field(default_factory=list)  # basemap tile requests, answered locally

    def js(self, expression: str, arg=None):
        return self.page.evaluate(expression, arg)

    def check_clean(self):
        assert self.blocked == [], f"requests left the machine: {self.blocked[:5]}"
        assert self.errors == [], f"JavaScript errors: {self.errors[:5]}"


@pytest.fixture
def open_map(browser):
    """open_map(path) -> OpenMap: the file loaded at 1200 x 800, offline, controls ready."""
    contexts = []
    tile_host = urlsplit(BASEMAP_TILES).hostname
    tile = _blank_tile()

    def _open(path) -> OpenMap:
        context = browser.new_context(viewport=VIEWPORT)
        contexts.append(context)
        page = context.new_page()
        m = OpenMap(page)
        page.on("console", lambda msg: m.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: m.errors.append(f"uncaught: {exc}"))

        def route(r):
            url = urlsplit(r.request.url)
            if url.scheme in ("file", "data", "blob", "about") or url.hostname in (
                "localhost", "127.0.0.1", "::1"
            ):
                return r.continue_()
            if url.scheme == "https" and url.hostname == tile_host:
                m.tiles.append(r.request.url)
                return r.fulfill(status=200, content_type="image/png", body=tile)
            m.blocked.append(r.request.url)
            return r.abort()

        context.route("**/*", route)
        page.goto(path.as_uri())
        try:
            page.wait_for_function("() => window.blankspot && window.blankspot.ready === true",
                                   timeout=15_000)
        except Exception:
            pytest.fail(f"the map did not finish loading; errors: {m.errors}, blocked: {m.blocked}")
        return m

    yield _open
    for context in contexts:
        context.close()



@pytest.fixture(scope="module")
def demo_map(small_plan, tmp_path_factory):
    return write_outputs(small_plan, tmp_path_factory.mktemp("map-demo"))["map.html"]


@pytest.fixture(scope="module")
def demo_map_id(small_plan, tmp_path_factory):
    return write_outputs(small_plan, tmp_path_factory.mktemp("map-demo-id"), lang="id")["map.html"]


@pytest.fixture(scope="module")
def evil_map(small_plan, tmp_path_factory):
    """The same plan with hostile names: a desa, a kecamatan, a tower id, the title."""
    villages = small_plan.villages.copy()
    villages.loc[SEGENDANG, "name"] = EVIL
    other = villages.index[villages.index != SEGENDANG][0]
    villages.loc[other, "kecamatan"] = EVIL
    ranking = small_plan.ranking.copy()
    ranking.loc[0, "site_id"] = EVIL_SITE
    ranking.loc[0, "desa_served_new"] = EVIL
    cov = small_plan.coverage
    fmap = plan_map(
        villages,
        ranking=ranking,
        candidates=small_plan.sites,
        rsrp_dbm=cov.best_rsrp_dbm(),
        rsrp_transform=cov.transform,
        rsrp_crs=cov.crs,
        title=f"plan {EVIL}",
        terrain_note="Terrain: SYNTHETIC demo DEM",
        best_server=cov.best_server(covered_only=True),
        best_server_ids=(EVIL_SITE, *cov.site_ids[1:]),
    )
    path = tmp_path_factory.mktemp("map-evil") / "map.html"
    path.write_text(fmap.get_root().render(), encoding="utf-8")
    return path


def _interior_latlon(villages, kode) -> tuple[float, float]:
    p = villages.loc[[kode]].to_crs(4326).geometry.representative_point().iloc[0]
    return p.y, p.x


# --- the demo map -------------------------------------------------------------------------------


def test_map_opens_offline_without_errors_and_draws_every_desa(demo_map, open_map, tmp_path):
    m = open_map(demo_map)
    # the map opens on the plan; at the whole kabupaten every desa is drawn
    m.js("() => window.blankspot.map.fitBounds(window.blankspot.layers.desa.getBounds(), "
         "{animate: false})")
    counts = m.js("""() => {
        const desa = window.blankspot.layers.desa.getLayers();
        return {layers: desa.length,
                drawn: desa.filter(l => l._path && l._path.isConnected
                                        && l._path.getAttribute('d').length > 10).length,
                ids: new Set(desa.map(l => l.feature.properties.village_id)).size};
    }""")
    assert counts == {"layers": 144, "drawn": 144, "ids": 144}
    m.page.wait_for_timeout(300)
    shot = tmp_path / "paser-map.png"
    m.page.screenshot(path=str(shot))
    assert shot.stat().st_size > 20_000
    m.check_clean()
    assert all(urlsplit(u).hostname == urlsplit(BASEMAP_TILES).hostname for u in m.tiles)


def test_layer_control_lists_the_layers_with_their_defaults(demo_map, open_map, small_plan):
    m = open_map(demo_map)
    rows = m.js("""() => Array.from(
        document.querySelectorAll('.leaflet-control-layers-overlays label')
    ).map(l => [l.textContent.trim(), l.querySelector('input').checked])""")
    assert dict(rows) == {
        LAYER_DESA: True,
        LAYER_COVERAGE: True,
        LAYER_BEST_SERVER: False,
        LAYER_TARGETS.format(n=1): True,
        LAYER_CANDIDATES.format(n=len(small_plan.sites)): False,
        LAYER_TOWERS.format(n=len(small_plan.ranking)): True,
    }
    base = m.js("""() => Array.from(document.querySelectorAll(
        '.leaflet-control-layers-base label')).map(l => l.textContent.trim())""")
    assert base == ["OpenStreetMap"]
    legend = m.page.locator("#blankspot-legend-best-server")
    assert not legend.is_visible()
    m.page.get_by_label(LAYER_BEST_SERVER).check()
    assert m.js("() => window.blankspot.map.hasLayer(window.blankspot.layers.bestServer)")
    assert legend.is_visible() and "#1 " + small_plan.ranking["site_id"][0] in legend.inner_text()
    m.page.get_by_label(LAYER_CANDIDATES.format(n=len(small_plan.sites))).check()
    n_sites = m.js("() => window.blankspot.layers.candidates.getLayers().length")
    assert n_sites == len(small_plan.sites)
    m.check_clean()


def test_search_typed_by_name_moves_to_and_highlights_the_desa(demo_map, open_map, small_plan):
    m = open_map(demo_map)
    # the map opens on the plan: first look at the whole kabupaten, then search
    before = m.js("""() => { const b = window.blankspot;
        b.map.fitBounds(b.layers.desa.getBounds(), {animate: false}); return b.map.getZoom(); }""")
    m.page.click(".leaflet-control-search .search-button")
    m.page.locator(".leaflet-control-search input.search-input").press_sequentially(
        "segend", delay=20)
    tip = m.page.locator(".leaflet-control-search .search-tip").first
    tip.wait_for()
    assert tip.inner_text().startswith("Segendang (")
    tip.click()
    m.page.wait_for_function(f"() => window.blankspot.found === {SEGENDANG!r}")
    m.page.wait_for_timeout(400)  # the fly-to animation
    state = m.js("""(kode) => {
        const b = window.blankspot, l = b.layers.desa.getLayers().find(
            x => x.feature.properties.village_id === kode);
        return {zoom: b.map.getZoom(), inView: b.map.getBounds().contains(l.getBounds()),
                weight: l.options.weight, color: l.options.color};
    }""", SEGENDANG)
    assert state["zoom"] > before + 1 and state["inView"]
    assert state["weight"] == 4 and state["color"] == "#000"
    # the desa's tooltip, as a planner hovering over it sees it
    lat, lon = _interior_latlon(small_plan.villages, SEGENDANG)
    x, y = m.js("([lat, lon]) => { const p = window.blankspot.map.latLngToContainerPoint("
                "[lat, lon]); return [p.x, p.y]; }", [lat, lon])
    m.page.mouse.move(x, y)
    tooltip = m.page.locator(".leaflet-tooltip").first
    tooltip.wait_for()
    text = tooltip.inner_text()
    for expected in (SEGENDANG, "Segendang", "Batu Engau", "share covered %", "blank-spot target"):
        assert expected in text
    m.check_clean()


def test_tower_markers_land_where_the_ranking_puts_them(demo_map, open_map, small_plan):
    m = open_map(demo_map)
    markers = m.js("""() => {
        const b = window.blankspot, box = b.map.getContainer().getBoundingClientRect();
        const desa = b.layers.desa.getBounds();
        return b.layers.towers.getLayers().map(mk => {
            const r = mk.getElement().getBoundingClientRect(), ll = mk.getLatLng();
            return {lat: ll.lat, lon: ll.lng, inPaser: desa.contains(ll),
                    onScreen: r.left >= box.left && r.right <= box.right
                              && r.top >= box.top && r.bottom <= box.bottom,
                    label: mk.getElement().textContent.trim()};
        });
    }""")
    ranking = small_plan.ranking
    assert len(markers) == len(ranking)
    for mk, (_, row) in zip(markers, ranking.iterrows(), strict=True):
        assert mk["lat"] == pytest.approx(row["lat"], abs=1e-5)
        assert mk["lon"] == pytest.approx(row["lon"], abs=1e-5)
        # a lat/lon swap would put the tower at latitude 116: far outside Paser and the screen
        assert mk["inPaser"] and mk["onScreen"]
        assert mk["label"] == str(row["rank"])
    # the first tower's popup: rank, height, cost breakdown, people, desa served and improved
    m.js("() => window.blankspot.layers.towers.getLayers()[0].openPopup()")
    popup = m.page.locator(".leaflet-popup-content").inner_text()
    first = ranking.iloc[0]
    for expected in ("Tower #1", first["site_id"], "72 m AGL", "tower", "land", "road", "power",
                     "backhaul", "contingency", "total", "Rp 1.700.000.000",
                     "people newly covered",
                         "desa brought to served: 64.01.09.2003 Segendang",
                         "desa improved, not yet served: none"):
        assert expected in popup
    m.check_clean()


def test_synthetic_terrain_is_named_on_screen(demo_map, open_map):
    m = open_map(demo_map)
    title = m.page.locator("#blankspot-title")
    assert title.is_visible() and "SYNTHETIC demo DEM" in title.inner_text()
    box = title.bounding_box()
    assert box["x"] >= 0 and box["y"] >= 0
    assert box["x"] + box["width"] <= VIEWPORT["width"] and box["y"] + box["height"] <= VIEWPORT["height"]
    # not hidden under the layer control
    lc = m.page.locator(".leaflet-control-layers").bounding_box()
    assert box["x"] + box["width"] <= lc["x"]
    legend = m.page.locator("#blankspot-legend")
    assert legend.is_visible() and "SYNTHETIC" in legend.inner_text()
    m.check_clean()


def test_opacity_slider_fullscreen_and_distance_measure_work(demo_map, open_map):
    m = open_map(demo_map)
    m.js("""() => { const s = document.getElementById('blankspot-opacity');
                    s.value = 30; s.dispatchEvent(new Event('input')); }""")
    assert m.js("() => window.blankspot.layers.coverage.options.opacity") == pytest.approx(0.3)
    assert m.page.locator("#blankspot-opacity-value").inner_text() == "30 %"

    m.page.click(".leaflet-control-zoom-fullscreen")
    m.page.wait_for_function("() => window.blankspot.map._isFullscreen === true")
    assert m.js("() => document.fullscreenElement === window.blankspot.map.getContainer()")
    assert m.page.locator("#blankspot-legend").is_visible()
    m.page.click(".leaflet-control-zoom-fullscreen")
    m.page.wait_for_function("() => window.blankspot.map._isFullscreen === false")

    # two clicks on the map, a third on the last point to finish; compare with Leaflet's distance
    m.page.click("#polyline-measure-control")
    a, b = (500, 400), (700, 420)
    for x, y in (a, b, b):
        m.page.mouse.click(x, y)
        m.page.wait_for_timeout(150)
    totals = m.js("""() => Array.from(document.querySelectorAll(
        '.polyline-measure-tooltip-total')).map(e => e.textContent)""")
    expected_km = m.js("""([a, b]) => { const map = window.blankspot.map;
        return map.distance(map.containerPointToLatLng(a), map.containerPointToLatLng(b)) / 1000;
    }""", [a, b])
    shown = totals[-1].replace("\xa0", " ")
    assert shown.endswith(" km")
    assert float(shown.split()[0]) == pytest.approx(expected_km, rel=0.01)
    m.check_clean()


# --- hostile names ----------------------------------------------------------------------------


def test_hostile_names_show_as_text_and_never_run(evil_map, open_map, small_plan):
    m = open_map(evil_map)
    assert m.js("() => window.__xss") is None
    assert EVIL in m.page.locator("#blankspot-title").inner_text()
    m.page.get_by_label(LAYER_BEST_SERVER).check()
    assert f"#1 {EVIL_SITE}" in m.page.locator("#blankspot-legend").inner_text()

    # search: the name is found by what it looks like, and listed as text
    m.page.click(".leaflet-control-search .search-button")
    m.page.locator(".leaflet-control-search input.search-input").press_sequentially(
        "<img src", delay=20)
    tip = m.page.locator(".leaflet-control-search .search-tip").first
    tip.wait_for()
    assert tip.inner_text().startswith(EVIL)
    tip.click()
    m.page.wait_for_function(f"() => window.blankspot.found === {SEGENDANG!r}")

    # tooltip of the desa under the mouse
    lat, lon = _interior_latlon(small_plan.villages, SEGENDANG)
    m.page.wait_for_timeout(400)
    x, y = m.js("([lat, lon]) => { const p = window.blankspot.map.latLngToContainerPoint("
                "[lat, lon]); return [p.x, p.y]; }", [lat, lon])
    m.page.mouse.move(x, y)
    tooltip = m.page.locator(".leaflet-tooltip").first
    tooltip.wait_for()
    assert EVIL in tooltip.inner_text()

    # a tower's tooltip and popup
    m.js("() => window.blankspot.layers.towers.getLayers()[0].openTooltip()")
    assert EVIL_SITE in m.page.locator(".leaflet-tooltip", has_text="Tower #1").inner_text()
    m.js("() => window.blankspot.layers.towers.getLayers()[0].openPopup()")
    popup = m.page.locator(".leaflet-popup-content").inner_text()
    assert EVIL_SITE in popup and f"desa brought to served: {EVIL}" in popup

    injected = m.js("""() => document.querySelectorAll(
        '#blankspot-title img, #blankspot-legend img, .leaflet-tooltip img, .search-tip img,'
        + '.leaflet-popup-content img, .leaflet-popup-content script').length""")
    assert injected == 0
    assert m.js("() => window.__xss") is None
    m.check_clean()


def test_demo_map_file_is_small(demo_map):
    size_b = demo_map.stat().st_size
    assert size_b < 3_000_000, f"map.html is {size_b / 1e6:.2f} MB"


# --- Bahasa Indonesia and the initial view ----------------------------------------------------


def _english_words() -> list[str]:
    """The English text of every map phrase, without its ``{...}`` fields: none may remain on
    an Indonesian map (phrases the same in both languages, such as "total", are left out)."""
    import re

    out = []
    for key in MAP_PHRASES:
        en, id_ = PHRASES[key]
        if en == id_:
            continue
        for part in re.split(r"\{[^}]*\}", en):
            part = part.strip(" :,;·()#")
            if len(part) >= 4 and part not in id_:
                out.append(part)
    return out


def test_indonesian_map_shows_no_english_label(demo_map_id, open_map, small_plan):
    m = open_map(demo_map_id)
    rows = m.js("""() => Array.from(
        document.querySelectorAll('.leaflet-control-layers-overlays label')
    ).map(l => l.textContent.trim())""")
    assert rows == [
        phrase("map_layer_desa", "id"),
        phrase("map_layer_coverage", "id"),
        phrase("map_layer_best_server", "id"),
        phrase("map_layer_targets", "id", n=1),
        phrase("map_layer_candidates", "id", n=len(small_plan.sites)),
        phrase("map_layer_towers", "id", n=len(small_plan.ranking)),
    ]
    title = m.page.locator("#blankspot-title").inner_text()
    assert title.startswith("Rencana blankspot: ") and "desa sasaran" in title
    assert "SINTETIS" in title and "SYNTHETIC" in title  # synthetic terrain still says so
    assert "dengan clutter" in title and " with " not in title and "terrain" not in title
    m.page.get_by_label(phrase("map_layer_best_server", "id")).check()
    legend = m.page.locator("#blankspot-legend").inner_text()
    for words in ("Desa: persentase penduduk terlayani", "RSRP menara terpilih",
                  "transparansi lapisan", "Server terbaik (peringkat menara)", "terlayani",
                  "sangat baik", "lemah", "Medan: DEM demo SINTETIS"):
        assert words in legend

    # a desa's tooltip and a tower's tooltip and popup
    lat, lon = _interior_latlon(small_plan.villages, SEGENDANG)
    x, y = m.js("([lat, lon]) => { const p = window.blankspot.map.latLngToContainerPoint("
                "[lat, lon]); return [p.x, p.y]; }", [lat, lon])
    m.page.mouse.move(x, y)
    desa_tip = m.page.locator(".leaflet-tooltip").first
    desa_tip.wait_for()
    desa_text = desa_tip.inner_text()
    for words in ("Segendang", "penduduk terlayani", "persentase terlayani %", "sasaran blank spot"):
        assert words in desa_text
    m.page.mouse.move(5, 790)
    m.js("() => window.blankspot.layers.towers.getLayers()[0].openTooltip()")
    tower_tip = m.page.locator(".leaflet-tooltip", has_text="Menara #1").inner_text()
    m.js("() => window.blankspot.layers.towers.getLayers()[0].openPopup()")
    popup = m.page.locator(".leaflet-popup-content").inner_text()
    for words in ("Menara #1", "tinggi 72 m di atas tanah", "lintang", "bujur", "menara", "lahan",
                  "jalan akses", "catu daya", "penduduk baru terlayani", "kumulatif",
                  "desa baru terlayani: 64.01.09.2003 Segendang",
                  "desa bertambah cakupan, belum terlayani: tidak ada",
                  "asal biaya model biaya"):
        assert words in popup
    source = small_plan.ranking["source"].iloc[0]
    if f"map_code_{source}" in PHRASES:
        assert f"({phrase(f'map_code_{source}', 'id')})" in popup

    controls = m.js("""() => Array.from(document.querySelectorAll('[title], [placeholder]'))
        .map(e => (e.getAttribute('title') || '') + ' ' + (e.getAttribute('placeholder') || ''))
        .join(' | ')""")
    assert "Layar penuh" in controls and "Ukur jarak" in controls and "Cari desa" in controls
    shown = " | ".join([" | ".join(rows), title, legend, desa_text, tower_tip, popup, controls])
    left = [w for w in _english_words() if w in shown]
    assert left == [], f"English left on the Indonesian map: {left}"
    m.check_clean()


def test_english_is_the_default_and_names_no_indonesian_layer(demo_map, open_map):
    m = open_map(demo_map)
    rows = m.js("""() => Array.from(
        document.querySelectorAll('.leaflet-control-layers-overlays label')
    ).map(l => l.textContent.trim())""")
    assert LAYER_DESA in rows and phrase("map_layer_desa", "id") not in rows
    assert m.page.locator("#blankspot-title").inner_text().startswith("blankspot plan: ")
    m.check_clean()


def test_map_opens_on_the_target_desa_and_the_towers(demo_map_id, open_map, small_plan):
    m = open_map(demo_map_id)
    view = m.js("""(kode) => {
        const b = window.blankspot, v = b.map.getBounds(), all = b.layers.desa.getBounds();
        const target = b.layers.desa.getLayers().find(
            l => l.feature.properties.village_id === kode).getBounds();
        const area = (x) => (x.getEast() - x.getWest()) * (x.getNorth() - x.getSouth());
        return {towers: b.layers.towers.getLayers().every(mk => v.contains(mk.getLatLng())),
                target: v.contains(target), viewArea: area(v), allArea: area(all)};
    }""", SEGENDANG)
    assert view["towers"] and view["target"]
    # much smaller than the kabupaten's 144 desa
    assert view["viewArea"] < 0.1 * view["allArea"], view
    m.check_clean()


@pytest.fixture(scope="module")
def unserved_map(paser_data_dir, tmp_path_factory):
    """The window's plan at one tower's price, people spread evenly over the desa: Segendang is
    not served (its one settlement would be), so it has a profile."""
    from blankspot.config import PASER_TOWER_COST_IDR
    from blankspot.plan import plan_paser
    from paser_window import SMALL, WINDOW

    result = plan_paser(paser_data_dir, config=SMALL.replace(budget_idr=PASER_TOWER_COST_IDR,
                                                             demand_model="uniform"),
                        bounds=WINDOW, village_ids=[SEGENDANG])
    out = tmp_path_factory.mktemp("map-unserved")
    return result, {lang: write_outputs(result, out / lang, lang=lang)["map.html"]
                    for lang in ("en", "id")}


@pytest.mark.parametrize("lang", ["en", "id"])
def test_unserved_desa_popup_says_why_and_links_its_profile(unserved_map, open_map, lang):
    from pathlib import Path
    from urllib.parse import unquote

    result, maps = unserved_map
    why = result.why_not.set_index("kode").loc[SEGENDANG]
    m = open_map(maps[lang])
    m.js("""(kode) => { const l = window.blankspot.layers.desa.getLayers().find(
            x => x.feature.properties.village_id === kode); l.openPopup(); }""", SEGENDANG)
    popup = m.page.locator(".leaflet-popup-content")
    popup.wait_for()
    text = popup.inner_text()
    obstacle = phrase(f"map_obstacle_{why['obstacle'].replace(' ', '_')}", lang)
    assert "Segendang" in text and obstacle in text
    assert phrase("map_desa_not_served", lang, share="").split(":")[0] in text
    link = popup.locator("a")
    assert link.inner_text() == phrase("map_profile_link", lang)
    target = Path(unquote(urlsplit(link.evaluate("a => a.href")).path))
    assert target == maps[lang].parent / "profiles" / f"{SEGENDANG}.png" and target.is_file()
    # a served desa (any other target) gets no popup; here the only target is not served
    assert m.js("() => window.blankspot.layers.desa.getLayers().filter("
                "l => l.getPopup && l.getPopup()).length") == 1
    m.check_clean()
