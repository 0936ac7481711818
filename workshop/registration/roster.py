"""Roster import: read a participant list (CSV or XLSX), check every row, import the good ones.

The organiser uploads a file; `create_preview` reads and checks it and stores the result as a
`RosterImport` (nothing is registered yet). `confirm_import` checks the rows again against the
current database and registers them, all inside the caller's transaction: with any row in error
nothing is imported unless the organiser chose to skip those rows.

Row numbers are the ones the organiser sees in Excel: the header is row 1, the first person row 2.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time

import openpyxl
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from workshop import audit, i18n
from workshop.auth.models import User
from workshop.db import utcnow
from workshop.programs.models import ROMAN, Organization, OrgKind, Program
from workshop.registration import services
from workshop.registration.models import ImportStatus, Mode, Person, Registration, RosterImport
from workshop.registration.validation import normalise_name, normalise_phone, parse_mode
from workshop.spreadsheets import append_row, workbook_bytes
from workshop.text import clean_line
from workshop.textfiles import decode_upload

MAX_ROWS = 5000
HEADER_SCAN_ROWS = 20  # a title or a note may sit above the header
MAX_COLUMNS = 200
MAX_SHEET_ROWS = 100_000
PAYLOAD_VERSION = 1

# Field -> accepted header names, after `header_key` (lower case, words joined by "_").
# The first name is the one the template uses.
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("nama", "name", "nama_lengkap", "full_name"),
    "position": ("jabatan", "position"),
    "organization": ("instansi", "organisation", "organization", "nama_instansi", "unit_kerja"),
    "org_code": ("kode_instansi", "kode", "code", "organisation_code", "organization_code"),
    "phone": (
        "no_hp",
        "whatsapp",
        "no_wa",
        "phone",
        "nomor_hp",
        "nomor_wa",
        "no_whatsapp",
        "nomor_whatsapp",
        "hp",
        "wa",
        "telepon",
        "no_telepon",
        "no_telp",
        "phone_number",
        "mobile",
    ),
    "email": ("email", "e_mail", "surel", "alamat_email"),
    "nip": ("nip",),
    "mode": ("mode", "mode_kehadiran", "kehadiran", "attendance_mode"),
}
ALIAS_FIELD = {alias: name for name, aliases in FIELD_ALIASES.items() for alias in aliases}
STAGE_COLUMN = re.compile(r"^(?:mode_)?(?:tahap|stage)_?(\d+|[ivx]+)$")
TEMPLATE_COLUMNS = ("nama", "jabatan", "instansi", "kode_instansi", "no_hp", "email", "nip", "mode")
MAX_LENGTHS = {"name": 200, "position": 200, "email": 254}  # the Person columns

FIELD_LABELS = {
    "name": _l("Name"),
    "position": _l("Position"),
    "organization": _l("Organisation"),
    "org_code": _l("Organisation code"),
    "phone": _l("WhatsApp number"),
    "email": _l("Email"),
    "nip": _l("NIP"),
    "mode": _l("Mode"),
}

# Template example rows: recognised (name + phone) and reported if they are uploaded as they are.
EXAMPLES = (
    {"name": "Rina Simanjuntak", "position": "Kepala Bidang", "phone": "0812-0000-0001"},
    {"name": "Jonny Hutabarat", "position": "Kepala Desa", "phone": "0812-0000-0002"},
)
EXAMPLE_KEYS = {(normalise_name(e["name"]).lower(), normalise_phone(e["phone"])) for e in EXAMPLES}

FILE_ERRORS = {
    "empty_file": _l("The file is empty."),
    "wrong_type": _l("This kind of file cannot be imported: upload an Excel workbook (.xlsx) or a CSV file."),
    "old_excel": _l("This is an old Excel file (.xls): open it in Excel and save it as .xlsx or .csv."),
    "unreadable": _l("The file could not be read: is it a damaged Excel workbook?"),
    "no_rows": _l("The file has a header row but no participants."),
    "too_many_rows": _l("The file has more than %(max)d participant rows: split it into several files."),
    "missing_columns": _l("Missing columns: %(columns)s."),
    "duplicate_column": _l("The columns “%(first)s” and “%(second)s” hold the same information: keep one."),
    "unknown_stage": _l("The column “%(column)s” names a stage this programme does not have."),
}

PROBLEMS = {
    "missing_name": _l("The name is empty."),
    "too_long": _l("%(column)s is longer than %(max)d characters."),
    "missing_organization": _l("The organisation is empty."),
    "unknown_organization": _l(
        "Unknown organisation “%(value)s”: use a name or a code from the sheet “Instansi” of the template."
    ),
    "unknown_organization_code": _l("No organisation has the code “%(value)s”."),
    "ambiguous_organization": _l(
        "Several organisations are called “%(value)s”: add the sub-district (e.g. “%(example)s”) or use the code."
    ),
    "missing_phone": _l("The WhatsApp number is empty."),
    "bad_phone": _l("“%(value)s” is not an Indonesian mobile number (e.g. 0812 3456 7890)."),
    "duplicate_phone": _l("The same WhatsApp number as row %(other)d."),
    "already_registered": _l("This WhatsApp number is already registered for this programme."),
    "bad_email": _l("“%(value)s” is not a valid email address."),
    "duplicate_email": _l("The same email address as row %(other)d."),
    "bad_nip": _l("The NIP “%(value)s” must have 18 digits (in Excel, format the NIP column as Text)."),
    "missing_mode": _l("No attendance mode for %(stages)s: write luring or daring."),
    "bad_mode": _l("“%(value)s” is not an attendance mode (%(stages)s): write luring or daring."),
    "example_row": _l("This is an example row from the template: replace it or delete it."),
}

IMPORT_ERRORS = {
    "unknown_organization": _l("the organisation no longer exists"),
    "mode_required": _l("the programme's stages changed"),
    "already_registered": _l("the WhatsApp number was registered meanwhile"),
}


class RosterFileError(Exception):
    """The file as a whole cannot be used (wrong type, empty, columns missing...)."""

    def __init__(self, code: str, **args):
        super().__init__(code)
        self.code = code
        self.args_ = args

    @property
    def message(self) -> str:
        return str(FILE_ERRORS[self.code]) % self.args_


class RosterImportError(Exception):
    """A row could not be registered during the import; the caller rolls everything back."""

    def __init__(self, row: int, code: str):
        super().__init__(f"row {row}: {code}")
        self.row = row
        self.code = code

    @property
    def message(self) -> str:
        reason = IMPORT_ERRORS.get(self.code, self.code)
        return _(
            "Nothing was imported: row %(row)d failed (%(reason)s). Check the preview again.",
            row=self.row,
            reason=reason,
        )


def problem_message(problem: dict) -> str:
    """A row problem in the user's language."""
    args = dict(problem.get("args", {}))
    if "column" in args:
        args["column"] = str(FIELD_LABELS.get(args["column"], args["column"]))
    return str(PROBLEMS[problem["code"]]) % args


