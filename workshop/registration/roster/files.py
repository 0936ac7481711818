"""Reading a roster file (XLSX or CSV) into rows of cell texts, the way Excel users write them.

A title may sit above the header (merged cells, a blank row), a row of column numbers "(1) (2)
(3)" may sit below it, numbers may be stored as numbers (a phone loses its leading zero), a CSV
may be separated by ";" and saved as Windows-1252. Row numbers are the ones Excel shows.

An XLSX is a zip archive: its declared sizes are checked before openpyxl opens it (Python's
zipfile never unpacks more than a member declares), so a tiny file that unpacks to gigabytes is
refused instead of filling the memory of the process that also serves the check-in desks.
openpyxl parses with defusedxml (installed), which refuses entity tricks.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time

from flask_babel import lazy_gettext as _l

from workshop.registration.roster import columns
from workshop.textfiles import decode_upload

MAX_ROWS = 5000
HEADER_SCAN_ROWS = 20  # a title or a note may sit above the header
MAX_COLUMNS = 200
MAX_SHEET_ROWS = 100_000
# What an XLSX may unpack to: a roster of 5,000 rows unpacks to a few MB.
MAX_UNPACKED_BYTES = 64 * 1024 * 1024
MAX_PACKING_RATIO = 100  # unpacked / packed; a real workbook is 5-20, a zip bomb 1,000 and more

EXTENSIONS = ("csv", "txt", "xlsx", "xlsm", "xls")  # .xls: to say that it is old, or an HTML table
FILE_ERRORS = {
    "empty_file": _l("The file is empty."),
    "wrong_type": _l("This kind of file cannot be imported: upload an Excel workbook (.xlsx) or a CSV file."),
    "old_excel": _l("This is an old Excel file (.xls): open it in Excel and save it as .xlsx or .csv."),
    "unreadable": _l("The file could not be read: is it a damaged Excel workbook?"),
    "unpacks_too_large": _l(
        "This workbook unpacks to far more data than a participant list holds: copy the participants "
        "into a new workbook and upload that one."
    ),
    "no_rows": _l("The file has a header row but no participants."),
    "too_many_rows": _l("The file has more than %(max)d participant rows: split it into several files."),
}


class RosterFileError(columns.CodedError):
    """The file as a whole cannot be used (wrong type, empty, damaged, too many rows...)."""

    MESSAGES = FILE_ERRORS


@dataclass
class Table:
    header: list[str]
    header_row: int
    rows: list[tuple[int, list[str]]]  # (row number as in the spreadsheet, cell texts)


def read_table(filename: str, data: bytes) -> Table:
    """The header and the non-blank rows of the first sheet (XLSX) or of a CSV file."""
    if not data or not data.strip():
        raise RosterFileError("empty_file")
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in EXTENSIONS:
        raise RosterFileError("wrong_type")
    if data.startswith(b"\xd0\xcf\x11\xe0"):  # OLE2: the old .xls format
        raise RosterFileError("old_excel")
    rows: Iterable[tuple[int, list[str]]]
    if data.startswith(b"PK\x03\x04"):
        rows = _xlsx_rows(data)
    elif extension in {"xlsx", "xlsm"}:
        raise RosterFileError("unreadable")
    elif extension == "xls":  # an HTML or text file saved with .xls: not a workbook we can read
        raise RosterFileError("old_excel")
    else:
        rows = _csv_rows(data)
    return _table(rows)


def _table(rows: Iterable[tuple[int, list[str]]]) -> Table:
    kept: list[tuple[int, list[str]]] = []
    for number, cells in rows:
        cells = [cell.strip() for cell in cells[:MAX_COLUMNS]]
        if any(cells):
            kept.append((number, cells))
            if len(kept) > MAX_ROWS + HEADER_SCAN_ROWS:
                break
    if not kept:
        raise RosterFileError("empty_file")
    header_index = next(
        (
            index
            for index, (_number, cells) in enumerate(kept[:HEADER_SCAN_ROWS])
            if columns.looks_like_header(cells)
        ),
        0,
    )
    header_row, header = kept[header_index]
    body = kept[header_index + 1 :]
    if body and _column_numbers(body[0][1]):
        body = body[1:]
    if len(body) > MAX_ROWS:
        raise RosterFileError("too_many_rows", max=MAX_ROWS)
    if not body:
        raise RosterFileError("no_rows")
    return Table(header=header, header_row=header_row, rows=body)


def _column_numbers(cells: list[str]) -> bool:
    """A row "1 2 3 4" or "(1) (2) (3)" under the header, as official tables number their columns."""
    matches = [re.fullmatch(r"\(?(\d{1,3})\)?", cell) for cell in cells if cell]
    numbers = [int(match.group(1)) for match in matches if match]
    return len(matches) >= 2 and len(numbers) == len(matches) and numbers == list(range(1, len(numbers) + 1))


def _delimiter(first_line: str) -> str:
    counts = {delimiter: 0 for delimiter in ";,\t"}
    quoted = False
    for char in first_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    text = decode_upload(data)
    if "\x00" in text:
        raise RosterFileError("wrong_type")
    lines = text.lstrip("\r\n").splitlines()
    first = lines[0] if lines else ""
    hint = re.fullmatch(r'"?sep=(.)"?', first.strip())
    if hint:  # Excel's "sep=;" line: not shown as a row when Excel opens the file
        text = text.lstrip("\r\n").split("\n", 1)[1] if "\n" in text else ""
        delimiter = hint.group(1)
    else:
        # Over the first lines: a title line above the header may have no delimiter at all.
        delimiter = _delimiter("\n".join(lines[: HEADER_SCAN_ROWS + 1]))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from ((number, row) for number, row in enumerate(reader, start=1))
    except csv.Error as error:
        raise RosterFileError("unreadable") from error


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))  # phone numbers and codes typed as numbers
        return f"{value:.15G}"  # Excel keeps 15 digits: an 18-digit NIP typed as a number is lost
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _check_archive(data: bytes) -> None:
    """Refuse a workbook whose members declare more than a roster could ever need."""
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError) as error:
        raise RosterFileError("unreadable") from error
    unpacked = sum(member.file_size for member in members)
    packed = sum(member.compress_size for member in members)
    if unpacked > MAX_UNPACKED_BYTES or unpacked > MAX_PACKING_RATIO * max(packed, 1024):
        raise RosterFileError("unpacks_too_large")


def _xlsx_rows(data: bytes) -> list[tuple[int, list[str]]]:
    import openpyxl  # here, not at start-up: see workshop/spreadsheets.py

    _check_archive(data)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds of errors on damaged files
        raise RosterFileError("unreadable") from error
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # the stored dimensions may be wrong; read what is there
        rows = []
        filled = 0
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > MAX_SHEET_ROWS:  # formatted but empty rows, far below the data
                break
            cells = [_cell_text(value) for value in values[:MAX_COLUMNS]]
            if any(cell.strip() for cell in cells):
                rows.append((number, cells))
                filled += 1
                if filled > MAX_ROWS + HEADER_SCAN_ROWS:
                    break
        return rows
    except RosterFileError:
        raise
    except Exception as error:
        raise RosterFileError("unreadable") from error
    finally:
        workbook.close()
