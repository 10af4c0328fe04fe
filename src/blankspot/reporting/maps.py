"""Interactive folium maps. The only module that writes latitude-before-longitude order.

Vectors are drawn in EPSG:4326; raster overlays are reprojected to Web Mercator (EPSG:3857),
the projection Leaflet draws in, and placed with lat/lon bounds (:func:`_latlon_bounds` is the one
place where x/y order turns into lat/lon order). Every user-supplied string shown on the map is
HTML-escaped (:func:`_esc`), and every string handed to the page's JavaScript is JSON with ``<``,
``>`` and ``&`` escaped (:func:`_js_json`), so no name can close a ``<script>`` or inject markup;
``{`` is escaped in both, because branca compiles rendered scripts as Jinja templates once more.
Text is never pasted into folium's ``Element`` (a template) or ``Tooltip`` (a JavaScript template
literal).

The map opens offline: Leaflet and the three plugins it uses (fullscreen, search, distance
measure) are vendored in ``blankspot/_vendor`` and inlined; only basemap tiles need a connection.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from affine import Affine

from blankspot.calibration import WITHIN_DB, measurements_layer, residual_colour
from blankspot.crs import WGS84, as_crs
from blankspot.reporting.tables import PHRASES, RSRP_CLASS_PHRASES, check_lang, phrase
from blankspot.units import format_idr

if TYPE_CHECKING:
    import folium
    import geopandas as gpd
    import numpy.typing as npt
    import pandas as pd
    from branca.element import Element, Figure, MacroElement

WEB_MERCATOR = "EPSG:3857"

RSRP_CLASSES_DBM: tuple[tuple[float, float, str, str], ...] = (
    (-80.0, np.inf, "≥ −80 dBm excellent", "#1a9641"),
    (-90.0, -80.0, "−90 … −80 dBm good", "#a6d96a"),
    (-100.0, -90.0, "−100 … −90 dBm fair", "#ffffbf"),
    (-105.0, -100.0, "−105 … −100 dBm covered (terlayani)", "#fdae61"),
    (-110.0, -105.0, "−110 … −105 dBm weak (lemah)", "#d7191c"),
)
"""Planner RSRP classes (planning-parameters §2); below −110 dBm is a blank spot and not drawn."""

SHARE_COLOURS = ("#f7f7f7", "#d1e5f0", "#92c5de", "#4393c3", "#2166ac")
"""Fill of a desa by share of its people covered: 0–20 %, 20–40 %, ... 80–100 %."""

RANK_COLOURS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b",
    "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#393b79",
)
"""Best-server colour of the tower ranked k: ``RANK_COLOURS[(k - 1) % len(RANK_COLOURS)]``."""

TARGET_COLOUR = "#b2182b"

LAYER_DESA = phrase("map_layer_desa")
LAYER_TARGETS = phrase("map_layer_targets")
LAYER_COVERAGE = phrase("map_layer_coverage")
LAYER_BEST_SERVER = phrase("map_layer_best_server")
LAYER_TOWERS = phrase("map_layer_towers")
LAYER_CANDIDATES = phrase("map_layer_candidates")
"""Layer-control names in English (``phrase("map_layer_*", lang)`` gives them in a language);
``{n}`` is the number of features."""

MAP_PHRASES = tuple(k for k in sorted(PHRASES) if k.startswith("map_"))
"""Keys of :data:`blankspot.reporting.tables.PHRASES` that the interactive map shows."""

FOCUS_PAD = 0.1
"""The map opens on the target desa and the chosen towers, their box widened by this share of
its size on each side (the whole area when there is neither)."""

BASEMAP_NAME = "OpenStreetMap"
BASEMAP_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
"""The only URL the map requests: basemap tiles (everything else is inlined)."""

VENDORED = {
    "leaflet": ("leaflet.css", "leaflet.js"),
    "leaflet-fullscreen": ("Control.FullScreen.css", "Control.FullScreen.js"),
    "leaflet-search": ("leaflet-search.css", "leaflet-search.js"),
    "leaflet-polylinemeasure": ("Leaflet.PolylineMeasure.css", "Leaflet.PolylineMeasure.js"),
}
"""Folder under ``blankspot/_vendor`` -> (stylesheet, script), inlined in this order."""

COST_COMPONENTS = ("tower", "land", "road", "power", "backhaul", "equipment", "contingency")
"""Cost components a tower's popup lists: ranking column ``{name}_idr``, flagged as an estimate
(*perkiraan*) when ``name`` is in the row's ``estimated_components`` (``capex`` flags the total)."""


def _latlon_bounds(bounds_xy: Sequence[float], crs: object) -> list[list[float]]:
    """[[lat_min, lon_min], [lat_max, lon_max]] from (xmin, ymin, xmax, ymax) in ``crs``.

    The single place where x/y order turns into folium's lat/lon order.
    """
    from pyproj import Transformer

    t = Transformer.from_crs(as_crs(crs), WGS84, always_xy=True)
    left, bottom, right, top = bounds_xy
    xmin, ymin, xmax, ymax = t.transform_bounds(left, bottom, right, top, densify_pts=21)
    return [[ymin, xmin], [ymax, xmax]]


def _latlon(x: float, y: float, crs: object) -> tuple[float, float]:
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(as_crs(crs), WGS84, always_xy=True).transform(x, y)
    return float(lat), float(lon)


def _esc(text: object) -> str:
    """HTML-escape a user-supplied string, ``{`` included.

    branca renders each element's script and then compiles the result as a Jinja template once
    more, so a ``{{ ... }}`` or ``{% ... %}`` in a desa name would be evaluated when the map is
    written. As ``&#123;`` the brace is inert there and still shows as ``{`` in the page.
    """
    return html.escape(str(text)).replace("{", "&#123;")


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _js_json(obj: object) -> str:
    """JSON for inlining in a ``<script>`` (and in a branca template).

    ``<``, ``>`` and ``&`` are escaped as jinja's tojson does, so no string can close the script;
    ``{`` inside strings is escaped too, so none can open a Jinja tag (see :func:`_esc`).
    """
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return _JSON_STRING.sub(lambda m: m.group().replace("{", "\\u007b"), text)


def _raw(text: str) -> Element:
    """A branca element that renders ``text`` verbatim.

    ``folium.Element(text)`` would compile ``text`` as a Jinja template, so a ``{{`` in a
    vendored script or in a user's desa name would be evaluated; this one never is.
    """
    from branca.element import Element
    from jinja2 import Template

    class _Raw(Element):
        _template = Template("{{ this.raw_text }}")

        def __init__(self) -> None:
            super().__init__()
            self.raw_text = text

    return _Raw()


