"""Text that looks like a formula is written as a string cell: Excel shows it as typed."""

import datetime
from decimal import Decimal

import openpyxl
import pytest
import xlsxwriter

from branches.reports.safe import looks_like_formula, text_cell, write_row

DANGEROUS = ["=SUM(A1)", "+86 138 0000 0000", "-1", "@SUM(A1)", "\t=1+1", '=HYPERLINK("http://x")']


def roundtrip(tmp_path, values):
    path = tmp_path / "t.xlsx"
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet()
    formats = {
        "number": workbook.add_format({"num_format": "0.00"}),
        "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
    }
    write_row(sheet, 0, values, formats)
    workbook.close()
    return list(openpyxl.load_workbook(path).active.iter_rows())[0]


@pytest.mark.parametrize("text", DANGEROUS)
def test_formula_looking_text_is_a_string_cell_with_its_value_unchanged(tmp_path, text):
    [cell] = roundtrip(tmp_path, [text])
    assert cell.data_type == "s"
    assert cell.value == text
    assert looks_like_formula(text)


def test_a_carriage_return_first_is_a_string_cell_too(tmp_path):
    [cell] = roundtrip(tmp_path, ["\r=1+1"])
    # The file stores CR as OOXML's _x000D_ escape, which Excel reads back as CR; openpyxl leaves it escaped.
    assert cell.data_type == "s"
    assert cell.value.endswith("=1+1")


def test_numbers_are_numbers_with_their_format_and_dates_are_dates(tmp_path):
    points, rank, day, blank, text = roundtrip(tmp_path, [Decimal("12.50"), 3, datetime.date(2025, 5, 6), None, "党员"])
    assert (points.data_type, points.value, points.number_format) == ("n", 12.5, "0.00")
    assert (rank.data_type, rank.value) == ("n", 3)
    assert day.value == datetime.datetime(2025, 5, 6) and day.number_format == "yyyy-mm-dd"
    assert blank.value is None
    assert text.value == "党员"


def test_text_cell_leaves_the_text_as_typed():
    assert text_cell("=1") == "=1"
    assert text_cell(None) == ""
    assert text_cell(5) == "5"
