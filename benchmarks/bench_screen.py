"""Screening throughput per mode, beside spaCy's blank tokenizer on the same texts.

    python benchmarks/bench_screen.py                 # 10,000 records, rules and fast; 1,000 full
    python benchmarks/bench_screen.py --n 2000 --modes rules fast --workers 1

Machines are noisy, so the figure to compare across runs is the ratio to the tokenizer,
measured in the same run on the same texts. Each mode runs in its own process so its
peak memory (RSS, including the loaded models) is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_texts(n: int, seed: int, words: int = 300) -> list[tuple[str, str]]:
    """n varied records of about `words` words: generated records of one type joined."""
    from training.generate import generate_records

    base = generate_records(n + 200, seed)
    by_type: dict[str, list[str]] = {}
    for r in base:
        by_type.setdefault(r["doc_type"], []).append(r["text"])
    out = []
    for i, r in enumerate(base[:n]):
        pool = by_type[r["doc_type"]]
        text, k = r["text"], 1
        while len(text.split()) < words * 0.9:
            text += "\n\n" + pool[(i + k) % len(pool)]
            k += 1
        out.append((r["doc_type"], " ".join(text.split(" ")[: int(words * 1.1)])))
    return out


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(mode: str, n: int, seed: int, workers: int = 1) -> dict[str, float]:
    texts = make_texts(n, seed)
    n_words = sum(len(t.split()) for _, t in texts)
    if mode == "tokenizer":
        import spacy

        nlp = spacy.blank("en")
        t0 = time.perf_counter()
        for _ in nlp.pipe((t for _, t in texts), batch_size=64):
            pass
        dt = time.perf_counter() - t0
    else:
        from screener import Record, Screener

        scr = Screener(mode=mode)
        scr.screen_one(texts[0][0], texts[0][1])  # load lazily-built parts before timing
        records = [Record(id=str(i), doc_type=d, text=t) for i, (d, t) in enumerate(texts)]
        t0 = time.perf_counter()
        results = scr.screen(records, batch_size=64, workers=workers)
        if workers > 1:  # steady state: from the first result on (workers load their models)
            next(results)
            t0, n = time.perf_counter(), n - 1
            n_words -= len(texts[0][1].split())
        for _ in results:
            pass
        dt = time.perf_counter() - t0
    return {"records": n, "seconds": dt, "records_s": n / dt, "words_s": n_words / dt,
            "peak_mb": peak_mb()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=10000, help="records for rules and fast modes")
    ap.add_argument("--n-full", type=int, default=1000, help="records for full mode")
    ap.add_argument("--modes", nargs="+", default=["rules", "fast", "full"])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workers", type=int, default=2,
                    help="also measure rules and fast mode with this many processes (1: don't)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--processes", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.n, args.seed, args.processes)))
        return
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    rows = {}
    runs = [("tokenizer", 1)] + [(m, 1) for m in args.modes]
    if args.workers > 1:
        runs += [(m, args.workers) for m in args.modes if m in ("rules", "fast")]
    for mode, procs in runs:
        n = args.n_full if mode == "full" else args.n
        label = mode if procs == 1 else f"{mode} x{procs}"
        out = subprocess.run([sys.executable, __file__, "--worker", mode, "--n", str(n),
                              "--seed", str(args.seed), "--processes", str(procs)],
                             capture_output=True, text=True, env=env, check=True)
        rows[label] = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"  measured {label} ({n} records)", file=sys.stderr)
    ref = rows["tokenizer"]["words_s"]
    print("(x2: that many worker processes, timed from the first result; peak MB is the\n"
          " parent's only, each worker holds about one loaded screener more)", file=sys.stderr)
    print(f"{'mode':<10} {'records':>8} {'records/s':>10} {'words/s':>10} {'vs tokenizer':>13} "
          f"{'peak MB':>8}")
    for mode, r in rows.items():
        print(f"{mode:<10} {r['records']:>8} {r['records_s']:>10.1f} {r['words_s']:>10.0f} "
              f"{r['words_s'] / ref:>13.4f} {r['peak_mb']:>8.0f}")


if __name__ == "__main__":
    main()
