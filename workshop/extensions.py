"""Extension objects, bound to the app in init_app()."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, request
from flask_babel import Babel
from flask_caching import Cache
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_socketio import SocketIO

from workshop.bodies import limit_body
from workshop.csrf import CSRFProtection
from workshop.db import configure_sqlite, db, sqlite_write_intent
from workshop.i18n import install_template_gettext, select_locale
from workshop.sessions import CookieSessions

SOCKETIO_ASYNC_MODE = "gevent"
MIGRATIONS_DIRECTORY = str(Path(__file__).resolve().parent.parent / "migrations")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

login_manager = LoginManager()
csrf = CSRFProtection()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
socketio = SocketIO()
cache = Cache()  # also the {% cache %} tag of templates
compress = Compress()

# Pages, JSON and text exports compressed for phones on slow mobile data. Not streamed responses
# (they stay streamed), not files that are compressed already (PDF, XLSX, PNG); static files come
# precompressed (workshop/assets.py), Socket.IO's long-polling is compressed by Engine.IO itself.
COMPRESSION = {
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    "COMPRESS_BR_LEVEL": 5,
    "COMPRESS_STREAMS": False,
    "COMPRESS_MIMETYPES": [
        "text/html",
        "text/css",
        "text/plain",
        "text/csv",
        "text/calendar",
        "text/javascript",
        "application/javascript",
        "application/json",
        "image/svg+xml",
    ],
}


def wrap_wsgi_app(app: Flask, middleware) -> None:
    """Make `middleware` (a WSGI app object around app.wsgi_app) the app's WSGI app as its bound
    __call__: Python calls that inline, where calling the object itself nests a C call on the stack.
    Every connected socket's greenlet waits under these layers, and gevent keeps a copy of the C
    stack of each waiting greenlet: about 0.7 KiB per layer per socket (issue 15, docs/benchmarks.md)."""
    app.wsgi_app = middleware.__call__  # type: ignore[method-assign]  # Flask's way to wrap its WSGI app


REDIS_SCHEMES = ("redis://", "rediss://", "unix://", "redis+unix://")


def redis_client(url: str, timeout: float):
    """A Redis client for a URL of REDIS_SCHEMES (Flask-Limiter's redis+unix:// as unix://) that
    gives up after `timeout` seconds."""
    import redis  # only needed when Redis is configured

    if url.startswith("redis+unix://"):
        url = "unix://" + url.removeprefix("redis+unix://")
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)


def init_app(app: Flask) -> None:
    app.session_interface = CookieSessions()  # a socket's events read its cookie once
    app.before_request(limit_body)  # first: before CSRF or anything else reads a body
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)
    csrf.init_app(app)
    cache.init_app(app)
    for key, value in COMPRESSION.items():
        app.config.setdefault(key, value)
    compress.init_app(app)
    babel.init_app(app, locale_selector=select_locale)  # catalogs in workshop/translations
    install_template_gettext(app)  # after Flask-Babel's own: the catalog once per render
    limiter.init_app(app)
    _init_login(app)
    socketio.init_app(
        app,
        async_mode=SOCKETIO_ASYNC_MODE,
        message_queue=app.config["SOCKETIO_MESSAGE_QUEUE"],
        manage_session=False,
        max_http_buffer_size=app.config["MAX_CONTENT_LENGTH"],  # a message's size, as any body's
    )
    wrap_wsgi_app(app, socketio.sockio_mw)
    if socketio.server.async_mode != SOCKETIO_ASYNC_MODE:
        raise RuntimeError(
            f"Socket.IO runs in {socketio.server.async_mode!r} mode, expected {SOCKETIO_ASYNC_MODE!r}"
        )
    app.teardown_request(_drop_routing_exception)

    @app.before_request
    def _transaction_kind():
        if is_upload_request():
            # Its body is read after the permission check, which must not hold the write lock
            # while a file arrives over a slow line: workshop/uploads.py.
            sqlite_write_intent.set(False)
            return
        # Safe requests read only: begin deferred so they never queue behind the writer.
        writes = request.method not in SAFE_METHODS
        sqlite_write_intent.set(writes)
        if writes:
            # Read the whole body before the first query takes the write lock: a body that
            # arrives late (a slow phone, a resent packet) must not hold the lock meanwhile.
            request.get_data(cache=True)


def init_migrations(app: Flask) -> None:
    """Flask-Migrate on the app, for `flask db ...` and for code that migrates in-process (tests):
    only there, since Alembic and Mako would add 8.5 MiB to every web process (issue 15)."""
    from flask_migrate import Migrate

    Migrate(app, db, directory=MIGRATIONS_DIRECTORY, render_as_batch=True)


def _drop_routing_exception(_error: BaseException | None) -> None:
    """Every Socket.IO event runs in a request context for Engine.IO's URL, which no route matches:
    Flask keeps the NotFound on the request, and the exception's traceback holds the context, a
    reference cycle that only the garbage collector frees, and the server runs it seldom
    (workshop/serving.py). Thousands of votes waiting for their batch so left thousands of contexts
    behind (issue 15: memory per participant). Without it an event's objects go as it ends."""
    request.routing_exception = None


def is_upload_request() -> bool:
    """A POST to a view marked with workshop.uploads.upload_view."""
    view = current_app.view_functions.get(request.endpoint or "")
    return request.method == "POST" and getattr(view, "accepts_upload", False)


def _init_login(app: Flask) -> None:
    """The login rules; the auth feature registers the loader of users (workshop/auth/views.py)."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"  # "strong" logs phones out when they change network
