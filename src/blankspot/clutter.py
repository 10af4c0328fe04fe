"""Land cover to clutter: representative clutter heights and terminal clutter losses.

ESA WorldCover classes (10 m, global) are mapped to a representative clutter height R (metres
above ground) and a clutter type of Rec. ITU-R P.2108 §3.1. The Paser defaults follow the
planning parameters (section 2, "Clutter heights R"):

==== ==================== ======= ============== ==============================================
code class                R (m)   P.2108 type    note
==== ==================== ======= ============== ==============================================
10   tree cover           20      trees_forest   tropical forest (range 15-25); oil palm 10 m
                                                 is the named option ``tree_cover="oil_palm"``
20   shrubland            3       open_rural     shrub / young plantation (2-4)
30   grassland            1       open_rural     cropland, grass, rice (0-2)
40   cropland             1       open_rural
50   built-up             8       suburban       rural kampung (6-10)
60   bare / sparse        0       open_rural
70   snow and ice         0       open_rural     absent from Paser
80   permanent water      0       water_sea
90   herbaceous wetland   1       open_rural
95   mangroves            10      trees_forest   coastal desa (5-15)
100  moss and lichen      0       open_rural     absent from Paser
==== ==================== ======= ============== ==============================================

How the two propagation models use clutter, so it is counted once:

- **ITM** has no clutter. A handset inside clutter loses the P.2108 §3.1 height-gain
  correction of its own cell's class (:func:`terminal_loss_db`), added to ITM's basic loss.
  Classes no taller than the receiver add nothing.
- **P.1812** carries clutter in its profile: each point between the terminals is raised by its
  cell's R (:func:`clutter_heights_m`), and the handset-under-canopy loss comes out of the
  diffraction. No P.2108 correction is added on top; :func:`blankspot.coverage.site_footprint`
  enforces this.

Settlements without a land-cover grid
-------------------------------------
A settlement is a clearing of houses, gardens and a road, not forest. Without a land-cover
grid, ``clutter="auto"`` puts tree cover (20 m) everywhere except the terrain cells that hold a
settlement demand point, which get :data:`SETTLEMENT_CLASS`, built-up (50: R = 8 m, P.2108
suburban): the planning parameters (section 2, "Clutter heights R") give 8 m (6-10) for rural
built-up (kampung), against P.2108's nominal suburban 10 m. Built-up rather than open/rural
because the handset stands among the houses of the kampung, whose roofs and fruit trees are
the clutter next to it; open/rural (R 1 m) would take nearly all of the terminal loss away and
flatter the coverage (:func:`settlement_clutter`). ITM takes the class at the handset (P.2108),
P.1812 the same grid along the path. With a land-cover grid, each settlement point has the
class of its own cell. ``clutter="tree"`` keeps forest under every handset.

The R values and losses are calibration targets (tropical evergreen canopy has no leaf-off
season); calibrate per class with :meth:`ClutterModel.with_class`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from blankspot.errors import (
    ConfigError,
    CRSError,
    DataError,
    InputError,
    Problems,
    UnitsError,
    format_problems,
)
from blankspot.propagation.p2108 import CLUTTER_TYPES, p2108_terminal_correction_db
from blankspot.terrain import Terrain

__all__ = [
    "PASER_CLASSES",
    "SETTLEMENT_CLASS",
    "ClutterClass",
    "ClutterModel",
    "clutter_heights_m",
    "landcover_classes",
    "settlement_clutter",
    "terminal_loss_db",
]

WORLDCOVER_NODATA = 0
"""ESA WorldCover's no-data value."""


