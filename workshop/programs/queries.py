"""Read-side lookups of programmes and organisations shared by several features."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from workshop.programs.models import Organization

KECAMATAN_MARK = ", Kec. "


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
