"""The plan map as rendered HTML: layers, feature counts, escaping, offline assets, size.

Built on a tiny plan made in code (nine square desa near Paser, two towers, a small raster);
tests/test_map_browser.py opens the real Paser map in a browser.
"""

from __future__ import annotations

import io
import json
import re
from importlib.resources import files

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from affine import Affine
from shapely.geometry import Point, box

from blankspot.reporting import maps
from blankspot.reporting.maps import (
    LAYER_BEST_SERVER,
    LAYER_CANDIDATES,
    LAYER_COVERAGE,
    LAYER_DESA,
    LAYER_TARGETS,
    LAYER_TOWERS,
    RSRP_CLASSES_DBM,
    plan_map,
    rank_colour,
    reproject_to_web_mercator,
)

CRS = "EPSG:32750"
X0, Y0 = 430_000.0, 9_740_000.0  # UTM 50S, near Segendang (Paser)
CELL_M = 30.0
EVIL = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
EVIL_SITE = "s`${window.__xss=3}`</script><b>"
JINJA = "{{ 7 * 7 }}{% if true %}jinja-ran{% endif %}"


def _villages() -> gpd.GeoDataFrame:
    rows = []
    for i in range(3):
        for j in range(3):
            k = 3 * i + j
            rows.append({
                "village_id": f"64.01.09.20{k:02d}",
                "name": f"Desa {k}",
                "kecamatan": "Batu Engau",
                "population": 1000.0 + k,
                "population_covered": 100.0 * k,
                "share_covered": 0.1 * k,
                "target": k in (4, 5),
                "geometry": box(X0 + 2000 * j, Y0 + 2000 * i, X0 + 2000 * (j + 1), Y0 + 2000 * (i + 1)),
            })
    v = gpd.GeoDataFrame(rows, crs=CRS).set_index("village_id")
    v.loc["64.01.09.2004", "name"] = EVIL
    v.loc["64.01.09.2005", "kecamatan"] = JINJA
    return v


def _ranking() -> pd.DataFrame:
    pts = gpd.GeoSeries([Point(X0 + 3000, Y0 + 3000), Point(X0 + 5000, Y0 + 1000)], crs=CRS).to_crs(4326)
    return pd.DataFrame({
        "rank": [1, 2],
        "site_id": ["t_one", EVIL_SITE],
        "lon": pts.x.round(6),
        "lat": pts.y.round(6),
        "height_agl_m": [72.0, 52.0],
        "cost_idr": [1_700_000_000, 1_950_000_000],
        "people_new": [175.0, 92.1],
        "cumulative_cost_idr": [1_700_000_000, 3_650_000_000],
        "cumulative_people": [175.0, 267.1],
        "desa_served_new": [f"Desa 4; {JINJA}", EVIL],
        "desa_improved": [EVIL, ""],
        "source": ["high_point", "user"],
        "tower_idr": [1_700_000_000, 1_500_000_000],
        "land_idr": [0, 250_000_000],
        "road_idr": [0, 200_000_000],
        "power_idr": [0, 0],
        "backhaul_idr": [0, 0],
        "equipment_idr": [0, 0],
        "contingency_idr": [0, 0],
        "power_option": ["pln", "pln"],
        "backhaul_option": ["microwave", "vsat"],
        "estimated_components": ["road,power", "land,capex"],
        "cost_from": ["cost model", "cost model"],
    })


def _candidates() -> gpd.GeoDataFrame:
    ids = ["t_one", EVIL_SITE, "c3", "c4"]
    pts = [Point(X0 + 3000, Y0 + 3000), Point(X0 + 5000, Y0 + 1000), Point(X0 + 1000, Y0 + 5000),
           Point(X0 + 500, Y0 + 500)]
    return gpd.GeoDataFrame(
        {"height_agl_m": [72.0, 52.0, 72.0, 72.0], "source": ["high_point", "user", "grid", "grid"]},
        geometry=pts, index=pd.Index(ids, name="site_id"), crs=CRS,
    )


def _rasters():
    """RSRP (dBm) falling off from the two towers on a 200 x 200 grid of 30 m, and best server."""
    n = 200
    transform = Affine(CELL_M, 0, X0, 0, -CELL_M, Y0 + n * CELL_M)
    cols, rows = np.meshgrid(np.arange(n), np.arange(n))
    x, y = transform @ (cols + 0.5, rows + 0.5)
    d1 = np.hypot(x - (X0 + 3000), y - (Y0 + 3000))
    d2 = np.hypot(x - (X0 + 5000), y - (Y0 + 1000))
    rsrp = (-50.0 - 30 * np.log10(np.maximum(np.minimum(d1, d2), 30.0) / 30.0)).astype(np.float32)
    rsrp[rsrp < -120] = np.nan
    server = np.where(d1 <= d2, 0, 1).astype(np.int32)
    server[~np.isfinite(rsrp)] = -1
    return rsrp, server, transform


