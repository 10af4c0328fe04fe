"""Free-space loss (ITU-R P.525) and the LTE link budget against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from blankspot.errors import UnitsError
from blankspot.propagation import LinkBudget, free_space_loss_db
from blankspot.propagation.models import MIN_DISTANCE_M

# --- free space ---------------------------------------------------------------------------


def test_free_space_closed_forms():
    assert free_space_loss_db(1_000.0, 1_000.0) == pytest.approx(92.45, abs=1e-9)
    # 32.45 + 20 log10(900) + 20 log10(30) = 121.079...
    assert free_space_loss_db(30_000.0, 900.0) == pytest.approx(121.08, abs=0.005)
    assert free_space_loss_db(30_000.0, 900.0) == pytest.approx(
        32.45 + 20 * math.log10(900.0) + 20 * math.log10(30.0), abs=1e-12
    )


def test_free_space_vectorised_and_nan_passes():
    d = np.array([[0.0, 1.0, 10.0], [100.0, np.nan, 1e5]])
    loss = free_space_loss_db(d, 900.0)
    assert loss.shape == d.shape and loss.dtype == np.float64
    assert loss[0, 0] == loss[0, 1]  # 0 m is evaluated at MIN_DISTANCE_M
    assert MIN_DISTANCE_M == 1.0
    assert np.isnan(loss[1, 1])
    np.testing.assert_allclose(np.diff(loss[0]), [0.0, 20.0])
    assert isinstance(free_space_loss_db(5.0, 900.0), float)


@given(st.floats(1.0, 1e6), st.floats(1.0, 1e6), st.floats(30.0, 6000.0))
@example(10.0, 20.0, 900.0)
def test_free_space_never_falls_with_distance(d1, d2, f):
    lo, hi = sorted((d1, d2))
    assert free_space_loss_db(lo, f) <= free_space_loss_db(hi, f)


def test_free_space_rejects_bad_input_all_at_once():
    with pytest.raises(UnitsError) as info:
        free_space_loss_db([-1.0, 10.0], 0.0)
    assert "2 problems" in str(info.value)
    with pytest.raises(UnitsError, match="distance_m"):
        free_space_loss_db(np.inf, 900.0)
    with pytest.raises(UnitsError, match="freq_mhz"):
        free_space_loss_db(10.0, np.nan)


# --- link budget ----------------------------------------------------------------------------


def test_default_budget_numbers():
    b = LinkBudget()
    assert b.n_rb == 50
    # 46 - 10 log10(600) + 17 - 2
    assert b.eirp_re_dbm == pytest.approx(33.2, abs=0.05)
    assert b.eirp_re_dbm == pytest.approx(61.0 - 10 * math.log10(600.0), abs=1e-12)
    assert b.max_path_loss_db == pytest.approx(128.2, abs=0.05)
    assert b.replace(threshold_dbm=-110.0).max_path_loss_db == pytest.approx(133.2, abs=0.05)
    no_losses = b.replace(body_loss_db=0.0, location_margin_db=0.0)
    assert no_losses.max_path_loss_db == pytest.approx(138.2, abs=0.05)


@pytest.mark.parametrize(
    ("bandwidth", "n_rb"), [(1.4, 6), (3.0, 15), (5.0, 25), (10.0, 50), (15.0, 75), (20.0, 100)]
)
def test_resource_blocks(bandwidth, n_rb):
    assert LinkBudget(bandwidth_mhz=bandwidth).n_rb == n_rb


def test_five_mhz_eirp_per_resource_element():
    # 46 - 10 log10(12 * 25) + 17 - 2 = 36.2 dBm; 2 dB less with a 15 dBi antenna
    assert LinkBudget(bandwidth_mhz=5.0).eirp_re_dbm == pytest.approx(36.2, abs=0.05)
    b = LinkBudget(bandwidth_mhz=5.0, tx_gain_dbi=15.0)
    assert b.eirp_re_dbm == pytest.approx(34.2, abs=0.05)


def test_rsrp_and_covered_are_consistent():
    b = LinkBudget()
    loss = np.array([100.0, b.max_path_loss_db, b.max_path_loss_db + 0.01, np.nan])
    rsrp = b.rsrp_dbm(loss)
    assert rsrp[0] == pytest.approx(b.eirp_re_dbm - 3.0 - 100.0)
    assert np.isnan(rsrp[3])
    np.testing.assert_array_equal(b.covered(loss), [True, True, False, False])
    margin_ok = rsrp - b.location_margin_db >= b.threshold_dbm - 1e-9
    np.testing.assert_array_equal(b.covered(loss)[:3], margin_ok[:3])
    assert b.covered(120.0) is True and isinstance(b.rsrp_dbm(120.0), float)


def test_budget_is_frozen_and_replace_validates():
    b = LinkBudget()
    with pytest.raises(AttributeError):
        b.threshold_dbm = -110.0
    assert b.replace(threshold_dbm=-110.0).threshold_dbm == -110.0
    with pytest.raises(UnitsError):
        b.replace(freq_mhz=9e8)


def test_budget_reports_every_problem():
    with pytest.raises(UnitsError) as info:
        LinkBudget(freq_mhz=2.0, bandwidth_mhz=7.0, feeder_loss_db=-1.0, body_loss_db=np.nan,
                   location_margin_db=-2.0)  # fmt: skip
    message = str(info.value)
    assert "5 problems" in message
    for name in ("freq_mhz", "bandwidth_mhz", "feeder_loss_db", "body_loss_db", "location_margin"):
        assert name in message
    with pytest.raises(UnitsError, match="tx_power_dbm"):
        LinkBudget(tx_power_dbm="loud")
