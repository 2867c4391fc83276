"""The one way a value reaches a worksheet cell.

Text is always written with ``write_string``: XlsxWriter's ``write`` would turn a
string that starts with ``=`` into a formula, and Excel evaluates cells that start with
``=``, ``+``, ``-`` or ``@`` (formula injection). A string cell is shown as text and
never evaluated, so a member named ``=SUM(A1)`` or a post ``+86 …`` reads back exactly
as typed. Numbers (Decimal, int) are numbers with a number format; dates are dates.
"""

import datetime
from decimal import Decimal

# Cells that would be formulas if typed into Excel; written as strings they are text.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: str) -> bool:
    return value.startswith(FORMULA_PREFIXES)


def text_cell(value) -> str:
    """The text a cell holds for ``value``: ``str(value)``, never stripped or escaped —
    it is safe because it is written as a string cell (see ``write_cell``)."""
    return "" if value is None else str(value)


def write_cell(worksheet, row: int, col: int, value, formats: dict | None = None) -> None:
    """Write ``value`` at (row, col): Decimal/int/float as a number (``formats["number"]``
    for Decimal, ``formats["integer"]`` for int), a date as a date (``formats["date"]``),
    None as a blank, anything else as a string cell (``formats["string"]``, if any)."""
    formats = formats or {}
    if value is None:
        worksheet.write_blank(row, col, None)
    elif isinstance(value, bool):
        worksheet.write_boolean(row, col, value)
    elif isinstance(value, Decimal):
        # XlsxWriter stores IEEE doubles; two-decimal points survive the round trip.
        worksheet.write_number(row, col, float(value), formats.get("number"))
    elif isinstance(value, int):
        worksheet.write_number(row, col, value, formats.get("integer"))
    elif isinstance(value, float):
        worksheet.write_number(row, col, value, formats.get("number"))
    elif isinstance(value, datetime.datetime):
        worksheet.write_datetime(row, col, value.replace(tzinfo=None), formats.get("datetime") or formats.get("date"))
    elif isinstance(value, datetime.date):
        worksheet.write_datetime(row, col, value, formats.get("date"))
    else:
        worksheet.write_string(row, col, text_cell(value), formats.get("string"))


def _string(ws, row, col, value, formats):
    ws.write_string(row, col, value, formats.get("string"))


def _number(ws, row, col, value, formats):
    ws.write_number(row, col, value, formats.get("number"))


def _integer(ws, row, col, value, formats):
    ws.write_number(row, col, value, formats.get("integer"))


def _decimal(ws, row, col, value, formats):
    ws.write_number(row, col, float(value), formats.get("number"))


def _blank(ws, row, col, value, formats):
    ws.write_blank(row, col, None)


# The common exact types, written without the chain of ``isinstance`` tests (a workbook
# of 100,000 members has two million cells); anything else, subclasses included (a
# lazy translation, a SafeString), goes through ``write_cell``.
WRITERS = {str: _string, float: _number, int: _integer, Decimal: _decimal, type(None): _blank}
NO_FORMATS: dict = {}


def write_row(worksheet, row: int, values, formats: dict | None = None, col_formats: dict | None = None) -> None:
    """Write a row of values; ``col_formats`` maps a column to the format dict to use."""
    formats = formats or NO_FORMATS
    for col, value in enumerate(values):
        cell_formats = col_formats.get(col, formats) if col_formats else formats
        writer = WRITERS.get(type(value))
        if writer is None:
            write_cell(worksheet, row, col, value, cell_formats)
        else:
            writer(worksheet, row, col, value, cell_formats)
