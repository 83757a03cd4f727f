"""Floors on the hand-labelled dev set for the shipped models (never trained on it).

The floors sit a little below what the shipped models reach (README, "Results"), so a
change that makes the screener worse on unseen writing fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from screener import Screener
from screener.classifiers.artefacts import available_modes
from screener.evaluate import evaluate, gold_records, load_gold
from screener.schemas import ScreenResult

DEV = Path(__file__).resolve().parents[3] / "shared" / "data" / "dev.jsonl"
FLOORS = {
    # mode: (macro-MCC, grade accuracy, quadratic-weighted kappa, worst marker MCC)
    "rules": (0.74, 0.70, 0.55, 0.35),
    "fast": (0.87, 0.79, 0.77, 0.60),
    "full": (0.90, 0.83, 0.80, 0.60),
}

pytestmark = pytest.mark.skipif(not DEV.is_file(), reason=f"{DEV} not present")


@pytest.fixture(scope="module")
def gold() -> list[dict]:
    return load_gold(DEV)


@pytest.mark.parametrize("mode", ["rules", "fast", "full"])
def test_dev_floors(gold: list[dict], mode: str) -> None:
    if mode not in available_modes():
        pytest.skip(f"no trained models for {mode} mode")
    scr = Screener(mode=mode)
    results = [r for r in scr.screen(gold_records(gold)) if isinstance(r, ScreenResult)]
    report = evaluate(gold, results, scr.rubric.levels, mode)
    macro, acc, qwk, worst = FLOORS[mode]
    assert report.n == len(gold)
    assert report.macro_mcc >= macro, report.macro_mcc
    assert report.grade_accuracy >= acc, report.grade_accuracy
    assert report.qwk >= qwk, report.qwk
    assert min(m.mcc for m in report.markers) >= worst
