"""Per-site capital and running costs in whole Rupiah: :class:`CostParameters` and :class:`CostModel`.

Model
-----
For each site (planning parameters §5)::

    subtotal = tower(height) + land + road_idr_per_km * d_road
               + power                       # PLN or off-grid solar, the cheaper
               + backhaul                    # only with include_backhaul
               + equipment                   # only with include_equipment
    capex    = subtotal + contingency_fraction * subtotal
    power    = PLN:  connection (unless in the tower price)
                     + mv_line_idr_per_km * max(0, d_grid - mv_free_distance_m)
                     when d_grid <= max_grid_distance_m;
               else: offgrid_solar_idr;   PLN wins ties
    opex     = energy (PLN or off-grid) + maintenance_fraction_per_year * capex
               + backhaul lease (with include_backhaul) + site rent
    NPV      = capex + opex * sum_{t=1..T} (1 + r)**-t      (7.7217 * opex at r = 5 %, T = 10)

**Tower.** The menu is 32 / 42 / 52 / 72 m; a site gets the lowest tower at least as tall as its
``height_agl_m`` (a 40 m antenna gets the 42 m tower). Heights above 72 m are refused: no tower
price above the menu is known, and extrapolating one would pass a guess off as a figure.

**Backhaul.** A *microwave* hop is possible when a hub (an existing tower or a backhaul point)
lies within ``microwave_max_hop_m`` and the hop is clear: checked on the terrain (or by a
``line_of_sight`` callable) when one is given, otherwise assumed clear. Among the possible
terrestrial options (microwave, fibre to the nearest backhaul point) the cheaper is taken; with
no clear hop, fibre is taken when it costs no more than a VSAT terminal, else *VSAT*. The option is
always chosen and reported (``backhaul_option``), but its cost counts only with
``include_backhaul``: in the Paser model the operator supplies backhaul and RAN. With
``include_backhaul``, capex rises with every distance except one: a hub moving out of microwave
range can make a site cheaper to build, because a VSAT terminal costs less than a link (the
price of VSAT is its lease, which is opex).

**Money.** Every Rupiah column is ``int64``. Each amount computed from a rate (per km, a
fraction) is rounded to whole Rupiah *half up* (``floor(x + 0.5)``, so Rp 0.5 becomes Rp 1)
before it is added; sums of rounded amounts are exact, so ``capex_idr`` equals the sum of the
component columns to the Rupiah.

**Calibration: the Paser 2022 SSH.** With the defaults, a 72 m four-leg tower on a land grant
(hibah) beside the desa road with PLN at the desa costs exactly Rp 1,700,000,000, the 2022 SSH
(NS28517): tower 1.70 bn (the SSH, read as the passive tower as built, fence and PLN connection
included: ``pln_connection_in_tower_price``) + land 0 (hibah) + road 0 km + power 0 (PLN within
``mv_free_distance_m``, connection in the SSH) + backhaul 0 and equipment 0 (the operator's
scope) + contingency 0 %. That the SSH includes the fence and the PLN connection is unconfirmed
(planning parameters §5): set ``pln_connection_in_tower_price=False`` to add Rp 15 jt.

**The 2023 tenders.** Three 72 m towers were tendered at Rp 2.08-2.31 bn (PK413806; NS35028).
The model gives Rp 1.95 bn for a site 0.5 km from the road and 0.5 km from the grid and
Rp 2.45 bn at 1 km and 1 km, which brackets them; 2.08 bn is road 0.6 km + grid 0.66 km,
2.12 bn road 0.6 km + grid 0.74 km, 2.30 bn road 0.8 km + grid 0.9 km, 2.31 bn road 0.8 km +
grid 0.92 km (each exact). This reads the 2023 rise as site works, not as a dearer tower; to
price the tower itself at the mean bid use ``tower_72m_idr=2_250_000_000``.

Estimates
---------
Every parameter carries its tag from the planning parameters ([S] sourced, [D] derived, [E]
estimate; see :meth:`CostParameters.describe`). A cost resting on an [E] value still at its
default, or on a distance that came from a default rather than a layer, is listed in the
``estimated_components`` column and labelled *perkiraan* by :func:`breakdown_table`. A value the
user changed is theirs and is not labelled.
"""

from __future__ import annotations

import difflib
import functools
import math
import os
import tomllib
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import Field, dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import CRS

from blankspot.crs import as_crs, require_metric
from blankspot.errors import (
    CRSError,
    DataError,
    InputError,
    Problems,
    SchemaError,
    UnitsError,
    listing,
)
from blankspot.io.vectors import validate_sites
from blankspot.units import effective_earth_radius_m, format_idr

if TYPE_CHECKING:
    from blankspot.terrain import Terrain

__all__ = [
    "COMPONENTS",
    "TOWER_MENU_M",
    "CostModel",
    "CostParameters",
    "breakdown_table",
    "hop_is_clear",
]

TOWER_MENU_M: tuple[int, ...] = (32, 42, 52, 72)
"""Tower heights on the menu, metres above ground (planning parameters §2)."""

_TOWER_TYPES = {32: "small_mast", 42: "sst", 52: "sst", 72: "sst_four_leg"}

PerSite: TypeAlias = npt.ArrayLike | pd.Series
"""One value for every site, a sequence in the order of the sites, or a Series on site_id."""
Layer: TypeAlias = gpd.GeoDataFrame | gpd.GeoSeries

COMPONENTS: tuple[str, ...] = (
    "tower",
    "land",
    "road",
    "power",
    "backhaul",
    "equipment",
    "contingency",
)
"""Capex components; each is a ``<name>_idr`` column and ``capex_idr`` is their sum."""

POWER_OPTIONS = ("pln", "off_grid_solar")
BACKHAUL_OPTIONS = ("microwave", "fibre", "vsat")


def _p(default: Any, tag: str, source: str) -> Any:
    """A dataclass field with its planning-parameters tag and source in the metadata."""
    return field(default=default, metadata={"tag": tag, "source": source})