def stage_label(position: int) -> str:
    return i18n.stage_label(ROMAN[position - 1] if 0 < position <= len(ROMAN) else str(position))


# Reading the file


@dataclass
class Table:
    header: list[str]
    header_row: int
    rows: list[tuple[int, list[str]]]  # (row number as in the spreadsheet, cell texts)


def header_key(text: str) -> str:
    """'No. HP' -> 'no_hp', 'Mode Tahap 1' -> 'mode_tahap_1', 'E-mail' -> 'e_mail'."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    return re.sub(r"[^0-9a-z]+", "_", text).strip("_")


def read_table(filename: str, data: bytes) -> Table:
    """The header and the non-blank rows of the first sheet (XLSX) or of a CSV file."""
    if not data or not data.strip():
        raise RosterFileError("empty_file")
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in {"csv", "txt", "xlsx", "xlsm", "xls"}:
        raise RosterFileError("wrong_type")
    if data.startswith(b"\xd0\xcf\x11\xe0"):  # OLE2: the old .xls format
        raise RosterFileError("old_excel")
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
    header_index = 0
    for index, (_number, cells) in enumerate(kept[:HEADER_SCAN_ROWS]):
        known = {ALIAS_FIELD[key] for key in map(header_key, cells) if key in ALIAS_FIELD}
        if len(known) >= 2:
            header_index = index
            break
    header_row, header = kept[header_index]
    body = kept[header_index + 1 :]
    if len(body) > MAX_ROWS:
        raise RosterFileError("too_many_rows", max=MAX_ROWS)
    if not body:
        raise RosterFileError("no_rows")
    return Table(header=header, header_row=header_row, rows=body)


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
        delimiter = _delimiter(next((line for line in lines if line.strip()), ""))
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


def _xlsx_rows(data: bytes) -> list[tuple[int, list[str]]]:
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


# Columns


@dataclass
class Columns:
    fields: dict[str, int]  # field -> column index
    stages: dict[int, int]  # stage position -> column index
    names: dict[str, str] = field(default_factory=dict)  # field or "tahap_N" -> header as written
    ignored: list[str] = field(default_factory=list)


def stage_position(key: str) -> int | None:
    match = STAGE_COLUMN.match(key)
    if match is None:
        return None
    number = match.group(1)
    if number.isdigit():
        return int(number)
    roman = number.upper()
    return ROMAN.index(roman) + 1 if roman in ROMAN else None


def map_columns(header: list[str], program: Program) -> Columns:
    columns = Columns(fields={}, stages={})
    positions = {stage.position for stage in program.stages}
    for index, text in enumerate(header):
        if not text:
            continue
        key = header_key(text)
        name = ALIAS_FIELD.get(key)
        position = None if name else stage_position(key)
        if name is not None:
            if name in columns.fields:
                raise RosterFileError("duplicate_column", first=columns.names[name], second=text)
            columns.fields[name] = index
            columns.names[name] = text
        elif position is not None:
            if position not in positions:
                raise RosterFileError("unknown_stage", column=text)
            slot = f"tahap_{position}"
            if position in columns.stages:
                raise RosterFileError("duplicate_column", first=columns.names[slot], second=text)
            columns.stages[position] = index
            columns.names[slot] = text
        else:
            columns.ignored.append(text)

    missing = []
    if "name" not in columns.fields:
        missing.append("nama / name")
    if "organization" not in columns.fields and "org_code" not in columns.fields:
        missing.append("instansi / kode_instansi")
    if "phone" not in columns.fields:
        missing.append("no_hp / whatsapp")
    if "mode" not in columns.fields and not positions <= set(columns.stages):
        missing.append("mode / mode_tahap_1 …")
    if missing:
        raise RosterFileError("missing_columns", columns=", ".join(missing))
    return columns


def raw_rows(table: Table, columns: Columns) -> list[dict]:
    """Each row's cells by field: what the organiser wrote, kept to re-check at import time."""

    def cell(cells: list[str], index: int) -> str:
        return clean_line(cells[index]) if index < len(cells) else ""

    return [
        {
            "row": number,
            "raw": {name: cell(cells, index) for name, index in columns.fields.items()},
            "raw_stages": {str(position): cell(cells, index) for position, index in columns.stages.items()},
        }
        for number, cells in table.rows
    ]


