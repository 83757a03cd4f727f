"""Records per second of `screener report --engine dask` with 1 and 2 local workers.

    python benchmarks/bench_dask.py                  # 2,000 records, rules mode, 8 partitions
    python benchmarks/bench_dask.py --n 5000 --partitions 16 --mode fast

Generated records (training/generate.py) are written as partitioned JSONL. For each worker
count a LocalCluster (one thread per worker process) is started and every worker loads
its Screener first (a one-off cost per worker, reported apart), then the timed run screens,
tabulates, pseudonymises, counts and writes the Parquet parts. The local engine on the
same input is timed for reference, and the counts are checked to be the same.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")


def write_partitions(folder: Path, n: int, parts: int, seed: int) -> None:
    from training.generate import generate_records

    teams = ["Team A", "Team B", "Team C", "Team D"]
    recs = generate_records(n, seed)
    size = -(-n // parts)
    for p in range(parts):
        with (folder / f"part-{p:03d}.jsonl").open("w", encoding="utf-8") as fh:
            for i, r in enumerate(recs[p * size:(p + 1) * size], p * size):
                row = {"id": r["id"], "doc_type": r["doc_type"], "text": r["text"],
                       "team": teams[i % 4], "service": "Service 1" if i % 4 < 2 else
                       "Service 2", "worker": f"Worker {i % 9}",
                       "date": f"{2023 + i % 3}-{1 + i % 12:02d}-15"}
                fh.write(json.dumps(row) + "\n")


def _load_screener(rubric: str | None, mode: str) -> float:
    from screener.reports.engine import Settings, _screener
    from screener.reports.table import TableSpec

    t0 = time.perf_counter()
    _screener(Settings(spec=TableSpec(levels=(), markers=()), key=b"x", rubric=rubric,
                       mode=mode))
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--partitions", type=int, default=8)
    ap.add_argument("--mode", default="rules", choices=["rules", "fast", "full"])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args(argv)

    import pandas as pd
    from distributed import Client, LocalCluster

    from screener import load_rubric
    from screener.reports.engine import Settings, local_items, run_dask, run_local
    from screener.reports.table import TableSpec

    settings = Settings(spec=TableSpec.from_rubric(load_rubric()), key=b"bench-key-123456",
                        mode=args.mode)
    print(f"{args.n} generated records, {args.partitions} JSONL partitions, {args.mode} mode, "
          f"{os.cpu_count()} CPU(s)")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in"
        src.mkdir()
        write_partitions(src, args.n, args.partitions, args.seed)
        t0 = time.perf_counter()
        _load_screener(None, args.mode)
        load = time.perf_counter() - t0
        local = run_local(local_items(src), settings)
        print(f"local engine   : {local.n_records / local.seconds:8.1f} records/s  "
              f"({local.seconds:.1f} s; Screener load {load:.1f} s not included)")
        for n_workers in args.workers:
            with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                              dashboard_address=None, host="127.0.0.1") as cluster, \
                    Client(cluster) as client:
                loads = client.run(_load_screener, None, args.mode)
                run = run_dask(src, settings, Path(tmp) / f"out{n_workers}",
                               scheduler=cluster.scheduler_address)
            same = all(getattr(run.counts, a).equals(getattr(local.counts, a))
                       for a in ("grades", "markers"))
            print(f"dask {n_workers} worker{'s' if n_workers > 1 else ' '}: "
                  f"{run.n_records / run.seconds:8.1f} records/s  ({run.seconds:.1f} s; "
                  f"per-worker Screener load {max(loads.values()):.1f} s not included; "
                  f"same counts as local: {same})")
            written = pd.read_parquet(Path(tmp) / f"out{n_workers}")
            assert len(written) == run.n_records
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