@dataclass(frozen=True)
class CostParameters:
    """Every unit cost and rate of the cost model, with the planning-parameters defaults.

    Money is whole Rupiah (``int``), distances metres, fractions plain numbers (0.10 = 10 %). Tags:
    [S] sourced, [D] derived, [E] estimate (override it; outputs label it *perkiraan*). Build from
    the packaged defaults with :meth:`default`, a user file with :meth:`from_toml`, and change
    values with :meth:`replace` or :meth:`updated`. Construction checks every value and reports
    every problem at once.

    Attributes
    ----------
    tower_32m_idr
        Rp 350 jt [S/E]: a small mast (monopole or guyed; 32 m assumed), "Rp 300-400 jt"
        (PK391681, price only).
    tower_42m_idr
        Rp 690 jt [E]: linear between the 32 m and 72 m prices; no source found, override.
    tower_52m_idr
        Rp 1,030 jt [E]: linear between the 32 m and 72 m prices; no source found, override.
    tower_72m_idr
        Rp 1.70 bn [S]: 72 m SST four-leg, the 2022 SSH (NS28517). 2023 HPS/bids 2.08-2.31 bn
        (PK413806; NS35028); 2.9 bn as the 2023 planning value (NS32575).
    pln_connection_in_tower_price
        True [E]: the tower prices include the PLN connection at the desa, so ``power_idr`` on
        the grid is only the 20 kV extension. This is how the 2022 SSH of Rp 1.7 bn is read
        (PLN at the desa was the precondition, PK413806; MC21); whether it is so is unconfirmed.
        False adds ``pln_connection_idr``.
    land_idr
        0 [S]: a 10 x 20 m land grant (hibah), NS28517. Buying 200 m² at Rp 50-150 k/m² costs
        Rp 10-30 jt [S/E].
    road_idr_per_km
        Rp 0.5 bn per km of new access road [E]; 0.2-1.5 bn/km. Override.
    default_road_distance_m
        0 m [E]: the distance used when neither a road layer nor distances are given (the site
        beside the desa road, as in the 2022 case). Flagged in ``road_distance_default``.
    pln_connection_idr
        Rp 15 jt [E]: a PLN connection; 10-25 jt. Check against the current PLN tariff list.
    mv_line_idr_per_km
        Rp 0.5 bn per km of 20 kV extension [E]; 0.3-1.0 bn/km. Override.
    mv_free_distance_m
        500 m [E]: the connection reaches this far without a 20 kV extension (§5 formula).
    max_grid_distance_m
        5,000 m [E]: farther from the grid than this, only off-grid power is considered.
    offgrid_solar_idr
        Rp 0.6 bn [E/S]: off-grid solar + battery; 0.4-1.2 bn (Telkomsel "green BTS" 2010:
        Rp 1.2 bn, inet.detik.com d-1302520).
    default_grid_distance_m
        0 m [E]: the grid distance used when neither a grid layer nor distances are given (PLN at
        the desa, the 2022 precondition, PK413806). Flagged in ``grid_distance_default``.
    include_backhaul
        False [S]: in the Paser model the operator supplies the backhaul, so ``backhaul_idr`` is 0;
        the option is still chosen and reported. True counts its cost in capex.
    microwave_link_idr
        Rp 310 jt [D]: one microwave link, USD 20k at Rp 15,500 (podis; USD 15-45k; pytal USD
        30/40/80k for hops < 15, 15-30, > 30 km).
    microwave_max_hop_m
        15,000 m [E]: the longest hop priced at ``microwave_link_idr`` (pytal's shortest band).
        Without terrain a hub this close is assumed reachable.
    hub_height_agl_m
        42 m [E]: antenna height at a hub whose layer has no ``height_agl_m`` column.
    k_factor
        1.51 [D]: effective earth radius factor for the hop check (P.453 ΔN = −53 N/km, Paser).
    fibre_idr_per_km
        Rp 155 jt per km [D]: USD 10/m at Rp 15,500 (pytal; ITU CPP; USD 5-20/m); the planning
        table rounds it to 0.16 bn/km.
    vsat_terminal_idr
        Rp 8.5 jt [D]: the middle of the sourced Rp 5-12 jt (USD 300-800; geotide, ITU CPP).
    backhaul_lease_idr_per_year
        0 [E]: no figure in the planning parameters; counted in opex only with include_backhaul.
    default_backhaul_distance_m
        10,000 m [E]: the distance to a backhaul point used when neither a layer nor distances are
        given. Flagged in ``backhaul_distance_default``.
    include_equipment
        False [S]: in the Paser model the operator supplies the RAN, so ``equipment_idr`` is 0.
    ran_equipment_idr
        Rp 542.5 jt [D]: full-scope active RAN, USD 35k at Rp 15,500 (USD 31.5-40k; pytal
        validation sheet, geotide).
    contingency_fraction
        0 [E]: contingency on the capex subtotal; 0.10 is the usual alternative.
    maintenance_fraction_per_year
        0.10 [S]: maintenance as a fraction of capex per year; 10-15 % (pytal/podis; DICE).
    pln_energy_idr_per_year
        Rp 25 jt [E]: PLN electricity, 2 kW x 8,760 h x ≈ Rp 1,445/kWh; 15-40 jt.
    offgrid_energy_idr_per_year
        Rp 150 jt [E]: off-grid energy, remote Kaltim diesel at Rp 20,000/L (detik 2014);
        100-250 jt.
    site_rent_idr_per_year
        0 [S]: hibah; USD 1-3k/yr otherwise (pytal/podis).
    discount_rate_per_year
        0.05 [S/E]: pytal ``GLOBAL_PARAMETERS``; 0.10 as a sensitivity.
    npv_horizon_years
        10 [S/E]: years of opex in the NPV; 20 as a sensitivity.
    """

    # --- tower -------------------------------------------------------------------------------
    tower_32m_idr: int = _p(350_000_000, "S/E", "PK391681 (price only)")
    tower_42m_idr: int = _p(690_000_000, "E", "linear between 32 and 72 m; no source")
    tower_52m_idr: int = _p(1_030_000_000, "E", "linear between 32 and 72 m; no source")
    tower_72m_idr: int = _p(1_700_000_000, "S", "NS28517 (2022 SSH); PK413806; NS35028")
    pln_connection_in_tower_price: bool = _p(True, "E", "reading of the 2022 SSH; unconfirmed")
    # --- land and road -----------------------------------------------------------------------
    land_idr: int = _p(0, "S", "NS28517 (hibah 10 x 20 m)")
    road_idr_per_km: int = _p(500_000_000, "E", "override")
    default_road_distance_m: float = _p(0.0, "E", "site beside the desa road (2022 case)")
    # --- power ------------------------------------------------------------------------------
    pln_connection_idr: int = _p(15_000_000, "E", "check the current PLN tariff list")
    mv_line_idr_per_km: int = _p(500_000_000, "E", "override")
    mv_free_distance_m: float = _p(500.0, "E", "planning parameters §5 formula")
    max_grid_distance_m: float = _p(5_000.0, "E", "no source")
    offgrid_solar_idr: int = _p(600_000_000, "E/S", "inet.detik.com d-1302520")
    default_grid_distance_m: float = _p(0.0, "E", "PLN at the desa (PK413806; MC21)")
    # --- backhaul ----------------------------------------------------------------------------
    include_backhaul: bool = _p(False, "S", "operator supplies backhaul (planning parameters §5)")
    microwave_link_idr: int = _p(310_000_000, "D", "podis USD 20k x Rp 15,500")
    microwave_max_hop_m: float = _p(15_000.0, "E", "pytal hop bands")
    hub_height_agl_m: float = _p(42.0, "E", "no source")
    k_factor: float = _p(1.51, "D", "ITU-R P.453 for Paser (ITU-Rpy 0.4.0)")
    fibre_idr_per_km: int = _p(155_000_000, "D", "pytal; ITU CPP: USD 10/m x Rp 15,500")
    vsat_terminal_idr: int = _p(8_500_000, "D", "middle of Rp 5-12 jt (geotide; ITU CPP)")
    backhaul_lease_idr_per_year: int = _p(0, "E", "no figure")
    default_backhaul_distance_m: float = _p(10_000.0, "E", "no source")
    # --- active equipment --------------------------------------------------------------------
    include_equipment: bool = _p(False, "S", "operator supplies the RAN (planning parameters §5)")
    ran_equipment_idr: int = _p(542_500_000, "D", "pytal; geotide: USD 35k x Rp 15,500")
    # --- contingency, opex, NPV ---------------------------------------------------------------
    contingency_fraction: float = _p(0.0, "E", "no source")
    maintenance_fraction_per_year: float = _p(0.10, "S", "pytal/podis; DICE")
    pln_energy_idr_per_year: int = _p(25_000_000, "E", "2 kW x 8,760 h x Rp 1,445/kWh")
    offgrid_energy_idr_per_year: int = _p(150_000_000, "E", "diesel at Rp 20,000/L (detik 2014)")
    site_rent_idr_per_year: int = _p(0, "S", "hibah; pytal/podis")
    discount_rate_per_year: float = _p(0.05, "S/E", "pytal GLOBAL_PARAMETERS")
    npv_horizon_years: int = _p(10, "S/E", "pytal GLOBAL_PARAMETERS")

    def __post_init__(self) -> None:
        problems = Problems()
        values = _check_values({f.name: getattr(self, f.name) for f in fields(self)}, problems)
        problems.raise_if_any(
            "CostParameters", "\nFix the values above; money is whole Rupiah, e.g. 1_700_000_000."
        )
        for name, value in values.items():
            object.__setattr__(self, name, value)

    # --- construction ------------------------------------------------------------------------
    @classmethod
    def default(cls) -> CostParameters:
        """The packaged defaults (``blankspot/data/cost_defaults.toml``), equal to ``CostParameters()``."""
        return _packaged_defaults()

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> CostParameters:
        """The packaged defaults with the values of a user TOML file laid over them.

        The file holds only what it changes, at the top level or grouped in tables (``[power]``,
        ``[costs]``, ... : table names only group keys). Unknown keys, wrong types and negative
        values are reported together, with the closest known names.

        Raises
        ------
        DataError
            The file is missing or is not valid TOML.
        SchemaError, UnitsError
            Unknown keys or wrong types (SchemaError), out-of-range values (UnitsError).
        """
        path_s = os.fspath(path)
        if not Path(path_s).is_file():
            raise DataError(f"cost parameter file not found: {path_s}. Check the path.")
        try:
            with open(path_s, "rb") as fh:
                data = tomllib.load(fh)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise DataError(
                f"cost parameter file {path_s} is not valid TOML ({exc}). Write money as whole "
                "numbers (tower_72m_idr = 1_700_000_000) and fractions as decimals (0.10)."
            ) from exc
        return cls.default().updated(data, what=f"cost parameter file {path_s}")

    def replace(self, **changes: Any) -> CostParameters:
        """A copy with some values changed; see :meth:`updated`."""
        return self.updated(changes, what="CostParameters.replace()")

    def updated(
        self, mapping: Mapping[str, Any], *, what: str = "CostParameters.updated()"
    ) -> CostParameters:
        """A copy with the values of ``mapping`` laid over these.

        ``mapping`` is flat (``{"road_idr_per_km": ...}``) or grouped one level deep, as a TOML
        file is (``{"power": {"offgrid_solar_idr": ...}}``). Every problem (unknown keys, with
        close-match suggestions; wrong types; negative values) is reported at once.
        """
        problems = Problems()
        flat = _flatten(mapping, problems)
        known = {f.name for f in fields(self)}
        for key in sorted(set(flat) - known):
            close = difflib.get_close_matches(key, sorted(known), n=3, cutoff=0.6)
            hint = (
                f"did you mean {listing(map(repr, close))}?"
                if close
                else ("see CostParameters.describe() for the names.")
            )
            at = f" ({flat[key][1]})" if flat[key][1] else ""
            problems.add(f"unknown cost parameter {key!r}{at}; {hint}")
        merged = {f.name: getattr(self, f.name) for f in fields(self)}
        merged.update({k: v for k, (v, _) in flat.items() if k in known})
        values = _check_values(merged, problems, where={k: w for k, (_, w) in flat.items()})
        problems.raise_if_any(what)
        return type(self)(**values)

    # --- introspection -----------------------------------------------------------------------
    def as_dict(self) -> dict[str, Any]:
        """Every value by name."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def tag(self, name: str) -> str:
        """The planning-parameters tag of a value, or ``"U"`` when it differs from the default."""
        f = _FIELDS.get(name)
        if f is None:
            raise SchemaError(f"no cost parameter {name!r}; see CostParameters.describe().")
        return "U" if getattr(self, name) != f.default else str(f.metadata["tag"])

    def is_estimate(self, name: str) -> bool:
        """True when a value is a default tagged [E] (or [S/E], [E/S]): label it *perkiraan*."""
        return "E" in self.tag(name)

    def describe(self) -> pd.DataFrame:
        """One row per parameter: ``name``, ``value``, ``default``, ``tag``, ``source``, ``user_set``."""
        rows = [
            {
                "name": f.name,
                "value": getattr(self, f.name),
                "default": f.default,
                "tag": self.tag(f.name),
                "source": f.metadata["source"],
                "user_set": getattr(self, f.name) != f.default,
            }
            for f in fields(self)
        ]
        return pd.DataFrame(rows).set_index("name")

    def tower_idr(self, height_m: int) -> int:
        """The price of the menu tower ``height_m`` (one of :data:`TOWER_MENU_M`)."""
        if height_m not in TOWER_MENU_M:
            raise UnitsError(
                f"no tower of {height_m!r} m on the menu {TOWER_MENU_M}; use a menu height."
            )
        return int(getattr(self, f"tower_{height_m}m_idr"))

    def annuity_factor(self) -> float:
        """Sum over t = 1..T of (1 + r)**-t: 7.7217 at r = 5 %, T = 10."""
        r, n = self.discount_rate_per_year, self.npv_horizon_years
        return float(n) if r == 0 else float((1.0 - (1.0 + r) ** -n) / r)


_FIELDS = {f.name: f for f in fields(CostParameters)}


def _kind(f: Field[Any]) -> str:
    name = f.name
    if isinstance(f.default, bool):
        return "bool"
    if name.endswith(("_idr", "_idr_per_km", "_idr_per_year")) or name == "npv_horizon_years":
        return "int"
    return "float"


def _flatten(mapping: Mapping[str, Any], problems: Problems) -> dict[str, tuple[Any, str]]:
    """``{name: (value, where)}`` from a flat or one-level grouped mapping."""
    if not isinstance(mapping, Mapping):
        problems.add(
            f"expected a mapping of parameter names to values; received {type(mapping).__name__}."
        )
        return {}
    flat: dict[str, tuple[Any, str]] = {}
    for key, value in mapping.items():
        if isinstance(value, Mapping):
            for sub, v in value.items():
                where = f"in [{key}]"
                if isinstance(v, Mapping):
                    problems.add(
                        f"[{key}.{sub}] is nested two levels deep; put parameters at the top "
                        "level or in one table such as [power]."
                    )
                elif sub in flat:
                    problems.add(
                        f"{sub!r} is given twice ({flat[sub][1] or 'at the top level'} and "
                        f"{where}); keep one."
                    )
                else:
                    flat[str(sub)] = (v, where)
        elif key in flat:
            problems.add(f"{key!r} is given twice ({flat[key][1]} and at the top level); keep one.")
        else:
            flat[str(key)] = (value, "")
    return flat


def _check_values(
    values: Mapping[str, Any], problems: Problems, where: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Check type and range of every known value; return them normalised (int, float, bool)."""
    where = where or {}
    out: dict[str, Any] = {}
    for name, value in values.items():
        f = _FIELDS.get(name)
        if f is None:
            continue
        at = f" ({where[name]})" if where.get(name) else ""
        kind = _kind(f)
        if kind == "bool":
            if isinstance(value, (bool, np.bool_)):
                out[name] = bool(value)
            else:
                problems.add(
                    f"{name}{at} must be true or false; received {value!r} "
                    f"({type(value).__name__})."
                )
            continue
        if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)
        ):
            want = "a whole number" if kind == "int" else "a number"
            problems.add(f"{name}{at} must be {want}; received {value!r} ({type(value).__name__}).")
            continue
        if kind == "int":
            if not isinstance(value, (int, np.integer)):
                whole = isinstance(value, float) and math.isfinite(value) and value == int(value)
                hint = f"; write {int(value):_}" if whole else ""
                unit = "whole Rupiah" if "_idr" in name else "a whole number"
                problems.add(
                    f"{name}{at} must be {unit} (an integer, never a float); received "
                    f"{value!r}{hint}."
                )
                continue
            value = int(value)
        else:
            value = float(value)
            if not math.isfinite(value):
                problems.add(f"{name}{at} must be a finite number; received {value!r}.")
                continue
        if name == "k_factor" and value <= 0:
            problems.add(
                f"k_factor{at} must be > 0 (1.51 for Paser, 4/3 standard); received {value!r}.",
                UnitsError,
            )
            continue
        if value < 0:
            unit = " Rupiah" if "_idr" in name else " metres" if name.endswith("_m") else ""
            problems.add(
                f"{name}{at} must be >= 0{unit}; received {value!r}. Costs, distances and "
                "rates are never negative.",
                UnitsError,
            )
            continue
        out[name] = value
    return out


