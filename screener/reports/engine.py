"""Screening and counting for a report, on this machine or on a Dask cluster.

Both engines run the same function, `process`, on parts of the input: screen the records
(or take results already made), build the tidy rows, pick example sentences, pseudonymise
the id and worker columns (a keyed hash, so every Dask worker gives the same pseudonym
without talking to the others) and count. The parts' counts are combined exactly
(`aggregate.combine`), so the two engines produce the same tables.

The Dask engine reads partitioned JSONL or Parquet (a folder of files, big files split
into blocks), runs one task per partition, each writing its part of the tidy table as
Parquet, and sends back only the counts and a few raw example sentences, which are
pseudonymised on the client.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from screener.pipeline import batched
from screener.reports.aggregate import Counts, combine, count, examples_of
from screener.reports.pseudonymise import Pseudonymiser
from screener.reports.sources import Item, input_files, iter_file, iter_rows
from screener.reports.table import NOT_RECORDED, TableSpec, frame_from_rows, tidy_row
from screener.schemas import ErrorResult, Record, ScreenResult

__all__ = ["RunResult", "Settings", "process", "run_dask", "run_local"]

log = logging.getLogger(__name__)
BATCH = 64
CHUNK = 2000


@dataclass(frozen=True)
class Settings:
    """Everything a worker needs to turn input rows into counted, pseudonymised rows."""

    spec: TableSpec
    key: bytes
    rubric: str | None = None
    mode: str = "rules"


@dataclass
class Part:
    tidy: pd.DataFrame
    counts: Counts
    errors: list[ErrorResult] = field(default_factory=list)


@dataclass
class RunResult:
    """What an engine hands to the report: the counts, the tidy table (in memory for the
    local engine, as a Parquet dataset for Dask), and the records that failed."""

    counts: Counts
    errors: list[ErrorResult]
    engine: str
    seconds: float
    tidy: pd.DataFrame | None = None
    tidy_path: Path | None = None
    partitions: int = 1

    @property
    def n_records(self) -> int:
        return self.counts.n_records


_SCREENERS: dict[tuple[str | None, str], Any] = {}
_SCREENER_LOCK = threading.Lock()


def _screener(settings: Settings) -> Any:
    """One Screener per process (and rubric and mode): workers load it once, not per task."""
    from screener.pipeline import Screener

    key = (settings.rubric, settings.mode)
    with _SCREENER_LOCK:
        if key not in _SCREENERS:
            _SCREENERS[key] = Screener(rubric=settings.rubric, mode=settings.mode)
        return _SCREENERS[key]


def _results(items: Iterable[Item], settings: Settings) -> Iterator[ScreenResult | ErrorResult]:
    pending: list[Record] = []

    def flush() -> list[ScreenResult | ErrorResult]:
        out = _screener(settings).screen_batch(pending) if pending else []
        pending.clear()
        return out

    for item in items:
        if isinstance(item, Record):
            pending.append(item)
            if len(pending) >= BATCH:
                yield from flush()
        else:
            yield from flush()
            yield item
    yield from flush()


def process(items: Iterable[Item], settings: Settings) -> Part:
    """Screen, tabulate, pseudonymise and count one part of the input."""
    spec = settings.spec
    rows, errors = [], []
    for r in _results(items, settings):
        if isinstance(r, ErrorResult):
            errors.append(r)
            continue
        try:
            rows.append(tidy_row(r, spec))
        except ValueError as e:
            errors.append(ErrorResult(id=r.id, error=str(e), doc_type=r.doc_type))
    raw = frame_from_rows(rows, spec)
    names = frozenset(w for w in raw["worker"].dropna() if w != NOT_RECORDED)
    examples = examples_of(raw)
    pseudo = Pseudonymiser(key=settings.key)
    tidy = pseudo.frame(raw.drop(columns="examples"))
    return Part(tidy=tidy, counts=count(tidy, spec, examples=examples, names=names),
                errors=errors)


def run_local(items: Iterable[Item], settings: Settings, chunk: int = CHUNK) -> RunResult:
    """The local engine: the whole input in this process, in chunks."""
    t0 = time.perf_counter()
    parts = [process(batch, settings) for batch in batched(items, chunk)]
    tidy = (pd.concat([p.tidy for p in parts], ignore_index=True) if parts
            else settings.spec.empty().drop(columns="examples"))
    return RunResult(counts=combine([p.counts for p in parts]),
                     errors=[e for p in parts for e in p.errors], engine="local",
                     seconds=time.perf_counter() - t0, tidy=tidy, partitions=len(parts))


def local_items(path: str | Path) -> Iterator[Item]:
    """Every item of a file or partitioned folder, in order (the local engine's reader)."""
    for f in input_files(path):
        yield from iter_file(f)


# --------------------------------------------------------------------------------------
# Dask
# --------------------------------------------------------------------------------------

def _dask_task(frame: pd.DataFrame, index: int, out_dir: str, settings: Settings
               ) -> tuple[Counts, list[ErrorResult]]:
    part = process(iter_rows(frame, f"partition {index}"), settings)
    target = Path(out_dir) / f"part.{index:05d}.parquet"
    tmp = target.with_name(f".{target.name}.tmp")
    part.tidy.to_parquet(tmp, index=False)
    tmp.replace(target)
    return part.counts, part.errors


def read_partitions(path: str | Path, blocksize: str | int | None = "64MiB") -> Any:
    """A Dask DataFrame of the input: Parquet files, or JSONL files split into blocks."""
    import dask.dataframe as dd

    files = [str(f) for f in input_files(path)]
    suffix = Path(files[0]).suffix.lower()
    if suffix == ".parquet":
        return dd.read_parquet(files)
    if suffix == ".csv":
        return dd.read_csv(files, dtype=str, keep_default_na=False, blocksize=blocksize)
    return dd.read_json(files, lines=True, orient="records", blocksize=blocksize, dtype=False)


def run_dask(path: str | Path, settings: Settings, out_dir: str | Path,
             scheduler: str | None = None, workers: int = 2,
             blocksize: str | int | None = "64MiB") -> RunResult:
    """The Dask engine: one task per partition on a cluster (`scheduler` address) or on a
    local cluster of `workers` processes. The tidy table is written by the workers to
    `out_dir` as a Parquet dataset (one file per partition); `out_dir` must be reachable
    from every worker (shared storage) when the cluster spans machines."""
    import dask
    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("part.*.parquet"):
        old.unlink()
    ddf = read_partitions(path, blocksize)
    parts = ddf.to_delayed()
    tasks = [dask.delayed(_dask_task)(p, i, str(out.resolve()), settings)
             for i, p in enumerate(parts)]
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, host="127.0.0.1")
        client = Client(cluster)
    try:
        done = client.gather(client.compute(tasks))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    counts = combine([c for c, _ in done])
    errors = [e for _, errs in done for e in errs]
    return RunResult(counts=counts, errors=errors, engine="dask",
                     seconds=time.perf_counter() - t0, tidy_path=out, partitions=len(parts))