# Checking the rows


def _match_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower()
    return " ".join(re.sub(r"[.,;:/()\-–]+", " ", text).split())


_KIND_PREFIX = re.compile(r"^(desa|kelurahan|kel|kecamatan|kec|kantor camat|camat)\s+(.+)$")
_PREFIX_KINDS = {
    "desa": OrgKind.DESA,
    "kelurahan": OrgKind.DESA,
    "kel": OrgKind.DESA,
    "kecamatan": OrgKind.KECAMATAN,
    "kec": OrgKind.KECAMATAN,
    "kantor camat": OrgKind.KECAMATAN,
    "camat": OrgKind.KECAMATAN,
}
_DISTRICT_SUFFIX = re.compile(r"^(.+?)\s+(?:kecamatan|kec)\s+(.+)$")


class OrganizationIndex:
    """Finds an organisation by official code, name or label, forgiving case and punctuation.

    'Hutatoruan I, Kec. Tarutung', 'Desa Hutatoruan I', 'hutatoruan i kecamatan tarutung' and
    'Kec. Tarutung' all find their village or sub-district.
    """

    def __init__(self, session: Session):
        organizations = session.scalars(select(Organization).options(selectinload(Organization.parent))).all()
        self.by_code = {org.code.strip().lower(): org for org in organizations if org.code}
        self.by_key: dict[str, list[Organization]] = defaultdict(list)
        for org in organizations:
            for key in {_match_key(org.name), _match_key(org.label)}:
                self.by_key[key].append(org)

    def _candidates(self, key: str) -> list[Organization]:
        found = self.by_key.get(key, [])
        if found:
            return found
        prefixed = _KIND_PREFIX.match(key)
        if prefixed:
            kind = _PREFIX_KINDS[prefixed.group(1)]
            found = [org for org in self._candidates(prefixed.group(2)) if org.kind == kind]
            if found:
                return found
        split = _DISTRICT_SUFFIX.match(key)
        if split:
            district = _match_key(split.group(2))
            return [
                org
                for org in self._candidates(split.group(1))
                if org.parent is not None and _match_key(org.parent.name) == district
            ]
        return []

    def match(self, code: str, text: str) -> tuple[Organization | None, dict | None]:
        """The organisation, or None and the problem to report."""
        code = code.strip()
        if code:
            org = self.by_code.get(code.lower())
            if org is not None:
                return org, None
        if not text.strip():
            if code:
                return None, _problem("unknown_organization_code", "org_code", value=code)
            return None, _problem("missing_organization", "organization")
        found = self._candidates(_match_key(text))
        unique = list(dict.fromkeys(found))
        if len(unique) == 1:
            return unique[0], None
        if len(unique) > 1:
            return None, _problem(
                "ambiguous_organization", "organization", value=text, example=unique[0].label
            )
        return None, _problem("unknown_organization", "organization", value=text)


