"""`screener import`: case-management exports into the audit database, screened.

Safe to run again and safe to kill:

* A record is known by (source system, its record id), so a re-import updates it instead
  of adding a copy; a record whose text (or type) changed is screened again, and its old
  result is kept beside the new one.
* Rows are written in batches, each batch one transaction with its screening results,
  so a run killed part-way leaves whole batches behind, never a record without its
  result; the next run skips what is already there and finishes the rest.
* Every row ends up counted: inserted, updated, unchanged, skipped (a record type the
  mapping deliberately leaves out) or bad (reported with its line and reason, and kept
  in the run's log in the database, without any record text).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from screener.audit.db import Database
from screener.audit.mapping import (
    MappedRow,
    Mapping,
    RowError,
    Skipped,
    map_row,
    read_rows,
)
from screener.audit.models import CaseFile, CaseRecord, Child, ImportRun, ScreeningResult, utcnow
from screener.audit.store import add_result, insert_for, model_versions, pseudonym, pseudonym_key
from screener.schemas import ErrorResult, Record, ScreenResult

DEFAULT_BATCH = 50


@dataclass
class ImportReport:
    path: str
    source: str
    run_id: int = 0
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    screened: int = 0
    skipped: int = 0
    bad: list[RowError] = field(default_factory=list)
    skipped_types: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, Any]:
        return {"rows": self.rows, "inserted": self.inserted, "updated": self.updated,
                "unchanged": self.unchanged, "screened": self.screened,
                "skipped": self.skipped, "bad": len(self.bad),
                "skipped_types": self.skipped_types}

    def summary(self) -> str:
        skipped = ""
        if self.skipped:
            kinds = ", ".join(f"{k} x{n}" for k, n in sorted(self.skipped_types.items()))
            skipped = f", {self.skipped} skipped by the mapping ({kinds})"
        return (f"{self.path}: {self.rows} row(s): {self.inserted} new, {self.updated} updated, "
                f"{self.unchanged} unchanged{skipped}, {len(self.bad)} bad; "
                f"{self.screened} screened")


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _rows(path: Path, mapping: Mapping,
          doc_types: list[str]) -> Iterator[MappedRow | RowError | Skipped]:
    first_line: dict[str, int] = {}
    for line, raw in read_rows(path, mapping):
        if isinstance(raw, RowError):
            yield raw
            continue
        row = map_row(raw, line, mapping, doc_types)
        if isinstance(row, MappedRow):
            seen = first_line.setdefault(row.source_id, line)
            if seen != line:
                yield RowError(line, f"duplicate record id {row.source_id!r} (first at line "
                               f"{seen}); this row was not imported", row.source_id)
                continue
        yield row


class Importer:
    """Imports one export file with one mapping, screening what is new or changed."""

    def __init__(self, db: Database, screener: Any, mapping: Mapping,
                 batch_size: int = DEFAULT_BATCH):
        self.db, self.screener, self.mapping = db, screener, mapping
        self.batch_size = max(1, batch_size)
        self.versions = model_versions(screener)

    def run(self, path: str | Path, progress: bool = False,
            on_error: Callable[[RowError], None] | None = None) -> ImportReport:
        from tqdm import tqdm

        p = Path(path)
        doc_types = list(self.screener.rubric.doc_types)
        report = ImportReport(path=str(p), source=self.mapping.source)
        total = sum(1 for _ in read_rows(p, self.mapping))  # also checks the header first
        with self.db.session() as s:
            run = ImportRun(path=str(p), file_sha256=file_sha256(p), source=self.mapping.source,
                            status="running", counts={}, errors=[], started_at=utcnow())
            s.add(run)
            s.flush()
            report.run_id = run.id
        bar = tqdm(total=total, desc="importing", unit="row", disable=not progress or None,
                   leave=False)
        batch: list[MappedRow] = []
        try:
            for item in _rows(p, self.mapping, doc_types):
                report.rows += 1
                if isinstance(item, RowError):
                    report.bad.append(item)
                    if on_error:
                        on_error(item)
                    bar.update(1)
                elif isinstance(item, Skipped):
                    report.skipped += 1
                    report.skipped_types[item.doc_type] = \
                        report.skipped_types.get(item.doc_type, 0) + 1
                    bar.update(1)
                else:
                    batch.append(item)
                    if len(batch) >= self.batch_size:
                        self._batch(batch, report, on_error)
                        bar.update(len(batch))
                        batch = []
            if batch:
                self._batch(batch, report, on_error)
                bar.update(len(batch))
        finally:
            bar.close()
        with self.db.session() as s:
            s.execute(update(ImportRun).where(ImportRun.id == report.run_id).values(
                status="done", counts=report.counts(), finished_at=utcnow(),
                errors=[{"line": e.line, "reason": e.reason, "record_id": e.source_id}
                        for e in report.bad]))
        return report

    def _existing(self, rows: list[MappedRow]) -> dict[str, tuple[CaseRecord, str | None]]:
        """Records already stored for these rows, with the content hash of their latest
        result (None when a record has no result)."""
        ids = [r.source_id for r in rows]
        with self.db.session() as s:
            found = s.execute(
                select(CaseRecord, ScreeningResult.content_hash)
                .outerjoin(ScreeningResult, (ScreeningResult.record_id == CaseRecord.id)
                           & ScreeningResult.is_latest)
                .where(CaseRecord.source == self.mapping.source, CaseRecord.source_id.in_(ids))
            ).all()
            for rec, _ in found:
                s.expunge(rec)
        return {rec.source_id: (rec, h) for rec, h in found}

    def _batch(self, rows: list[MappedRow], report: ImportReport,
               on_error: Callable[[RowError], None] | None) -> None:
        existing = self._existing(rows)
        to_screen = [r for r in rows if r.source_id not in existing
                     or existing[r.source_id][1] != r.content_hash]
        # Screen outside the transaction: the database is locked only while writing.
        screened: dict[str, ScreenResult] = {}
        if to_screen:
            results = self.screener.screen_batch(
                [Record(id=r.source_id, doc_type=r.doc_type, text=r.text) for r in to_screen])
            for r, res in zip(to_screen, results, strict=True):
                if isinstance(res, ErrorResult):
                    err = RowError(r.line, f"cannot be screened: {res.error}", r.source_id)
                    report.bad.append(err)
                    if on_error:
                        on_error(err)
                else:
                    screened[r.source_id] = res
        failed = {r.source_id for r in to_screen} - set(screened)
        rows = [r for r in rows if r.source_id not in failed]
        with self.db.session() as s:
            if s.get_bind().dialect.name == "postgresql":  # one importer per source at a time
                s.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
                          {"k": f"import:{self.mapping.source}"})
            file_ids = self._files(s, rows)
            now = utcnow()
            for r in rows:
                values = dict(file_id=file_ids[r.case_file], doc_type=r.doc_type,
                              record_date=r.record_date, worker=r.worker, team=r.team,
                              service=r.service, text=r.text, content_hash=r.content_hash)
                old = existing.get(r.source_id)
                if old is None:
                    stmt = insert_for(s, CaseRecord).values(
                        source=self.mapping.source, source_id=r.source_id, imported_at=now,
                        updated_at=now, **values)
                    stmt = stmt.on_conflict_do_update(
                        index_elements=["source", "source_id"],
                        set_={**values, "updated_at": now}).returning(CaseRecord.id)
                    record_id = s.scalar(stmt)
                    report.inserted += 1
                else:
                    rec = old[0]
                    record_id = rec.id
                    if any(getattr(rec, k) != v for k, v in values.items()):
                        s.execute(update(CaseRecord).where(CaseRecord.id == rec.id)
                                  .values(**values, updated_at=now))
                        report.updated += 1
                    else:
                        report.unchanged += 1
                if r.source_id in screened:
                    assert record_id is not None
                    add_result(s, record_id, r.content_hash, screened[r.source_id],
                               self.versions)
                    report.screened += 1

    def _files(self, s: Session, rows: list[MappedRow]) -> dict[str, int]:
        """Case file ids for these rows, creating children and files as needed."""
        key = pseudonym_key(s)
        src = self.mapping.source
        child_of: dict[str, str] = {}
        for r in rows:
            child_of.setdefault(r.case_file, pseudonym(key, "C", src, r.child_id))
        children = set(child_of.values())
        now = utcnow()
        for pc in sorted(children):
            s.execute(insert_for(s, Child).values(pseudonym=pc, created_at=now)
                      .on_conflict_do_nothing(index_elements=["pseudonym"]))
        child_ids = dict(s.execute(select(Child.pseudonym, Child.id)
                                   .where(Child.pseudonym.in_(children))).all())
        file_p = {cf: pseudonym(key, "F", src, cf) for cf in child_of}
        for cf in sorted(child_of):
            s.execute(insert_for(s, CaseFile).values(
                pseudonym=file_p[cf], child_id=child_ids[child_of[cf]], created_at=now)
                .on_conflict_do_nothing(index_elements=["pseudonym"]))
        ids = dict(s.execute(select(CaseFile.pseudonym, CaseFile.id)
                             .where(CaseFile.pseudonym.in_(file_p.values()))).all())
        return {cf: ids[p] for cf, p in file_p.items()}


def import_file(db: Database, path: str | Path, mapping: Mapping, screener: Any,
                batch_size: int = DEFAULT_BATCH, progress: bool = False,
                on_error: Callable[[RowError], None] | None = None) -> ImportReport:
    """Import (and screen) one export file; see the module docstring for the guarantees."""
    return Importer(db, screener, mapping, batch_size).run(path, progress, on_error)


def rescreen(db: Database, screener: Any, everything: bool = False,
             batch_size: int = DEFAULT_BATCH, progress: bool = False) -> int:
    """Screen again the records whose latest result came from other models, rubric or
    mode than `screener` (all records with `everything`). Old results are kept."""
    from tqdm import tqdm

    versions = model_versions(screener)
    with db.session() as s:
        rows = s.execute(
            select(CaseRecord.id, ScreeningResult.mode, ScreeningResult.rubric,
                   ScreeningResult.model_versions, ScreeningResult.content_hash,
                   CaseRecord.content_hash)
            .outerjoin(ScreeningResult, (ScreeningResult.record_id == CaseRecord.id)
                       & ScreeningResult.is_latest)
            .order_by(CaseRecord.id)).all()
    todo = [rid for rid, mode, rubric, mv, rh, ch in rows
            if everything or mode != screener.mode or rubric != screener.rubric.label
            or (mv or {}) != versions or rh != ch]
    done = 0
    bar = tqdm(total=len(todo), desc="screening", unit="rec", disable=not progress or None,
               leave=False)
    for i in range(0, len(todo), batch_size):
        ids = todo[i:i + batch_size]
        with db.session() as s:
            recs = list(s.scalars(select(CaseRecord).where(CaseRecord.id.in_(ids))
                                  .order_by(CaseRecord.id)))
        results = screener.screen_batch([Record(id=r.key, doc_type=r.doc_type, text=r.text)
                                         for r in recs])
        with db.session() as s:
            for rec, res in zip(recs, results, strict=True):
                if isinstance(res, ScreenResult):
                    add_result(s, rec.id, rec.content_hash, res, versions)
                    done += 1
        bar.update(len(ids))
    bar.close()
    return done
