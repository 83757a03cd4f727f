"""What a detector sees (DocContext) and what it returns (MarkerDetection)."""

from __future__ import annotations

from dataclasses import dataclass, field

from screener.config.models import Rubric
from screener.text.context import ContextLayer
from screener.text.names import People
from screener.text.segment import Section, Segmentation


@dataclass(frozen=True)
class Hit:
    """A cue that matched: where, which rule, how sure, and what (if anything) blocked it."""

    marker: str
    source: str  # "rule:<marker>.<cue id>"
    start: int
    end: int
    confidence: float
    sentence: tuple[int, int]
    blocked: str | None = None  # negation, intention, adult_report, remote, placeholder ...


@dataclass
class MarkerDetection:
    marker: str
    hits: list[Hit] = field(default_factory=list)
    blocked: list[Hit] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)

    def add(self, hit: Hit) -> None:
        (self.blocked if hit.blocked else self.hits).append(hit)

    @property
    def probability(self) -> float:
        """Noisy-OR of the unblocked cues' confidences: the rules-mode probability."""
        p_absent = 1.0
        for h in self.hits:
            p_absent *= 1.0 - h.confidence
        p = 1.0 - p_absent
        if not self.hits:
            p = 0.05 if (self.blocked or self.empty_sections) else 0.1
        return min(p, 0.97)

    @property
    def empty_sections(self) -> list[Section]:
        return [s for s in self.sections if s.placeholder]


@dataclass
class DocContext:
    """One record, analysed once and shared by every detector."""

    text: str
    doc_type: str
    seg: Segmentation
    people: People
    context: ContextLayer
    rubric: Rubric
    phrase_hits: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    # Filled marker by marker, so a detector can use markers found before it.
    detections: dict[str, MarkerDetection] = field(default_factory=dict)

    def found_in(self, marker: str, start: int, end: int) -> bool:
        """Whether `marker` has an unblocked hit overlapping [start, end)."""
        det = self.detections.get(marker)
        return det is not None and any(h.start < end and start < h.end for h in det.hits)

    def sentence(self, pos: int, end: int | None = None) -> tuple[int, int]:
        found = self.seg.sentence_at(pos)
        return found if found else (pos, end if end is not None else pos)

    def next_sentence(self, sent: tuple[int, int]) -> tuple[int, int] | None:
        i = self.seg.sentence_index(sent[1])
        return self.seg.sentences[i] if i < len(self.seg.sentences) else None

    def in_sections(self, pos: int, names: list[str]) -> bool:
        return any(set(names) & s.names for s in self.seg.sections_at(pos))

    def in_heading(self, start: int, end: int) -> bool:
        """Whether [start, end) lies inside a heading's own text."""
        return any(s.heading_start <= start and end <= s.heading_end + 1
                   for s in self.seg.sections_at(start))

    def sections_of(self, marker: str) -> list[Section]:
        return [s for s in self.seg.sections if marker in s.names]
