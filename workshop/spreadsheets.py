"""Spreadsheet files made for download (CSV and XLSX): what every export does with the text in it.

CSV: UTF-8 with a byte-order mark, so that Excel reads the names right, and ';' between fields:
Excel set to Indonesian (decimal comma) splits on the list separator of the locale, which is ';',
so a ','-separated file opens as one column there; a "sep=;" line is not used because it makes
Excel ignore the byte-order mark.

Names, answers and titles come from people (a public form among them) and must never run as a
formula (OWASP "CSV Injection"): in a CSV file a text cell that starts with one of FORMULA_START
gets a leading apostrophe, which spreadsheet programs show as text; in an XLSX file every text
cell is stored as text (openpyxl would store "=..." as a formula, so `workbook_bytes` turns any
formula cell back into text: no export writes formulas on purpose).

What is already stored may hold characters a file cannot (control characters that XLSX forbids,
lone surrogates that UTF-8 cannot encode): they are left out, so one name never fails an export.

openpyxl is imported by the functions that make a workbook, not with this module: the exports are
made now and then, and a web process that never makes one does not carry openpyxl's modules
(several MiB of each process's memory, issue 15). The exports that style cells do the same.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

CSV_DELIMITER = ";"
# OWASP's list (=, +, -, @, tab, carriage return), line feed and NUL (ASVS 1.2.10), and the
# full-width forms some spreadsheet programs also read as the start of a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\0", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_bytes(header: Sequence, rows: Iterable[Sequence]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    return text.getvalue().encode("utf-8-sig", errors="replace")


@cache
def _illegal_characters() -> re.Pattern[str]:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE


def xlsx_value(value):
    if not isinstance(value, str):
        return value
    return _illegal_characters().sub("", value).encode("utf-8", errors="replace").decode("utf-8")


def new_workbook(title: str) -> tuple[Workbook, Worksheet]:
    """A new workbook and its one sheet, named `title`."""
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

    book = Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet)  # a new workbook's one sheet (typed as any kind of sheet)
    sheet.title = title
    return book, sheet


def append_row(sheet, values: Iterable) -> None:
    """`sheet.append`, with text the XLSX format can hold."""
    sheet.append([xlsx_value(value) for value in values])


def workbook_bytes(book: Workbook) -> bytes:
    """The saved file, every text cell stored as text."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()
