"""Group work's operations: set a stage's groups up, put participants in them (the organiser, or
the participant's own choice within the cap), name leaders and breakout links, and save the
shared output field by field. Each raises GroupError with a code; views say it in words."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select, update

from workshop import audit
from workshop.auth.models import User
from workshop.db import Session
from workshop.groups.models import OUTPUT_FIELDS, GroupMember, GroupMode, GroupOutput, GroupWork, StageGroup
from workshop.groups.queries import stage_participants
from workshop.programs.dimensions import DIMENSIONS
from workshop.programs.models import Stage
from workshop.programs.schedule import Phase, stage_phase
from workshop.registration.models import Registration

MAX_CAP = 1000
MAX_OUTPUT = 4000  # characters per output field
MAX_LINK = 500


class GroupError(Exception):
    def __init__(self, code: str, **detail: object) -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


def valid_meeting_url(url: str) -> bool:
    """A breakout link: https only, with a host, no spaces, no credentials."""
    if not url or len(url) > MAX_LINK or any(c.isspace() for c in url):
        return False
    parts = urlsplit(url)
    return parts.scheme == "https" and bool(parts.hostname) and parts.username is None


def set_up(
    session: Session,
    stage: Stage,
    *,
    dimensions: Iterable[str],
    mode: GroupMode,
    cap: int | None,
    actor: User | None,
) -> GroupWork:
    """The stage's groups are those of `dimensions`: missing ones are created, and a group of a
    dimension no longer chosen is removed if nobody is in it and its output is empty."""
    chosen = [d for d in DIMENSIONS if d in set(dimensions)]
    if not chosen or len(chosen) != len(set(dimensions)):
        raise GroupError("bad_dimensions")
    if cap is not None and not 1 <= cap <= MAX_CAP:
        raise GroupError("bad_cap")
    work = session.get(GroupWork, stage.id)
    if work is None:
        work = GroupWork(stage_id=stage.id, mode=mode, cap=cap)
        session.add(work)
    work.mode, work.cap = mode, cap
    existing = {group.dimension: group for group in groups_of(session, stage.id)}
    for dimension, group in existing.items():
        if dimension not in chosen:
            if group.members or any(row.text for row in group.output):
                raise GroupError("group_in_use", dimension=dimension)
            session.delete(group)
    for dimension in chosen:
        if dimension not in existing:
            group = StageGroup(stage_id=stage.id, dimension=dimension)
            group.output = [GroupOutput(field=field) for field in OUTPUT_FIELDS]
            session.add(group)
    session.flush()
    audit.record(
        session, actor, "groups.set_up", f"stage:{stage.id}", f"{mode.value} cap={cap} {','.join(chosen)}"
    )
    return work


def groups_of(session: Session, stage_id: int) -> list[StageGroup]:
    groups = session.scalars(select(StageGroup).where(StageGroup.stage_id == stage_id)).all()
    return sorted(groups, key=lambda group: group.order)


def update_group(
    session: Session, group: StageGroup, *, leader_id: int | None, meeting_url: str, actor: User | None
) -> None:
    if meeting_url and not valid_meeting_url(meeting_url):
        raise GroupError("bad_link")
    if leader_id is not None and leader_id not in {member.registration_id for member in group.members}:
        raise GroupError("leader_not_member")
    group.leader_id, group.meeting_url = leader_id, meeting_url
    session.flush()
    audit.record(session, actor, "groups.update", f"group:{group.id}", f"leader={leader_id}")


def assign(session: Session, stage: Stage, chosen: Mapping[int, int | None], *, actor: User | None) -> int:
    """The organiser puts participants (registration id -> group id, None: no group) in groups.
    Returns how many changed."""
    participants = {registration.id for registration in stage_participants(session, stage)}
    groups = {group.id: group for group in groups_of(session, stage.id)}
    if any(rid not in participants for rid in chosen) or any(
        gid is not None and gid not in groups for gid in chosen.values()
    ):
        raise GroupError("bad_choice")
    current = members_by_registration(session, stage.id)
    changed = 0
    for registration_id, group_id in chosen.items():
        if current.get(registration_id) == group_id:
            continue
        _move(session, stage.id, registration_id, current.get(registration_id), group_id, groups)
        changed += 1
    session.flush()
    if changed:
        audit.record(session, actor, "groups.assign", f"stage:{stage.id}", f"{changed} changed")
    return changed


def spread_evenly(session: Session, stage: Stage, *, actor: User | None) -> int:
    """Put the participants without a group in the groups, an organisation's people together,
    the largest organisations first, each into the group with the fewest members."""
    groups = groups_of(session, stage.id)
    if not groups:
        raise GroupError("no_groups")
    current = members_by_registration(session, stage.id)
    sizes = {group.id: 0 for group in groups}
    for group_id in current.values():
        sizes[group_id] += 1
    by_organization: dict[int, list[int]] = {}
    for registration in stage_participants(session, stage):
        if registration.id not in current:
            by_organization.setdefault(registration.person.organization_id, []).append(registration.id)
    chosen: dict[int, int | None] = {}
    for people in sorted(by_organization.values(), key=len, reverse=True):
        smallest = min(sizes, key=lambda group_id: (sizes[group_id], list(sizes).index(group_id)))
        for registration_id in people:
            chosen[registration_id] = smallest
        sizes[smallest] += len(people)
    return assign(session, stage, chosen, actor=actor) if chosen else 0


def join(
    session: Session, stage: Stage, registration: Registration, group_id: int, *, now: datetime
) -> StageGroup:
    """A participant picks a group (choice mode) until the stage has ended, while it has a seat
    left: the group's row is locked first (PostgreSQL), so concurrent joins count the members one
    after another."""
    work = session.get(GroupWork, stage.id)
    if work is None or work.mode != GroupMode.CHOICE:
        raise GroupError("not_choice")
    if stage_phase(stage, now) == Phase.ENDED:
        raise GroupError("ended")
    if registration.id not in {r.id for r in stage_participants(session, stage)}:
        raise GroupError("not_participant")
    group = session.scalar(
        select(StageGroup).where(StageGroup.id == group_id, StageGroup.stage_id == stage.id).with_for_update()
    )
    if group is None:
        raise GroupError("bad_choice")
    current = members_by_registration(session, stage.id).get(registration.id)
    if current == group.id:
        return group
    if work.cap is not None:
        count = session.scalar(select(func.count()).where(GroupMember.group_id == group.id)) or 0
        if count >= work.cap:
            raise GroupError("full")
    _move(session, stage.id, registration.id, current, group.id, {group.id: group})
    session.flush()
    return group


def _move(
    session: Session,
    stage_id: int,
    registration_id: int,
    old: int | None,
    new: int | None,
    groups: Mapping[int, StageGroup],
) -> None:
    if old is not None:
        session.execute(
            delete(GroupMember).where(
                GroupMember.stage_id == stage_id, GroupMember.registration_id == registration_id
            )
        )
        session.execute(
            update(StageGroup)
            .where(StageGroup.id == old, StageGroup.leader_id == registration_id)
            .values(leader_id=None)
        )
    if new is not None:
        session.add(GroupMember(stage_id=stage_id, registration_id=registration_id, group_id=new))
    session.expire_all()


def members_by_registration(session: Session, stage_id: int) -> dict[int, int]:
    rows = session.execute(
        select(GroupMember.registration_id, GroupMember.group_id).where(GroupMember.stage_id == stage_id)
    )
    return {registration_id: group_id for registration_id, group_id in rows}


def group_of(session: Session, stage_id: int, registration_id: int) -> StageGroup | None:
    return session.scalar(
        select(StageGroup)
        .join(GroupMember, GroupMember.group_id == StageGroup.id)
        .where(GroupMember.stage_id == stage_id, GroupMember.registration_id == registration_id)
    )


def save_output(
    session: Session,
    group: StageGroup,
    registration: Registration,
    *,
    field: str,
    text: str,
    version: int,
    now: datetime,
) -> GroupOutput:
    """Save one field of the group's output, if the member started from its current version. From
    an older version: GroupError("changed") with the field as it is now and who changed it."""
    if field not in OUTPUT_FIELDS:
        raise GroupError("bad_field")
    if len(text) > MAX_OUTPUT:
        raise GroupError("too_long")
    if group_of(session, group.stage_id, registration.id) is not group:
        raise GroupError("not_member")
    saved = session.scalar(
        update(GroupOutput)
        .where(GroupOutput.group_id == group.id, GroupOutput.field == field, GroupOutput.version == version)
        .values(text=text, version=GroupOutput.version + 1, updated_by_id=registration.id, updated_at=now)
        .returning(GroupOutput.version)
        .execution_options(synchronize_session=False)
    )
    row = session.get_one(GroupOutput, (group.id, field))
    session.refresh(row)
    if saved is None:
        raise GroupError("changed", row=row)
    return row
