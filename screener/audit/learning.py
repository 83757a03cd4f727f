"""Learning from reviews: labelled records for training, and rule confirmation rates.

`reviewed_training_records()` turns completed reviews into training records in the
corpus format of `training/train.py`: the screener's markers, corrected by the auditor's
decisions (see `screener.audit.judgement`). A marker that is present needs evidence
quotes (sentence labels come from them): the auditor's quote, else the screener's own
evidence; a present marker with neither is left unlabelled rather than taught as absent
everywhere.

Each pattern rule (an evidence source such as "rule:child_views.child_said") is
confirmed when auditors agree the marker it found is there, rejected when they say it
is not. `rule_stats()` counts both; `rule_scales()` turns them into a confidence scale per
rule (1.0 = unchanged; only ever lowered), which `screener train --with-reviews` writes
as the `rule-weights` artefact and the Screener applies to that rule's hits.
"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from screener.audit.agreement import ReviewedRecord, load_reviews
from screener.audit.db import Database
from screener.audit.schemas import RuleStat

WRITER = "reviews"
# Beta prior on a rule's confirmation rate: as if seen confirmed 4 times, rejected once.
PRIOR_CONFIRMED, PRIOR_REJECTED = 4.0, 1.0
PRIOR_RATE = PRIOR_CONFIRMED / (PRIOR_CONFIRMED + PRIOR_REJECTED)
MIN_SCALE = 0.05
KEEP_REJECTING = 0.5  # a rule confirmed less often than this (with MIN_SHOWN reviews) is shown
MIN_SHOWN = 3


def _usable(session: Session) -> list[ReviewedRecord]:
    """Per record, its newest completed review of a result for the record's current text."""
    best: dict[int, ReviewedRecord] = {}
    for rr in load_reviews(session):
        if not rr.completed or rr.review.result.content_hash != rr.record.content_hash:
            continue
        cur = best.get(rr.record.id)
        if cur is None or (rr.review.updated_at, rr.review.id) > (cur.review.updated_at,
                                                                   cur.review.id):
            best[rr.record.id] = rr
    return [best[k] for k in sorted(best)]


def training_record(rr: ReviewedRecord) -> dict[str, Any] | None:
    """One reviewed record in the training corpus format, or None if nothing is labelled."""
    evidence_of = rr.review.result.evidence
    markers: dict[str, bool] = {}
    evidence: dict[str, list[str]] = {}
    for m, j in rr.judgements.items():
        if j.present is None:
            continue
        if j.present:
            quotes = [j.evidence] if j.evidence else []
            if not quotes and j.screener_present:
                quotes = [e["text"] for e in evidence_of.get(m, []) if e.get("text")]
            quotes = [q for q in quotes if q and q in rr.record.text]
            if not quotes:
                continue
            evidence[m] = quotes
        markers[m] = j.present
    if not markers:
        return None
    return {"id": f"review-{rr.record.key}", "doc_type": rr.record.doc_type,
            "text": rr.record.text, "markers": markers, "evidence": evidence, "writer": WRITER}


def reviewed_training_records(url: str | None = None,
                              db: Database | None = None) -> list[dict[str, Any]]:
    """Reviewed records as labelled training data (the audit database at `url`, else
    $SCREENER_DATABASE_URL, else sqlite:///screener.db)."""
    db = db or Database(url)
    with db.session() as s:
        out = [training_record(rr) for rr in _usable(s)]
    return [r for r in out if r is not None]


def rule_stats(session: Session) -> list[RuleStat]:
    """Each pattern rule's confirmations and rejections by auditors, worst first."""
    counts: dict[str, list[int]] = {}
    marker_of: dict[str, str] = {}
    for rr in _usable(session):
        evidence = rr.review.result.evidence
        for m, j in rr.judgements.items():
            if j.present is None or not j.screener_present:
                continue
            rules = {e["source"] for e in evidence.get(m, [])
                     if str(e.get("source", "")).startswith("rule:")}
            for rule in rules:
                c = counts.setdefault(rule, [0, 0])
                c[0 if j.present else 1] += 1
                marker_of[rule] = m
    stats = []
    for rule, (conf, rej) in counts.items():
        n = conf + rej
        stats.append(RuleStat(rule=rule, marker=marker_of[rule], confirmed=conf, rejected=rej,
                              rate=round(conf / n, 4) if n else None,
                              weight=round(rule_scale(conf, rej), 4)))
    stats.sort(key=lambda r: (r.rate if r.rate is not None else 1.0, -r.rejected, r.rule))
    return stats


def rule_scale(confirmed: int, rejected: int) -> float:
    """Confidence scale of a rule from its reviews: the posterior mean confirmation rate
    (Beta prior) relative to the prior's, capped at 1 so reviews only ever lower a rule."""
    posterior = (confirmed + PRIOR_CONFIRMED) / (confirmed + rejected + PRIOR_CONFIRMED
                                                 + PRIOR_REJECTED)
    return max(MIN_SCALE, min(1.0, posterior / PRIOR_RATE))


def rule_scales(stats: list[RuleStat]) -> dict[str, float]:
    """The rules whose weight drops (scale < 1)."""
    return {s.rule: s.weight for s in stats if s.weight < 1.0}


def keeps_rejecting(stat: RuleStat) -> bool:
    return (stat.rate is not None and stat.rate < KEEP_REJECTING
            and stat.confirmed + stat.rejected >= MIN_SHOWN)


def write_rule_weights(models_dir: Path, url: str | None = None, db: Database | None = None,
                       version: str | None = None) -> Path:
    """Write the `rule-weights` artefact from the reviews and register it in models_dir."""
    from screener.classifiers.artefacts import update_registry, write_artefact

    db = db or Database(url)
    with db.session() as s:
        stats = rule_stats(s)
    version = version or date.today().strftime("%Y.%m.%d")
    path = models_dir / "rule-weights" / version
    path.mkdir(parents=True, exist_ok=True)
    scales = rule_scales(stats)
    data = {"scales": scales, "prior": {"confirmed": PRIOR_CONFIRMED,
                                        "rejected": PRIOR_REJECTED},
            "stats": [s.model_dump() for s in stats]}
    (path / "rule-weights.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    lowered = "\n".join(f"| {r} | {w:.2f} |" for r, w in sorted(scales.items())) or "| - | - |"
    card = ("# rule-weights\n\nA confidence scale per pattern rule, from auditors' reviews "
            "(`screener train --with-reviews`): the posterior mean confirmation rate (Beta "
            f"prior {PRIOR_CONFIRMED:g} confirmed, {PRIOR_REJECTED:g} rejected) over the "
            "prior's, capped at 1. The screener multiplies each hit's confidence by its "
            "rule's scale, so a rule auditors keep rejecting counts for less in the "
            f"combination.\n\n{len(stats)} rule(s) reviewed; lowered:\n\n| rule | scale |\n"
            f"|---|---|\n{lowered}\n")
    write_artefact(models_dir, "rule-weights", version,
                   {"rule-weights.json": path / "rule-weights.json"},
                   {"created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "n_rules": len(stats), "n_lowered": len(scales)}, card)
    update_registry(models_dir, {"rule-weights": version})
    return path
