"""Shared by the robustness tests.

- `ScreenWorker`: a Screener in a child process. Python's regular-expression engine
  holds the interpreter while it backtracks, so a thread cannot time it out; a child
  process can be killed, and a pathological input then fails its test instead of
  stalling CI.
- `check_result`: the invariants every result must keep, whatever the input.
- `NetworkGuard`: refuses and records every attempt to resolve a host name or open a
  non-Unix socket, including attempts whose error some library catches and hides.
- `hostile_*`: inputs built to hurt segmentation and regular expressions.
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import socket
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported lazily, so the guarded runner blocks the network first
    from screener.config.models import Rubric
    from screener.schemas import ScreenResult

ROOT = Path(__file__).resolve().parents[2]

# --------------------------------------------------------------------------- results


def check_result(result: ScreenResult, text: str, doc_type: str, rubric: Rubric) -> None:
    """Assert what must hold for any input: evidence offsets index the input and equal
    the evidence text, probabilities are probabilities, grades are the rubric's."""
    assert result.doc_type == doc_type
    assert result.grade in rubric.levels, result.grade
    assert list(result.markers) == rubric.markers_for(doc_type)
    probs = result.grade_probabilities
    assert set(probs) == set(rubric.levels)
    assert all(0.0 <= p <= 1.0 and not math.isnan(p) for p in probs.values()), probs
    assert abs(sum(probs.values()) - 1.0) < 1e-3, probs
    evidence = []
    for name, marker in result.markers.items():
        assert 0.0 <= marker.probability <= 1.0, (name, marker.probability)
        evidence += marker.evidence + (marker.trace or [])
    for flag in result.flags:
        evidence += flag.evidence
    for ev in evidence:
        assert 0 <= ev.start <= ev.end <= len(text), (ev.start, ev.end, len(text))
        assert text[ev.start:ev.end] == ev.text, (ev.start, ev.end, ev.text[:80])
        if ev.sentence is not None:
            assert ev.sentence in text
    # The output line must be strict JSON (no NaN) and round-trip.
    line = json.dumps(result.to_output(explain=True), ensure_ascii=False, allow_nan=False)
    assert json.loads(line)["id"] == result.id


# --------------------------------------------------------------------------- worker


def _serve(conn: Connection, mode: str, models_dir: str | None) -> None:
    """Child process: build one Screener, then screen whatever the parent sends."""
    from screener.pipeline import InvalidRecord, Screener

    try:
        scr = Screener(mode=mode, models_dir=models_dir)
    except BaseException:
        conn.send(("crash", traceback.format_exc()))
        return
    conn.send(("ready", None))
    while True:
        try:
            doc_type, text = conn.recv()
        except EOFError:
            return
        t0 = time.perf_counter()
        try:
            result = scr.screen_one(doc_type, text)
            conn.send(("ok", (result.model_dump_json(), time.perf_counter() - t0)))
        except InvalidRecord as e:
            conn.send(("invalid", (str(e), time.perf_counter() - t0)))
        except BaseException:
            conn.send(("crash", traceback.format_exc()))


class Hang(AssertionError):
    """Screening one record took longer than its time budget."""


