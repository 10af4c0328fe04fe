"""P.526 single knife edge: closed forms for J(ν), the approximation and ν."""

from __future__ import annotations

import math

import numpy as np
import pytest

from blankspot.errors import UnitsError
from blankspot.propagation.diffraction import (
    _knife_edge_approx_db,
    fresnel_nu,
    knife_edge_loss_approx_db,
    knife_edge_loss_db,
)


def test_grazing_edge_is_six_db():
    # ν = 0: C = S = 0, so J = 20·log10(2)
    assert knife_edge_loss_db(0.0) == pytest.approx(20.0 * math.log10(2.0), abs=1e-12)
    assert round(knife_edge_loss_db(0.0), 2) == 6.02


def test_approximation_close_to_exact():
    nu = np.linspace(-0.7, 5.0, 2001)
    diff = np.abs(knife_edge_loss_approx_db(nu) - knife_edge_loss_db(nu))
    assert diff.max() < 0.5  # P.526's claim for the closed form
    assert diff.max() < 0.13  # what it actually achieves on this range


@pytest.mark.parametrize("nu", [5.0, 10.0, 30.0, 100.0])
def test_large_nu_asymptote(nu):
    # P.526: J(ν) ≈ 12.953 + 20·log10(ν) for large ν
    assert knife_edge_loss_db(nu) == pytest.approx(12.953 + 20.0 * math.log10(nu), abs=0.01)


def test_deep_clearance_is_lossless():
    # the exact loss ripples about 0 dB with an amplitude falling as 1/|ν|
    assert abs(knife_edge_loss_db(-20.0)) < 0.2
    assert abs(knife_edge_loss_db(-100.0)) < 0.05
    assert knife_edge_loss_approx_db(-0.78) == 0.0
    assert knife_edge_loss_approx_db(-5.0) == 0.0


def test_approximation_closed_form_values():
    # ν = 1: 6.9 + 20·log10(√1.81 + 0.9)
    assert knife_edge_loss_approx_db(1.0) == pytest.approx(
        6.9 + 20.0 * math.log10(math.sqrt(1.81) + 0.9), abs=1e-12
    )


def test_numba_twin_matches_vectorised_form():
    nu = np.linspace(-2.0, 8.0, 101)
    scalar = np.array([_knife_edge_approx_db(float(v)) for v in nu])
    np.testing.assert_allclose(scalar, knife_edge_loss_approx_db(nu), atol=1e-12)


def test_loss_grows_with_nu():
    nu = np.linspace(-0.5, 10.0, 500)
    assert np.all(np.diff(knife_edge_loss_db(nu)) > 0)
    assert np.all(np.diff(knife_edge_loss_approx_db(nu)) > 0)


def test_scalar_in_scalar_out_and_nan_passes():
    assert isinstance(knife_edge_loss_db(1.0), float)
    assert isinstance(knife_edge_loss_approx_db(1.0), float)
    assert math.isnan(knife_edge_loss_db(float("nan")))
    assert math.isnan(knife_edge_loss_approx_db(float("nan")))


def test_nu_at_first_fresnel_radius_is_root_two():
    d1, d2, lam = 3000.0, 7000.0, 0.333
    r1 = math.sqrt(lam * d1 * d2 / (d1 + d2))
    assert fresnel_nu(r1, d1, d2, lam) == pytest.approx(math.sqrt(2.0), rel=1e-12)
    assert fresnel_nu(-r1, d1, d2, lam) == pytest.approx(-math.sqrt(2.0), rel=1e-12)


def test_nu_is_symmetric_and_broadcasts():
    h = np.array([-10.0, 0.0, 10.0])
    a = fresnel_nu(h, 1000.0, 4000.0, 0.5)
    b = fresnel_nu(h, 4000.0, 1000.0, 0.5)
    np.testing.assert_allclose(a, b)
    assert a.shape == (3,)


def test_bad_inputs_listed_together():
    with pytest.raises(UnitsError) as err:
        fresnel_nu(1.0, -5.0, 0.0, 0.0)
    msg = str(err.value)
    assert "d1_m" in msg and "d2_m" in msg and "wavelength_m" in msg
    assert "3 problems" in msg
    with pytest.raises(UnitsError, match="finite"):
        knife_edge_loss_db(math.inf)
    with pytest.raises(UnitsError, match="finite"):
        knife_edge_loss_approx_db([0.0, -math.inf])