def _render(**overrides) -> str:
    rsrp, server, transform = _rasters()
    kwargs = dict(
        ranking=_ranking(),
        candidates=_candidates(),
        rsrp_dbm=rsrp,
        rsrp_transform=transform,
        rsrp_crs=CRS,
        title=f"plan for {JINJA} <i>Paser</i>",
        terrain_note="Terrain: SYNTHETIC demo DEM (test)",
        best_server=server,
        best_server_ids=("t_one", EVIL_SITE),
    )
    kwargs.update(overrides)
    return plan_map(_villages(), **kwargs).get_root().render()


@pytest.fixture(scope="module")
def page() -> str:
    return _render()


def _geojson_layers(page: str) -> list[dict]:
    """Every GeoJSON folium embeds (``geo_json_<id>_add({...});``), parsed."""
    return [json.loads(m) for m in re.findall(r"geo_json_[0-9a-f]+_add\((\{.*?\})\);\n", page)]


def _layer_control(page: str) -> tuple[list[str], list[str]]:
    block = re.search(r"base_layers : \{(.*?)\},\s*overlays :\s*\{(.*?)\},", page, re.S)
    names = [re.findall(r'^\s*"(.*?)" :', part, re.M) for part in block.groups()]
    return names[0], names[1]


def test_layer_control_lists_every_layer(page):
    base, overlays = _layer_control(page)
    assert base == ["OpenStreetMap"]
    assert overlays == [
        LAYER_DESA,
        LAYER_COVERAGE,
        LAYER_BEST_SERVER,
        LAYER_TARGETS.format(n=2),
        LAYER_CANDIDATES.format(n=4),
        LAYER_TOWERS.format(n=2),
    ]


def test_every_desa_is_one_feature_with_its_figures(page):
    layers = _geojson_layers(page)
    desa = next(g for g in layers if any("village_id" in f["properties"] for f in g["features"]))
    assert len(desa["features"]) == 9
    props = {f["properties"]["village_id"]: f["properties"] for f in desa["features"]}
    p = props["64.01.09.2003"]
    assert p["name"] == "Desa 3" and p["kecamatan"] == "Batu Engau"
    assert p["population"] == 1003 and p["share_pct"] == pytest.approx(30.0)
    assert p["target"] is False and props["64.01.09.2004"]["target"] is True
    targets = next(g for g in layers if g is not desa and len(g["features"]) == 2)
    assert {f["geometry"]["type"] for f in targets["features"]} == {"Polygon"}


def test_coordinates_are_lon_lat_rounded_to_five_decimals(page):
    desa = _geojson_layers(page)[0]
    coords = np.array([c for f in desa["features"] for c in f["geometry"]["coordinates"][0]])
    lon, lat = coords[:, 0], coords[:, 1]
    assert ((lon > 116) & (lon < 117)).all() and ((lat > -3) & (lat < -2)).all()  # GeoJSON: x first
    assert np.allclose(coords, coords.round(5), atol=0, rtol=0)
    # markers and overlays are lat first (Leaflet); one tower, by its ranking row
    r = _ranking().iloc[0]
    assert f"[{round(r['lat'], 5)}, {round(r['lon'], 5)}]" in page
    bounds = re.search(r"L\.imageOverlay\(\s*\"data:image/png;base64,[^\"]+\",\s*(\[\[.*?\]\])", page)
    (lat0, lon0), (lat1, lon1) = json.loads(bounds.group(1))
    assert -3 < lat0 < lat1 < -2 and 116 < lon0 < lon1 < 117


def test_user_strings_are_escaped_everywhere(page):
    for raw in (EVIL, EVIL_SITE, "<script>window", "<img src=x", "</script><b>"):
        assert raw not in page
    # desa names reach the GeoJSON as HTML entities (and JSON-escaped: & as \u0026)
    assert "\\u0026lt;img src=x onerror=" in page
    # the malicious site id reaches popups and tooltips as JSON strings (never in a template
    # literal: the browser test checks it does not run), the legend as text
    assert "s`$\\u0026#123;window.__xss=3}`\\u0026lt;/script\\u0026gt;\\u0026lt;b\\u0026gt;" in page
    assert "#2 s`$&#123;window.__xss=3}`&lt;/script&gt;&lt;b&gt;" in page  # best-server legend


def test_strings_are_never_run_as_templates(page):
    # branca compiles rendered scripts as Jinja templates again: a "{{" in a name must not run
    assert "49" not in page.split("plan for ")[1][:40]
    desa = _geojson_layers(page)[0]
    kecamatan = {f["id"]: f["properties"]["kecamatan"] for f in desa["features"]}
    assert kecamatan["64.01.09.2005"] == "&#123;&#123; 7 * 7 }}&#123;% if true %}jinja-ran&#123;% endif %}"
    assert "desa brought to served: \\u003cb\\u003eDesa 4; \\u0026#123;\\u0026#123; 7 * 7 }}" in page  # a popup