class ScreenWorker:
    """A Screener of one mode in a spawned child process, restarted after a hang."""

    def __init__(self, mode: str, models_dir: Path | None, start_timeout: float = 300):
        self.mode = mode
        self.models_dir = str(models_dir) if models_dir else None
        self.start_timeout = start_timeout
        self._ctx = mp.get_context("spawn")
        self._start()

    def _start(self) -> None:
        self.conn, child = self._ctx.Pipe()
        self.proc = self._ctx.Process(target=_serve, args=(child, self.mode, self.models_dir),
                                      daemon=True)
        self.proc.start()
        child.close()
        if not self.conn.poll(self.start_timeout):
            self.close()
            raise RuntimeError(f"{self.mode} worker did not start in {self.start_timeout} s")
        kind, payload = self.conn.recv()
        if kind != "ready":
            self.close()
            raise RuntimeError(f"{self.mode} worker failed to start:\n{payload}")

    def screen(self, doc_type: str, text: str,
               timeout: float) -> tuple[ScreenResult | str, float]:
        """(ScreenResult, seconds), or (InvalidRecord message, seconds). A crash is an
        AssertionError with the child's traceback; a hang is `Hang` (worker restarted)."""
        self.conn.send((doc_type, text))
        if not self.conn.poll(timeout):
            self.close()
            self._start()
            raise Hang(f"{self.mode} mode: no result in {timeout:.0f} s for a "
                       f"{len(text):,}-character {doc_type} ({text[:60]!r}...)")
        kind, payload = self.conn.recv()
        if kind == "crash":
            raise AssertionError(f"{self.mode} mode crashed on {text[:80]!r}:\n{payload}")
        if kind == "invalid":
            return payload[0], payload[1]
        from screener.schemas import ScreenResult

        return ScreenResult.model_validate_json(payload[0]), payload[1]

    def close(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(10)
        self.conn.close()


# --------------------------------------------------------------------------- network


class NetworkAttempt(OSError):
    """Raised in place of a network call while a NetworkGuard is active."""


class NetworkGuard:
    """Blocks and records name lookups and connections other than Unix sockets.

    Recording matters as much as blocking: a library that catches the error and falls
    back to a cache would pass a blocking-only test while still trying to phone home.
    """

    def __init__(self) -> None:
        self.attempts: list[str] = []
        self._saved: list[tuple[Any, str, Any]] = []

    def _refuse(self, what: str) -> None:
        import traceback as tb

        # where it came from: the innermost frames outside this module and the socket module
        frames = [f for f in tb.extract_stack()[:-2]
                  if not f.filename.endswith(("robust_helpers.py", "socket.py"))][-3:]
        where = " <- ".join(f"{Path(f.filename).name}:{f.lineno}" for f in reversed(frames))
        self.attempts.append(f"{what} from {where}")
        raise NetworkAttempt(f"network access blocked by the test: {what}")

    def _patch(self, owner: Any, name: str, replacement: Any) -> None:
        self._saved.append((owner, name, getattr(owner, name)))
        setattr(owner, name, replacement)

    def __enter__(self) -> NetworkGuard:
        guard = self
        real_connect = socket.socket.connect
        real_connect_ex = socket.socket.connect_ex
        real_sendto = socket.socket.sendto

        def is_unix(sock: socket.socket) -> bool:
            return getattr(socket, "AF_UNIX", None) is not None and sock.family == socket.AF_UNIX

        def connect(sock: socket.socket, address: Any) -> Any:
            if is_unix(sock):
                return real_connect(sock, address)
            guard._refuse(f"connect {address!r}")

        def connect_ex(sock: socket.socket, address: Any) -> Any:
            if is_unix(sock):
                return real_connect_ex(sock, address)
            guard._refuse(f"connect_ex {address!r}")

        def sendto(sock: socket.socket, *args: Any) -> Any:
            if is_unix(sock):
                return real_sendto(sock, *args)
            guard._refuse(f"sendto {args[-1]!r}")

        def lookup(name: str) -> Any:
            def refuse(*args: Any, **kwargs: Any) -> Any:
                guard._refuse(f"{name} {args[:2]!r}")
            return refuse

        self._patch(socket.socket, "connect", connect)
        self._patch(socket.socket, "connect_ex", connect_ex)
        self._patch(socket.socket, "sendto", sendto)
        for fn in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "create_connection"):
            self._patch(socket, fn, lookup(fn))
        return self

    def __exit__(self, *exc: object) -> None:
        for owner, name, original in reversed(self._saved):
            setattr(owner, name, original)
        self._saved.clear()


@contextmanager
def no_network() -> Iterator[NetworkGuard]:
    """NetworkGuard plus pytest-socket's own block (Unix sockets allowed)."""
    import pytest_socket

    pytest_socket.disable_socket(allow_unix_socket=True)
    try:
        with NetworkGuard() as guard:
            yield guard
    finally:
        pytest_socket.enable_socket()


