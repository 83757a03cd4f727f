"""Data shapes shared by the library, the CLI, the API and the audit database.

Every output object of `screener screen` is a `ScreenResult` (or an `ErrorResult`
for a record that could not be screened), so one definition serves all callers.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

DocType = Literal[
    "assessment", "cp_enquiry", "cin_plan", "cp_plan", "visit", "supervision", "oversight"
]
Mode = Literal["rules", "fast", "full"]
Severity = Literal["high", "medium", "low"]


class Record(BaseModel):
    """One case record to screen. Extra input columns ride along in `extra`."""

    model_config = ConfigDict(extra="forbid")

    id: str
    doc_type: str
    text: str
    extra: dict[str, Any] = Field(default_factory=dict)
    where: str | None = None  # file:line it came from, for error messages


class Evidence(BaseModel):
    """A span of the original text that supports (or, in a trace, blocked) a marker."""

    start: int
    end: int
    text: str
    source: str
    sentence: str | None = None
    reason: str | None = None


class MarkerResult(BaseModel):
    present: bool
    probability: float
    evidence: list[Evidence] = Field(default_factory=list)
    trace: list[Evidence] | None = None


class Flag(BaseModel):
    marker: str
    severity: Severity
    message: str
    evidence: list[Evidence] = Field(default_factory=list)


class ScreenResult(BaseModel):
    id: str
    doc_type: str
    grade: str
    grade_probabilities: dict[str, float]
    markers: dict[str, MarkerResult]
    flags: list[Flag]
    mode: str
    rubric: str
    extra: dict[str, Any] = Field(default_factory=dict)

    def to_output(self, explain: bool = False) -> dict[str, Any]:
        """The JSONL line for this record: the spec's fields plus carried-through columns."""
        out = self.model_dump(exclude={"extra"}, exclude_none=True)
        if not explain:
            for marker in out["markers"].values():
                marker.pop("trace", None)
        for key, value in self.extra.items():
            out.setdefault(key, value)
        return out


class ErrorResult(BaseModel):
    """A record that could not be screened: says which one and why, so nothing is lost silently."""

    id: str | None
    error: str
    where: str | None = None
    doc_type: str | None = None

    def to_output(self, explain: bool = False) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)
