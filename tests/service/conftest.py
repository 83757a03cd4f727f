"""Fixtures for the API tests: one rules-mode app per module on a fresh SQLite database,
a token per role, and a case file screened for real (a CIN plan with a vague goal).

The app shares the session's rules-mode Screener (tests/conftest.py), so no test loads
models; `test_api_default.py` checks that the default app loads them once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_helpers import Seeded, make_tokens, seed, settings_for
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import create_app
from screener.audit.db import Database
from screener.pipeline import Screener


@pytest.fixture(scope="module")
def api_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("api")


@pytest.fixture(scope="module")
def app(api_dir: Path, screener: Screener) -> FastAPI:
    return create_app(settings_for(api_dir), screener=screener)


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def db(client: TestClient, app: FastAPI) -> Database:
    database: Database = app.state.db
    return database


@pytest.fixture(scope="module")
def tokens(db: Database) -> dict[str, str]:
    return make_tokens(db)


@pytest.fixture(scope="module")
def seeded(db: Database, screener: Screener) -> Seeded:
    return seed(db, screener)
