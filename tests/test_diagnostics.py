"""Path diagnostics: terrain profile, Fresnel clearance, horizons, the plot and its PNG."""

from __future__ import annotations

import math

import numpy as np
import pytest

from blankspot.diagnostics import ProfileReport, profile_plot, terrain_profile
from blankspot.errors import ConfigError, InputError, UnitsError
from blankspot.propagation.models import free_space_loss_db
from blankspot.testing import cell_centre, make_terrain

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def knife():
    return make_terrain("knife_edge")  # wall of 200 m at column 40, flat 100 m elsewhere


def test_terrain_profile_is_bilinear_and_at_terrain_resolution():
    t = make_terrain("tilted_plane")  # 100 m + 1 m per cell eastward
    d, h = terrain_profile(t, cell_centre(t, 5, 3), cell_centre(t, 40, 50))
    spacing = np.diff(d)
    assert spacing.max() <= t.res_m + 1e-9
    np.testing.assert_allclose(spacing, spacing[0])
    xy = np.linspace(cell_centre(t, 5, 3), cell_centre(t, 40, 50), d.size)
    col = (xy[:, 0] - t.transform.c) / t.res_m - 0.5
    np.testing.assert_allclose(h, 100.0 + col, atol=1e-9)
    short = terrain_profile(t, cell_centre(t, 5, 3), cell_centre(t, 5, 4))[0]
    assert short.size == 11  # at least 10 intervals


def test_flat_path_is_clear_and_itm_loss_finite():
    t = make_terrain("flat")
    fig, rep = profile_plot(t, cell_centre(t, 10, 5), cell_centre(t, 50, 55), tx_height_agl_m=30.0)
    assert isinstance(rep, ProfileReport)
    assert not rep.obstructed
    assert math.isfinite(rep.loss_db)
    assert rep.mode == "line of sight"
    fspl = free_space_loss_db(rep.distance_m, 900.0)
    assert fspl - 1.0 < rep.loss_db < fspl + 15.0
    assert rep.distance_m == pytest.approx(math.hypot(40 * 30.0, 50 * 30.0))
    assert rep.tx_elevation_deg < 0.0
    assert fig.axes and fig.axes[0].get_title().startswith("ITM:")


def test_knife_edge_is_obstructed_with_negative_clearance(knife):
    tx, rx = cell_centre(knife, 32, 20), cell_centre(knife, 32, 60)
    _fig, rep = profile_plot(knife, tx, rx, tx_height_agl_m=30.0)
    assert rep.obstructed
    assert rep.clearance_m < -50.0  # 200 m wall against a line of sight near 110 m
    assert rep.clearance_at_m == pytest.approx(20 * 30.0, abs=30.0)
    tx_hzn, rx_hzn = rep.horizons
    assert tx_hzn.distance_m == pytest.approx(600.0, abs=1.0)
    assert rx_hzn.distance_m == pytest.approx(600.0, abs=1.0)
    assert tx_hzn.elevation_deg > 0.0
    # The antenna sees the path leave toward the top of the wall.
    assert rep.tx_elevation_deg == pytest.approx(math.degrees(math.atan(70.0 / 600.0)), abs=0.05)
    # The diffraction costs far more than the clear flat path of the same length.
    flat = make_terrain("flat")
    _f, clear = profile_plot(flat, tx, rx, tx_height_agl_m=30.0)
    assert rep.loss_db > clear.loss_db + 10.0


def test_wall_parallel_to_the_path_does_not_obstruct(knife):
    _fig, rep = profile_plot(
        knife, cell_centre(knife, 5, 20), cell_centre(knife, 60, 20), tx_height_agl_m=30.0
    )
    assert not rep.obstructed


def test_p1812_and_free_space_models(knife):
    tx, rx = cell_centre(knife, 32, 20), cell_centre(knife, 32, 60)
    _f, p = profile_plot(knife, tx, rx, tx_height_agl_m=30.0, model="p1812")
    assert p.mode == "transhorizon"
    assert math.isfinite(p.loss_db)
    _f, p_clutter = profile_plot(knife, tx, rx, tx_height_agl_m=30.0, model="p1812",
                                 clutter_height_m=15.0)  # fmt: skip
    assert p_clutter.loss_db > p.loss_db
    assert p_clutter.clearance_m < p.clearance_m
    _f, fs = profile_plot(knife, tx, rx, tx_height_agl_m=30.0, model="fspl")
    assert fs.mode == "free space"
    assert fs.loss_db == pytest.approx(free_space_loss_db(fs.distance_m, 900.0))
    assert fs.obstructed


