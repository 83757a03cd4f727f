"""Config -> spaCy pipeline + scorer -> ScreenResult.

`Screener` is the one object every caller uses (CLI, API, audit workflow, reports): it
loads the rubric and models once, and turns records into graded results with evidence
and flags. How marker probabilities are made is the scorer's business: rules alone, or
rules stacked with trained classifiers (screener.classifiers).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Protocol, TypeVar

from spacy.tokens import Doc

from screener.config.loader import DEFAULT, load_rubric
from screener.config.models import Rubric
from screener.rubric.grading import grade, grade_probabilities
from screener.rubric.guidance import flags_for
from screener.rules.base import Hit, MarkerDetection
from screener.rules.components import analyse, build_nlp
from screener.rules.weights import RuleWeights, load_rule_weights
from screener.schemas import ErrorResult, Evidence, MarkerResult, Record, ScreenResult
from screener.text.names import first_child_in_order

log = logging.getLogger(__name__)

MAX_EVIDENCE = 5
MODES = ("rules", "fast", "full")


class InvalidRecord(ValueError):
    """A record that cannot be screened (unknown type, empty text ...)."""


class MarkerScore:
    """A marker's probability and any evidence a model adds beyond the rule hits."""

    __slots__ = ("probability", "evidence")

    def __init__(self, probability: float, evidence: list[Evidence] | None = None):
        self.probability = probability
        self.evidence = evidence or []


class Scorer(Protocol):
    mode: str

    def score(self, docs: list[Doc]) -> list[dict[str, MarkerScore]]: ...


class RulesScorer:
    """Rules mode: each marker's probability is the noisy-OR of its unblocked cues."""

    mode = "rules"

    def score(self, docs: list[Doc]) -> list[dict[str, MarkerScore]]:
        return [{m: MarkerScore(det.probability) for m, det in doc._.detections.items()}
                for doc in docs]


def _evidence(text: str, hit: Hit) -> Evidence:
    s, e = hit.sentence
    start, end = hit.start, hit.end
    while start < end and text[start].isspace():  # patterns anchored on a line break
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    # model_construct: these values are built here, not user input, so skip validation
    return Evidence.model_construct(start=start, end=end, text=text[start:end],
                                    source=hit.source, sentence=text[s:e] if e > s else None,
                                    reason=hit.blocked)


def default_mode() -> str:
    """The most accurate mode whose trained artefacts are available here."""
    from screener.classifiers.artefacts import available_modes

    modes = available_modes()
    for mode in ("full", "fast"):
        if mode in modes:
            return mode
    return "rules"


