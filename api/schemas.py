"""What the API accepts and returns, where the library and the audit service have no shape
for it already (those are reused: `ScreenResult`, `FileView`, `ReviewView`, ...)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from screener.audit.schemas import DecisionIn

__all__ = ["AccessEntry", "BatchIn", "BatchOut", "DraftIn", "Highlight", "Hint", "HintsOut",
           "MarkerState", "Me", "ModerationIn", "QueueOut", "ReportOut", "ReviewIn",
           "ScreenIn", "TokenIn", "TokenMade", "TokenView"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DraftIn(_In):
    """A record to screen: its type (a record type of the rubric in force) and its text."""

    doc_type: str = Field(min_length=1, max_length=80, examples=["cin_plan"])
    text: str = Field(examples=["Kai will receive appropriate monitoring and support."])

    @field_validator("text")
    @classmethod
    def _not_empty(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("empty text: give the record's text")
        return v


class ScreenIn(DraftIn):
    id: str | None = Field(default=None, max_length=200,
                           description="Your id for the record, echoed back (default: "
                           "'record', or the record's position in a batch).")


class BatchIn(_In):
    records: list[ScreenIn] = Field(min_length=1)


class BatchOut(BaseModel):
    results: list[dict[str, Any]] = Field(
        description="One object per record, in order: the same object as one line of "
        "`screener screen` output.")


class Highlight(BaseModel):
    """A stretch of the text backed by evidence for one or more markers. Offsets count
    Unicode code points, like Python's str (not UTF-16 units)."""

    start: int
    end: int
    markers: list[str]
    kind: Literal["found", "concern"]  # concern: a negative marker (e.g. a vague goal)


class EvidenceSpan(BaseModel):
    start: int
    end: int
    text: str
    source: str


class Hint(BaseModel):
    rank: int
    marker: str
    label: str
    severity: Literal["high", "medium", "low"]
    kind: Literal["missing", "concern"]
    message: str
    guidance: str = Field(description="What good looks like for this marker and record type.")
    evidence: list[EvidenceSpan]


class MarkerState(BaseModel):
    marker: str
    label: str
    negative: bool
    present: bool
    probability: float
    evidence: list[EvidenceSpan]


class HintsOut(BaseModel):
    doc_type: str
    grade: str
    grade_probabilities: dict[str, float]
    levels: list[str]
    mode: str
    rubric: str
    flags: list[Hint] = Field(description="Most important first.")
    markers: list[MarkerState]
    highlights: list[Highlight]


class QueueOut(BaseModel):
    total: int
    files: list[dict[str, Any]]
    expected_yield: list[dict[str, Any]]


class ReviewIn(_In):
    """An auditor's review of one record of the file: decisions on its flags, and
    (optionally) the final grade, which completes the review, and a comment."""

    record_id: int = Field(ge=1)
    decisions: list[DecisionIn] = Field(default_factory=list, max_length=200)
    grade: str | None = Field(default=None, max_length=40)
    comment: str | None = Field(default=None, max_length=10_000)
    result_id: int | None = Field(default=None, ge=1)


class ModerationIn(_In):
    grade: str = Field(min_length=1, max_length=40)
    comment: str | None = Field(default=None, max_length=10_000)


class TokenIn(_In):
    name: str = Field(min_length=1, max_length=120)
    role: Literal["manager", "auditor", "researcher", "admin"]


class TokenView(BaseModel):
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None


class TokenMade(BaseModel):
    name: str
    role: str
    token: str = Field(description="Shown once: only its hash is stored.")


class Me(BaseModel):
    name: str
    role: str


class AccessEntry(BaseModel):
    who: str
    action: str
    object_type: str
    object_id: str | None
    at: datetime


class ReportOut(BaseModel):
    records: int
    by: str
    period: str
    tables: dict[str, list[dict[str, Any]]]
