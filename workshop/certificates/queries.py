"""Read-side queries of certificates that several views share."""

from __future__ import annotations

from sqlalchemy import bindparam, exists, func, select

from workshop.certificates.models import Certificate
from workshop.db import Session, db
from workshop.programs import facts
from workshop.registration.models import Registration
from workshop.registration.queries import PageRegistration

# Built once (its cache key is memoised on the statement): the participant page asks on every view.
_VALID_CERTIFICATE_OF = select(Certificate).where(
    Certificate.registration_id == bindparam("registration_id"), Certificate.revoked_at.is_(None)
)


def has_certificates(session: Session, program_id: int) -> bool:
    """Whether the programme issued any certificate (kept per programme version by the participant
    page, programs/facts.py)."""
    return session.scalar(select(exists().where(Certificate.program_id == program_id))) or False


def valid_certificate_of(registration: Registration | PageRegistration) -> Certificate | None:
    """The registration's certificate, unless revoked (the participant's page shows it)."""
    if not facts.of(registration.program, has_certificates):
        return None
    return db.session.scalar(_VALID_CERTIFICATE_OF, {"registration_id": registration.id})


def certificate_by_code(code: str) -> Certificate | None:
    if not code or len(code) > 24:
        return None
    return db.session.scalar(select(Certificate).where(Certificate.code == code))


def certificates_of(program_id: int) -> list[Certificate]:
    return list(
        db.session.scalars(
            select(Certificate).where(Certificate.program_id == program_id).order_by(Certificate.number)
        )
    )


def counts(program_id: int) -> tuple[int, int]:
    """(valid, revoked) certificates of the programme."""
    valid, revoked = db.session.execute(
        select(
            func.count().filter(Certificate.revoked_at.is_(None)),
            func.count().filter(Certificate.revoked_at.is_not(None)),
        ).where(Certificate.program_id == program_id)
    ).one()
    return valid or 0, revoked or 0
