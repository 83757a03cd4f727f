"""The spaCy components: record structure, then cue detection.

`screener_structure` finds sentences, headed sections and the people a record names,
and sets spaCy sentence boundaries so classifiers and displaCy see the same sentences.
`screener_cues` runs every marker's detector for the record's type and leaves the
result on `doc._.detections` (exact character offsets) and, token-aligned, in
`doc.spans["screener"]`. The rubric is named in the component config, so a saved
pipeline knows which rules it ran.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import numpy as np
import spacy
from spacy.attrs import IDX, LENGTH, SENT_START
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, SpanGroup

from screener.config.loader import load_rubric
from screener.config.models import MarkerSpec, Rubric
from screener.rules.base import DocContext, MarkerDetection
from screener.rules.registry import detector_kinds
from screener.text.context import ContextLayer
from screener.text.names import find_people
from screener.text.segment import segment

for _name in ("doc_type", "context", "detections"):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=None)

SPAN_KEY = "screener"
TEXT_KEY = "screener_text"


@lru_cache(maxsize=16)
def _context_layer(rubric_key: str) -> tuple[Rubric, ContextLayer]:
    rubric = load_rubric(None if rubric_key == "default" else rubric_key)
    return rubric, ContextLayer(rubric.context)


def _depends_on(spec: MarkerSpec) -> set[str]:
    deps = {m for cue in spec.cues for m in cue.not_with}
    if spec.detector == "action_rows.v1":
        deps |= set(spec.params.get("skip_rows_with", ["vague_goal"])) | {"outcomes"}
    return deps


def _dependency_order(rubric: Rubric, doc_type: str) -> list[str]:
    """Markers of a type, each after the markers its cues refer to (vague_goal first)."""
    todo = list(rubric.markers_for(doc_type))
    done: list[str] = []
    while todo:
        for m in todo:
            if all(d in done or d not in todo for d in _depends_on(rubric.markers[m])):
                done.append(m)
                todo.remove(m)
                break
        else:
            raise ValueError(f"markers of {doc_type} refer to each other in a loop: {todo}")
    return done


_PAST_TAIL = re.compile(r"^(?:from|since|of|at)?\s*(?:the\s+)?(?:last|previous|prior)\b|^from\b")


def _heads(alias: Any, heading: str) -> bool:
    """Whether a heading alias names this heading: the alias starts it, and what follows
    does not turn it into a heading about the past ("Actions" names "Actions agreed" and
    "Actions for Kai", not "Actions from last supervision")."""
    m = alias.match(heading)
    if not m:
        return False
    return not _PAST_TAIL.search(heading[m.end():].strip())


class Structure:
    def __init__(self, rubric: str):
        self.rubric, self.layer = _context_layer(rubric)
        self._heading_cache: dict[str, frozenset[str]] = {}

    def heading_names(self, heading: str) -> frozenset[str]:
        """Marker IDs whose heading aliases match the start of this heading."""
        if heading not in self._heading_cache:
            names = {m for m, spec in self.rubric.markers.items()
                     if any(_heads(p, heading) for p in spec._headings)}
            self._heading_cache[heading] = frozenset(names)
        return self._heading_cache[heading]

    def __call__(self, doc: Doc) -> Doc:
        # doc.text is rebuilt from the tokens on every access: read it once (analyse()
        # passes the original string so even that is not needed).
        text = doc.user_data.get(TEXT_KEY) or doc.text
        seg = segment(text, self.heading_names, self.layer.is_placeholder)
        if len(doc):
            # One array write (setting token.is_sent_start one by one is quadratic).
            idx_len = doc.to_array([IDX, LENGTH]).astype(np.int64)
            ends = idx_len[:, 0] + idx_len[:, 1]
            starts = np.array([s for s, _ in seg.sentences], dtype=np.int64)
            flags = np.full(len(doc), -1, dtype=np.int64)
            first = np.unique(np.searchsorted(ends, starts, side="right"))
            flags[first[first < len(doc)]] = 1
            flags[0] = 1
            doc.from_array([SENT_START], flags.astype(np.uint64).reshape(-1, 1))  # type: ignore[arg-type]
        doc._.context = DocContext(
            text=text, doc_type=doc._.doc_type or "", seg=seg, people=find_people(text),
            context=self.layer, rubric=self.rubric,
        )
        return doc


class Cues:
    def __init__(self, nlp: Language, rubric: str):
        self.rubric, _ = _context_layer(rubric)
        self.kinds = detector_kinds()
        self.order = {dt: _dependency_order(self.rubric, dt) for dt in self.rubric.doc_types}
        self.phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
        for marker, spec in self.rubric.markers.items():
            for cue in spec.cues:
                if cue.phrases:
                    self.phrases.add(f"{marker}/{cue.id}", [nlp.make_doc(p) for p in cue.phrases])

    def __call__(self, doc: Doc) -> Doc:
        ctx: DocContext = doc._.context
        if ctx is None or doc._.doc_type not in self.rubric.doc_types:
            raise ValueError("screener_cues needs doc._.doc_type set to a known record type "
                             "and screener_structure before it")
        if len(self.phrases):
            for match_id, start, end in self.phrases(doc):
                span = doc[start:end]
                key = doc.vocab.strings[match_id]
                ctx.phrase_hits.setdefault(key, []).append((span.start_char, span.end_char))
        detections: dict[str, MarkerDetection] = ctx.detections
        for marker in self.order[doc._.doc_type]:
            spec = self.rubric.markers[marker]
            detections[marker] = self.kinds[spec.detector].detect(ctx, marker, spec)
        doc._.detections = {m: detections[m] for m in self.rubric.markers_for(doc._.doc_type)}
        group = SpanGroup(doc, name=SPAN_KEY)
        for det in detections.values():
            for hit in det.hits:
                aligned = doc.char_span(hit.start, hit.end, label=det.marker,
                                        alignment_mode="expand")
                if aligned is not None:
                    group.append(aligned)
        doc.spans[SPAN_KEY] = group
        return doc


@Language.factory("screener_structure", default_config={"rubric": "default"})
def make_structure(nlp: Language, name: str, rubric: str) -> Structure:
    return Structure(rubric)


@Language.factory("screener_cues", default_config={"rubric": "default"})
def make_cues(nlp: Language, name: str, rubric: str) -> Cues:
    return Cues(nlp, rubric)


_LONG_RUN = 256
_LONG_RUN_RE = re.compile(rf"\S{{{_LONG_RUN},}}")


class _BoundedTokenizer:
    """spaCy's tokenizer, except that a run of 256 or more non-space characters is
    tokenized in pieces of that length.

    spaCy strips a token's prefixes and suffixes one character at a time, searching and
    copying the rest of the token at each step: quadratic in the token's length (4,000
    "<" or "%" took 3 s; a 1 MB line of them, hours). Text without such a run is
    tokenized exactly as before, and the Doc's text is always the input.
    """

    def __init__(self, tokenizer: Any):
        self.tokenizer = tokenizer

    def __call__(self, text: str) -> Doc:
        if not _LONG_RUN_RE.search(text):
            return self.tokenizer(text)
        docs, pos = [], 0
        for m in _LONG_RUN_RE.finditer(text):
            if m.start() > pos:
                docs.append(self.tokenizer(text[pos:m.start()]))
            for i in range(m.start(), m.end(), _LONG_RUN):
                docs.append(self.tokenizer(text[i:min(i + _LONG_RUN, m.end())]))
            pos = m.end()
        if pos < len(text):
            docs.append(self.tokenizer(text[pos:]))
        return Doc.from_docs(docs, ensure_whitespace=False)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.tokenizer, name)


def build_nlp(rubric: str = "default") -> Language:
    """A blank English pipeline with the screener's components.

    The trained parser is not used: at ~7k words/s it would cap rules mode far below
    its 150 records/s goal, and the cues need only the tokenizer and the context layer.
    """
    nlp = spacy.blank("en")
    nlp.tokenizer = _BoundedTokenizer(nlp.tokenizer)
    nlp.add_pipe("screener_structure", config={"rubric": rubric})
    nlp.add_pipe("screener_cues", config={"rubric": rubric})
    return nlp


def analyse(nlp: Language, text: str, doc_type: str) -> Doc:
    """Run the pipeline on one record of a given type."""
    doc = nlp.make_doc(text)
    doc.user_data[TEXT_KEY] = text
    doc._.doc_type = doc_type
    for _, proc in nlp.pipeline:
        doc = proc(doc)
    return doc
