"""Concurrent reviews of the same file lose no decision (threads, SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import func, select

from screener.audit import service
from screener.audit.models import Moderation, Review, ReviewDecision
from screener.audit.schemas import DecisionIn

MARKERS = ["child_views", "analysis", "purpose", "observations", "seen_alone"]
THREADS = 8


def _run(n: int, work: Callable[[int], None]) -> None:
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def go(i: int) -> None:
        try:
            barrier.wait()
            work(i)
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors


def _record(add_record, fake_result) -> int:
    return add_record("conc", "visit", fake_result(
        "visit", {"good": .1, "requires_improvement": .3, "inadequate": .6},
        present={"child_seen": True, **{m: False for m in MARKERS}},
        flags=[(m, "high") for m in MARKERS]))


def test_one_auditor_many_concurrent_requests(db, add_record, fake_result):
    rid = _record(add_record, fake_result)

    def work(i: int) -> None:
        marker = MARKERS[i % len(MARKERS)]
        decision = "confirmed" if i % 2 else "rejected"
        with db.session() as s:
            service.record_review(s, rid, "ann", [DecisionIn(marker=marker, decision=decision)],
                                  grade="inadequate" if i == 3 else None,
                                  comment=f"comment {i}")

    _run(THREADS, work)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Review)) == 1
        assert s.scalar(select(func.count()).select_from(ReviewDecision)) == THREADS
        review_id = s.scalar(select(Review.id))
        assert review_id is not None
        view = service.get_review(s, review_id)
    assert set(view.decisions) == set(MARKERS)  # every marker answered by some request
    assert view.grade == "inadequate" and view.completed


def test_several_auditors_review_the_same_file_at_once(db, add_record, fake_result):
    rid = _record(add_record, fake_result)
    other = add_record("conc", "cin_plan", fake_result(
        "cin_plan", {"good": .1, "requires_improvement": .3, "inadequate": .6},
        present={"outcomes": False}, flags=[("outcomes", "high")]))

    def work(i: int) -> None:
        auditor = f"auditor{i}"
        with db.session() as s:
            service.record_review(s, rid, auditor,
                                  [DecisionIn(marker=m, decision="confirmed") for m in MARKERS],
                                  grade="requires_improvement")
        with db.session() as s:
            service.record_review(s, other, auditor, [DecisionIn(marker="outcomes",
                                                                 decision="rejected")])

    _run(THREADS, work)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Review)) == 2 * THREADS
        assert s.scalar(select(func.count()).select_from(ReviewDecision)) == \
            THREADS * (len(MARKERS) + 1)
        fv = service.get_file(s, "F-conc")
    for rec in fv.records:
        assert len(rec.reviews) == THREADS
        assert all(rv.decisions for rv in rec.reviews)


def test_concurrent_moderations(db, add_record, fake_result):
    rid = _record(add_record, fake_result)
    with db.session() as s:
        rv = service.record_review(s, rid, "ann", grade="inadequate")

    def work(i: int) -> None:
        with db.session() as s:
            service.record_moderation(s, rv.id, f"mod{i % 4}", "requires_improvement"
                                      if i % 2 else "inadequate")

    _run(THREADS, work)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Moderation)) == 4
