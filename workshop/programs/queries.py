"""Read-side lookups of programmes and organisations shared by several features."""

from __future__ import annotations

from sqlalchemy import Select, bindparam, case, func, or_, select
from sqlalchemy.orm import aliased, joinedload

from workshop.db import Session
from workshop.programs.models import Organization, OrgKind

KECAMATAN_MARK = ", Kec. "
KIND_ORDER = case(*((Organization.kind == kind, position) for position, kind in enumerate(OrgKind)))


# Built once, with bound parameters (their cache keys are memoised on the statements): the public
# registration form looks its organisation up on every POST.
_PARENT = aliased(Organization)
_BY_NAME = (
    select(Organization)
    .where(func.lower(Organization.name) == bindparam("name"), Organization.parent_id.is_(None))
    .limit(2)  # two say that the label is ambiguous
)
_BY_NAME_IN_DISTRICT = (
    select(Organization)
    .join(_PARENT, Organization.parent)
    .where(
        func.lower(Organization.name) == bindparam("name"), func.lower(_PARENT.name) == bindparam("district")
    )
    .limit(2)
)


def organization_by_label(session: Session, label: str) -> Organization | None:
    """The organisation shown as `label` ('Dinas Kominfo', 'Hutatoruan I, Kec. Tarutung'),
    case and spacing aside; None if no organisation or several have that label."""
    text = " ".join((label or "").split())
    name, marked, district = text.partition(KECAMATAN_MARK)
    if marked:
        query, values = _BY_NAME_IN_DISTRICT, {"name": name.lower(), "district": district.lower()}
    else:
        query, values = _BY_NAME, {"name": name.lower()}
    found = session.scalars(query, values).all()
    return found[0] if len(found) == 1 else None


def organizations_query(kind: OrgKind | None, text: str) -> Select:
    """Organisations of a kind (or all), whose name, code or sub-district contains `text`."""
    parent = aliased(Organization)
    query = (
        select(Organization)
        .outerjoin(parent, Organization.parent)
        .options(joinedload(Organization.parent))
        .order_by(KIND_ORDER, Organization.name, Organization.id)
    )
    if kind is not None:
        query = query.where(Organization.kind == kind)
    if text:
        query = query.where(
            or_(
                Organization.name.icontains(text, autoescape=True),
                Organization.code.icontains(text, autoescape=True),
                parent.name.icontains(text, autoescape=True),
            )
        )
    return query
