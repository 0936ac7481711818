"""How large a request body may be, decided before anything reads it.

Every body is capped at MAX_BODY_BYTES (forms and JSON, far below any upload): the app reads
each body before its first query (extensions.py), and Flask-WTF's CSRF check reads forms, both
before a view checks who is asking, so a stranger can make a process hold no more than that. A
view marked `accepts_body` (file uploads, the scanner's offline batch) takes more, and only from a
logged-in staff member: the session cookie is checked first, the body read after.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, request
from flask_login import current_user

from workshop.db import db, sqlite_write_intent


def accepts_body(limit: int | None = None) -> Callable:
    """Mark a view whose body may be `limit` bytes (default: MAX_UPLOAD_BYTES) for staff. Put it
    right under the route decorator."""

    def mark(view: Callable) -> Callable:
        view.body_limit = limit  # type: ignore[attr-defined]  # the view function's own mark
        return view

    return mark


def limit_body() -> None:
    """A before-request hook; runs before every other one."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or not hasattr(view, "body_limit") or not _staff():
        return  # MAX_CONTENT_LENGTH, i.e. MAX_BODY_BYTES
    request.max_content_length = view.body_limit or current_app.config["MAX_UPLOAD_BYTES"]


def _staff() -> bool:
    sqlite_write_intent.set(False)  # a read; the request's own transaction begins afterwards
    try:
        return current_user.is_authenticated and current_user.is_staff
    finally:
        db.session.rollback()