def _bind(method: str, html_text: str, options: Mapping[str, object]) -> MacroElement:
    """A Leaflet popup or tooltip holding ``html_text`` (already escaped), bound to its parent.

    folium's Popup builds its content with jQuery, and its Tooltip pastes the text into a
    JavaScript template literal (where a backtick or ``${`` in a name would run as code); this
    one passes the text as an escaped JSON string and needs only Leaflet.
    """
    from branca.element import MacroElement
    from jinja2 import Template

    class _Bound(MacroElement):
        _template = Template(
            "{% macro script(this, kwargs) %}"
            "{{ this._parent.get_name() }}.{{ this.method }}({{ this.content }}, {{ this.options }});"
            "{% endmacro %}"
        )

        def __init__(self) -> None:
            super().__init__()  # type: ignore[no-untyped-call]  # branca: unannotated
            self._name = "Blankspot" + method
            self.method = method
            # a JSON string literal that can never close the <script>
            self.content = _js_json(html_text)
            self.options = _js_json(options)

    return _Bound()


def _popup(html_text: str, *, max_width_px: int = 300) -> MacroElement:
    """A Leaflet popup holding ``html_text`` (already escaped), bound to its parent marker."""
    return _bind("bindPopup", html_text, {"maxWidth": int(max_width_px)})


def _tooltip(html_text: str, **options: object) -> MacroElement:
    """A Leaflet tooltip holding ``html_text`` (already escaped), bound to its parent marker."""
    return _bind("bindTooltip", html_text, options)


def vendored_assets() -> list[tuple[str, str]]:
    """[(css, js)] text of Leaflet and its plugins, from ``blankspot/_vendor``, in load order."""
    from importlib.resources import files

    root = files("blankspot._vendor")
    out: list[tuple[str, str]] = []
    for folder, (css, js) in VENDORED.items():
        out.append((
            (root / folder / css).read_text(encoding="utf-8"),
            (root / folder / js).read_text(encoding="utf-8"),
        ))
    return out


def _embed_leaflet(fmap: folium.Map) -> None:
    """Replace folium's CDN scripts and stylesheets by vendored Leaflet and plugins, inlined.

    The map then opens without internet (only basemap tiles need a connection). folium's other
    defaults (jQuery, Bootstrap, awesome-markers) are not used by these maps and are dropped.
    The charset comes first, so the browser reads the page as UTF-8 before any inlined asset.
    """
    fmap.default_js = []
    fmap.default_css = []
    header = _root(fmap).header
    header.add_child(_raw('<meta charset="utf-8">'), name="charset", index=0)
    for i, (css, js) in enumerate(vendored_assets()):
        name = list(VENDORED)[i].replace("-", "_")
        header.add_child(_raw(f"<style>{css}</style>"), name=f"{name}_css", index=1 + 2 * i)
        header.add_child(_raw(f"<script>{js}</script>"), name=f"{name}_js", index=2 + 2 * i)


def share_colour(share: float | np.floating[Any] | None) -> str:
    """Fill colour for a share of people covered (0..1); grey for NaN."""
    if share is None or not np.isfinite(share):
        return "#bdbdbd"
    idx = min(int(share * len(SHARE_COLOURS)), len(SHARE_COLOURS) - 1)
    return SHARE_COLOURS[idx]


def rank_colour(rank: int) -> str:
    """Best-server colour of the tower ranked ``rank`` (1 = first pick)."""
    return RANK_COLOURS[(int(rank) - 1) % len(RANK_COLOURS)]


def rsrp_classes(rsrp_dbm: np.ndarray) -> np.ndarray:
    """uint8 class of each cell: k for ``RSRP_CLASSES_DBM[k - 1]``, 0 below −110 dBm or NaN."""
    rsrp_dbm = np.asarray(rsrp_dbm)
    out = np.zeros(rsrp_dbm.shape, dtype=np.uint8)
    for k, (lo, hi, _label, _colour) in enumerate(RSRP_CLASSES_DBM, start=1):
        out[(rsrp_dbm >= lo) & (rsrp_dbm < hi)] = k
    return out


def rsrp_to_rgba(rsrp_dbm: np.ndarray, *, alpha: int = 170) -> np.ndarray:
    """RGBA uint8 image of RSRP classes; transparent below −110 dBm and where NaN."""
    classes = rsrp_classes(rsrp_dbm)
    out = np.zeros((*classes.shape, 4), dtype=np.uint8)
    for k, (_lo, _hi, _label, colour) in enumerate(RSRP_CLASSES_DBM, start=1):
        out[classes == k, :3] = _rgb(colour)
        out[classes == k, 3] = alpha
    return out


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def palette_png(index: np.ndarray, colours: Sequence[str]) -> bytes:
    """An indexed PNG: value 0 transparent, value k drawn in ``colours[k - 1]``.

    A handful of classes compresses to a small fraction of an RGBA image of the same grid.
    """
    from PIL import Image

    index = np.ascontiguousarray(index, dtype=np.uint8)
    if len(colours) > 255:
        raise ValueError(f"an indexed PNG holds at most 255 colours; received {len(colours)}.")
    rows, cols = index.shape
    img = Image.frombytes("P", (cols, rows), index.tobytes())
    palette = [0, 0, 0]
    for c in colours:
        palette += list(_rgb(c))
    img.putpalette(palette)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True, transparency=0)
    return buf.getvalue()


def _png_data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def reproject_to_web_mercator(
    array: np.ndarray,
    transform: Affine,
    crs: object,
    *,
    max_pixels: int = 1_500_000,
    categorical: bool = False,
) -> tuple[npt.NDArray[np.float32], list[list[float]]]:
    """Reproject a float raster to EPSG:3857, downsampled to at most ``max_pixels`` (maximum).

    NaN is nodata. A downsampled pixel takes the maximum of the cells it spans (the best signal,
    so thin covered valleys stay visible), or with ``categorical=True`` their most frequent value
    (class codes such as a best-server index). Returns (array, bounds_latlon) for
    :func:`folium.raster_layers.ImageOverlay`.
    """
    import rasterio.warp
    from rasterio.enums import Resampling

    rows, cols = array.shape
    left, top = transform.c, transform.f
    right, bottom = left + cols * transform.a, top + rows * transform.e
    dst_transform, width, height = rasterio.warp.calculate_default_transform(
        as_crs(crs), WEB_MERCATOR, cols, rows, left=left, bottom=bottom, right=right, top=top
    )
    scale = max(1.0, float(np.sqrt(width * height / max_pixels)))
    if scale > 1.0:
        width, height = int(width / scale), int(height / scale)
        dst_transform = dst_transform @ Affine.scale(scale, scale)
    if scale == 1.0:
        resampling = Resampling.nearest
    else:
        resampling = Resampling.mode if categorical else Resampling.max
    dst = np.full((height, width), np.nan, dtype=np.float32)
    rasterio.warp.reproject(
        np.asarray(array, dtype=np.float32),
        dst,
        src_transform=transform,
        src_crs=as_crs(crs),
        dst_transform=dst_transform,
        dst_crs=WEB_MERCATOR,
        src_nodata=np.nan,
        dst_nodata=np.nan,
        resampling=resampling,
    )
    b = (dst_transform.c, dst_transform.f + height * dst_transform.e,
         dst_transform.c + width * dst_transform.a, dst_transform.f)
    return dst, _latlon_bounds(b, WEB_MERCATOR)


