"""The roster import's operations: read and check a file into a preview, choose its columns, check
it again and register its rows, inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from workshop import audit
from workshop.auth.models import User
from workshop.db import Session, utcnow
from workshop.programs.models import Program
from workshop.registration import services
from workshop.registration.models import ImportStatus, Mode, RosterImport
from workshop.registration.roster import columns, files
from workshop.registration.roster.checks import CheckRules, positions
from workshop.registration.roster.columns import MappingError
from workshop.registration.roster.previews import (
    DEFAULT_MODES,
    as_stored,
    bad_rows,
    check_content,
    content_of,
    missing_columns,
    preview_content,
)
from workshop.text import clean_line

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


def read_preview(filename: str, data: bytes, rules: CheckRules) -> str:
    """Read an uploaded file and check it: a preview's stored content (RosterFileError if the file
    cannot be used). Reads nothing from the database: another process runs it (roster/views.py)."""
    return as_stored(preview_content(files.read_table(filename, data), rules))


def create_preview(
    session: Session, program: Program, stored: str, *, filename: str, actor: User | None
) -> RosterImport:
    """Keep a checked file (read_preview) as a preview. Nothing is registered."""
    filename = clean_line(filename.replace("\\", "/").rsplit("/", 1)[-1])[:255] or "roster"
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
    chosen = columns.validate(mapping, content["header"], rules.positions)
    mode = default_mode if default_mode in DEFAULT_MODES else ""
    return as_stored(check_content({**content, "mapping": chosen, "default_mode": mode}, rules))


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
    checked = check_content(content, rules)
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
        record.rows = as_stored(recheck.content)
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
