"""A stage's group work as XLSX and CSV (the conventions of workshop/spreadsheets.py): one row
per group with its dimension, leader, members and output; the workbook has a sheet of members too."""

from __future__ import annotations

from flask_babel import gettext as _

from workshop.groups.forms import OUTPUT_LABELS
from workshop.groups.models import OUTPUT_FIELDS
from workshop.groups.queries import GroupView
from workshop.offload import off_the_loop
from workshop.programs.dimensions import DIMENSION_LABELS
from workshop.reports.exports import style_header
from workshop.spreadsheets import append_row, csv_bytes, new_workbook, workbook_bytes


def header() -> list[str]:
    return [_("Group"), _("Leader"), _("Members"), *(str(OUTPUT_LABELS[f]) for f in OUTPUT_FIELDS)]


def rows(groups: list[GroupView]) -> list[list[str]]:
    return [
        [
            str(DIMENSION_LABELS.get(view.group.dimension, view.group.dimension)),
            view.group.leader.person.name if view.group.leader else "",
            ", ".join(member.person.name for member in view.members),
            *(view.output[field]["text"] for field in OUTPUT_FIELDS),
        ]
        for view in groups
    ]


def member_rows(groups: list[GroupView]) -> list[list[str]]:
    return [
        [
            str(DIMENSION_LABELS.get(view.group.dimension, view.group.dimension)),
            member.person.name,
            member.person.position,
            member.person.organization.label,
        ]
        for view in groups
        for member in view.members
    ]


def to_csv(groups: list[GroupView]) -> bytes:
    return csv_bytes(header(), rows(groups))


def to_xlsx(groups: list[GroupView]) -> bytes:
    """The groups and their members; the workbook is built off the loop (workshop/offload.py)."""
    titles = (_("Group work")[:31], _("Members")[:31])
    member_header = [_("Group"), _("Name"), _("Position"), _("Organisation")]
    return off_the_loop(_workbook, titles, [header(), *rows(groups)], [member_header, *member_rows(groups)])


def _workbook(titles: tuple[str, str], groups: list[list[str]], members: list[list[str]]) -> bytes:
    book, sheet = new_workbook(titles[0])
    for line in groups:
        append_row(sheet, line)
    style_header(sheet, len(groups[0]))
    for column, width in zip("ABCDEF", (24, 24, 40, 50, 50, 50), strict=True):
        sheet.column_dimensions[column].width = width
    people = book.create_sheet(titles[1])
    for line in members:
        append_row(people, line)
    style_header(people, len(members[0]))
    return workbook_bytes(book)
