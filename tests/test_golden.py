"""The demo's headline numbers on the small Segendang window, pinned.

A refactor must not move them; a change of model or defaults that does must update them here
on purpose (and say so in BENCHMARKS.md / DESIGN.md). Figures are from ITM with the tropical
forest at the handset on the SYNTHETIC demo DEM at 90 m, 8 km radius, Rp 8.5 B.
"""

from __future__ import annotations

import pytest

from paser_window import SEGENDANG

pytestmark = pytest.mark.paser

GOLDEN = {
    "towers": ("c_hp_008", "c_grid_009", "c_hp_003", "c_grid_005", "c_grid_012"),
    "total_cost_idr": 8_500_000_000,
    "people_covered": 356.707,
    "people_in_target_desa": 416.0,
    "candidates": 33,
    "optimum_people": 361.122,
    "matrix_nnz": 5521,
    "segendang_share_covered": 0.8575,
    "segendang_served_by": "c_grid_012",  # the fifth tower brings it past β = 0.8
    "desa_served": (0, 0, 0, 0, 1),  # n_desa_served_new per rank: Segendang served at rank 5
    "curve_people": (0.0, 129.941, 237.174, 293.944, 331.475, 356.707, 377.207, 387.93,
                     398.023, 405.277, 408.746),
}


def test_demo_headline_numbers_are_pinned(small_plan):
    r = small_plan
    assert tuple(r.solution.site_ids) == GOLDEN["towers"]
    assert r.total_cost_idr == GOLDEN["total_cost_idr"]
    assert r.people_covered == pytest.approx(GOLDEN["people_covered"], abs=1e-3)
    assert float(r.problem.total_weight) == pytest.approx(GOLDEN["people_in_target_desa"])
    assert len(r.sites) == GOLDEN["candidates"]
    assert r.matrix.matrix.nnz == GOLDEN["matrix_nnz"]
    assert float(r.certificate.covered_weight) == pytest.approx(GOLDEN["optimum_people"], abs=1e-3)
    assert r.certificate.gap == pytest.approx(0.0, abs=1e-9)
    desa = r.desa.set_index("kode")
    assert float(desa.loc[SEGENDANG, "share_covered"]) == pytest.approx(
        GOLDEN["segendang_share_covered"], abs=1e-6)
    assert r.config.objective == "desa" and r.solution.desa_resolved == 1
    assert tuple(r.ranking["n_desa_served_new"]) == GOLDEN["desa_served"]
    assert desa.loc[SEGENDANG, "served"] == "yes"
    assert desa.loc[SEGENDANG, "served_by"] == GOLDEN["segendang_served_by"]
    assert tuple(r.curve["covered_weight"].round(3)) == pytest.approx(GOLDEN["curve_people"],
                                                                     abs=1e-3)
    assert r.coverage.model.startswith("itm(") and "p2108(uniform-tree)" in r.coverage.model
    assert r.terrain_synthetic
