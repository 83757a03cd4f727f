"""Screening for the API: one `Screener` loaded at start-up, its limits, and hints.

The Screener is shared by every request and called from one worker thread only (the
spaCy pipeline and the classifiers are CPU-bound under the GIL, so running two at once
would gain nothing, and one thread keeps us safe from any state they hold); requests
that arrive together are screened together (see `Screening`).
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Literal

from api.errors import field_error, too_large
from api.schemas import DraftIn, EvidenceSpan, Highlight, Hint, HintsOut, MarkerState, ScreenIn
from screener.config.models import Rubric
from screener.pipeline import Screener
from screener.schemas import Evidence, Record, ScreenResult

__all__ = ["Screening", "highlights"]


def _span(ev: Evidence, n: int) -> EvidenceSpan | None:
    start, end = max(0, min(ev.start, n)), max(0, min(ev.end, n))
    if end <= start:
        return None
    return EvidenceSpan(start=start, end=end, text=ev.text, source=ev.source)


def highlights(text_len: int, spans: Sequence[tuple[int, int, str]],
               negative: set[str]) -> list[Highlight]:
    """Non-overlapping stretches of the text, each with every marker whose evidence covers
    it, in order. `spans` are (start, end, marker); overlaps are split at every edge."""
    edges = sorted({0, text_len, *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    out: list[Highlight] = []
    for a, b in zip(edges, edges[1:], strict=False):
        if b <= a:
            continue
        markers = sorted({m for s, e, m in spans if s <= a and b <= e})
        if not markers:
            continue
        kind: Literal["found", "concern"] = (
            "concern" if any(m in negative for m in markers) else "found")
        last = out[-1] if out else None
        if last is not None and last.end == a and last.markers == markers:
            last.end = b
        else:
            out.append(Highlight(start=a, end=b, markers=markers, kind=kind))
    return out


@dataclass
class _Job:
    records: list[Record]
    finish: Callable[[list[ScreenResult]], Any]
    future: Future[Any] = field(default_factory=Future)


class Screening:
    """The loaded Screener with the service's limits, fed by one worker thread.

    Requests queue their records; the worker takes everything waiting (up to
    `max_batch_records`) and screens it in one `screen_batch` call. One client waits no
    longer than before; many clients share the classifiers' per-call cost (in fast mode
    a batch costs less per record than one at a time; on 2 cores, batches of about 8
    served 32 clients with the least CPU per request). If a batch fails, its requests are
    screened again one by one, so only the request at fault fails.
    """

    def __init__(self, screener: Screener, max_record_chars: int, max_batch_size: int,
                 max_batch_records: int = 8):
        self.screener = screener
        self.max_record_chars = max_record_chars
        self.max_batch_size = max_batch_size
        self.max_batch_records = max_batch_records
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._start_lock = threading.Lock()

    @property
    def rubric(self) -> Rubric:
        return self.screener.rubric

    @property
    def mode(self) -> str:
        return self.screener.mode

    # -- the worker -----------------------------------------------------------------------

    def start(self) -> None:
        with self._start_lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, name="screening",
                                                daemon=True)
                self._worker.start()

    def stop(self, timeout: float = 30.0) -> None:
        if self._worker is not None:
            self._jobs.put(None)
            self._worker.join(timeout)
            self._worker = None

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            batch, n, stopping = [job], len(job.records), False
            while n < self.max_batch_records:
                try:
                    nxt = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stopping = True
                    break
                batch.append(nxt)
                n += len(nxt.records)
            # a request whose client has gone is dropped; the rest cannot be cancelled now
            batch = [j for j in batch if j.future.set_running_or_notify_cancel()]
            try:
                if batch:
                    self._process(batch)
            except Exception as e:  # never let the worker die
                for j in batch:
                    if not j.future.done():
                        j.future.set_exception(e)
            if stopping:
                return

    def _process(self, batch: list[_Job]) -> None:
        records = [r for job in batch for r in job.records]
        try:
            results = self.screener.screen_batch(records)
        except Exception as e:
            if len(batch) > 1:  # find the request at fault; the others still get answers
                for job in batch:
                    self._process([job])
            elif not batch[0].future.done():
                batch[0].future.set_exception(e)
            return
        i = 0
        for job in batch:
            part, i = results[i:i + len(job.records)], i + len(job.records)
            try:
                ok = [r for r in part if isinstance(r, ScreenResult)]
                if len(ok) != len(part):  # checked before queueing; the library disagrees
                    bad = next(r for r in part if not isinstance(r, ScreenResult))
                    raise field_error(("body",), getattr(bad, "error", "cannot screen"))
                job.future.set_result(job.finish(ok))
            except Exception as e:
                job.future.set_exception(e)

    async def _screen(self, records: list[Record],
                      finish: Callable[[list[ScreenResult]], Any]) -> Any:
        self.start()
        job = _Job(records, finish)
        self._jobs.put(job)
        return await asyncio.wrap_future(job.future)

    # -- what the routes call -------------------------------------------------------------

    def check(self, item: DraftIn, loc: Sequence[str | int] = ("body",)) -> None:
        """413 for a text over the limit; 422 naming doc_type for a type not in the rubric."""
        if len(item.text) > self.max_record_chars:
            where = ".".join(str(p) for p in (*loc[1:], "text")) or "text"
            raise too_large(f"{where} is {len(item.text):,} characters; the limit is "
                            f"{self.max_record_chars:,} (SCREENER_MAX_RECORD_CHARS)")
        if item.doc_type not in self.rubric.doc_types:
            raise field_error((*loc, "doc_type"),
                              f"unknown doc_type {item.doc_type[:40]!r} (allowed: "
                              f"{', '.join(self.rubric.doc_types)})")

    async def screen_one(self, item: ScreenIn) -> dict[str, Any]:
        """One record -> one line of `screener screen` output."""
        self.check(item)
        rec = Record(id=item.id or "record", doc_type=item.doc_type, text=item.text)
        out: dict[str, Any] = await self._screen([rec], lambda rs: rs[0].to_output())
        return out

    async def screen_batch(self, items: Sequence[ScreenIn]) -> list[dict[str, Any]]:
        if len(items) > self.max_batch_size:
            raise too_large(f"the batch has {len(items)} records; the limit is "
                            f"{self.max_batch_size} (SCREENER_MAX_BATCH_SIZE)")
        for i, item in enumerate(items):
            self.check(item, ("body", "records", i))
        recs = [Record(id=it.id if it.id is not None else str(i), doc_type=it.doc_type,
                       text=it.text) for i, it in enumerate(items)]
        out: list[dict[str, Any]] = await self._screen(
            recs, lambda rs: [r.to_output() for r in rs])
        return out

    async def hints(self, item: DraftIn) -> HintsOut:
        """Flags most important first, with evidence spans and what good looks like, and
        the text's evidence as non-overlapping highlights by marker."""
        self.check(item)
        rec = Record(id="draft", doc_type=item.doc_type, text=item.text)
        out: HintsOut = await self._screen([rec], lambda rs: self._hints(item, rs[0]))
        return out

    def _hints(self, item: DraftIn, result: ScreenResult) -> HintsOut:
        rubric, n = self.rubric, len(item.text)
        negative = {m for m, s in rubric.markers.items() if s.negative}
        markers, spans = [], []
        for m, res in result.markers.items():
            spec = rubric.markers[m]
            evs = [s for s in (_span(e, n) for e in res.evidence) if s is not None]
            markers.append(MarkerState(marker=m, label=spec.label, negative=spec.negative,
                                       present=res.present, probability=res.probability,
                                       evidence=evs))
            if res.present:
                spans += [(e.start, e.end, m) for e in evs]
        flags = []
        for rank, f in enumerate(result.flags, start=1):
            spec = rubric.markers[f.marker]
            flags.append(Hint(
                rank=rank, marker=f.marker, label=spec.label, severity=f.severity,
                kind="concern" if spec.negative else "missing", message=f.message,
                guidance=spec.guidance_for(item.doc_type).replace("{child}", "the child"),
                evidence=[s for s in (_span(e, n) for e in f.evidence) if s is not None]))
        return HintsOut(doc_type=item.doc_type, grade=result.grade,
                        grade_probabilities=result.grade_probabilities,
                        levels=list(rubric.levels), mode=result.mode, rubric=result.rubric,
                        flags=flags, markers=markers,
                        highlights=highlights(n, spans, negative))
