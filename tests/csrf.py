"""The suite's test client: CSRF protection stays on in tests, and the client sends the token as the
app's own pages do (forms carry it in a hidden field, scripts in the X-CSRFToken header,
static/js/lib/post_json.js): every unsafe request (POST, PUT, PATCH, DELETE) carries the token of
the client's own session in X-CSRFToken, unless the test gives its own header or says
`send_csrf_token=False` (a request as a forged cross-site form would make it).

The token is the one Flask-WTF's `generate_csrf` would put in the page for this session: the
random key kept in the session (made if the session has none yet, as the first page would),
signed with the app's secret. It is read from the client's session before each request, so it
follows logins and logouts that clear the session.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from werkzeug.datastructures import Headers

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
HEADER = "X-CSRFToken"
SALT = "wtf-csrf-token"  # Flask-WTF's, in flask_wtf.csrf.generate_csrf/validate_csrf


class CsrfClient(FlaskClient):
    def open(self, *args: Any, send_csrf_token: bool = True, **kwargs: Any):
        method = str(kwargs.get("method", "GET")).upper()
        built = args and not isinstance(args[0], str)  # a request built by the test: as it is
        if send_csrf_token and method not in SAFE_METHODS and not built:
            base_url = kwargs.get("base_url")
            headers = Headers(kwargs.get("headers") or ())
            if HEADER not in headers:
                headers[HEADER] = self.csrf_token(base_url)
            if base_url and base_url.startswith("https:") and "Referer" not in headers:
                # Over HTTPS Flask-WTF also wants a same-origin Referer, as a page of the site sends.
                headers["Referer"] = base_url.rstrip("/") + "/"
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)

    def csrf_token(self, base_url: str | None = None) -> str:
        """The signed token of this client's session, as `{{ csrf_token() }}` renders it (the
        session read at `base_url`, e.g. https://..., where a Secure cookie goes)."""
        app = self.application
        field = app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
        with self.session_transaction(base_url=base_url) as session:
            if field not in session:  # as generate_csrf does for a session's first page
                session[field] = hashlib.sha1(os.urandom(64)).hexdigest()
            raw = session[field]
        secret = app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key
        return URLSafeTimedSerializer(secret, salt=SALT).dumps(raw)


def use_csrf_client(app: Flask) -> Flask:
    """Make `app.test_client()` a CsrfClient (for a test that builds an app of its own)."""
    app.test_client_class = CsrfClient
    return app
