"""Read side of group work: a stage's participants, its groups with their members and seats, the
group a participant is in, and the rows the export and the laporan show."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import joinedload, selectinload

from workshop.db import Session
from workshop.groups.models import OUTPUT_FIELDS, GroupMember, GroupWork, StageGroup
from workshop.programs.models import Stage
from workshop.registration.models import Mode, Person, Registration, RegistrationStage, Status


def stage_participants(session: Session, stage: Stage) -> list[Registration]:
    """The approved registrations that take part in the stage (in the hall or online), by name."""
    return list(
        session.scalars(
            select(Registration)
            .join(RegistrationStage, RegistrationStage.registration_id == Registration.id)
            .join(Registration.person)
            .where(
                Registration.program_id == stage.program_id,
                Registration.status == Status.APPROVED,
                RegistrationStage.stage_id == stage.id,
            )
            .options(joinedload(Registration.person).joinedload(Person.organization))
            .order_by(Person.name, Registration.id)
        )
    )


def modes_of(session: Session, stage_id: int) -> dict[int, Mode]:
    rows = session.execute(
        select(RegistrationStage.registration_id, RegistrationStage.mode).where(
            RegistrationStage.stage_id == stage_id
        )
    )
    return {registration_id: mode for registration_id, mode in rows}


@dataclass(frozen=True)
class GroupView:
    group: StageGroup
    members: list[Registration]
    seats_left: int | None  # None: no cap

    @property
    def output(self) -> dict[str, dict]:
        return output_of(self.group)


def output_of(group: StageGroup) -> dict[str, dict]:
    """field -> {'text', 'version', 'by'} (by: the name of who saved it last, or "")."""
    rows = {row.field: row for row in group.output}
    result = {}
    for field in OUTPUT_FIELDS:
        row = rows.get(field)
        by = row.updated_by.person.name if row is not None and row.updated_by is not None else ""
        result[field] = {"text": row.text if row else "", "version": row.version if row else 0, "by": by}
    return result


def output_version(output: dict[str, dict]) -> int:
    """Grows with every save of the output's fields: the newest state a client fetched wins."""
    return sum(value["version"] for value in output.values())


def stage_groups(session: Session, stage_id: int) -> tuple[GroupWork | None, list[GroupView]]:
    """The stage's setup and its groups in dimension order, each with its members by name."""
    work = session.get(GroupWork, stage_id)
    groups = session.scalars(
        select(StageGroup)
        .where(StageGroup.stage_id == stage_id)
        .options(
            selectinload(StageGroup.members)
            .joinedload(GroupMember.registration)
            .joinedload(Registration.person)
            .joinedload(Person.organization),
            joinedload(StageGroup.leader).joinedload(Registration.person),
            selectinload(StageGroup.output),
        )
    ).all()
    cap = work.cap if work is not None else None
    views = []
    for group in sorted(groups, key=lambda g: g.order):
        members = sorted((m.registration for m in group.members), key=lambda r: (r.person.name, r.id))
        seats = None if cap is None else max(cap - len(members), 0)
        views.append(GroupView(group, members, seats))
    return work, views


def own_group(session: Session, stage_id: int, registration_id: int) -> StageGroup | None:
    return session.scalar(
        select(StageGroup)
        .join(GroupMember, GroupMember.group_id == StageGroup.id)
        .where(GroupMember.stage_id == stage_id, GroupMember.registration_id == registration_id)
        .options(joinedload(StageGroup.leader).joinedload(Registration.person))
    )


# Built once (its cache key is memoised on the statement): every socket that joins a stage asks.
_OWN_GROUP_ID = select(GroupMember.group_id).where(
    GroupMember.stage_id == bindparam("stage_id"), GroupMember.registration_id == bindparam("registration_id")
)


def own_group_id(session: Session, stage_id: int, registration_id: int) -> int | None:
    return session.scalar(_OWN_GROUP_ID, {"stage_id": stage_id, "registration_id": registration_id})


# Built once (its cache key is memoised on the statement): the participant page asks on every view.
# A row per stage of the programme with groups set up, with the registration's group there (or None).
_GROUPS_ON_PAGE = (
    select(GroupWork.stage_id, GroupMember.group_id)
    .join(Stage, Stage.id == GroupWork.stage_id)
    .outerjoin(
        GroupMember,
        and_(
            GroupMember.stage_id == GroupWork.stage_id,
            GroupMember.registration_id == bindparam("registration_id"),
        ),
    )
    .where(Stage.program_id == bindparam("program_id"))
)


def stages_with_groups(session: Session, program_id: int) -> frozenset[int]:
    """The programme's stages with group work set up (kept per programme version by the
    participant page, programs/facts.py)."""
    return frozenset(
        session.scalars(
            select(GroupWork.stage_id)
            .join(Stage, Stage.id == GroupWork.stage_id)
            .where(Stage.program_id == program_id)
        )
    )


def groups_on_page(
    session: Session, program_id: int, registration_id: int
) -> tuple[set[int], dict[int, StageGroup]]:
    """For the participant page: the programme's stages with groups set up, and stage id -> the
    group the registration is in there. One statement (columns only, on the session's connection,
    without the ORM's per-statement work), and a second only for a participant in a group."""
    rows = session.connection().execute(
        _GROUPS_ON_PAGE, {"program_id": program_id, "registration_id": registration_id}
    )
    stages: set[int] = set()
    group_ids: list[int] = []
    for stage_id, group_id in rows:
        stages.add(stage_id)
        if group_id is not None:
            group_ids.append(group_id)
    if not group_ids:
        return stages, {}
    groups = session.scalars(
        select(StageGroup)
        .where(StageGroup.id.in_(group_ids))
        .options(joinedload(StageGroup.leader).joinedload(Registration.person))
    )
    return stages, {group.stage_id: group for group in groups}


def group_members(session: Session, group_ids: set[int], registration_ids: set[int]) -> set[tuple[int, int]]:
    """(group id, registration id) of these registrations in these groups: who may act in a
    group's poll or question."""
    if not group_ids or not registration_ids:
        return set()
    rows = session.execute(
        select(GroupMember.group_id, GroupMember.registration_id).where(
            GroupMember.group_id.in_(group_ids), GroupMember.registration_id.in_(registration_ids)
        )
    )
    return {(group_id, registration_id) for group_id, registration_id in rows}
