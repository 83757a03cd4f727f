"""The triage queue: which case files to read first, and what reading them should find.

A record's risk is the screener's probability that its grade is below good (requires
improvement or inadequate: the rubric's two lowest levels). A file's risk is the
probability that at least one of its records is below good, each record weighted by its
type's `weight` in the rubric (an authority can make plans count more than visits), and
ties are broken by the same probability for an inadequate record:

    P(file) = 1 - prod_records (1 - p_record) ** weight_type

A weight of 0 leaves a type out, 1 counts a record once, 2 counts it like two
independent records. The expected yield compares reading the top k% of the queue with
reading a random k%: with the screener's probabilities, the expected share of the files
holding an inadequate record that the top k% finds is sum(P_inadequate) over the top k%
/ sum(P_inadequate) over all files, against k% for a random k% (likewise for below good).

`uncertain` ranks records by how unsure the screener is about their markers (the sum
of each marker's binary entropy, in bits): reviewing those teaches the model most.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from screener.audit.models import CaseFile, CaseRecord, Child, Review, ScreeningResult
from screener.audit.schemas import QueueItem, QueueRecord, UncertainRecord, YieldRow
from screener.config.models import Rubric

YIELD_SHARES = (0.1, 0.2, 0.3)
_SEVERITY = {"high": 0, "medium": 1, "low": 2}
_EPOCH = date(1900, 1, 1)


def below_good_levels(levels: Sequence[str]) -> list[str]:
    """The grades that call for improvement: the rubric's two lowest levels."""
    return list(levels[-2:])


def file_probability(records: Sequence[tuple[float, float]]) -> float:
    """P(at least one record is below good) from (probability, weight) pairs."""
    log_none = 0.0
    for p, w in records:
        p = min(max(p, 0.0), 1.0)
        if w <= 0:
            continue
        if p >= 1.0:
            return 1.0
        log_none += w * math.log1p(-p)
    return 1.0 - math.exp(log_none)


def expected_yield(inadequate: Sequence[float], below_good: Sequence[float] | None = None,
                   shares: Sequence[float] = YIELD_SHARES) -> list[YieldRow]:
    """Reading the top k% of a queue vs a random k%: the expected share of the files with
    an inadequate record (and of those below good) found. The probabilities are given in
    queue order, one per file."""
    below = list(below_good) if below_good is not None else list(inadequate)
    n = len(inadequate)
    out = []
    for share in shares:
        k = max(1, math.ceil(share * n)) if n else 0
        out.append(YieldRow(share=share, files=k,
                            expected_found=round(_share(inadequate, k), 4),
                            expected_found_below=round(_share(below, k), 4),
                            random_found=round(k / n, 4) if n else 0.0))
    return out


def _share(probs: Sequence[float], k: int) -> float:
    total = sum(probs)
    return sum(probs[:k]) / total if total > 0 else 0.0


def binary_entropy(p: float) -> float:
    if p <= 0.0 or p >= 1.0:
        return 0.0
    return -(p * math.log2(p) + (1 - p) * math.log2(1 - p))


@dataclass
class _Row:
    rec: CaseRecord
    res: ScreeningResult


def _latest(session: Session, file_ids: Sequence[int] | None = None) -> list[_Row]:
    q = (select(CaseRecord, ScreeningResult)
         .join(ScreeningResult, (ScreeningResult.record_id == CaseRecord.id)
               & ScreeningResult.is_latest))
    if file_ids is not None:
        q = q.where(CaseRecord.file_id.in_(file_ids))
    return [_Row(rec, res) for rec, res in session.execute(q)]


def _reviewed_results(session: Session) -> set[int]:
    """Screening results that have at least one completed review."""
    return set(session.scalars(select(Review.result_id).where(Review.completed_at.is_not(None))))


def _missing(res: ScreeningResult) -> list[str]:
    flags = sorted(res.flags, key=lambda f: _SEVERITY.get(f.get("severity", "low"), 3))
    return [f["marker"] for f in flags if f.get("severity") in ("high", "medium")]


def _why(records: list[QueueRecord], p_file: float) -> str:
    risky = [r for r in records if r.p_below_good >= 0.5 and r.weight > 0]
    if not records:
        return "no screened records"
    top = max(records, key=lambda r: (r.p_below_good * min(r.weight, 1.0), r.p_inadequate))
    when = top.record_date.isoformat() if top.record_date else "undated"
    missing = ", ".join(top.missing[:3]) or "no gaps flagged"
    more = len(risky) - (1 if top in risky else 0)
    tail = f"; {more} more record(s) likely below good" if more > 0 else ""
    return (f"{len(risky)}/{len(records)} likely below good; worst {top.doc_type} {when} "
            f"(P={top.p_below_good:.2f}, missing {missing}){tail}")


