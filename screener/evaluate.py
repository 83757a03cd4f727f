"""Scores against gold-labelled records: per marker, overall, grades and ranking.

F1 alone rewards always saying "present", so every table carries Matthews correlation
(MCC) too; grades are scored by accuracy and quadratic-weighted kappa, and the ranking
by how many truly inadequate records sit in the top 30% by P(inadequate).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import cohen_kappa_score, matthews_corrcoef

from screener.schemas import Record, ScreenResult


@dataclass
class MarkerScores:
    marker: str
    support: int  # gold positives
    n: int
    precision: float
    recall: float
    f1: float
    mcc: float


@dataclass
class EvalReport:
    mode: str
    n: int
    markers: list[MarkerScores]
    macro_f1: float
    macro_mcc: float
    grade_accuracy: float
    qwk: float
    inadequate_top30: float  # share of truly inadequate records found in the top 30%
    inadequate_precision30: float  # share of the top 30% that are truly inadequate
    ece: float
    reliability: list[dict[str, Any]] = field(default_factory=list)
    errors: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode, "n": self.n, "macro_f1": self.macro_f1,
            "macro_mcc": self.macro_mcc, "grade_accuracy": self.grade_accuracy, "qwk": self.qwk,
            "inadequate_top30": self.inadequate_top30,
            "inadequate_precision30": self.inadequate_precision30, "ece": self.ece,
            "errors": self.errors,
            "markers": [vars(m) for m in self.markers], "reliability": self.reliability,
        }


def load_gold(path: str | Path) -> list[dict[str, Any]]:
    """Gold records in the spec's evaluation format (one JSON object a line)."""
    out = []
    for n, line in enumerate(Path(path).read_text("utf-8").splitlines(), 1):
        if line.strip():
            obj = json.loads(line)
            for key in ("id", "doc_type", "text", "markers"):
                if key not in obj:
                    raise ValueError(f"{path}:{n}: gold record has no {key!r}")
            out.append(obj)
    return out


def _safe_div(a: float, b: float) -> float:
    return a / b if b else 0.0


def score_marker(marker: str, gold: Sequence[bool], pred: Sequence[bool]) -> MarkerScores:
    g, p = np.array(gold, bool), np.array(pred, bool)
    tp = int((g & p).sum())
    fp = int((~g & p).sum())
    fn = int((g & ~p).sum())
    precision, recall = _safe_div(tp, tp + fp), _safe_div(tp, tp + fn)
    f1 = _safe_div(2 * precision * recall, precision + recall)
    mcc = float(matthews_corrcoef(g, p)) if len(set(g)) > 1 or len(set(p)) > 1 else 0.0
    return MarkerScores(marker, int(g.sum()), len(g), precision, recall, f1, mcc)


def top_share_captured(risk: Sequence[float], truth: Sequence[bool], share: float = 0.3) -> float:
    """Of the truly positive items, the share found in the top `share` of the ranking."""
    total = sum(truth)
    if not total:
        return 0.0
    k = max(1, math.ceil(share * len(risk)))
    order = np.argsort(-np.asarray(risk), kind="stable")[:k]
    return float(sum(truth[i] for i in order)) / total


def top_share_precision(risk: Sequence[float], truth: Sequence[bool],
                        share: float = 0.3) -> float:
    """Of the top `share` of the ranking, the share that is truly positive."""
    if not len(risk):
        return 0.0
    k = max(1, math.ceil(share * len(risk)))
    order = np.argsort(-np.asarray(risk), kind="stable")[:k]
    return float(sum(truth[i] for i in order)) / k


def reliability(probs: Sequence[float], truth: Sequence[bool],
                bins: int = 10) -> tuple[float, list[dict[str, Any]]]:
    """Expected calibration error and the reliability table (mean p vs observed rate)."""
    p = np.asarray(probs, float)
    t = np.asarray(truth, float)
    edges = np.linspace(0, 1, bins + 1)
    table: list[dict[str, Any]] = []
    ece = 0.0
    for i in range(bins):
        lo, hi = edges[i], edges[i + 1]
        mask = (p >= lo) & ((p < hi) if i < bins - 1 else (p <= hi))
        if mask.sum():
            mean_p, rate = float(p[mask].mean()), float(t[mask].mean())
            ece += mask.sum() / len(p) * abs(mean_p - rate)
            table.append({"bin": f"{lo:.1f}-{hi:.1f}", "n": int(mask.sum()), "mean_p": mean_p,
                          "observed": rate})
    return float(ece), table


