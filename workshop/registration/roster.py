"""Roster import: read a participant list (CSV or XLSX), check every row, import the good ones.

The organiser uploads a file; `roster_files.read_table` reads it (in a worker thread: see the
view), `create_preview` recognises its columns (roster_columns), checks every row and stores the
result as a `RosterImport` (nothing is registered yet). The organiser may change which column holds
what (`set_columns`), then `confirm_import` checks the rows again against the current database and
registers them, all inside the caller's transaction: with any row in error nothing is imported
unless the organiser chose to skip those rows.

Row numbers are the ones the organiser sees in Excel.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import openpyxl
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from workshop import audit
from workshop.auth.models import User
from workshop.db import utcnow
from workshop.programs.models import Organization, OrgKind, Program
from workshop.registration import roster_columns, roster_files, services
from workshop.registration.models import ImportStatus, Mode, Person, Registration, RosterImport
from workshop.registration.roster_columns import FIELD_LABELS, MappingError
from workshop.registration.roster_files import MAX_ROWS, Table
from workshop.registration.validation import normalise_name, normalise_phone, parse_mode
from workshop.spreadsheets import append_row, workbook_bytes
from workshop.text import clean_line

PAYLOAD_VERSION = 2
TEMPLATE_COLUMNS = ("nama", "jabatan", "instansi", "kode_instansi", "no_hp", "email", "nip", "mode")
MAX_LENGTHS = {"name": 200, "position": 200, "email": 254}  # the Person columns
DEFAULT_MODES = ("luring", "daring")

# Template example rows: recognised (name + phone) and reported if they are uploaded as they are.
EXAMPLES = (
    {"name": "Rina Simanjuntak", "position": "Kepala Bidang", "phone": "0812-0000-0001"},
    {"name": "Jonny Hutabarat", "position": "Kepala Desa", "phone": "0812-0000-0002"},
)
EXAMPLE_KEYS = {(normalise_name(e["name"]).lower(), normalise_phone(e["phone"])) for e in EXAMPLES}

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
    "unknown_district": _l("Unknown sub-district “%(value)s”."),
    "village_not_in_district": _l("“%(value)s” is not in Kec. %(district)s but in: %(actual)s."),
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

# Rows of the file that are not people: left out of the import, and listed on the preview.
LEFT_OUT = {
    "totals": _l("a totals row"),
    "not_a_person": _l("no name and no WhatsApp number"),
}
_TOTALS = re.compile(r"^(?:jumlah|total|jml|sub\s*total)\b", re.IGNORECASE)

IMPORT_ERRORS = {
    "unknown_organization": _l("the organisation no longer exists"),
    "mode_required": _l("the programme's stages changed"),
    "already_registered": _l("the WhatsApp number was registered meanwhile"),
}


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
    if isinstance(args.get("stages"), list):  # stage positions
        args["stages"] = ", ".join(roster_columns.stage_label(position) for position in args["stages"])
    if "column" in args:
        args["column"] = str(FIELD_LABELS.get(args["column"], args["column"]))
    return str(PROBLEMS[problem["code"]]) % args


# The stored preview


def payload(record: RosterImport) -> dict:
    """The preview's content: the file's header and cells, the columns chosen, the checked rows."""
    return content_of(record.rows)


def content_of(stored: str) -> dict:
    content = json.loads(stored)
    return content if content.get("version") == PAYLOAD_VERSION else _from_version_1(content)


def _stored(content: dict) -> str:
    return json.dumps(content, ensure_ascii=False)


def _from_version_1(content: dict) -> dict:
    """A preview stored before the columns could be chosen: its rows held the cells by field."""
    rows = content.get("rows", [])
    fields = list(dict.fromkeys(key for row in rows for key in row.get("raw", {})))
    stages = list(dict.fromkeys(key for row in rows for key in row.get("raw_stages", {})))
    names = content.get("columns", {})
    mapping = [*fields, *(f"tahap_{position}" for position in stages)]
    return {
        "version": PAYLOAD_VERSION,
        "header_row": content.get("header_row", 1),
        "header": [names.get(target, target) for target in mapping],
        "mapping": mapping,
        "default_mode": "",
        "cells": [
            [
                row["row"],
                [row["raw"].get(field, "") for field in fields]
                + [row["raw_stages"].get(position, "") for position in stages],
            ]
            for row in rows
        ],
        "left_out": [],
        "rows": rows,
    }


def positions(program: Program) -> list[int]:
    return [stage.position for stage in program.stages]


def missing_columns(content: dict, stage_positions: Sequence[int]) -> list[str]:
    return roster_columns.missing(content["mapping"], stage_positions, content["default_mode"])


def missing_column_labels(content: dict, stage_positions: Sequence[int]) -> list[str]:
    return [str(roster_columns.MISSING_LABELS[key]) for key in missing_columns(content, stage_positions)]


def bad_rows(rows: list[dict]) -> list[dict]:
    return [row for row in rows if row["problems"]]


def people_rows(content: dict) -> tuple[list[dict], list[dict]]:
    """The rows that describe a person, as {"row", "raw": cells by field, "raw_stages"}, and the
    rows left out ({"row", "reason"}): a totals row ("Jumlah", "Total" first, no phone number), or
    one with neither a name nor a number (an empty numbered row, a signature below the table)."""
    mapping = content["mapping"]
    people, left_out = [], []
    for number, cells in content["cells"]:
        by_target = {
            target: clean_line(cells[column]) if column < len(cells) else ""
            for column, target in enumerate(mapping)
        }
        raw = {
            target: value for target, value in by_target.items() if target and not target.startswith("tahap_")
        }
        raw_stages = {
            target.removeprefix("tahap_"): value
            for target, value in by_target.items()
            if target.startswith("tahap_")
        }
        name, phone = raw.get("name", "").strip(), raw.get("phone", "").strip()
        first_text = next((cell for cell in cells if cell.strip()), "")
        if _TOTALS.match(first_text) and _phone(phone) is None:
            left_out.append({"row": number, "reason": "totals"})
        elif not name and not phone:
            left_out.append({"row": number, "reason": "not_a_person"})
        else:
            people.append({"row": number, "raw": raw, "raw_stages": raw_stages})
    return people, left_out


def _check(content: dict, rules: CheckRules) -> dict:
    """The content with its rows checked with the columns chosen (none while columns are missing)."""
    if missing_columns(content, rules.positions):
        return {**content, "rows": [], "left_out": []}
    people, left_out = people_rows(content)
    rows = check_rows(rules, people, content["default_mode"])
    return {**content, "rows": json.loads(json.dumps(rows, ensure_ascii=False)), "left_out": left_out}


def _width(table: Table) -> int:
    """Columns in use: up to the last one with a header or any value."""
    filled = [
        column
        for cells in (table.header, *(cells for _number, cells in table.rows))
        for column, cell in enumerate(cells)
        if cell
    ]
    return max(filled) + 1 if filled else 0


# Checking the rows


def _match_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower()
    return " ".join(re.sub(r"[.,;:/()\-–]+", " ", text).split())


_PREFIX_KINDS = {
    "desa": OrgKind.DESA,
    "kelurahan": OrgKind.DESA,
    "kel": OrgKind.DESA,
    "kantor desa": OrgKind.DESA,
    "kantor kepala desa": OrgKind.DESA,
    "pemerintah desa": OrgKind.DESA,
    "pemdes": OrgKind.DESA,
    "kantor lurah": OrgKind.DESA,
    "kecamatan": OrgKind.KECAMATAN,
    "kec": OrgKind.KECAMATAN,
    "kantor camat": OrgKind.KECAMATAN,
    "camat": OrgKind.KECAMATAN,
}
_KIND_PREFIX = re.compile(
    rf"^({'|'.join(sorted(map(re.escape, _PREFIX_KINDS), key=len, reverse=True))})\s+(.+)$"
)
_DISTRICT_SUFFIX = re.compile(r"^(.+?)\s+(?:kecamatan|kec)\s+(.+)$")


@dataclass(frozen=True)
class OrgRef:
    """What the checks need of an organisation: read once, then used away from the session (the
    rows are checked in a worker thread, see roster_views)."""

    id: int
    name: str
    label: str
    kind: OrgKind
    parent_id: int | None
    parent_name: str


class OrganizationIndex:
    """Finds an organisation by official code, name or label, forgiving case and punctuation.

    'Hutatoruan I, Kec. Tarutung', 'Desa Hutatoruan I', 'hutatoruan i kecamatan tarutung' and
    'Kec. Tarutung' all find their village or sub-district; a village's name with a sub-district
    from its own column ("Sibalanga" and "Garoga") finds the village of that sub-district.
    """

    def __init__(self, organizations: list[OrgRef], codes: dict[str, OrgRef]):
        self.by_code = codes
        self.by_key: dict[str, list[OrgRef]] = defaultdict(list)
        for org in organizations:
            for key in {_match_key(org.name), _match_key(org.label)}:
                self.by_key[key].append(org)

    @classmethod
    def load(cls, session: Session) -> OrganizationIndex:
        found = session.scalars(select(Organization).options(selectinload(Organization.parent))).all()
        refs = {
            org.id: OrgRef(
                org.id, org.name, org.label, org.kind, org.parent_id, org.parent.name if org.parent else ""
            )
            for org in found
        }
        codes = {org.code.strip().lower(): refs[org.id] for org in found if org.code}
        return cls(list(refs.values()), codes)

    def _candidates(self, key: str) -> list[OrgRef]:
        found = self.by_key.get(key, [])
        if found:
            return list(dict.fromkeys(found))
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
                if org.parent_id is not None and _match_key(org.parent_name) == district
            ]
        return []

    def districts(self, text: str) -> list[OrgRef]:
        """The sub-districts (kecamatan) a text names: 'Tarutung', 'Kec. Tarutung', 'KECAMATAN TARUTUNG'."""
        key = _match_key(text)
        prefixed = _KIND_PREFIX.match(key)
        if prefixed and _PREFIX_KINDS[prefixed.group(1)] == OrgKind.KECAMATAN:
            key = prefixed.group(2)
        return [org for org in self._candidates(key) if org.kind == OrgKind.KECAMATAN]

    def match(
        self, code: str, text: str, village: str = "", district: str = ""
    ) -> tuple[OrgRef | None, dict | None]:
        """The organisation, or None and the problem to report. `text` is the organisation as
        written; without it the village; `district` narrows both when it is given."""
        code, text, village, district = code.strip(), text.strip(), village.strip(), district.strip()
        if code:
            org = self.by_code.get(code.lower())
            if org is not None:
                return org, None
        name, field_name = (text, "organization") if text else (village, "village")
        in_district = self.districts(district) if district else []
        if not name:
            if len(in_district) == 1:
                return in_district[0], None
            if district:
                return None, _problem("unknown_district", "district", value=district)
            if code:
                return None, _problem("unknown_organization_code", "org_code", value=code)
            return None, _problem("missing_organization", "organization")
        found = self._candidates(_match_key(name))
        if field_name == "village":
            found = [org for org in found if org.kind == OrgKind.DESA]
        if district and found:
            district_ids = {district_org.id for district_org in in_district}
            inside = [org for org in found if org.id in district_ids or org.parent_id in district_ids]
            if inside:
                found = inside
            elif in_district and all(org.kind == OrgKind.DESA for org in found):
                return None, _problem(
                    "village_not_in_district",
                    field_name,
                    value=name,
                    district=in_district[0].name,
                    actual="; ".join(org.label for org in found),
                )
            elif not in_district and len(found) > 1:
                return None, _problem("unknown_district", "district", value=district)
        if len(found) == 1:
            return found[0], None
        if len(found) > 1:
            return None, _problem("ambiguous_organization", field_name, value=name, example=found[0].label)
        return None, _problem("unknown_organization", field_name, value=name)


def _problem(code: str, field_name: str, **args) -> dict:
    return {"code": code, "field": field_name, "args": args}


def _digits(text: str) -> str:
    return re.sub(r"[\s.\-]", "", text)


_SEVERAL_NUMBERS = re.compile(r"\s*(?:/|,|;|\n|\bdan\b|\batau\b)\s*", re.IGNORECASE)


def _phone(raw: str) -> str | None:
    """The number in E.164, or the first of several written in one cell ("0812... / 0813...")."""
    phone = normalise_phone(raw)
    if phone is None:
        first = _SEVERAL_NUMBERS.split(raw, maxsplit=1)[0]
        phone = normalise_phone(first) if first != raw else None
    return phone


@dataclass(frozen=True)
class CheckRules:
    """What the rows are checked against, read from the database at once: the organisations, the
    numbers already registered for the programme, its stages. Checking with it reads nothing more,
    so it can run in a worker thread while no transaction is open."""

    organizations: OrganizationIndex
    registered_phones: frozenset[str]
    positions: tuple[int, ...]

    @classmethod
    def load(cls, session: Session, program: Program) -> CheckRules:
        registered = session.scalars(
            select(Person.phone).join(Registration).where(Registration.program_id == program.id)
        )
        return cls(OrganizationIndex.load(session), frozenset(registered), tuple(positions(program)))


def check_rows(rules: CheckRules, rows: list[dict], default_mode: str = "") -> list[dict]:
    """Normalise each person row ({"row", "raw", "raw_stages"}) and list all of its problems.
    `default_mode` is used where a row names no mode."""
    organizations = rules.organizations
    registered = rules.registered_phones
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

        org, org_problem = organizations.match(
            raw.get("org_code", ""),
            raw.get("organization", ""),
            raw.get("village", ""),
            raw.get("district", ""),
        )
        if org_problem:
            problems.append(org_problem)

        raw_phone = raw.get("phone", "").strip()
        phone = _phone(raw_phone)
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
        missing: list[int] = []
        bad: dict[str, list[int]] = {}
        for stage in rules.positions:
            value = raw_stages.get(str(stage), "").strip() or raw.get("mode", "").strip()
            mode = parse_mode(value or default_mode)
            if not value and not default_mode:
                missing.append(stage)
            elif mode is None:
                bad.setdefault(value, []).append(stage)
            else:
                modes[str(stage)] = mode.value
        if missing:
            problems.append(_problem("missing_mode", "mode", stages=missing))
        for value, stages in bad.items():
            problems.append(_problem("bad_mode", "mode", value=value, stages=stages))

        if (name.lower(), phone) in EXAMPLE_KEYS:
            problems.append(_problem("example_row", "name"))

        written = raw.get("organization", "") or raw.get("village", "") or raw.get("district", "")
        row.update(
            name=name,
            position=position,
            organization_id=org.id if org else None,
            organization=org.label if org else written or raw.get("org_code", ""),
            phone=phone or "",
            email=email,
            nip=nip,
            modes=modes,
            problems=problems,
        )
        checked.append(row)
    return checked


# The import


def read_preview(filename: str, data: bytes, rules: CheckRules) -> str:
    """Read an uploaded file and check it: a preview's stored content (RosterFileError if the file
    cannot be used). Reads nothing from the database: another process runs it (roster_views)."""
    return _stored(preview_content(roster_files.read_table(filename, data), rules))


def preview_content(table: Table, rules: CheckRules) -> dict:
    """Recognise the columns of a file read by roster_files.read_table and check its rows."""
    width = _width(table)
    header = (table.header + [""] * width)[:width]
    content = {
        "version": PAYLOAD_VERSION,
        "header_row": table.header_row,
        "header": header,
        "mapping": roster_columns.guess_mapping(header, rules.positions),
        "default_mode": "",
        "cells": [[number, cells[:width]] for number, cells in table.rows],
    }
    return _check(content, rules)


def create_preview(
    session: Session, program: Program, stored: str, *, filename: str, actor: User | None
) -> RosterImport:
    """Keep a checked file (read_preview) as a preview. Nothing is registered."""
    filename = filename.replace("\\", "/").rsplit("/", 1)[-1][:255] or "roster"
    record = RosterImport(
        program_id=program.id,
        uploaded_by_id=actor.id if actor is not None else None,
        filename=filename,
        rows=stored,
        status=ImportStatus.PREVIEWED,
    )
    session.add(record)
    session.flush()
    return record


def with_columns(stored: str, mapping: list[str], default_mode: str, rules: CheckRules) -> str:
    """A preview's content checked again with the organiser's choice of columns (and of one mode
    for rows that name none). Raises MappingError for a choice that cannot be used. Reads nothing
    from the database."""
    content = content_of(stored)
    chosen = roster_columns.validate(mapping, content["header"], rules.positions)
    mode = default_mode if default_mode in DEFAULT_MODES else ""
    return _stored(_check({**content, "mapping": chosen, "default_mode": mode}, rules))


def save_checked(session: Session, record: RosterImport, stored: str, *, checked_from: str) -> None:
    """Keep content computed (with_columns) from the preview as it was (`checked_from`, its stored
    text): refused if the file was imported or the preview changed meanwhile."""
    if record.status == ImportStatus.IMPORTED:
        raise MappingError("already_imported")
    if record.rows != checked_from:
        raise MappingError("changed")
    record.rows = stored
    session.flush()


@dataclass(frozen=True)
class Recheck:
    content: dict  # the preview's content with its rows checked anew
    changed: bool  # the rows differ from those the organiser saw


def check_again(stored: str, rules: CheckRules) -> Recheck:
    """A preview's rows checked anew against the database as it is now (rules). Reads nothing."""
    content = content_of(stored)
    checked = _check(content, rules)
    return Recheck(checked, checked["rows"] != content["rows"])


@dataclass
class ImportResult:
    outcome: str  # imported, has_errors, changed, nothing_to_import, already_imported, columns_missing
    imported: int = 0
    skipped: int = 0


def confirm_import(
    session: Session,
    record: RosterImport,
    recheck: Recheck,
    *,
    checked_from: str,
    skip_bad_rows: bool,
    actor: User | None,
) -> ImportResult:
    """Register the rows of `recheck` (check_again of the preview stored as `checked_from`) in the
    caller's transaction.

    If the rows checked now differ from those the organiser saw (someone registered meanwhile, an
    organisation was renamed), the preview is refreshed and nothing is imported; so it is when the
    preview changed while it was checked. A RegistrationError from a row (a number registered since
    the check) aborts the whole import (RosterImportError): roll back.
    """
    if record.status == ImportStatus.IMPORTED:
        return ImportResult("already_imported", imported=record.imported_count)
    if record.rows != checked_from:
        return ImportResult("changed")
    program = record.program
    if missing_columns(recheck.content, positions(program)):
        return ImportResult("columns_missing")
    fresh = recheck.content["rows"]
    if recheck.changed:
        record.rows = _stored(recheck.content)
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
