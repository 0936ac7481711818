"""Checking the rows of a roster: which rows are people, and every problem of each person row
(name, organisation, WhatsApp number, email, NIP, attendance modes), read against `CheckRules`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from workshop.db import Session
from workshop.programs.models import Program
from workshop.programs.organization_index import OrganizationIndex
from workshop.registration.models import Person, Registration
from workshop.registration.roster import columns
from workshop.registration.roster.template import EXAMPLES
from workshop.registration.validation import normalise_name, normalise_phone, parse_mode
from workshop.text import clean_line

MAX_LENGTHS = {"name": 200, "position": 200, "email": 254}  # the Person columns

# Template example rows: recognised (name + phone) and reported if they are uploaded as they are.
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


def problem_message(problem: dict) -> str:
    """A row problem in the user's language."""
    args = dict(problem.get("args", {}))
    if isinstance(args.get("stages"), list):  # stage positions
        args["stages"] = ", ".join(columns.stage_label(position) for position in args["stages"])
    if "column" in args:
        args["column"] = str(columns.FIELD_LABELS.get(args["column"], args["column"]))
    return str(PROBLEMS[problem["code"]]) % args


def positions(program: Program) -> list[int]:
    return [stage.position for stage in program.stages]


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
