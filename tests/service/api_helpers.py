"""Helpers the API tests share (a module of its own: test modules import it by name)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from api import Settings
from api.auth import create_token
from screener.audit import service
from screener.audit.db import Database
from screener.audit.models import CaseFile, CaseRecord, Child, utcnow
from screener.audit.schemas import DecisionIn
from screener.audit.store import add_result
from screener.pipeline import Screener

ROLES = ("manager", "auditor", "researcher", "admin")

PLAN = ("Child in Need plan for Kai (6).\n"
        "Outcome 1: Kai will receive appropriate monitoring and support.\n"
        "Mum will engage with services.\n")
VISIT = ("Home visit. Kai was seen alone in his bedroom, which was warm and tidy. "
         "Kai said \"I like it when nana comes\". Next visit in two weeks.")


def settings_for(tmp: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"database_url": f"sqlite:///{tmp / 'api.db'}", "mode": "rules",
                                 "max_record_chars": 20_000, "max_batch_size": 5,
                                 "max_body_bytes": 256 * 1024, "report_bootstrap": 10,
                                 "auth_cache_seconds": 0}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@dataclass
class Seeded:
    file_id: int
    pseudonym: str
    plan_id: int
    visit_id: int
    review_id: int  # a completed review by "auditor-x" of the visit, for moderation


def seed(db: Database, screener: Screener, *, tag: str | None = None) -> Seeded:
    """One child's case file with a CIN plan and a visit, each screened for real."""
    tag = tag or uuid.uuid4().hex[:8]
    ids = []
    with db.session() as s:
        child = Child(pseudonym=f"C-{tag}", created_at=utcnow())
        s.add(child)
        s.flush()
        cf = CaseFile(pseudonym=f"F-{tag}", child_id=child.id, created_at=utcnow())
        s.add(cf)
        s.flush()
        for n, (doc_type, text) in enumerate((("cin_plan", PLAN), ("visit", VISIT))):
            rec = CaseRecord(file_id=cf.id, source="test", source_id=f"{tag}-{n}",
                             doc_type=doc_type, record_date=date(2025, 3, 1 + n),
                             worker="Sam Riley", team="Northfield CIN", service="CIN", text=text,
                             content_hash=uuid.uuid4().hex, imported_at=utcnow(),
                             updated_at=utcnow())
            s.add(rec)
            s.flush()
            add_result(s, rec.id, rec.content_hash, screener.screen_one(doc_type, text), {})
            ids.append(rec.id)
        file_id, pseudonym = cf.id, cf.pseudonym
    with db.session() as s:
        visit = service.get_file(s, file_id).records[1]
        assert visit.result is not None and visit.result.flags
        review = service.record_review(
            s, ids[1], "auditor-x",
            [DecisionIn(marker=visit.result.flags[0].marker, decision="confirmed")],
            grade="requires_improvement")
    return Seeded(file_id=file_id, pseudonym=pseudonym, plan_id=ids[0], visit_id=ids[1],
                  review_id=review.id)


def make_tokens(db: Database, suffix: str = "") -> dict[str, str]:
    with db.session() as s:
        return {role: create_token(s, f"{role}{suffix}", role) for role in ROLES}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
