"""The ``blankspot`` command line: parse, call one library function, print.

Errors from bad input are printed without a traceback (``--debug`` shows it) and exit with
status 2; a missing dataset or another file-system error exits with status 3. SIGTERM is handled like Ctrl-C: the run stops,
temporary files are removed and the previous output set is left as it was.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import click
import numpy as np

from blankspot.errors import BlankspotError, DataError

log = logging.getLogger("blankspot")


def _terminate(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def handle_sigterm() -> None:
    """Treat SIGTERM (``kill``, a scheduler's time limit) like Ctrl-C: raise KeyboardInterrupt,
    so writers remove their temporary files and the previous output set stays as it was."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)


class _Group(click.Group):
    def invoke(self, ctx):
        handle_sigterm()
        try:
            return super().invoke(ctx)
        except BlankspotError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(3 if isinstance(exc, DataError) else 2)
        except OSError as exc:
            # a file-system error no check foresaw (a disk gone, a permission changed mid-run)
            if ctx.obj and ctx.obj.get("debug"):
                raise
            where = f" ({exc.filename})" if exc.filename else ""
            click.secho(f"error: {exc.strerror or exc}{where}. Check that the files and folders "
                        "named exist, are readable and writable and that the disk has room, then "
                        "run again (--debug shows where it happened).", fg="red", err=True)
            sys.exit(3)


@click.group(cls=_Group)
@click.version_option(package_name="blankspot")
@click.option("--debug", is_flag=True, help="Show full tracebacks.")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors.")
@click.pass_context
def main(ctx, debug, quiet):
    """Find mobile-signal blank spots and rank towers against a Rupiah budget."""
    ctx.ensure_object(dict)
    ctx.obj.update(debug=debug, quiet=quiet)
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, format="%(message)s")
    logging.getLogger("pyogrio").setLevel(logging.WARNING)  # not "Created N records" per layer


@main.group()
def data():
    """Get and check the datasets: the embedded Paser demo data and real public data."""


@data.command("fetch")
@click.argument("sources", nargs=-1, metavar="[SOURCE]...")
@click.option("--from", "src", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Copy the Paser dataset from a folder laid out like shared/data/paser "
                   "(no SOURCE).")
@click.option("--area", default=None, metavar="CODE",
              help="Kode wilayah of the embedded boundaries: 64.01, a kecamatan or desa code.")
@click.option("--bounds", nargs=4, type=float, default=None,
              metavar="LON_MIN LAT_MIN LON_MAX LAT_MAX", help="Any other area, in degrees.")