def test_clutter_forms(knife):
    tx, rx = cell_centre(knife, 32, 5), cell_centre(knife, 32, 30)  # in front of the wall
    grid = np.zeros(knife.shape)
    grid[:, 15:20] = 25.0  # a strip of tall trees across the path
    _f, rep = profile_plot(knife, tx, rx, tx_height_agl_m=30.0, clutter_height_m=grid, model="fspl")
    assert rep.obstructed
    _f, rep1 = profile_plot(knife, tx, rx, tx_height_agl_m=30.0, clutter_height_m=[0.0, 0.0],
                            model="fspl")  # fmt: skip
    assert not rep1.obstructed
    with pytest.raises(InputError, match="clutter_height_m"):
        profile_plot(knife, tx, rx, tx_height_agl_m=30.0, clutter_height_m=np.zeros((3, 3)))
    with pytest.raises(UnitsError, match="clutter_height_m must be finite and >= 0"):
        profile_plot(knife, tx, rx, tx_height_agl_m=30.0, clutter_height_m=-1.0)


def test_png_is_written_atomically(tmp_path, knife):
    out = tmp_path / "profile.png"
    out.write_bytes(b"old")
    fig, _rep = profile_plot(knife, cell_centre(knife, 32, 20), cell_centre(knife, 32, 60),
                             tx_height_agl_m=30.0, out_path=out)  # fmt: skip
    data = out.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["profile.png"]  # no temp file left
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any(s.startswith("Tx horizon") for s in labels)
    assert any("F1 lower edge" in s for s in labels)


def test_inputs_are_checked_all_at_once(knife):
    # an unknown model (config) outranks a point off the grid and bad numbers (units)
    with pytest.raises(ConfigError) as info:
        profile_plot(knife, (0.0, 0.0), cell_centre(knife, 3, 3), tx_height_agl_m=-1.0,
                     freq_mhz=0.0, model="hata")  # fmt: skip
    msg = str(info.value)
    for needle in ("tx_xy_m", "tx_height_agl_m", "freq_mhz", "model"):
        assert needle in msg
    assert len(info.value.problems) == 4
    with pytest.raises(InputError, match="outside the terrain"):
        profile_plot(knife, (0.0, 0.0), cell_centre(knife, 3, 3), tx_height_agl_m=-1.0)
    with pytest.raises(InputError, match=r"must be an \(x, y\) pair"):
        terrain_profile(knife, (1.0, 2.0, 3.0), cell_centre(knife, 3, 3))
    with pytest.raises(UnitsError, match="tx_height_agl_m"):
        profile_plot(knife, cell_centre(knife, 3, 3), cell_centre(knife, 9, 9), tx_height_agl_m=-1.0)
    with pytest.raises(InputError, match="less than 1 m apart"):
        terrain_profile(knife, cell_centre(knife, 3, 3), cell_centre(knife, 3, 3))
    with pytest.raises(InputError, match="nodata"):
        hole = make_terrain("nodata_hole")
        profile_plot(
            hole, cell_centre(hole, 38, 2), cell_centre(hole, 38, 60), tx_height_agl_m=30.0
        )
    with pytest.raises(TypeError):
        profile_plot(np.zeros((4, 4)), (0, 0), (1, 1), tx_height_agl_m=30.0)


@pytest.mark.paser
def test_cli_profile_writes_the_plot_and_names_synthetic_terrain(paser_source_dir, tmp_path):
    from click.testing import CliRunner

    from blankspot.cli import main

    dem = paser_source_dir / "terrain" / "paser_dem_demo_1s_synthetic.tif"
    out = tmp_path / "profile.png"
    res = CliRunner().invoke(main, [
        "profile", "--dem", str(dem), "--tx", "116.05", "-1.85", "--rx", "116.10", "-1.82",
        "--height-agl-m", "52", "--model", "itm", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert out.stat().st_size > 20_000
    assert "itm:" in res.output and " dB over 6." in res.output and "SYNTHETIC" in res.output
