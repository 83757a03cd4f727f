"""No network: nothing the screener does may try to reach another machine.

One fresh interpreter runs every part of issue #7 that exists: `screener screen` in
rules, fast and full mode, `screener import` into an audit database, `screener report`,
and the web API (app start-up, which loads the models, then /v1/screen and /v1/markers
through TestClient, which needs no socket). Import-time behaviour counts too: a library
that checks a hub when imported. Two independent witnesses:

- NetworkGuard (robust_helpers), installed before anything is imported: it refuses and
  records every host-name lookup and every non-Unix connect/sendto, including attempts
  whose error a library would catch and hide (a hub client falling back to its cache).
  The environment has no HF_HUB_OFFLINE/TRANSFORMERS_OFFLINE, so the code has to keep
  MiniLM offline by itself.
- strace, where it is installed and allowed: every connect/sendto/sendmsg system call to
  an IPv4/IPv6 address, from Python or native code, in the process and its children.

`screener train --smoke` takes minutes and is marked slow.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from robust_helpers import ROOT

HELPERS = Path(__file__).with_name("robust_helpers.py")
EXAMPLES = ROOT / "examples"


def _env(tmp_path: Path, models_dir: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")}
    env.update(HOME=str(tmp_path / "home"), MPLCONFIGDIR=str(tmp_path / "mpl"),
               SCREENER_DATABASE_URL=f"sqlite:///{tmp_path / 'audit.db'}")
    if models_dir is not None:
        env["SCREENER_MODELS_DIR"] = str(models_dir)
    (tmp_path / "home").mkdir(exist_ok=True)
    return env


def _strace() -> list[str]:
    """The strace prefix, or [] where strace is missing or may not trace."""
    if shutil.which("strace") is None:
        return []
    probe = subprocess.run(["strace", "-f", "-qq", "--seccomp-bpf", "-e", "trace=connect",
                            "-o", os.devnull, "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return []
    return ["strace", "-f", "-qq", "--seccomp-bpf", "-e", "signal=none",
            "-e", "trace=connect,sendto,sendmsg"]


def run_guarded(code: str, env: dict[str, str], tmp_path: Path, timeout: float = 600,
                trace: bool = False) -> tuple[subprocess.CompletedProcess[str], list[str],
                                              list[str] | None]:
    """Run `code` in a fresh interpreter under the guard (and strace if `trace` and
    available): (process, guard's attempts, strace's inet calls or None)."""
    log = tmp_path / "network-attempts.log"
    strace_log = tmp_path / "strace.log"
    prefix = _strace() if trace else []
    if prefix:
        prefix += ["-o", str(strace_log)]
    proc = subprocess.run([*prefix, sys.executable, str(HELPERS), str(log), "-c", code],
                          env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=timeout)
    attempts = log.read_text().splitlines() if log.exists() else ["(no log: guard not run)"]
    calls = None
    if prefix:
        inet = re.compile(r"\b(connect|sendto|sendmsg)\(.*sa_family=AF_INET6?\b")
        calls = [ln for ln in strace_log.read_text().splitlines() if inet.search(ln)]
    return proc, attempts, calls


def every_part(tmp_path: Path) -> str:
    """The program: each part of the issue in turn. When a new entry point lands (the
    API's file upload, a report from the database ...), add a step here."""
    records = str(EXAMPLES / "records.jsonl")
    screen = [["screen", records, "--mode", m, "-o", str(tmp_path / f"out-{m}.jsonl"),
               "--no-progress"] for m in ("rules", "fast", "full")]
    export = EXAMPLES / "exports"
    import_ = ["import", str(export / "mosaic_steps.csv"), "--mapping",
               str(export / "mosaic_steps.mapping.yaml"), "--mode", "full", "--no-progress"]
    report = ["report", str(EXAMPLES / "report_records.jsonl"), "--mode", "rules",
              "-o", str(tmp_path / "report.html")]
    return f"""
import sys
from screener.cli import app

def step(name, args):
    print("STEP", name, file=sys.stderr, flush=True)
    try:
        app(args, standalone_mode=False)
    except SystemExit as e:
        assert not e.code, (name, e.code)

for args in {screen!r}:
    step("screen " + args[3], args)
step("import", {import_!r})
step("report", {report!r})

print("STEP api", file=sys.stderr, flush=True)
from fastapi.testclient import TestClient
from api import Settings, create_app
from api.auth import create_token
settings = Settings(database_url={f"sqlite:///{tmp_path / 'api.db'}"!r}, mode="full")
with TestClient(create_app(settings)) as client:
    with client.app.state.db.session() as s:
        token = create_token(s, "robustness", "manager")
    h = {{"Authorization": "Bearer " + token}}
    r = client.post("/v1/screen", headers=h, json={{"id": "n1", "doc_type": "visit",
                    "text": "I saw Kai alone in his room. Kai said he was happy."}})
    assert r.status_code == 200 and r.json()["mode"] == "full", (r.status_code, r.text)
    assert client.get("/v1/markers", headers=h).status_code == 200
print("STEP done", file=sys.stderr, flush=True)
"""


def test_no_part_attempts_a_connection(models_dir: Path, tmp_path: Path) -> None:
    proc, attempts, calls = run_guarded(every_part(tmp_path), _env(tmp_path, models_dir),
                                        tmp_path, trace=True)
    steps = [ln for ln in proc.stderr.splitlines() if ln.startswith("STEP")]
    assert proc.returncode == 0 and steps[-1:] == ["STEP done"], \
        f"{steps}\n{proc.stderr[-3000:]}"
    assert attempts == [], f"tried to use the network: {attempts}"
    assert calls in (None, []), f"connect()/sendto() to an IP address: {calls}"
    for mode in ("rules", "fast", "full"):
        out = (tmp_path / f"out-{mode}.jsonl").read_text().splitlines()
        assert out and all(json.loads(line).get("mode") == mode for line in out)
    assert (tmp_path / "report.html").stat().st_size > 0


def test_the_witnesses_catch_what_they_should(tmp_path: Path) -> None:
    """Both witnesses must be able to fail: a lookup and connections that the code under
    test swallows are still recorded."""
    code = """
import socket, urllib.request
for call in (lambda: socket.getaddrinfo("example.org", 443),
             lambda: socket.create_connection(("192.0.2.1", 80), timeout=1),
             lambda: urllib.request.urlopen("https://huggingface.co", timeout=1)):
    try:
        call()
    except OSError:
        pass  # a library that hides the failure
"""
    proc, attempts, _ = run_guarded(code, dict(os.environ), tmp_path)
    assert len(attempts) == 3, (attempts, proc.stderr[-2000:])
    assert any("example.org" in a for a in attempts)
    assert all(" from " in a for a in attempts)  # each says where it came from
    if _strace():  # a native connect() that bypasses the guard is still seen by strace
        code = """
import ctypes, socket
libc = ctypes.CDLL(None)
s = socket.socket()
addr = bytes([2, 0, 0, 80, 192, 0, 2, 1]) + bytes(8)  # sockaddr_in 192.0.2.1:80
libc.connect(s.fileno(), ctypes.c_char_p(addr), 16)
"""
        _, _, calls = run_guarded(code, dict(os.environ), tmp_path, trace=True)
        assert calls and "192.0.2.1" in calls[0]


@pytest.mark.slow
def test_training_uses_no_network(tmp_path: Path) -> None:
    code = f"""
from screener.cli import app
app(["train", "--smoke", "-o", {str(tmp_path / "models")!r}], standalone_mode=False)
"""
    proc, attempts, calls = run_guarded(code, _env(tmp_path), tmp_path, timeout=900,
                                        trace=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert attempts == [] and calls in (None, []), (attempts, calls)
