"""Agreement numbers on a hand-computed case, and what a review says about each marker."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from screener.audit import service
from screener.audit.agreement import cohen_kappa
from screener.audit.judgement import effective, judge
from screener.audit.schemas import DecisionIn

VISIT_TEXT = ("Kai was seen in his bedroom. Continue to monitor. My view is that Kai is safe "
              "because mum has ended the relationship.")


@dataclass
class D:
    id: int
    marker: str
    decision: str
    evidence: str | None = None


def test_judgement_rules():
    markers = {"child_seen": {"present": True}, "child_views": {"present": False},
               "analysis": {"present": False}, "vague_goal": {"present": True},
               "purpose": {"present": False}, "seen_alone": {"present": False}}
    flags = [{"marker": m} for m in ("child_views", "analysis", "vague_goal", "purpose")]
    decisions = effective([D(1, "child_views", "rejected"), D(2, "child_views", "confirmed"),
                           D(3, "analysis", "rejected"), D(4, "vague_goal", "rejected"),
                           D(5, "child_seen", "added")])
    done = judge(markers, flags, decisions, completed=True)
    assert done["child_views"].present is False  # the newest decision counts: confirmed
    assert done["analysis"].present is True  # flag rejected: it is there
    assert done["vague_goal"].present is False and done["vague_goal"].negative
    assert done["child_seen"].present is False  # a miss added
    assert done["purpose"].present is None  # flag not answered: not judged
    assert done["seen_alone"].present is False  # negative marker not flagged, accepted
    open_ = judge(markers, flags, {}, completed=False)
    assert all(j.present is None for j in open_.values())


def test_cohen_kappa_known_values():
    assert cohen_kappa(["a", "a", "b", "b"], ["a", "b", "b", "b"]) == pytest.approx(0.5)
    assert cohen_kappa(["a", "b"], ["a", "b"]) == pytest.approx(1.0)
    assert cohen_kappa(["a", "a"], ["a", "a"]) is None  # chance agreement is certain
    assert cohen_kappa([], []) is None


@pytest.fixture
def reviewed(db, add_record, fake_result):
    """Six records, reviews and moderations whose agreement is computed by hand below."""
    def visit(grade, flags=(), present=None, evidence=None):
        present = present or {"child_seen": True}
        markers = {"child_seen": True, "child_views": False, "analysis": False,
                   "vague_goal": False, **present}
        return fake_result("visit", {"good": .1, "requires_improvement": .2, "inadequate": .7},
                           grade=grade, present=markers, flags=list(flags), text=VISIT_TEXT,
                           evidence=evidence)

    r1 = add_record("a", "visit", visit(
        "inadequate", [("child_views", "high"), ("analysis", "high"), ("vague_goal", "medium")],
        present={"vague_goal": True},
        evidence={"child_seen": [("Kai was seen in his bedroom", "rule:child_seen.seen_where")],
                  "vague_goal": [("Continue to monitor", "rule:vague_goal.monitor")]}),
        text=VISIT_TEXT, service="CIN")
    r2 = add_record("b", "cin_plan", fake_result(
        "cin_plan", {"good": .1, "requires_improvement": .2, "inadequate": .7},
        grade="inadequate", present={"outcomes": False, "actions": True},
        flags=[("outcomes", "high")]), service="CIN")
    r3 = add_record("c", "assessment", fake_result(
        "assessment", {"good": .3, "requires_improvement": .6, "inadequate": .1},
        grade="requires_improvement", present={"analysis": False, "child_seen": True},
        flags=[("analysis", "high")]), service="CP")
    r4 = add_record("d", "visit", visit("inadequate", [("child_views", "high")]), service="CP")
    ev = {"child_seen": [("Kai was seen in his bedroom", "rule:child_seen.seen_where")]}
    r5 = add_record("e", "visit", visit("requires_improvement", evidence=ev), text=VISIT_TEXT,
                    service="CIN")
    r6 = add_record("f", "visit", visit("requires_improvement", evidence=ev), text=VISIT_TEXT,
                    service="CIN")
    with db.session() as s:
        rv1 = service.record_review(s, r1, "ann", [
            DecisionIn(marker="child_views", decision="confirmed"),
            DecisionIn(marker="analysis", decision="rejected",
                       evidence="My view is that Kai is safe because mum has ended the "
                                "relationship."),
            DecisionIn(marker="vague_goal", decision="corrected", corrected_value="severity low"),
            DecisionIn(marker="child_seen", decision="added")],
            grade="requires_improvement", comment="seen, but no analysis of his wishes")
        rv2 = service.record_review(s, r2, "ann", [DecisionIn(marker="outcomes",
                                                              decision="confirmed")],
                                    grade="inadequate")
        rv3 = service.record_review(s, r3, "cat", [DecisionIn(marker="analysis",
                                                              decision="rejected")],
                                    grade="good")
        service.record_review(s, r4, "cat", [DecisionIn(marker="child_views",
                                                        decision="confirmed")])  # no grade
        service.record_review(s, r5, "ann", grade="requires_improvement")
        service.record_review(s, r6, "bob", grade="requires_improvement")
        service.record_moderation(s, rv1.id, "bob", "requires_improvement")
        service.record_moderation(s, rv2.id, "bob", "inadequate")
        service.record_moderation(s, rv3.id, "dan", "requires_improvement")
    return {"r1": r1, "r5": r5, "r6": r6}


def test_agreement_per_marker_hand_computed(db, reviewed):
    with db.session() as s:
        rep = service.agreement(s)
    assert (rep.reviews, rep.completed) == (6, 5)
    m = {x.marker: x for x in rep.markers}
    assert (m["child_views"].confirmed, m["child_views"].flags_decided) == (2, 2)
    assert m["child_views"].confirm_rate == 1.0
    assert (m["analysis"].rejected, m["analysis"].confirm_rate) == (2, 0.0)
    assert (m["vague_goal"].corrected, m["vague_goal"].confirm_rate) == (1, 1.0)
    assert (m["outcomes"].confirmed, m["outcomes"].confirm_rate) == (1, 1.0)
    assert m["child_seen"].misses_added == 1 and m["child_seen"].confirm_rate is None
    # child_seen is a marker of the four completed visit/assessment reviews (r1, r3, r5, r6)
    assert m["child_seen"].judged == 4


def test_kappa_per_service_hand_computed(db, reviewed):
    with db.session() as s:
        rep = service.agreement(s)
    sa = {k.service: k for k in rep.screener_vs_auditor}
    # CIN: screener [inad, inad, RI, RI] vs auditor [RI, inad, RI, RI]: po .75, pe .5
    assert (sa["CIN"].n, sa["CIN"].agreement, sa["CIN"].kappa) == (4, 0.75, 0.5)
    assert (sa["CP"].n, sa["CP"].agreement, sa["CP"].kappa) == (1, 0.0, 0.0)
    # all: po .6, pe .4*.2 + .6*.6 = .44 -> (.6 - .44) / .56
    assert sa["all"].n == 5 and sa["all"].kappa == pytest.approx(0.16 / 0.56, abs=1e-4)
    am = {k.service: k for k in rep.auditor_vs_moderator}
    assert (am["CIN"].n, am["CIN"].kappa) == (2, 1.0)
    assert (am["CP"].n, am["CP"].kappa) == (1, 0.0)
    # all: auditor [RI, inad, good] vs moderator [RI, inad, RI]: po 2/3, pe 1/3
    assert am["all"].kappa == pytest.approx(0.5)
    with db.session() as s:
        only = service.agreement(s, service="CP")
    assert [k.service for k in only.screener_vs_auditor] == ["CP", "all"]
    assert only.reviews == 2


def test_rule_confirmation_rates(db, reviewed):
    with db.session() as s:
        stats = {r.rule: r for r in service.rule_stats(s)}
    seen = stats["rule:child_seen.seen_where"]
    # r1: the auditor added a child_seen miss (rejected); r5, r6: accepted (confirmed)
    assert (seen.confirmed, seen.rejected) == (2, 1)
    assert seen.rate == pytest.approx(2 / 3, abs=1e-4)
    assert stats["rule:vague_goal.monitor"].confirmed == 1  # corrected: the flag stood