@dataclass(frozen=True)
class ClutterClass:
    """One land-cover class: its name, representative clutter height and P.2108 clutter type.

    Attributes
    ----------
    name:
        Short name, e.g. ``"tree_cover"``.
    height_m:
        Representative clutter height R above ground, metres, >= 0.
    p2108_type:
        P.2108 §3.1 clutter type (:data:`blankspot.propagation.p2108.CLUTTER_TYPES`).
    """

    name: str
    height_m: float
    p2108_type: str

    def __post_init__(self) -> None:
        problems = Problems()
        try:
            h = float(self.height_m)
            if not (math.isfinite(h) and h >= 0.0):
                raise ValueError
        except (TypeError, ValueError):
            problems.add(
                f"height_m must be a clutter height >= 0 m; received {self.height_m!r}.", UnitsError
            )
        else:
            object.__setattr__(self, "height_m", h)
        if self.p2108_type not in CLUTTER_TYPES:
            problems.add(
                f"p2108_type must be one of {', '.join(CLUTTER_TYPES)}; received "
                f"{self.p2108_type!r}.",
                InputError,
            )
        problems.raise_if_any(f"ClutterClass {self.name!r}")


PASER_CLASSES: Mapping[int, ClutterClass] = MappingProxyType(
    {
        10: ClutterClass("tree_cover", 20.0, "trees_forest"),
        20: ClutterClass("shrubland", 3.0, "open_rural"),
        30: ClutterClass("grassland", 1.0, "open_rural"),
        40: ClutterClass("cropland", 1.0, "open_rural"),
        50: ClutterClass("built_up", 8.0, "suburban"),
        60: ClutterClass("bare_sparse", 0.0, "open_rural"),
        70: ClutterClass("snow_ice", 0.0, "open_rural"),
        80: ClutterClass("water", 0.0, "water_sea"),
        90: ClutterClass("herbaceous_wetland", 1.0, "open_rural"),
        95: ClutterClass("mangroves", 10.0, "trees_forest"),
        100: ClutterClass("moss_lichen", 0.0, "open_rural"),
    }
)
"""ESA WorldCover code -> :class:`ClutterClass` with the Paser defaults (module table)."""

SETTLEMENT_CLASS = 50
"""WorldCover class at a settlement when no land-cover grid is given: built-up, the rural
kampung of the planning parameters (R = 8 m, P.2108 suburban; module docstring)."""

OIL_PALM = ClutterClass("oil_palm", 10.0, "trees_forest")
"""Mature oil palm (8-12 m, calibrate): WorldCover maps it as tree cover (code 10)."""

_ALIASES = {
    "tree": 10,
    "trees": 10,
    "forest": 10,
    "tree_cover": 10,
    "oil_palm": 10,
    "shrub": 20,
    "shrubland": 20,
    "grass": 30,
    "grassland": 30,
    "crop": 40,
    "cropland": 40,
    "rice": 40,
    "built_up": 50,
    "built": 50,
    "urban": 50,
    "kampung": 50,
    "bare": 60,
    "bare_sparse": 60,
    "snow": 70,
    "snow_ice": 70,
    "water": 80,
    "wetland": 90,
    "herbaceous_wetland": 90,
    "mangrove": 95,
    "mangroves": 95,
    "moss": 100,
    "moss_lichen": 100,
}


def _class_key(value: object) -> str:
    return str(value).strip().lower().replace("-", "_").replace(" ", "_")


