"""The .xlsx template of a roster: the header, two example rows, and the organisations with their
codes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from workshop.db import Session
from workshop.programs.models import Organization, OrgKind, Program
from workshop.registration.roster.files import MAX_ROWS
from workshop.spreadsheets import append_row, new_workbook, workbook_bytes

TEMPLATE_COLUMNS = ("nama", "jabatan", "instansi", "kode_instansi", "no_hp", "email", "nip", "mode")

# Template example rows: recognised (name + phone) and reported if they are uploaded as they are.
EXAMPLES = (
    {"name": "Rina Simanjuntak", "position": "Kepala Bidang", "phone": "0812-0000-0001"},
    {"name": "Jonny Hutabarat", "position": "Kepala Desa", "phone": "0812-0000-0002"},
)


def template_workbook(session: Session, program: Program, kind_labels: dict) -> bytes:
    """An .xlsx to fill in: the header, two example rows, and the organisations with their codes."""
    # openpyxl here, not at start-up (workshop/spreadsheets.py)
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    kinds = list(OrgKind)
    organizations = sorted(
        session.scalars(select(Organization).options(selectinload(Organization.parent))),
        key=lambda org: (kinds.index(org.kind), org.parent.name if org.parent else "", org.name),
    )
    by_code_first = sorted(organizations, key=lambda org: org.code is None)  # examples show a code if any
    agency = next((org for org in by_code_first if org.kind == OrgKind.OPD), None)
    village = next((org for org in by_code_first if org.kind == OrgKind.DESA), None)
    stage_columns = [f"mode_tahap_{stage.position}" for stage in program.stages]
    header = [*TEMPLATE_COLUMNS, *stage_columns]

    workbook, sheet = new_workbook("Peserta")
    sheet.append(header)
    first, second = EXAMPLES
    append_row(
        sheet,
        [
            first["name"],
            first["position"],
            agency.label if agency else "Dinas Komunikasi dan Informatika",
            (agency.code or "") if agency else "",
            first["phone"],
            "rina.simanjuntak@contoh.go.id",
            "198001012005012001",
            "luring",
            *([""] * len(stage_columns)),
        ],
    )
    append_row(
        sheet,
        [
            second["name"],
            second["position"],
            village.label if village else "Hutatoruan I, Kec. Tarutung",
            (village.code or "") if village else "",
            second["phone"],
            "",
            "",
            "daring",
            *(["luring"] if stage_columns else []),  # Tahap I in the hall, the rest online
            *([""] * max(len(stage_columns) - 1, 0)),
        ],
    )
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for cell in sheet[1]:
        cell.font = bold
        cell.fill = fill
    sheet.freeze_panes = "A2"
    widths = {
        "nama": 28,
        "jabatan": 22,
        "instansi": 40,
        "kode_instansi": 14,
        "no_hp": 16,
        "email": 30,
        "nip": 20,
    }
    for index, name in enumerate(header, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = widths.get(name, 14)
        if name in {"kode_instansi", "no_hp", "nip"}:
            sheet.column_dimensions[letter].number_format = "@"  # keep leading zeros
    first_mode = get_column_letter(TEMPLATE_COLUMNS.index("mode") + 1)
    last_mode = get_column_letter(len(header))
    modes = DataValidation(type="list", formula1='"luring,daring"', allow_blank=True)
    modes.add(f"{first_mode}2:{last_mode}{MAX_ROWS + 1}")
    sheet.add_data_validation(modes)

    listing = workbook.create_sheet("Instansi")
    listing.append(["kode_instansi", "instansi", "jenis"])
    for cell in listing[1]:
        cell.font = bold
        cell.fill = fill
    for org in organizations:
        append_row(listing, [org.code or "", org.label, str(kind_labels.get(org.kind, org.kind.value))])
    listing.freeze_panes = "A2"
    for letter, width in (("A", 14), ("B", 48), ("C", 18)):
        listing.column_dimensions[letter].width = width

    return workbook_bytes(workbook)