def _problem(code: str, field_name: str, **args) -> dict:
    return {"code": code, "field": field_name, "args": args}


def _digits(text: str) -> str:
    return re.sub(r"[\s.\-]", "", text)


def check_rows(session: Session, program: Program, rows: list[dict]) -> list[dict]:
    """Normalise each raw row and list all of its problems. Pure reading: nothing is written."""
    organizations = OrganizationIndex(session)
    registered = set(
        session.scalars(select(Person.phone).join(Registration).where(Registration.program_id == program.id))
    )
    stages = list(program.stages)
    phone_rows: dict[str, int] = {}
    email_rows: dict[str, int] = {}
    checked = []
    for source in rows:
        raw, raw_stages, number = source["raw"], source["raw_stages"], source["row"]
        problems: list[dict] = []
        row = {"row": number, "raw": raw, "raw_stages": raw_stages}

        name = normalise_name(raw.get("name", ""))
        position = normalise_name(raw.get("position", ""))
        if not name:
            problems.append(_problem("missing_name", "name"))
        for column, value in (("name", name), ("position", position)):
            if len(value) > MAX_LENGTHS[column]:
                problems.append(_problem("too_long", column, column=column, max=MAX_LENGTHS[column]))

        org, org_problem = organizations.match(raw.get("org_code", ""), raw.get("organization", ""))
        if org_problem:
            problems.append(org_problem)

        raw_phone = raw.get("phone", "").strip()
        phone = normalise_phone(raw_phone)
        if not raw_phone:
            problems.append(_problem("missing_phone", "phone"))
        elif phone is None:
            problems.append(_problem("bad_phone", "phone", value=raw_phone))
        else:
            if phone in phone_rows:
                problems.append(_problem("duplicate_phone", "phone", other=phone_rows[phone]))
            else:
                phone_rows[phone] = number
            if phone in registered:
                problems.append(_problem("already_registered", "phone"))

        email = raw.get("email", "").strip().lower()
        if email:
            try:
                validate_email(email, check_deliverability=False)
            except EmailNotValidError:
                problems.append(_problem("bad_email", "email", value=email))
            else:
                if len(email) > MAX_LENGTHS["email"]:
                    problems.append(_problem("too_long", "email", column="email", max=MAX_LENGTHS["email"]))
                elif email in email_rows:
                    problems.append(_problem("duplicate_email", "email", other=email_rows[email]))
                else:
                    email_rows[email] = number

        nip = _digits(raw.get("nip", ""))
        if nip and not (nip.isdigit() and len(nip) == 18):
            problems.append(_problem("bad_nip", "nip", value=raw.get("nip", "").strip()))

        modes: dict[str, str] = {}
        missing: list[str] = []
        bad: dict[str, list[str]] = {}
        for stage in stages:
            value = raw_stages.get(str(stage.position), "").strip() or raw.get("mode", "").strip()
            mode = parse_mode(value)
            if not value:
                missing.append(stage_label(stage.position))
            elif mode is None:
                bad.setdefault(value, []).append(stage_label(stage.position))
            else:
                modes[str(stage.position)] = mode.value
        if missing:
            problems.append(_problem("missing_mode", "mode", stages=", ".join(missing)))
        for value, labels in bad.items():
            problems.append(_problem("bad_mode", "mode", value=value, stages=", ".join(labels)))

        if (name.lower(), phone) in EXAMPLE_KEYS:
            problems.append(_problem("example_row", "name"))

        row.update(
            name=name,
            position=position,
            organization_id=org.id if org else None,
            organization=org.label if org else raw.get("organization", "") or raw.get("org_code", ""),
            phone=phone or "",
            email=email,
            nip=nip,
            modes=modes,
            problems=problems,
        )
        checked.append(row)
    return checked


