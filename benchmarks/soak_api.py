"""A bounded soak of the service on loopback: a few minutes of mixed traffic, bad requests
included, checking that nothing answers 500, every request gets the status it should,
memory stays flat, and no record text reaches the server's log.

    python benchmarks/soak_api.py                     # 180 s, 8 clients, rules mode
    python benchmarks/soak_api.py --duration 600 --mode fast --clients 16

The server (`screener serve`, started and stopped here, at log level info so every
request is in its access log) gets a database with the example Mosaic export imported,
and tokens for a manager, an auditor and a researcher. Each client picks a request at
random (seeded) from a mix: screens, hints and batches of the example records; the
queue, case files and reviews; and bad requests (malformed JSON, unknown doc_type, empty
text, text over the limit, batch over the limit, missing and wrong tokens, the wrong
role, a file that does not exist). Every good record carries a planted sentinel phrase;
the server's log must not contain it. Memory: the server's RSS every 2 s; "flat" means
the last minute's median is within 10% (and 25 MB) of the median of the minute after
warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_api import ROOT, MemorySampler, Server, load_corpus, screener_cmd, serve  # noqa: E402

SENTINEL = "Quillon Vasterbrook-Oyelaran"
EXPORT = ROOT / "examples" / "exports" / "mosaic_steps.csv"
MAPPING = ROOT / "examples" / "exports" / "mosaic_steps.mapping.yaml"
MAX_CHARS = 20_000
MAX_BATCH = 10


def seed_db(db_url: str, env: dict[str, str]) -> None:
    subprocess.run([*screener_cmd(), "import", str(EXPORT), "--mapping", str(MAPPING), "--db",
                    db_url, "--mode", "rules", "--no-progress"], check=True, env=env,
                   capture_output=True)


def requests_mix(corpus: list[dict[str, str]], files: list[int],
                 records: dict[int, list[dict[str, Any]]]) -> list[tuple[str, float, Any]]:
    """(name, weight, make(rng) -> (role, method, path, kwargs, allowed statuses))."""
    def rec(rng: random.Random) -> dict[str, str]:
        r = rng.choice(corpus)
        return {"doc_type": r["doc_type"], "text": f"{SENTINEL} said hello. {r['text']}"}

    def review(rng: random.Random) -> Any:
        fid = rng.choice(files)
        r = rng.choice(records[fid])
        flags = r["flags"]
        decisions = ([{"marker": rng.choice(flags), "decision": rng.choice(
            ["confirmed", "rejected"])}] if flags else [])
        return ("auditor", "POST", f"/v1/files/{fid}/reviews",
                {"json": {"record_id": r["id"], "decisions": decisions,
                          "comment": f"soak {SENTINEL}"}}, {201})

    return [
        ("screen", 30, lambda g: ("manager", "POST", "/v1/screen", {"json": rec(g)}, {200})),
        ("hints", 15, lambda g: ("manager", "POST", "/v1/hints", {"json": rec(g)}, {200})),
        ("batch", 5, lambda g: ("manager", "POST", "/v1/screen/batch",
                                {"json": {"records": [rec(g) for _ in range(g.randint(2, 5))]}},
                                {200})),
        ("queue", 5, lambda g: ("auditor", "GET", "/v1/queue?limit=20", {}, {200})),
        ("file", 8, lambda g: ("auditor", "GET", f"/v1/files/{g.choice(files)}", {}, {200})),
        ("review", 4, review),
        ("markers", 2, lambda g: ("researcher", "GET", "/v1/markers", {}, {200})),
        ("bad json", 3, lambda g: ("manager", "POST", "/v1/screen", {
            "content": b'{"doc_type": "visit", "text": "' + SENTINEL.encode(),
            "headers": {"Content-Type": "application/json"}}, {422})),
        ("bad doc_type", 3, lambda g: ("manager", "POST", "/v1/hints", {
            "json": {"doc_type": "letter", "text": SENTINEL}}, {422})),
        ("empty text", 3, lambda g: ("manager", "POST", "/v1/screen", {
            "json": {"doc_type": "visit", "text": " \n "}}, {422})),
        ("too long", 2, lambda g: ("manager", "POST", "/v1/screen", {
            "json": {"doc_type": "visit", "text": SENTINEL * (MAX_CHARS // 20)}}, {413})),
        ("batch too big", 2, lambda g: ("manager", "POST", "/v1/screen/batch", {
            "json": {"records": [rec(g)] * (MAX_BATCH + 1)}}, {413})),
        ("no token", 3, lambda g: (None, "POST", "/v1/screen", {"json": rec(g)}, {401})),
        ("bad token", 2, lambda g: ("forged", "GET", f"/v1/files/{g.choice(files)}", {}, {401})),
        ("wrong role", 3, lambda g: ("researcher", "GET", f"/v1/files/{g.choice(files)}", {},
                                     {403})),
        ("no such file", 2, lambda g: ("auditor", "GET", "/v1/files/987654321", {}, {404})),
        ("health", 1, lambda g: (None, "GET", "/health", {}, {200})),
    ]


async def soak(server: Server, corpus: list[dict[str, str]], clients: int, seconds: float,
               seed: int) -> dict[str, Any]:
    tokens = {**server.tokens, "forged": "scr_" + "A" * 43}
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as c:
        admin = {"Authorization": f"Bearer {tokens['auditor']}"}
        queue = (await c.get("/v1/queue?limit=1000&include_reviewed=true", headers=admin)).json()
        files = [f["file_id"] for f in queue["files"]]
        records: dict[int, list[dict[str, Any]]] = {}
        for fid in files:
            fv = (await c.get(f"/v1/files/{fid}", headers=admin)).json()
            records[fid] = [{"id": r["id"], "flags": [f["marker"] for f in r["result"]["flags"]]}
                            for r in fv["records"] if r["result"]]
        mix = requests_mix(corpus, files, records)
        names, weights = [m[0] for m in mix], [m[1] for m in mix]
        makers = {m[0]: m[2] for m in mix}
        tally: dict[str, dict[str, int]] = {n: {} for n in names}
        unexpected: list[str] = []
        latencies: list[float] = []
        stop_at = time.monotonic() + seconds

        async def client(i: int) -> None:
            rng = random.Random(seed * 1000 + i)
            while time.monotonic() < stop_at:
                name = rng.choices(names, weights)[0]
                role, method, path, kwargs, allowed = makers[name](rng)
                headers = dict(kwargs.pop("headers", {}))
                if role is not None:
                    headers["Authorization"] = f"Bearer {tokens[role]}"
                t0 = time.perf_counter()
                try:
                    r = await c.request(method, path, headers=headers, **kwargs)
                    code = r.status_code
                except httpx.HTTPError as e:
                    code = 0
                    unexpected.append(f"{name}: {type(e).__name__}")
                latencies.append((time.perf_counter() - t0) * 1000)
                tally[name][str(code)] = tally[name].get(str(code), 0) + 1
                if code and code not in allowed:
                    unexpected.append(f"{name}: {code} {r.text[:200]}")

        await asyncio.gather(*(client(i) for i in range(clients)))
    return {"tally": tally, "unexpected": unexpected, "latencies": latencies}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=180.0, help="seconds of traffic")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--mode", choices=["rules", "fast", "full"], default="rules")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--models-dir", help="trained models folder (SCREENER_MODELS_DIR)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    corpus = load_corpus()
    env = {"SCREENER_MAX_RECORD_CHARS": str(MAX_CHARS), "SCREENER_MAX_BATCH_SIZE": str(MAX_BATCH)}
    with serve(args.mode, log_level="info", models_dir=args.models_dir, setup=seed_db,
               roles=("manager", "auditor", "researcher"), env_extra=env) as server:
        with MemorySampler(server, every=2.0) as mem:
            out = asyncio.run(soak(server, corpus, args.clients, args.duration, args.seed))
        log_text = server.log_path.read_text(errors="replace")
    samples = mem.samples
    t_end = samples[-1][0] if samples else 0.0
    first = [m for t, m in samples if 30 <= t < 90] or [m for _, m in samples[:5]]
    last = [m for t, m in samples if t >= t_end - 60] or [m for _, m in samples[-5:]]
    m_first, m_last = statistics.median(first), statistics.median(last)
    flat = m_last - m_first <= max(25.0, 0.10 * m_first)
    lat = sorted(out["latencies"])
    total = sum(sum(v.values()) for v in out["tally"].values())
    five_hundreds = sum(n for v in out["tally"].values() for k, n in v.items()
                        if k.startswith("5"))
    leaked = log_text.count(SENTINEL)
    summary = {
        "mode": args.mode, "clients": args.clients, "seconds": args.duration,
        "requests": total, "rps": round(total / args.duration, 1),
        "p50_ms": round(lat[len(lat) // 2], 1) if lat else None,
        "p95_ms": round(lat[int(len(lat) * 0.95)], 1) if lat else None,
        "status_5xx": five_hundreds, "unexpected": len(out["unexpected"]),
        "rss_mb_after_warmup": round(m_first, 1), "rss_mb_last_minute": round(m_last, 1),
        "rss_mb_peak": round(max(m for _, m in samples), 1) if samples else None,
        "memory_flat": flat, "log_lines": log_text.count("\n"),
        "sentinel_in_log": leaked, "by_request": out["tally"],
    }
    print(json.dumps(summary, indent=2))
    for u in out["unexpected"][:20]:
        print("unexpected:", u, file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps({**summary, "rss_samples": samples}, indent=2))
    ok = five_hundreds == 0 and not out["unexpected"] and flat and leaked == 0
    print("soak: " + ("PASS" if ok else "FAIL"), file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
