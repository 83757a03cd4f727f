"""Fixtures for the audit database tests: each test gets a fresh database, on SQLite always
and on PostgreSQL when a server is configured.

PostgreSQL comes from $SCREENER_TEST_POSTGRES_URL, else from `.ci/pg.env` (written by
`.ci/services.sh`, which CI runs). Each test gets its own throwaway database on that
server, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from screener.audit.db import Database
from screener.audit.models import CaseFile, CaseRecord, Child, utcnow
from screener.audit.store import add_result
from screener.schemas import Evidence, Flag, MarkerResult, ScreenResult

ROOT = Path(__file__).resolve().parents[2]
EXPORTS = ROOT / "examples" / "exports"


def postgres_url() -> str | None:
    url = os.environ.get("SCREENER_TEST_POSTGRES_URL")
    env = ROOT / ".ci" / "pg.env"
    if not url and env.is_file():
        for line in env.read_text().splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "SCREENER_TEST_POSTGRES_URL":
                url = value.strip()
    return url or None


def _admin_conninfo(url: str) -> tuple[str, Any]:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return u.render_as_string(hide_password=False).replace("+psycopg", ""), u


_PG_STATE: dict[str, Any] = {}


def _pg_available() -> str | None:
    if "url" in _PG_STATE:
        return _PG_STATE["url"]
    url = postgres_url()
    if url:
        try:
            import psycopg

            with psycopg.connect(_admin_conninfo(url)[0], connect_timeout=3):
                pass
        except Exception:
            url = None
    _PG_STATE["url"] = url
    return url


@pytest.fixture
def new_postgres_db() -> Iterator[Callable[[], str]]:
    """Make throwaway PostgreSQL databases (dropped at teardown); skips without a server."""
    url = _pg_available()
    if url is None:
        pytest.skip("no PostgreSQL server (set SCREENER_TEST_POSTGRES_URL or run "
                    ".ci/services.sh)")
    import psycopg

    admin, base = _admin_conninfo(url)
    made: list[str] = []

    def make() -> str:
        name = f"screener_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return base.set(database=name).render_as_string(hide_password=False)

    yield make
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in made:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL to a fresh, empty audit database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'audit.db'}"
    make = request.getfixturevalue("new_postgres_db")
    return make()


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


def fake_result(doc_type: str, probs: dict[str, float], *, present: dict[str, bool] | None = None,
                flags: list[tuple[str, str]] | None = None,
                marker_probs: dict[str, float] | None = None,
                evidence: dict[str, list[tuple[str, str]]] | None = None,
                text: str = "", grade: str | None = None) -> ScreenResult:
    """A ScreenResult with chosen grade probabilities, markers, flags and evidence.

    evidence: {marker: [(quote, source)]}, the quote found in `text`.
    """
    present = present or {}
    marker_probs = marker_probs or {}
    markers = {}
    for m in set(present) | set(marker_probs):
        evs = []
        for quote, source in (evidence or {}).get(m, []):
            start = text.index(quote)
            evs.append(Evidence(start=start, end=start + len(quote), text=quote, source=source))
        p = marker_probs.get(m, 0.9 if present.get(m) else 0.1)
        markers[m] = MarkerResult(present=present.get(m, p >= 0.5), probability=p, evidence=evs)
    return ScreenResult(
        id="x", doc_type=doc_type, grade=grade or max(probs, key=lambda k: probs[k]),
        grade_probabilities=probs, markers=markers,
        flags=[Flag(marker=m, severity=sev, message=f"Missing: {m}")  # type: ignore[arg-type]
               for m, sev in (flags or [])],
        mode="rules", rubric="default@2026.11")


@pytest.fixture(name="fake_result")
def fake_result_fixture() -> Callable[..., ScreenResult]:
    return fake_result


@pytest.fixture
def add_record(db: Database) -> Callable[..., int]:
    """Insert a record (and its case file and child) with a given screening result."""

    def add(file: str, doc_type: str, result: ScreenResult, *, text: str = "Some text.",
            team: str | None = "Team A", service: str | None = "CIN",
            when: date | None = None, source_id: str | None = None) -> int:
        with db.session() as s:
            from sqlalchemy import select

            child = s.scalar(select(Child).where(Child.pseudonym == f"C-{file}"))
            if child is None:
                child = Child(pseudonym=f"C-{file}", created_at=utcnow())
                s.add(child)
                s.flush()
            cf = s.scalar(select(CaseFile).where(CaseFile.pseudonym == f"F-{file}"))
            if cf is None:
                cf = CaseFile(pseudonym=f"F-{file}", child_id=child.id, created_at=utcnow())
                s.add(cf)
                s.flush()
            rec = CaseRecord(file_id=cf.id, source="test", source_id=source_id or uuid.uuid4().hex,
                             doc_type=doc_type, record_date=when, worker="W", team=team,
                             service=service, text=text, content_hash="h" + uuid.uuid4().hex[:8],
                             imported_at=utcnow(), updated_at=utcnow())
            s.add(rec)
            s.flush()
            add_result(s, rec.id, rec.content_hash, result, {})
            return rec.id

    return add
