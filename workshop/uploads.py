"""File uploads (a roster, a Zoom report): the only requests whose body may be large.

Every other request's body is read before its view runs (for the CSRF check, and before the
SQLite write lock: workshop/extensions.py), and it may be at most MAX_BODY_BYTES (workshop/bodies.py). A view marked
with `@upload_view` is left alone until its permission decorator has run; then `receive()` raises
the limit to MAX_UPLOAD_BYTES, checks the CSRF token and reads the file. So only a person allowed
to upload can make the server read megabytes, and a file that is too large is answered on the
upload page itself, with the limit, instead of a bare error page.

Reading and checking a large file (openpyxl, phone numbers) is CPU work: `off_the_loop` runs it in
a process of its own, so the check-in desks and the live sockets served by the same process keep
their answers coming.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import current_app, request
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from workshop import offload
from workshop.db import db, sqlite_write_intent
from workshop.extensions import csrf

FORM_HEADROOM_BYTES = 64 * 1024  # the form's other fields and the multipart framing around the file
DRAIN_LIMIT_BYTES = (
    64 * 1024 * 1024
)  # read (and drop) a refused body up to this size, so the browser sees the answer
OFFLOAD_FROM_BYTES = 64 * 1024  # about 200 roster rows: less is checked in a few ms
T = TypeVar("T")


NO_FILE = _l("Choose a file to upload.")


class UploadForm(FlaskForm):
    """The base of a form that takes a file (one FileField, checked with Flask-WTF's FileRequired,
    FileAllowed and `within_upload_limit`). `receive()` fills and checks it."""

    class Meta:
        # receive() checks the token before the body is parsed; the upload script sends it in the
        # X-CSRFToken header, not as a form field.
        csrf = False


class UploadError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def upload_view(view: Callable) -> Callable:
    """Mark a view that takes a file: its body is read by `receive()`, after the permission check.
    Put it below the permission decorator."""
    view.accepts_upload = True  # type: ignore[attr-defined]  # the view function's own mark
    return csrf.exempt(view)


def limit_text(limit: int | None = None) -> str:
    """A size limit (default MAX_UPLOAD_BYTES) for people: '5 MB', '500 KB'."""
    limit = current_app.config["MAX_UPLOAD_BYTES"] if limit is None else limit
    if limit < 1024 * 1024:
        return f"{format_decimal(limit / 1024, '#,##0.#')} KB"
    return f"{format_decimal(limit / 1024 / 1024, '#,##0.#')} MB"


def within_upload_limit(form: FlaskForm, field: FileField) -> None:
    """Flask-WTF's FileSize at MAX_UPLOAD_BYTES (a setting: read when the form is checked)."""
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    FileSize(limit, message=_too_large(limit).message)(form, field)


class FileUploadForm(UploadForm):
    """Any file, `file`, within the limit (its content is checked by the view's service)."""

    file = FileField(validators=[FileRequired(NO_FILE), within_upload_limit])


def receive(form_class: type[UploadForm] = FileUploadForm) -> tuple[str, bytes]:
    """The uploaded file's name and content, once `form_class` found it valid. Raises UploadError
    (the form's first error: no file, too large, not a kind it takes); a missing or expired CSRF
    token raises CSRFError as on every other form."""
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    accept(limit)
    form = form_class()
    (field,) = [field for field in form if isinstance(field, FileField)]
    if not form.validate():
        message = str(field.errors[0])
        raise UploadError(413 if message == _too_large(limit).message else 400, message)
    upload = field.data
    assert isinstance(upload, FileStorage) and upload.filename  # FileRequired passed
    data = upload.read()
    # The permission check read in a deferred transaction (extensions.py: an upload's body is read
    # only now); end it, so that the view's writes begin a transaction that takes the lock first.
    end_reading()
    return upload.filename, data


def accept(limit: int) -> None:
    """Read the body of a request that carries a file of at most `limit` bytes, and check its CSRF
    token; then its form (a Flask-WTF FileField) may be read. Raises UploadError 413 for a body
    larger than that, CSRFError as on every other form. Call `end_reading()` before writing."""
    length = request.content_length
    if length is not None and length > limit + FORM_HEADROOM_BYTES:
        _drain(length)
        raise _too_large(limit)
    request.max_content_length = limit + FORM_HEADROOM_BYTES
    try:
        if current_app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()
        request.files  # noqa: B018 (parses the body here, where its size is answered)
    except RequestEntityTooLarge:
        raise _too_large(limit) from None


def _too_large(limit: int) -> UploadError:
    return UploadError(413, _("The file is too large: at most %(size)s.", size=limit_text(limit)))


def end_reading() -> None:
    """End the request's transaction, which must only have read; the next query begins a new
    one, as a writer (on SQLite: BEGIN IMMEDIATE)."""
    session = db.session
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("the request has unsaved changes: a transaction that only read was expected")
    session.commit()
    sqlite_write_intent.set(True)


def _drain(length: int) -> None:
    """Read a refused body to its end: a browser still sending it would not see the answer."""
    if length > DRAIN_LIMIT_BYTES:
        return
    stream = request.environ["wsgi.input"]
    left = length
    while left > 0:
        chunk = stream.read(min(left, 64 * 1024))
        if not chunk:
            break
        left -= len(chunk)


def off_the_loop(function: Callable[..., T], *args, work_bytes: int) -> T:
    """`function(*args)`: CPU work that reads no database, off the gevent loop (workshop/offload.py),
    unless the data it works on (`work_bytes`) is small enough that starting a process would cost
    more than the work.

    The request's transaction must only have read so far: it is ended first, so that no lock is
    held meanwhile (SQLite's write lock would stop every check-in); the next query begins a new
    transaction, as a writer. ORM objects loaded before are expired."""
    end_reading()
    if work_bytes < OFFLOAD_FROM_BYTES:
        return function(*args)
    return offload.off_the_loop(function, *args)
