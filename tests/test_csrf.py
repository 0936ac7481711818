"""CSRF protection is on in tests as in production (tests/csrf.py: the suite's client sends the
token as the pages do). A POST without the token, as a forged form on another site would send it,
is refused with a clear message in the reader's language, and changes nothing."""

from __future__ import annotations

import re
import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
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


def test_a_page_gives_one_token_on_every_view_and_a_post_with_it_goes_through(client, session, pending):
    """workshop/csrf.py signs a session's token once per process while tokens do not expire: every
    view of a page, and each of its forms, gives the same token, which the app accepts."""
    program, registration = pending
    pages = [client.get("/admin/programs").get_data(as_text=True) for _ in range(2)]

    tokens = [re.findall(r'(?:"csrf-token" content|"csrf_token" value)="([^"]+)"', page) for page in pages]
    with client.session_transaction() as client_session:
        raw = client_session["csrf_token"]
    response = _approve(client, program, registration, headers={"X-CSRFToken": tokens[1][0]})

    assert len(tokens[0]) == 3  # the meta tag, the language switch and the logout form
    assert set(tokens[0]) == set(tokens[1]) == {tokens[0][0]}
    serializer = URLSafeTimedSerializer(client.application.secret_key, salt="wtf-csrf-token")
    assert serializer.loads(tokens[0][0]) == raw
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Registration, registration.id).status == Status.APPROVED


def test_a_token_that_went_through_once_is_still_refused_in_another_session(app, client, session, pending):
    """workshop/csrf.py keeps what a token signs once it was verified: it must still match the
    session the request comes with."""
    program, registration = pending
    token = _token_gone_through(client)
    stranger = app.test_client()
    organiser = factories.staff(session, Role.PANITIA)
    session.commit()
    logged_in = stranger.post("/login", data={"username": organiser.username, "password": factories.PASSWORD})
    assert logged_in.status_code == 302

    response = _approve(stranger, program, registration, headers={"X-CSRFToken": token})

    _assert_refused(session, response, registration)


def test_a_token_changed_by_one_character_is_refused(client, session, pending):
    program, registration = pending
    token = _token_gone_through(client)
    # A middle character of the signature: the last one carries bits base64 leaves unused, so some
    # changes of it decode to the same signature.
    payload, _, signature = token.rpartition(".")
    middle = len(signature) // 2
    forged = (
        f"{payload}.{signature[:middle]}{'A' if signature[middle] != 'A' else 'B'}{signature[middle + 1 :]}"
    )

    response = _approve(client, program, registration, headers={"X-CSRFToken": forged})

    _assert_refused(session, response, registration)


def test_with_a_time_limit_an_old_token_is_refused_even_after_it_went_through(app, client, session, pending):
    program, registration = pending
    _token_gone_through(client)
    app.config["WTF_CSRF_TIME_LIMIT"] = 60
    with client.session_transaction() as client_session:
        raw = client_session["csrf_token"]
    hour_old = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token", signer=_HourOldSigner).dumps(raw)

    response = _approve(client, program, registration, headers={"X-CSRFToken": hour_old})

    _assert_refused(session, response, registration)


def test_over_https_a_known_token_from_another_site_is_refused(client, session, pending):
    """Flask-WTF's same-origin Referer check over HTTPS holds for a token already verified."""
    program, registration = pending
    base_url = "https://localhost"
    token = _token_gone_through(client, base_url)

    response = _approve(
        client,
        program,
        registration,
        base_url=base_url,
        headers={"X-CSRFToken": token, "Referer": "https://elsewhere.example/"},
    )

    _assert_refused(session, response, registration)


def _token_gone_through(client, base_url: str | None = None) -> str:
    """The client's token, once accepted (and so kept by workshop/csrf.py)."""
    token = client.csrf_token(base_url)
    assert client.post("/language/en", base_url=base_url, headers={"X-CSRFToken": token}).status_code == 302
    return token


def _assert_refused(session, response, registration) -> None:
    assert response.status_code == 400
    session.expire_all()
    assert session.get(Registration, registration.id).status == Status.PENDING


class _HourOldSigner(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 3600


def test_a_json_body_carries_its_token_in_the_header_only(client, session, pending):
    """A body that is not a form has no token field (workshop/csrf.py reads its headers only):
    the token as a JSON member is refused, the same token in X-CSRFToken goes through."""
    program, registration = pending
    token = client.csrf_token()
    path = f"/admin/programs/{program.id}/registrations/status?one={registration.id}"

    in_body = client.post(path, json={"action": "approve", "csrf_token": token}, send_csrf_token=False)
    in_header = client.post("/language/en", json={}, headers={"X-CSRFToken": token})

    assert (in_body.status_code, in_body.get_json()["error"]) == (400, "csrf")
    session.expire_all()
    assert session.get(Registration, registration.id).status == Status.PENDING
    assert in_header.status_code == 302
