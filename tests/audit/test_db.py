"""The audit database: URLs, migrations applied on first use, schema matching the models."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from screener.audit.db import DEFAULT_URL, Database, DatabaseError, alembic_config, database_url
from screener.audit.models import Base

TABLES = {"meta", "children", "case_files", "records", "screening_results", "reviews",
          "review_decisions", "moderations", "import_runs", "api_tokens", "access_log"}


def test_database_url_resolution(monkeypatch):
    monkeypatch.delenv("SCREENER_DATABASE_URL", raising=False)
    assert str(database_url()) == DEFAULT_URL == "sqlite:///screener.db"
    monkeypatch.setenv("SCREENER_DATABASE_URL", "postgresql://u@h/db")
    assert database_url().drivername == "postgresql+psycopg"
    assert str(database_url("sqlite:///x.db")) == "sqlite:///x.db"
    with pytest.raises(DatabaseError, match="unsupported database 'mysql'"):
        database_url("mysql://u@h/db")
    with pytest.raises(DatabaseError, match="not a database URL"):
        database_url("::nonsense::")


def test_first_use_migrates_to_head_and_matches_the_models(db):
    names = set(inspect(db.engine).get_table_names())
    assert names >= TABLES
    cols = {c["name"] for c in inspect(db.engine).get_columns("access_log")}
    assert cols == {"id", "who", "action", "object_type", "object_id", "at"}  # never text
    cols = {c["name"] for c in inspect(db.engine).get_columns("api_tokens")}
    assert cols == {"id", "name", "role", "token_hash", "created_at", "revoked_at"}
    with db.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_heads() == ("0001",)
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], diff
    Database(str(db.url.render_as_string(hide_password=False))).dispose()  # a no-op now


def test_downgrade_and_upgrade_again(db):
    with db.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert not TABLES & set(inspect(db.engine).get_table_names())
    db.upgrade()
    assert set(inspect(db.engine).get_table_names()) >= TABLES


def test_unknown_newer_schema_is_refused(db):
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(DatabaseError, match="does not know"):
        db.upgrade()


def test_api_token_roles_are_checked(db):
    from sqlalchemy.exc import IntegrityError

    from screener.audit.models import ApiToken, utcnow

    with db.session() as s:
        s.add(ApiToken(name="ok", role="auditor", token_hash="h1", created_at=utcnow()))
    with pytest.raises(IntegrityError), db.session() as s:
        s.add(ApiToken(name="bad", role="superuser", token_hash="h2", created_at=utcnow()))


def test_concurrent_first_use_migrates_once(db_url):
    import threading

    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def open_db() -> None:
        try:
            barrier.wait()
            Database(db_url).dispose()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=open_db) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    db = Database(db_url)
    assert set(inspect(db.engine).get_table_names()) >= TABLES
    db.dispose()
