"""The session cookie: each cookie's signature is verified once per process (workshop/sessions.py),
and a cookie is still refused as Flask refuses it: changed by one character, or older than the
session lifetime. A stranger's cookie is never kept."""

from __future__ import annotations

import time

from tests import factories
from workshop.auth.models import Role


def _logged_in_petugas(app, client, session, login) -> str:
    login(factories.staff(session, Role.PETUGAS))
    session.commit()
    assert client.get("/checkin").status_code == 200
    return client.get_cookie(app.config["SESSION_COOKIE_NAME"], domain=app.config["SERVER_NAME"]).value


def _is_sent_to_login(response) -> bool:
    return response.status_code == 302 and response.location.startswith("/login")


def test_a_kept_cookie_keeps_its_user_and_the_same_cookie_changed_by_one_character_is_refused(
    app, client, session, login
):
    cookie = _logged_in_petugas(app, client, session, login)
    name = app.config["SESSION_COOKIE_NAME"]
    tampered = cookie[:3] + ("b" if cookie[3] == "a" else "a") + cookie[4:]

    client.set_cookie(name, tampered, domain=app.config["SERVER_NAME"])
    assert _is_sent_to_login(client.get("/checkin"))
    client.set_cookie(name, cookie, domain=app.config["SERVER_NAME"])
    assert client.get("/checkin").status_code == 200


def test_a_kept_cookie_is_refused_once_older_than_the_session_lifetime(app, client, session, login):
    _logged_in_petugas(app, client, session, login)
    lifetime = app.permanent_session_lifetime.total_seconds()
    app.session_interface.wall_clock = lambda: time.time() + lifetime + 60

    assert _is_sent_to_login(client.get("/checkin"))


def test_only_cookies_the_app_signed_are_kept(app, client, session, login):
    _logged_in_petugas(app, client, session, login)
    kept = dict(app.session_interface._verified)

    for number in range(20):
        stranger = f"{number}." + "x" * 4000
        client.set_cookie(app.config["SESSION_COOKIE_NAME"], stranger, domain=app.config["SERVER_NAME"])
        assert _is_sent_to_login(client.get("/checkin"))

    assert app.session_interface._verified == kept