def _round_coordinates(geoms: npt.ArrayLike, decimals: int) -> np.ndarray:
    """Geometries with every coordinate rounded to ``decimals`` (display only)."""
    import shapely

    rounded: np.ndarray = shapely.transform(np.asarray(geoms), lambda xy: np.round(xy, decimals))
    return rounded


def _swatch(colour: str, *, outline: str = "#555", width_px: int = 14) -> str:
    return (
        f'<span class="bs-swatch" style="background:{colour};border-color:{outline};'
        f'width:{width_px}px"></span>'
    )


def _legend_html(
    *,
    desa_items: Sequence[tuple[str, str]],
    n_targets: int,
    rsrp_items: Sequence[tuple[str, str]],
    best_server_items: Sequence[tuple[str, str]],
    note: str = "",
    demand_note: str = "",
    opacity: float = 0.7,
    lang: str = "en",
) -> str:
    """The legend: desa shares, target outline, RSRP classes with an opacity slider, best server,
    the terrain note and where people were placed (``demand_note``).

    Labels are escaped here; colours are this module's constants; words are in ``lang``.
    """
    parts = ['<div id="blankspot-legend" class="bs-box bs-legend">']
    parts.append(f"<b>{_esc(phrase('share_legend', lang))}</b>")
    parts += [f"<div>{_swatch(c)}{_esc(label)}</div>" for label, c in desa_items]
    if n_targets:
        parts.append(
            f'<div><span class="bs-swatch" style="background:transparent;border:3px solid '
            f'{TARGET_COLOUR}"></span>{_esc(phrase("map_legend_targets", lang, n=n_targets))}</div>'
        )
    if rsrp_items:
        parts.append(f'<b class="bs-section">{_esc(phrase("map_legend_rsrp", lang))}</b>')
        parts += [f"<div>{_swatch(c)}{_esc(label)}</div>" for label, c in rsrp_items]
        pct = round(opacity * 100)
        parts.append(
            f'<label class="bs-opacity">{_esc(phrase("map_opacity", lang))} '
            f'<input id="blankspot-opacity" type="range" min="0" max="100" step="5" value="{pct}" '
            f'aria-label="{_esc(phrase("map_opacity_aria", lang))}"> <output id="blankspot-opacity-value">{pct} %'
            "</output></label>"
        )
    if best_server_items:
        parts.append('<div id="blankspot-legend-best-server" style="display:none">')
        parts.append(f'<b class="bs-section">{_esc(phrase("map_legend_best_server", lang))}</b>')
        parts += [f"<div>{_swatch(c)}{_esc(label)}</div>" for label, c in best_server_items]
        if len(best_server_items) > len(RANK_COLOURS):
            parts.append(f"<div>{_esc(phrase('map_colours_repeat', lang, n=len(RANK_COLOURS)))}</div>")
        parts.append("</div>")
    if note:
        parts.append(f'<div class="bs-note">{_esc(note)}</div>')
    if demand_note:
        parts.append(f'<div class="bs-note bs-demand">{_esc(demand_note)}</div>')
    parts.append("</div>")
    return "".join(parts)


_CSS = """
.bs-box {background:rgba(255,255,255,.93);padding:6px 10px;border-radius:4px;
  box-shadow:0 1px 4px rgba(0,0,0,.35);font:12px/1.35 system-ui,sans-serif;color:#222}
.bs-legend {max-width:290px;max-height:calc(100vh - 120px);overflow-y:auto}
.bs-legend .bs-section {display:block;margin-top:5px}
.bs-swatch {display:inline-block;height:10px;border:1px solid #555;margin-right:6px;
  vertical-align:-1px;box-sizing:border-box;width:14px}
.bs-opacity {display:block;margin-top:3px;white-space:nowrap}
.bs-opacity input {width:110px;vertical-align:middle}
.bs-note {margin-top:5px;color:#b2182b;font-weight:bold}
#blankspot-title {position:absolute;top:10px;left:56px;z-index:1000;max-width:560px;
  font-size:13px}
#blankspot-title .bs-synthetic {color:#b2182b;font-weight:bold}
.leaflet-control-layers {font:12px/1.4 system-ui,sans-serif}
.bs-tower {background:#b2182b;color:#fff;border-radius:50%;width:24px;height:24px;
  line-height:24px;text-align:center;font:bold 13px sans-serif;border:2px solid #fff;
  box-shadow:0 0 3px #000;box-sizing:border-box}
.leaflet-popup-content {font:12px/1.4 system-ui,sans-serif;margin:10px 14px}
.leaflet-tooltip {font:12px/1.35 system-ui,sans-serif}
.leaflet-tooltip th {text-align:left;padding-right:8px}
.bs-popup table {border-collapse:collapse;margin:3px 0}
.bs-popup td {padding:0 6px 0 0;white-space:nowrap}
.bs-popup td.bs-idr {text-align:right;font-variant-numeric:tabular-nums}
.bs-popup .bs-est {color:#b35806}
.leaflet-image-layer {-webkit-user-select:none;user-select:none}
.leaflet-control-search .search-tooltip {max-height:260px;background:#fff}
.leaflet-control-search .search-tip {font:12px system-ui,sans-serif}
"""



@cache
def _glue_js() -> str:
    """The controls' script, ``plan_map.js`` next to this module: a %-format string taking
    ``map`` (the map's variable), ``layers`` (a JavaScript object of layer variables) and
    ``cfg`` (JSON); a literal percent sign is written ``%%``."""
    from importlib.resources import files

    return (files("blankspot.reporting") / "plan_map.js").read_text(encoding="utf-8")


def _glue(
    fmap: folium.Map, layers: Mapping[str, Element | None], cfg: Mapping[str, object]
) -> MacroElement:
    """The script that adds the controls and exposes ``window.blankspot`` (after every layer)."""
    from branca.element import MacroElement
    from jinja2 import Template

    refs = ", ".join(
        f"{key}: {layer.get_name() if layer is not None else 'null'}" for key, layer in layers.items()
    )
    js = _glue_js() % {"map": fmap.get_name(), "layers": "{" + refs + "}", "cfg": _js_json(cfg)}

    class _Glue(MacroElement):
        _template = Template("{% macro script(this, kwargs) %}{{ this.js }}{% endmacro %}")

        def __init__(self) -> None:
            super().__init__()  # type: ignore[no-untyped-call]  # branca: unannotated
            self._name = "BlankspotControls"
            self.js = js

    return _Glue()


