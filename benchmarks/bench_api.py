"""Load test of POST /v1/screen on loopback: latency (p50 / p95 / p99), throughput and
errors at 1, 8 and 32 concurrent clients, per mode, with the server's memory.

    python benchmarks/bench_api.py                        # every installed mode, 20 s a level
    python benchmarks/bench_api.py --modes rules fast --duration 10 --json out.json
    python benchmarks/bench_api.py --short                # 5 s a level (a quick look)

For each mode it starts `screener serve` on 127.0.0.1 (a fresh SQLite database and a
manager token made with `screener token create`), waits for /health, and drives it
with httpx's async client: N clients each sending one request after another, texts
cycling through examples/report_records.jsonl (about 1,000 characters each). The
client runs on the same machine, so on 2 cores it competes with the server for CPU:
the figures are a floor, not a ceiling. Memory is the server process's RSS, sampled
every 0.25 s (start of the level, peak, end). Goals (2 cores): fast mode p95 < 50 ms at
1 client; no errors and bounded memory at 32 clients.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "examples" / "report_records.jsonl"
HOST = "127.0.0.1"  # loopback only


def screener_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("screener")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "screener.cli"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def load_corpus(limit: int | None = None) -> list[dict[str, str]]:
    out = []
    with CORPUS.open(encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            out.append({"doc_type": r["doc_type"], "text": r["text"]})
            if limit and len(out) >= limit:
                break
    return out


@dataclass
class Server:
    """A `screener serve` process on loopback with its own database and tokens."""

    url: str
    proc: subprocess.Popen[bytes]
    db_url: str
    workdir: Path
    log_path: Path
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def ps(self) -> psutil.Process:
        return psutil.Process(self.proc.pid)

    def rss_mb(self) -> float:
        return float(self.ps.memory_info().rss) / 2**20


def make_token(db_url: str, role: str, name: str, env: dict[str, str]) -> str:
    out = subprocess.run([*screener_cmd(), "token", "create", "--role", role, "--name", name,
                          "--db", db_url], capture_output=True, text=True, env=env, check=True)
    return out.stdout.strip()


@contextmanager
def serve(mode: str | None, *, log_level: str = "warning", models_dir: str | None = None,
          roles: tuple[str, ...] = ("manager",), setup: Any = None,
          env_extra: dict[str, str] | None = None) -> Iterator[Server]:
    """Start `screener serve` (and stop it afterwards). `setup(db_url, env)` runs first."""
    workdir = Path(tempfile.mkdtemp(prefix="screener-bench-"))
    db_url = f"sqlite:///{workdir / 'bench.db'}"
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(env_extra or {})}
    if models_dir:
        env["SCREENER_MODELS_DIR"] = models_dir
    if setup is not None:
        setup(db_url, env)
    tokens = {role: make_token(db_url, role, f"bench-{role}", env) for role in roles}
    port = free_port()
    cmd = [*screener_cmd(), "serve", "--host", HOST, "--port", str(port), "--db", db_url,
           "--log-level", log_level]
    if mode:
        cmd += ["--mode", mode]
    log_path = workdir / "server.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    server = Server(url=f"http://{HOST}:{port}", proc=proc, db_url=db_url, workdir=workdir,
                    log_path=log_path, tokens=tokens)
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {log_path.read_text()[-2000:]}")
            try:
                if httpx.get(server.url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start within 180 s")
            time.sleep(0.2)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


class MemorySampler:
    """Samples a process's RSS every `every` seconds in a thread."""

    def __init__(self, server: Server, every: float = 0.25):
        self.server, self.every = server, every
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        t0 = time.monotonic()
        while not self._stop.is_set():
            try:
                self.samples.append((time.monotonic() - t0, self.server.rss_mb()))
            except psutil.Error:
                return
            self._stop.wait(self.every)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Level:
    mode: str
    clients: int
    seconds: float
    requests: int
    errors: int
    statuses: dict[str, int]
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    rss_start_mb: float
    rss_peak_mb: float
    rss_end_mb: float
    server_cpu_ms_per_req: float
    client_cpu_ms_per_req: float


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(q / 100 * (len(s) - 1))))
    return s[k]


async def drive(url: str, token: str, corpus: list[dict[str, str]], clients: int,
                seconds: float, warmup: float) -> tuple[list[float], dict[str, int], float]:
    """`clients` coroutines, each sending one request after another for `seconds` (after
    `warmup` seconds whose requests are not counted)."""
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits,
                                 timeout=60) as client:
        start = time.monotonic()
        counting_from = start + warmup
        stop_at = counting_from + seconds

        async def one_client(i: int) -> None:
            n = i * 7919
            while True:
                now = time.monotonic()
                if now >= stop_at:
                    return
                rec = corpus[n % len(corpus)]
                n += 1
                t0 = time.perf_counter()
                try:
                    r = await client.post("/v1/screen", json=rec)
                    code = str(r.status_code)
                except httpx.HTTPError as e:
                    code = type(e).__name__
                if now >= counting_from:  # sent after the warm-up
                    latencies.append((time.perf_counter() - t0) * 1000)
                    statuses[code] = statuses.get(code, 0) + 1

        await asyncio.gather(*(one_client(i) for i in range(clients)))
        elapsed = time.monotonic() - counting_from
    return latencies, statuses, elapsed


