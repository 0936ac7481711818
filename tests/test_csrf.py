"""CSRF protection is on in tests as in production (tests/csrf.py: the suite's client sends the
token as the pages do). A POST without the token, as a forged form on another site would send it,
is refused with a clear message in the reader's language, and changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests import factories
from workshop.auth.models import AuditEntry, Role
from workshop.registration.models import Registration, Status

EXPIRED = {
    "id": "Formulir sudah kedaluwarsa. Kembali, muat ulang halaman, lalu coba lagi.",
    "en": "The form expired. Go back, reload the page and try again.",
}


@pytest.fixture
def pending(app, session, login):
    program = factories.program(session, stages=1)
    registration = factories.registration(session, program)
    login(factories.staff(session, Role.PANITIA))
    session.commit()
    return program, registration


def _approve(client, program, registration, **options):
    return client.post(
        f"/admin/programs/{program.id}/registrations/status?one={registration.id}",
        data={"action": "approve"},
        **options,
    )


@pytest.mark.parametrize("language", ["id", "en"])
def test_a_post_without_the_csrf_token_is_refused_in_the_readers_language_and_changes_nothing(
    client, session, pending, language
):
    program, registration = pending
    assert client.post(f"/language/{language}").status_code == 302
    audited = session.scalar(select(func.count()).select_from(AuditEntry))

    response = _approve(client, program, registration, send_csrf_token=False)

    assert response.status_code == 400
    assert EXPIRED[language] in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Registration, registration.id).status == Status.PENDING
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == audited


def test_a_post_with_a_token_of_another_session_is_refused(app, client, session, pending):
    program, registration = pending
    stranger = app.test_client()

    response = _approve(client, program, registration, headers={"X-CSRFToken": stranger.csrf_token()})

    assert response.status_code == 400
    assert EXPIRED["id"] in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Registration, registration.id).status == Status.PENDING


def test_the_same_post_with_the_token_of_its_session_goes_through(client, session, pending):
    program, registration = pending

    response = _approve(client, program, registration)

    assert response.status_code == 302
    session.expire_all()
    assert session.get(Registration, registration.id).status == Status.APPROVED
