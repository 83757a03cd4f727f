"""Learning from reviews: training records, rule scales, and the Screener applying them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from screener import Screener
from screener.audit import service
from screener.audit.learning import (
    keeps_rejecting,
    reviewed_training_records,
    rule_scale,
    write_rule_weights,
)
from screener.audit.schemas import DecisionIn
from screener.classifiers.artefacts import read_registry
from screener.rules.weights import load_rule_weights

TEXT = ("Kai was seen in his bedroom. Continue to monitor. My view is that Kai is safe "
        "because mum has ended the relationship.")
SEEN = "rule:child_seen.seen_where"


def _visit(fake_result, **kw):
    present = {"child_seen": True, "child_views": False, "analysis": False, "vague_goal": True}
    return fake_result(
        "visit", {"good": .1, "requires_improvement": .3, "inadequate": .6}, present=present,
        flags=[("child_views", "high"), ("analysis", "high"), ("vague_goal", "medium")],
        evidence={"child_seen": [("Kai was seen in his bedroom", SEEN)],
                  "vague_goal": [("Continue to monitor", "rule:vague_goal.monitor")]},
        text=TEXT, **kw)


def test_training_records_are_the_markers_corrected_by_auditors(db, add_record, fake_result):
    rid = add_record("t", "visit", _visit(fake_result), text=TEXT, source_id="v-1")
    other = add_record("u", "visit", _visit(fake_result), text=TEXT, source_id="v-2")
    with db.session() as s:
        service.record_review(s, rid, "ann", [
            DecisionIn(marker="child_views", decision="confirmed"),
            DecisionIn(marker="analysis", decision="rejected",
                       evidence="My view is that Kai is safe because mum has ended the "
                                "relationship."),
            DecisionIn(marker="vague_goal", decision="confirmed")], grade="requires_improvement")
        service.record_review(s, other, "ann", [  # unfinished: not training data
            DecisionIn(marker="child_views", decision="confirmed")])
    records = reviewed_training_records(db=db)
    assert len(records) == 1
    rec = records[0]
    assert rec["id"] == "review-test:v-1" and rec["writer"] == "reviews"
    assert rec["doc_type"] == "visit" and rec["text"] == TEXT
    assert rec["markers"] == {"child_seen": True, "child_views": False, "analysis": True,
                              "vague_goal": True}
    assert rec["evidence"]["analysis"] == [
        "My view is that Kai is safe because mum has ended the relationship."]
    assert rec["evidence"]["child_seen"] == ["Kai was seen in his bedroom"]
    assert rec["evidence"]["vague_goal"] == ["Continue to monitor"]


def test_a_present_marker_without_any_evidence_is_left_unlabelled(db, add_record, fake_result):
    rid = add_record("t", "visit", _visit(fake_result), text=TEXT)
    with db.session() as s:
        service.record_review(s, rid, "ann", [
            DecisionIn(marker="analysis", decision="rejected")], grade="good")
    (rec,) = reviewed_training_records(db=db)
    assert "analysis" not in rec["markers"]  # true, but no quote to learn sentences from
    assert "child_views" not in rec["markers"]  # flag not answered


def test_rule_scale_only_lowers_and_follows_rejections():
    assert rule_scale(0, 0) == 1.0
    assert rule_scale(10, 0) == 1.0
    assert rule_scale(0, 10) == pytest.approx((4 / 15) / 0.8)
    assert rule_scale(2, 8) < rule_scale(5, 5) < 1.0
    assert rule_scale(0, 10_000) >= 0.05


def test_rejected_rule_weight_drops_in_the_screener(db, add_record, fake_result,
                                                    tmp_path: Path):
    """Auditors keep adding child_seen misses where one rule fired: its weight drops, and
    the Screener applies the drop to that rule's hits."""
    screener = Screener(mode="rules", models_dir=tmp_path / "none")
    text = "Visit to see Kai. Kai was seen in his bedroom."
    base = screener.screen_one("visit", text)
    sources = {e.source for e in base.markers["child_seen"].evidence}
    assert sources, "the visit text should trigger a child_seen rule"
    for i in range(6):
        rid = add_record(f"k{i}", "visit", fake_result(
            "visit", {"good": .1, "requires_improvement": .3, "inadequate": .6},
            present={"child_seen": True, "child_views": False},
            flags=[("child_views", "high")],
            evidence={"child_seen": [("Kai was seen in his bedroom", s) for s in sources]},
            text=text), text=text)
        with db.session() as s:
            service.record_review(s, rid, "ann", [DecisionIn(marker="child_seen",
                                                             decision="added")],
                                  grade="inadequate")
    with db.session() as s:
        stats = [r for r in service.rule_stats(s) if r.rule in sources]
    assert all(r.rejected == 6 and keeps_rejecting(r) for r in stats)
    models = tmp_path / "models"
    write_rule_weights(models, db=db, version="t1")
    assert read_registry(models)["rule-weights"] == "t1"
    data = json.loads((models / "rule-weights" / "t1" / "rule-weights.json").read_text())
    assert set(data["scales"]) == sources
    weights = load_rule_weights(models)
    assert weights.version == "t1"
    reweighted = Screener(mode="rules", models_dir=models).screen_one("visit", text)
    assert reweighted.markers["child_seen"].probability < base.markers["child_seen"].probability
    assert load_rule_weights(tmp_path / "none").scales == {}


def test_train_with_reviews_uses_the_audit_database(db, db_url, add_record, fake_result,
                                                    tmp_path: Path, monkeypatch):
    """`screener train --with-reviews` adds the reviewed records and writes rule weights
    (training itself is stubbed here; tests/audit/test_e2e.py runs it for real)."""
    from typer.testing import CliRunner

    import training.train
    from screener.cli import app

    rid = add_record("t", "visit", _visit(fake_result), text=TEXT)
    with db.session() as s:
        service.record_review(s, rid, "ann", [DecisionIn(marker="child_views",
                                                         decision="confirmed")], grade="good")
    seen: dict[str, object] = {}

    def fake_train(models_dir, cfg, version=None, progress=True):
        seen.update(records=cfg.extra_records, version=version)
        return {"seconds": 0.0}

    monkeypatch.setattr(training.train, "train", fake_train)
    monkeypatch.setenv("SCREENER_DATABASE_URL", db_url)
    models = tmp_path / "models"
    res = CliRunner().invoke(app, ["train", "--with-reviews", "--smoke", "-o", str(models),
                                   "--version", "v9"])
    assert res.exit_code == 0, res.output
    assert "adding 1 reviewed record(s)" in res.output
    assert [r["id"] for r in seen["records"]] == [f"review-test:{_source_id(db, rid)}"]
    assert read_registry(models) == {"rule-weights": "v9"}


def _source_id(db, record_id: int) -> str:
    from screener.audit.models import CaseRecord

    with db.session() as s:
        rec = s.get(CaseRecord, record_id)
        assert rec is not None
        return rec.source_id
