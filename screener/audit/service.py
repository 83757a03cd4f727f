"""The audit workflow as library calls: what the CLI and the web API both use.

Every function takes an open `Session` (one transaction: `with db.session() as s:`) and
returns pydantic views. Writes are safe under concurrency on SQLite and PostgreSQL:

* a review is one row per (screening result, auditor), created with an
  INSERT ... ON CONFLICT DO NOTHING, so two requests starting the same review share it;
* decisions are appended, never updated; the newest decision per marker is the one in
  force, so concurrent decisions (one auditor in two tabs, or two auditors) are all
  kept and none overwrites another's;
* grade and comment are single-row updates of the auditor's own review.

Actions are written to the access log (who, what, which object; never record text)
when `actor` is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from screener.audit.agreement import agreement as _agreement
from screener.audit.judgement import effective
from screener.audit.learning import rule_stats as _rule_stats
from screener.audit.models import (
    CaseFile,
    CaseRecord,
    Child,
    Moderation,
    Review,
    ReviewDecision,
    ScreeningResult,
    utcnow,
)
from screener.audit.queue import build_queue, expected_yield, sample, uncertain
from screener.audit.schemas import (
    AgreementReport,
    Decision,
    DecisionIn,
    DecisionView,
    FileView,
    FlagView,
    ModerationView,
    QueueItem,
    RecordView,
    ResultView,
    ReviewView,
    RuleStat,
    UncertainRecord,
    YieldRow,
)
from screener.audit.store import insert_for, log_access
from screener.config.loader import load_rubric
from screener.config.models import Rubric

__all__ = [
    "NotFound",
    "ReviewError",
    "agreement",
    "find_file",
    "get_file",
    "get_review",
    "list_queue",
    "record_moderation",
    "record_review",
    "rule_stats",
    "sample_files",
    "uncertain_records",
    "yield_of",
]


class NotFound(LookupError):
    """No such case file, record or review."""


class ReviewError(ValueError):
    """A review or moderation that cannot be recorded as given (says why)."""


def _rubric(rubric: Rubric | None) -> Rubric:
    return rubric if rubric is not None else load_rubric()


# -- the queue ---------------------------------------------------------------------------

def list_queue(session: Session, *, rubric: Rubric | None = None, team: str | None = None,
               service: str | None = None, limit: int | None = None,
               include_reviewed: bool = False) -> list[QueueItem]:
    """Case files riskiest first (see `screener.audit.queue`)."""
    items = build_queue(session, _rubric(rubric), team, service, include_reviewed)
    return items[:limit] if limit is not None else items


def sample_files(session: Session, n: int, *, rubric: Rubric | None = None,
                 team: str | None = None, service: str | None = None,
                 seed: int | None = None, include_reviewed: bool = False) -> list[QueueItem]:
    """A simple random sample of n case files, for an unbiased audit."""
    return sample(build_queue(session, _rubric(rubric), team, service, include_reviewed), n,
                  seed)


def uncertain_records(session: Session, limit: int = 20, *, team: str | None = None,
                      service: str | None = None) -> list[UncertainRecord]:
    """Unreviewed records whose review would teach the model most."""
    return uncertain(session, limit, team, service)


# -- reading a file ----------------------------------------------------------------------

def find_file(session: Session, file_ref: str | int) -> CaseFile:
    """A case file by its number or its pseudonym (F-...)."""
    ref = str(file_ref).strip()
    cf = session.get(CaseFile, int(ref)) if ref.isdigit() else session.scalar(
        select(CaseFile).where(CaseFile.pseudonym == ref))
    if cf is None:
        raise NotFound(f"no case file {ref!r}")
    return cf


def _review_view(r: Review) -> ReviewView:
    eff = effective(r.decisions)
    return ReviewView(
        id=r.id, record_id=r.record_id, result_id=r.result_id, auditor=r.auditor,
        grade=r.grade, comment=r.comment, completed=r.completed_at is not None,
        decisions={m: DecisionView(marker=m, decision=cast(Decision, d.decision),
                                   corrected_value=d.corrected_value, evidence=d.evidence,
                                   at=d.created_at)
                   for m, d in eff.items() if isinstance(d, ReviewDecision)},
        moderations=[ModerationView(id=m.id, moderator=m.moderator, grade=m.grade,
                                    comment=m.comment, at=m.created_at) for m in r.moderations],
        updated_at=r.updated_at)


def _result_view(res: ScreeningResult) -> ResultView:
    return ResultView(
        id=res.id, created_at=res.created_at, mode=res.mode, rubric=res.rubric,
        model_versions=res.model_versions, grade=res.grade,
        grade_probabilities=res.grade_probabilities,
        markers={m: {**v, "evidence": res.evidence.get(m, [])} for m, v in res.markers.items()},
        flags=[FlagView(marker=f["marker"], severity=f["severity"], message=f["message"])
               for f in res.flags])


def get_file(session: Session, file_ref: str | int, actor: str | None = None) -> FileView:
    """A case file with its records (oldest first, undated last), their latest results and
    reviews."""
    cf = find_file(session, file_ref)
    child = session.scalar(select(Child.pseudonym).where(Child.id == cf.child_id)) or ""
    recs = session.scalars(select(CaseRecord).where(CaseRecord.file_id == cf.id)
                           .order_by(CaseRecord.record_date.is_(None), CaseRecord.record_date,
                                     CaseRecord.id)).all()
    latest = {r.record_id: r for r in session.scalars(
        select(ScreeningResult).where(ScreeningResult.record_id.in_([r.id for r in recs]),
                                      ScreeningResult.is_latest))}
    reviews: dict[int, list[Review]] = {}
    for rv in session.scalars(select(Review).where(Review.record_id.in_([r.id for r in recs]))
                              .options(selectinload(Review.decisions),
                                       selectinload(Review.moderations))
                              .order_by(Review.id)):
        reviews.setdefault(rv.record_id, []).append(rv)
    views = []
    for r in recs:
        res = latest.get(r.id)
        views.append(RecordView(
            id=r.id, key=r.key, doc_type=r.doc_type, record_date=r.record_date,
            worker=r.worker, team=r.team, service=r.service, text=r.text,
            result=_result_view(res) if res is not None else None,
            reviews=[_review_view(rv) for rv in reviews.get(r.id, [])]))
    if actor:
        log_access(session, actor, "read", "case_file", cf.id)
    return FileView(id=cf.id, pseudonym=cf.pseudonym, child=child, records=views)


def get_review(session: Session, review_id: int) -> ReviewView:
    r = session.scalar(select(Review).where(Review.id == review_id)
                       .options(selectinload(Review.decisions), selectinload(Review.moderations)))
    if r is None:
        raise NotFound(f"no review {review_id}")
    return _review_view(r)


# -- recording reviews -------------------------------------------------------------------

def _check(decisions: Sequence[DecisionIn], res: ScreeningResult, text: str) -> None:
    flagged = res.flagged
    for d in decisions:
        if d.marker not in res.markers:
            raise ReviewError(f"{d.marker!r} is not a marker of this record (allowed: "
                              f"{', '.join(res.markers)})")
        if d.decision == "added" and d.marker in flagged:
            raise ReviewError(f"{d.marker!r} is already flagged: confirm, reject or correct "
                              "the flag instead of adding it")
        if d.decision != "added" and d.marker not in flagged:
            raise ReviewError(f"{d.marker!r} was not flagged: use 'added' to add a miss "
                              f"(flagged: {', '.join(sorted(flagged)) or 'none'})")
        if d.evidence is not None and d.evidence.strip() not in text:
            raise ReviewError(f"the evidence quoted for {d.marker!r} is not in the record's "
                              "text (quote it exactly)")


def record_review(session: Session, record_id: int, auditor: str,
                  decisions: Sequence[DecisionIn] = (), grade: str | None = None,
                  comment: str | None = None, *, result_id: int | None = None,
                  rubric: Rubric | None = None, actor: str | None = None) -> ReviewView:
    """Record an auditor's decisions on a record's flags, and (optionally) the final grade
    and comment. A grade completes the review. Reviews the record's latest screening
    result unless `result_id` names another of its results. Call again to add or change
    decisions: earlier ones are kept, the newest per marker is in force."""
    auditor = auditor.strip()
    if not auditor:
        raise ReviewError("an auditor name is needed")
    levels = _rubric(rubric).levels
    if grade is not None and grade not in levels:
        raise ReviewError(f"unknown grade {grade!r} (allowed: {', '.join(levels)})")
    rec = session.get(CaseRecord, record_id)
    if rec is None:
        raise NotFound(f"no record {record_id}")
    q = select(ScreeningResult).where(ScreeningResult.record_id == record_id)
    q = q.where(ScreeningResult.id == result_id) if result_id is not None else q.where(
        ScreeningResult.is_latest)
    res = session.scalar(q)
    if res is None:
        raise NotFound(f"record {record_id} has no screening result"
                       + (f" {result_id}" if result_id is not None else ""))
    decisions = [d if isinstance(d, DecisionIn) else DecisionIn.model_validate(d)
                 for d in decisions]
    _check(decisions, res, rec.text)
    now = utcnow()
    session.execute(insert_for(session, Review).values(
        record_id=record_id, result_id=res.id, auditor=auditor, created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["result_id", "auditor"]))
    review_id = session.scalar(select(Review.id).where(Review.result_id == res.id,
                                                       Review.auditor == auditor))
    assert review_id is not None
    for d in decisions:
        session.add(ReviewDecision(review_id=review_id, marker=d.marker, decision=d.decision,
                                   corrected_value=d.corrected_value,
                                   evidence=d.evidence.strip() if d.evidence else None,
                                   created_at=now))
    values: dict[str, object] = {"updated_at": now}
    if grade is not None:
        values.update(grade=grade, completed_at=now)
    if comment is not None:
        values["comment"] = comment
    session.execute(update(Review).where(Review.id == review_id).values(**values))
    session.flush()
    log_access(session, actor or auditor, "review", "record", record_id)
    session.expire_all()
    return get_review(session, review_id)


def record_moderation(session: Session, review_id: int, moderator: str, grade: str,
                      comment: str | None = None, *, rubric: Rubric | None = None,
                      actor: str | None = None) -> ReviewView:
    """A second auditor's grade on a completed review (again: their newest one counts)."""
    moderator = moderator.strip()
    levels = _rubric(rubric).levels
    if grade not in levels:
        raise ReviewError(f"unknown grade {grade!r} (allowed: {', '.join(levels)})")
    review = session.get(Review, review_id)
    if review is None:
        raise NotFound(f"no review {review_id}")
    if review.completed_at is None:
        raise ReviewError(f"review {review_id} has no final grade yet: nothing to moderate")
    if not moderator or moderator == review.auditor:
        raise ReviewError("moderation needs a second auditor, not the one who reviewed")
    now = utcnow()
    stmt = insert_for(session, Moderation).values(review_id=review_id, moderator=moderator,
                                                  grade=grade, comment=comment, created_at=now)
    session.execute(stmt.on_conflict_do_update(
        index_elements=["review_id", "moderator"],
        set_={"grade": grade, "comment": comment, "created_at": now}))
    log_access(session, actor or moderator, "moderate", "review", review_id)
    session.flush()
    session.expire_all()
    return get_review(session, review_id)


# -- agreement and learning --------------------------------------------------------------

def agreement(session: Session, service: str | None = None) -> AgreementReport:
    """Auditors vs screener per marker; Cohen's kappa of grades per service."""
    return _agreement(session, service)


def rule_stats(session: Session) -> list[RuleStat]:
    """Each pattern rule's confirmation rate in reviews, worst first."""
    return _rule_stats(session)


def yield_of(items: Sequence[QueueItem]) -> list[YieldRow]:
    """Expected yield of reading the top of a queue vs a random sample of the same size."""
    return expected_yield([it.p_inadequate for it in items], [it.p_below_good for it in items])
