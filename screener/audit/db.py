"""Where the audit database is, and how to talk to it safely from several places at once.

`SCREENER_DATABASE_URL` names the database; without it an SQLite file `screener.db` in
the working directory is used (no set-up). PostgreSQL works through the same URL
(`postgresql+psycopg://user@host/db`; a plain `postgresql://` URL is given the psycopg 3
driver). The schema is brought to the newest migration on first use (`alembic upgrade
head`, run under a database lock so two processes starting together do not race).

SQLite: every transaction starts with BEGIN IMMEDIATE (one writer at a time, others wait
up to 30 s instead of failing half-way), in WAL mode so readers are not blocked, with
foreign keys enforced.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

ENV_VAR = "SCREENER_DATABASE_URL"
DEFAULT_URL = "sqlite:///screener.db"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_PG_LOCK_KEY = 7_300_421_001  # pg_advisory_xact_lock key for migrations
SQLITE_TIMEOUT_S = 30


class DatabaseError(RuntimeError):
    """The database cannot be used (bad URL, unreachable server, unknown schema)."""


def database_url(url: str | None = None) -> URL:
    """The URL to use: the argument, else $SCREENER_DATABASE_URL, else sqlite:///screener.db."""
    raw = url or os.environ.get(ENV_VAR) or DEFAULT_URL
    try:
        parsed = make_url(raw)
    except Exception as e:  # sqlalchemy raises ArgumentError with the URL in it
        raise DatabaseError(f"not a database URL: {raw!r} (e.g. {DEFAULT_URL} or "
                            "postgresql+psycopg://user@host:5432/dbname)") from e
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if not parsed.drivername.startswith(("sqlite", "postgresql")):
        raise DatabaseError(f"unsupported database {parsed.drivername!r} "
                            "(allowed: sqlite, postgresql)")
    return parsed


def _set_wal(cur: Any) -> None:
    """Switch to WAL, retrying while another connection holds the file: SQLite answers
    "database is locked" at once to a journal-mode change instead of calling the busy
    handler, so several processes opening a new database together could fail."""
    import sqlite3
    import time

    deadline = time.monotonic() + SQLITE_TIMEOUT_S
    delay = 0.01
    while True:
        try:
            cur.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


def _sqlite_engine(url: URL) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, hide_parameters=True,  # no record text in SQL logs
                           connect_args={"timeout": SQLITE_TIMEOUT_S,
                                                "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_TIMEOUT_S * 1000}")
        _set_wal(cur)
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def alembic_config(connection: Any | None = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


class Database:
    """An engine and session factory for one audit database, migrated to head.

    Use `with db.session() as s: ...`: one transaction, committed at the end of the block
    and rolled back if it raises.
    """

    def __init__(self, url: str | None = None, *, migrate: bool = True):
        self.url = database_url(url)
        try:
            if self.url.drivername.startswith("sqlite"):
                self.engine = _sqlite_engine(self.url)
            else:
                self.engine = create_engine(self.url, pool_pre_ping=True, hide_parameters=True)
        except Exception as e:
            raise DatabaseError(f"cannot open {self.display_url}: {e}") from e
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        if migrate:
            self.upgrade()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def display_url(self) -> str:
        """The URL with any password hidden (safe to print)."""
        return self.url.render_as_string(hide_password=True)

    def upgrade(self) -> None:
        """Apply every migration not yet applied (alembic upgrade head), under a lock."""
        from alembic import command
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        cfg = alembic_config()
        heads = set(ScriptDirectory.from_config(cfg).get_heads())
        try:
            with self.engine.begin() as conn:
                if self.dialect == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
                current = set(MigrationContext.configure(conn).get_current_heads())
                if current == heads:
                    return
                unknown = current - {r.revision for r in
                                     ScriptDirectory.from_config(cfg).walk_revisions()}
                if unknown:
                    raise DatabaseError(
                        f"{self.display_url} is at schema revision {sorted(unknown)}, which "
                        "this version of the screener does not know (a newer version made it)")
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except DatabaseError:
            raise
        except Exception as e:
            if type(e).__module__.startswith(("sqlalchemy", "psycopg", "sqlite3")):
                raise DatabaseError(f"cannot use {self.display_url}: {e}") from e
            raise

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self._sessions() as s, s.begin():
            yield s

    def dispose(self) -> None:
        self.engine.dispose()
