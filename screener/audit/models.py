"""The audit database: case files, records, screening results, reviews and moderation.

Typed SQLAlchemy 2 models. The schema itself is created and changed only by the Alembic
migrations in `screener/audit/migrations/` (applied on first use), never by
`create_all`, so SQLite and PostgreSQL databases always carry the same versioned schema.

Design choices that matter to callers:

* Children and case files are known by a keyed pseudonym (`C-…`, `F-…`); the source
  system's person and case numbers are never stored.
* A record is identified by its source system and that system's record id, so
  re-importing an export updates records instead of duplicating them.
* Screening results are append-only: re-screening adds a result and moves the
  `is_latest` mark (a partial unique index allows one latest result per record).
* Review decisions are append-only too: the effective decision on a marker is the
  newest row, so concurrent reviews never overwrite each other's decisions.
* `access_log` records who did what to which object, never record text.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

DECISIONS = ("confirmed", "rejected", "corrected", "added")
ROLES = ("manager", "auditor", "researcher", "admin")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware (UTC) datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSONType,
                           list[Any]: JSONType}


class Meta(Base):
    """Small settings of this database (the pseudonym key)."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Child(Base):
    __tablename__ = "children"

    id: Mapped[int] = mapped_column(primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    files: Mapped[list[CaseFile]] = relationship(back_populates="child")


class CaseFile(Base):
    """A child's case file. When an export files siblings under one case reference, the
    file belongs to the first child imported for it."""

    __tablename__ = "case_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(32), unique=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"),
                                          index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    child: Mapped[Child] = relationship(back_populates="files")
    records: Mapped[list[CaseRecord]] = relationship(back_populates="file")


class CaseRecord(Base):
    __tablename__ = "records"
    __table_args__ = (UniqueConstraint("source", "source_id", name="uq_records_source_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("case_files.id", ondelete="CASCADE"),
                                         index=True)
    source: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[str] = mapped_column(String(200))
    doc_type: Mapped[str] = mapped_column(String(40))
    record_date: Mapped[date | None] = mapped_column(Date)
    worker: Mapped[str | None] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(200), index=True)
    service: Mapped[str | None] = mapped_column(String(200), index=True)
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    file: Mapped[CaseFile] = relationship(back_populates="records")
    results: Mapped[list[ScreeningResult]] = relationship(back_populates="record")

    @property
    def key(self) -> str:
        """The stable record id: source system and its record id."""
        return f"{self.source}:{self.source_id}"


class ScreeningResult(Base):
    __tablename__ = "screening_results"
    __table_args__ = (
        Index("uq_screening_results_latest", "record_id", unique=True,
              sqlite_where=text("is_latest"), postgresql_where=text("is_latest")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"),
                                           index=True)
    content_hash: Mapped[str] = mapped_column(String(64))  # the text version screened
    mode: Mapped[str] = mapped_column(String(16))
    rubric: Mapped[str] = mapped_column(String(120))
    model_versions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    grade: Mapped[str] = mapped_column(String(40))
    grade_probabilities: Mapped[dict[str, Any]]
    markers: Mapped[dict[str, Any]]  # {marker: {"present", "probability"}}
    evidence: Mapped[dict[str, Any]]  # {marker: [Evidence dicts]}
    flags: Mapped[list[Any]]  # [Flag dicts]
    is_latest: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    record: Mapped[CaseRecord] = relationship(back_populates="results")

    @property
    def flagged(self) -> set[str]:
        return {f["marker"] for f in self.flags}


class Review(Base):
    """One auditor's review of one screening result: decisions, final grade, comment."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("result_id", "auditor", name="uq_reviews_result_auditor"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"),
                                           index=True)
    result_id: Mapped[int] = mapped_column(
        ForeignKey("screening_results.id", ondelete="CASCADE"), index=True)
    auditor: Mapped[str] = mapped_column(String(120))
    grade: Mapped[str | None] = mapped_column(String(40))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]

    decisions: Mapped[list[ReviewDecision]] = relationship(back_populates="review",
                                                           order_by="ReviewDecision.id")
    moderations: Mapped[list[Moderation]] = relationship(back_populates="review",
                                                         order_by="Moderation.id")
    result: Mapped[ScreeningResult] = relationship()


class ReviewDecision(Base):
    """An auditor's decision on one marker. Append-only: the newest row per marker counts.

    confirmed / rejected / corrected answer a flag the screener raised (corrected: the
    flag stands but a detail is wrong, `corrected_value` says what); added is a miss the
    auditor adds on a marker the screener did not flag. `evidence` is an optional quote
    from the record that shows the auditor's reading (used as training evidence).
    """

    __tablename__ = "review_decisions"
    __table_args__ = (
        CheckConstraint("decision IN ('confirmed', 'rejected', 'corrected', 'added')",
                        name="decision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"),
                                           index=True)
    marker: Mapped[str] = mapped_column(String(80))
    decision: Mapped[str] = mapped_column(String(16))
    corrected_value: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    review: Mapped[Review] = relationship(back_populates="decisions")


class Moderation(Base):
    """A second auditor's grade for a reviewed record."""

    __tablename__ = "moderations"
    __table_args__ = (
        UniqueConstraint("review_id", "moderator", name="uq_moderations_review_moderator"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"),
                                           index=True)
    moderator: Mapped[str] = mapped_column(String(120))
    grade: Mapped[str] = mapped_column(String(40))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    review: Mapped[Review] = relationship(back_populates="moderations")


class ImportRun(Base):
    """One `screener import`: what was read, what happened, every bad row (no text)."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(Text)
    file_sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="running")
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    errors: Mapped[list[Any]] = mapped_column(default=list)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class ApiToken(Base):
    """A bearer token for the web API (only its hash is stored)."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        CheckConstraint("role IN ('manager', 'auditor', 'researcher', 'admin')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class AccessLog(Base):
    """Who did what to which object, and when. Never record text."""

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    who: Mapped[str] = mapped_column(String(120), index=True)
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
