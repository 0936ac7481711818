"""Evaluation storage: one response per (registration, stage) in the database; the stages a
registration has evaluated (what the certificates' "evaluation filled" rule reads)."""

import pytest
from sqlalchemy.exc import IntegrityError

from tests import factories
from workshop.evaluation import queries
from workshop.evaluation.models import EvaluationResponse
from workshop.registration.models import Status


def test_the_database_keeps_one_response_per_registration_and_stage(session):
    program = factories.program(session, stages=2)
    registration = factories.registration(session, program, status=Status.APPROVED)
    session.add(EvaluationResponse(registration_id=registration.id, stage_id=program.stages[0].id))
    session.flush()

    session.add(EvaluationResponse(registration_id=registration.id, stage_id=program.stages[0].id))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_responded_stage_ids_are_the_stages_this_registration_evaluated(session):
    program = factories.program(session, stages=3)
    first, second, third = program.stages
    ani = factories.registration(session, program, status=Status.APPROVED)
    budi = factories.registration(session, program, status=Status.APPROVED)
    quiet = factories.registration(session, program, status=Status.APPROVED)
    session.add_all(
        [
            EvaluationResponse(registration_id=ani.id, stage_id=first.id),
            EvaluationResponse(registration_id=ani.id, stage_id=third.id),
            EvaluationResponse(registration_id=budi.id, stage_id=second.id),
        ]
    )
    session.flush()

    assert queries.responded_stage_ids(session, ani.id) == {first.id, third.id}
    assert queries.responded_stage_ids(session, quiet.id) == set()
    assert queries.responded_stage_ids_by_registration(session, [ani.id, budi.id, quiet.id]) == {
        ani.id: {first.id, third.id},
        budi.id: {second.id},
        quiet.id: set(),
    }
    assert queries.responded_stage_ids_by_registration(session, []) == {}