def _code(value: object, lang: str) -> str:
    """A code shown on the map (candidate source, power or backhaul option, where a cost came
    from): itself in English, its ``map_code_*`` phrase (spaces as ``_``) in Bahasa Indonesia
    when it has one. Not escaped."""
    key = f"map_code_{str(value).replace(' ', '_')}"
    return phrase(key, lang) if lang != "en" and key in PHRASES else str(value)


def _count(value: float, lang: str) -> str:
    """A whole number with thousands separated: ``1,234`` in English, ``1.234`` in Indonesian."""
    text = f"{round(float(value)):,}"
    return text.replace(",", ".") if lang == "id" else text


def _tower_popup(r: pd.Series, format_idr: Callable[[Any], str], lang: str = "en") -> str:
    """Popup HTML of one ranked tower: rank, height, cost breakdown, people and desa served."""
    estimated = {s.strip() for s in str(r.get("estimated_components", "") or "").split(",") if s.strip()}
    estimate = _esc(phrase("map_estimate", lang))

    def est(token: str) -> str:
        return (f' <span class="bs-est" title="{estimate}">(perkiraan)</span>'
                if token in estimated else "")

    import pandas as pd

    rows = []
    for name in COST_COMPONENTS:
        value = r.get(f"{name}_idr")
        if value is None or pd.isna(value):
            continue
        option = ""
        if name in ("power", "backhaul") and r.get(f"{name}_option"):
            option = f" ({_esc(_code(r[f'{name}_option'], lang))})"
        rows.append(
            f"<tr><td>{_esc(phrase('map_cost_' + name, lang))}{option}</td>"
            f"<td class=\"bs-idr\">{format_idr(value)}</td>"
            f"<td>{est(name)}</td></tr>"
        )
    rows.append(
        f"<tr><td><b>{_esc(phrase('map_cost_total', lang))}</b></td><td class=\"bs-idr\"><b>{format_idr(r['cost_idr'])}</b></td>"
        f"<td>{est('capex')}</td></tr>"
    )
    source = f" ({_esc(_code(r['source'], lang))})" if r.get("source") else ""
    cost_from = (f"<br>{_esc(phrase('map_cost_from', lang))} {_esc(_code(r['cost_from'], lang))}"
                 if r.get("cost_from") else "")
    served_new = str(r.get("desa_served_new", "") or "").strip() or phrase("map_none", lang)
    improved = str(r.get("desa_improved", "") or "").strip() or phrase("map_none", lang)
    height = phrase("map_tower_height", lang, height=float(r["height_agl_m"]), lat=float(r["lat"]),
                    lon=float(r["lon"]))
    cumulative = phrase("map_cumulative", lang, people=_count(r["cumulative_people"], lang),
                        cost=format_idr(r["cumulative_cost_idr"]))
    return (
        '<div class="bs-popup">'
        f"<b>{_esc(phrase('map_tower', lang, rank=int(r['rank'])))}</b> "
        f"{_esc(str(r['site_id']))}{source}<br>"
        f"{_esc(height)}"
        f"<table>{''.join(rows)}</table>"
        f"{_esc(phrase('map_people_new', lang))}: <b>{_count(r['people_new'], lang)}</b><br>"
        f"{_esc(cumulative)}<br>"
        f"{_esc(phrase('map_desa_served_new', lang))}: <b>{_esc(served_new)}</b><br>"
        f"{_esc(phrase('map_desa_improved', lang))}: {_esc(improved)}"
        f"{cost_from}</div>"
    )


def _number(value: float, decimals: int, lang: str) -> str:
    """A number with ``decimals`` decimals: a point in English, a comma in Indonesian."""
    text = f"{float(value):.{decimals}f}"
    return text.replace(".", ",") if lang == "id" else text


def why_not_popups(why_not: pd.DataFrame | None, lang: str = "en") -> dict[str, str]:
    """Popup HTML of each target desa, by kode (escaped): served or not, and for one not served
    what stands in the way, its best candidate, the RSRP at its settlement and a relative link
    to its path profile (``profiles/<kode>.png`` beside ``map.html``).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"kode": ["64.01"], "nama": ["A"], "share_covered": [0.25],
    ...                   "served": [False], "obstacle": ["terrain"], "best_site_id": ["c_1"],
    ...                   "best_site_share": [0.5], "rsrp_dbm": [-121.0],
    ...                   "distance_m": [5400.0], "profile": ["profiles/64.01.png"]})
    >>> html = why_not_popups(t)["64.01"]
    >>> "terrain: the hills block" in html, 'href="profiles/64.01.png"' in html
    (True, True)
    """
    import pandas as pd

    if why_not is None:
        return {}
    check_lang(lang)
    out: dict[str, str] = {}
    for r in why_not.to_dict(orient="records"):
        share = _number(100 * float(r["share_covered"]), 1, lang)
        lines = [f"<b>{_esc(r['nama'])}</b> ({_esc(r['kode'])})"]
        if r["served"]:
            lines.append(_esc(phrase("map_desa_served", lang, share=share)))
        else:
            lines.append(_esc(phrase("map_desa_not_served", lang, share=share)))
            obstacle = str(r["obstacle"]).replace(" ", "_")
            key = f"map_obstacle_{obstacle}"
            text = phrase(key, lang) if key in PHRASES else str(r["obstacle"])
            lines.append(f"{_esc(phrase('map_obstacle', lang))}: {_esc(text)}")
            rsrp = r.get("rsrp_dbm")
            if rsrp is not None and not pd.isna(rsrp):
                lines.append(_esc(phrase(
                    "map_best_candidate", lang, site=r["best_site_id"],
                    share=_number(100 * float(r["best_site_share"]), 1, lang),
                    rsrp=_number(rsrp, 1, lang),
                    km=_number(float(r["distance_m"]) / 1000.0, 1, lang))))
            if r.get("profile"):
                lines.append(f'<a href="{_esc(r["profile"])}" target="_blank" rel="noopener">'
                             f"{_esc(phrase('map_profile_link', lang))}</a>")
        out[_esc(r["kode"])] = '<div class="bs-popup">' + "<br>".join(lines) + "</div>"
    return out