@dataclass(frozen=True, eq=False)
class ClutterModel:
    """Land-cover classes mapped to clutter heights and P.2108 types, and where they lie.

    A model is used in one of two ways: **uniform** (one class everywhere,
    :meth:`uniform`) or with a **land-cover grid** of class codes on the terrain grid
    (:meth:`with_landcover`, e.g. from :func:`landcover_classes`).

    Attributes
    ----------
    classes:
        Class code -> :class:`ClutterClass`; default :data:`PASER_CLASSES`.
    uniform_class:
        Code of the class assumed everywhere, or None.
    landcover:
        Integer class codes on the terrain grid (read-only), or None.
    name:
        Label recorded in coverage results.

    Examples
    --------
    >>> m = ClutterModel.paser()
    >>> m.classes[10].height_m, m.classes[10].p2108_type
    (20.0, 'trees_forest')
    >>> ClutterModel.paser(tree_cover="oil_palm").classes[10].height_m
    10.0
    >>> ClutterModel.uniform("tree").uniform_class
    10
    """

    classes: Mapping[int, ClutterClass] = field(default_factory=lambda: PASER_CLASSES)
    uniform_class: int | None = None
    landcover: np.ndarray | None = field(default=None, repr=False)
    name: str = "paser-worldcover"

    def __post_init__(self) -> None:
        classes = {int(k): v for k, v in dict(self.classes).items()}
        bad = [f"{k!r}: {type(v).__name__}" for k, v in classes.items()
               if not isinstance(v, ClutterClass)]  # fmt: skip
        if bad:
            raise InputError(
                f"ClutterModel classes must map integer codes to ClutterClass; received "
                f"{', '.join(bad)}."
            )
        object.__setattr__(self, "classes", MappingProxyType(classes))
        if self.uniform_class is not None and self.landcover is not None:
            raise ConfigError(
                "a ClutterModel is either uniform (uniform_class) or has a land-cover grid "
                "(landcover), not both."
            )
        if self.uniform_class is not None:
            code = int(self.uniform_class)
            if code not in classes:
                raise ConfigError(
                    f"uniform_class {code} is not a class of this model; known codes: "
                    f"{_known(classes)}."
                )
            object.__setattr__(self, "uniform_class", code)
        if self.landcover is not None:
            codes = np.asarray(self.landcover)
            if codes.ndim != 2 or not np.issubdtype(codes.dtype, np.integer):
                raise InputError(
                    f"landcover must be a 2-D grid of integer class codes; received "
                    f"{codes.dtype} with shape {codes.shape}."
                )
            _check_codes(codes, classes)
            codes = codes.view()
            codes.setflags(write=False)
            object.__setattr__(self, "landcover", codes)

    def __reduce__(self) -> tuple[type[ClutterModel], tuple[Any, ...]]:
        # the read-only class mapping does not pickle; rebuild from a plain dict (dask, processes)
        return (
            self.__class__,
            (dict(self.classes), self.uniform_class, self.landcover, self.name),
        )

    # --- construction --------------------------------------------------------------------------
    @classmethod
    def paser(cls, *, tree_cover: str = "forest") -> ClutterModel:
        """The Paser defaults; ``tree_cover="oil_palm"`` maps WorldCover tree cover to 10 m
        oil palm instead of 20 m tropical forest."""
        if tree_cover not in ("forest", "oil_palm"):
            raise ConfigError(
                f"tree_cover must be 'forest' (20 m) or 'oil_palm' (10 m); received {tree_cover!r}."
            )
        classes = dict(PASER_CLASSES)
        if tree_cover == "oil_palm":
            classes[10] = OIL_PALM
        name = "paser-worldcover" + ("-oil-palm" if tree_cover == "oil_palm" else "")
        return cls(classes=classes, name=name)

    @classmethod
    def uniform(
        cls, which: str | int, *, classes: Mapping[int, ClutterClass] | None = None
    ) -> ClutterModel:
        """One class everywhere, by WorldCover code or name (``"tree"``, ``"oil_palm"``,
        ``"water"``, ...), from ``classes`` (default the Paser classes; ``"oil_palm"`` uses
        :data:`OIL_PALM` for code 10)."""
        base = dict(classes) if classes is not None else dict(PASER_CLASSES)
        if isinstance(which, str):
            key = _class_key(which)
            if key not in _ALIASES:
                raise ConfigError(
                    f"unknown clutter class {which!r}; use a WorldCover code ({_known(base)}) "
                    f"or one of the names {', '.join(sorted(_ALIASES))}."
                )
            code = _ALIASES[key]
            if key == "oil_palm":
                base[code] = OIL_PALM
            label = key
        else:
            code = int(which)
            label = str(code)
        return cls(classes=base, uniform_class=code, name=f"uniform-{label}")

    def with_landcover(self, codes: npt.ArrayLike) -> ClutterModel:
        """This model with a grid of class codes on the terrain grid (no longer uniform)."""
        return ClutterModel(classes=self.classes, landcover=np.asarray(codes), name=self.name)

    def with_class(self, code: int, *, height_m: float | None = None,
                   p2108_type: str | None = None, name: str | None = None) -> ClutterModel:  # fmt: skip
        """A copy with one class added or changed (e.g. a calibrated height)."""
        classes = dict(self.classes)
        old = classes.get(int(code))
        if old is None:
            if height_m is None or p2108_type is None:
                raise InputError(
                    f"class {code} is new: give both height_m and p2108_type (known codes: "
                    f"{_known(classes)})."
                )
            new = ClutterClass(name if name is not None else f"class_{code}", height_m, p2108_type)
        else:
            new = ClutterClass(
                name if name is not None else old.name,
                old.height_m if height_m is None else height_m,
                old.p2108_type if p2108_type is None else p2108_type,
            )
        classes[int(code)] = new
        return ClutterModel(
            classes=classes, uniform_class=self.uniform_class, landcover=self.landcover,
            name=self.name,
        )  # fmt: skip

    # --- lookups -------------------------------------------------------------------------------
    def heights_m(self, codes: npt.ArrayLike) -> np.ndarray:
        """Clutter height R (float32, metres) of each class code; unknown codes raise."""
        arr = np.asarray(codes)
        _check_codes(arr, self.classes)
        return _lookup(arr, {k: c.height_m for k, c in self.classes.items()})

    def describe(self) -> str:
        """Label recorded in coverage results."""
        return self.name


