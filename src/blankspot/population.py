"""Population of every desa for a target year, from a dated, incomplete census and kecamatan totals.

For Kabupaten Paser the only desa-level figures are the 2010 census (BPS SP2010), and 21 of the
144 desa have none: 19 were split off after 2010 and 2 carry a BPS code that a differently named
village used in 2010. A parent desa that lost territory to a split still carries its whole
pre-split 2010 population. Kecamatan totals exist for 2010 (SP2010) and 2020 (Dukcapil).

Method of :func:`estimate_population`
-------------------------------------
1. **Parents.** Every desa without a census figure (a *child*) is assigned a *parent*: among the
   desa of the same kecamatan that do have a figure, the one sharing the longest boundary with
   it. Because neighbouring polygons leave slivers and gaps of up to tens of metres, the shared
   boundary is measured as the length of the child's boundary lying within ``snap_m`` (50 m) of
   the neighbour's polygon. A child touching no desa with a figure takes the nearest one in its
   kecamatan (polygon-to-polygon distance). Ties go to the lower ``village_id``.
2. **Split by area.** Each parent and all its children together stand for the parent's 2010
   territory, so the parent's census figure is spread over them in proportion to polygon area
   (in the villages' metric CRS). Desa with a figure and no children keep it as is.
3. **Project.** Within kecamatan *k*, every estimated base-year figure is multiplied by
   ``T_k / S_k``, where ``T_k`` is the kecamatan's target-year total and ``S_k`` the sum of the
   estimated base-year figures of its desa. Each kecamatan therefore sums to its target-year
   total; the growth factor is uniform inside a kecamatan. (``S_k`` can fall short of the
   kecamatan's own census total where a 2010 figure could not be matched to a current desa,
   e.g. the 2 code re-uses in Paser; those persons are spread over the kecamatan by this step.)
4. **Round.** Figures are rounded to whole persons per kecamatan by the largest-remainder
   (Hamilton) method, so kecamatan sums stay exact. Ties go to the earlier row.

For Paser this fills all 144 desa; the total is 277,400 persons (Dukcapil 2020), with each
kecamatan equal to its Dukcapil 2020 figure. The estimate assumes uniform density inside a
parent's old territory and uniform growth inside a kecamatan: a planning figure (*perkiraan*),
not a count.

The kecamatan totals are a DataFrame indexed by ``kecamatan_id`` with ``population_2010`` and
``population_<target_year>`` columns; :func:`read_kecamatan_totals` reads the Paser CSV.
"""

from __future__ import annotations

import os
from collections.abc import Hashable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from blankspot.crs import require_metric
from blankspot.errors import DataError, raise_if_problems

__all__ = ["estimate_population", "largest_remainder", "read_kecamatan_totals"]

KECAMATAN_CSV_COLUMNS = {
    "kode_kec": "kecamatan_id",
    "nama_kec": "kecamatan",
    "penduduk_2010_sp": "population_2010",
    "penduduk_2020_dukcapil": "population_2020",
}
"""Columns of ``paser_kecamatan.csv`` and the names :func:`read_kecamatan_totals` gives them."""

TOTALS_SOURCE_LABELS = {"population_2010": "SP2010", "population_2020": "Dukcapil 2020"}
"""Labels of the Paser kecamatan totals, stored in ``attrs["source_labels"]`` on read."""

DEFAULT_SNAP_M = 50.0