def plan_map(
    villages: gpd.GeoDataFrame,
    *,
    ranking: pd.DataFrame | None = None,
    candidates: gpd.GeoDataFrame | None = None,
    rsrp_dbm: np.ndarray | None = None,
    rsrp_transform: Affine | None = None,
    rsrp_crs: object = None,
    title: str = "blankspot plan",
    terrain_note: str = "",
    demand_note: str = "",
    simplify_m: float = 60.0,
    best_server: npt.ArrayLike | None = None,
    best_server_ids: Sequence[str] | None = None,
    tiles: str | None = BASEMAP_TILES,
    coord_decimals: int = 5,
    max_overlay_pixels: int = 1_500_000,
    overlay_opacity: float = 0.7,
    measurements: gpd.GeoDataFrame | None = None,
    lang: str = "en",
    desa_popups: Mapping[str, str] | None = None,
) -> folium.Map:
    """A folium map of a tower plan, for a planner.

    Desa coloured by share of people covered (blank-spot targets outlined on top), the coverage
    overlay in RSRP classes with an opacity slider, a best-server layer, ranked tower markers
    with their cost breakdown, all candidates, a layer control, desa search, fullscreen, scale
    and distance measure. Opens offline; only basemap tiles need a connection.

    Parameters
    ----------
    villages:
        GeoDataFrame indexed by ``village_id`` with ``name``, ``kecamatan``, ``population``,
        ``population_covered``, ``share_covered`` and optionally ``target`` (bool), in a metric CRS.
    ranking:
        DataFrame with ``rank``, ``site_id``, ``lon``, ``lat``, ``height_agl_m``, ``cost_idr``,
        ``people_new``, ``cumulative_cost_idr``, ``cumulative_people``, ``desa_served_new``,
        ``desa_improved`` and optionally the cost breakdown (``tower_idr`` ... ``contingency_idr``, ``power_option``,
        ``backhaul_option``, ``estimated_components``, ``cost_from``).
    candidates:
        GeoDataFrame of all candidate sites (drawn as a layer that is off by default).
    rsrp_dbm, rsrp_transform, rsrp_crs:
        best-server RSRP raster of the chosen towers, drawn in planner classes.
    title:
        Shown at the top of the map.
    terrain_note:
        what terrain the result was computed on; say "SYNTHETIC" when it was (shown in red).
    demand_note:
        where the people were placed (the demand model and its source), shown under the title
        and in the legend.
    simplify_m:
        Tolerance in metres for simplifying desa boundaries (in the villages' CRS).
    best_server, best_server_ids:
        int raster on the RSRP grid: index into ``best_server_ids`` of the tower serving each
        cell, -1 where none (:meth:`blankspot.coverage.CoverageResult.best_server`). Drawn by
        tower rank, as a layer that is off by default.
    tiles:
        Basemap tile URL template; None for no basemap.
    coord_decimals:
        Decimals kept in longitude/latitude (5: about 1 m).
    max_overlay_pixels:
        Largest raster overlay, in pixels.
    overlay_opacity:
        Initial opacity of the raster overlays (0..1); the legend's slider changes it.
    measurements:
        Signal measurements with a residual (:func:`blankspot.calibration.predict_at_points`
        output, or the ``points.csv`` of ``blankspot calibrate --report-dir`` as points): drawn
        coloured by measured − predicted RSRP (red weaker than predicted, white within ±3 dB,
        blue stronger) with popups, and a legend of their own (:func:`add_measurements`).
    lang:
        ``"en"`` or ``"id"``: the language of every word the map adds (layer names, legend,
        tooltips, popups, controls), from the ``map_*`` entries of
        :data:`blankspot.reporting.tables.PHRASES`. ``title``, ``terrain_note`` and
        ``demand_note`` are shown as given.
    desa_popups:
        {kode: popup HTML, already escaped} bound to those desa (:func:`why_not_popups`: served
        or not, why, and the link to the path profile).

    The map opens on the blank-spot target desa and the chosen towers (:func:`_focus_bounds`);
    every desa is drawn.

    Returns
    -------
    folium.Map
    """
    import folium

    check_lang(lang)
    n_desa = len(villages)
    v = villages.copy()
    v["geometry"] = v.geometry.simplify(simplify_m, preserve_topology=True)
    v = v.to_crs(WGS84)
    v["geometry"] = _round_coordinates(v.geometry.to_numpy(), coord_decimals)
    props = _desa_properties(v, lang)
    targets = props[props["target"]]
    focus = _focus_bounds(v.total_bounds, targets, ranking)
    fmap = _base_map(focus, tiles)

    desa_layer = _desa_layer(props, lang)
    desa_layer.add_to(fmap)

    rank_of: dict[str, int] = {}
    if ranking is not None and len(ranking):
        rank_of = {str(s): int(k) for s, k in zip(ranking["site_id"], ranking["rank"], strict=True)}
    coverage_layer = None
    if rsrp_dbm is not None:
        coverage_layer = _coverage_layer(
            rsrp_dbm, _rsrp_grid(rsrp_transform), rsrp_crs, max_overlay_pixels, overlay_opacity,
            lang,
        )
        coverage_layer.add_to(fmap)
    best_server_layer = None
    best_server_items: list[tuple[str, str]] = []
    if best_server is not None and best_server_ids is not None and len(best_server_ids):
        best_server_layer, best_server_items = _best_server_layer(
            best_server, best_server_ids, rank_of, _rsrp_grid(rsrp_transform), rsrp_crs,
            max_overlay_pixels, overlay_opacity, lang,
        )
        if best_server_layer is not None:
            best_server_layer.add_to(fmap)

    # above the rasters: target outlines, then candidates, then the chosen towers
    target_layer = _target_layer(targets, lang)
    if target_layer is not None:
        target_layer.add_to(fmap)
    candidate_layer = _candidate_layer(candidates, coord_decimals, lang)
    if candidate_layer is not None:
        candidate_layer.add_to(fmap)
    tower_layer, towers = _tower_layer(ranking, coord_decimals, lang)
    if tower_layer is not None:
        tower_layer.add_to(fmap)

    if measurements is not None and len(measurements):
        add_measurements(fmap, measurements)
    folium.LayerControl(collapsed=False, position="topright").add_to(fmap)
    _embed_leaflet(fmap)
    root = _root(fmap)
    root.header.add_child(_raw(f"<style>{_CSS}</style>"), name="blankspot_css")
    root.html.add_child(_raw(_title_html(title, terrain_note, demand_note)))
    root.html.add_child(
        _raw(
            _plan_legend_html(
                n_targets=len(targets),
                with_rsrp=coverage_layer is not None,
                best_server_items=best_server_items,
                terrain_note=terrain_note,
                demand_note=demand_note,
                opacity=overlay_opacity,
                lang=lang,
            )
        )
    )
    layers = {
        "desa": desa_layer,
        "targets": target_layer,
        "coverage": coverage_layer,
        "bestServer": best_server_layer,
        "candidates": candidate_layer,
        "towers": tower_layer,
    }
    text = {key: _esc(phrase(f"map_{key}", lang)) for key in (
        "fullscreen", "fullscreen_exit", "measure", "measure_stop", "measure_clear",
        "measure_finish", "measure_delete", "measure_move", "measure_resume", "measure_add",
        "search", "search_none", "search_clear")}
    fit = [[focus[1], focus[0]], [focus[3], focus[2]]]
    _glue(fmap, layers, {"towers": towers, "n_desa": n_desa, "text": text, "fit": fit,
                         "popups": dict(desa_popups or {})}).add_to(fmap)
    return fmap