def _known(classes: Mapping[int, ClutterClass]) -> str:
    return ", ".join(f"{k} {c.name}" for k, c in sorted(classes.items()))


def _check_codes(codes: np.ndarray, classes: Mapping[int, ClutterClass]) -> None:
    values, counts = np.unique(np.asarray(codes), return_counts=True)
    unknown = [
        (int(v), int(n)) for v, n in zip(values, counts, strict=True) if int(v) not in classes
    ]
    if unknown:
        listed = ", ".join(
            f"{v}{' (WorldCover no data)' if v == WORLDCOVER_NODATA else ''}: {n} cell(s)"
            for v, n in unknown
        )
        raise InputError(
            f"land-cover codes not in the clutter model: {listed}. Known codes: "
            f"{_known(classes)}. Add them with ClutterModel.with_class(code, height_m=..., "
            "p2108_type=...), or fill the land-cover raster where it has no data."
        )


def _lookup(codes: np.ndarray, table: dict[int, float]) -> np.ndarray:
    """Map integer codes through ``table`` (all codes known) to float32."""
    codes = np.asarray(codes)
    keys = np.array(sorted(table), dtype=np.int64)
    vals = np.array([table[k] for k in keys], dtype=np.float32)
    if codes.size == 0:
        return np.zeros(codes.shape, dtype=np.float32)
    return vals[np.searchsorted(keys, codes.astype(np.int64))]


def landcover_classes(
    terrain: Terrain, landcover_raster_path: str | os.PathLike[str]
) -> np.ndarray:
    """Land-cover class codes (int16) on the terrain grid, read from a raster (band 1).

    The raster (e.g. ESA WorldCover tiles, or a VRT of them) may be in any CRS: it is
    reprojected onto the terrain grid at read time with nearest-neighbour resampling (classes
    are categories, never averaged). Cells the raster does not cover get
    :data:`WORLDCOVER_NODATA` (0).

    Raises
    ------
    DataError
        The file is missing or unreadable.
    CRSError
        The raster declares no CRS.
    """
    import rasterio
    from rasterio.warp import Resampling, reproject

    path = os.fspath(landcover_raster_path)
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise CRSError(
                    f"{path} declares no CRS, so its land-cover cells cannot be placed; assign "
                    "one (ESA WorldCover is EPSG:4326), e.g. `gdal_translate -a_srs EPSG:4326`."
                )
            out = np.full(terrain.shape, WORLDCOVER_NODATA, dtype=np.int16)
            reproject(
                source=rasterio.band(src, 1),
                destination=out,
                dst_transform=terrain.transform,
                dst_crs=terrain.crs.to_wkt(),
                dst_nodata=WORLDCOVER_NODATA,
                resampling=Resampling.nearest,
            )
    except rasterio.errors.RasterioIOError as exc:
        raise DataError(
            f"land-cover raster {path} could not be read ({exc}). Give a GeoTIFF or VRT of "
            "class codes, e.g. ESA WorldCover tiles."
        ) from None
    return out