@functools.lru_cache(maxsize=1)
def _packaged_defaults() -> CostParameters:
    text = resources.files("blankspot.data").joinpath("cost_defaults.toml").read_text("utf-8")
    data = tomllib.loads(text)
    return CostParameters().updated(data, what="packaged cost_defaults.toml")


def _round_half_up(x: npt.ArrayLike) -> np.ndarray:
    """Whole Rupiah, halves rounded up: floor(x + 0.5) as int64 (x >= 0)."""
    return np.floor(np.asarray(x, dtype=np.float64) + 0.5).astype(np.int64)


# --- line of sight for microwave hops -------------------------------------------------------------
def hop_is_clear(
    terrain: Terrain,
    start_xy: tuple[float, float],
    start_height_agl_m: float,
    end_xy: tuple[float, float],
    end_height_agl_m: float,
    *,
    k_factor: float = 1.51,
) -> bool:
    """Whether the straight line between two antennas clears the terrain (geometric line of sight).

    The terrain is sampled every cell length along the hop (nearest cell), raised by the earth
    bulge ``d1 * d2 / (2 a_e)`` with ``a_e = k_factor * 6371 km``, and compared with the line
    between the antenna tops (ground + height). Nodata samples neither block nor clear, as in the
    LOS viewshed. A hop that leaves the terrain, or whose ends stand on nodata, cannot be checked
    and is reported as not clear. Fresnel-zone clearance is not checked.

    Parameters
    ----------
    terrain
        A :class:`blankspot.terrain.Terrain`; coordinates are in its CRS (metres).
    start_xy, end_xy
        Map coordinates of the two antennas.
    start_height_agl_m, end_height_agl_m
        Antenna heights above ground, metres.
    k_factor
        Effective earth radius factor.

    Examples
    --------
    >>> from blankspot.testing import make_terrain, cell_centre
    >>> t = make_terrain("knife_edge")     # 100 m plain, a 200 m wall at column 40
    >>> a, b = cell_centre(t, 32, 10), cell_centre(t, 32, 60)
    >>> hop_is_clear(t, a, 42.0, b, 42.0), hop_is_clear(t, a, 120.0, b, 120.0)
    (False, True)
    """
    a_e = effective_earth_radius_m(k_factor)
    (x0, y0), (x1, y1) = start_xy, end_xy
    z0, z1 = terrain.elevation_at([x0, x1], [y0, y1])
    if not (np.isfinite(z0) and np.isfinite(z1)):
        return False
    d = math.hypot(x1 - x0, y1 - y0)
    n = math.ceil(d / terrain.res_m)
    if n < 2:
        return True
    t = np.arange(1, n) / n
    xs, ys = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
    if not bool(np.all(terrain.contains(xs, ys))):
        return False
    ground = terrain.elevation_at(xs, ys)
    d1 = t * d
    bulge = d1 * (d - d1) / (2.0 * a_e)
    line = (z0 + start_height_agl_m) + t * ((z1 + end_height_agl_m) - (z0 + start_height_agl_m))
    ok = np.isfinite(ground)
    return bool(np.all(ground[ok] + bulge[ok] <= line[ok]))


