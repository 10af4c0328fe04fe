"""Interactive folium maps. The only module that writes latitude-before-longitude order.

Vectors are drawn in EPSG:4326; raster overlays are reprojected to Web Mercator (EPSG:3857),
the projection Leaflet draws in, and placed with lat/lon bounds. Every user-supplied string shown
on the map is HTML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
from affine import Affine

from blankspot.crs import WGS84, as_crs

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


def _latlon_bounds(bounds_xy, crs) -> list[list[float]]:
    """[[lat_min, lon_min], [lat_max, lon_max]] from (xmin, ymin, xmax, ymax) in ``crs``.

    The single place where x/y order turns into folium's lat/lon order.
    """
    from pyproj import Transformer

    t = Transformer.from_crs(as_crs(crs), WGS84, always_xy=True)
    xmin, ymin, xmax, ymax = t.transform_bounds(*bounds_xy, densify_pts=21)
    return [[ymin, xmin], [ymax, xmax]]


def _latlon(x, y, crs) -> tuple[float, float]:
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(as_crs(crs), WGS84, always_xy=True).transform(x, y)
    return float(lat), float(lon)


def _popup(html_text: str, *, max_width_px: int = 300):
    """A Leaflet popup holding ``html_text`` (already escaped), bound to its parent marker.

    folium's own Popup builds its content with jQuery; this one needs only Leaflet.
    """
    import json

    from branca.element import MacroElement
    from jinja2 import Template

    class _Popup(MacroElement):
        _template = Template(
            "{% macro script(this, kwargs) %}"
            "{{ this._parent.get_name() }}.bindPopup("
            "L.popup({maxWidth: {{ this.max_width_px }}}).setContent({{ this.content }}));"
            "{% endmacro %}"
        )

        def __init__(self):
            super().__init__()
            self._name = "BlankspotPopup"
            self.max_width_px = int(max_width_px)
            # JSON string literal; "</" escaped so the text can never close the <script>
            self.content = json.dumps(html_text).replace("</", "<\\/")

    return _Popup()


def _embed_leaflet(fmap) -> None:
    """Replace folium's CDN scripts and stylesheets by the vendored Leaflet, inlined.

    The map then opens without internet (only basemap tiles need a connection). folium's other
    defaults (jQuery, Bootstrap, awesome-markers) are not used by these maps and are dropped.
    """
    from importlib.resources import files

    import folium

    assets = files("blankspot._vendor") / "leaflet"
    js = (assets / "leaflet.js").read_text(encoding="utf-8")
    css = (assets / "leaflet.css").read_text(encoding="utf-8")
    fmap.default_js = []
    fmap.default_css = []
    header = fmap.get_root().header
    header.add_child(folium.Element(f"<style>{css}</style>"), name="leaflet_css", index=0)
    header.add_child(folium.Element(f"<script>{js}</script>"), name="leaflet_js", index=1)


def share_colour(share: float) -> str:
    """Fill colour for a share of people covered (0..1); grey for NaN."""
    if share is None or not np.isfinite(share):
        return "#bdbdbd"
    idx = min(int(share * len(SHARE_COLOURS)), len(SHARE_COLOURS) - 1)
    return SHARE_COLOURS[idx]


def rsrp_to_rgba(rsrp_dbm: np.ndarray, *, alpha: int = 170) -> np.ndarray:
    """RGBA uint8 image of RSRP classes; transparent below −110 dBm and where NaN."""
    out = np.zeros((*rsrp_dbm.shape, 4), dtype=np.uint8)
    for lo, hi, _label, colour in RSRP_CLASSES_DBM:
        sel = (rsrp_dbm >= lo) & (rsrp_dbm < hi)
        rgb = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
        out[sel, :3] = rgb
        out[sel, 3] = alpha
    return out


def reproject_to_web_mercator(array, transform: Affine, crs, *, max_pixels: int = 1_500_000):
    """Reproject a float raster to EPSG:3857, downsampled to at most ``max_pixels`` (maximum).

    Returns (array, bounds_latlon) for :func:`folium.raster_layers.ImageOverlay`.
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
        # display only: a screen pixel shows the best signal of the cells it spans, so thin
        # covered valleys stay visible when the overlay is downsampled
        resampling=Resampling.max if scale > 1.0 else Resampling.nearest,
    )
    b = (dst_transform.c, dst_transform.f + height * dst_transform.e,
         dst_transform.c + width * dst_transform.a, dst_transform.f)
    return dst, _latlon_bounds(b, WEB_MERCATOR)


