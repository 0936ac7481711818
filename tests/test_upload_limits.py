"""Request bodies: an upload's body is read only after the permission check, while no write lock is
held; every other request's body is capped far below the upload limit (workshop/uploads.py)."""

from __future__ import annotations

import io
import sqlite3

import pytest

from tests import factories
from workshop.auth.models import Role
from workshop.db import db


class CountingBody(io.BytesIO):
    """A request body that records how much of it the server read, and runs `on_first_read`
    when the server starts reading it."""

    def __init__(self, data: bytes, on_first_read=None):
        super().__init__(data)
        self.bytes_read = 0
        self.on_first_read = on_first_read
        self.first_read_result = None

    def _reading(self) -> None:
        if self.on_first_read is not None and self.first_read_result is None:
            self.first_read_result = self.on_first_read()

    def read(self, size=-1):
        self._reading()
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk

    def readinto(self, buffer):
        self._reading()
        count = super().readinto(buffer)
        self.bytes_read += count
        return count

    def readline(self, size=-1):
        self._reading()
        line = super().readline(size)
        self.bytes_read += len(line)
        return line


def multipart(filename: str, content: bytes) -> bytes:
    return (
        b"--b\r\n"
        + f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'.encode()
        + b"Content-Type: text/csv\r\n\r\n"
        + content
        + b"\r\n--b--\r\n"
    )


def post_body(client, url: str, body: CountingBody, length: int):
    return client.post(
        url,
        input_stream=body,
        content_length=length,
        content_type="multipart/form-data; boundary=b",
    )


ROSTER = b"nama,instansi,no_hp,mode\r\nRina,Tarutung,081234567801,daring\r\n"


@pytest.fixture
def program(session):
    factories.organization(session, name="Tarutung")
    program = factories.program(session, stages=1)
    session.commit()
    return program


@pytest.mark.parametrize("role", [None, Role.PETUGAS, Role.NARASUMBER])
def test_an_upload_body_is_not_read_for_someone_who_may_not_upload(client, session, login, program, role):
    if role is not None:
        login(factories.staff(session, role))
        session.commit()
    data = multipart("peserta.csv", ROSTER + b"x" * 100_000)
    body = CountingBody(data)

    response = post_body(client, f"/admin/programs/{program.id}/import", body, len(data))

    assert response.status_code == (302 if role is None else 403)
    assert body.bytes_read == 0


def test_an_organisers_upload_is_read_and_previewed(client, session, login, program):
    login(factories.staff(session, Role.PANITIA))
    session.commit()
    data = multipart("peserta.csv", ROSTER)
    body = CountingBody(data)

    response = post_body(client, f"/admin/programs/{program.id}/import", body, len(data))

    assert response.status_code == 303
    assert body.bytes_read == len(data)


@pytest.mark.sqlite_only(reason="the SQLite write lock: PostgreSQL has no database-wide write lock")
def test_no_write_lock_is_held_while_an_upload_arrives(app, client, session, login, program):
    login(factories.staff(session, Role.PANITIA))
    url = f"/admin/programs/{program.id}/import"
    session.commit()  # the test's own transaction is over
    path = db.engine.url.database

    def another_writer() -> str:
        connection = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
            return "could write"
        except sqlite3.OperationalError as error:
            return str(error)
        finally:
            connection.close()

    data = multipart("peserta.csv", ROSTER)
    body = CountingBody(data, on_first_read=another_writer)

    response = post_body(client, url, body, len(data))

    assert response.status_code == 303
    assert body.first_read_result == "could write"


def test_other_requests_bodies_are_capped_far_below_the_upload_limit(app, client):
    assert app.config["MAX_CONTENT_LENGTH"] == 64 * 1024
    assert app.config["MAX_UPLOAD_BYTES"] == 5 * 1024 * 1024
    response = client.post("/login", data={"username": "x" * (64 * 1024 + 1), "password": "y"})
    assert response.status_code == 413
