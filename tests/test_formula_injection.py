"""Text from the inputs (desa names, site ids) never becomes a live formula in a spreadsheet."""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import load_workbook

from blankspot.io.outputs import neutralize_formula, write_csv, write_xlsx

HOSTILE = ["=1+2", "+SUM(A1:A9)", "-2+3", "@cmd", '=HYPERLINK("http://evil","x")']


def _frame():
    return pd.DataFrame({
        "site_id": HOSTILE,
        "name": ["Desa " + h for h in HOSTILE],
        "rsrp_dbm": [-105.0, -98.5, -120.0, -80.0, -101.0],
        "cost_idr": [1, -2, 3, 4, 5],
    })


def test_workbook_writes_every_string_as_a_text_cell(tmp_path):
    path = write_xlsx({"Desa": _frame()}, tmp_path / "report.xlsx",
                      number_formats={"Desa": ["@", None, None, "#,##0"]})
    ws = load_workbook(path)["Desa"]
    cells = [ws.cell(row=i + 2, column=1) for i in range(len(HOSTILE))]
    assert [c.value for c in cells] == HOSTILE
    assert all(c.data_type == "s" for c in cells)
    assert all(ws.cell(row=i + 2, column=2).data_type == "s" for i in range(len(HOSTILE)))
    # numbers stay numbers
    assert ws.cell(row=2, column=3).value == -105.0 and ws.cell(row=2, column=3).data_type == "n"
    assert ws.cell(row=3, column=4).value == -2 and ws.cell(row=3, column=4).data_type == "n"


def test_csv_prefixes_formula_text_and_keeps_numbers(tmp_path):
    df = _frame().set_index("site_id")
    path = write_csv(df, tmp_path / "costs.csv", formula_safe=True)
    back = pd.read_csv(path)
    assert list(back["site_id"]) == ["'" + h for h in HOSTILE]
    assert back["rsrp_dbm"].dtype.kind == "f" and back["rsrp_dbm"].iloc[0] == -105.0
    assert back["cost_idr"].dtype.kind == "i"
    assert list(back["name"]) == ["Desa " + h for h in HOSTILE]  # safe: does not start with =


@pytest.mark.parametrize("value", ["-105", "+3.5", "-1e3", 7, -105.0, "Tanah Grogot"])
def test_plain_numbers_and_names_are_left_alone(value):
    assert neutralize_formula(value) == value