MEASUREMENT_LEGEND = (
    (-15.0, "weaker than predicted by more than 10 dB"),
    (-6.5, "weaker by 3 to 10 dB"),
    (0.0, "within ±3 dB of the prediction"),
    (6.5, "stronger by 3 to 10 dB"),
    (15.0, "stronger than predicted by more than 10 dB"),
)
"""Residuals (dB) whose colour the measurement legend shows, with their labels."""


def measurements_legend_html(points: Any = None) -> str:
    """The legend of the measurement layer: residual colours, and the share of points within
    ±6 dB when ``points`` carry ``residual_db``. Labels are escaped."""
    parts = ['<div id="blankspot-measurements-legend" class="bs-box" style="position:absolute;'
             'bottom:28px;left:10px;z-index:1000;max-width:280px">',
             "<b>Measurements: measured − predicted RSRP</b>"]
    parts += [f"<div>{_swatch(residual_colour(v))}{_esc(label)}</div>"
              for v, label in MEASUREMENT_LEGEND]
    if points is not None and "residual_db" in points:
        r = np.asarray(points["residual_db"], dtype=float)
        r = r[np.isfinite(r)]
        if r.size:
            share = float(np.mean(np.abs(r) <= WITHIN_DB))
            parts.append(f"<div>{r.size:,} points, mean {np.mean(r):+.1f} dB, "
                         f"{share:.0%} within ±{WITHIN_DB:g} dB</div>")
    parts.append("</div>")
    return "".join(parts)


def add_measurements(fmap: folium.Map, points: gpd.GeoDataFrame, *,
                     residual_column: str = "residual_db",
                     predicted_column: str = "predicted_rsrp_dbm") -> folium.Map:
    """Add the measurements layer (:func:`blankspot.calibration.measurements_layer`: one circle
    per point coloured by residual, popups with measured, predicted and residual) and its legend
    to ``fmap``; returns ``fmap``. Add it before the layer control, or the layer is not listed.
    """
    measurements_layer(points, residual_column=residual_column,
                       predicted_column=predicted_column).add_to(fmap)
    _root(fmap).html.add_child(_raw(measurements_legend_html(points)),
                               name="blankspot_measurements_legend")
    return fmap


def _root(fmap: folium.Map) -> Figure:
    """The page a map renders into (folium puts every Map in a branca Figure)."""
    return cast("Figure", fmap.get_root())


def _rsrp_grid(transform: Affine | None) -> Affine:
    """``rsrp_transform``, which a raster drawn on the map needs."""
    if transform is None:
        raise ValueError(
            "plan_map() draws rsrp_dbm and best_server on the grid of rsrp_transform and "
            "rsrp_crs; pass them with the rasters."
        )
    return transform


def _base_map(bounds_lonlat: Sequence[float], tiles: str | None) -> folium.Map:
    """The map centred on ``bounds_lonlat`` (:func:`_focus_bounds`; ``plan_map.js`` fits the
    view to them, without animation, before the page is ready), with the basemap and the
    panes, bottom to top: desa fill (overlayPane 400) < rasters < target outlines < candidates."""
    import folium

    xmin, ymin, xmax, ymax = bounds_lonlat
    fmap = folium.Map(
        location=[(ymin + ymax) / 2, (xmin + xmax) / 2],
        zoom_start=9,
        tiles=None,
        control_scale=False,  # a metric-only scale is added with the other controls
    )
    if tiles:
        folium.TileLayer(
            tiles=tiles,
            name=BASEMAP_NAME,
            attr='&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
            max_zoom=19,
        ).add_to(fmap)
    folium.map.CustomPane("bs-raster", z_index=410, pointer_events=False).add_to(fmap)
    folium.map.CustomPane("bs-targets", z_index=420, pointer_events=False).add_to(fmap)
    folium.map.CustomPane("bs-sites", z_index=430, pointer_events=True).add_to(fmap)
    return fmap


def _focus_bounds(
    all_lonlat: Sequence[float], targets: gpd.GeoDataFrame, ranking: pd.DataFrame | None
) -> tuple[float, float, float, float]:
    """(lon_min, lat_min, lon_max, lat_max) the map opens on: the target desa and the chosen
    towers, widened by :data:`FOCUS_PAD` on each side; ``all_lonlat`` (every desa) when there
    is neither."""
    xs: list[float] = []
    ys: list[float] = []
    if len(targets):
        x0, y0, x1, y1 = (float(b) for b in targets.total_bounds)
        xs += [x0, x1]
        ys += [y0, y1]
    if ranking is not None and len(ranking):
        xs += [float(x) for x in ranking["lon"]]
        ys += [float(y) for y in ranking["lat"]]
    xs = [x for x in xs if np.isfinite(x)]
    ys = [y for y in ys if np.isfinite(y)]
    if not xs or not ys:
        x0, y0, x1, y1 = (float(b) for b in all_lonlat)
        return x0, y0, x1, y1
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    # at least about 1 km across, so a lone tower does not open at street level
    dx = max(x1 - x0, 0.01) * FOCUS_PAD
    dy = max(y1 - y0, 0.01) * FOCUS_PAD
    return x0 - dx, y0 - dy, x1 + dx, y1 + dy


def _desa_properties(v: gpd.GeoDataFrame, lang: str = "en") -> gpd.GeoDataFrame:
    """The desa as drawn (lon/lat): rounded figures, escaped names, target flag and status."""
    props = v.reset_index()
    if "village_id" not in props.columns:
        props = props.rename(columns={props.columns[0]: "village_id"})
    share = props["share_covered"].astype(float)
    props["share_pct"] = (share * 100).round(1)
    props["share_covered"] = share.round(4)
    props["population"] = props["population"].round(0)
    props["population_covered"] = props["population_covered"].astype(float).round(0)
    props["target"] = props["target"].astype(bool) if "target" in props else False
    props["status"] = np.where(props["target"], phrase("map_status_target", lang), "")
    keep = ["village_id", "name", "kecamatan", "population", "population_covered", "share_pct",
            "share_covered", "target", "status", "geometry"]
    props = props[[c for c in keep if c in props.columns]]
    for col in ("village_id", "name", "kecamatan"):
        props[col] = props[col].astype(str).map(_esc)
    props.index = props["village_id"]
    return props


