"""The long fuzz run of issue #7: screen 100,000 generated and mutated records, and count
what happens. Not part of CI (it takes tens of minutes); its figures go in the README.

    python benchmarks/fuzz_long.py                       # 100,000 records, rules mode
    python benchmarks/fuzz_long.py --n 20000 --mode fast --workers 2
    python benchmarks/fuzz_long.py --n 2000 --mode full --save /tmp/fuzz-failures

Records come from the seeded generator (training.generate) and are mutated: hostile
characters, long runs of punctuation and whitespace, one enormous line, truncation,
joins, other record types, HTML, shuffled lines, random Unicode, empty text and lone
surrogates. Each record is screened on its own (`screen_one`) in a worker process; a
worker that makes no progress for --hang-seconds is killed, the record is saved as a
hang and the worker restarted. Every result must keep the invariants of the robustness
tests (tests/robustness/robust_helpers.check_result). Reported: counts by outcome,
crashes and invariant failures by kind (the first example of each saved with --save),
latency percentiles and the slowest record, throughput, and each worker's peak and
growth of resident memory.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import random
import resource
import sys
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "robustness"))

from robust_helpers import HOSTILE_CHARS, HOSTILE_PIECES, RUN_UNITS  # noqa: E402

DOC_TYPES = ("assessment", "cp_enquiry", "cin_plan", "cp_plan", "visit", "supervision",
             "oversight")


# ------------------------------------------------------------------------- mutations

def _insert(rng: random.Random, text: str, piece: str) -> str:
    at = rng.randint(0, len(text))
    return text[:at] + piece + text[at:]


def m_hostile_chars(rng: random.Random, text: str, other: str) -> str:
    for _ in range(rng.randint(1, 40)):
        text = _insert(rng, text, rng.choice(HOSTILE_CHARS))
    return text


def m_pieces(rng: random.Random, text: str, other: str) -> str:
    for _ in range(rng.randint(1, 20)):
        text = _insert(rng, text, rng.choice(HOSTILE_PIECES))
    return text


def m_long_run(rng: random.Random, text: str, other: str) -> str:
    unit = rng.choice(RUN_UNITS)
    return _insert(rng, text, unit * rng.randint(50, 20_000 // len(unit)))


def m_repeat_slice(rng: random.Random, text: str, other: str) -> str:
    a = rng.randint(0, len(text))
    b = min(len(text), a + rng.randint(1, 200))
    return text[:b] + text[a:b] * rng.randint(2, 300) + text[b:]


def m_one_line(rng: random.Random, text: str, other: str) -> str:
    return text.replace("\r\n", " ").replace("\n", rng.choice([" ", "", " | ", "\t"]))


def m_line_breaks(rng: random.Random, text: str, other: str) -> str:
    return text.replace("\n", rng.choice(["\r", "\r\n", "<br>", "\u2028", "\n\n\n", "</p><p>",
                                          "\x0b", "\x85"]))


def m_truncate(rng: random.Random, text: str, other: str) -> str:
    return text[: rng.randint(0, len(text))]


def m_join(rng: random.Random, text: str, other: str) -> str:
    return text + rng.choice(["\n\n", "", " ", "\n---\n"]) + other


def m_shuffle_lines(rng: random.Random, text: str, other: str) -> str:
    lines = text.split("\n")
    rng.shuffle(lines)
    return "\n".join(lines)


def m_case(rng: random.Random, text: str, other: str) -> str:
    return rng.choice([text.upper(), text.lower(), text.swapcase(), text.title()])


def m_spaces(rng: random.Random, text: str, other: str) -> str:
    return text.replace(" ", rng.choice(["\xa0", "\t", "  ", "\u200b", "\u3000", "   \t "]))


def m_punctuation(rng: random.Random, text: str, other: str) -> str:
    if rng.random() < 0.5:
        return "".join(c for c in text if c.isalnum() or c.isspace())
    return "".join(c + rng.choice(".,:;!?*-|") if rng.random() < 0.2 else c for c in text)


def m_html(rng: random.Random, text: str, other: str) -> str:
    body = "".join(f"<p><b>{line}</b></p>" if line.endswith(":") else f"<li>{line}</li>"
                   for line in text.split("\n"))
    return f"<html><body><div>{body}</div></body></html>"


def m_random_unicode(rng: random.Random, text: str, other: str) -> str:
    chars = []
    for _ in range(rng.randint(1, 3000)):
        cp = rng.randint(0, 0x10FFFF)
        if 0xD800 <= cp <= 0xDFFF:
            cp = 0xFFFD
        chars.append(chr(cp))
    return _insert(rng, text, "".join(chars))


def m_placeholders(rng: random.Random, text: str, other: str) -> str:
    lines = [ln.split(":")[0] + ": " + rng.choice(["N/A", "TBC", "see above", "-", "[insert]"])
             if ":" in ln and rng.random() < 0.7 else ln for ln in text.split("\n")]
    return "\n".join(lines)


def m_empty(rng: random.Random, text: str, other: str) -> str:
    return rng.choice(["", " ", "\n\n", "\t\r\n", "\u2028\xa0", " " * 5000])


def m_surrogate(rng: random.Random, text: str, other: str) -> str:
    return _insert(rng, text, chr(rng.randint(0xD800, 0xDFFF)))


MUTATIONS = [m_hostile_chars, m_pieces, m_long_run, m_repeat_slice, m_one_line, m_line_breaks,
             m_truncate, m_join, m_shuffle_lines, m_case, m_spaces, m_punctuation, m_html,
             m_random_unicode, m_placeholders, m_empty, m_surrogate]
RARE = {m_empty, m_surrogate}


def make_case(i: int, base: list[dict[str, Any]], seed: int) -> tuple[str, str, list[str]]:
    """Case i (reproducible from the seed): doc_type, text and the mutations applied."""
    rng = random.Random(seed * 1_000_003 + i)
    record = base[i % len(base)]
    other = base[rng.randrange(len(base))]["text"]
    text = record["text"]
    doc_type = record["doc_type"] if rng.random() < 0.8 else rng.choice(DOC_TYPES)
    applied: list[str] = []
    if rng.random() < 0.9:  # one in ten left as generated
        for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
            mutation = rng.choice(MUTATIONS)
            if mutation in RARE and rng.random() < 0.7:
                continue
            text = mutation(rng, text, other)
            applied.append(mutation.__name__[2:])
    return doc_type, text, applied


# ------------------------------------------------------------------------- workers

def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(wid: int, indices: list[int], args: argparse.Namespace, current: Any,
           out: Any) -> None:
    """Screen the given cases; report each outcome; keep `current` at the case in hand."""
    from robust_helpers import check_result

    from screener.pipeline import InvalidRecord, Screener
    from training.generate import generate_records

    base = generate_records(args.base, args.seed)
    scr = Screener(mode=args.mode, models_dir=args.models_dir,
                   bounded_memory=args.bounded_memory)
    rubric = scr.rubric
    rss_start = None
    for n, i in enumerate(indices):
        doc_type, text, applied = make_case(i, base, args.seed)
        current.value = i
        t0 = time.perf_counter()
        try:
            result = scr.screen_one(doc_type, text, id=f"case-{i}")
            seconds = time.perf_counter() - t0
            try:
                check_result(result, text, doc_type, rubric)
                outcome, detail = "ok", ""
            except AssertionError as e:
                outcome, detail = "invariant", f"{e!s:.300}"
        except InvalidRecord as e:
            seconds = time.perf_counter() - t0
            outcome, detail = "invalid", str(e).split(" (")[0].split(" at character")[0]
        except Exception as e:
            seconds = time.perf_counter() - t0
            outcome, detail = "crash", f"{type(e).__name__}: {e!s:.200}\n" \
                                       f"{traceback.format_exc(limit=-3)}"
        if n == max(1, len(indices) // 10):
            rss_start = _rss_mb()
        out.put(("case", wid, i, outcome, detail, seconds, len(text), applied))
    out.put(("done", wid, _rss_mb(), rss_start or _rss_mb()))


def run(args: argparse.Namespace) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    todo = {w: list(range(w, args.n, args.workers)) for w in range(args.workers)}
    procs: dict[int, Any] = {}
    currents: dict[int, Any] = {}
    last_seen: dict[int, float] = {}
    finished: dict[int, tuple[float, float]] = {}
    outcomes: Counter[str] = Counter()
    kinds: dict[str, Counter[str]] = {"invalid": Counter(), "crash": Counter(),
                                      "invariant": Counter(), "hang": Counter()}
    first: dict[str, dict[str, Any]] = {}
    latencies: list[float] = []
    slowest: tuple[float, int, int, list[str]] = (0.0, -1, 0, [])
    mutations: Counter[str] = Counter()
    done_cases: dict[int, set[int]] = {w: set() for w in todo}

    def start(w: int, indices: list[int]) -> None:
        currents[w] = ctx.Value("q", -1)
        procs[w] = ctx.Process(target=worker, args=(w, indices, args, currents[w], out),
                               daemon=True)
        procs[w].start()
        last_seen[w] = time.monotonic() + args.start_seconds  # time to load models

    for w, indices in todo.items():
        start(w, indices)
    t_start = time.perf_counter()
    total = 0
    while len(finished) < len(todo):
        try:
            msg = out.get(timeout=1.0)
        except Exception:
            msg = None
        now = time.monotonic()
        if msg and msg[0] == "case":
            _, w, i, outcome, detail, seconds, length, applied = msg
            last_seen[w] = now
            done_cases[w].add(i)
            total += 1
            outcomes[outcome] += 1
            mutations.update(applied or ["(none)"])
            latencies.append(seconds)
            if seconds > slowest[0]:
                slowest = (seconds, i, length, applied)
            if outcome != "ok":
                key = detail.split("\n")[0][:120]
                kinds[outcome][key] += 1
                first.setdefault(f"{outcome}: {key}", {"case": i, "detail": detail,
                                                       "mutations": applied})
            if total % args.report_every == 0:
                rate = total / (time.perf_counter() - t_start)
                print(f"  {total:,} screened ({rate:.0f}/s), {outcomes['crash']} crashes, "
                      f"{outcomes['hang']} hangs, {outcomes['invariant']} invariant failures",
                      file=sys.stderr, flush=True)
        elif msg and msg[0] == "done":
            finished[msg[1]] = (msg[2], msg[3])
        for w, proc in list(procs.items()):
            if w in finished or now - last_seen[w] < args.hang_seconds:
                continue
            i = currents[w].value  # the worker is stuck on case i
            proc.kill()
            proc.join(10)
            outcomes["hang"] += 1
            kinds["hang"][f"no result in {args.hang_seconds:.0f} s"] += 1
            first.setdefault(f"hang: case {i}", {"case": i, "detail": "hang",
                                                 "mutations": make_case_desc(i, args)})
            done_cases[w].add(i)
            rest = [j for j in todo[w] if j not in done_cases[w]]
            if rest:
                start(w, rest)
            else:
                finished[w] = (0.0, 0.0)
    elapsed = time.perf_counter() - t_start
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else 0.0

    return {"n": args.n, "mode": args.mode, "workers": args.workers,
            "bounded_memory": args.bounded_memory, "screened": total,
            "seconds": elapsed, "records_s": total / elapsed if elapsed else 0.0,
            "outcomes": dict(outcomes), "kinds": {k: dict(v) for k, v in kinds.items() if v},
            "first_examples": first, "latency_s": {"p50": pct(0.5), "p99": pct(0.99),
                                                   "p999": pct(0.999), "max": slowest[0]},
            "slowest": {"case": slowest[1], "chars": slowest[2], "mutations": slowest[3]},
            "mutations": dict(mutations),
            "peak_rss_mb": {w: round(v[0]) for w, v in sorted(finished.items())},
            "rss_growth_mb": {w: round(v[0] - v[1]) for w, v in sorted(finished.items())}}


def make_case_desc(i: int, args: argparse.Namespace) -> list[str]:
    from training.generate import generate_records

    return make_case(i, generate_records(args.base, args.seed), args.seed)[2]


def save_failures(report: dict[str, Any], args: argparse.Namespace) -> None:
    from training.generate import generate_records

    base = generate_records(args.base, args.seed)
    args.save.mkdir(parents=True, exist_ok=True)
    for n, (key, ex) in enumerate(report["first_examples"].items()):
        doc_type, text, applied = make_case(ex["case"], base, args.seed)
        (args.save / f"{n:03d}-case-{ex['case']}.json").write_text(json.dumps(
            {"problem": key, "detail": ex["detail"], "doc_type": doc_type,
             "mutations": applied, "text": text}, ensure_ascii=True, indent=1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000, help="cases to screen")
    ap.add_argument("--mode", default="rules", choices=["rules", "fast", "full"])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--base", type=int, default=2000, help="generated records to mutate")
    ap.add_argument("--models-dir", default=None, help="models folder (default: models/)")
    ap.add_argument("--hang-seconds", type=float, default=60.0,
                    help="a worker silent this long is stuck: its record is a hang")
    ap.add_argument("--start-seconds", type=float, default=300.0,
                    help="time a worker may take to load before its first record")
    ap.add_argument("--report-every", type=int, default=5000)
    ap.add_argument("--bounded-memory", action=argparse.BooleanOptionalAction, default=True,
                    help="forget spaCy's strings after each record, as the service does "
                    "(--no-bounded-memory: as batch screening does, faster but growing)")
    ap.add_argument("--save", type=Path, default=None,
                    help="folder for the first example of each problem (JSON)")
    ap.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = ap.parse_args()

    report = run(args)
    o = report["outcomes"]
    lat = report["latency_s"]
    memory = "bounded memory" if report["bounded_memory"] else "spaCy strings kept"
    print(f"mode {report['mode']} ({memory}), {report['workers']} workers: "
          f"{report['screened']:,} of "
          f"{report['n']:,} cases in {report['seconds']:.0f} s ({report['records_s']:.0f}/s)")
    print(f"  ok {o.get('ok', 0):,}  invalid {o.get('invalid', 0):,}  crashes "
          f"{o.get('crash', 0)}  invariant failures {o.get('invariant', 0)}  hangs "
          f"{o.get('hang', 0)}")
    for kind, counts in report["kinds"].items():
        for what, count in sorted(counts.items(), key=lambda kv: -kv[1])[:8]:
            print(f"  {kind:<9} {count:>7,}  {what}")
    print(f"  latency: p50 {lat['p50'] * 1000:.0f} ms, p99 {lat['p99'] * 1000:.0f} ms, "
          f"p99.9 {lat['p999'] * 1000:.0f} ms, max {lat['max']:.2f} s (case "
          f"{report['slowest']['case']}, {report['slowest']['chars']:,} characters, "
          f"{'+'.join(report['slowest']['mutations']) or 'no mutation'})")
    print(f"  peak RSS per worker (MB): {report['peak_rss_mb']}; growth after the first "
          f"10% of its cases (MB): {report['rss_growth_mb']}")
    if args.save and report["first_examples"]:
        save_failures(report, args)
        print(f"  first example of each problem saved in {args.save}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str))
    bad = o.get("crash", 0) + o.get("invariant", 0) + o.get("hang", 0)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