def test_synthetic_terrain_is_named_in_the_title_and_legend(page):
    title = re.search(r'<div id="blankspot-title".*?</div>', page, re.S).group()
    assert "SYNTHETIC demo DEM" in title and "bs-synthetic" in title
    legend = re.search(r'<div id="blankspot-legend".*', page, re.S).group()
    assert "Terrain: SYNTHETIC demo DEM" in legend


def test_the_demand_model_is_named_in_the_title_and_legend():
    note = f"People placed by: settlements: 1 per desa <b>{JINJA}</b>"
    page = _render(demand_note=note)
    title = re.search(r'<div id="blankspot-title".*?</div>', page, re.S).group()
    legend = re.search(r'<div id="blankspot-legend".*', page, re.S).group()
    for part in (title, legend):
        assert "People placed by: settlements: 1 per desa &lt;b&gt;&#123;&#123; 7 * 7 }}" in part
    assert "<b>{{" not in page and "1 per desa <b>" not in page
    # without a note, nothing is added
    assert "bs-demand" not in _render()


def test_legend_has_rsrp_classes_opacity_slider_and_best_server_ranks(page):
    for _lo, _hi, label, colour in RSRP_CLASSES_DBM:
        assert label in page and colour in page
    assert 'id="blankspot-opacity" type="range"' in page
    assert f"background:{rank_colour(1)}" in page and "#1 t_one" in page


def test_tower_popup_has_rank_height_cost_breakdown_and_people(page):
    popups = [json.loads(s) for s in re.findall(r"\.bindPopup\((\".*?\"), \{", page)]
    assert len(popups) == 2
    first = popups[0]
    for text in ("Tower #1", "t_one", "72 m AGL", "tower", "Rp 1.700.000.000", "road",
                 "(perkiraan)", "power (pln)", "backhaul (microwave)", "people newly covered",
                 "<b>175</b>", "desa brought to served: <b>Desa 4; &#123;&#123; 7 * 7 }}"):
        assert text in first
    second = popups[1]
    assert "land" in second and "Rp 250.000.000" in second and "Rp 1.950.000.000" in second
    assert "52 m AGL" in second


def test_no_script_or_stylesheet_leaves_the_page(page):
    assert not re.search(r"<script[^>]+src=", page)
    assert not re.search(r"<link[^>]+href=", page)
    assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", page)
    for cdn in ("cdn.jsdelivr", "cdnjs", "unpkg.com", "code.jquery", "googleapis"):
        assert cdn not in page
    assert "$.ajax" not in page and "jquery" not in page.lower()
    tile_urls = re.findall(r"L\.tileLayer\(\s*\"(.*?)\"", page)
    assert tile_urls == [maps.BASEMAP_TILES]
    assert '<meta charset="utf-8">' in page[:200]


def test_every_vendored_asset_is_inlined_with_its_licence(page):
    root = files("blankspot._vendor")
    readme = (root / "README.md").read_text(encoding="utf-8")
    for folder, (css, js) in maps.VENDORED.items():
        assert (root / folder / "LICENSE").is_file(), folder
        assert f"`{folder}/`" in readme
        script = (root / folder / js).read_text(encoding="utf-8")
        assert script in page and (root / folder / css).read_text(encoding="utf-8") in page
    for control in ("L.Control.FullScreen", "L.control.polylineMeasure", "L.Control.Search",
                    "L.control.scale"):
        assert f"new {control}" in page or f"{control}(" in page


def test_map_without_basemap_asks_for_nothing():
    page = _render(tiles=None)
    assert "L.tileLayer" not in page
    assert _layer_control(page)[0] == []


def test_map_without_rasters_or_ranking_still_renders():
    page = _render(ranking=None, rsrp_dbm=None, best_server=None, candidates=None)
    overlays = _layer_control(page)[1]
    assert overlays == [LAYER_DESA, LAYER_TARGETS.format(n=2)]
    assert "RSRP of chosen towers" not in page


def test_map_is_small(page):
    size_b = len(page.encode("utf-8"))
    vendored_b = sum(len(c) + len(j) for c, j in maps.vendored_assets())
    assert size_b < vendored_b + 250_000, size_b


def test_overlay_is_an_indexed_png_with_the_class_colours():
    from PIL import Image

    rsrp, _server, transform = _rasters()
    merc, _bounds = reproject_to_web_mercator(rsrp, transform, CRS)
    png = maps.palette_png(maps.rsrp_classes(merc), [c for *_x, c in RSRP_CLASSES_DBM])
    img = Image.open(io.BytesIO(png))
    assert img.mode == "P" and img.info["transparency"] == 0
    palette = img.getpalette()[: 3 * (len(RSRP_CLASSES_DBM) + 1)]
    assert tuple(palette[3:6]) == maps._rgb(RSRP_CLASSES_DBM[0][3])
    values = set(np.unique(np.asarray(img)).tolist())
    assert values <= set(range(len(RSRP_CLASSES_DBM) + 1)) and 0 in values and 1 in values