def _legend_html(title: str, items: Sequence[tuple[str, str]], *, note: str = "") -> str:
    rows = "".join(
        f'<div><span style="display:inline-block;width:14px;height:10px;background:{c};'
        f'border:1px solid #555;margin-right:6px"></span>{html.escape(label)}</div>'
        for label, c in items
    )
    note_html = f'<div style="margin-top:4px;color:#b2182b"><b>{html.escape(note)}</b></div>' if note else ""
    return (
        '<div id="blankspot-legend" style="position:fixed;bottom:24px;left:12px;z-index:9999;'
        "background:rgba(255,255,255,.92);padding:8px 10px;border-radius:4px;font:12px sans-serif;"
        f'box-shadow:0 1px 4px rgba(0,0,0,.3)"><b>{html.escape(title)}</b>{rows}{note_html}</div>'
    )


def plan_map(
    villages,
    *,
    ranking=None,
    candidates=None,
    rsrp_dbm=None,
    rsrp_transform=None,
    rsrp_crs=None,
    title: str = "blankspot plan",
    terrain_note: str = "",
    simplify_m: float = 60.0,
):
    """A folium map of a tower plan.

    Parameters
    ----------
    villages:
        GeoDataFrame indexed by ``village_id`` with ``name``, ``kecamatan``, ``population``,
        ``population_covered``, ``share_covered`` and optionally ``target`` (bool), in a metric CRS.
    ranking:
        DataFrame with ``rank``, ``site_id``, ``lon``, ``lat``, ``height_agl_m``, ``cost_idr``,
        ``people_new``, ``cumulative_people``, ``desa_new``.
    candidates:
        GeoDataFrame of all candidate sites (drawn as a layer that is off by default).
    rsrp_dbm, rsrp_transform, rsrp_crs:
        best-server RSRP raster of the chosen towers, drawn in planner classes.
    terrain_note:
        what terrain the result was computed on; say "SYNTHETIC" when it was.
    """
    import folium

    from blankspot.report import format_idr

    v = villages.copy()
    v["geometry"] = v.geometry.simplify(simplify_m, preserve_topology=True)
    v = v.to_crs(WGS84)
    xmin, ymin, xmax, ymax = v.total_bounds
    fmap = folium.Map(
        location=[(ymin + ymax) / 2, (xmin + xmax) / 2],
        zoom_start=9,
        tiles="OpenStreetMap",
        control_scale=True,
    )
    fmap.fit_bounds([[ymin, xmin], [ymax, xmax]])

    if rsrp_dbm is not None:
        merc, bounds = reproject_to_web_mercator(rsrp_dbm, rsrp_transform, rsrp_crs)
        folium.raster_layers.ImageOverlay(
            image=rsrp_to_rgba(merc),
            bounds=bounds,
            name="Coverage of chosen towers (RSRP)",
            opacity=0.75,
            mercator_project=False,
            interactive=False,
            zindex=2,
        ).add_to(fmap)

    def _desa_style(feature):
        p = feature["properties"]
        return {
            "fillColor": share_colour(p.get("share_covered")),
            "color": "#b2182b" if p.get("target") else "#555555",
            "weight": 2.5 if p.get("target") else 0.6,
            "fillOpacity": 0.35,
        }

    props = v.reset_index()
    props["share_pct"] = (props["share_covered"] * 100).round(1)
    keep = ["village_id", "name", "kecamatan", "population", "population_covered", "share_pct",
            "share_covered", "target", "geometry"]
    props = props[[c for c in keep if c in props.columns]]
    for col in ("village_id", "name", "kecamatan"):
        props[col] = props[col].astype(str).map(html.escape)
    props["population_covered"] = props["population_covered"].round(0)
    folium.GeoJson(
        props.to_json(),
        name="Desa / kelurahan: share of people covered",
        style_function=_desa_style,
        highlight_function=lambda f: {"weight": 3, "color": "#000"},
        tooltip=folium.GeoJsonTooltip(
            fields=["village_id", "name", "kecamatan", "population", "population_covered", "share_pct"],
            aliases=["kode", "nama", "kecamatan", "population", "covered", "share covered %"],
            localize=True,
        ),
    ).add_to(fmap)

    if candidates is not None and len(candidates):
        layer = folium.FeatureGroup(name=f"All candidate sites ({len(candidates)})", show=False)
        c = candidates.to_crs(WGS84)
        for sid, row in c.iterrows():
            folium.CircleMarker(
                location=[row.geometry.y, row.geometry.x],
                radius=3,
                color="#555",
                fill=True,
                fill_opacity=0.8,
                tooltip=html.escape(f"{sid} ({row.get('source', '')}, {row['height_agl_m']:g} m)"),
            ).add_to(layer)
        layer.add_to(fmap)

    if ranking is not None and len(ranking):
        layer = folium.FeatureGroup(name=f"Chosen towers, ranked ({len(ranking)})")
        for _, r in ranking.iterrows():
            popup = (
                f"<b>#{int(r['rank'])} {html.escape(str(r['site_id']))}</b><br>"
                f"height {r['height_agl_m']:g} m AGL<br>"
                f"cost {format_idr(r['cost_idr'])}<br>"
                f"people newly covered {round(r['people_new']):,}<br>"
                f"cumulative {round(r['cumulative_people']):,} people, "
                f"{format_idr(r['cumulative_cost_idr'])}<br>"
                f"desa newly served: {html.escape(str(r.get('desa_new', '')))}"
            )
            folium.Marker(
                location=[r["lat"], r["lon"]],
                tooltip=f"Tower #{int(r['rank'])}",
                icon=folium.DivIcon(
                    html=(
                        '<div style="background:#b2182b;color:#fff;border-radius:50%;width:24px;'
                        "height:24px;line-height:24px;text-align:center;font:bold 13px sans-serif;"
                        f'border:2px solid #fff;box-shadow:0 0 3px #000">{int(r["rank"])}</div>'
                    ),
                    icon_size=(24, 24),
                    icon_anchor=(12, 12),
                ),
            ).add_to(layer)
            marker = layer._children[next(reversed(layer._children))]
            _popup(popup, max_width_px=320).add_to(marker)
        layer.add_to(fmap)

    folium.LayerControl(collapsed=False).add_to(fmap)
    _embed_leaflet(fmap)

    header = (
        '<div id="blankspot-title" style="position:fixed;top:10px;left:60px;max-width:55%;z-index:9999;'
        "background:rgba(255,255,255,.92);padding:6px 10px;border-radius:4px;font:14px sans-serif;"
        f'box-shadow:0 1px 4px rgba(0,0,0,.3)"><b>{html.escape(title)}</b>'
        + (f'<br><span style="color:#b2182b">{html.escape(terrain_note)}</span>' if terrain_note else "")
        + "</div>"
    )
    fmap.get_root().html.add_child(folium.Element(header))
    items = [(label, colour) for _lo, _hi, label, colour in RSRP_CLASSES_DBM]
    items += [
        ("desa: 0 % of people covered", SHARE_COLOURS[0]),
        ("desa: ≥ 80 % covered", SHARE_COLOURS[-1]),
    ]
    fmap.get_root().html.add_child(
        folium.Element(_legend_html("RSRP of chosen towers", items, note="red outline: target blank-spot desa"))
    )
    return fmap