def _desa_style(feature: Mapping[str, Any]) -> dict[str, object]:
    p = feature["properties"]
    return {
        "fillColor": share_colour(p.get("share_covered")),
        "color": "#555555",
        "weight": 0.6,
        "fillOpacity": 0.55,
    }


def _desa_layer(props: gpd.GeoDataFrame, lang: str = "en") -> folium.GeoJson:
    """Desa filled by share of people covered, with a tooltip of their figures."""
    import folium

    return folium.GeoJson(
        props.to_json(drop_id=False),
        name=_esc(phrase("map_layer_desa", lang)),
        style_function=_desa_style,
        highlight_function=lambda f: {"weight": 3, "color": "#000"},
        tooltip=folium.GeoJsonTooltip(
            fields=["village_id", "name", "kecamatan", "population", "population_covered",
                    "share_pct", "status"],
            aliases=["kode", "nama", "kecamatan", phrase("map_population", lang),
                     phrase("map_people_covered", lang), phrase("map_share_covered", lang), ""],
            localize=True,
            sticky=True,
        ),
    )


def _coverage_layer(
    rsrp_dbm: np.ndarray, transform: Affine, crs: object, max_pixels: int, opacity: float,
    lang: str = "en",
) -> folium.raster_layers.ImageOverlay:
    """The RSRP raster in planner classes, as an image in Web Mercator."""
    import folium

    merc, bounds = reproject_to_web_mercator(rsrp_dbm, transform, crs, max_pixels=max_pixels)
    png = palette_png(rsrp_classes(merc), [c for *_x, c in RSRP_CLASSES_DBM])
    return folium.raster_layers.ImageOverlay(
        image=_png_data_url(png),
        bounds=bounds,
        name=_esc(phrase("map_layer_coverage", lang)),
        opacity=opacity,
        mercator_project=False,
        interactive=False,
        pane="bs-raster",
        className="bs-overlay-rsrp",
    )


def _best_server_layer(
    best_server: npt.ArrayLike,
    best_server_ids: Sequence[str],
    rank_of: Mapping[str, int],
    transform: Affine,
    crs: object,
    max_pixels: int,
    opacity: float,
    lang: str = "en",
) -> tuple[folium.raster_layers.ImageOverlay | None, list[tuple[str, str]]]:
    """Each cell in the colour of its serving tower's rank (off by default), and the legend
    items of the ranks drawn; None when no serving tower is ranked."""
    import folium

    server = np.asarray(best_server)
    ranks = np.array([rank_of.get(str(s), 0) for s in best_server_ids], dtype=np.int32)
    # cell value: rank of its serving tower (1 = first pick); 0 / NaN where none
    by_rank = np.where(server >= 0, ranks[np.clip(server, 0, None)], 0).astype(np.float32)
    by_rank[by_rank <= 0] = np.nan
    merc_rank, bounds = reproject_to_web_mercator(
        by_rank, transform, crs, max_pixels=max_pixels, categorical=True
    )
    drawn = sorted({int(k) for k in ranks if k > 0})
    if not drawn:
        return None, []
    rank = np.nan_to_num(merc_rank, nan=0.0).astype(np.int64)
    # palette index k + 1 draws RANK_COLOURS[k]; the colours repeat, as rank_colour does
    index = np.where(rank > 0, (rank - 1) % len(RANK_COLOURS) + 1, 0).astype(np.uint8)
    png = palette_png(index, RANK_COLOURS)
    layer = folium.raster_layers.ImageOverlay(
        image=_png_data_url(png),
        bounds=bounds,
        name=_esc(phrase("map_layer_best_server", lang)),
        opacity=opacity,
        mercator_project=False,
        interactive=False,
        pane="bs-raster",
        className="bs-overlay-best-server",
        show=False,
    )
    ids = {k: s for s, k in rank_of.items()}
    return layer, [(f"#{k} {ids.get(k, '')}", rank_colour(k)) for k in drawn]


def _target_layer(targets: gpd.GeoDataFrame, lang: str = "en") -> folium.GeoJson | None:
    """Outlines of the blank-spot target desa, above the rasters (None: no target)."""
    import folium

    if not len(targets):
        return None
    outline = targets[["name", "geometry"]].reset_index(drop=True)
    return folium.GeoJson(
        outline.to_json(drop_id=True),
        name=_esc(phrase("map_layer_targets", lang, n=len(targets))),
        style_function=lambda f: {"color": TARGET_COLOUR, "weight": 3, "fill": False,
                                  "opacity": 0.95},
        interactive=False,
        pane="bs-targets",
    )


def _candidate_layer(
    candidates: gpd.GeoDataFrame | None, coord_decimals: int, lang: str = "en"
) -> folium.GeoJson | None:
    """Every candidate site as a small circle (off by default; None: no candidates)."""
    import folium

    if candidates is None or not len(candidates):
        return None
    c = candidates.to_crs(WGS84)
    pts = c.reset_index()
    id_col = pts.columns[0] if "site_id" not in pts.columns else "site_id"
    heights = pts["height_agl_m"].astype(float) if "height_agl_m" in pts else np.nan
    cand = pts[["geometry"]].copy()
    cand["site_id"] = pts[id_col].astype(str).map(_esc)
    cand["source"] = (pts["source"].map(lambda c: _esc(_code(c, lang))) if "source" in pts
                      else "")
    cand["height_agl_m"] = heights
    cand["geometry"] = _round_coordinates(cand.geometry.to_numpy(), coord_decimals)
    return folium.GeoJson(
        cand.to_json(drop_id=True),
        name=_esc(phrase("map_layer_candidates", lang, n=len(cand))),
        show=False,
        marker=folium.CircleMarker(radius=3, weight=1, fill=True),
        style_function=lambda f: {"color": "#333", "fillColor": "#777", "fillOpacity": 0.85,
                                  "weight": 1},
        tooltip=folium.GeoJsonTooltip(fields=["site_id", "source", "height_agl_m"],
                                      aliases=[phrase("map_candidate", lang),
                                               phrase("map_source", lang),
                                               phrase("map_height", lang)]),
        pane="bs-sites",
    )


