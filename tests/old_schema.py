"""Writing rows with the factories into a database migrated to an older revision (the migration
tests): the models may have gained columns since."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import inspect, text

from workshop.db import db


@contextmanager
def model_columns_added(tables: list[str]):
    """The columns the models gained since the database's revision, added to these tables for the
    time the factories write (nullable: the factories give every value), then dropped again."""
    present = {
        table: {column["name"] for column in inspect(db.engine).get_columns(table)} for table in tables
    }
    added = [
        (table, column)
        for table in tables
        for column in db.metadata.tables[table].columns
        if column.name not in present[table]
    ]
    with db.engine.begin() as connection:
        for table, column in added:
            kind = column.type.compile(db.engine.dialect)
            connection.execute(text(f"ALTER TABLE {table} ADD COLUMN {column.name} {kind}"))
    yield
    with db.engine.begin() as connection:
        for table, column in added:
            connection.execute(text(f"ALTER TABLE {table} DROP COLUMN {column.name}"))