# --- the model -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CostModel:
    """Per-site costs from :class:`CostParameters`: :meth:`site_costs` (geo) or :meth:`cost_table`.

    Examples
    --------
    >>> from blankspot.io import sites_frame
    >>> sites = sites_frame(["a"], [500_000.0], [9_790_000.0], 72.0, crs="EPSG:32750")
    >>> costs = CostModel().site_costs(sites, road_distance_m=0.0, grid_distance_m=0.0)
    >>> int(costs.loc["a", "capex_idr"])          # the Paser 2022 SSH
    1700000000
    """

    params: CostParameters = field(default_factory=CostParameters.default)

    @property
    def npv_column(self) -> str:
        """Name of the NPV column, ``npv_10y_idr`` for the default 10-year horizon."""
        return f"npv_{self.params.npv_horizon_years}y_idr"

    # --- geo adapter -----------------------------------------------------------------------
    def site_costs(
        self,
        sites: gpd.GeoDataFrame,
        *,
        road_distance_m: PerSite | None = None,
        grid_distance_m: PerSite | None = None,
        backhaul_distance_m: PerSite | None = None,
        roads: gpd.GeoDataFrame | None = None,
        grid: gpd.GeoDataFrame | None = None,
        backhaul_points: gpd.GeoDataFrame | None = None,
        existing_towers: gpd.GeoDataFrame | None = None,
        terrain: Terrain | None = None,
        line_of_sight: Callable[..., bool] | None = None,
        include_opex: bool = False,
    ) -> pd.DataFrame:
        """Cost every site, with distances given or measured from layers.

        Each distance comes from the explicit values if given, else from its layer, else from
        the ``default_*_distance_m`` parameter (and the ``*_distance_default`` flag is set). All
        layers must be in the sites' CRS (projected, metres); nothing is reprojected.

        Parameters
        ----------
        sites
            The sites schema (:mod:`blankspot.io.vectors`): index ``site_id``, ``height_agl_m``.
        road_distance_m, grid_distance_m, backhaul_distance_m
            Metres from each site to the nearest road, 20 kV line and backhaul point: one value
            for all, one per site in order, or a Series indexed by ``site_id``.
        roads, grid
            Line layers (LineString/MultiLineString) of roads and the PLN 20 kV network.
        backhaul_points
            Points where backhaul is handed over (fibre points of presence, operator hubs):
            fibre runs to the nearest; a microwave hop may end at any of them.
        existing_towers
            Points of existing towers a microwave hop may end at (not fibre points). A
            ``height_agl_m`` column, where present, gives the hub antenna height.
        terrain
            A :class:`blankspot.terrain.Terrain` to check microwave hops on (:func:`hop_is_clear`
            from the top of the site's menu tower). Then only hubs of the layers count for
            microwave, and ``backhaul_distance_m`` is a fibre length only. Without terrain (or
            ``line_of_sight``) every hop within range, including one over the backhaul distance,
            is assumed clear.
        line_of_sight
            ``f(start_xy, start_height_agl_m, end_xy, end_height_agl_m) -> bool`` replacing the
            terrain check.
        include_opex
            Add ``opex_idr_per_year`` and the NPV column (:attr:`npv_column`).

        Returns
        -------
        pandas.DataFrame
            Indexed by ``site_id``: ``tower_idr``, ``land_idr``, ``road_idr``, ``power_idr``,
            ``backhaul_idr``, ``equipment_idr``, ``contingency_idr``, ``capex_idr`` (their sum),
            [``opex_idr_per_year``, ``npv_10y_idr``] (all int64); ``tower_height_m`` (menu
            height), ``tower_type``, ``power_option`` (``pln`` / ``off_grid_solar``),
            ``backhaul_option`` (``microwave`` / ``fibre`` / ``vsat``); ``road_distance_m``,
            ``grid_distance_m``, ``backhaul_distance_m``, ``microwave_hop_m`` (NaN unless
            microwave); the bool flags ``road_distance_default``, ``grid_distance_default``,
            ``backhaul_distance_default``; ``estimated_components`` (comma-separated names of
            the components resting on an [E] default or a default distance).

        Raises
        ------
        CRSError
            Sites not in a metric CRS, or a layer or the terrain in another CRS.
        SchemaError
            Every other input problem at once: both distances and a layer for the same thing,
            wrong lengths, wrong geometry types, empty layers.
        UnitsError
            Negative or non-finite distances (listed with the problems above); heights above
            the tallest menu tower (72 m).
        InputError
            Sites without a height (listed with the height problems).
        """
        sites = validate_sites(sites)
        crs = require_metric(sites.crs, "sites")
        ids = sites.index
        pts = sites.geometry.to_numpy()
        problems = Problems()
        dist: dict[str, np.ndarray | None] = {}
        for name, explicit, layer, layer_name, types in (
            ("road", road_distance_m, roads, "roads", _LINES),
            ("grid", grid_distance_m, grid, "grid", _LINES),
            ("backhaul", backhaul_distance_m, backhaul_points, "backhaul_points", _POINTS),
        ):
            arg = f"{name}_distance_m"
            values = _distance_values(explicit, arg, ids, problems)
            geoms = _layer_geoms(layer, layer_name, crs, types, problems)
            if explicit is not None and layer is not None:
                problems.add(
                    f"both {arg}= and {layer_name}= were given; pass one, so it is clear "
                    "which distance is used."
                )
            dist[name] = (
                values
                if values is not None
                else (_nearest_m(pts, geoms) if geoms is not None else None)
            )
        towers = _layer_geoms(existing_towers, "existing_towers", crs, _POINTS, problems)
        if terrain is not None:
            terrain_crs = as_crs(terrain.crs)
            if terrain_crs != crs:
                problems.add(
                    f"the terrain is in {terrain_crs.to_string()} but the sites are in "
                    f"{crs.to_string()}; nothing is reprojected here. Read both with "
                    "blankspot.io using the same crs=, or call sites.to_crs() first.",
                    CRSError,
                )
        problems.raise_if_any("CostModel.site_costs()")
        heights = sites["height_agl_m"].to_numpy(dtype=float)
        tower_m = _menu_heights(heights, ids)

        p = self.params
        flags: dict[str, bool] = {}
        dist_m: dict[str, np.ndarray] = {}
        for name in ("road", "grid", "backhaul"):
            given = dist[name]
            flags[name] = given is None
            dist_m[name] = (
                given
                if given is not None
                else np.full(len(ids), getattr(p, f"default_{name}_distance_m"))
            )

        # microwave hubs: backhaul points and existing towers, with antenna heights
        hub_geoms: list[np.ndarray] = []
        hub_heights: list[np.ndarray] = []
        for layer, geoms in (
            (backhaul_points, _as_points(backhaul_points)),
            (existing_towers, towers),
        ):
            if geoms is None:
                continue
            hub_geoms.append(geoms)
            hub_heights.append(_hub_heights(layer, len(geoms), p.hub_height_agl_m))
        check = line_of_sight
        if check is None and terrain is not None:
            check = functools.partial(hop_is_clear, terrain, k_factor=p.k_factor)
        hop = np.full(len(ids), np.nan)
        if hub_geoms:
            hop = _clear_hop_m(
                pts,
                tower_m,
                np.concatenate(hub_geoms),
                np.concatenate(hub_heights),
                p.microwave_max_hop_m,
                check,
            )
        if check is None:  # no terrain: a hop to the nearest backhaul point is assumed clear
            hop = np.fmin(hop, dist_m["backhaul"])
        return self._compute(
            ids,
            tower_m,
            dist_m["road"],
            dist_m["grid"],
            dist_m["backhaul"],
            hop,
            flags=flags,
            assumed_clear=check is None,
            include_opex=include_opex,
        )

    def fill_costs(self, sites: gpd.GeoDataFrame, **kwargs: Any) -> gpd.GeoDataFrame:
        """A copy of ``sites`` whose missing ``cost_idr`` are filled with ``capex_idr``.

        Costs already given on a site are kept. ``kwargs`` go to :meth:`site_costs`.
        """
        capex = self.site_costs(sites, **kwargs)["capex_idr"]
        out = sites.copy()
        given = out["cost_idr"].astype("Int64")
        filled = pd.Series(capex.to_numpy(), index=out.index, dtype="Int64")
        out["cost_idr"] = given.fillna(filled).astype("Int64")
        return out

    # --- pure core -------------------------------------------------------------------------
    def cost_table(
        self,
        site_ids: Iterable[Hashable] | npt.ArrayLike,
        height_agl_m: PerSite,
        *,
        road_distance_m: PerSite,
        grid_distance_m: PerSite,
        backhaul_distance_m: PerSite,
        microwave_hop_m: npt.ArrayLike | None = None,
        include_opex: bool = False,
    ) -> pd.DataFrame:
        """Costs from arrays alone (no geometry): the core of :meth:`site_costs`.

        Parameters
        ----------
        site_ids
            Identifiers, one per site (the index of the result).
        height_agl_m
            Antenna heights, metres (one value for all, or one per site).
        road_distance_m, grid_distance_m, backhaul_distance_m
            Metres to the nearest road, 20 kV line and backhaul point (scalar or one per site).
        microwave_hop_m
            Length of the shortest clear microwave hop per site, NaN where none is known. None:
            a hop to the backhaul point is assumed clear (as :meth:`site_costs` without terrain).
        include_opex
            Add ``opex_idr_per_year`` and the NPV column.

        Returns
        -------
        pandas.DataFrame
            As :meth:`site_costs`, with every ``*_distance_default`` flag False.
        """
        ids = pd.Index(
            np.atleast_1d(np.asarray(site_ids, dtype=object)).astype(str), name="site_id"
        )
        problems = Problems()
        arrays: dict[str, np.ndarray] = {}
        for arg, value in (
            ("height_agl_m", height_agl_m),
            ("road_distance_m", road_distance_m),
            ("grid_distance_m", grid_distance_m),
            ("backhaul_distance_m", backhaul_distance_m),
        ):
            if value is None:
                problems.add(
                    f"{arg} is required: one value for all sites or one per site, in metres; "
                    "received None."
                )
                continue
            checked = _distance_values(value, arg, ids, problems)
            if checked is not None:
                arrays[arg] = checked
        hop = None
        if microwave_hop_m is not None:
            hop = np.broadcast_to(np.asarray(microwave_hop_m, dtype=float), (len(ids),)).copy()
            if np.any(hop[np.isfinite(hop)] < 0):
                problems.add("microwave_hop_m must be >= 0 metres or NaN (no clear hop).")
        problems.raise_if_any("CostModel.cost_table()")
        tower_m = _menu_heights(arrays["height_agl_m"], ids)
        backhaul = arrays["backhaul_distance_m"]
        return self._compute(
            ids,
            tower_m,
            arrays["road_distance_m"],
            arrays["grid_distance_m"],
            backhaul,
            backhaul if hop is None else hop,
            flags={"road": False, "grid": False, "backhaul": False},
            assumed_clear=hop is None,
            include_opex=include_opex,
        )

    def _compute(
        self,
        ids: pd.Index,
        tower_m: np.ndarray,
        road_m: np.ndarray,
        grid_m: np.ndarray,
        backhaul_m: np.ndarray,
        hop_m: np.ndarray,
        *,
        flags: Mapping[str, bool],
        assumed_clear: bool,
        include_opex: bool,
    ) -> pd.DataFrame:
        p = self.params
        n = len(ids)
        menu = np.asarray(TOWER_MENU_M)
        tower_prices = np.asarray([p.tower_idr(h) for h in TOWER_MENU_M], dtype=np.int64)
        slot = np.searchsorted(menu, tower_m)
        tower = tower_prices[slot]
        land = np.full(n, p.land_idr, dtype=np.int64)
        road = _round_half_up(p.road_idr_per_km * road_m / 1000.0)

        mv_m = np.maximum(0.0, grid_m - p.mv_free_distance_m)
        connection = 0 if p.pln_connection_in_tower_price else p.pln_connection_idr
        grid_cost = connection + _round_half_up(p.mv_line_idr_per_km * mv_m / 1000.0)
        use_grid = (grid_m <= p.max_grid_distance_m) & (grid_cost <= p.offgrid_solar_idr)
        power = np.where(use_grid, grid_cost, np.int64(p.offgrid_solar_idr)).astype(np.int64)

        fibre_cost = _round_half_up(p.fibre_idr_per_km * backhaul_m / 1000.0)
        mw_ok = np.isfinite(hop_m) & (hop_m <= p.microwave_max_hop_m)
        mw_wins = mw_ok & (p.microwave_link_idr <= fibre_cost)
        fibre_wins = ~mw_wins & (
            (mw_ok & (fibre_cost < p.microwave_link_idr))
            | (~mw_ok & (fibre_cost <= p.vsat_terminal_idr))
        )
        backhaul_option = np.where(mw_wins, "microwave", np.where(fibre_wins, "fibre", "vsat"))
        backhaul_cost = np.where(
            mw_wins,
            np.int64(p.microwave_link_idr),
            np.where(fibre_wins, fibre_cost, np.int64(p.vsat_terminal_idr)),
        ).astype(np.int64)
        backhaul = backhaul_cost if p.include_backhaul else np.zeros(n, dtype=np.int64)
        equipment = np.full(n, p.ran_equipment_idr if p.include_equipment else 0, dtype=np.int64)

        subtotal = tower + land + road + power + backhaul + equipment
        contingency = _round_half_up(subtotal * p.contingency_fraction)
        capex = subtotal + contingency

        frame = pd.DataFrame(
            {
                "tower_idr": tower,
                "land_idr": land,
                "road_idr": road,
                "power_idr": power,
                "backhaul_idr": backhaul,
                "equipment_idr": equipment,
                "contingency_idr": contingency,
                "capex_idr": capex,
            },
            index=pd.Index(np.asarray(ids, dtype=object), name="site_id"),
        )
        if include_opex:
            energy = np.where(use_grid, p.pln_energy_idr_per_year, p.offgrid_energy_idr_per_year)
            opex = (
                energy.astype(np.int64)
                + _round_half_up(capex * p.maintenance_fraction_per_year)
                + (p.backhaul_lease_idr_per_year if p.include_backhaul else 0)
                + p.site_rent_idr_per_year
            ).astype(np.int64)
            frame["opex_idr_per_year"] = opex
            frame[self.npv_column] = capex + _round_half_up(opex * p.annuity_factor())
        frame["tower_height_m"] = tower_m.astype(float)
        frame["tower_type"] = [_TOWER_TYPES[int(h)] for h in tower_m]
        frame["power_option"] = np.where(use_grid, "pln", "off_grid_solar")
        frame["backhaul_option"] = backhaul_option
        frame["road_distance_m"] = road_m.astype(float)
        frame["grid_distance_m"] = grid_m.astype(float)
        frame["backhaul_distance_m"] = backhaul_m.astype(float)
        frame["microwave_hop_m"] = np.where(mw_wins, hop_m, np.nan)
        for name in ("road", "grid", "backhaul"):
            frame[f"{name}_distance_default"] = np.full(n, bool(flags[name]))
        frame["estimated_components"] = self._estimates(
            tower_m, road_m, mv_m, use_grid, backhaul_option, flags, assumed_clear, include_opex
        )
        for col in frame.columns:
            if col.endswith(("_idr", "_idr_per_year")):
                frame[col] = frame[col].astype(np.int64)
        for col in ("tower_type", "power_option", "backhaul_option", "estimated_components"):
            frame[col] = frame[col].astype(object)
        frame.attrs["cost_parameters"] = p.as_dict()
        return frame

    def _estimates(
        self,
        tower_m: np.ndarray,
        road_m: np.ndarray,
        mv_m: np.ndarray,
        use_grid: np.ndarray,
        backhaul_option: np.ndarray,
        flags: Mapping[str, bool],
        assumed_clear: bool,
        include_opex: bool,
    ) -> list[str]:
        """Per site, the components resting on an [E] default or on a default distance."""
        p = self.params
        est = p.is_estimate
        out = []
        for i, h in enumerate(tower_m):
            names = []
            if est(f"tower_{int(h)}m_idr"):
                names.append("tower")
            if est("land_idr"):
                names.append("land")
            if flags["road"] or (road_m[i] > 0 and est("road_idr_per_km")):
                names.append("road")
            if use_grid[i]:
                power_est = (
                    flags["grid"]
                    or est("pln_connection_in_tower_price")
                    or (not p.pln_connection_in_tower_price and est("pln_connection_idr"))
                    or (mv_m[i] > 0 and est("mv_line_idr_per_km"))
                )
            else:
                power_est = flags["grid"] or est("offgrid_solar_idr")
            if power_est:
                names.append("power")
            if p.include_backhaul:
                option = backhaul_option[i]
                bh_est = (
                    flags["backhaul"]
                    or {
                        "microwave": est("microwave_link_idr")
                        or (assumed_clear and est("microwave_max_hop_m")),
                        "fibre": est("fibre_idr_per_km"),
                        "vsat": est("vsat_terminal_idr"),
                    }[option]
                )
                if bh_est:
                    names.append("backhaul")
            if p.include_equipment and est("ran_equipment_idr"):
                names.append("equipment")
            if est("contingency_fraction"):
                names.append("contingency")
            if names:
                names.append("capex")
            if include_opex:
                energy = "pln_energy_idr_per_year" if use_grid[i] else "offgrid_energy_idr_per_year"
                opex_est = (
                    bool(names)
                    or est(energy)
                    or est("maintenance_fraction_per_year")
                    or (est("site_rent_idr_per_year"))
                    or (p.include_backhaul and est("backhaul_lease_idr_per_year"))
                )
                if opex_est:
                    names.append("opex")
                if opex_est or est("discount_rate_per_year") or est("npv_horizon_years"):
                    names.append("npv")
            out.append(",".join(names))
        return out