@click.option("--name", default=None, help="Folder name for --bounds (default bbox_...).")
@click.option("--from-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Take the providers' files from this folder instead of downloading.")
@click.option("--from-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="towers: an OpenCelliD CSV you already have (plain or .gz).")
@click.option("--refresh", is_flag=True, help="Download again, accepting changed provider files.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0, min_open=True), default=60.0,
              show_default=True, help="Seconds to wait for a server.")
@click.option("--retries", type=click.IntRange(min=0), default=4, show_default=True)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Destination (default: $BLANKSPOT_DATA_DIR or ./data).")
@click.pass_context
def data_fetch(ctx, sources, src, area, bounds, name, from_dir, from_file, refresh, timeout_s,
               retries, data_dir):
    """Get data into the data directory, checking every file.

    \b
    With --from DIR: copy the Paser dataset (adds the 1 arc-second demo DEM).
    With SOURCE... (dem landcover population osm towers, or all) and --area or --bounds:
    download, verify, mosaic and clip real public data into DATA_DIR/AREA/:
      dem         Copernicus DEM GLO-30 (30 km margin)
      landcover   ESA WorldCover 10 m 2021 (30 km margin)
      population  WorldPop 2020 constrained, 100 m
      osm         OpenStreetMap roads, power lines, settlements (Overpass API)
      towers      OpenCelliD cells of MCC 510 (token in $OPENCELLID_API_KEY, or --from-file)
    \b
    Example: blankspot data fetch dem landcover population osm --area 64.01
    """
    quiet = ctx.obj["quiet"]
    if not sources:
        if src is None:
            raise click.UsageError("give SOURCE... with --area/--bounds, or --from DIR for the "
                                   "Paser dataset.")
        from blankspot.io import fetch_paser

        paths = fetch_paser(src, data_dir)
        if not quiet:
            click.echo(f"{len(paths)} files verified in {data_dir or 'the data directory'}")
        return
    if src is not None:
        raise click.UsageError("--from DIR copies the Paser dataset; for SOURCE... use "
                               "--from-dir DIR to hand over provider files.")
    from blankspot.io.fetch import FetchSettings, fetch_area

    settings = FetchSettings(timeout_s=timeout_s, retries=retries, progress=not quiet)
    results = fetch_area(sources, area, bounds=bounds, name=name, data_dir=data_dir,
                         from_dir=from_dir, from_file=from_file, refresh=refresh,
                         settings=settings)
    if not quiet:
        for source, path in results.items():
            click.echo(f"{source:10s} {path}")
        click.echo(f"registry: {next(iter(results.values())).parent / 'sources.json'}")


@data.command("status")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
def data_status(data_dir):
    """Show which registered files are present and verified, and the fetched areas.

    Exits with status 3 when a file is damaged (mismatch) or missing without an embedded copy;
    the 1 arc-second demo DEM is optional.
    """
    from blankspot.io.datasets import DEMO_DEM_FILE, verify_paser
    from blankspot.io.fetch import fetched_areas

    status = verify_paser(data_dir)
    for name, state in status.items():
        note = " (optional; the embedded 3 arc-second demo DEM is used)" \
            if name == DEMO_DEM_FILE and state == "missing" else ""
        click.echo(f"{state:10s} {name}{note}")
    for area, entries in fetched_areas(data_dir).items():
        click.echo(f"area {area}: {', '.join(sorted({e['source'] for e in entries}))}")
    bad = [n for n, s in status.items() if s == "mismatch" or (s == "missing" and n != DEMO_DEM_FILE)]
    if bad:
        click.echo("Get missing or damaged files with: blankspot data fetch --from PATH/TO/paser")
        sys.exit(3)


@main.command()
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for map.html, ranking.csv, desa.csv, kecamatan.csv, coverage.tif.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Data directory (default: $BLANKSPOT_DATA_DIR or ./data).")
@click.option("--budget-idr", type=click.IntRange(min=0), default=None, help="Budget in Rupiah (default 8.5 B).")
@click.option("--tower-cost-idr", type=click.IntRange(min=0), default=None, help="One flat price per tower instead of the cost model (which prices a 72 m tower at Rp 1.7 B).")
@click.option("--height-agl-m", type=click.FloatRange(min=0), default=None, help="Tower height (default 72 m).")
@click.option("--radius-km", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Maximum coverage radius per site (default 30 km).")
@click.option("--threshold-dbm", type=float, default=None, help="RSRP threshold (default −105 dBm).")
@click.option("--bounds", nargs=4, type=float, default=None, metavar="LON_MIN LAT_MIN LON_MAX LAT_MAX",
              help="Read only this lon/lat window of terrain (for a quick run).")
@click.option("--targets", default=None,
              help="Target desa: 'blankspot' (default), 'blankspot_2021', 'blankspot_2022', 'all', "
                   "or comma-separated kode.")
@click.option("--sites", "sites_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Your own candidate sites: CSV with site_id, lon, lat[, height_agl_m, cost_idr] "
                   "or any point vector file. Added to the generated candidates.")
@click.option("--no-generated", is_flag=True, help="Use only the sites given with --sites.")
@click.option("--existing", "existing_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Existing towers (same formats as --sites, e.g. an OpenCelliD export with "
                   "lon/lat): people they already serve are removed from the demand.")
@click.option("--model", type=click.Choice(["los", "itm", "p1812"]), default="itm", show_default=True,
              help="Propagation model for coverage: ITM (Longley-Rice), ITU-R P.1812, or line of "
                   "sight with free-space loss (fast screening; paints coverage under canopy).")
@click.option("--clutter", "clutter_class", default="auto", show_default=True,
              help="Uniform clutter class at the handset (ITM, P.2108) or along the path (P.1812): "
                   "'tree' (tropical forest, 20 m), 'oil_palm', ... or 'none'. 'auto' is tree "
                   "for itm/p1812 and none for los.")
@click.option("--res-m", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Terrain cell size (default 90 m; 30 m is the DEM's own: the demo takes "
                   "about 2.5x as long).")
@click.option("--objective", type=click.Choice(["desa", "people"]), default=None,
              help="What the plan maximises: 'desa' (default: target desa served, i.e. with "
                   "--served-share of their people served, then people) or 'people'.")
@click.option("--served-share", type=click.FloatRange(min=0, max=1, min_open=True), default=None,
              help="β: a desa is served when this share of its people is served (default 0.8).")
@click.option("--coverage", "coverage_mode", type=click.Choice(["threshold", "probability"]),
              default=None,
              help="'threshold' (default): served at RSRP − location margin ≥ the threshold; "
                   "'probability': served with the probability that RSRP reaches the threshold "
                   "under location variability --sigma-l-db (no margin), expected people.")
@click.option("--sigma-l-db", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Location variability σ_L for --coverage probability (default 5.5 dB, "
                   "ITU-R P.1546-6 §12).")
@click.option("--scheduler", default=None,
              help="Compute candidate coverage on dask: 'local' (a LocalCluster), 'threads', or a "
                   "scheduler address tcp://HOST:PORT (needs blankspot[dask]).")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep per-site footprints here (keyed by everything they depend on), so a rerun "
                   "with another budget, cost or threshold computes no propagation, and an "
                   "interrupted run resumes.")
@click.option("--lang", type=click.Choice(["en", "id"]), default="en", show_default=True,
              help="Language of the table headers, workbook, interactive and printed maps and "
                   "metadata (id: Bahasa Indonesia).")
@click.pass_context
def demo(ctx, out_dir, data_dir, budget_idr, tower_cost_idr, height_agl_m, radius_km, threshold_dbm,
         bounds, targets, sites_path, no_generated, existing_path, model, clutter_class, res_m,
         objective, served_share, coverage_mode, sigma_l_db, scheduler, cache_dir, lang):
    """Run the Paser demo scenario and write the plan, tables, raster and map.

    The same as `blankspot run` of the default scenario (scenarios/paser-demo.toml) with each
    option given here as a --set of its scenario key; it also writes scenario.toml and
    provenance.json.
    """
    from blankspot.scenario import ScenarioSpec, run

    given = {
        "data_dir": None if data_dir is None else str(data_dir),
        "budget_idr": budget_idr,
        "tower_cost_idr": tower_cost_idr,
        "height_agl_m": height_agl_m,
        "radius_m": None if radius_km is None else radius_km * 1000.0,
        "threshold_dbm": threshold_dbm,
        "bounds": None if not bounds else tuple(bounds),
        "targets": _targets_value(targets),
        "sites": None if sites_path is None else str(sites_path),
        "existing": None if existing_path is None else str(existing_path),
        "model": model,
        "clutter": _clutter_value(clutter_class, model),
        "terrain_res_m": res_m,
        "generate_candidates": False if no_generated else None,
        "objective": objective,
        "served_share": served_share,
        "coverage": coverage_mode,
        "sigma_l_db": sigma_l_db,
    }
    if no_generated and sites_path is None:
        raise click.UsageError("--no-generated needs --sites FILE.")
    from blankspot.io.outputs import check_output_dir

    changes = {key: value for key, value in given.items() if value is not None}
    spec = ScenarioSpec(name="paser-demo").replace(**changes)
    check_output_dir(out_dir)  # before computing, not after
    t0 = time.perf_counter()
    result = run(spec, progress=not ctx.obj["quiet"], cache_dir=cache_dir, scheduler=scheduler)
    paths = result.write(out_dir, lang=lang)
    if not ctx.obj["quiet"]:
        _echo_plan(result.plan, time.perf_counter() - t0)
        for path in paths.values():
            click.echo(f"  wrote {path}")


DEMO_OPTION_KEYS = (
    "data_dir", "budget_idr", "tower_cost_idr", "height_agl_m", "radius_m", "threshold_dbm",
    "bounds", "targets", "sites", "existing", "model", "clutter", "terrain_res_m",
    "generate_candidates", "objective", "served_share", "coverage", "sigma_l_db",
)
"""The scenario keys `blankspot demo`'s options set (a test checks each is a scenario key)."""


def _targets_value(targets: str | None) -> str | list[str] | None:
    """--targets as the scenario key takes it: a keyword, or a list of kode."""
    from blankspot.config import TARGET_KEYWORDS

    if targets is None or targets in TARGET_KEYWORDS:
        return targets
    return [t.strip() for t in targets.split(",") if t.strip()]


def _clutter_value(clutter_class: str, model: str) -> str | int | None:
    """--clutter as the scenario key takes it (None: leave the scenario's)."""
    if clutter_class == "auto":
        return None
    if clutter_class.lower() == "none":
        return "none"
    if model == "los":
        raise click.UsageError("--clutter needs --model itm or p1812 (LOS has no clutter term).")
    return int(clutter_class) if clutter_class.isdigit() else clutter_class


@main.command()
@click.option("--dem", "dem_paths", required=True, multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="DEM file (GeoTIFF, SRTM .hgt, VRT); repeat for several tiles.")
@click.option("--lon", type=float, required=True, help="Site longitude, degrees east.")
@click.option("--lat", type=float, required=True, help="Site latitude, degrees north (south < 0).")
@click.option("--height-agl-m", type=float, required=True, help="Antenna height above ground, m.")
@click.option("--freq-mhz", type=float, default=900.0, show_default=True)
@click.option("--radius-km", type=float, default=30.0, show_default=True)
@click.option("--model", type=click.Choice(["los", "fspl", "itm", "p1812"]), default="itm", show_default=True)
@click.option("--rx-height-agl-m", type=float, default=1.5, show_default=True)
@click.option("--k-factor", type=float, default=None,
              help="Effective earth radius factor for LOS and P.1812 (default 1.51, Paser).")
@click.option("--res-m", type=float, default=None, help="Analysis cell size (default from the DEM).")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Output GeoTIFF: path loss in dB (the visibility mask for los) on the DEM's grid.")
@click.pass_context
def coverage(ctx, dem_paths, lon, lat, height_agl_m, freq_mhz, radius_km, model, rx_height_agl_m,
             k_factor, res_m, out_path):
    """Coverage of one site as a GeoTIFF on the DEM's grid."""
    from blankspot.site_raster import site_raster, write_site_raster
    from blankspot.units import DEFAULT_K_FACTOR

    t0 = time.perf_counter()
    raster = site_raster(
        list(dem_paths), lon, lat, height_agl_m=height_agl_m, freq_mhz=freq_mhz,
        radius_m=radius_km * 1000.0, model=model, rx_height_agl_m=rx_height_agl_m,
        k_factor=DEFAULT_K_FACTOR if k_factor is None else k_factor, res_m=res_m,
        **({"parallel": True} if model in ("itm", "p1812") else {}),  # one site: use every core
    )
    write_site_raster(raster, out_path)
    if not ctx.obj["quiet"]:
        v = raster.values
        if model == "los":
            share = float((v == 1).sum()) / max(int((v != 255).sum()), 1)
            summary = f"{share:.1%} of cells within {radius_km:g} km visible"
        else:
            finite = np.isfinite(v)
            summary = (f"path loss {np.nanmin(v):.1f}–{np.nanmax(v):.1f} dB over {int(finite.sum())} cells"
                       if finite.any() else "no cell computed")
        click.echo(f"{model}: {summary}; wrote {out_path} ({time.perf_counter() - t0:.1f} s)")
        if "SYNTHETIC" in raster.tags.get("terrain", ""):
            click.secho("Terrain: SYNTHETIC demo DEM, not survey data.", fg="yellow")


@main.command()
@click.option("--dem", "dem_paths", required=True, multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="DEM file (GeoTIFF, SRTM .hgt, VRT); repeat for several tiles.")
@click.option("--tx", "tx_lonlat", type=float, nargs=2, required=True, metavar="LON LAT",
              help="Transmitter (site) position, degrees east and north (south < 0).")
@click.option("--rx", "rx_lonlat", type=float, nargs=2, required=True, metavar="LON LAT",
              help="Receiver position, degrees east and north.")
@click.option("--height-agl-m", type=float, required=True, help="Antenna height above ground, m.")
@click.option("--rx-height-agl-m", type=float, default=1.5, show_default=True)
@click.option("--freq-mhz", type=float, default=900.0, show_default=True)
@click.option("--model", type=click.Choice(["itm", "p1812", "fspl"]), default="itm", show_default=True)
@click.option("--clutter-height-m", type=float, default=None,
              help="Clutter height along the path (e.g. 20 for tropical forest); P.1812 uses it, "
                   "ITM does not (it is drawn).")
@click.option("--k-factor", type=float, default=None,
              help="Effective earth radius factor for the drawing and P.1812 (default 1.51).")
@click.option("--res-m", type=float, default=None, help="Profile spacing (default from the DEM).")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Output PNG.")
@click.pass_context
def profile(ctx, dem_paths, tx_lonlat, rx_lonlat, height_agl_m, rx_height_agl_m, freq_mhz, model,
            clutter_height_m, k_factor, res_m, out_path):
    """Draw one path: terrain, clutter, line of sight, 0.6 Fresnel zone, horizons, loss and mode."""
    from pyproj import Transformer

    from blankspot.crs import WGS84, utm_crs_for
    from blankspot.diagnostics import profile_plot
    from blankspot.io import read_terrain
    from blankspot.units import DEFAULT_K_FACTOR

    (lon_t, lat_t), (lon_r, lat_r) = tx_lonlat, rx_lonlat
    crs = utm_crs_for(min(lon_t, lon_r), min(lat_t, lat_r), max(lon_t, lon_r), max(lat_t, lat_r))
    to_xy = Transformer.from_crs(WGS84, crs, always_xy=True)
    tx, rx = to_xy.transform(lon_t, lat_t), to_xy.transform(lon_r, lat_r)
    margin = 500.0
    bounds = (min(tx[0], rx[0]) - margin, min(tx[1], rx[1]) - margin,
              max(tx[0], rx[0]) + margin, max(tx[1], rx[1]) + margin)
    terrain = read_terrain(list(dem_paths), bounds=bounds, bounds_crs=crs, crs=crs, res_m=res_m)
    _fig, rep = profile_plot(
        terrain, tx, rx, tx_height_agl_m=height_agl_m, rx_height_agl_m=rx_height_agl_m,
        freq_mhz=freq_mhz, k_factor=DEFAULT_K_FACTOR if k_factor is None else k_factor,
        clutter_height_m=clutter_height_m, model=model, out_path=out_path,
    )
    if not ctx.obj["quiet"]:
        click.echo(
            f"{rep.model}: {rep.loss_db:.1f} dB over {rep.distance_m / 1000:.2f} km ({rep.mode}); "
            f"{'obstructed' if rep.obstructed else 'clear line of sight'}, 0.6 F1 clearance "
            f"{rep.clearance_m:.1f} m at {rep.clearance_at_m / 1000:.2f} km; antenna elevation "
            f"{rep.tx_elevation_deg:.2f}°; wrote {out_path}"
        )
        if terrain.synthetic:
            click.secho("Terrain: SYNTHETIC demo DEM, not survey data.", fg="yellow")


# --- scenarios: run, rank, map -------------------------------------------------------------------

_SET_HELP = ("Change one scenario key, e.g. --set budget_idr=12_000_000_000 or --set "
             "radio.threshold_dbm=-110; repeatable. VALUE is read as TOML (a list: "
             "'targets=[\"64.01.09.2003\"]'; off: 'terrain_res_m=none').")
_CACHE_HELP = ("Keep per-site footprints here, so a rerun with another budget, cost or siting "
               "setting computes no propagation again.")


def _scenario_spec(scenario, overrides, data_dir=None):
    """The spec of a scenario file (or the Paser demo when None) with --set and --data-dir."""
    from blankspot.scenario import ScenarioSpec, parse_overrides

    spec = ScenarioSpec.from_toml(scenario) if scenario is not None else ScenarioSpec(name="paser-demo")
    changes = parse_overrides(overrides)
    if data_dir is not None:
        changes["data_dir"] = str(data_dir)
    return spec.replace(**changes) if changes else spec


def _scenario_out_dir(spec, scenario) -> Path | None:
    """The ``[outputs] out_dir`` of a scenario file, refused when it leaves the file's folder.

    A scenario file (perhaps from someone else) may only write below its own folder; a place
    elsewhere must be named on the command line with --out.
    """
    from blankspot.errors import ConfigError

    if not spec.out_dir:
        return None
    target = Path(spec.out_dir).expanduser()
    if scenario is None:
        return target
    base = Path(scenario).resolve().parent
    resolved = target.resolve()
    if base not in resolved.parents:
        raise ConfigError(
            f"[outputs] out_dir of {scenario} resolves to {resolved}, which is not below the "
            f"scenario's folder {base}; a scenario file may only write below its own folder. Give "
            f"--out {target} on the command line to write there, or set a relative out_dir such "
            "as \"out/plan\"."
        )
    return target


def _no_tower_hint(result) -> str | None:
    """When a plan picks no tower because the budget is below every candidate's cost, say
    which candidate is cheapest and what budget would buy it."""
    from blankspot.reporting.tables import format_idr

    costs = getattr(result, "site_costs", None)
    if len(result.ranking) or costs is None or not len(costs) or "cost_idr" not in costs:
        return None
    cheapest = costs["cost_idr"].astype("int64")
    site, price = cheapest.idxmin(), int(cheapest.min())
    if price <= int(result.config.budget_idr):
        return None
    return (f"No tower fits the budget of {format_idr(result.config.budget_idr)}: the cheapest "
            f"candidate, {site}, costs {format_idr(price)}. Raise budget_idr (--budget-idr, "
            f"--set budget_idr=...) to at least {price:_}, or lower the costs.")


def _echo_plan(result, seconds: float) -> None:
    """The ranking and the headline figures of a plan, as ``demo`` prints them."""
    from blankspot.units import format_idr

    cols = [c for c in ("rank", "site_id", "cost_idr", "n_desa_served_new", "people_new",
                        "cumulative_people", "desa_served_new") if c in result.ranking]
    if len(result.ranking):
        click.echo(result.ranking[cols].to_string(index=False))
    desa = result.desa
    served = 0
    if "served" in desa:
        served = int(((desa["served"] == "yes") & desa["target"].astype(bool)).sum())
    expected = "expected " if result.config.coverage == "probability" else ""
    click.echo(
        f"\n{len(result.ranking)} towers, {format_idr(result.total_cost_idr)} of "
        f"{format_idr(result.config.budget_idr)}; {served} of {len(result.target_ids)} target "
        f"desa served (≥ {result.config.served_share:.0%} of their people); "
        f"{result.people_covered:,.0f} of {result.problem.total_weight:,.0f} {expected}people "
        f"in target desa covered ({len(result.sites)} candidates, {seconds:.1f} s; objective "
        f"{result.config.objective})."
    )
    hint = _no_tower_hint(result)
    if hint:
        click.secho(hint, fg="yellow")
    cert = result.certificate
    if cert is not None:
        share = result.people_covered / cert.covered_weight if cert.covered_weight > 0 else 1.0
        click.echo(
            f"Exact solver ({cert.status}, gap {cert.gap or 0:.2%}): optimum {cert.covered_weight:,.0f} "
            f"people; this plan reaches {share:.1%} of it."
        )
    click.echo(f"People placed by: {result.demand_model}.")
    if result.terrain_synthetic:
        click.secho("Terrain: SYNTHETIC demo DEM, not survey data.", fg="yellow")


@main.command("run")
@click.argument("scenario", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default: out_dir of the scenario's [outputs] table).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=_SET_HELP)
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=_CACHE_HELP)
@click.option("--scheduler", default=None,
              help="Compute candidate coverage on dask: 'local', 'threads' or tcp://HOST:PORT.")
@click.option("--lang", type=click.Choice(["en", "id"]), default=None,
              help="Language of the tables, workbook, interactive and printed maps and metadata "
                   "(default: lang of the scenario's [outputs] table, else en).")
@click.pass_context
def run_command(ctx, scenario, out_dir, overrides, cache_dir, scheduler, lang):
    """Run a scenario file and write the plan, the resolved scenario and provenance.

    Writes everything `blankspot demo` writes, plus scenario.toml (every key with the value
    used) and provenance.json (checksums of the input files, package versions, timings).
    """
    from blankspot.io.outputs import check_output_dir
    from blankspot.scenario import run

    quiet = ctx.obj["quiet"]
    spec = _scenario_spec(scenario, overrides)
    out_dir = out_dir or _scenario_out_dir(spec, scenario)
    if out_dir is None:
        raise click.UsageError("give --out DIR, or out_dir in the scenario's [outputs] table.")
    check_output_dir(out_dir)  # before computing, not after
    t0 = time.perf_counter()
    result = run(spec, progress=not quiet, cache_dir=cache_dir, scheduler=scheduler)
    paths = result.write(out_dir, **({"lang": lang} if lang else {}))
    if not quiet:
        click.echo(f"scenario {result.name} (spec {result.spec_hash[:12]})")
        _echo_plan(result.plan, time.perf_counter() - t0)
        for path in paths.values():
            click.echo(f"  wrote {path}")


@main.command("rank")
@click.argument("scenario", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=_SET_HELP)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Data directory (default: the scenario's data_dir, $BLANKSPOT_DATA_DIR or ./data).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the ranking table to this CSV file.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=_CACHE_HELP)
@click.pass_context
def rank_command(ctx, scenario, overrides, data_dir, out_path, cache_dir):
    """Rank towers for a scenario (default: the Paser demo) and print the ranking.

    Only the ranking is computed: no exact-solver certificate and no stability check, which do
    not change it. The table has one row per tower in pick order, with its cost breakdown and
    the people and desa it newly serves.
    """
    from blankspot.io.outputs import write_csv
    from blankspot.scenario import run

    quiet = ctx.obj["quiet"]
    spec = _scenario_spec(scenario, overrides, data_dir)
    spec = spec.replace(certify=False, stability_threshold_db=None)
    t0 = time.perf_counter()
    result = run(spec, progress=not quiet, cache_dir=cache_dir)
    if out_path is not None:
        write_csv(result.ranking, out_path, index=False, formula_safe=True)
    if not quiet:
        cols = [c for c in ("rank", "site_id", "lon", "lat", "height_agl_m", "cost_idr",
                            "n_desa_served_new", "people_new", "cumulative_cost_idr",
                            "cumulative_people", "desa_served_new")
                if c in result.ranking.columns]
        if len(result.ranking):
            click.echo(result.ranking[cols].to_string(index=False))
        click.echo(f"\nscenario {result.name}: {len(result.ranking)} towers, "
                   f"{result.people_covered:,.0f} people newly covered "
                   f"({time.perf_counter() - t0:.1f} s).")
        if result.plan.terrain_synthetic:
            click.secho("Terrain: SYNTHETIC demo DEM, not survey data.", fg="yellow")
        if out_path is not None:
            click.echo(f"  wrote {out_path}")


@main.command("map")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The map file (default: SOURCE/map.html for an output folder; for a scenario, "
                   "map.html in its [outputs] out_dir).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=_SET_HELP)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Data directory with the desa boundaries (default: $BLANKSPOT_DATA_DIR or ./data).")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=_CACHE_HELP)
@click.option("--measurements", "measurements_path", default=None,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Also draw measurements coloured by measured − predicted RSRP: the points.csv "
                   "of `blankspot calibrate --report-dir` (lon, lat, rsrp_dbm, "
                   "predicted_rsrp_dbm, residual_db).")
@click.pass_context
def map_command(ctx, source, out_path, overrides, data_dir, cache_dir, measurements_path):
    """Write map.html for a scenario file, or again for an output folder.

    SOURCE is a scenario file (it is run) or a folder written by `blankspot run` or `blankspot
    demo` (the map is redrawn from its ranking.csv, desa.csv, summary.json and coverage.tif;
    nothing is recomputed).
    """
    from blankspot.io.outputs import write_text
    from blankspot.scenario import map_from_outputs, run

    quiet = ctx.obj["quiet"]
    if source.is_dir():
        if overrides:
            raise click.UsageError("--set applies to a scenario file, not to an output folder.")
        fmap = map_from_outputs(source, data_dir=data_dir)
        out_path = out_path or source / "map.html"
        note = ""
    else:
        spec = _scenario_spec(source, overrides, data_dir)
        if out_path is None:
            folder = _scenario_out_dir(spec, source)
            if folder is None:
                raise click.UsageError("give --out FILE, or out_dir in the scenario's [outputs] table.")
            out_path = folder / "map.html"
        result = run(spec, progress=not quiet, cache_dir=cache_dir)
        fmap = result.explore()
        note = "SYNTHETIC" if result.plan.terrain_synthetic else ""
    if measurements_path is not None:
        from blankspot.reporting.maps import add_measurements

        add_measurements(fmap, _residual_points(measurements_path))
    write_text(fmap.get_root().render(), out_path)
    if source.is_dir() and out_path.resolve() == (source / "map.html").resolve():
        from blankspot.reporting.export import refresh_output_checksums

        refresh_output_checksums(source, ["map.html"])
    if not quiet:
        click.echo(f"wrote {out_path}")
        if note:
            click.secho("Terrain: SYNTHETIC demo DEM, not survey data.", fg="yellow")


def _residual_points(path: Path):
    """The points of a ``points.csv`` written by ``blankspot calibrate --report-dir``."""
    import geopandas as gpd
    import pandas as pd

    from blankspot.errors import SchemaError

    try:
        table = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise SchemaError(f"measurements {path}: not a readable CSV ({exc}).") from None
    missing = [c for c in ("lon", "lat", "residual_db") if c not in table.columns]
    if missing:
        raise SchemaError(
            f"measurements {path} lacks column(s) {', '.join(missing)}; give the points.csv "
            "that `blankspot calibrate --report-dir DIR` writes."
        )
    return gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(table["lon"], table["lat"]),
                            crs="EPSG:4326")


# --- checking against measurements ----------------------------------------------------------


def _statistics_table(cal) -> str:
    """Before and after (cross-validated by site) side by side, one row per group."""
    import pandas as pd

    st = cal.statistics
    cols = ["n", "mean_error_db", "rmse_db", "std_db", "within_6db_share"]
    short = {"n": "n", "mean_error_db": "mean", "rmse_db": "RMSE", "std_db": "std",
             "within_6db_share": "±6dB"}
    parts = []
    for stage, label in (("before", "before"), ("after_cv", "after (CV)")):
        part = st[st["stage"] == stage].set_index(["group", "key"])[cols].copy()
        part["within_6db_share"] = (100 * part["within_6db_share"]).round(1)
        part.columns = pd.MultiIndex.from_tuples([(label, short[c]) for c in cols])
        parts.append(part)
    table = pd.concat(parts, axis=1)
    table = table.loc[[i for i in st[st["stage"] == "before"].set_index(["group", "key"]).index]]
    return table.to_string(float_format=lambda v: f"{v:.1f}")


@main.command("calibrate")
@click.option("--scenario", "scenario", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Scenario file: its terrain, radio settings and sites ([data] sites and "
                   "existing) are those the measurements are predicted with.")
@click.option("--measurements", "measurements_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Measurement file (CSV, G-NetTrack, NetMonster, Network Cell Info, OpenCelliD).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("calibration.toml"), show_default=True,
              help="Calibration TOML to write (name it in a scenario: [radio] calibration).")
@click.option("--format", "fmt", default="auto", show_default=True,
              help="Format of the measurement file (auto, generic, gnettrack, netmonster, "
                   "networkcellinfo, opencellid).")
@click.option("--thin-m", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="One value per square bin of this size per site (power average); 0: no "
                   "thinning.")
@click.option("--fit-slope", is_flag=True, help="Also fit a slope in dB per decade of distance.")
@click.option("--classes", default=None, metavar="CODES",
              help="Land-cover codes whose terminal loss is fitted, comma-separated (default 10, "
                   "tree cover, with --landcover; none without: a uniform clutter cannot be told "
                   "from the offset).")
@click.option("--landcover", "landcover_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Land-cover raster (ESA WorldCover codes) read onto the terrain "
                                 "grid; default the scenario's uniform clutter.")
@click.option("--k", "k", type=click.IntRange(min=2), default=5, show_default=True,
              help="Folds of the cross-validation, grouped by site.")
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write residuals.png (residual against distance and histograms, before "
                   "and after), statistics.csv and points.csv here.")
@click.pass_context
def calibrate_command(ctx, scenario, measurements_path, out_path, fmt, thin_m, fit_slope, classes,
                      landcover_path, k, report_dir):
    """Calibrate the ITM prediction of a scenario against signal measurements.

    Reads the scenario's terrain and sites through the same input path as `blankspot run`; the
    serving sites are those of its [data] sites and existing files (a measurement names its
    site by site_id, cell or eNodeB, else it is linked to the site predicted strongest). The
    prediction is the scenario's uncalibrated ITM with its clutter at the handset. Fits the
    offset (and --fit-slope, --classes) robustly, cross-validates by site with --k folds, writes
    the calibration TOML and prints the statistics before and after.
    """
    import pandas as pd

    from blankspot.calibration import (
        calibrate,
        cross_validate,
        plot_residuals,
        predict_at_points,
        predict_calibrated,
        write_calibration,
    )
    from blankspot.clutter import landcover_classes
    from blankspot.errors import ConfigError, InputError
    from blankspot.io.inputs import read_inputs
    from blankspot.io.outputs import write_csv
    from blankspot.measurements import link_measurements, read_measurements, thin_measurements
    from blankspot.scenario import ScenarioSpec

    quiet = ctx.obj["quiet"]
    spec = ScenarioSpec.from_toml(scenario)
    if spec.calibration is not None:
        spec = spec.replace(calibration=None)  # the uncalibrated prediction is calibrated
    if spec.model != "itm":
        raise ConfigError(f"blankspot calibrate calibrates the 'itm' prediction; the scenario "
                          f"{scenario} has model = {spec.model!r}. Set [radio] model = \"itm\".")
    fit_classes: tuple[int, ...]
    if classes is None:
        fit_classes = (10,) if landcover_path is not None else ()
    else:
        try:
            fit_classes = tuple(int(c) for c in classes.replace(" ", "").split(",") if c)
        except ValueError:
            raise InputError(f"--classes takes land-cover codes separated by commas, e.g. "
                             f"10,40; received {classes!r}.") from None
    config = spec.to_plan_config()
    inputs = read_inputs(spec.input_spec(), config)
    frames = [f for f in (inputs.user_sites, inputs.existing_sites) if f is not None and len(f)]
    if not frames:
        raise ConfigError(
            f"the scenario {scenario} names no sites: the measurements need their serving "
            "sites. Add [data] existing = \"towers.csv\" (or sites = ...) with site_id, lon, lat "
            "and height_agl_m of the towers measured."
        )
    sites = pd.concat(frames)
    sites = sites[~sites.index.duplicated(keep="first")]
    terrain = inputs.terrain
    landcover = (landcover_classes(terrain, landcover_path) if landcover_path is not None
                 else config.clutter_model())
    predict: dict[str, Any] = {"budget": config.link, "landcover": landcover,
               "rx_height_agl_m": float(config.rx_height_agl_m)}
    m = read_measurements(measurements_path, format=fmt, sites=sites, crs=terrain.crs)
    linked = link_measurements(m, sites, terrain=terrain, **predict)
    linked = linked[linked["site_link"] != "none"]
    if thin_m and thin_m > 0:
        linked = thin_measurements(linked, cell_m=float(thin_m))
    points = predict_at_points(terrain, sites, linked, **predict)
    fit: dict[str, Any] = {"fit_slope": bool(fit_slope), "fit_classes": fit_classes}
    cal = calibrate(points, k=k, **fit)
    path = write_calibration(out_path, cal)
    written = [path]
    if report_dir is not None:
        report_dir = Path(report_dir)
        report_dir.mkdir(parents=True, exist_ok=True)
        r_cv, folds = cross_validate(points, k=k, **fit)
        written.append(report_dir / "residuals.png")
        plot_residuals(points["distance_m"], points["residual_db"], r_cv, out_path=written[-1],
                       sigma_l_db=cal.sigma_l_db,
                       title=f"{spec.label}: measured − predicted, before and after calibration")
        written.append(report_dir / "statistics.csv")
        write_csv(cal.statistics, written[-1], index=False)
        table = pd.DataFrame(points.drop(columns="geometry"))
        wgs = points.geometry.to_crs("EPSG:4326")
        table["lon"], table["lat"] = wgs.x.round(7), wgs.y.round(7)
        table["calibrated_rsrp_dbm"] = predict_calibrated(points, cal)
        table["residual_cv_db"] = r_cv
        table["fold"] = folds
        written.append(report_dir / "points.csv")
        write_csv(table, written[-1], index=False)
    if not quiet:
        click.echo(cal.summary())
        click.echo(f"  location margin for 90 % of locations: {cal.location_margin_db(90.0):.1f} dB "
                   f"(1.28 sigma_L; set [radio] location_margin_db to use it)")
        click.echo("")
        click.echo(_statistics_table(cal))
        for p in written:
            click.echo(f"  wrote {p}")
        if terrain.synthetic:
            click.secho("Terrain: SYNTHETIC demo DEM, not survey data.", fg="yellow")


if __name__ == "__main__":  # pragma: no cover
    main()
