"""Coverage as a probability: the location-variability helper and probabilistic siting."""

from __future__ import annotations

import math

import numpy as np
import pytest

from blankspot.errors import UnitsError
from blankspot.propagation.budget import DEFAULT_SIGMA_L_DB, coverage_probability


def test_probability_is_one_half_at_the_threshold() -> None:
    assert coverage_probability(-105.0, -105.0, 8.0) == 0.5
    assert coverage_probability(-90.0, -90.0) == 0.5


def test_probability_closed_form_symmetric_and_monotone() -> None:
    t, s = -105.0, 8.0
    d = np.linspace(-40.0, 40.0, 161)
    p = np.asarray(coverage_probability(t + d, t, s))
    assert np.all(np.diff(p) > 0)
    np.testing.assert_allclose(p + p[::-1], 1.0, rtol=0, atol=1e-15)  # p(T+d) + p(T-d) = 1
    expected = [0.5 * math.erfc(-x / (s * math.sqrt(2.0))) for x in d]
    np.testing.assert_allclose(p, expected, rtol=1e-14, atol=1e-300)
    # one sigma above the threshold: Φ(1)
    assert coverage_probability(t + s, t, s) == pytest.approx(0.8413447460685429, rel=1e-12)


def test_default_sigma_matches_the_link_budget_margin() -> None:
    # the 7 dB default margin is 1.2816 σ_L: 90 % of locations
    p = coverage_probability(-105.0 + 1.2816 * DEFAULT_SIGMA_L_DB, -105.0)
    assert p == pytest.approx(0.90, abs=1e-4)


def test_probability_nan_is_zero_and_bad_sigma_is_refused() -> None:
    out = np.asarray(coverage_probability(np.array([np.nan, -200.0, 0.0]), -105.0, 5.5))
    assert out[0] == 0.0 and out[1] < 1e-30 and out[2] == 1.0
    with pytest.raises(UnitsError, match="sigma_l_db"):
        coverage_probability(-100.0, -105.0, 0.0)
    with pytest.raises(UnitsError, match="sigma_l_db"):
        coverage_probability(-100.0, -105.0, math.nan)