# --- input helpers ----------------------------------------------------------------------------
_LINES = ("LineString", "MultiLineString")
_POINTS = ("Point",)


def _distance_values(
    value: PerSite | None, arg: str, ids: pd.Index, problems: Problems
) -> np.ndarray | None:
    """Explicit per-site values (scalar, sequence or Series on site_id) as float64, checked."""
    if value is None:
        return None
    n = len(ids)
    if isinstance(value, pd.Series):
        series = value.copy()
        series.index = series.index.astype(str)
        missing = [i for i in ids if i not in series.index]
        if missing:
            problems.add(
                f"{arg} is a Series without values for {len(missing)} site(s): "
                f"{listing(map(repr, missing))}; index it by site_id with one value per site."
            )
            return None
        raw: PerSite = series.loc[list(ids)]
    else:
        raw = value
    try:
        arr = np.asarray(raw, dtype=float)
    except (TypeError, ValueError):
        problems.add(f"{arg} must be numbers (metres); received {type(value).__name__}.")
        return None
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.ndim != 1 or len(arr) != n:
        problems.add(
            f"{arg} has shape {arr.shape} but there are {n} sites; give one value for all or "
            "one per site, in the order of the sites."
        )
        return None
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        offenders = [f"{s!r} ({v:g})" for s, v in zip(ids[bad], arr[bad], strict=True)]
        problems.add(
            f"{arg} must be finite and >= 0 metres; {bad.sum()} site(s) are not: "
            f"{listing(offenders)}.",
            UnitsError,
        )
        return None
    return arr