# The import


def payload(record: RosterImport) -> dict:
    return json.loads(record.rows)


def bad_rows(rows: list[dict]) -> list[dict]:
    return [row for row in rows if row["problems"]]


def create_preview(
    session: Session, program: Program, *, filename: str, data: bytes, actor: User | None
) -> RosterImport:
    """Read and check an uploaded file and keep the result; raises RosterFileError."""
    filename = filename.replace("\\", "/").rsplit("/", 1)[-1][:255] or "roster"
    table = read_table(filename, data)
    columns = map_columns(table.header, program)
    rows = check_rows(session, program, raw_rows(table, columns))
    content = {
        "version": PAYLOAD_VERSION,
        "header_row": table.header_row,
        "columns": columns.names,
        "ignored_columns": columns.ignored,
        "rows": rows,
    }
    record = RosterImport(
        program_id=program.id,
        uploaded_by_id=actor.id if actor is not None else None,
        filename=filename,
        rows=json.dumps(content, ensure_ascii=False),
        status=ImportStatus.PREVIEWED,
    )
    session.add(record)
    session.flush()
    return record


@dataclass
class ImportResult:
    outcome: str  # imported, has_errors, changed, nothing_to_import, already_imported
    imported: int = 0
    skipped: int = 0


def confirm_import(
    session: Session, record: RosterImport, *, skip_bad_rows: bool, actor: User | None
) -> ImportResult:
    """Register the checked rows in the caller's transaction.

    The rows are checked again first: if anything changed since the preview (someone registered
    meanwhile, an organisation was renamed), the preview is refreshed and nothing is imported.
    A RegistrationError from a row aborts the whole import (RosterImportError): roll back.
    """
    if record.status == ImportStatus.IMPORTED:
        return ImportResult("already_imported", imported=record.imported_count)
    program = record.program
    content = payload(record)
    fresh = json.loads(json.dumps(check_rows(session, program, content["rows"]), ensure_ascii=False))
    if fresh != content["rows"]:
        content["rows"] = fresh
        record.rows = json.dumps(content, ensure_ascii=False)
        session.flush()
        return ImportResult("changed", skipped=len(bad_rows(fresh)))
    bad = bad_rows(fresh)
    good = [row for row in fresh if not row["problems"]]
    if bad and not skip_bad_rows:
        return ImportResult("has_errors", skipped=len(bad))
    if not good:
        return ImportResult("nothing_to_import", skipped=len(bad))

    stage_ids = {str(stage.position): stage.id for stage in program.stages}
    for row in good:
        details = services.ParticipantDetails(
            name=row["name"],
            position=row["position"],
            organization_id=row["organization_id"],
            phone=row["phone"],
            email=row["email"],
            nip=row["nip"],
            modes={stage_ids[position]: Mode(mode) for position, mode in row["modes"].items()},
        )
        try:
            services.register(session, program, details, source="import", actor=actor)
        except services.RegistrationError as error:
            raise RosterImportError(row["row"], error.code) from error

    record.status = ImportStatus.IMPORTED
    record.imported_count = len(good)
    record.imported_at = utcnow()
    audit.record(
        session,
        actor,
        "roster.import",
        f"program:{program.id}",
        f"roster_import:{record.id} {record.filename}: {len(good)} imported, {len(bad)} skipped",
    )
    session.flush()
    return ImportResult("imported", imported=len(good), skipped=len(bad))


# The template


def template_workbook(session: Session, program: Program, kind_labels: dict) -> bytes:
    """An .xlsx to fill in: the header, two example rows, and the organisations with their codes."""
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

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Peserta"
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
