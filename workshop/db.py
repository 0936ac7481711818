"""Declarative base, UTC datetimes and the SQLite connection rules.

Everything is stored in UTC. On SQLite, write transactions begin IMMEDIATE so that a
transaction that reads and then writes never fails with "database is locked"; requests
with safe methods begin deferred, so readers never wait for the writer (WAL).

A writer waits for the lock in Python, not in SQLite: SQLite's busy timeout sleeps inside C,
which under gevent stops every other request of the process, including the one holding the
lock. So the busy timeout is 0 and BEGIN IMMEDIATE is retried with short (gevent) sleeps.
BEGIN goes to the driver itself, not through SQLAlchemy's statement machinery (0.07 M instructions
a request, issue 15): cursor events and echo do not see it, SQLite's trace does.
"""

from __future__ import annotations

import contextvars
import functools
import sqlite3
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypeVar

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, Engine, MetaData, Row, Select, bindparam, event, orm, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, attributes, registry, scoped_session
from sqlalchemy.types import TypeDecorator

from workshop import clock

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_LOCK_WAIT_SECONDS = 10.0


class UTCDateTime(TypeDecorator):
    """A timezone-aware datetime stored as naive UTC; read back as aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; store aware datetimes only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime},
    )


db = SQLAlchemy(model_class=Base)

# Every table's base class: Flask-SQLAlchemy's db.Model (Base with its table-name and bind rules),
# which the type checker cannot follow as a base class (mypy issue 8603): to it, Base.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model

# What services and queries take as their session: the app's scoped session (`db.session`, which
# stands for the current request's Session and has all its methods) or a plain Session.
Session: TypeAlias = orm.Session | scoped_session[Any]


ModelT = TypeVar("ModelT", bound=Base)


class RowLoader(Generic[ModelT]):
    """Loads one instance of a model by primary key as a Core statement of its table's columns,
    then makes the row the session's persistent instance as the ORM's own load does (or returns
    the one the session already holds): the same object to every caller (lazy relationships,
    expiry on commit, changes flushed), for half the ORM query's instructions (issue 15: the login
    loader runs on every request). The model must map each column of its table to an attribute
    and have a one-column primary key. Unlike an ORM query, it does not flush the session first."""

    def __init__(self, model: type[ModelT]) -> None:
        mapper = orm.class_mapper(model, configure=False)  # at import, before all models exist
        table = mapper.local_table
        (key_column,) = mapper.primary_key
        self.mapper = mapper
        self.statement: Select = select(*table.columns).where(key_column == bindparam("key"))
        self.attribute_names = tuple(mapper.get_property_by_column(column).key for column in table.columns)

    def load(self, session: Session, key: Any) -> ModelT | None:
        connection = session.connection(bind_arguments={"mapper": self.mapper})
        row = connection.execute(self.statement, {"key": key}).one_or_none()
        if row is None:
            return None
        return self._persistent(session() if isinstance(session, scoped_session) else session, key, row)

    def _persistent(self, session: orm.Session, key: Any, row: Row) -> ModelT:
        identity = self.mapper.identity_key_from_primary_key((key,))
        present = session.identity_map.get(identity)
        if present is not None:
            return present
        instance: ModelT = self.mapper.class_manager.new_instance()
        state = attributes.instance_state(instance)
        state.dict.update(zip(self.attribute_names, row, strict=True))
        state.key = identity
        state.session_id = session.hash_key
        session.identity_map._add_unpresent(state, identity)
        return instance


def utcnow() -> datetime:
    """Now, from the app's one clock (workshop/clock.py): row stamps and services' `now`."""
    return clock.now()


# Whether the next SQLite transaction on this context begins IMMEDIATE (takes the write lock).
sqlite_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "sqlite_write_intent", default=True
)


def writes_on_get(view):
    """Mark a GET view that writes (a join-link click): its transaction then begins IMMEDIATE on
    SQLite too, since a read transaction cannot become a write one once another writer committed.
    Put it above the permission decorator, which is the first to read."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        sqlite_write_intent.set(True)
        return view(*args, **kwargs)

    return wrapped


def reads_first(view):
    """Mark a POST view that only reads before it hands its write to someone else (a vote to its
    batch): its transaction begins deferred on SQLite, so that it never holds the write lock.
    Put it above the permission decorator, which is the first to read."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        sqlite_write_intent.set(False)
        return view(*args, **kwargs)

    return wrapped


def configure_sqlite(engine: Engine) -> None:
    """Apply the SQLite pragmas and take control of BEGIN (SQLAlchemy's pysqlite recipe)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None  # let the "begin" event below emit BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=0")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        driver_connection = connection.connection.driver_connection
        if not sqlite_write_intent.get():
            driver_connection.execute("BEGIN")
            return
        deadline = time.monotonic() + SQLITE_LOCK_WAIT_SECONDS
        pause = 0.001
        while True:
            try:
                driver_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise OperationalError("BEGIN IMMEDIATE", None, error) from error
            time.sleep(pause)  # with gevent, other requests run meanwhile
            pause = min(pause * 2, 0.05)
