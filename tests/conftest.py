"""Shared fixtures: one rules-mode Screener and the default rubric for the whole session.

Building the spaCy pipeline and compiling the rubric's patterns takes a second or two, so
every test that screens text shares the same objects; none of them mutates them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from screener import Screener, load_rubric
from screener.config.models import Rubric


@pytest.fixture(scope="session")
def screener() -> Screener:
    """The pattern rules alone: deterministic, and what every marker table is about."""
    return Screener(mode="rules")


@pytest.fixture(scope="session")
def rubric() -> Rubric:
    """The spec's default rubric (screener/conf/*.yaml)."""
    return load_rubric()


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[..., Path]:
    """Write `content` (str or bytes) to `name` under a fresh temporary folder."""

    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write
