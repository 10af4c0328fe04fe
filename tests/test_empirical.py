"""Okumura-Hata and COST-231 Hata: hand-computed values, the planning cross-check, ranges."""

from __future__ import annotations

import math

import numpy as np
import pytest

from blankspot.errors import InputError, UnitsError
from blankspot.propagation.empirical import cost231_hata_loss_db, hata_loss_db


def _hand_hata_urban_medium(f, d, hb, hm):
    a = (1.1 * math.log10(f) - 0.7) * hm - (1.56 * math.log10(f) - 0.8)
    return (
        69.55
        + 26.16 * math.log10(f)
        - 13.82 * math.log10(hb)
        - a
        + (44.9 - 6.55 * math.log10(hb)) * math.log10(d)
    )


def test_hata_urban_worked_value():
    # 900 MHz, 10 km, 30 m base, 1.5 m mobile, term by term:
    # 69.55 + 77.2830 - 20.4138 - 0.0159 + 35.2249 = 161.628
    assert hata_loss_db(900.0, 10.0, 30.0, 1.5) == pytest.approx(161.628, abs=5e-3)


@pytest.mark.parametrize(
    ("f", "d", "hb", "hm"),
    [(150.0, 1.0, 30.0, 1.0), (450.0, 5.0, 50.0, 3.0), (1500.0, 20.0, 200.0, 10.0)],
)
def test_hata_urban_closed_form(f, d, hb, hm):
    assert hata_loss_db(f, d, hb, hm) == pytest.approx(
        _hand_hata_urban_medium(f, d, hb, hm), abs=1e-9
    )


def test_suburban_and_open_corrections():
    f = 900.0
    urban = hata_loss_db(f, 5.0, 40.0, 1.5)
    suburban = hata_loss_db(f, 5.0, 40.0, 1.5, environment="suburban")
    open_ = hata_loss_db(f, 5.0, 40.0, 1.5, environment="open")
    assert urban - suburban == pytest.approx(2.0 * math.log10(f / 28.0) ** 2 + 5.4, abs=1e-9)
    lf = math.log10(f)
    assert urban - open_ == pytest.approx(4.78 * lf**2 - 18.33 * lf + 40.94, abs=1e-9)


def test_mobile_height_correction_uses_the_mobile_height_and_log10():
    # a(h_m) changes with the mobile height only: raising the mobile from 1.5 m to 5 m lowers
    # the loss by (1.1·log10 f - 0.7)·3.5 whatever the base height
    f = 900.0
    step = (1.1 * math.log10(f) - 0.7) * 3.5
    for hb in (30.0, 60.0, 150.0):
        assert hata_loss_db(f, 8.0, hb, 1.5) - hata_loss_db(f, 8.0, hb, 5.0) == pytest.approx(step)
    # 900 MHz, 1.5 m: a(h_m) = 0.016 dB; ln instead of log10 gives 0.36 dB, and the 30 m base
    # height in place of the mobile's gives 72.7 dB
    a_log10 = (1.1 * math.log10(f) - 0.7) * 1.5 - (1.56 * math.log10(f) - 0.8)
    assert abs(a_log10) < 0.02
    assert hata_loss_db(f, 1.0, 30.0, 1.5) == pytest.approx(
        69.55 + 26.16 * math.log10(f) - 13.82 * math.log10(30.0) - a_log10
    )


def test_large_city_correction():
    # f >= 300 MHz: a(h_m) = 3.2·(log10(11.75·h_m))² - 4.97
    a = 3.2 * math.log10(11.75 * 1.5) ** 2 - 4.97
    base = 69.55 + 26.16 * math.log10(900.0) - 13.82 * math.log10(30.0)
    assert hata_loss_db(900.0, 1.0, 30.0, 1.5, city="large") == pytest.approx(base - a)
    # below 300 MHz: 8.29·(log10(1.54·h_m))² - 1.1
    a_low = 8.29 * math.log10(1.54 * 1.5) ** 2 - 1.1
    base_low = 69.55 + 26.16 * math.log10(200.0) - 13.82 * math.log10(30.0)
    assert hata_loss_db(200.0, 1.0, 30.0, 1.5, city="large") == pytest.approx(base_low - a_low)


