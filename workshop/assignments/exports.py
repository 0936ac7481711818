"""The overview (organisations x assignments) as XLSX and CSV, with the conventions of every
export (workshop/spreadsheets.py): one row per organisation, late ones first, one column per
assignment with its state in words ("Diterima", "Belum mengumpulkan · terlambat")."""

from __future__ import annotations

from flask_babel import gettext as _

from workshop.assignments.forms import STATUS_LABELS
from workshop.assignments.models import Assignment
from workshop.assignments.queries import Cell, Row
from workshop.programs.forms import ORG_KIND_LABELS
from workshop.spreadsheets import append_row, csv_bytes, new_workbook, workbook_bytes

# The same colours as the page (static/css/app.css, .status-*).
FILLS = {
    "missing": "FDE8E8",
    "submitted": "E7F0FB",
    "received": "E7F0FB",
    "needs_revision": "FFF4D6",
    "accepted": "E6F4EA",
}


def cell_text(cell: Cell | None) -> str:
    if cell is None:
        return ""
    text = str(STATUS_LABELS[cell.status])
    return f"{text} · {_('late')}" if cell.late else text


def header(assignments: list[Assignment]) -> list[str]:
    return [_("Organisation"), _("Kind of organisation"), *[a.title for a in assignments]]


def rows(assignments: list[Assignment], matrix: list[Row]) -> list[list[str]]:
    return [
        [
            row.organization.label,
            str(ORG_KIND_LABELS[row.organization.kind]),
            *[cell_text(row.cells.get(a.id)) for a in assignments],
        ]
        for row in matrix
    ]


def to_csv(assignments: list[Assignment], matrix: list[Row]) -> bytes:
    return csv_bytes(header(assignments), rows(assignments, matrix))


def to_xlsx(assignments: list[Assignment], matrix: list[Row], title: str) -> bytes:
    from openpyxl.styles import Font, PatternFill  # where a workbook is made (workshop/spreadsheets.py)

    book, sheet = new_workbook(_("Assignments")[:31])
    append_row(sheet, [title])
    sheet["A1"].font = Font(bold=True)
    append_row(sheet, header(assignments))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for values, row in zip(rows(assignments, matrix), matrix, strict=True):
        append_row(sheet, values)
        for column, assignment in enumerate(assignments, start=3):
            state = row.cells.get(assignment.id)
            if state is not None:
                colour = "FDE8E8" if state.late else FILLS[state.status]
                sheet.cell(sheet.max_row, column).fill = PatternFill("solid", fgColor=colour)
    sheet.column_dimensions["A"].width = 40
    sheet.freeze_panes = "C3"
    return workbook_bytes(book)
