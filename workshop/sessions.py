"""Flask's signed-cookie sessions, each cookie's signature verified once per process, and read once
per WSGI environ.

Flask-SocketIO runs every event of a socket in a request context of the socket's handshake
environ, and Flask opens the session cookie each time (the serializer made again, the HMAC, base64,
JSON): about half of each event's request context, the largest cost an event of the app had over
the bare server's (issue 15, docs/benchmarks.md). So the first open keeps what the cookie holds and
when it was signed in the environ; each later request context of that environ gets its own copy,
and none once the cookie's age passes the session lifetime, as opening it again would. (A copy of
a session of strings, numbers and flags, as the app's are, need not be deep: one dict more.)

An HTTP request has an environ of its own, but a client sends the same cookie with every request
until the session changes (a check-in desk, with every scan): what a cookie signs under the keys
never changes, so the process keeps it for the last COOKIES_KEPT cookies it verified (the keys are
part of what it is kept under). Only cookies the app signed are kept: they are short, while a
stranger's may be as long as a request's headers (as workshop/csrf.py keeps only the app's tokens).
The age is still checked on every request.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature

OPENED = "workshop.session"  # environ key: (what the cookie holds or None, when it was signed)
COOKIES_KEPT = 1024
SCALARS = frozenset({str, int, float, bool, type(None)})  # what a session of the app holds, mostly


class CookieSessions(SecureCookieSessionInterface):
    wall_clock: Callable[[], float] = staticmethod(time.time)  # itsdangerous signs with time.time()

    def __init__(self) -> None:
        # (secret keys, cookie) -> (what it holds, when it was signed); never mutated
        self._verified: dict[tuple[tuple[Any, ...], str], tuple[Any, int]] = {}

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if OPENED not in request.environ:
            if not app.secret_key:
                return None  # Flask's null session
            request.environ[OPENED] = self._read(app, request)
        data, signed_at = request.environ[OPENED]
        age = int(self.wall_clock()) - signed_at
        if data is None or not 0 <= age <= self._max_age(app):
            return self.session_class()
        if all(type(value) in SCALARS for value in data.values()):
            return self.session_class(data)  # a dict of its own, with values nobody can change
        return self.session_class(copy.deepcopy(data))

    def _read(self, app: Flask, request: Request) -> tuple[Any, int]:
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie:
            return None, 0
        key = ((app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ())), cookie)
        opened = self._verified.get(key)
        if opened is None:
            serializer = self.get_signing_serializer(app)
            assert serializer is not None  # the app has a secret key
            try:  # whatever its age: that is checked on each request
                data, signed_at = serializer.loads(cookie, return_timestamp=True)
            except BadSignature:
                return None, 0
            if len(self._verified) >= COOKIES_KEPT:
                del self._verified[next(iter(self._verified))]  # the one verified longest ago
            opened = self._verified[key] = (data, int(signed_at.timestamp()))
        return opened

    @staticmethod
    def _max_age(app: Flask) -> int:
        return int(app.permanent_session_lifetime.total_seconds())
