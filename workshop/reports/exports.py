"""The programme's attendance as a spreadsheet (XLSX: matrix + summary) and as CSV.

CSV: UTF-8 with a byte-order mark, so that Excel reads the names right, and ';' between fields:
Excel set to Indonesian (decimal comma) splits on the list separator of the locale, which is
';', so a ','-separated file opens as one column there; a "sep=;" line is not used because
it makes Excel ignore the byte-order mark.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from workshop import i18n
from workshop.programs.models import Program
from workshop.registration.models import Mode
from workshop.reports.labels import status_label
from workshop.reports.services import STATUS_ORDER, Matrix, kecamatan_of

CSV_DELIMITER = ";"
# A cell starting with one of these is a formula to a spreadsheet: names come from a public form.
FORMULA_START = ("=", "+", "@", "\t", "\r")
HEADER_FILL = PatternFill("solid", fgColor="DDE7F3")
STATUS_FILLS = {
    "hadir": PatternFill("solid", fgColor="DCFCE7"),
    "terlambat": PatternFill("solid", fgColor="FEF3C7"),
    "izin": PatternFill("solid", fgColor="DBEAFE"),
    "tidak_hadir": PatternFill("solid", fgColor="FEE2E2"),
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
            line.extend([status_label(cell.status), cell.minutes_present])
        rows.append(line)
    return rows


def summary_header() -> list[str]:
    return [
        _("Stage"),
        _("Title"),
        _("Registered in person"),
        _("Registered online"),
        *(status_label(status) for status in STATUS_ORDER),
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
                *(counts[status] for status in STATUS_ORDER),
                len(matrix.registrations),
            ]
        )
    return rows


def style_header(sheet, width: int) -> None:
    for column in range(1, width + 1):
        cell = sheet.cell(row=1, column=column)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"


def to_xlsx(program: Program, matrix: Matrix, *, filters: str, generated_at: datetime, locale: str) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = _("Attendance")[:31]
    header = matrix_header(matrix)
    sheet.append(header)
    for line in matrix_rows(matrix):
        sheet.append(line)
    for row in sheet.iter_rows(min_row=2, max_col=5):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # openpyxl would store "=..." as a formula
    style_header(sheet, len(header))
    sheet.freeze_panes = "C2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{max(1, len(matrix.registrations) + 1)}"
    for column, width in zip("ABCDE", (5, 32, 28, 36, 18), strict=True):
        sheet.column_dimensions[column].width = width
    for index, stage in enumerate(matrix.stages):
        status_column = 6 + 2 * index
        sheet.column_dimensions[get_column_letter(status_column)].width = 14
        sheet.column_dimensions[get_column_letter(status_column + 1)].width = 10
        for row_number, registration in enumerate(matrix.registrations, start=2):
            fill = STATUS_FILLS[matrix.cell(registration, stage).status.value]
            sheet.cell(row=row_number, column=status_column).fill = fill

    summary = book.create_sheet(_("Summary")[:31])
    header = summary_header()
    summary.append(header)
    for line in summary_rows(matrix):
        summary.append(line)
    style_header(summary, len(header))
    summary.column_dimensions["A"].width = 10
    summary.column_dimensions["B"].width = 40
    for column in range(3, len(header) + 1):
        summary.column_dimensions[get_column_letter(column)].width = 14
    summary.append([])
    summary.append([program.title])
    summary.append([_("Filter"), filters or _("all approved participants")])
    summary.append([_("Made"), i18n.format_datetime_long(generated_at, program.timezone, locale)])

    output = io.BytesIO()
    book.save(output)
    return output.getvalue()


def defused(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(matrix: Matrix) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    writer.writerow(matrix_header(matrix))
    for line in matrix_rows(matrix):
        writer.writerow([defused(value) for value in line])
    return text.getvalue().encode("utf-8-sig")
