"""How far auditors agree with the screener, and with each other.

Per marker: of the flags auditors answered, the share they confirmed (or corrected: the
flag stood), which is the screener's precision as auditors judge it, and the misses
they added. Per service: Cohen's kappa between the screener's grade and the auditor's,
and between the auditor's grade and the moderator's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from screener.audit.judgement import Judgement, effective, judge
from screener.audit.models import CaseRecord, Review
from screener.audit.schemas import AgreementReport, KappaRow, MarkerAgreement


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Cohen's kappa of two raters' labels; None when undefined (no pairs, or both raters
    gave one and the same label throughout, so chance agreement is certain)."""
    if not a or len(a) != len(b):
        return None
    labels = sorted(set(a) | set(b))
    if len(labels) < 2:
        return None
    from sklearn.metrics import cohen_kappa_score

    return float(cohen_kappa_score(list(a), list(b), labels=labels))


@dataclass
class ReviewedRecord:
    """A review with everything agreement and learning need, loaded once."""

    review: Review
    record: CaseRecord
    judgements: dict[str, Judgement]

    @property
    def completed(self) -> bool:
        return self.review.completed_at is not None


def load_reviews(session: Session, service: str | None = None) -> list[ReviewedRecord]:
    q = (select(Review, CaseRecord).join(CaseRecord, CaseRecord.id == Review.record_id)
         .options(selectinload(Review.decisions), selectinload(Review.moderations),
                  selectinload(Review.result))
         .order_by(Review.id))
    if service is not None:
        q = q.where(func.lower(CaseRecord.service) == service.lower())
    out = []
    for review, record in session.execute(q):
        res = review.result
        j = judge(res.markers, res.flags, effective(review.decisions),
                  review.completed_at is not None)
        out.append(ReviewedRecord(review, record, j))
    return out


def _kappa_rows(pairs: list[tuple[str, str, str]]) -> list[KappaRow]:
    """(service, grade a, grade b) -> a kappa row per service, then "all"."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for svc, a, b in pairs:
        groups.setdefault(svc, []).append((a, b))
    rows = []
    for svc in sorted(groups):
        rows.append(_kappa_row(svc, groups[svc]))
    rows.append(_kappa_row("all", [(a, b) for _, a, b in pairs]))
    return rows


def _kappa_row(name: str, pairs: list[tuple[str, str]]) -> KappaRow:
    a = [x for x, _ in pairs]
    b = [y for _, y in pairs]
    agree = sum(x == y for x, y in pairs) / len(pairs) if pairs else None
    kappa = cohen_kappa(a, b)
    return KappaRow(service=name, n=len(pairs),
                    agreement=None if agree is None else round(agree, 4),
                    kappa=None if kappa is None else round(kappa, 4))


def agreement(session: Session, service: str | None = None) -> AgreementReport:
    reviewed = load_reviews(session, service)
    decided: dict[str, Counter[str]] = {}
    judged: Counter[str] = Counter()
    for rr in reviewed:
        for m, j in rr.judgements.items():
            c = decided.setdefault(m, Counter())
            if j.decision is not None:
                c[j.decision] += 1
            if rr.completed:
                judged[m] += 1
    markers = []
    for m in sorted(decided):
        c = decided[m]
        n = c["confirmed"] + c["corrected"] + c["rejected"]
        markers.append(MarkerAgreement(
            marker=m, flags_decided=n, confirmed=c["confirmed"], corrected=c["corrected"],
            rejected=c["rejected"],
            confirm_rate=round((c["confirmed"] + c["corrected"]) / n, 4) if n else None,
            misses_added=c["added"], judged=judged[m]))
    svc = [(rr.record.service or "(none)", rr.review.result.grade, rr.review.grade)
           for rr in reviewed if rr.completed and rr.review.grade]
    mod = [(rr.record.service or "(none)", rr.review.grade, m.grade)
           for rr in reviewed if rr.review.grade for m in rr.review.moderations]
    return AgreementReport(reviews=len(reviewed), completed=sum(rr.completed for rr in reviewed),
                           markers=markers, screener_vs_auditor=_kappa_rows(svc),
                           auditor_vs_moderator=_kappa_rows(mod))