def evaluate(gold: list[dict[str, Any]], results: list[ScreenResult], levels: list[str],
             mode: str) -> EvalReport:
    by_id = {r.id: r for r in results}
    per_marker: dict[str, tuple[list[bool], list[bool]]] = {}
    probs, truths = [], []
    g_grades, p_grades, risk, inad = [], [], [], []
    errors = 0
    for rec in gold:
        res = by_id.get(str(rec["id"]))
        if res is None:
            errors += 1
            continue
        for m, truth in rec["markers"].items():
            if m not in res.markers:
                continue
            gl, pl = per_marker.setdefault(m, ([], []))
            gl.append(bool(truth))
            pl.append(res.markers[m].present)
            probs.append(res.markers[m].probability)
            truths.append(bool(truth))
        if "grade" in rec:
            g_grades.append(rec["grade"])
            p_grades.append(res.grade)
            risk.append(res.grade_probabilities.get(levels[-1], 0.0))
            inad.append(rec["grade"] == levels[-1])
    markers = [score_marker(m, g, p) for m, (g, p) in sorted(per_marker.items())]
    rank = {lvl: i for i, lvl in enumerate(levels)}
    acc = float(np.mean([a == b for a, b in zip(g_grades, p_grades, strict=True)])) \
        if g_grades else 0.0
    qwk = float(cohen_kappa_score([rank.get(g, len(levels)) for g in g_grades],
                                  [rank.get(p, len(levels)) for p in p_grades],
                                  weights="quadratic")) if len(set(g_grades)) > 1 else 0.0
    ece, table = reliability(probs, truths)
    return EvalReport(
        mode=mode, n=len(gold) - errors, markers=markers,
        macro_f1=float(np.mean([m.f1 for m in markers])) if markers else 0.0,
        macro_mcc=float(np.mean([m.mcc for m in markers])) if markers else 0.0,
        grade_accuracy=acc, qwk=qwk, inadequate_top30=top_share_captured(risk, inad),
        inadequate_precision30=top_share_precision(risk, inad),
        ece=ece, reliability=table, errors=errors,
    )


def gold_records(gold: list[dict[str, Any]]) -> list[Record]:
    return [Record(id=str(g["id"]), doc_type=g["doc_type"], text=g["text"]) for g in gold]


def format_report(reports: list[EvalReport]) -> str:
    """Per-marker table for the first report, then the overall ablation table."""
    lines = []
    main = reports[-1]
    lines.append(f"Per marker ({main.mode} mode, {main.n} records)")
    lines.append(f"{'marker':<19} {'n+':>4} {'P':>6} {'R':>6} {'F1':>6} {'MCC':>6}")
    for m in main.markers:
        lines.append(f"{m.marker:<19} {m.support:>4} {m.precision:6.2f} {m.recall:6.2f} "
                     f"{m.f1:6.2f} {m.mcc:6.2f}")
    lines.append("")
    lines.append(f"{'mode':<6} {'macro-F1':>9} {'macro-MCC':>10} {'min MCC':>8} {'grade acc':>10} "
                 f"{'QWK':>6} {'inad R@30%':>10} {'inad P@30%':>10} {'ECE':>6}")
    for r in reports:
        worst = min((m.mcc for m in r.markers), default=0.0)
        lines.append(f"{r.mode:<6} {r.macro_f1:9.3f} {r.macro_mcc:10.3f} {worst:8.2f} "
                     f"{r.grade_accuracy:10.3f} {r.qwk:6.3f} {r.inadequate_top30:10.2f} "
                     f"{r.inadequate_precision30:10.2f} {r.ece:6.3f}")
    lines.append("")
    lines.append("inad R@30%: share of the truly inadequate records that the 30% ranked most "
                 "likely inadequate hold (at most 0.3/prevalence); P@30%: share of those 30% "
                 "that are truly inadequate.")
    return "\n".join(lines)
