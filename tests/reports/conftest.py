"""Fixtures for the report tests: the table spec, settings sharing the session's Screener,
the labelled PII sample, and a pseudonymiser with a fixed key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from report_case import KEY

from screener.reports.engine import _SCREENERS, Settings
from screener.reports.table import TableSpec

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def spec(rubric) -> TableSpec:  # type: ignore[no-untyped-def]
    return TableSpec.from_rubric(rubric, "year")


@pytest.fixture(scope="session")
def settings(spec: TableSpec, screener) -> Settings:  # type: ignore[no-untyped-def]
    """Rules mode, sharing the session's Screener with the engine (no second load)."""
    _SCREENERS.setdefault((None, "rules"), screener)
    return Settings(spec=spec, key=KEY, rubric=None, mode="rules")


def _jsonl(name: str) -> list[dict[str, Any]]:
    lines = (DATA / name).read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="session")
def pii_sample() -> list[dict[str, Any]]:
    """40 labelled snippets, the recognizers' development set."""
    return _jsonl("pii_sample.jsonl")


@pytest.fixture(scope="session")
def pii_holdout() -> list[dict[str, Any]]:
    """15 labelled snippets written after the rules were tuned."""
    return _jsonl("pii_holdout.jsonl")


@pytest.fixture(scope="session")
def pseudo():  # type: ignore[no-untyped-def]
    from screener.reports.pseudonymise import Pseudonymiser

    return Pseudonymiser(key=KEY)
