"""ITU-R P.2108: every row of the NTIA test data, including the rows that must fail.

The data (NTIA/p2108-test-data, read in place from ``../shared/reference/public/ntia-p2108/``)
give the expected loss to one decimal; valid rows must agree within 0.1 dB, NTIA's own test
tolerance (one value, 30.9 dB at 67 GHz, is truncated rather than rounded from 30.95 dB; every
other row rounds to the given decimal). Rows with a non-zero return code are invalid inputs:
they must raise UnitsError naming the parameter and its range.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from blankspot.errors import InputError, UnitsError
from blankspot.propagation.p2108 import (
    NOMINAL_CLUTTER_HEIGHT_M,
    p2108_aeronautical_statistical_db,
    p2108_terminal_correction_db,
    p2108_terrestrial_statistical_db,
)

# NTIA return code -> text the error message must contain (parameter name and range)
ERROR_TEXT = {
    32: ("f_ghz", "0.03-3 GHz"),
    33: ("h_m", "> 0 m"),
    34: ("w_s_m", "> 0 m"),
    35: ("R_m", "> 0 m"),
    48: ("f_ghz", "0.5-67 GHz"),
    49: ("d_km", ">= 0.25 km"),
    50: ("p_pct", "(0, 100) %"),
    64: ("f_ghz", "10-100 GHz"),
    65: ("theta_deg", "0-90 degrees"),
    66: ("p_pct", "(0, 100) %"),
}
ABS_TOL_DB = 0.1
ROWS = {
    "HeightGainTerminalCorrectionModelTestData.csv": 23,
    "TerrestrialStatisticalModelTestData.csv": 12,
    "AeronauticalStatisticalModelTestData.csv": 13,
}


def _rows(shared_dir: Path, name: str) -> list[dict[str, float]]:
    path = shared_dir / "reference" / "public" / "ntia-p2108" / name
    with path.open() as fh:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def _check_row(row, call, expected_key):
    code = int(row["rtn"])
    if code == 0:
        got = call()
        assert abs(got - row[expected_key]) <= ABS_TOL_DB, (got, row)
        return got
    name, text = ERROR_TEXT[code]
    with pytest.raises(UnitsError) as err:
        call()
    msg = str(err.value)
    assert name in msg and text in msg, msg
    return None


@pytest.mark.parametrize(("name", "n"), ROWS.items())
def test_row_counts(shared_dir, name, n):
    assert len(_rows(shared_dir, name)) == n


@pytest.mark.parametrize("i", range(ROWS["HeightGainTerminalCorrectionModelTestData.csv"]))
def test_height_gain_terminal_correction_rows(shared_dir, i):
    row = _rows(shared_dir, "HeightGainTerminalCorrectionModelTestData.csv")[i]
    _check_row(
        row,
        lambda: p2108_terminal_correction_db(
            row["f__ghz"],
            row["h__meter"],
            clutter_type=int(row["clutter_type"]),
            w_s_m=row["w_s__meter"],
            R_m=row["R__meter"],
        ),
        "A_h__db",
    )


@pytest.mark.parametrize("i", range(ROWS["TerrestrialStatisticalModelTestData.csv"]))
def test_terrestrial_statistical_rows(shared_dir, i):
    row = _rows(shared_dir, "TerrestrialStatisticalModelTestData.csv")[i]
    _check_row(
        row,
        lambda: p2108_terrestrial_statistical_db(row["f__ghz"], row["d__km"], row["p"]),
        "L_ctt__db",
    )


@pytest.mark.parametrize("i", range(ROWS["AeronauticalStatisticalModelTestData.csv"]))
def test_aeronautical_statistical_rows(shared_dir, i):
    row = _rows(shared_dir, "AeronauticalStatisticalModelTestData.csv")[i]
    _check_row(
        row,
        lambda: p2108_aeronautical_statistical_db(row["f__ghz"], row["theta_deg"], row["p"]),
        "L_ces__db",
    )


def test_which_rows_are_errors(shared_dir):
    codes = {name: [int(r["rtn"]) for r in _rows(shared_dir, name)] for name in ROWS}
    assert codes["HeightGainTerminalCorrectionModelTestData.csv"][-6:] == [0, 32, 32, 33, 34, 35]
    assert codes["TerrestrialStatisticalModelTestData.csv"][-5:] == [48, 48, 49, 50, 50]
    assert codes["AeronauticalStatisticalModelTestData.csv"][-6:] == [64, 64, 65, 65, 66, 66]


def test_vectorised_rows_match_scalar_calls(shared_dir):
    rows = [
        r for r in _rows(shared_dir, "TerrestrialStatisticalModelTestData.csv") if r["rtn"] == 0
    ]
    f, d, p = (np.array([r[k] for r in rows]) for k in ("f__ghz", "d__km", "p"))
    vec = p2108_terrestrial_statistical_db(f, d, p)
    np.testing.assert_allclose(
        vec, [p2108_terrestrial_statistical_db(*t) for t in zip(f, d, p, strict=True)]
    )


# Planning table: 1.5 m handset, w_s 27 m; knife-edge form for R = 10-20 m, open/rural for 4 m
@pytest.mark.parametrize(
    ("clutter_type", "r_m", "loss_900", "loss_1800"),
    [
        ("trees_forest", 10.0, 18.8, 21.8),
        ("trees_forest", 12.0, 20.5, 23.5),
        ("trees_forest", 15.0, 22.6, 25.6),
        ("trees_forest", 20.0, 25.1, 28.1),
        ("open_rural", 4.0, 9.2, 10.0),
    ],
)
def test_handset_clutter_losses(clutter_type, r_m, loss_900, loss_1800):
    got = p2108_terminal_correction_db([0.9, 1.8], 1.5, clutter_type=clutter_type, R_m=r_m)
    np.testing.assert_allclose(np.round(got, 1), [loss_900, loss_1800])


def test_nominal_clutter_heights_by_default():
    for kind, r in NOMINAL_CLUTTER_HEIGHT_M.items():
        assert p2108_terminal_correction_db(1.0, 2.0, clutter_type=kind) == (
            p2108_terminal_correction_db(1.0, 2.0, clutter_type=kind, R_m=r)
        )
    assert NOMINAL_CLUTTER_HEIGHT_M["dense_urban"] == 20.0
    assert NOMINAL_CLUTTER_HEIGHT_M["trees_forest"] == 15.0


def test_clutter_type_aliases_and_codes():
    ref = p2108_terminal_correction_db(0.9, 1.5, clutter_type="trees_forest")
    for alias in ("forest", "trees", "Trees/Forest", 5):
        assert p2108_terminal_correction_db(0.9, 1.5, clutter_type=alias) == ref


def test_antenna_above_clutter_has_no_loss():
    assert p2108_terminal_correction_db(0.9, 25.0, clutter_type="urban", R_m=15.0) == 0.0
    assert p2108_terminal_correction_db(0.9, 15.0, clutter_type="open", R_m=15.0) == 0.0


def test_open_rural_closed_form():
    # Eq. 2b: -K_h2·log10(h/R), K_h2 = 21.8 + 6.2·log10(f)
    expected = -(21.8 + 6.2 * np.log10(0.9)) * np.log10(1.5 / 10.0)
    assert p2108_terminal_correction_db(0.9, 1.5, clutter_type="open_rural", R_m=10.0) == (
        pytest.approx(expected, abs=1e-12)
    )


def test_terrestrial_loss_capped_at_two_km_value():
    assert p2108_terrestrial_statistical_db(0.9, 50.0, 50.0) == pytest.approx(
        p2108_terrestrial_statistical_db(0.9, 2.0, 50.0)
    )


def test_every_problem_listed_at_once():
    # an unknown clutter type (input) outranks the ranges (units); every problem is listed
    with pytest.raises(InputError) as err:
        p2108_terminal_correction_db(5.0, -1.0, clutter_type="jungle", w_s_m=0.0, R_m=-2.0)
    msg = str(err.value)
    for fragment in ("clutter_type", "f_ghz", "h_m", "w_s_m", "R_m", "5 problems"):
        assert fragment in msg
    with pytest.raises(UnitsError, match="4 problems"):
        p2108_terminal_correction_db(5.0, -1.0, clutter_type="urban", w_s_m=0.0, R_m=-2.0)
    with pytest.raises(UnitsError, match="3 problems"):
        p2108_aeronautical_statistical_db(1.0, 95.0, 100.0)