def read_kecamatan_totals(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read kecamatan population totals from a CSV such as ``paser_kecamatan.csv``.

    Parameters
    ----------
    path
        CSV with columns ``kode_kec``, ``penduduk_2010_sp`` and ``penduduk_2020_dukcapil``
        (``nama_kec`` optional).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``kecamatan_id`` (str), with ``population_2010`` and ``population_2020``
        (int64 persons) and ``kecamatan`` (name) when present. ``attrs["source_labels"]`` names
        the source of each total ("SP2010", "Dukcapil 2020") for :func:`estimate_population`.

    Raises
    ------
    DataError
        The file cannot be read.
    SchemaError
        Columns are missing, ids are empty or repeated, or totals are missing, not whole
        numbers or negative; every problem is listed at once.
    """
    try:
        raw = pd.read_csv(path, dtype={"kode_kec": str})
    except (OSError, ValueError, UnicodeDecodeError) as exc:  # ParserError, EmptyDataError
        raise DataError(f"could not read kecamatan totals from {os.fspath(path)!r}: {exc}; give a "
                        "UTF-8 CSV with columns kode_kec, penduduk_2010_sp and "
                        "penduduk_2020_dukcapil.") from exc
    what = f"kecamatan totals {os.path.basename(os.fspath(path))}"
    required = ["kode_kec", "penduduk_2010_sp", "penduduk_2020_dukcapil"]
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise_if_problems(
            what,
            [
                f"missing column {c!r}; the file has {', '.join(map(repr, raw.columns))}."
                for c in missing
            ],
        )
    problems: list[str] = []
    ids = raw["kode_kec"].astype("string").str.strip()
    if ids.isna().any() or (ids == "").any():
        rows = [str(i + 2) for i in np.flatnonzero((ids.isna() | (ids == "")).to_numpy())]
        problems.append(f"empty kode_kec on line(s) {', '.join(rows)}.")
    dup = ids[ids.duplicated(keep=False) & ids.notna()].unique()
    if len(dup):
        problems.append(f"kode_kec repeated: {', '.join(map(str, dup))}; each kecamatan once.")
    out = pd.DataFrame(index=pd.Index(ids.astype(object), name="kecamatan_id"))
    if "nama_kec" in raw.columns:
        out["kecamatan"] = raw["nama_kec"].astype(str).to_numpy()
    for src in required[1:]:
        dst = KECAMATAN_CSV_COLUMNS[src]
        values = pd.to_numeric(raw[src], errors="coerce")
        bad = values.isna() | ~np.isfinite(values) | (values != np.round(values))
        for i in np.flatnonzero(bad.to_numpy()):
            problems.append(
                f"{src} of {ids.iloc[i]} is {raw[src].iloc[i]!r}; expected a whole number of persons."
            )
        for i in np.flatnonzero((values < 0).to_numpy()):
            problems.append(f"{src} of {ids.iloc[i]} is negative ({values.iloc[i]:g}).")
        out[dst] = values.fillna(0).to_numpy().round().astype(np.int64)
    raise_if_problems(what, problems)
    out.attrs["source_labels"] = dict(TOTALS_SOURCE_LABELS)
    return out


def largest_remainder(quotas: np.ndarray, total: int) -> np.ndarray:
    """Round non-negative ``quotas`` to integers that sum to ``total`` (largest remainder).

    Each value becomes its floor or its floor + 1; the units left after flooring go to the
    largest fractional parts, ties to the earlier position.

    >>> largest_remainder(np.array([1.5, 1.5, 1.0]), 4).tolist()
    [2, 1, 1]
    """
    q = np.asarray(quotas, dtype=float)
    if q.size == 0:
        return np.zeros(0, dtype=np.int64)
    floors = np.floor(q + 1e-9).astype(np.int64)
    rest = int(total) - int(floors.sum())
    rest = max(0, min(rest, q.size))
    frac = q - floors
    order = np.lexsort((np.arange(q.size), -frac))
    out = floors.copy()
    out[order[:rest]] += 1
    return out


def _choose_parent(
    child: Hashable, candidates: pd.Index, geoms: gpd.GeoSeries, snap_m: float
) -> tuple[Hashable, str]:
    """Parent of ``child`` among ``candidates``: longest shared boundary, else nearest."""
    geom = geoms.loc[child]
    cand = geoms.loc[candidates]
    buffered = shapely.buffer(cand.to_numpy(), snap_m)
    shared = shapely.length(shapely.intersection(shapely.boundary(geom), buffered))
    order = np.lexsort((np.asarray(candidates, dtype=str), -np.round(shared, 6)))
    if shared[order[0]] > 0:
        return candidates[order[0]], "shares the longest boundary"
    dist = shapely.distance(geom, cand.to_numpy())
    order = np.lexsort((np.asarray(candidates, dtype=str), np.round(dist, 6)))
    return candidates[order[0]], f"nearest, {dist[order[0]]:.0f} m away"


def estimate_population(
    villages: gpd.GeoDataFrame,
    kecamatan_totals: pd.DataFrame,
    *,
    target_year: int = 2020,
    census_year: int = 2010,
    census_column: str = "population",
    snap_m: float = DEFAULT_SNAP_M,
) -> gpd.GeoDataFrame:
    """Estimate the population of every desa in ``target_year`` (method in the module docstring).

    Parameters
    ----------
    villages
        Villages frame indexed by ``village_id`` with ``kecamatan_id``, the census figures in
        ``census_column`` (NaN where unknown) and (Multi)Polygon geometry in a metric CRS. It
        must hold *every* desa of each kecamatan it touches, since kecamatan totals are shared
        out among them. Not modified.
    kecamatan_totals
        Indexed by ``kecamatan_id``, with ``population_<census_year>`` and
        ``population_<target_year>`` columns (see :func:`read_kecamatan_totals`). Its
        ``attrs["source_labels"]``, when present, names the sources in ``population_source``.
    target_year, census_year
        Years of the kecamatan totals to project to and of the desa census figures.
    census_column
        Column of ``villages`` holding the desa census figures.
    snap_m
        Tolerance in metres for measuring shared boundaries across slivers and gaps.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``villages`` with ``population`` (int64 persons, target year, every row
        filled), ``population_<census_year>`` (the census figure or NaN),
        ``population_<census_year>_est`` (float, the figure after the split by area),
        ``population_parent`` (``village_id`` of the parent a figure was split from, else "")
        and ``population_source`` (how each figure was obtained).

    Raises
    ------
    CRSError
        The villages are not in a projected metric CRS.
    SchemaError
        Columns are missing, ids repeated, figures negative, kecamatan missing from the totals,
        or a kecamatan has no desa with a census figure; every problem is listed at once.
    """
    crs = require_metric(villages.crs, "villages")
    what = "estimate_population() inputs"
    base_col = f"population_{census_year}"
    target_col = f"population_{target_year}"
    problems: list[str] = []
    for col in ("kecamatan_id", census_column):
        if col not in villages.columns:
            problems.append(f"villages lack column {col!r}.")
    for col in (base_col, target_col):
        if col not in kecamatan_totals.columns:
            problems.append(
                f"kecamatan_totals lack column {col!r}; it has "
                f"{', '.join(map(repr, kecamatan_totals.columns)) or 'no columns'}. Read it with "
                "read_kecamatan_totals() or rename the columns."
            )
    raise_if_problems(what, problems)

    if villages.index.has_duplicates:
        dup = villages.index[villages.index.duplicated()].unique()
        problems.append(f"village_id repeated: {', '.join(map(str, dup))}.")
    geoms = villages.geometry
    empty = geoms.isna() | geoms.is_empty
    if empty.any():
        problems.append(
            f"empty or missing geometry for {', '.join(map(str, villages.index[empty]))}."
        )
    census = pd.to_numeric(villages[census_column], errors="coerce").astype(float)
    bad = census.isna() & villages[census_column].notna()
    if bad.any():
        problems.append(
            f"{census_column} is not a number for {', '.join(map(str, villages.index[bad]))}."
        )
    neg = census < 0
    if neg.any():
        problems.append(
            f"negative {census_column} for "
            f"{', '.join(f'{i} ({v:g})' for i, v in census[neg].items())}."
        )
    kec = villages["kecamatan_id"].astype(str)
    totals_idx = kecamatan_totals.index.astype(str)
    unknown = sorted(set(kec) - set(totals_idx))
    if unknown:
        problems.append(
            f"kecamatan {', '.join(unknown)} missing from kecamatan_totals "
            f"(which has {', '.join(sorted(totals_idx))})."
        )
    totals = {}
    for col in (base_col, target_col):
        values = pd.to_numeric(kecamatan_totals[col], errors="coerce")
        values.index = totals_idx
        used = values[values.index.isin(set(kec))]
        if used.isna().any():
            problems.append(f"{col} missing for kecamatan {', '.join(used.index[used.isna()])}.")
        if (used < 0).any():
            problems.append(f"{col} negative for kecamatan {', '.join(used.index[used < 0])}.")
        totals[col] = values
    has_figure = census.notna()
    no_figure_kec = sorted(set(kec) - set(kec[has_figure]))
    if no_figure_kec:
        problems.append(
            f"kecamatan {', '.join(no_figure_kec)} have no desa with a {census_column} figure, "
            "so there is no parent to split from."
        )
    raise_if_problems(what, problems)

    labels = dict(getattr(kecamatan_totals, "attrs", {}).get("source_labels", {}))
    base_label = labels.get(base_col, f"census {census_year}")
    target_label = labels.get(target_col, f"kecamatan {target_year} totals")
    growth_text = f"× kecamatan growth to {target_label}"

    # 1. parents
    ids = villages.index
    parent = pd.Series("", index=ids, dtype=object)
    parent_note = pd.Series("", index=ids, dtype=object)
    for child in ids[~has_figure.to_numpy()]:
        cands = ids[(kec == kec.loc[child]).to_numpy() & has_figure.to_numpy()]
        p, note = _choose_parent(child, cands, geoms, snap_m)
        parent.loc[child] = p  # type: ignore[call-overload]  # a village id; the stubs want scalars
        parent_note.loc[child] = note

    # 2. split each parent's figure by area over parent + children
    area_m2 = pd.Series(shapely.area(geoms.to_numpy()), index=ids)
    est = census.copy()
    children_of: dict[Hashable, list[Hashable]] = {}
    for child, p in parent[parent != ""].items():
        children_of.setdefault(p, []).append(child)
    for p, kids in children_of.items():
        group: list[Any] = [p, *kids]  # village ids (pandas-stubs index by scalars, not Hashable)
        a = area_m2.loc[group].to_numpy()
        share = a / a.sum() if a.sum() > 0 else np.full(len(group), 1.0 / len(group))
        est.loc[group] = census.loc[p] * share

    # 3.-4. project per kecamatan and round
    pop = pd.Series(0, index=ids, dtype=np.int64)
    for k in pd.unique(kec):
        members = ids[(kec == k).to_numpy()]
        s = float(est.loc[members].sum())
        t = round(float(totals[target_col].loc[k]))
        if s <= 0:
            if t > 0:
                raise_if_problems(
                    what,
                    [
                        f"kecamatan {k} has {census_column} 0 in every desa but {t} persons in "
                        f"{target_col}; there is nothing to share the total by."
                    ],
                )
            continue
        pop.loc[members] = largest_remainder(est.loc[members].to_numpy() * (t / s), t)

    source = pd.Series("", index=ids, dtype=object)
    for i in ids:
        if parent.loc[i]:
            source.loc[i] = (
                f"split by area from {parent.loc[i]} ({base_label}; parent "
                f"{parent_note.loc[i]}), {growth_text}"
            )
        elif i in children_of:
            shared_with = ", ".join(map(str, children_of[i]))
            source.loc[i] = f"{base_label} shared by area with {shared_with}, {growth_text}"
        else:
            source.loc[i] = f"{base_label} {growth_text}"

    out = villages.copy()
    out["population"] = pop
    out[base_col] = census
    out[f"{base_col}_est"] = est
    out["population_parent"] = parent.astype(str)
    out["population_source"] = source.astype(str)
    out = out.set_crs(crs, allow_override=True)
    return out