def clutter_heights_m(
    terrain: Terrain,
    landcover_raster_path: str | os.PathLike[str] | None = None,
    uniform_class: str | int | None = None,
    *,
    model: ClutterModel | None = None,
) -> np.ndarray:
    """Representative clutter height R (float32, metres) of every cell of the terrain grid.

    Give exactly one of ``landcover_raster_path`` (read with :func:`landcover_classes`),
    ``uniform_class`` (a code or name, as :meth:`ClutterModel.uniform`), or a ``model`` that is
    uniform or carries a land-cover grid. ``model`` supplies the class table (default
    :meth:`ClutterModel.paser`).

    Raises
    ------
    ConfigError
        Not exactly one source of classes, or an unknown class name.
    InputError
        A land-cover grid of another shape, or class codes the model does not know (all
        listed, with their cell counts).

    Examples
    --------
    >>> from blankspot.testing import make_terrain
    >>> float(clutter_heights_m(make_terrain("flat"), uniform_class="tree")[0, 0])
    20.0
    """
    base = model if model is not None else ClutterModel.paser()
    n_given = (landcover_raster_path is not None) + (uniform_class is not None)
    from_model = model is not None and (
        model.uniform_class is not None or model.landcover is not None
    )
    if n_given + from_model != 1:
        raise ConfigError(
            "clutter_heights_m() needs exactly one source of classes: landcover_raster_path, "
            "uniform_class, or a model that is uniform or has a land-cover grid; received "
            f"landcover_raster_path={landcover_raster_path!r}, uniform_class={uniform_class!r}, "
            f"model={'uniform/grid' if from_model else type(model).__name__}."
        )
    if uniform_class is not None:
        base = ClutterModel.uniform(uniform_class, classes=base.classes)
    if base.uniform_class is not None:
        return np.full(terrain.shape, base.classes[base.uniform_class].height_m, dtype=np.float32)
    codes = (
        base.landcover
        if landcover_raster_path is None
        else landcover_classes(terrain, landcover_raster_path)
    )
    assert codes is not None  # a model that is neither uniform nor has a grid raised above
    if codes.shape != terrain.shape:
        raise InputError(
            f"the land-cover grid has shape {codes.shape} but the terrain {terrain.shape}; "
            "read it onto the terrain grid with landcover_classes(terrain, path)."
        )
    return base.heights_m(codes)