def _layer_geoms(
    layer: Layer | None, name: str, crs: CRS, types: tuple[str, ...], problems: Problems
) -> np.ndarray | None:
    """The usable geometries of a layer (nulls and empties dropped), checked; None if absent."""
    if layer is None:
        return None
    if not isinstance(layer, (gpd.GeoDataFrame, gpd.GeoSeries)):
        problems.add(f"{name}= must be a GeoDataFrame; received {type(layer).__name__}.")
        return None
    if layer.crs is None:
        problems.add(
            f"the {name} layer has no CRS; read it with blankspot.io or set its CRS to the "
            f"sites' {crs.to_string()}.",
            CRSError,
        )
        return None
    if as_crs(layer.crs) != crs:
        problems.add(
            f"the {name} layer is in {as_crs(layer.crs).to_string()} but the sites are in "
            f"{crs.to_string()}; nothing is reprojected here. Call {name}.to_crs(sites.crs) "
            "first.",
            CRSError,
        )
        return None
    everything = np.asarray(layer.geometry if isinstance(layer, gpd.GeoDataFrame) else layer)
    geoms: np.ndarray = everything[~(shapely.is_missing(everything) | shapely.is_empty(everything))]
    if len(geoms) == 0:
        problems.add(f"the {name} layer has no geometries; pass None instead of an empty layer.")
        return None
    kinds = np.asarray(shapely.get_type_id(geoms))
    allowed = [shapely.GeometryType[t.upper()].value for t in types]
    wrong = ~np.isin(kinds, allowed)
    if wrong.any():
        found = sorted({shapely.GeometryType(int(k)).name.title() for k in kinds[wrong]})
        problems.add(
            f"the {name} layer must hold {' or '.join(types)} geometries; {wrong.sum()} are "
            f"{', '.join(found)}."
        )
        return None
    return geoms


