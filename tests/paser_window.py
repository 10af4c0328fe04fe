"""The small Paser window most plan tests run on: Segendang (Batu Engau), a 2021/2022
blank-spot desa, and the terrain around it, with a small candidate set and radius."""

from __future__ import annotations

from blankspot.config import PlanConfig

SEGENDANG = "64.01.09.2003"
WINDOW = (116.22, -2.42, 116.50, -2.17)
SMALL = PlanConfig(radius_m=8_000.0, n_high_points=8, grid_spacing_m=3_000.0)