class Screener:
    """Screens records against a rubric. Load once, call many times."""

    def __init__(self, rubric: str | Path | None = None, mode: str | None = None,
                 models_dir: str | Path | None = None, bounded_memory: bool = False):
        """bounded_memory: forget the strings spaCy meets in each batch once it is
        screened. spaCy otherwise keeps every new token string for good, so a long-lived
        screener fed varied text (a server) grows without bound; forgetting costs about a
        quarter of the throughput, so batch runs keep them."""
        self.bounded_memory = bounded_memory
        self.rubric_path = DEFAULT if rubric in (None, DEFAULT) else str(Path(str(rubric)))
        self.rubric: Rubric = load_rubric(self.rubric_path)
        self.nlp = build_nlp(self.rubric_path if rubric not in (None, DEFAULT)
                             else DEFAULT)
        self.models_dir = models_dir
        self.mode = mode or default_mode()
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r} (allowed: {', '.join(MODES)})")
        # Rules auditors keep rejecting count for less (`screener train --with-reviews`).
        self.rule_weights: RuleWeights = load_rule_weights(models_dir)
        self.scorer: Scorer = RulesScorer()
        if self.mode != "rules":
            from screener.classifiers.stack import load_scorer

            self.scorer = load_scorer(self.mode, self.rubric, models_dir)

    def check(self, record: Record) -> None:
        if record.doc_type not in self.rubric.doc_types:
            raise InvalidRecord(f"unknown doc_type {record.doc_type!r} (allowed: "
                                f"{', '.join(self.rubric.doc_types)})")
        if not isinstance(record.text, str) or not record.text.strip():
            raise InvalidRecord("empty text")
        if len(record.text) > self.nlp.max_length:
            raise InvalidRecord(f"text too long ({len(record.text):,} characters; the limit is "
                                f"{self.nlp.max_length:,})")
        try:  # a lone surrogate ("\ud83d" in JSON) crashes the tokenizer and RE2
            record.text.encode("utf-8")
        except UnicodeEncodeError as e:
            raise InvalidRecord(f"text is not valid Unicode (lone surrogate at character "
                                f"{e.start})") from None

    def docs(self, records: list[Record]) -> list[Doc]:
        docs = [analyse(self.nlp, r.text, r.doc_type) for r in records]
        for doc in docs:
            self.rule_weights.apply(doc._.detections)
        return docs

    def _result(self, record: Record, doc: Doc, scores: dict[str, MarkerScore]) -> ScreenResult:
        detections: dict[str, MarkerDetection] = doc._.detections
        text = record.text
        markers: dict[str, MarkerResult] = {}
        for marker, det in detections.items():
            score = scores[marker]
            present = score.probability >= 0.5
            evidence: list[Evidence] = []
            if present:
                seen: set[tuple[int, int]] = set()
                for hit in sorted(det.hits, key=lambda h: -h.confidence):
                    if (hit.start, hit.end) not in seen and hit.end > hit.start:
                        seen.add((hit.start, hit.end))
                        evidence.append(_evidence(text, hit))
                evidence = evidence[:MAX_EVIDENCE]
                evidence += score.evidence[: max(0, MAX_EVIDENCE - len(evidence))]
            trace = [_evidence(text, h) for h in det.blocked if h.end > h.start][:MAX_EVIDENCE]
            markers[marker] = MarkerResult.model_construct(
                present=present, probability=round(score.probability, 4), evidence=evidence,
                trace=trace)
        present_set = {m for m, r in markers.items() if r.present}
        probs = {m: r.probability for m, r in markers.items()}
        child = first_child_in_order(text, doc._.context.people)
        return ScreenResult(
            id=record.id, doc_type=record.doc_type,
            grade=grade(present_set, record.doc_type, self.rubric),
            grade_probabilities=grade_probabilities(probs, record.doc_type, self.rubric),
            markers={self.rubric.output_id(m): r for m, r in markers.items()},
            flags=flags_for(record.doc_type, markers, self.rubric, child),
            mode=self.mode, rubric=self.rubric.label, extra=record.extra,
        )

    def screen_batch(self, records: list[Record]) -> list[ScreenResult | ErrorResult]:
        """Screen a batch; a record that fails becomes an ErrorResult, the rest go on."""
        ok: list[Record] = []
        out: list[ScreenResult | ErrorResult | None] = []
        for r in records:
            try:
                self.check(r)
                ok.append(r)
                out.append(None)
            except InvalidRecord as e:
                out.append(ErrorResult(id=r.id, error=str(e), doc_type=r.doc_type, where=r.where))
        # Nothing made inside a memory zone (Docs, Spans) may outlive it; results hold str.
        with self.nlp.memory_zone() if self.bounded_memory else nullcontext():
            docs = self.docs(ok)
            scores = self.scorer.score(docs)
            done = [self._result(r, d, s) for r, d, s in zip(ok, docs, scores, strict=True)]
        results = iter(done)
        return [o if o is not None else next(results) for o in out]

    def screen(self, records: Iterable[Record | ErrorResult], batch_size: int = 64,
               workers: int = 1) -> Iterator[ScreenResult | ErrorResult]:
        """Screen a stream of records (read errors pass straight through), in input order.

        workers > 1 screens batches in that many processes, each with its own Screener
        (loaded once per process): screening is CPU-bound Python, so one process uses one
        core. Worth it for thousands of records, not for a handful (each worker takes a few
        seconds to load)."""
        batches = batched(records, batch_size)
        if workers <= 1:
            for batch in batches:
                yield from self._flush(batch)
            return
        import multiprocessing as mp
        from collections import deque
        from concurrent.futures import Future, ProcessPoolExecutor

        # spawn, not fork: a forked copy of a loaded torch/OpenMP runtime can hang.
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"),
                                 initializer=_start_worker,
                                 initargs=(self.rubric_path, self.mode, self.models_dir,
                                           workers)) as pool:
            pending: deque[Future[list[ScreenResult | ErrorResult]]] = deque()
            for batch in batches:
                pending.append(pool.submit(_screen_in_worker, batch))
                if len(pending) >= 2 * workers:  # bounded: a huge input is never all queued
                    yield from pending.popleft().result()
            while pending:
                yield from pending.popleft().result()

    def _flush(self, batch: list[Record | ErrorResult]) -> list[ScreenResult | ErrorResult]:
        recs = [b for b in batch if isinstance(b, Record)]
        done = iter(self.screen_batch(recs))
        return [b if isinstance(b, ErrorResult) else next(done) for b in batch]

    def screen_one(self, doc_type: str, text: str, id: str = "record") -> ScreenResult:
        """Screen one record; raises InvalidRecord when it cannot be screened."""
        record = Record(id=id, doc_type=doc_type, text=text)
        self.check(record)
        result = self.screen_batch([record])[0]
        assert isinstance(result, ScreenResult)
        return result


T = TypeVar("T")


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of `size` items in order, the last one shorter (itertools.batched is 3.12+)."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


_WORKER: Screener | None = None


def _start_worker(rubric: str, mode: str, models_dir: str | Path | None, workers: int) -> None:
    """Load this worker process's Screener, with its share of the cores for torch."""
    global _WORKER
    _WORKER = Screener(rubric=rubric, mode=mode, models_dir=models_dir)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(max(1, (os.cpu_count() or 1) // workers))


def _screen_in_worker(batch: list[Record | ErrorResult]) -> list[ScreenResult | ErrorResult]:
    assert _WORKER is not None, "worker not started"
    return _WORKER._flush(batch)


def screen(text: str, doc_type: str, rubric: str | Path | None = None,
           mode: str | None = None) -> ScreenResult:
    """One-off convenience: screen a single text (loads a Screener each call)."""
    return Screener(rubric=rubric, mode=mode).screen_one(doc_type, text)
