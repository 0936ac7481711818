from __future__ import annotations

import pytest
from flask import g

from workshop import create_app
from workshop.db import db


@pytest.fixture
def app(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'test.sqlite3'}",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "SERVER_NAME": "bimtek.test",
            "LIVE_BROADCAST_SECONDS": 0,  # broadcast at once, in the request
            "LIVE_VOTE_BATCHING": False,
        }
    )

    @app.teardown_request
    def _forget_request_state(error):
        # Requests reuse the test's app context, and with it `g`: drop the user and the language
        # that Flask-Login and Flask-Babel cache there, so each request starts afresh as in production.
        g.pop("_login_user", None)
        g.pop("_flask_babel", None)

    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()


@pytest.fixture
def session(app):
    return db.session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def login(client):
    """Log the test client in as a staff user (password login)."""
    from tests.factories import PASSWORD

    def _login(user):
        response = client.post("/login", data={"username": user.username, "password": PASSWORD})
        assert response.status_code == 302, response.data
        return user

    return _login
