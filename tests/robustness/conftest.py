"""Fixtures for the robustness tests: a models folder with every mode, and one child-process
Screener per mode (see robust_helpers.ScreenWorker).

Models: the repository's `models/` when it holds fast and full models; else the folder
named by SCREENER_TEST_MODELS (to reuse a set across runs while developing); else a
smoke set trained once per session, with the network blocked while it trains.

Tests marked `slow` (full mode on 1 MB records, a few minutes on two cores) run only
with SCREENER_SLOW_TESTS=1; the long fuzz run is benchmarks/fuzz_long.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from robust_helpers import ROOT, ScreenWorker, no_network

from screener.classifiers.artefacts import available_modes, default_models_dir

MODES = ("rules", "fast", "full")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: minutes long; run with SCREENER_SLOW_TESTS=1")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("SCREENER_SLOW_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="slow: set SCREENER_SLOW_TESTS=1 to run")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models folder with fast and full models (see the module docstring)."""
    env = os.environ.get("SCREENER_TEST_MODELS")
    if env:
        if not {"fast", "full"} <= available_modes(Path(env)):
            pytest.fail(f"SCREENER_TEST_MODELS={env} has no fast and full models")
        return Path(env)
    shipped = default_models_dir()
    if {"fast", "full"} <= available_modes(shipped):
        return shipped
    if not (ROOT / "training" / "data" / "written").is_dir():
        pytest.skip("no trained models in models/ and no training data to build a smoke set")
    from training.train import TrainConfig, train

    out = tmp_path_factory.mktemp("smoke-models")
    with no_network() as guard:
        train(out, TrainConfig(smoke=True, n_generated=60, folds=3), version="smoke",
              progress=False)
    assert guard.attempts == [], f"training tried to use the network: {guard.attempts}"
    return out


@pytest.fixture(scope="session")
def workers(request: pytest.FixtureRequest) -> Iterator[dict[str, ScreenWorker]]:
    """One child-process Screener per mode, started on first use (rules mode needs no
    models, so a rules-only run does not train any)."""
    started: dict[str, ScreenWorker] = {}

    class Lazy(dict[str, ScreenWorker]):
        def __missing__(self, mode: str) -> ScreenWorker:
            models = None if mode == "rules" else request.getfixturevalue("models_dir")
            started[mode] = ScreenWorker(mode, models)
            self[mode] = started[mode]
            return started[mode]

    yield Lazy()
    for worker in started.values():
        worker.close()
