"""Read-side lookups of programmes and organisations shared by several features."""

from __future__ import annotations

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import aliased, joinedload

from workshop.db import Session
from workshop.programs.models import Organization, OrgKind

KECAMATAN_MARK = ", Kec. "
KIND_ORDER = case(*((Organization.kind == kind, position) for position, kind in enumerate(OrgKind)))


def organization_by_label(session: Session, label: str) -> Organization | None:
    """The organisation shown as `label` ('Dinas Kominfo', 'Hutatoruan I, Kec. Tarutung'),
    case and spacing aside; None if no organisation or several have that label."""
    text = " ".join((label or "").split())
    name, marked, district = text.partition(KECAMATAN_MARK)
    query = select(Organization).where(func.lower(Organization.name) == name.lower())
    if marked:
        parent = aliased(Organization)
        query = query.join(parent, Organization.parent).where(func.lower(parent.name) == district.lower())
    else:
        query = query.where(Organization.parent_id.is_(None))
    found = session.scalars(query.limit(2)).all()
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
