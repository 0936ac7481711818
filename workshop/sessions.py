"""Flask's signed-cookie sessions, the cookie read once per WSGI environ.

Flask-SocketIO runs every event of a socket in a request context of the socket's handshake
environ, and Flask opens the session cookie each time (the serializer made again, the HMAC, base64,
JSON): about half of each event's request context, the largest cost an event of the app had over
the bare server's (issue 15, docs/benchmarks.md). So the first open keeps what the cookie holds and
when it was signed in the environ; each later request context of that environ gets its own copy,
and none once the cookie's age passes the session lifetime, as opening it again would. An HTTP
request has an environ of its own: it opens its cookie once, as before.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer

OPENED = "workshop.session"  # environ key: (what the cookie holds or None, when it was signed)


class CookieSessions(SecureCookieSessionInterface):
    wall_clock: Callable[[], float] = staticmethod(time.time)  # itsdangerous signs with time.time()

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if OPENED not in request.environ:
            serializer = self.get_signing_serializer(app)
            if serializer is None:
                return None  # no secret key: Flask's null session
            request.environ[OPENED] = self._read(app, request, serializer)
        data, signed_at = request.environ[OPENED]
        age = int(self.wall_clock()) - signed_at
        if data is None or not 0 <= age <= self._max_age(app):
            return self.session_class()
        return self.session_class(copy.deepcopy(data))

    def _read(self, app: Flask, request: Request, serializer: URLSafeTimedSerializer) -> tuple[Any, int]:
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie:
            return None, 0
        try:
            data, signed_at = serializer.loads(cookie, max_age=self._max_age(app), return_timestamp=True)
        except BadSignature:
            return None, 0
        return data, int(signed_at.timestamp())

    @staticmethod
    def _max_age(app: Flask) -> int:
        return int(app.permanent_session_lifetime.total_seconds())