def terminal_loss_db(
    freq_mhz: float,
    rx_height_agl_m: float,
    class_grid: npt.ArrayLike,
    *,
    model: ClutterModel | None = None,
) -> np.ndarray | np.float32:
    """P.2108 §3.1 terminal clutter loss (float32 dB) of a handset in each cell's class.

    The height-gain correction for a terminal ``rx_height_agl_m`` above ground inside clutter
    of the class's height R and P.2108 type (27 m street width); 0 dB where R does not exceed
    the terminal. This is ITM's canopy add-on; never add it to P.1812, whose profile already
    carries the clutter.

    Parameters
    ----------
    freq_mhz
        Frequency, 30-3000 MHz (P.2108 §3.1).
    rx_height_agl_m
        Receiver height above ground, metres, > 0.
    class_grid
        Integer class codes (any shape, or a scalar).
    model
        Class table (default :meth:`ClutterModel.paser`).

    Examples
    --------
    >>> round(float(terminal_loss_db(900.0, 1.5, 10)), 1)  # 20 m tropical forest
    25.1
    """
    base = model if model is not None else ClutterModel.paser()
    problems: list[str] = []
    if not (isinstance(freq_mhz, int | float) and 30.0 <= float(freq_mhz) <= 3000.0):
        problems.append(f"freq_mhz must be 30-3000 MHz (P.2108 §3.1); received {freq_mhz!r}.")
    if not (isinstance(rx_height_agl_m, int | float) and math.isfinite(rx_height_agl_m)
            and rx_height_agl_m > 0):  # fmt: skip
        problems.append(
            f"rx_height_agl_m must be a height > 0 m above ground; received {rx_height_agl_m!r}."
        )
    if problems:
        raise UnitsError(format_problems("terminal_loss_db() inputs", problems))
    codes = np.asarray(class_grid)
    if not np.issubdtype(codes.dtype, np.integer):
        raise InputError(
            f"class_grid must hold integer land-cover codes; received {codes.dtype}. Read them "
            "with landcover_classes(terrain, path)."
        )
    _check_codes(codes, base.classes)
    table = {
        code: loss_for_class(cls, float(freq_mhz), float(rx_height_agl_m))
        for code, cls in base.classes.items()
    }
    out = _lookup(codes, table)
    return out if codes.ndim else np.float32(out)


def loss_for_class(cls: ClutterClass, freq_mhz: float, rx_height_agl_m: float) -> float:
    """P.2108 §3.1 loss (dB) of one class for a terminal at ``rx_height_agl_m``."""
    if cls.height_m <= rx_height_agl_m:
        return 0.0
    return float(
        p2108_terminal_correction_db(
            freq_mhz / 1000.0, rx_height_agl_m, clutter_type=cls.p2108_type, R_m=cls.height_m
        )
    )


def settlement_clutter(
    terrain: Terrain,
    x_m: npt.ArrayLike,
    y_m: npt.ArrayLike,
    *,
    background: int = 10,
    settlement: int = SETTLEMENT_CLASS,
    model: ClutterModel | None = None,
) -> ClutterModel:
    """A land-cover grid on the terrain grid for a run without one: ``background`` (tree cover)
    everywhere, ``settlement`` (built-up) in each cell holding a settlement point.

    Points off the terrain are skipped. ``model`` supplies the classes (default the Paser
    classes); the result is named ``<model name>-settlements``.

    >>> import numpy as np
    >>> from blankspot.testing import make_terrain
    >>> t = make_terrain("flat", size=4)
    >>> x, y = t.xy(1, 2)
    >>> c = settlement_clutter(t, [x], [y])
    >>> c.landcover[:2].tolist(), c.name
    ([[10, 10, 10, 10], [10, 10, 50, 10]], 'paser-worldcover-settlements')
    """
    base = model if model is not None else ClutterModel.paser()
    x = np.atleast_1d(np.asarray(x_m, dtype=float))
    y = np.atleast_1d(np.asarray(y_m, dtype=float))
    if x.shape != y.shape:
        raise UnitsError(f"x_m and y_m must have the same shape; received {x.shape} and {y.shape}.")
    grid = np.full(terrain.shape, int(background), dtype=np.int16)
    inside = terrain.contains(x, y)
    if inside.any():
        rows, cols = terrain.rowcol(x[inside], y[inside])
        rows = np.clip(np.floor(rows + 0.5).astype(np.int64), 0, terrain.shape[0] - 1)
        cols = np.clip(np.floor(cols + 0.5).astype(np.int64), 0, terrain.shape[1] - 1)
        grid[rows, cols] = int(settlement)
    return ClutterModel(classes=base.classes, landcover=grid, name=f"{base.name}-settlements")
