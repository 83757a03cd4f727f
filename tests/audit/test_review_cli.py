"""`screener review FILE_ID` at the terminal, moderation, and review validation."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from screener.audit import service
from screener.audit.schemas import DecisionIn
from screener.cli import app

TEXT = ("Kai was seen in his bedroom. Continue to monitor. My view is that Kai is safe because "
        "mum has ended the relationship.")
ANALYSIS = "My view is that Kai is safe because mum has ended the relationship."


@pytest.fixture
def visit(add_record, fake_result) -> int:
    return add_record("rev", "visit", fake_result(
        "visit", {"good": .1, "requires_improvement": .3, "inadequate": .6},
        present={"child_seen": True, "child_views": False, "analysis": False,
                 "vague_goal": True, "purpose": True},
        flags=[("child_views", "high"), ("analysis", "high"), ("vague_goal", "medium")],
        evidence={"child_seen": [("Kai was seen in his bedroom", "rule:child_seen.seen_where")],
                  "vague_goal": [("Continue to monitor", "rule:vague_goal.monitor")]},
        text=TEXT), text=TEXT)


def test_interactive_review_then_moderation(db, db_url, visit):
    answers = "\n".join([
        "c",                      # child_views: confirmed
        "r",                      # analysis: rejected ...
        "it is not in the text",  # ... a quote that is not in the record is asked again
        ANALYSIS,
        "x",                      # vague_goal: not a choice, asked again
        "o", "severity low",      # ... corrected
        "child_seen, nonsense",   # misses: child_seen (nonsense is ignored)
        "",                       # no quote for it
        "requires_improvement",
        "No analysis of what Kai said.",
    ]) + "\n"
    res = CliRunner().invoke(app, ["review", "F-rev", "--auditor", "ann", "--db", db_url],
                             input=answers)
    assert res.exit_code == 0, res.output
    assert "not found in the record's text" in res.output
    assert "please answer one of: c, r, o, s" in res.output
    assert "saved: 4 decision(s), grade requires_improvement" in res.output
    with db.session() as s:
        (rec,) = service.get_file(s, "F-rev").records
    (rv,) = rec.reviews
    assert rv.auditor == "ann" and rv.grade == "requires_improvement" and rv.completed
    assert {m: d.decision for m, d in rv.decisions.items()} == {
        "child_views": "confirmed", "analysis": "rejected", "vague_goal": "corrected",
        "child_seen": "added"}
    assert rv.decisions["analysis"].evidence == ANALYSIS
    assert rv.decisions["vague_goal"].corrected_value == "severity low"
    assert rv.comment == "No analysis of what Kai said."

    res = CliRunner().invoke(app, ["review", str(service_file_id(db)), "--moderate",
                                   "--auditor", "bob", "--db", db_url],
                             input="inadequate\nToo generous: no views at all.\n")
    assert res.exit_code == 0, res.output
    assert "ann graded it requires_improvement" in res.output
    assert "1 record(s) moderated" in res.output
    with db.session() as s:
        (rec,) = service.get_file(s, "F-rev").records
    (mod,) = rec.reviews[0].moderations
    assert (mod.moderator, mod.grade) == ("bob", "inadequate")
    res = CliRunner().invoke(app, ["review", "F-rev", "--moderate", "--auditor", "ann",
                                   "--db", db_url])
    assert "0 record(s) moderated" in res.output  # nobody moderates their own review


def service_file_id(db) -> int:
    with db.session() as s:
        return service.find_file(s, "F-rev").id


def test_review_of_an_unknown_file(db_url):
    res = CliRunner().invoke(app, ["review", "999", "--auditor", "ann", "--db", db_url])
    assert res.exit_code == 1 and "no case file '999'" in res.stderr


@pytest.mark.parametrize("decision, grade, message", [
    (DecisionIn(marker="purpose", decision="confirmed"), None, "was not flagged"),
    (DecisionIn(marker="analysis", decision="added"), None, "already flagged"),
    (DecisionIn(marker="history", decision="confirmed"), None, "not a marker of this record"),
    (DecisionIn(marker="analysis", decision="rejected", evidence="not there"), None,
     "not in the record's text"),
    (None, "excellent", "unknown grade 'excellent'"),
])
def test_review_validation(db, visit, decision, grade, message):
    with pytest.raises(service.ReviewError, match=message), db.session() as s:
        service.record_review(s, visit, "ann", [decision] if decision else [], grade=grade)


def test_moderation_rules(db, visit):
    with db.session() as s:
        rv = service.record_review(s, visit, "ann", [DecisionIn(marker="analysis",
                                                                decision="confirmed")])
    with pytest.raises(service.ReviewError, match="no final grade"), db.session() as s:
        service.record_moderation(s, rv.id, "bob", "good")
    with db.session() as s:
        service.record_review(s, visit, "ann", grade="inadequate")
    with pytest.raises(service.ReviewError, match="second auditor"), db.session() as s:
        service.record_moderation(s, rv.id, "ann", "good")
    with pytest.raises(service.NotFound), db.session() as s:
        service.record_moderation(s, 12345, "bob", "good")
    with pytest.raises(ValueError, match="corrected_value"):
        DecisionIn(marker="analysis", decision="corrected")


def test_reviews_append_and_the_newest_decision_counts(db, visit):
    with db.session() as s:
        service.record_review(s, visit, "ann", [DecisionIn(marker="analysis",
                                                           decision="rejected")])
        rv = service.record_review(s, visit, "ann", [DecisionIn(marker="analysis",
                                                                decision="confirmed")],
                                   grade="inadequate", actor="ann")
    assert rv.decisions["analysis"].decision == "confirmed"
    with db.session() as s:
        from sqlalchemy import select

        from screener.audit.models import AccessLog, ReviewDecision
        assert len(s.scalars(select(ReviewDecision)).all()) == 2
        log = s.scalars(select(AccessLog)).all()
    assert [(a.who, a.action, a.object_type) for a in log] == [("ann", "review", "record")] * 2
