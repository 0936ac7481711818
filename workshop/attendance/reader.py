"""The reader of meeting reports: Zoom's participants CSV, as rows of (name, email, join, leave).

A block of meeting details (Meeting ID, Topic, ..., User Email: the host) may precede the
participant table; rows of time spent in the waiting room are left out; a row that cannot be read
rejects the file, with the reasons.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from workshop.text import clean_line
from workshop.textfiles import decode_upload

MAX_REPORT_ROWS = 5000

FILE_ERRORS = {
    "empty_file": _l("The file is empty."),
    "wrong_type": _l("This is not a CSV file. In Zoom, export the participants report as CSV."),
    "no_header": _l(
        "No participant table found: the file needs the columns “Name (Original Name)”, "
        "“Join Time” and “Leave Time” (Zoom's participants report)."
    ),
    "no_rows": _l("The participant table has no rows."),
    "too_many_rows": _l("The file has more than %(max)d rows."),
    "bad_rows": _l("Some rows cannot be read; nothing was imported. %(problems)s"),
    "wrong_stage": _l(
        "No row of this report falls within the days of this stage: is it the report of another meeting?"
    ),
}
ROW_PROBLEMS = {
    "bad_join": _l("Row %(row)d: the join time “%(value)s” is not a date and time."),
    "bad_leave": _l("Row %(row)d: the leave time “%(value)s” is not a date and time."),
    "leave_before_join": _l("Row %(row)d: the leave time is before the join time."),
    "missing_name": _l("Row %(row)d: the name is empty."),
}


class ReportFileError(Exception):
    def __init__(self, code: str, **args):
        super().__init__(code)
        self.code = code
        self.args_ = args

    @property
    def message(self) -> str:
        return str(FILE_ERRORS[self.code]) % self.args_


@dataclass(frozen=True)
class Report:
    rows: list[ReportRow]
    host_email: str  # from the meeting summary above the table ("User Email"); "" when absent


@dataclass(frozen=True)
class ReportRow:
    row_number: int  # the line in the file
    name: str
    email: str
    joined_at: datetime
    left_at: datetime


_HEADERS = {
    "name": {"name (original name)", "name", "participant", "participant name", "user name", "nama"},
    "email": {"user email", "email", "e-mail", "participant email", "email address"},
    "join": {"join time", "join", "waktu bergabung"},
    "leave": {"leave time", "leave", "waktu keluar"},
    "duration": {"duration (minutes)", "duration (min)", "duration", "durasi (menit)"},
    "waiting": {"in waiting room"},
}
# The meeting summary above the participant table: "Meeting ID, Topic, ..., User Email, ..." (the
# host's account), and its values on the next line.
_SUMMARY_MARKERS = {"meeting id", "topic", "id rapat", "topik"}
_HOST_EMAIL = {"user email", "host email", "email host", "email pengguna"}
_TIME_FORMATS = (
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %I:%M:%S %p",
    "%Y-%m-%d %H:%M",
)


def _header_key(cell: str) -> str:
    return " ".join(cell.replace("\ufeff", "").strip().lower().split())


def _columns(row: Sequence[str]) -> dict[str, int] | None:
    """The positions of the known columns, if this row is the participant table's header."""
    columns: dict[str, int] = {}
    for position, cell in enumerate(row):
        key = _header_key(cell)
        for name, aliases in _HEADERS.items():
            if key in aliases and name not in columns:
                columns[name] = position
    return (
        columns if {"name", "join"} <= columns.keys() and ({"leave", "duration"} & columns.keys()) else None
    )


# strptime also takes "11:0" for 11:00: a time cut short (a truncated file's last row) must not be read.
_TIME_SHAPE = re.compile(r"(\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{1,2}-\d{1,2}) \d{1,2}:\d{2}(:\d{2})?( [AP]M)?")


