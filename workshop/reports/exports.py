"""The programme's attendance as a spreadsheet (XLSX: matrix + summary) and as CSV, with the
conventions of every export (workshop/spreadsheets.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _

from workshop import i18n
from workshop.offload import off_the_loop
from workshop.programs.models import Program
from workshop.registration.models import Mode
from workshop.reports.labels import status_label
from workshop.reports.services import NOT_STARTED, SUMMARY_ORDER, Matrix, kecamatan_of
from workshop.spreadsheets import append_row, csv_bytes, new_workbook, workbook_bytes

# Cell colours; openpyxl is imported where a workbook is made (workshop/spreadsheets.py).
HEADER_COLOUR = "DDE7F3"
STATUS_COLOURS = {
    "hadir": "DCFCE7",
    "terlambat": "FEF3C7",
    "izin": "DBEAFE",
    "tidak_hadir": "FEE2E2",
    "belum_dimulai": "F3F4F6",
}


def matrix_header(matrix: Matrix) -> list[str]:
    header = [_("No."), _("Name"), _("Position"), _("Organisation"), _("Sub-district")]
    for stage in matrix.stages:
        header.append(_("Stage %(number)s status", number=stage.number))
        header.append(_("Stage %(number)s minutes", number=stage.number))
    return header


def matrix_rows(matrix: Matrix) -> list[list]:
    rows = []
    for number, registration in enumerate(matrix.registrations, start=1):
        person = registration.person
        line: list = [number, person.name, person.position, person.organization.label]
        line.append(kecamatan_of(person.organization))
        for stage in matrix.stages:
            cell = matrix.cell(registration, stage)
            minutes = "" if cell.status == NOT_STARTED else cell.minutes_present
            line.extend([status_label(cell.status), minutes])
        rows.append(line)
    return rows


def summary_header() -> list[str]:
    return [
        _("Stage"),
        _("Title"),
        _("Registered in person"),
        _("Registered online"),
        *(status_label(status) for status in SUMMARY_ORDER),
        _("Participants"),
    ]


def summary_rows(matrix: Matrix) -> list[list]:
    rows = []
    for stage in matrix.stages:
        modes = [matrix.cell(registration, stage).registered_mode for registration in matrix.registrations]
        counts = matrix.summaries[stage.id]
        rows.append(
            [
                i18n.stage_label(stage.number),
                stage.title,
                modes.count(Mode.LURING),
                modes.count(Mode.DARING),
                *(counts[status] for status in SUMMARY_ORDER),
                len(matrix.registrations),
            ]
        )
    return rows


def style_header(sheet, width: int) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    for column in range(1, width + 1):
        cell = sheet.cell(row=1, column=column)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=HEADER_COLOUR)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"


@dataclass(frozen=True)
class AttendanceTables:
    """What the workbook shows, as plain values (read on the loop; the workbook is built off it)."""

    title: str
    header: list[str]
    rows: list[list]
    statuses: list[list[str]]  # per row, per stage
    summary_title: str
    summary_header: list[str]
    summary_rows: list[list]
    footer: list[list]


def to_xlsx(program: Program, matrix: Matrix, *, filters: str, generated_at: datetime, locale: str) -> bytes:
    """The workbook; built on gevent's thread pool (a programme of hundreds takes seconds of CPU)."""
    tables = AttendanceTables(
        title=_("Attendance")[:31],
        header=matrix_header(matrix),
        rows=matrix_rows(matrix),
        statuses=[
            [matrix.cell(registration, stage).status.value for stage in matrix.stages]
            for registration in matrix.registrations
        ],
        summary_title=_("Summary")[:31],
        summary_header=summary_header(),
        summary_rows=summary_rows(matrix),
        footer=[
            [],
            [program.title],
            [_("Filter"), filters or _("all approved participants")],
            [_("Made"), i18n.format_datetime_long(generated_at, program.timezone, locale)],
        ],
    )
    return off_the_loop(_attendance_workbook, tables)


def _attendance_workbook(tables: AttendanceTables) -> bytes:
    from openpyxl.styles import PatternFill
    from openpyxl.utils import get_column_letter

    fills = {status: PatternFill("solid", fgColor=colour) for status, colour in STATUS_COLOURS.items()}
    book, sheet = new_workbook(tables.title)
    for line in [tables.header, *tables.rows]:
        append_row(sheet, line)
    width = len(tables.header)
    style_header(sheet, width)
    sheet.freeze_panes = "C2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(width)}{max(1, len(tables.rows) + 1)}"
    for column, column_width in zip("ABCDE", (5, 32, 28, 36, 18), strict=True):
        sheet.column_dimensions[column].width = column_width
    for row_number, statuses in enumerate(tables.statuses, start=2):
        for index, status in enumerate(statuses):
            sheet.cell(row=row_number, column=6 + 2 * index).fill = fills[status]
    for index in range((width - 5) // 2):
        sheet.column_dimensions[get_column_letter(6 + 2 * index)].width = 14
        sheet.column_dimensions[get_column_letter(7 + 2 * index)].width = 10

    summary = book.create_sheet(tables.summary_title)
    for line in [tables.summary_header, *tables.summary_rows]:
        append_row(summary, line)
    style_header(summary, len(tables.summary_header))
    summary.column_dimensions["A"].width = 10
    summary.column_dimensions["B"].width = 40
    for number in range(3, len(tables.summary_header) + 1):
        summary.column_dimensions[get_column_letter(number)].width = 14
    for line in tables.footer:
        append_row(summary, line)
    return workbook_bytes(book)


def to_csv(matrix: Matrix) -> bytes:
    return csv_bytes(matrix_header(matrix), matrix_rows(matrix))