# Run as `python robust_helpers.py LOGFILE -m module args...` (or `-c code`): the guard
# is installed first, so everything the program imports runs under it; attempts are
# appended to LOGFILE, which the test reads.
def _guarded_main(argv: list[str]) -> None:
    import atexit
    import runpy

    log = Path(argv[0])
    guard = NetworkGuard().__enter__()
    atexit.register(lambda: log.write_text("".join(a + "\n" for a in guard.attempts)))
    if argv[1] == "-m":
        sys.argv = [argv[2], *argv[3:]]
        runpy.run_module(argv[2], run_name="__main__", alter_sys=True)
    else:
        sys.argv = ["-c", *argv[3:]]
        exec(compile(argv[2], "<guarded>", "exec"), {"__name__": "__main__"})



# --------------------------------------------------------------------------- regexes

# Where each pattern is applied decides what it can be given: "text" patterns see a whole
# record, "line" patterns one line (no line breaks), "short" ones a heading or a short
# fragment. A pattern not named here is treated as "text", the strictest.
PATTERN_SCOPES = {
    "action_rows.v1.action": "line", "action_rows.v1.owner": "line",
    "action_rows.v1.deadline": "line", "action_rows.v1.not_deadline": "line",
    "action_rows.v1.specific": "line",
    "screener.rules.detectors._TITLE": "line", "screener.rules.detectors._LIST_LINE": "line",
    "screener.rules.detectors._NUM_DATE": "short", "screener.rules.detectors._WORD_DATE": "short",
    "context.placeholder": "short",  # only bodies of PLACEHOLDER_MAX characters or fewer
    "screener.text.segment._INLINE_HEADING": "line",
    "screener.text.segment._EDGE_TAIL": "short",  # searched in the last 64 characters
}
SCOPE_SIZES = {"text": 8000, "line": 8000, "short": 160}


def _is_pattern(obj: Any) -> bool:
    return hasattr(obj, "finditer") and isinstance(getattr(obj, "pattern", None), str)


def all_patterns() -> dict[str, tuple[Any, str]]:
    """Every compiled pattern the engine runs, by name, with its scope: the rubric's
    headings, cues and `unless` patterns, the context layer, the detectors' own, and the
    module-level patterns of screener.text and screener.rules."""
    import importlib
    from types import SimpleNamespace

    from screener.config.loader import load_rubric
    from screener.rules.registry import detector_kinds
    from screener.text.context import ContextLayer

    rubric = load_rubric()
    found: dict[str, Any] = {}
    for mid, spec in rubric.markers.items():
        for i, heading in enumerate(spec._headings):
            found[f"markers.{mid}.headings[{i}]"] = heading
        for cue in spec.cues:
            if cue.pattern is not None:
                found[f"markers.{mid}.{cue.id}"] = cue.pattern
            if cue.unless_pattern is not None:
                found[f"markers.{mid}.{cue.id}.unless"] = cue.unless_pattern
    for name, value in vars(ContextLayer(rubric.context)).items():
        if _is_pattern(value):
            found[f"context.{name}"] = value
    ctx = SimpleNamespace(rubric=rubric)
    for kind_name, kind in detector_kinds().items():
        patterns = getattr(kind, "_patterns", None)
        if patterns is None:
            continue
        labels = {"action_rows.v1": ("action", "owner", "deadline", "not_deadline",
                                     "specific"),
                  "supervision_frequency.v1": ("previous", "date", "session")}
        for i, pat in enumerate(patterns(ctx)):
            label = labels.get(kind_name, ())
            found[f"{kind_name}.{label[i] if i < len(label) else i}"] = pat
    for module_name in ("screener.text.segment", "screener.text.names", "screener.text.context",
                        "screener.rules.detectors", "screener.rules.components"):
        module = importlib.import_module(module_name)
        for name, value in vars(module).items():
            values = value if isinstance(value, list | tuple) else [value]
            for i, item in enumerate(values):
                if _is_pattern(item):
                    suffix = f"[{i}]" if values is value else ""
                    found[f"{module_name}.{name}{suffix}"] = item
    short = ("headings[",)
    return {name: (pat, PATTERN_SCOPES.get(name, "short" if any(s in name for s in short)
                                           else "text"))
            for name, pat in found.items()}