def test_overlays_are_downsampled_to_the_pixel_cap():
    rsrp, server, transform = _rasters()
    merc, _ = reproject_to_web_mercator(rsrp, transform, CRS, max_pixels=5_000)
    assert merc.size <= 5_000
    ranks = np.where(server >= 0, server + 1, 0).astype(np.float32)
    ranks[ranks == 0] = np.nan
    cat, _ = reproject_to_web_mercator(ranks, transform, CRS, max_pixels=5_000, categorical=True)
    # a class raster keeps class codes: nothing between ranks 1 and 2
    assert set(np.unique(cat[np.isfinite(cat)]).tolist()) == {1.0, 2.0}


def test_best_server_overlay_colours_each_pixel_by_its_tower_rank(page):
    import base64

    from PIL import Image

    urls = re.findall(r'L\.imageOverlay\(\s*"data:image/png;base64,([^"]+)"', page)
    assert len(urls) == 2  # coverage, then best server
    img = np.asarray(Image.open(io.BytesIO(base64.b64decode(urls[1]))).convert("RGBA"))
    opaque = img[img[..., 3] > 0][:, :3]
    colours = {"#" + bytes(int(v) for v in c).hex() for c in np.unique(opaque, axis=0)}
    assert colours == {rank_colour(1), rank_colour(2)}
    # the layer starts hidden: folium adds a layer to the map only when it is shown
    declared = page[: page.index(urls[1])]
    name = re.findall(r"var (image_overlay_[0-9a-f]+) = L\.imageOverlay\(", declared)[-1]
    assert f"{name}.addTo(" not in page


def test_lang_id_puts_every_map_phrase_in_indonesian_and_keeps_names_escaped():
    from blankspot.reporting.maps import MAP_PHRASES
    from blankspot.reporting.tables import PHRASES, phrase

    # title and terrain note are shown as given: plan_folium_map gives them in the language
    page = _render(lang="id", title=f"rencana {JINJA}", terrain_note="Medan: DEM demo SINTETIS")
    _, overlays = _layer_control(page)
    assert overlays == [
        phrase("map_layer_desa", "id"), phrase("map_layer_coverage", "id"),
        phrase("map_layer_best_server", "id"), phrase("map_layer_targets", "id", n=2),
        phrase("map_layer_candidates", "id", n=4), phrase("map_layer_towers", "id", n=2),
    ]
    for key in ("share_legend", "map_legend_rsrp", "map_opacity", "map_legend_best_server",
                "map_population", "map_share_covered", "map_status_target", "map_fullscreen",
                "map_measure", "map_search"):
        assert phrase(key, "id") in page, key
    assert "Menara #1" in page and "jalan akses" in page and "sangat baik" in page
    assert "(titik tinggi)" in page and "(pengguna)" in page  # codes of the candidate source
    assert "asal biaya model biaya" in page and "catu daya (PLN)" in page
    ours = page
    for _css, js in maps.vendored_assets():  # the plugins' sources hold their English defaults
        ours = ours.replace(js, "")
    for key in MAP_PHRASES:  # phrases of several words (single words also name JavaScript)
        en, id_ = PHRASES[key]
        if "{" not in en and " " in en and en not in id_:
            assert en not in ours, key
    # hostile names stay escaped in Indonesian too
    assert EVIL not in page and "<script>window.__xss" not in page
    assert "<b>rencana &#123;&#123; 7 * 7 }}" in page and "rencana 49" not in page


def test_lang_en_is_unchanged_and_other_languages_are_refused():
    from blankspot.errors import SchemaError

    _, overlays = _layer_control(_render(lang="en"))
    assert overlays[0] == LAYER_DESA
    with pytest.raises(SchemaError, match="lang"):
        _render(lang="fr")


def test_the_map_opens_on_the_targets_and_towers():
    cfg = json.loads(re.search(r"var cfg = (\{.*?\});\n", _render()).group(1))
    (s, w), (n, e) = cfg["fit"]
    targets = _villages().loc[["64.01.09.2004", "64.01.09.2005"]].to_crs(4326).total_bounds
    everything = _villages().to_crs(4326).total_bounds
    for lat, lon in zip(_ranking()["lat"], _ranking()["lon"], strict=True):
        assert s < lat < n and w < lon < e
    assert w < targets[0] and s < targets[1] and e > targets[2] and n > targets[3]
    assert (e - w) * (n - s) < (everything[2] - everything[0]) * (everything[3] - everything[1])
