"""Rate limits where they belong: personal links per link (a room of a hundred people behind one
address can all enter in the same minute) with a generous ceiling per address, and the public
registration form per address and per programme, with a clear message in Indonesian."""

from __future__ import annotations

import pytest

from tests import factories
from tests.csrf import use_csrf_client
from workshop import create_app
from workshop.db import db, sqlite_write_intent
from workshop.programs.models import OrgKind
from workshop.registration import links
from workshop.registration.models import Status


@pytest.fixture
def limits():
    """Settings for the app below; a test changes them before it asks for `app`."""
    return {}


@pytest.fixture
def app(database_url, limits):
    """The suite's app (conftest.py), with rate limits on."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            **limits,
        }
    )
    use_csrf_client(app)
    write_intent = sqlite_write_intent.set(True)
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()
    sqlite_write_intent.reset(write_intent)


def _links(app, session, count: int) -> list[str]:
    program = factories.program(session, stages=1)
    tokens = [
        links.issue(
            factories.registration(session, program, status=Status.APPROVED), app.config["SECRET_KEY"]
        )
        for _ in range(count)
    ]
    session.commit()
    return tokens


def test_a_hundred_people_behind_one_address_all_enter_in_the_same_minute(app, session):
    tokens = _links(app, session, 100)

    answers = []
    for token in tokens:
        client = app.test_client()  # each phone its own cookies, all from 127.0.0.1
        answers.append((client.get(f"/p/{token}").status_code, client.post(f"/p/{token}").status_code))

    assert answers == [(200, 302)] * 100


def test_one_link_tried_too_often_is_refused_for_a_while(app, session):
    (token,) = _links(app, session, 1)
    client = app.test_client()

    statuses = [client.post(f"/p/{token}").status_code for _ in range(11)]

    assert statuses == [302] * 10 + [429]
    (other,) = _links(app, session, 1)
    assert client.post(f"/p/{other}").status_code == 302  # other links from here still open


@pytest.mark.parametrize("limits", [{"LINK_ADDRESS_RATE_LIMIT": "5 per minute"}])
def test_an_address_trying_links_beyond_the_ceiling_is_refused(app, session):
    tokens = _links(app, session, 6)
    client = app.test_client()

    statuses = [client.post(f"/p/{token}").status_code for token in tokens]
    elsewhere = client.post(f"/p/{tokens[0]}", environ_base={"REMOTE_ADDR": "203.0.113.9"})

    assert statuses == [302] * 5 + [429]
    assert elsewhere.status_code == 302


def _form(program, phone):
    return {
        "name": "Hotman Simanjuntak",
        "position": "Kepala Desa",
        "organization": "Dinas Kominfo",
        "phone": phone,
        "email": "",
        **{f"mode_{stage.id}": "daring" for stage in program.stages},
    }


@pytest.fixture
def programs(session):
    first, second = factories.program(session, stages=1), factories.program(session, stages=1)
    factories.organization(session, kind=OrgKind.OPD, name="Dinas Kominfo")
    session.commit()
    return first, second


def _register(client, program, number, address="127.0.0.1"):
    data = _form(program, f"0812600{number:05d}")
    return client.post(f"/daftar/{program.slug}", data=data, environ_base={"REMOTE_ADDR": address})


@pytest.mark.parametrize("limits", [{"REGISTRATION_RATE_LIMIT": "3 per hour"}])
def test_the_registration_form_is_limited_per_address_with_a_clear_message(app, programs):
    program, other = programs
    client = app.test_client()

    statuses = [_register(client, program, number).status_code for number in range(3)]
    refused = _register(client, other, 3)

    assert statuses == [302] * 3
    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    assert "Terlalu banyak pendaftaran dikirim dalam waktu singkat. Silakan coba lagi nanti." in page
    assert _register(client, program, 4, "203.0.113.9").status_code == 302  # another address


@pytest.mark.parametrize("limits", [{"REGISTRATION_PROGRAM_RATE_LIMIT": "3 per hour"}])
def test_the_registration_form_is_limited_per_programme_from_any_address(app, programs):
    program, other = programs
    client = app.test_client()

    statuses = [_register(client, program, n, f"203.0.113.{n}").status_code for n in range(4)]

    assert statuses == [302, 302, 302, 429]
    assert _register(client, other, 9, "198.51.100.7").status_code == 302