def adversarial_strings(pattern_source: str, scope: str, scale: int = 1) -> list[str]:
    """Long runs of RUN_UNITS and of pairs of them, and runs of the pattern's own words
    (alternations of words are what backtrack), sized (times `scale`) and cleaned for the
    scope; the same list, in the same order, at every scale."""
    import itertools
    import random
    import re

    size = SCOPE_SIZES[scope] * scale
    units = list(RUN_UNITS)
    rng = random.Random(7)
    units += [a + b for a, b in rng.sample(list(itertools.permutations(RUN_UNITS[:40], 2)), 30)]
    words = sorted(set(re.findall(r"[a-z]{3,}", pattern_source)))[:40]
    if words:
        units += [" ".join(words) + " ", ": ".join(words) + "\n", "-".join(words) + " "]
        units += [w.capitalize() + " " for w in words[:5]]
    out = [repeat_to(unit, size) for unit in units]
    # A run after a word the pattern looks for: a pattern that lets two quantifiers share
    # the run (as "\s*X?\s*" did) is quadratic only once something has matched before it.
    befores = ["a", "Kai said ", "Kai", "Kai Smith", "mum"] + words[:4] + \
        [w.capitalize() for w in words[:2]]
    fill = [u for u in RUN_UNITS if len(u) == 1 or u in ("\r\n", "\n \n", "e\u0301")]
    for i, before in enumerate(befores):
        for unit in (fill if i < 2 else (" ", "\n", "\u2028", "\xa0", "-", ".", ":")):
            after = "b | c: d. Mum: 1/2"
            out.append(before + repeat_to(unit, size - len(before) - len(after)) + after)
    if scope != "text":
        out = [t.replace("\r", " ").replace("\n", " ") for t in out]
    return out


def _regex_worker(conn: Connection, start: int) -> None:
    """Child process: time every pattern from index `start` on its adversarial strings,
    reporting before each pattern so that the parent knows which one hangs."""
    patterns = list(all_patterns().items())
    conn.send(("count", len(patterns)))
    for index in range(start, len(patterns)):
        name, (pattern, scope) = patterns[index]
        conn.send(("start", (index, name)))

        def timed(text: str, pattern: Any = pattern) -> float:
            t0 = time.perf_counter()
            for _ in pattern.finditer(text):
                pass
            return time.perf_counter() - t0

        texts = adversarial_strings(pattern.pattern, scope)
        worst, worst_at = max((timed(t), i) for i, t in enumerate(texts))
        # A slow-looking input is run again four times as long: linear time grows 4x,
        # quadratic 16x. (Only for the few patterns that take measurable time.)
        worst4 = timed(adversarial_strings(pattern.pattern, scope, 4)[worst_at]) \
            if worst > 0.01 else 0.0
        conn.send(("done", (index, name, worst, worst4, texts[worst_at][:40])))
    conn.send(("end", None))


Timing = tuple[str, float, float, str]  # pattern, worst seconds, seconds at 4x, input start


def time_all_patterns(hang_after: float) -> tuple[list[Timing], list[str]]:
    """([(pattern, worst seconds, the same input 4x as long, its start)], [patterns that
    hung]), each pattern run in a child process killed after `hang_after` seconds."""
    ctx = mp.get_context("spawn")
    timings: list[Timing] = []
    hung: list[str] = []
    start = 0
    while True:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_regex_worker, args=(child, start), daemon=True)
        proc.start()
        child.close()
        current: tuple[int, str] | None = None
        try:
            while True:
                if not parent.poll(hang_after if current else 300):
                    if current is None:
                        raise RuntimeError("the regex worker did not start")
                    hung.append(current[1])
                    start = current[0] + 1
                    break
                kind, payload = parent.recv()
                if kind == "start":
                    current = payload
                elif kind == "done":
                    timings.append(payload[1:])
                    current = None
                elif kind == "end":
                    return timings, hung
        finally:
            proc.kill()
            proc.join(10)
            parent.close()


# --------------------------------------------------------------------------- inputs