def _as_points(layer: Layer | None) -> np.ndarray | None:
    """Usable point geometries of an already checked layer (or None)."""
    if layer is None:
        return None
    geoms = np.asarray(layer.geometry if isinstance(layer, gpd.GeoDataFrame) else layer)
    usable: np.ndarray = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    return usable


def _hub_heights(layer: Layer | None, n: int, default_m: float) -> np.ndarray:
    if isinstance(layer, gpd.GeoDataFrame) and "height_agl_m" in layer.columns:
        geoms = np.asarray(layer.geometry)
        keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        h = pd.to_numeric(layer["height_agl_m"], errors="coerce").to_numpy(dtype=float)[keep]
        return np.where(np.isfinite(h) & (h >= 0), h, default_m)
    return np.full(n, default_m)


def _nearest_m(points: np.ndarray, geoms: np.ndarray) -> np.ndarray:
    """Distance from each point to the nearest geometry (metres, via an STRtree)."""
    tree = shapely.STRtree(geoms)
    (src, _), dist = tree.query_nearest(points, return_distance=True, all_matches=False)
    out = np.full(len(points), np.inf)
    out[src] = dist
    return out


def _clear_hop_m(
    points: np.ndarray,
    tower_m: np.ndarray,
    hubs: np.ndarray,
    hub_h: np.ndarray,
    max_hop_m: float,
    check: Callable[..., bool] | None,
) -> np.ndarray:
    """Per site, the length of the shortest hop to a hub within range that is clear (NaN: none)."""
    out = np.full(len(points), np.nan)
    if max_hop_m <= 0:
        return out
    tree = shapely.STRtree(hubs)
    src, dst = tree.query(points, predicate="dwithin", distance=max_hop_m)
    if len(src) == 0:
        return out
    d = shapely.distance(points[src], hubs[dst])
    order = np.lexsort((d, src))
    for k in order:
        i, j = int(src[k]), int(dst[k])
        if np.isfinite(out[i]):
            continue
        if check is None or check(
            (points[i].x, points[i].y), float(tower_m[i]), (hubs[j].x, hubs[j].y), float(hub_h[j])
        ):
            out[i] = d[k]
    return out


def _menu_heights(heights: npt.ArrayLike, ids: pd.Index) -> np.ndarray:
    """The lowest menu tower at least as tall as each antenna; every problem raised at once."""
    heights = np.asarray(heights, dtype=float)
    top = TOWER_MENU_M[-1]
    problems = Problems()
    missing = ~np.isfinite(heights)
    if missing.any():
        problems.add(
            f"{missing.sum()} site(s) have no height_agl_m: {listing(map(repr, np.asarray(ids)[missing]))}. "
            "Give every site an antenna height in metres above ground.",
            InputError,
        )
    above = np.isfinite(heights) & (heights > top)
    if above.any():
        offenders = [
            f"{s!r} ({h:g} m)" for s, h in zip(np.asarray(ids)[above], heights[above], strict=True)
        ]
        problems.add(
            f"{above.sum()} site(s) are taller than the tallest tower on the menu "
            f"{TOWER_MENU_M} m: {listing(offenders)}. No price above {top} m is known; lower "
            f"those heights to at most {top} m or cost those sites yourself.",
            UnitsError,
        )
    problems.raise_if_any("tower heights")
    menu = np.asarray(TOWER_MENU_M, dtype=float)
    return menu[np.searchsorted(menu, heights)]