def _radius_km(mapl_db, h_base_m, environment):
    """Invert L = L(1 km) + slope·log10 d for d."""
    l1 = hata_loss_db(900.0, 1.0, h_base_m, 1.5, environment=environment)
    slope = hata_loss_db(900.0, 10.0, h_base_m, 1.5, environment=environment) - l1
    return 10.0 ** ((mapl_db - l1) / slope)


@pytest.mark.parametrize(
    ("h_base_m", "radius_km"), [(32.0, 7.4), (42.0, 8.7), (52.0, 9.8), (72.0, 12.0)]
)
def test_planning_cross_check_open_area_radii(h_base_m, radius_km):
    # planning-parameters §2: open-area radii at 900 MHz, MAPL 128 dB, handset 1.5 m
    d = _radius_km(128.0, h_base_m, "open")
    assert round(d, 1) == radius_km
    assert hata_loss_db(900.0, d, h_base_m, 1.5, environment="open") == pytest.approx(128.0)


def test_planning_cross_check_at_140_db():
    # "16-28 km at 140 dB (the urban form gives 2.5-3.8 km)": both ranges hold at 140 dB
    assert round(_radius_km(140.0, 32.0, "open")) == 16
    assert round(_radius_km(140.0, 72.0, "open")) == 28
    assert round(_radius_km(140.0, 32.0, "urban"), 1) == 2.5
    assert round(_radius_km(140.0, 72.0, "urban"), 1) == 3.8


def test_cost231_worked_value():
    # 1800 MHz, 5 km, 30 m, 1.5 m, medium city:
    # 46.3 + 110.3538 - 20.4138 - 0.0430 + 24.6211 = 160.818
    assert cost231_hata_loss_db(1800.0, 5.0, 30.0, 1.5) == pytest.approx(160.818, abs=5e-3)
    assert cost231_hata_loss_db(1800.0, 5.0, 30.0, 1.5, city="large") == pytest.approx(
        cost231_hata_loss_db(1800.0, 5.0, 30.0, 1.5)
        + 3.0
        - (3.2 * math.log10(11.75 * 1.5) ** 2 - 4.97)
        + ((1.1 * math.log10(1800.0) - 0.7) * 1.5 - (1.56 * math.log10(1800.0) - 0.8))
    )


def test_vectorised_over_distance():
    d = np.array([1.0, 2.0, 5.0, 10.0, 20.0])
    loss = hata_loss_db(900.0, d, 42.0, 1.5, environment="open")
    assert loss.shape == d.shape
    assert np.all(np.diff(loss) > 0)
    assert isinstance(hata_loss_db(900.0, 5.0, 42.0, 1.5), float)


def test_validity_ranges_reported_together():
    # unknown names (input) outrank the ranges (units); every problem is listed
    with pytest.raises(InputError) as err:
        hata_loss_db(1800.0, 0.5, 20.0, 12.0, environment="forest", city="huge")
    msg = str(err.value)
    for fragment in (
        "f_mhz must be within 150-1500 MHz",
        "d_km must be within 1-20 km",
        "h_base_m must be within 30-200 m",
        "h_mobile_m must be within 1-10 m",
        "environment",
        "city",
        "6 problems",
    ):
        assert fragment in msg, fragment
    with pytest.raises(UnitsError, match="1500-2000 MHz"):
        cost231_hata_loss_db(900.0, 5.0, 30.0, 1.5)
    with pytest.raises(InputError, match="city must be one of"):
        cost231_hata_loss_db(1800.0, 5.0, 30.0, 1.5, city="huge")
    with pytest.raises(UnitsError) as err:
        hata_loss_db(1800.0, 0.5, 20.0, 12.0)
    assert "4 problems" in str(err.value)
    with pytest.raises(UnitsError, match="1 value"):
        hata_loss_db(900.0, np.array([5.0, 25.0]), 30.0, 1.5)