# Characters that break naive text handling: controls, zero-width and direction marks,
# odd line and space separators, combining marks, emoji sequences, a BOM, replacement.
HOSTILE_CHARS = (
    "\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x1c", "\x1f", "\x7f", "\x85",
    "\xa0", "\xad", "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u202e",
    "\u2066", "\u2069", "\u2028", "\u2029", "\u3000", "\ufeff", "\ufffd", "\ufffe",
    "e\u0301", "\u0130", "\u0131", "ß", "ﬁ", "İ", "Ω", "\U0001f600", "\U0001f468\u200d\U0001f469"
    "\u200d\U0001f467", "\U0001f44d\U0001f3fd", "\U0001f1ec\U0001f1e7", "\r", "\r\n", "\t",
)
# Fragments that the segmenter and the cues look for.
HOSTILE_PIECES = (
    "------", "****", "====", "____", "|", " | ", "||", ":", "::", " : ", "**", "##", "# ",
    "- ", "• ", "1.", "a)", "(", ")", "[", "]", "<", ">", "<br>", "<p>", "</p>", "<li>",
    "&nbsp;", "&amp;", "\"", "“", "”", "'", "’", "...", ". ", "? ", "! ", ";", ",", "/",
    "N/A", "TBC", "n/a", "see above", "[insert]", "-", "Child's views:", "Analysis:",
    "Contingency:", "Who:", "By when:", "Actions:", "Purpose of visit:", "Seen alone: yes",
    "Kai", "Kai (8)", "Kai, 8", "Mum", "mum said", "Kai said", "Kai was seen", "not",
    "was not seen", "to be seen", "on the phone", "because", "Dr Patel", "School report",
    "12/03/2024", "3rd March 2024", "by 1 May", "SW to refer", "weekly", "A", "aaaa",
    "AAAA", "Aa", "0", "99", "\n", "\n\n", " ", "  ",
)
# A long run of one of these (a whole line, or many lines) has hung regexes before.
RUN_UNITS = (
    "-", "*", "=", "_", "#", "|", ":", ".", ",", " ", "\t", "\n", "\r", "\r\n", "\n \n", "a",
    "A", "Aa ", "aa ", "1", "1/", "12/", "(", ")", "[", "<", "'", "\"", "a:", "A: ", ": ",
    "- ", "-\n", "*\n", "| ", "|\n", "\u200b", "\xa0", "\u2028", "e\u0301", "\U0001f600",
    "Kai ", "Kai-", "Kai's ", "Kai said ", "mum said ", "seen ", "not ", "to ", "will ",
    "Dr ", "Mr ", "by ", "Who: ", "Kai (8) ", "Kai, 8\n", "School: ", "12 Jan ", "<b>",
    "&nbsp;", "a-", "Mum: Kai said \n", "Heading:\n", "HEADING\n", "1. ",
)


def repeat_to(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def big_shapes(size: int) -> dict[str, str]:
    """Inputs of about `size` characters, each hostile to a different part."""
    from training.generate import generate_records

    records = generate_records(120, 11)
    realistic: list[str] = []
    total = 0
    while total < size:
        realistic.append(records[len(realistic) % len(records)]["text"])
        total += len(realistic[-1]) + 2
    return {
        "records": "\n\n".join(realistic)[:size],
        "one_line": repeat_to("Kai said he was seen by mum ", size),
        "tiny_sentences": repeat_to("Kai said hi. ", size),
        "blank_lines": "Child: Kai, 8\n" + "\n" * (size // 2) + repeat_to("\n \n", size // 2),
        "headings": repeat_to("Child's views:\nAnalysis: TBC\nWho: SW\n", size),
        "colons": repeat_to("a: ", size),
        "pipes": repeat_to("| Kai | SW to refer | by 1 May |\n", size),
        "dashes": repeat_to("-" * 60 + "\n" + "*" * 40 + "\n", size),
        "emoji_rtl": repeat_to("Kai \u202e\U0001f600 said \u200b\u200f hi. ", size),
    }


if __name__ == "__main__":
    _guarded_main(sys.argv[1:])