# --- planner table ----------------------------------------------------------------------------
_LABELS = {
    "en": {
        "tower": "Tower",
        "land": "Land",
        "road": "Access road",
        "power": "Power supply",
        "backhaul": "Backhaul",
        "equipment": "Active equipment (RAN)",
        "contingency": "Contingency",
        "capex": "Capital cost (total)",
        "opex": "Operating cost per year",
        "npv": "Net present cost, {n} years",
    },
    "id": {
        "tower": "Menara",
        "land": "Lahan",
        "road": "Jalan akses",
        "power": "Catu daya",
        "backhaul": "Transmisi (backhaul)",
        "equipment": "Perangkat aktif (RAN)",
        "contingency": "Biaya tak terduga",
        "capex": "Biaya investasi (total)",
        "opex": "Biaya operasional per tahun",
        "npv": "Nilai sekarang biaya, {n} tahun",
    },
}
_COLUMNS = {
    "en": ("site_id", "component", "item", "basis", "amount_idr", "amount", "estimate", "note"),
    "id": (
        "id_kandidat",
        "komponen",
        "uraian",
        "dasar",
        "jumlah_rp",
        "jumlah",
        "perkiraan",
        "keterangan",
    ),
}
_TOWER_NAMES = {
    "en": {
        "small_mast": "small mast",
        "sst": "self-supporting tower",
        "sst_four_leg": "self-supporting tower, four legs",
    },
    "id": {
        "small_mast": "tiang kecil",
        "sst": "menara SST",
        "sst_four_leg": "menara SST kaki empat",
    },
}
_OPTION_NAMES = {
    "en": {
        "pln": "PLN grid",
        "off_grid_solar": "off-grid solar + battery",
        "microwave": "microwave",
        "fibre": "fibre",
        "vsat": "VSAT",
    },
    "id": {
        "pln": "jaringan PLN",
        "off_grid_solar": "tenaga surya off-grid + baterai",
        "microwave": "gelombang mikro",
        "fibre": "serat optik",
        "vsat": "VSAT",
    },
}
PERKIRAAN = "perkiraan"
"""The label of estimated figures in every output (planning parameters: tag [E])."""


def breakdown_table(costs_frame: pd.DataFrame, *, lang: str = "en") -> pd.DataFrame:
    """A tidy cost table for planners: one row per site and component, in English or Indonesian.

    Parameters
    ----------
    costs_frame
        The result of :meth:`CostModel.site_costs` or :meth:`CostModel.cost_table`.
    lang
        ``"en"`` or ``"id"`` (column names and labels).

    Returns
    -------
    pandas.DataFrame
        Columns (en / id): ``site_id`` / ``id_kandidat``; ``component`` / ``komponen`` (the code:
        tower, land, ..., capex, opex, npv); ``item`` / ``uraian`` (label); ``basis`` /
        ``dasar`` (what the figure rests on: tower height, distances, option); ``amount_idr`` /
        ``jumlah_rp`` (int64 Rupiah); ``amount`` / ``jumlah`` (``"Rp 1.700.000.000"``, followed
        by ``"(perkiraan)"`` on estimates: for reports only); ``estimate`` / ``perkiraan``
        (bool); ``note`` / ``keterangan`` (``"perkiraan"`` on estimates).

    Examples
    --------
    >>> table = breakdown_table(CostModel().cost_table(["a"], 72.0, road_distance_m=600.0,
    ...     grid_distance_m=660.0, backhaul_distance_m=5_000.0), lang="id")
    >>> table.set_index("komponen").loc["capex", "jumlah"]
    'Rp 2.080.000.000 (perkiraan)'
    """
    if lang not in _LABELS:
        raise SchemaError(f"lang must be 'en' or 'id'; received {lang!r}.")
    needed = [f"{c}_idr" for c in COMPONENTS] + [
        "capex_idr",
        "tower_height_m",
        "tower_type",
        "power_option",
        "backhaul_option",
    ]
    missing = [c for c in needed if c not in costs_frame.columns]
    if missing:
        raise SchemaError(
            f"costs_frame lacks column(s) {listing(map(repr, missing))}; pass the frame "
            "returned by CostModel.site_costs() or CostModel.cost_table()."
        )
    labels, names = _LABELS[lang], _OPTION_NAMES[lang]
    params = costs_frame.attrs.get("cost_parameters", {})
    npv_cols = [c for c in costs_frame.columns if c.startswith("npv_") and c.endswith("y_idr")]
    has_opex = "opex_idr_per_year" in costs_frame.columns
    components = (
        list(COMPONENTS)
        + ["capex"]
        + (["opex"] if has_opex else [])
        + (["npv"] if npv_cols else [])
    )
    rows = []
    for site_id, r in costs_frame.iterrows():
        estimated = set(str(r.get("estimated_components", "")).split(",")) - {""}
        for comp in components:
            if comp == "opex":
                amount = int(r["opex_idr_per_year"])
            elif comp == "npv":
                amount = int(r[npv_cols[0]])
            else:
                amount = int(r[f"{comp}_idr"])
            is_est = comp in estimated
            item = labels[comp].format(n=npv_cols[0][4:-5] if npv_cols else "")
            rows.append(
                (
                    site_id,
                    comp,
                    item,
                    _basis(comp, r, lang, names, params),
                    amount,
                    format_idr(amount) + (f" ({PERKIRAAN})" if is_est else ""),
                    is_est,
                    PERKIRAAN if is_est else "",
                )
            )
    table = pd.DataFrame(rows, columns=list(_COLUMNS[lang]))
    table[_COLUMNS[lang][4]] = table[_COLUMNS[lang][4]].astype(np.int64)
    table[_COLUMNS[lang][6]] = table[_COLUMNS[lang][6]].astype(bool)
    return table


def _basis(
    comp: str, r: pd.Series, lang: str, names: Mapping[str, str], params: Mapping[str, Any]
) -> str:
    en = lang == "en"
    assumed = " (assumed distance)" if en else " (jarak asumsi)"

    def km(m: float) -> str:
        return f"{m / 1000.0:.2f} km"

    if comp == "tower":
        return f"{r['tower_height_m']:g} m, {_TOWER_NAMES[lang][r['tower_type']]}"
    if comp == "land":
        if int(r["land_idr"]) == 0:
            return "land grant (hibah)" if en else "hibah"
        return "purchase" if en else "pembelian"
    if comp == "road" and "road_distance_m" in r:
        text = f"{km(r['road_distance_m'])} {'new road' if en else 'jalan baru'}"
        return text + (assumed if r.get("road_distance_default", False) else "")
    if comp == "power" and "grid_distance_m" in r:
        grid = f"{'grid at' if en else 'jarak ke jaringan'} {km(r['grid_distance_m'])}"
        text = f"{names[r['power_option']]}; {grid}"
        return text + (assumed if r.get("grid_distance_default", False) else "")
    if comp == "backhaul" and "backhaul_distance_m" in r:
        option = r["backhaul_option"]
        if option == "microwave":
            text = f"{names[option]}, {'hop' if en else 'lompatan'} {km(r['microwave_hop_m'])}"
        elif option == "fibre":
            text = f"{names[option]}, {km(r['backhaul_distance_m'])}"
        else:
            text = names[option]
        if r.get("backhaul_distance_default", False):
            text += assumed
        if params.get("include_backhaul") is False:
            text += "; supplied by the operator" if en else "; disediakan operator"
        return text
    if comp == "equipment" and params.get("include_equipment") is False:
        return "supplied by the operator" if en else "disediakan operator"
    if comp == "contingency" and "contingency_fraction" in params:
        pct = f"{100 * params['contingency_fraction']:g} %"
        return f"{pct} of the subtotal" if en else f"{pct} dari subtotal"
    if comp == "capex":
        return "sum of the components" if en else "jumlah komponen"
    if comp == "opex" and params:
        return (
            f"energy + maintenance {100 * params['maintenance_fraction_per_year']:g} % of capex"
            if en
            else f"energi + pemeliharaan {100 * params['maintenance_fraction_per_year']:g} % investasi"
        )
    if comp == "npv" and params:
        rate = f"{100 * params['discount_rate_per_year']:g} %"
        return (
            f"capex + opex discounted at {rate}"
            if en
            else f"investasi + operasional, diskonto {rate}"
        )
    return ""
