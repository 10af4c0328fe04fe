"""Antenna patterns: the 3GPP sector, omni, measured tables, sector sites, path elevation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from blankspot.errors import BlankspotError, DataError, InputError, SchemaError, UnitsError
from blankspot.propagation.antenna import (
    DBD_TO_DBI,
    Antenna,
    Omni,
    PatternTable,
    Sector,
    SectorSite,
    elevation_angle_deg,
    three_sector,
)
from blankspot.units import effective_earth_radius_m

# --- Sector -------------------------------------------------------------------------------


def test_boresight_gain_is_gain_dbi():
    s = Sector(azimuth_deg=75.0, gain_dbi=17.0, electrical_downtilt_deg=2.0)
    assert s.gain_db(75.0, -2.0) == pytest.approx(17.0, abs=1e-12)
    assert s.relative_gain_db(75.0, -2.0) == pytest.approx(0.0, abs=1e-12)
    tilted = Sector(azimuth_deg=75.0, mechanical_downtilt_deg=4.0, electrical_downtilt_deg=2.0)
    assert tilted.boresight_elevation_deg == -6.0
    assert tilted.gain_db(75.0, -6.0) == pytest.approx(17.0, abs=1e-9)


@pytest.mark.parametrize("h_bw, v_bw", [(65.0, 7.0), (90.0, 12.0), (33.0, 4.5)])
def test_minus_3_db_at_half_the_beamwidth(h_bw, v_bw):
    s = Sector(azimuth_deg=200.0, h_beamwidth_deg=h_bw, v_beamwidth_deg=v_bw)
    peak_el = -2.0
    for off in (-h_bw / 2, h_bw / 2):
        assert s.gain_db(200.0 + off, peak_el) == pytest.approx(17.0 - 3.0, abs=1e-9)
    for off in (-v_bw / 2, v_bw / 2):
        assert s.gain_db(200.0, peak_el + off) == pytest.approx(17.0 - 3.0, abs=1e-9)


def test_back_lobe_is_gain_minus_front_to_back():
    s = Sector(azimuth_deg=10.0, gain_dbi=18.0, front_to_back_db=28.0, sidelobe_level_db=20.0)
    assert s.gain_db(190.0, -2.0) == pytest.approx(18.0 - 28.0)
    # The front-to-back ratio caps everything, side lobes included.
    el = np.linspace(-90.0, 90.0, 181)
    az = np.linspace(0.0, 359.0, 360)
    g = s.gain_db(az[:, None], el[None, :])
    assert g.min() == pytest.approx(18.0 - 28.0)


def test_vertical_floor_is_the_sidelobe_level():
    s = Sector(azimuth_deg=0.0, sidelobe_level_db=18.0, front_to_back_db=30.0)
    assert s.gain_db(0.0, -60.0) == pytest.approx(17.0 - 18.0)
    assert s.gain_db(0.0, 60.0) == pytest.approx(17.0 - 18.0)


def test_azimuth_wraps_and_is_stored_in_0_360():
    s = Sector(azimuth_deg=-30.0)
    assert s.azimuth_deg == 330.0
    assert s.gain_db(330.0, -2.0) == pytest.approx(s.gain_db(-30.0 + 720.0, -2.0))
    assert Sector(azimuth_deg=720.0).azimuth_deg == 0.0


def _peak_elevation(antenna, azimuth_deg):
    el = np.linspace(-30.0, 30.0, 6001)
    return float(el[np.argmax(antenna.gain_db(azimuth_deg, el))])


@pytest.mark.parametrize(
    "mech, elec",
    [(0.0, 0.0), (0.0, 2.0), (0.0, 8.0), (4.0, 0.0), (3.0, 5.0), (-2.0, 0.0)],
)
def test_tilt_moves_the_vertical_peak(mech, elec):
    s = Sector(azimuth_deg=90.0, mechanical_downtilt_deg=mech, electrical_downtilt_deg=elec)
    assert _peak_elevation(s, 90.0) == pytest.approx(-(mech + elec), abs=0.011)


def test_mechanical_tilt_is_a_rotation_not_an_added_tilt():
    mech = Sector(azimuth_deg=0.0, mechanical_downtilt_deg=8.0, electrical_downtilt_deg=0.0)
    elec = Sector(azimuth_deg=0.0, mechanical_downtilt_deg=0.0, electrical_downtilt_deg=8.0)
    # Along the boresight they agree ...
    el = np.linspace(-40.0, 40.0, 161)
    np.testing.assert_allclose(mech.gain_db(0.0, el), elec.gain_db(0.0, el), atol=1e-9)
    # ... 60 degrees off it the mechanical tilt lowers the beam by about cos(60) of the tilt,
    assert _peak_elevation(mech, 60.0) == pytest.approx(
        -8.0 * math.cos(math.radians(60.0)), abs=0.1
    )
    # 90 degrees off it hardly at all (the tilt rolls the pattern there), while the electrical
    # tilt lowers it everywhere.
    assert _peak_elevation(mech, 90.0) == pytest.approx(0.0, abs=0.3)
    assert _peak_elevation(elec, 90.0) == pytest.approx(-8.0, abs=0.011)
    # Behind, the mechanical tilt raises the back lobe.
    assert _peak_elevation(
        Sector(azimuth_deg=0.0, mechanical_downtilt_deg=8.0, electrical_downtilt_deg=0.0,
               h_beamwidth_deg=360.0, front_to_back_db=60.0), 180.0
    ) == pytest.approx(8.0, abs=0.011)  # fmt: skip


def test_gain_db_is_vectorised_and_keeps_scalars_scalar():
    s = Sector(azimuth_deg=0.0)
    assert isinstance(s.gain_db(0.0, 0.0), float)
    az = np.array([[0.0, 30.0, 60.0]])
    el = np.array([[-2.0], [-5.0]])
    out = s.gain_db(az, el)
    assert out.shape == (2, 3)
    assert out[0, 0] == pytest.approx(17.0)
    assert math.isnan(s.gain_db(math.nan, 0.0))
    assert math.isnan(s.gain_db(0.0, math.nan))


def test_elevation_out_of_range_is_an_error():
    with pytest.raises(UnitsError, match="zenith"):
        Sector(azimuth_deg=0.0).gain_db(0.0, 95.0)


def test_directions_that_do_not_broadcast_are_an_input_error():
    with pytest.raises(InputError, match="broadcast together"):
        Sector(azimuth_deg=0.0).gain_db([0.0, 1.0, 2.0], [0.0, 1.0])


def test_sector_lists_every_problem_at_once():
    with pytest.raises(UnitsError) as info:
        Sector(
            azimuth_deg=math.inf,
            gain_dbi=math.nan,
            h_beamwidth_deg=0.0,
            v_beamwidth_deg=400.0,
            mechanical_downtilt_deg=95.0,
            electrical_downtilt_deg=-91.0,
            front_to_back_db=-3.0,
        )
    msg = str(info.value)
    for name in (
        "azimuth_deg",
        "gain_dbi",
        "h_beamwidth_deg",
        "v_beamwidth_deg",
        "mechanical_downtilt_deg",
        "electrical_downtilt_deg",
        "front_to_back_db",
    ):
        assert name in msg
    assert "7 problems" in msg
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, BlankspotError)


def test_sector_is_frozen():
    s = Sector(azimuth_deg=0.0)
    with pytest.raises(AttributeError):
        s.gain_dbi = 3.0


@settings(max_examples=150, deadline=None)
@given(
    pointing=st.floats(-720.0, 720.0),
    gain=st.floats(-5.0, 25.0),
    h_bw=st.floats(1.0, 360.0),
    v_bw=st.floats(1.0, 360.0),
    mech=st.floats(-90.0, 90.0),
    elec=st.floats(-90.0, 90.0),
    ftb=st.floats(0.0, 60.0),
    sla=st.floats(0.0, 60.0),
    az=st.floats(-1000.0, 1000.0),
    el=st.floats(-90.0, 90.0),
)
@example(pointing=0.0, gain=17.0, h_bw=65.0, v_bw=7.0, mech=0.0, elec=2.0, ftb=25.0, sla=20.0,
         az=0.0, el=-2.0)  # fmt: skip
@example(pointing=0.0, gain=17.0, h_bw=65.0, v_bw=7.0, mech=90.0, elec=90.0, ftb=25.0, sla=20.0,
         az=180.0, el=90.0)  # fmt: skip
def test_gain_never_exceeds_the_boresight_gain(
    pointing, gain, h_bw, v_bw, mech, elec, ftb, sla, az, el
):
    s = Sector(pointing, gain, h_bw, v_bw, mech, elec, ftb, sla)
    g = s.gain_db(az, el)
    assert g <= gain + 1e-9
    assert g >= gain - ftb - 1e-9


# --- Omni ---------------------------------------------------------------------------------


def test_omni_flat_and_with_a_vertical_beam():
    flat = Omni(gain_dbi=2.15)
    np.testing.assert_array_equal(flat.gain_db([0.0, 90.0, 270.0], [0.0, -45.0, 89.0]), 2.15)
    beam = Omni(gain_dbi=9.0, v_beamwidth_deg=12.0, electrical_downtilt_deg=3.0)
    assert beam.gain_db(123.0, -3.0) == pytest.approx(9.0)
    assert beam.gain_db(0.0, -3.0 + 6.0) == pytest.approx(6.0)
    assert beam.gain_db(0.0, -60.0) == pytest.approx(9.0 - 20.0)
    assert beam.gain_db(10.0, -5.0) == pytest.approx(beam.gain_db(250.0, -5.0))
    with pytest.raises(UnitsError, match="v_beamwidth_deg"):
        Omni(v_beamwidth_deg=-1.0)


# --- SectorSite ---------------------------------------------------------------------------


def test_three_sector_max_is_at_least_every_sector():
    site = three_sector(azimuth0_deg=20.0, electrical_downtilt_deg=4.0)
    assert [s.azimuth_deg for s in site.sectors] == [20.0, 140.0, 260.0]
    rng = np.random.default_rng(1)
    az = rng.uniform(0.0, 360.0, 2000)
    el = rng.uniform(-90.0, 90.0, 2000)
    best = site.gain_db(az, el)
    each = np.stack([s.gain_db(az, el) for s in site.sectors])
    assert np.all(best >= each - 1e-12)
    np.testing.assert_array_equal(best, each.max(axis=0))
    np.testing.assert_array_equal(site.best_sector(az, el), each.argmax(axis=0))
    assert site.gain_db(140.0, -4.0) == pytest.approx(17.0)
    assert site.peak_gain_dbi == 17.0
    assert site.relative_gain_db(140.0, -4.0) == pytest.approx(0.0)


def test_sector_site_accepts_any_antenna_and_rejects_others():
    table = PatternTable.from_arrays([0, 180], [0, -20], [-90, 0, 90], [-20, 0, -20], gain_dbi=12)
    site = SectorSite((Sector(azimuth_deg=0.0), table))
    assert site.gain_db(0.0, -2.0) == pytest.approx(17.0)
    assert isinstance(table, Antenna)
    with pytest.raises(InputError) as info:
        SectorSite((Sector(azimuth_deg=0.0), "not an antenna", 3))
    assert "sectors[1]" in str(info.value)
    assert "sectors[2]" in str(info.value)
    with pytest.raises(InputError, match="non-empty"):
        SectorSite(())
    with pytest.raises(InputError, match="azimuth0_deg"):
        SectorSite.three_sector(azimuth_deg=10.0)


# --- PatternTable -------------------------------------------------------------------------


def _sampled(sector: Sector, h_step=1.0, v_step=0.25):
    """Horizontal cut at the vertical peak and vertical cut along the boresight, relative."""
    az = np.arange(0.0, 360.0, h_step)
    el = np.arange(-90.0, 90.0 + v_step / 2, v_step)
    peak = sector.boresight_elevation_deg
    h = sector.relative_gain_db(sector.azimuth_deg + az, peak)
    v = sector.relative_gain_db(sector.azimuth_deg, el)
    return az, h, el, v


def test_table_is_exact_at_its_points():
    az = np.array([0.0, 45.0, 90.0, 180.0, 270.0, 315.0])
    h = np.array([0.0, -3.0, -9.0, -25.0, -9.0, -3.0])
    el = np.array([-90.0, -20.0, -6.0, -2.0, 0.0, 10.0, 90.0])
    v = np.array([-22.0, -15.0, -3.0, 0.0, -1.0, -14.0, -22.0])
    t = PatternTable.from_arrays(az, h, el, v, gain_dbi=16.0, azimuth_deg=100.0)
    np.testing.assert_allclose(t.gain_db(100.0 + az, -2.0), 16.0 + h, atol=1e-12)
    np.testing.assert_allclose(t.gain_db(100.0, el), 16.0 + np.minimum(v, 0.0), atol=1e-12)
    # Linear in between, and periodic across 360.
    assert t.gain_db(100.0 + 22.5, -2.0) == pytest.approx(16.0 - 1.5)
    assert t.gain_db(100.0 + 337.5, -2.0) == pytest.approx(16.0 - 1.5)
    assert t.gain_db(100.0 - 22.5, -2.0) == pytest.approx(16.0 - 1.5)
    # Combined: attenuations add, capped at the deepest table value.
    assert t.max_attenuation_db == 25.0
    assert t.gain_db(100.0 + 90.0, -6.0) == pytest.approx(16.0 - 12.0)
    assert t.gain_db(280.0, -90.0) == pytest.approx(16.0 - 25.0)


def test_table_normalises_each_cut_to_its_peak():
    t = PatternTable.from_arrays([0, 90, 180, 270], [17, 10, -8, 10], [-90, 0, 90],
                                 [-5, 15, -5], gain_dbi=17.0)  # fmt: skip
    assert t.h_gain_db.max() == 0.0
    assert t.v_gain_db.max() == 0.0
    assert t.gain_db(0.0, 0.0) == 17.0
    assert not t.h_gain_db.flags.writeable


def test_sector_sampled_into_a_table_round_trips():
    s = Sector(azimuth_deg=0.0, electrical_downtilt_deg=3.0)
    az, h, el, v = _sampled(s)
    t = PatternTable.from_arrays(az, h, el, v, gain_dbi=s.gain_dbi, azimuth_deg=50.0,
                                 max_attenuation_db=s.front_to_back_db)  # fmt: skip
    pointed = Sector(azimuth_deg=50.0, electrical_downtilt_deg=3.0)
    # Exact on the table's grid ...
    az_g, el_g = np.meshgrid(50.0 + az[::7], el[::9], indexing="ij")
    np.testing.assert_allclose(t.gain_db(az_g, el_g), pointed.gain_db(az_g, el_g), atol=1e-9)
    # ... and within the linear-interpolation error everywhere else.
    rng = np.random.default_rng(7)
    a = rng.uniform(0.0, 360.0, 5000)
    e = rng.uniform(-90.0, 90.0, 5000)
    assert np.max(np.abs(t.gain_db(a, e) - pointed.gain_db(a, e))) < 0.3
    # A mechanical tilt on the table rotates it the same way as on the sector.
    tt = PatternTable.from_arrays(az, h, el, v, gain_dbi=17.0, mechanical_downtilt_deg=5.0,
                                  max_attenuation_db=25.0)  # fmt: skip
    st_ = Sector(azimuth_deg=0.0, electrical_downtilt_deg=3.0, mechanical_downtilt_deg=5.0)
    assert np.max(np.abs(tt.gain_db(a, e) - st_.gain_db(a, e))) < 0.3


def test_table_validation_lists_problems():
    # a one-point cut (input) outranks the angles and gains out of range (units); all are listed
    with pytest.raises(InputError) as info:
        PatternTable.from_arrays([0.0], [0.0], [-100.0, 0.0], [0.0, 1.0], gain_dbi=math.nan,
                                 mechanical_downtilt_deg=100.0)  # fmt: skip
    msg = str(info.value)
    for needle in ("horizontal cut", "vertical cut", "gain_dbi", "mechanical_downtilt_deg"):
        assert needle in msg
    assert len(info.value.problems) == 4
    with pytest.raises(UnitsError, match="vertical cut's elevations"):
        PatternTable.from_arrays([0, 180], [0, -20], [-100.0, 0.0], [0.0, 1.0], gain_dbi=10)
    with pytest.raises(InputError, match="two different gains"):
        PatternTable.from_arrays([0, 180, 360], [0, -20, -1], [-90, 90], [0, 0], gain_dbi=10)


def test_from_csv(tmp_path):
    path = tmp_path / "ant.csv"
    path.write_text(
        "cut,angle_deg,gain_db\n"
        "horizontal,0,15\nhorizontal,90,5\nhorizontal,180,-10\nhorizontal,270,5\n"
        "vertical,-90,-5\nvertical,-2,15\nvertical,90,-5\n"
    )
    t = PatternTable.from_csv(path, gain_dbi=15.0, azimuth_deg=30.0)
    assert t.name == "ant"
    assert t.gain_db(120.0, -2.0) == pytest.approx(5.0)
    assert t.gain_db(30.0, -2.0) == pytest.approx(15.0)
    bad = tmp_path / "bad.csv"
    bad.write_text("cut,angle_deg,gain_db\nsideways,0,1\nhorizontal,x,1\n")
    with pytest.raises(SchemaError) as info:
        PatternTable.from_csv(bad, gain_dbi=10.0)
    msg = str(info.value)
    assert "line 2" in msg and "line 3" in msg and "'vertical'" in msg
    with pytest.raises(SchemaError, match="cut,angle_deg,gain_db"):
        (tmp_path / "cols.csv").write_text("angle,gain\n0,1\n")
        PatternTable.from_csv(tmp_path / "cols.csv", gain_dbi=10.0)
    with pytest.raises(DataError):
        PatternTable.from_csv(tmp_path / "missing.csv", gain_dbi=10.0)


def _msi_text(sector: Sector, gain_line: str) -> str:
    """An MSI/Planet file of a sector: attenuations, vertical angles increasing downward."""
    lines = ["NAME Test 65deg", "MAKE Nobody", "FREQUENCY 900", gain_line, "TILT ELECTRICAL",
             "HORIZONTAL 360"]  # fmt: skip
    peak = sector.boresight_elevation_deg
    for a in range(360):
        lines.append(f"{a} {-sector.relative_gain_db(sector.azimuth_deg + a, peak):.4f}")
    lines.append("VERTICAL 360")
    for a in range(360):
        el = -a if a <= 90 else (360 - a if a >= 270 else None)
        att = 25.0 if el is None else -sector.relative_gain_db(sector.azimuth_deg, el)
        lines.append(f"{a}\t{att:.4f}")
    return "\n".join(lines) + "\n"


def test_from_msi_reads_a_planet_file(tmp_path):
    s = Sector(azimuth_deg=0.0, electrical_downtilt_deg=6.0, h_beamwidth_deg=65.0)
    path = tmp_path / "sector.msi"
    path.write_text(_msi_text(s, f"GAIN {17.0 - DBD_TO_DBI:.2f}"))  # dBd by default
    t = PatternTable.from_msi(path, azimuth_deg=240.0)
    assert t.name == "Test 65deg"
    assert t.gain_dbi == pytest.approx(17.0)
    pointed = Sector(azimuth_deg=240.0, electrical_downtilt_deg=6.0)
    assert _peak_elevation(t, 240.0) == pytest.approx(-6.0, abs=0.011)
    for az, el in [(240.0, -6.0), (272.5, -6.0), (240.0, -9.5), (60.0, -6.0), (300.0, 10.0)]:
        # 1-degree table: linear interpolation of the vertical parabola errs by <= 0.061 dB.
        assert t.gain_db(az, el) == pytest.approx(pointed.gain_db(az, el), abs=0.07)
    (tmp_path / "dbi.msi").write_text(_msi_text(s, "GAIN 17.0dBi"))
    assert PatternTable.from_msi(tmp_path / "dbi.msi").gain_dbi == 17.0


def test_from_msi_horizontal_sense(tmp_path):
    lines = ["NAME skew", "GAIN 10 dBi", "HORIZONTAL 4", "0 0", "90 3", "180 20", "270 10",
             "VERTICAL 3", "0 0", "90 10", "270 10"]  # fmt: skip
    (tmp_path / "skew.msi").write_text("\n".join(lines))
    cw = PatternTable.from_msi(tmp_path / "skew.msi")
    ccw = PatternTable.from_msi(tmp_path / "skew.msi", horizontal_clockwise=False)
    assert cw.gain_db(90.0, 0.0) == pytest.approx(7.0)
    assert ccw.gain_db(270.0, 0.0) == pytest.approx(7.0)
    assert cw.gain_db(0.0, -90.0) == pytest.approx(0.0)  # vertical 90 is the nadir


def test_from_msi_reports_every_problem(tmp_path):
    (tmp_path / "broken.msi").write_text("NAME x\nHORIZONTAL 3\n0 0\n90 x\n180 20\n")
    with pytest.raises(SchemaError) as info:
        PatternTable.from_msi(tmp_path / "broken.msi")
    msg = str(info.value)
    assert "GAIN" in msg and "HORIZONTAL" in msg and "VERTICAL" in msg


# --- elevation angle ----------------------------------------------------------------------


def test_elevation_toward_a_knife_edge_on_flat_ground():
    k = 4.0 / 3.0
    a_e = effective_earth_radius_m(k)
    spacing, n = 30.0, 100
    ground = np.full(n + 1, 100.0)
    z_tx = 100.0 + 30.0
    # Clear path: the angle toward the receiver antenna.
    x_rx = n * spacing
    expected = math.degrees(math.atan((101.5 - z_tx) / x_rx - x_rx / (2.0 * a_e)))
    assert elevation_angle_deg(z_tx, ground, spacing, k) == pytest.approx(expected, abs=1e-12)
    # A 160 m knife edge 40 samples out: the angle toward its top.
    wall = ground.copy()
    wall[40] = 160.0
    x_w = 40 * spacing
    expected = math.degrees(math.atan((160.0 - z_tx) / x_w - x_w / (2.0 * a_e)))
    assert elevation_angle_deg(z_tx, wall, spacing, k) == pytest.approx(expected, abs=1e-12)
    # An edge below the line of sight does not change the angle.
    low = ground.copy()
    low[40] = 110.0
    assert elevation_angle_deg(z_tx, low, spacing, k) == pytest.approx(
        elevation_angle_deg(z_tx, ground, spacing, k)
    )
    # Several profiles at once, one per row.
    both = elevation_angle_deg([z_tx, z_tx], np.stack([ground, wall]), spacing, k)
    assert both.shape == (2,)
    assert both[1] == pytest.approx(expected, abs=1e-12)


def test_curvature_lowers_the_angle_over_long_flat_paths():
    flat = np.zeros(1001)
    near = elevation_angle_deg(30.0, flat, 30.0, k_factor=1e6, rx_height_agl_m=30.0)
    curved = elevation_angle_deg(30.0, flat, 30.0, k_factor=4.0 / 3.0, rx_height_agl_m=30.0)
    assert near == pytest.approx(0.0, abs=1e-4)
    assert curved < -0.05  # 30 km on a curved earth: the receiver sits below the horizontal


def test_elevation_angle_validation():
    with pytest.raises(InputError) as info:  # one height per profile, with unit problems
        elevation_angle_deg(math.nan, [1.0], 0.0, k_factor=-1.0)
    msg = str(info.value)
    for name in ("tx_height_amsl_m", "profile_heights_m", "spacing_m", "k_factor"):
        assert name in msg
    with pytest.raises(UnitsError, match="NaN"):
        elevation_angle_deg(100.0, [100.0, np.nan, 100.0], 30.0)
