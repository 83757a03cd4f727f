"""What feeds a report: files of records (screened on the fly), `screener screen` results,
or the audit database.

Every source yields items the engine turns into tidy rows: a `Record` to screen, a
`ScreenResult` already made (its `extra` carrying team, service, worker, date and any
auditor and moderator grades), or an `ErrorResult` for an input problem.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from screener.io import InputError, read_records
from screener.reports.table import is_result_line, result_from_output
from screener.schemas import ErrorResult, Record, ScreenResult

__all__ = ["Item", "input_files", "iter_db", "iter_file", "iter_rows", "row_item"]

Item = Record | ScreenResult | ErrorResult
PARTITION_SUFFIXES = (".jsonl", ".ndjson", ".json", ".parquet", ".csv")


def input_files(path: str | Path) -> list[Path]:
    """One file, or the files of a partitioned dataset folder (sorted by name)."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file or folder")
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.is_file()
                       and f.suffix.lower() in PARTITION_SUFFIXES and not f.name.startswith("."))
        if not files:
            raise InputError(f"{p}: no {', '.join(PARTITION_SUFFIXES)} files in this folder")
        kinds = {f.suffix.lower() == ".parquet" for f in files}
        if len(kinds) > 1:
            raise InputError(f"{p}: mixes Parquet and text partitions; use one kind")
        return files
    return [p]


def _clean(value: Any) -> Any:
    """JSON-ish value from a pandas cell (NaN -> None, numpy scalars -> Python)."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        with contextlib.suppress(ValueError, AttributeError):
            value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "isoformat") and not isinstance(value, str):
        return value.isoformat()
    return value


def row_item(obj: dict[str, Any], where: str) -> Item:
    """A record to screen, or a result already made, from one row of a table."""
    obj = {k: _clean(v) for k, v in obj.items()}
    if is_result_line(obj):
        try:
            return result_from_output(obj)
        except ValueError as e:
            return ErrorResult(id=str(obj.get("id")), error=f"bad result line: {e}",
                               where=where)
    missing = [k for k in ("id", "doc_type", "text") if obj.get(k) in (None, "")]
    rid = obj.get("id")
    rid = None if rid in (None, "") else str(rid)
    if missing:
        return ErrorResult(id=rid, error=f"missing {', '.join(missing)}", where=where,
                           doc_type=obj.get("doc_type"))
    if not isinstance(obj["text"], str):
        return ErrorResult(id=rid, error="text must be a string", where=where)
    extra = {k: v for k, v in obj.items() if k not in ("id", "doc_type", "text")}
    return Record(id=str(rid), doc_type=str(obj["doc_type"]).strip(), text=obj["text"],
                  extra=extra)


def iter_rows(rows: Any, where: str) -> Iterator[Item]:
    """Items from a pandas DataFrame of records or results (a Dask partition)."""
    for n, obj in enumerate(rows.to_dict(orient="records"), 1):
        yield row_item(obj, f"{where}#{n}")


def _first_object(path: Path) -> dict[str, Any] | None:
    with path.open("rb") as fh:
        for raw in fh:
            line = raw.decode("utf-8", "replace").lstrip("\ufeff").strip()
            if line:
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError:
                    return None
                return obj if isinstance(obj, dict) else None
    return None


def iter_file(path: Path) -> Iterator[Item]:
    """Items from one file: records (JSONL/CSV, read like `screener screen` reads them),
    results JSONL from `screener screen`, or a Parquet table of either."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pandas as pd

        yield from iter_rows(pd.read_parquet(path), str(path))
        return
    if suffix in (".jsonl", ".ndjson", ".json"):
        first = _first_object(path)
        if first is not None and is_result_line(first):
            with path.open(encoding="utf-8-sig") as fh:
                for n, line in enumerate(fh, 1):
                    if not line.strip():
                        continue
                    try:
                        obj = json.loads(line)
                    except json.JSONDecodeError as e:
                        yield ErrorResult(id=None, error=f"malformed JSON ({e.msg})",
                                          where=f"{path}:{n}")
                        continue
                    if "error" in obj and "grade" not in obj:
                        yield ErrorResult(id=obj.get("id"), error=str(obj["error"]),
                                          where=f"{path}:{n}")
                        continue
                    yield row_item(obj, f"{path}:{n}")
            return
    yield from read_records(path)


def iter_db(url: str | None = None) -> Iterator[ScreenResult]:
    """The latest screening result of every record in the audit database, with the
    record's team, service, worker and date, the latest completed review's grade
    (auditor) and the latest moderation's grade (moderator) in `extra`.

    Record ids are the database's stable record keys (source:source id); they are
    pseudonymised like any other id before anything is written.
    """
    try:
        from sqlalchemy import select
        from sqlalchemy.orm import selectinload

        from screener.audit.db import Database
        from screener.audit.models import CaseRecord, Review, ScreeningResult
        from screener.audit.store import as_screen_result
    except ImportError as e:  # the audit package is optional for reports from files
        raise InputError(f"--db needs the audit database package (screener.audit): {e}") \
            from e

    db = Database(url)
    try:
        with db.session() as s:
            latest = (select(ScreeningResult, CaseRecord)
                      .join(CaseRecord, CaseRecord.id == ScreeningResult.record_id)
                      .where(ScreeningResult.is_latest)
                      .order_by(CaseRecord.id))
            reviews: dict[int, Review] = {}
            q = (select(Review).options(selectinload(Review.moderations))
                 .where(Review.completed_at.is_not(None), Review.grade.is_not(None))
                 .order_by(Review.completed_at, Review.id))
            for review in s.scalars(q):
                reviews[review.record_id] = review  # the newest completed review wins
            for res, rec in s.execute(latest).all():
                out = as_screen_result(res, rec.key, rec.doc_type)
                last = reviews.get(rec.id)
                moderator = None
                if last is not None and last.moderations:
                    moderator = max(last.moderations, key=lambda m: (m.created_at, m.id)).grade
                out.extra = {
                    "team": rec.team, "service": rec.service, "worker": rec.worker,
                    "date": rec.record_date.isoformat() if rec.record_date else None,
                    "auditor_grade": last.grade if last is not None else None,
                    "moderator_grade": moderator,
                }
                yield out
    finally:
        db.dispose()