def build_queue(session: Session, rubric: Rubric, team: str | None = None,
                service: str | None = None, include_reviewed: bool = False) -> list[QueueItem]:
    """Every case file with screened records, riskiest first (see the module docstring).

    A file's team and service are those of its most recent record; `team` and `service`
    filter on them. Files whose every record has a completed review are left out unless
    `include_reviewed`.
    """
    below = below_good_levels(rubric.levels)
    lowest = rubric.levels[-1]
    reviewed = _reviewed_results(session)
    by_file: dict[int, list[_Row]] = {}
    for row in _latest(session):
        by_file.setdefault(row.rec.file_id, []).append(row)
    files = {f.id: (f.pseudonym, c) for f, c in session.execute(
        select(CaseFile, Child.pseudonym).join(Child, Child.id == CaseFile.child_id)
        .where(CaseFile.id.in_(list(by_file))))}
    items = []
    for file_id, rows in by_file.items():
        rows.sort(key=lambda r: (r.rec.record_date or _EPOCH, r.rec.id))
        newest = rows[-1].rec
        if team is not None and (newest.team or "").casefold() != team.casefold():
            continue
        if service is not None and (newest.service or "").casefold() != service.casefold():
            continue
        is_reviewed = all(r.res.id in reviewed for r in rows)
        if is_reviewed and not include_reviewed:
            continue
        recs = []
        for r in rows:
            dt = rubric.doc_types.get(r.rec.doc_type)
            weight = dt.weight if dt is not None else 1.0
            gp = r.res.grade_probabilities
            recs.append(QueueRecord(
                record_id=r.rec.id, key=r.rec.key, doc_type=r.rec.doc_type,
                record_date=r.rec.record_date, p_below_good=round(sum(gp.get(g, 0.0)
                                                                      for g in below), 4),
                p_inadequate=round(gp.get(lowest, 0.0), 4), weight=weight,
                missing=_missing(r.res)))
        p_below = file_probability([(r.p_below_good, r.weight) for r in recs])
        p_inad = file_probability([(r.p_inadequate, r.weight) for r in recs])
        pseud, child = files[file_id]
        recs.sort(key=lambda r: -r.p_below_good * min(r.weight, 1.0))
        items.append(QueueItem(file_id=file_id, pseudonym=pseud, child=child, team=newest.team,
                               service=newest.service, n_records=len(recs),
                               p_below_good=round(p_below, 4), p_inadequate=round(p_inad, 4),
                               reviewed=is_reviewed, why=_why(recs, p_below), records=recs))
    items.sort(key=lambda it: (-it.p_below_good, -it.p_inadequate, it.file_id))
    return items


def sample(items: Sequence[QueueItem], n: int, seed: int | None = None) -> list[QueueItem]:
    """A simple random sample of files (for an unbiased audit beside the ranked queue)."""
    rng = random.Random(seed)
    picked = rng.sample(list(items), min(n, len(items)))
    return sorted(picked, key=lambda it: it.file_id)


def uncertain(session: Session, limit: int = 20, team: str | None = None,
              service: str | None = None) -> list[UncertainRecord]:
    """Unreviewed records the screener is least sure about, most uncertain first."""
    reviewed = _reviewed_results(session)
    out = []
    for row in _latest(session):
        if row.res.id in reviewed:
            continue
        if team is not None and (row.rec.team or "").casefold() != team.casefold():
            continue
        if service is not None and (row.rec.service or "").casefold() != service.casefold():
            continue
        probs = {m: float(v["probability"]) for m, v in row.res.markers.items()}
        ent = {m: binary_entropy(p) for m, p in probs.items()}
        unsure = sorted(ent, key=lambda m: -ent[m])[:3]
        out.append(UncertainRecord(
            record_id=row.rec.id, key=row.rec.key, file_id=row.rec.file_id,
            doc_type=row.rec.doc_type, score=round(sum(ent.values()), 4),
            unsure={m: round(probs[m], 3) for m in unsure if ent[m] > 0}))
    out.sort(key=lambda u: (-u.score, u.record_id))
    return out[:limit]

