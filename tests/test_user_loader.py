"""The login loader reads the user's row with a Core statement and makes it the request session's
persistent `User` (workshop/db.py `RowLoader`): views get the object an ORM query would give, and
a change made by another process (another connection) counts from the very next request."""

from __future__ import annotations

from sqlalchemy import inspect, select, update

from tests import factories
from workshop.auth import queries
from workshop.auth.models import Role, User
from workshop.db import db


def _change_elsewhere(user_id: int, **values) -> None:
    """As another process of the cluster or a `flask` command does: its own connection, committed.
    The test's requests share its app context and session: end the session as each request's end
    does in a server, so that the next request starts with none."""
    db.session.remove()
    with db.engine.begin() as connection:
        connection.execute(update(User.__table__).where(User.__table__.c.id == user_id).values(**values))


def test_a_petugas_demoted_elsewhere_is_refused_at_the_next_request(app, client, session, login):
    petugas = login(factories.staff(session, Role.PETUGAS))
    session.commit()
    assert client.get("/checkin").status_code == 200

    _change_elsewhere(petugas.id, role=Role.PARTICIPANT)

    assert client.get("/checkin").status_code == 403


def test_a_petugas_disabled_elsewhere_is_sent_to_log_in_at_the_next_request(app, client, session, login):
    petugas = login(factories.staff(session, Role.PETUGAS))
    session.commit()
    assert client.get("/checkin").status_code == 200

    _change_elsewhere(petugas.id, active=False)

    response = client.get("/checkin")
    assert response.status_code == 302 and response.location.startswith("/login")


def test_sessions_ended_elsewhere_send_to_log_in_at_the_next_request(app, client, session, login):
    petugas = login(factories.staff(session, Role.PETUGAS))
    session.commit()
    assert client.get("/checkin").status_code == 200

    _change_elsewhere(petugas.id, session_epoch=User.__table__.c.session_epoch + 1)

    response = client.get("/checkin")
    assert response.status_code == 302 and response.location.startswith("/login")


def test_the_loaded_user_is_the_sessions_persistent_user(app, session):
    person = factories.registration(session, factories.program(session)).person
    participant = User(role=Role.PARTICIPANT, name=person.name, person=person)
    session.add(participant)
    session.flush()
    participant_id, person_id, epoch = participant.id, person.id, participant.session_epoch
    session.commit()
    session.remove()

    loaded = queries.user_of_session(session, f"{participant_id}.{epoch}")

    assert loaded is not None and inspect(loaded).persistent
    assert loaded in session and not session.dirty
    assert (loaded.id, loaded.role, loaded.session_epoch, loaded.active) == (
        participant_id,
        Role.PARTICIPANT,
        epoch,
        True,
    )
    assert loaded.created_at.tzinfo is not None
    assert loaded.person.id == person_id  # a lazy relationship loads from the session
    assert session.scalar(select(User).where(User.id == participant_id)) is loaded
    assert queries.user_of_session(session, f"{participant_id}.{epoch}") is loaded

    loaded.name = "Nama Baru"
    session.commit()  # flushed like any loaded object, then expired
    session.remove()
    assert session.get(User, participant_id).name == "Nama Baru"
    assert queries.user_of_session(session, f"{participant_id}.{epoch + 1}") is None
    assert queries.user_of_session(session, "999999.0") is None
