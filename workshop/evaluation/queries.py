"""Read-side lookups of evaluations that other features use (certificates: "evaluation filled")."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workshop.evaluation.models import EvaluationResponse


def responded_stage_ids(session: Session, registration_id: int) -> set[int]:
    """The ids of the stages this registration has evaluated (a response saved, at any time)."""
    return set(
        session.scalars(
            select(EvaluationResponse.stage_id).where(EvaluationResponse.registration_id == registration_id)
        )
    )


def responded_stage_ids_by_registration(session: Session, registration_ids: list[int]) -> dict[int, set[int]]:
    """`responded_stage_ids` for many registrations in one query (bulk certificate runs);
    every given id is a key, with an empty set if it evaluated nothing."""
    found: dict[int, set[int]] = {registration_id: set() for registration_id in registration_ids}
    if not registration_ids:
        return found
    rows = session.execute(
        select(EvaluationResponse.registration_id, EvaluationResponse.stage_id).where(
            EvaluationResponse.registration_id.in_(registration_ids)
        )
    )
    for registration_id, stage_id in rows:
        found[registration_id].add(stage_id)
    return found
