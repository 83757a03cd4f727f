"""What the audit service returns and accepts (pydantic, so the web API can serve them)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Decision = Literal["confirmed", "rejected", "corrected", "added"]


class DecisionIn(BaseModel):
    """An auditor's decision on one marker of a screened record.

    confirmed: the flag is right. rejected: the flag is wrong (the marker is there, or for
    a negative marker such as vague_goal, there is no vague goal). corrected: the flag
    stands but a detail is wrong; `corrected_value` says what (e.g. the severity, or the
    right wording). added: a miss, a problem on a marker the screener did not flag.
    `evidence` (optional) quotes the passage of the record that shows the auditor's reading.
    """

    model_config = ConfigDict(extra="forbid")

    marker: str
    decision: Decision
    corrected_value: str | None = Field(default=None, max_length=2000)
    evidence: str | None = Field(default=None, max_length=5000)

    @model_validator(mode="after")
    def _corrected_needs_value(self) -> DecisionIn:
        if self.decision == "corrected" and not (self.corrected_value or "").strip():
            raise ValueError("a 'corrected' decision needs corrected_value")
        return self


class FlagView(BaseModel):
    marker: str
    severity: str
    message: str


class DecisionView(BaseModel):
    marker: str
    decision: Decision
    corrected_value: str | None = None
    evidence: str | None = None
    at: datetime


class ModerationView(BaseModel):
    id: int
    moderator: str
    grade: str
    comment: str | None = None
    at: datetime


class ReviewView(BaseModel):
    id: int
    record_id: int
    result_id: int
    auditor: str
    grade: str | None
    comment: str | None
    completed: bool
    decisions: dict[str, DecisionView]  # the effective (newest) decision per marker
    moderations: list[ModerationView] = Field(default_factory=list)
    updated_at: datetime


class ResultView(BaseModel):
    id: int
    created_at: datetime
    mode: str
    rubric: str
    model_versions: dict[str, str]
    grade: str
    grade_probabilities: dict[str, float]
    markers: dict[str, dict[str, Any]]  # {marker: {present, probability, evidence: [...]}}
    flags: list[FlagView]


class RecordView(BaseModel):
    id: int
    key: str  # stable id: "<source>:<source record id>"
    doc_type: str
    record_date: date | None
    worker: str | None
    team: str | None
    service: str | None
    text: str
    result: ResultView | None
    reviews: list[ReviewView] = Field(default_factory=list)


class FileView(BaseModel):
    id: int
    pseudonym: str
    child: str
    records: list[RecordView]


class QueueRecord(BaseModel):
    record_id: int
    key: str
    doc_type: str
    record_date: date | None
    p_below_good: float  # P(grade is requires improvement or inadequate)
    p_inadequate: float
    weight: float
    missing: list[str]  # flagged markers, most severe first


class QueueItem(BaseModel):
    file_id: int
    pseudonym: str
    child: str
    team: str | None
    service: str | None
    n_records: int
    p_below_good: float  # P(the file holds at least one record below good), weighted
    p_inadequate: float
    reviewed: bool
    why: str
    records: list[QueueRecord]


class YieldRow(BaseModel):
    share: float  # the share of the queue read, e.g. 0.2
    files: int  # how many files that is
    expected_found: float  # expected share of the files with an inadequate record found
    expected_found_below: float  # ... of the files with a record below good
    random_found: float  # either, reading a random sample of the same size


class UncertainRecord(BaseModel):
    record_id: int
    key: str
    file_id: int
    doc_type: str
    score: float  # total uncertainty (bits) over the record's markers
    unsure: dict[str, float]  # the least certain markers and their probabilities


class MarkerAgreement(BaseModel):
    marker: str
    flags_decided: int
    confirmed: int
    corrected: int
    rejected: int
    confirm_rate: float | None  # (confirmed + corrected) / decided: precision as judged
    misses_added: int
    judged: int  # completed reviews of records of types with this marker


class KappaRow(BaseModel):
    service: str  # "all" for every service together
    n: int
    agreement: float | None
    kappa: float | None


class AgreementReport(BaseModel):
    reviews: int
    completed: int
    markers: list[MarkerAgreement]
    screener_vs_auditor: list[KappaRow]
    auditor_vs_moderator: list[KappaRow]


class RuleStat(BaseModel):
    rule: str  # evidence source, e.g. "rule:child_views.child_said"
    marker: str
    confirmed: int
    rejected: int
    rate: float | None
    weight: float  # the confidence scale the screener applies after `train --with-reviews`