def run_level(server: Server, mode: str, corpus: list[dict[str, str]], clients: int,
              seconds: float, warmup: float) -> Level:
    ps, me = server.ps, psutil.Process()
    cpu0, mine0 = ps.cpu_times(), me.cpu_times()
    with MemorySampler(server) as mem:
        lat, statuses, elapsed = asyncio.run(drive(server.url, server.tokens["manager"],
                                                   corpus, clients, seconds, warmup))
    cpu1, mine1 = ps.cpu_times(), me.cpu_times()
    n_all = max(1, len(lat))  # CPU covers the warm-up too: a slight overestimate
    server_cpu = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) * 1000 / n_all
    client_cpu = (mine1.user + mine1.system - mine0.user - mine0.system) * 1000 / n_all
    rss = [m for _, m in mem.samples] or [float("nan")]
    ok = statuses.get("200", 0)
    return Level(mode=mode, clients=clients, seconds=round(elapsed, 2), requests=len(lat),
                 errors=len(lat) - ok, statuses=statuses, rps=round(len(lat) / elapsed, 1),
                 p50_ms=round(percentile(lat, 50), 1), p95_ms=round(percentile(lat, 95), 1),
                 p99_ms=round(percentile(lat, 99), 1), max_ms=round(max(lat or [0]), 1),
                 rss_start_mb=round(rss[0], 1), rss_peak_mb=round(max(rss), 1),
                 rss_end_mb=round(rss[-1], 1),
                 server_cpu_ms_per_req=round(server_cpu * seconds / (seconds + warmup), 1),
                 client_cpu_ms_per_req=round(client_cpu * seconds / (seconds + warmup), 1))


def installed_modes() -> list[str]:
    sys.path.insert(0, str(ROOT))
    from screener.classifiers.artefacts import available_modes

    have = available_modes()
    return [m for m in ("rules", "fast", "full") if m in have]


def table(levels: list[Level]) -> str:
    head = (f"{'mode':<6} {'clients':>7} {'req':>6} {'err':>4} {'req/s':>7} {'p50 ms':>7} "
            f"{'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} {'RSS MB start/peak/end':>22} "
            f"{'CPU ms/req srv/cli':>18}")
    rows = [head, "-" * len(head)]
    for lv in levels:
        rows.append(f"{lv.mode:<6} {lv.clients:>7} {lv.requests:>6} {lv.errors:>4} "
                    f"{lv.rps:>7.1f} {lv.p50_ms:>7.1f} {lv.p95_ms:>7.1f} {lv.p99_ms:>7.1f} "
                    f"{lv.max_ms:>7.1f} {lv.rss_start_mb:>7.0f}/{lv.rss_peak_mb:.0f}/"
                    f"{lv.rss_end_mb:.0f} {lv.server_cpu_ms_per_req:>11.1f}/"
                    f"{lv.client_cpu_ms_per_req:.1f}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--modes", nargs="+", choices=["rules", "fast", "full"],
                    help="default: every installed mode")
    ap.add_argument("--clients", nargs="+", type=int, default=[1, 8, 32])
    ap.add_argument("--duration", type=float, default=20.0, help="seconds counted per level")
    ap.add_argument("--warmup", type=float, default=3.0, help="seconds not counted per level")
    ap.add_argument("--short", action="store_true", help="5 s a level, 1 s warm-up")
    ap.add_argument("--models-dir", help="trained models folder (SCREENER_MODELS_DIR)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    if args.short:
        args.duration, args.warmup = 5.0, 1.0
    if args.models_dir:
        os.environ["SCREENER_MODELS_DIR"] = args.models_dir
    modes = args.modes or installed_modes()
    corpus = load_corpus()
    levels: list[Level] = []
    meta: dict[str, Any] = {"cpus": os.cpu_count(), "duration_s": args.duration,
                            "warmup_s": args.warmup, "corpus": CORPUS.name,
                            "mean_chars": round(statistics.mean(len(r["text"])
                                                                for r in corpus))}
    for mode in modes:
        t0 = time.monotonic()
        with serve(mode, models_dir=args.models_dir) as server:
            meta[f"startup_s_{mode}"] = round(time.monotonic() - t0, 1)
            meta[f"rss_idle_mb_{mode}"] = round(server.rss_mb(), 1)
            for clients in args.clients:
                lv = run_level(server, mode, corpus, clients, args.duration, args.warmup)
                levels.append(lv)
                print(f"{mode} x{clients}: {lv.rps} req/s, p95 {lv.p95_ms} ms, "
                      f"{lv.errors} error(s), RSS peak {lv.rss_peak_mb} MB", file=sys.stderr)
    print(table(levels))
    print(json.dumps(meta))
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "levels": [asdict(lv) for lv in levels]},
                                        indent=2))
    return 1 if any(lv.errors for lv in levels) else 0


if __name__ == "__main__":
    sys.exit(main())
