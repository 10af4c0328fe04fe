"""Planner tables: the ranked towers and per-desa / per-kecamatan coverage, keyed by kode wilayah."""

from __future__ import annotations

import numpy as np
import pandas as pd

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


def ranking_table(result, sites, *, desa_new=None, site_costs=None) -> pd.DataFrame:
    """One row per chosen tower in pick order.

    ``result`` is a :class:`blankspot.siting.SitingResult`; ``sites`` the candidate frame (any CRS)
    indexed by ``site_id``; ``desa_new`` an optional list (one entry per pick) of the desa names
    that pick newly serves; ``site_costs`` the :meth:`blankspot.costs.CostModel.site_costs` frame,
    whose breakdown columns are appended.
    """
    from blankspot.crs import WGS84

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


def desa_table(villages, summary, *, targets=()) -> pd.DataFrame:
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


def format_idr(amount_idr: int) -> str:
    """Rupiah with Indonesian thousands separators: ``Rp 1.700.000.000``."""
    return "Rp " + f"{int(amount_idr):,}".replace(",", ".")
