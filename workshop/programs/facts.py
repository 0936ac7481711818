"""What the participant page asks other features about a programme on every view, although it
changes a few times in the programme's life (has it a questionnaire, assignments for this kind of
organisation, group work, certificates?), kept per process.

A fact is kept under the programme's `schedule_version` and `facts_version`. Every flush that adds,
changes or deletes a row of a tracked table (`track`, called by the feature that owns the table)
bumps `facts_version` in the database, in the same transaction; a write the ORM does not see (a
bulk insert) calls `changed`. The page reads both versions with its registration, so every process
sees a change on its next view, and one that saw no change asks nothing more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import chain
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session as OrmSession

from workshop.db import Session, db
from workshop.programs.models import Program, ProgramRow

T = TypeVar("T")

CACHE_LIMIT = 1024

# The programme a row of a tracked table belongs to (None when it cannot tell).
ProgramOf = Callable[[Session, Any], int | None]

_tracked: dict[type, ProgramOf] = {}


def own_program(_session: Session, row: Any) -> int | None:
    """A row with a `program_id` (or only its `program`, before the flush sets the id)."""
    if row.program_id is not None:
        return row.program_id
    program = getattr(row, "program", None)
    return program.id if program is not None else None


def through(relation: str) -> ProgramOf:
    """The programme of the row that `relation` (a many-to-one) names: an item's questionnaire,
    a group work's stage. Read by its key when the relation is not loaded (or was just cleared)."""

    def program_of(session: Session, row: Any) -> int | None:
        parent = getattr(row, relation)
        if parent is None:
            link = inspect(type(row)).relationships[relation]
            (column,) = link.local_columns
            key = getattr(row, inspect(type(row)).get_property_by_column(column).key)
            parent = session.get(link.mapper.class_, key) if key is not None else None
        return own_program(session, parent) if parent is not None else None

    return program_of


def track(model: type, program_of: ProgramOf = own_program) -> None:
    """Every flush that writes a row of `model` bumps its programme's facts version."""
    _tracked[model] = program_of


def changed(session: Session, program_ids: Iterable[int]) -> None:
    """Bump the facts version of these programmes (in the database, as part of the next flush)."""
    for program_id in set(program_ids):
        program = session.get(Program, program_id)
        if program is not None and program not in session.deleted:
            # Computed by the database: two writers never both write the same next version.
            program.facts_version = Program.facts_version + 1


@event.listens_for(OrmSession, "before_flush")
def _bump_versions(session: OrmSession, _context, _instances) -> None:
    touched = set()
    for row in chain(session.new, session.dirty, session.deleted):
        program_of = _tracked.get(type(row))
        if program_of is not None and (program_id := program_of(session, row)) is not None:
            touched.add(program_id)
    if touched:
        changed(session, touched)


class FactsCache:
    """The facts of one app's programmes (one database), by programme and versions."""

    def __init__(self) -> None:
        self._kept: dict[tuple[int, int, int], dict[Callable, Any]] = {}

    def get(self, session: Session, program: Program | ProgramRow, load: Callable[[Session, int], T]) -> T:
        """`load(session, program.id)`, asked once per version of the programme."""
        key = (program.id, program.schedule_version, program.facts_version)
        facts = self._kept.get(key)
        if facts is None:
            if len(self._kept) >= CACHE_LIMIT:
                self._kept.clear()
            facts = self._kept[key] = {}
        if load not in facts:
            facts[load] = load(session, program.id)
        return facts[load]


def of(program: Program | ProgramRow, load: Callable[[Session, int], T]) -> T:
    """The fact `load(session, program id)` of `program`, from this process's cache unless the
    programme changed since (for the views: the app's cache and session)."""
    cache: FactsCache = current_app.extensions["program_facts"]
    return cache.get(db.session, program, load)
