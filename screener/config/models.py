"""Pydantic models of the rubric: markers, the cues that find them, grading rules.

Every model forbids unknown keys, so a typo in an authority's file is an error that
names the key instead of a rule that silently does nothing.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

ContextCheck = Literal["negation", "intention", "adult_report", "remote"]
CONTEXT_CHECKS: tuple[str, ...] = ("negation", "intention", "adult_report", "remote")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class CueSpec(_Strict):
    """One pattern rule for a marker, with the context checks that can block it."""

    id: str
    regex: str | None = None
    phrases: list[str] = Field(default_factory=list)
    section_body: bool = False
    min_words: int = Field(default=0, ge=0)
    subject: Literal["child", "adult"] | None = None
    needs_reason: bool = False
    requires_nearby: str | None = None
    in_sections: list[str] = Field(default_factory=list)
    unless: str | None = None
    not_followed_by: str | None = None
    not_with: list[str] = Field(default_factory=list)
    blocked_by: list[ContextCheck] = Field(default_factory=list)
    confidence: float = Field(default=0.7, ge=0.0, le=1.0)

    _pattern: re.Pattern[str] | None = PrivateAttr(default=None)
    _unless: re.Pattern[str] | None = PrivateAttr(default=None)
    _not_followed_by: re.Pattern[str] | None = PrivateAttr(default=None)
    _requires_nearby: re.Pattern[str] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _one_kind(self) -> CueSpec:
        kinds = [self.regex is not None, bool(self.phrases), self.section_body]
        if sum(kinds) != 1:
            raise ValueError("a cue needs exactly one of: regex, phrases, section_body")
        if self.subject and (self.regex is None or "(?P<subj>" not in self.regex):
            raise ValueError("subject needs a regex with a (?P<subj>...) group")
        return self

    @property
    def pattern(self) -> re.Pattern[str] | None:
        return self._pattern

    @property
    def unless_pattern(self) -> re.Pattern[str] | None:
        return self._unless

    @property
    def not_followed_by_pattern(self) -> re.Pattern[str] | None:
        return self._not_followed_by

    @property
    def requires_nearby_pattern(self) -> re.Pattern[str] | None:
        return self._requires_nearby


class MarkerSpec(_Strict):
    """A quality marker: where it applies, how it is found, what good looks like."""

    label: str
    types: list[str]
    description: str = ""
    negative: bool = False
    enabled: bool = True
    headings: list[str] = Field(default_factory=list)
    detector: str = "cues.v1"
    params: dict[str, Any] = Field(default_factory=dict)
    cues: list[CueSpec] = Field(default_factory=list)
    guidance: dict[str, str] = Field(default_factory=dict)
    # The ID users see, when an authority renamed the marker; rules, cues and trained
    # models keep using the spec's ID (the key of Rubric.markers).
    output_id: str | None = None

    _headings: list[re.Pattern[str]] = PrivateAttr(default_factory=list)

    def guidance_for(self, doc_type: str) -> str:
        return self.guidance.get(doc_type) or self.guidance.get("default") or self.label


class AtLeast(_Strict):
    n: int = Field(ge=1)
    of: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _reachable(self) -> AtLeast:
        if self.n > len(self.of):
            raise ValueError(f"n={self.n} is more than the {len(self.of)} markers listed in 'of'")
        return self


class Condition(_Strict):
    """When a grade level holds: all of these, at least n of those, none of these."""

    all_of: list[str] = Field(default_factory=list, alias="all")
    at_least: list[AtLeast] = Field(default_factory=list)
    none_of: list[str] = Field(default_factory=list, alias="none")

    def holds(self, present: set[str]) -> bool:
        if any(m not in present for m in self.all_of):
            return False
        if any(m in present for m in self.none_of):
            return False
        return all(sum(m in present for m in rule.of) >= rule.n for rule in self.at_least)

    def markers(self) -> set[str]:
        names = set(self.all_of) | set(self.none_of)
        for rule in self.at_least:
            names |= set(rule.of)
        return names


class DocTypeSpec(_Strict):
    label: str
    rules: dict[str, Condition] = Field(default_factory=dict)
    weight: float = Field(default=1.0, ge=0.0)
    markers: list[str] = Field(default_factory=list)


class ContextSpec(_Strict):
    macros: dict[str, str] = Field(default_factory=dict)
    negation_pre: list[str] = Field(default_factory=list)
    negation_post: list[str] = Field(default_factory=list)
    clause_breaks: list[str] = Field(default_factory=list)
    intention: list[str] = Field(default_factory=list)
    adult_report: list[str] = Field(default_factory=list)
    remote_contact: list[str] = Field(default_factory=list)
    placeholder: str = r"^\s*$"
    reasoning: str = r"\bbecause\b"


class Rubric(_Strict):
    """The rubric in force: default plus any authority overrides, validated and compiled."""

    name: str
    version: str
    levels: list[str] = Field(min_length=2)
    doc_types: dict[str, DocTypeSpec]
    markers: dict[str, MarkerSpec]
    context: ContextSpec
    sources: list[str] = Field(default_factory=list)
    marker_sources: dict[str, str] = Field(default_factory=dict)

    # Grade of every marker combination per record type (screener.rubric.grading).
    _grade_tables: dict[str, Any] = PrivateAttr(default_factory=dict)

    def markers_for(self, doc_type: str) -> list[str]:
        return self.doc_types[doc_type].markers

    def output_id(self, marker: str) -> str:
        """The ID shown to users for a marker (its authority's name for it)."""
        return self.markers[marker].output_id or marker

    def internal_id(self, name: str) -> str:
        """The marker an ID refers to, whether the spec's ID or an authority's new name."""
        for mid, spec in self.markers.items():
            if spec.output_id == name:
                return mid
        return name

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"
