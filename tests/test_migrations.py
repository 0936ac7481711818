"""The migrations build the schema from empty, on SQLite and on PostgreSQL, matching the models."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from tests.postgres import PostgresServer
from workshop import create_app
from workshop.db import db


@pytest.fixture(scope="module")
def postgres():
    server = PostgresServer().start()
    yield server
    server.stop()


def _migrate_and_compare(database_url: str) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test"})
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
            tables = set(inspect(connection).get_table_names())
        assert differences == []
        assert {"program", "stage", "registration", "registration_stage", "person", "user"} <= tables
        downgrade(revision="base")
        with db.engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) == {"alembic_version"}
        db.engine.dispose()


def test_migrations_build_the_schema_on_sqlite(tmp_path):
    _migrate_and_compare(f"sqlite:///{tmp_path / 'migrated.sqlite3'}")


def test_migrations_build_the_schema_on_postgresql(postgres):
    _migrate_and_compare(postgres.create_database("bimtek_migrations"))