def _parse_time(text: str, zone: ZoneInfo) -> datetime | None:
    text = " ".join(text.strip().upper().split())
    if not _TIME_SHAPE.fullmatch(text):
        return None
    for pattern in _TIME_FORMATS:
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=zone)
        except ValueError:
            continue
    return None


def _host_email_column(row: Sequence[str]) -> int | None:
    """The position of the host's email, if this row is the meeting summary's header."""
    keys = [_header_key(cell) for cell in row]
    if not _SUMMARY_MARKERS & set(keys):
        return None
    return next((position for position, key in enumerate(keys) if key in _HOST_EMAIL), None)


def parse_report(data: bytes, timezone: str) -> Report:
    """The participant rows of a Zoom participants CSV; times read in `timezone`, returned in UTC.

    A block of meeting details (Meeting ID, Topic, ..., User Email: the host) may precede the
    participant table; rows of time spent in the waiting room are left out. A row that cannot be
    read rejects the file.
    """
    if not data.strip():
        raise ReportFileError("empty_file")
    text = decode_upload(data)
    if "\x00" in text:
        raise ReportFileError("wrong_type")
    first_line = text.lstrip().split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    zone = ZoneInfo(timezone)
    columns = None
    host_column = None
    host_email = ""
    rows: list[ReportRow] = []
    problems: list[str] = []
    try:
        for cells in reader:
            line = reader.line_num
            if columns is None:
                if host_column is not None and not host_email and len(cells) > host_column:
                    host_email = clean_line(cells[host_column]).lower()
                host_column = _host_email_column(cells) if host_column is None else host_column
                columns = _columns(cells)
                continue
            if not any(cell.strip() for cell in cells):
                continue
            if _columns(cells) is not None:  # a second table (another meeting instance): same shape
                columns = _columns(cells)
                continue
            if len(rows) + len(problems) >= MAX_REPORT_ROWS:
                raise ReportFileError("too_many_rows", max=MAX_REPORT_ROWS)
            row, problem = _read_row(cells, columns, line, zone)
            if problem is not None:
                problems.append(problem)
            elif row is not None:
                rows.append(row)
    except csv.Error as error:
        raise ReportFileError("wrong_type") from error
    if columns is None:
        raise ReportFileError("no_header")
    if problems:
        raise ReportFileError("bad_rows", problems=" ".join(problems[:10]))
    if not rows:
        raise ReportFileError("no_rows")
    return Report(rows=rows, host_email=host_email)


def _read_row(
    cells: Sequence[str], columns: dict[str, int], line: int, zone: ZoneInfo
) -> tuple[ReportRow | None, str | None]:
    def cell(name: str) -> str:
        position = columns.get(name)
        return clean_line(cells[position]) if position is not None and position < len(cells) else ""

    if cell("waiting").lower() in {"yes", "ya", "true"}:
        return None, None
    name = " ".join(cell("name").split())
    if not name:
        return None, str(ROW_PROBLEMS["missing_name"]) % {"row": line}
    joined = _parse_time(cell("join"), zone)
    if joined is None:
        return None, str(ROW_PROBLEMS["bad_join"]) % {"row": line, "value": cell("join")}
    if "leave" in columns:
        left = _parse_time(cell("leave"), zone)
        if left is None:
            return None, str(ROW_PROBLEMS["bad_leave"]) % {"row": line, "value": cell("leave")}
    else:
        try:
            left = joined + timedelta(minutes=float(cell("duration").replace(",", ".")))
        except ValueError:
            return None, str(ROW_PROBLEMS["bad_leave"]) % {"row": line, "value": cell("duration")}
    if left < joined:
        return None, str(ROW_PROBLEMS["leave_before_join"]) % {"row": line}
    return (
        ReportRow(
            row_number=line,
            name=name[:200],
            email=cell("email").lower()[:254],
            joined_at=joined.astimezone(UTC),
            left_at=left.astimezone(UTC),
        ),
        None,
    )
