"""Small database helpers shared by the importer, the service and the learning code."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from screener.audit.models import AccessLog, Meta, ScreeningResult, utcnow
from screener.schemas import Evidence, Flag, MarkerResult, ScreenResult


def insert_for(session: Session, table: Any) -> Any:
    """The dialect's INSERT (with ON CONFLICT support) for this session's database."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def pseudonym_key(session: Session) -> bytes:
    """This database's secret pseudonym key, made on first use (safe under concurrency)."""
    session.execute(insert_for(session, Meta).values(key="pseudonym_key",
                                                     value=secrets.token_hex(32))
                    .on_conflict_do_nothing(index_elements=["key"]))
    value = session.scalar(select(Meta.value).where(Meta.key == "pseudonym_key"))
    assert value is not None
    return bytes.fromhex(value)


def pseudonym(key: bytes, prefix: str, source: str, value: str) -> str:
    """A keyed hash of a source-system id: stable across imports, not reversible without
    the key, and different for the same id in another source system."""
    digest = hmac.new(key, f"{source}\x00{value}".encode(), hashlib.sha256).hexdigest()
    return f"{prefix}-{digest[:16]}"


def model_versions(screener: Any) -> dict[str, str]:
    """The trained artefacts (name -> version) behind a Screener's results."""
    versions = dict(getattr(screener.scorer, "versions", {}) or {})
    weights = getattr(screener, "rule_weights", None)
    if weights is not None and weights.version:
        versions["rule-weights"] = weights.version
    return versions


def add_result(session: Session, record_id: int, content_hash: str, result: ScreenResult,
               versions: dict[str, str]) -> ScreeningResult:
    """Store a new screening result as the record's latest; older results are kept."""
    session.execute(update(ScreeningResult)
                    .where(ScreeningResult.record_id == record_id, ScreeningResult.is_latest)
                    .values(is_latest=False))
    row = ScreeningResult(
        record_id=record_id, content_hash=content_hash, mode=result.mode, rubric=result.rubric,
        model_versions=versions, grade=result.grade,
        grade_probabilities=dict(result.grade_probabilities),
        markers={m: {"present": r.present, "probability": r.probability}
                 for m, r in result.markers.items()},
        evidence={m: [e.model_dump(exclude_none=True) for e in r.evidence]
                  for m, r in result.markers.items() if r.evidence},
        flags=[f.model_dump(exclude_none=True) for f in result.flags],
        is_latest=True, created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def as_screen_result(row: ScreeningResult, record_key: str, doc_type: str) -> ScreenResult:
    """Rebuild the library's ScreenResult from a stored result."""
    markers = {m: MarkerResult(present=v["present"], probability=v["probability"],
                               evidence=[Evidence(**e) for e in row.evidence.get(m, [])])
               for m, v in row.markers.items()}
    return ScreenResult(id=record_key, doc_type=doc_type, grade=row.grade,
                        grade_probabilities=row.grade_probabilities, markers=markers,
                        flags=[Flag(**f) for f in row.flags], mode=row.mode, rubric=row.rubric)


def log_access(session: Session, who: str, action: str, object_type: str,
               object_id: str | int | None = None) -> None:
    """Append to the access log: who did what to which object (never any record text)."""
    session.add(AccessLog(who=who, action=action, object_type=object_type,
                          object_id=None if object_id is None else str(object_id),
                          at=utcnow()))