def _tower_layer(
    ranking: pd.DataFrame | None, coord_decimals: int, lang: str = "en"
) -> tuple[folium.FeatureGroup | None, list[dict[str, object]]]:
    """The chosen towers as numbered markers with tooltip and cost popup, and their
    rank, id and position for ``window.blankspot.towers`` (None, []: no ranking)."""
    import folium

    towers: list[dict[str, object]] = []
    if ranking is None or not len(ranking):
        return None, towers
    layer = folium.FeatureGroup(name=_esc(phrase("map_layer_towers", lang, n=len(ranking))))
    for _, r in ranking.iterrows():
        rank = int(r["rank"])
        lat, lon = round(float(r["lat"]), coord_decimals), round(float(r["lon"]), coord_decimals)
        towers.append({"rank": rank, "site_id": str(r["site_id"]), "lat": lat, "lon": lon})
        marker = folium.Marker(
            location=[lat, lon],
            icon=folium.DivIcon(
                html=f'<div class="bs-tower">{rank}</div>',
                icon_size=(24, 24),
                icon_anchor=(12, 12),
                class_name="bs-tower-icon",
            ),
            z_index_offset=1000 - rank,
        )
        marker.add_to(layer)
        _tooltip(_esc(f"{phrase('map_tower', lang, rank=rank)} {r['site_id']}"), direction="top",
                 offset=[0, -12]).add_to(marker)
        _popup(_tower_popup(r, format_idr, lang), max_width_px=340).add_to(marker)
    return layer, towers


def _title_html(title: str, terrain_note: str, demand_note: str = "") -> str:
    """The title box: ``title``, the terrain note (red when the terrain is synthetic) and the
    demand note."""
    title_html = f"<b>{_esc(title)}</b>"
    if terrain_note:
        cls = "bs-synthetic" if "SYNTHETIC" in terrain_note.upper() else ""
        title_html += f'<br><span class="{cls}">{_esc(terrain_note)}</span>'
    if demand_note:
        title_html += f'<br><span class="bs-demand">{_esc(demand_note)}</span>'
    return f'<div id="blankspot-title" class="bs-box">{title_html}</div>'


def _plan_legend_html(
    *,
    n_targets: int,
    with_rsrp: bool,
    best_server_items: Sequence[tuple[str, str]],
    terrain_note: str,
    opacity: float,
    lang: str = "en",
    demand_note: str = "",
) -> str:
    """:func:`_legend_html` with the plan map's share classes, RSRP classes when the coverage
    is drawn, and a note when the terrain is synthetic, in ``lang``."""
    desa_items = [
        (f"{20 * i}–{20 * (i + 1)} %" if i < len(SHARE_COLOURS) - 1 else f"≥ {20 * i} %", col)
        for i, col in enumerate(SHARE_COLOURS)
    ]
    return _legend_html(
        desa_items=desa_items,
        n_targets=n_targets,
        rsrp_items=[(rsrp_class_label(lo, hi, label, lang), colour)
                    for lo, hi, label, colour in RSRP_CLASSES_DBM]
        if with_rsrp else [],
        best_server_items=best_server_items,
        note=phrase("map_synthetic_note", lang) if "SYNTHETIC" in terrain_note.upper() else "",
        demand_note=demand_note,
        opacity=opacity,
        lang=lang,
    )


def rsrp_class_label(lo: float, hi: float, label: str, lang: str = "en") -> str:
    """The legend label of an RSRP class of :data:`RSRP_CLASSES_DBM`: ``label`` in English,
    the span and the class's phrase in Bahasa Indonesia.

    Examples
    --------
    >>> rsrp_class_label(-105.0, -100.0, "−105 … −100 dBm covered (terlayani)", "id")
    '−105 … −100 dBm terlayani'
    """
    key = RSRP_CLASS_PHRASES.get(lo)
    if lang == "en" or key is None:
        return label
    span = f"≥ {lo:g}" if not np.isfinite(hi) else f"{lo:g} … {hi:g}"
    return f"{span.replace('-', '−')} dBm {phrase(key, lang)}"


SCENARIO_COLOURS = ("#b2182b", "#2166ac", "#1b7837", "#762a83", "#e08214", "#35978f", "#c51b7d",
                    "#4d4d4d")
"""Tower colour of each scenario in :func:`scenarios_map`, in order (repeating)."""


def scenarios_map(
    villages: gpd.GeoDataFrame,
    rankings: Mapping[str, pd.DataFrame],
    *,
    title: str = "blankspot scenarios",
    terrain_note: str = "",
    **plan_map_options: Any,
) -> folium.Map:
    """One map comparing scenarios: each scenario's ranked towers are a layer of their own.

    The base is :func:`plan_map` of ``villages`` without towers (its coverage colours the desa:
    say in ``title`` which scenario it is); each entry of ``rankings`` ({scenario name: ranking
    table, with the columns :func:`plan_map` takes}) becomes a layer, switched on and off in the
    layer control, its towers numbered by rank in the scenario's colour
    (:data:`SCENARIO_COLOURS`). Names are escaped.
    """
    import folium
    fmap = plan_map(villages, title=title, terrain_note=terrain_note, **plan_map_options)
    order = list(fmap._children)
    control = next((k for k, c in fmap._children.items() if isinstance(c, folium.LayerControl)), None)
    tail = order[order.index(control):] if control is not None else []
    for i, (name, ranking) in enumerate(rankings.items()):
        colour = SCENARIO_COLOURS[i % len(SCENARIO_COLOURS)]
        label = _esc(name)
        layer = folium.FeatureGroup(
            name=f'<span style="color:{colour}">&#9679;</span> {label} ({len(ranking)} towers)'
        )
        for _, r in ranking.iterrows():
            rank = int(r["rank"])
            marker = folium.Marker(
                location=[float(r["lat"]), float(r["lon"])],
                icon=folium.DivIcon(
                    html=(f'<div style="background:{colour};color:#fff;border-radius:50%;'
                          "width:22px;height:22px;line-height:22px;text-align:center;"
                          f'font:bold 12px sans-serif;border:2px solid #fff">{rank}</div>'),
                    icon_size=(22, 22),
                    icon_anchor=(11, 11),
                ),
            )
            marker.add_to(layer)
            _tooltip(f"{label}: tower #{rank} {_esc(r['site_id'])}").add_to(marker)
            popup = (
                f"<b>{label}</b><br>#{rank} {_esc(r['site_id'])}, "
                f"{float(r['height_agl_m']):g} m AGL<br>cost {format_idr(r['cost_idr'])}<br>"
                f"people newly covered {round(float(r['people_new'])):,}<br>"
                f"cumulative {round(float(r['cumulative_people'])):,} people"
            )
            _popup(popup, max_width_px=320).add_to(marker)
        layer.add_to(fmap)
    for key in tail:  # the layer control (and what follows it) last, so it sees every layer
        fmap._children.move_to_end(key)
    return fmap
