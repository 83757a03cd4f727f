"""No record text in any log line: a record with planted, unmistakable personal details
is screened in every mode, from the library, the CLI and the API, with every logger at
DEBUG; the planted strings may appear in the results and nowhere else.

The planted record must also produce evidence that quotes it, so that a pass means "the
text was there to leak and did not", not "the text was never looked at".
"""

from __future__ import annotations

import csv
import json
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from screener.pipeline import InvalidRecord, Screener
from screener.schemas import Record

NAME = "Zebedee Quartermaine"
NHS = "943 476 5919"
PLANTED = (NAME, "Zebedee", "Quartermaine", NHS, "9434765919", "14 Larkspur Close", "LS6 2QT",
           "07700 900123")
TEXT = (f"Home visit to {NAME} (8), NHS number {NHS}, at 14 Larkspur Close, LS6 2QT.\n"
        "Zebedee was seen alone in his bedroom. Zebedee said \"I like my new school\".\n"
        "Mum (07700 900123) said he sleeps well.\n"
        "Analysis: Zebedee is safe at home because mum keeps the routine going.")


def leaks(text: str) -> list[str]:
    return [p for p in PLANTED if p in text]


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        parts = [record.getMessage(), str(record.args or "")]
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
        self.lines.append(f"{record.name}: " + " | ".join(parts))


@contextmanager
def every_log_line(except_: tuple[str, ...] = ()) -> Iterator[list[str]]:
    """Every log record of every logger at DEBUG (handlers added to the loggers that do
    not propagate, e.g. transformers'), and every warning, as text. Loggers named in
    `except_` (and their children) keep their own levels."""
    handler = _Collect()
    loggers = [logging.getLogger()] + [
        lg for lg in logging.Logger.manager.loggerDict.values()
        if isinstance(lg, logging.Logger) and not lg.propagate]
    saved = [(lg, lg.level) for lg in loggers]
    children = [(lg, lg.level) for lg in logging.Logger.manager.loggerDict.values()
                if isinstance(lg, logging.Logger) and not lg.name.startswith(except_ or ("\0",))]
    kept = [logging.getLogger(name) for name in except_]
    saved += [(lg, lg.level) for lg in kept]
    logging.disable(logging.NOTSET)
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    for lg, _ in children:
        lg.setLevel(logging.DEBUG)
    for lg in kept:
        lg.setLevel(max(lg.getEffectiveLevel(), logging.WARNING))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield handler.lines
            handler.lines.extend(f"warning: {w.message}" for w in caught)
    finally:
        for lg in loggers:
            lg.removeHandler(handler)
        for lg, level in saved + children:
            lg.setLevel(level)


@pytest.fixture(scope="module")
def screeners(models_dir: Path) -> dict[str, Screener]:
    return {mode: Screener(mode=mode, models_dir=models_dir) for mode in ("rules", "fast",
                                                                             "full")}


@pytest.mark.parametrize("mode", ["rules", "fast", "full"])
def test_library_logs_no_record_text(mode: str, screeners: dict[str, Screener],
                                     capfd: pytest.CaptureFixture[str]) -> None:
    scr = screeners[mode]
    with every_log_line() as lines:
        result = scr.screen_one("visit", TEXT, id="planted-1")
        batch = list(scr.screen([Record(id="ok", doc_type="visit", text=TEXT),
                                 Record(id="bad", doc_type="minutes", text=TEXT),
                                 Record(id="sur", doc_type="visit", text=TEXT + "\ud800")]))
        with pytest.raises(InvalidRecord) as err:
            scr.screen_one("visit", TEXT + "\udfff")
    quoted = " ".join(ev.text for m in result.markers.values() for ev in m.evidence)
    assert leaks(quoted), "the planted text should be quoted as evidence"
    assert leaks(lines and "\n".join(lines) or "") == [], [ln for ln in lines if leaks(ln)]
    for item in batch[1:]:
        assert leaks(item.model_dump_json()) == []  # error results name, never quote
    assert leaks(str(err.value)) == []
    out, errs = capfd.readouterr()
    assert leaks(out + errs) == [], "the library printed record text"


def test_cli_stderr_and_logs_have_no_record_text(models_dir: Path, tmp_path: Path) -> None:
    """`screener screen` (good records and bad lines around them, every output format)
    and `screener import`, with every logger at DEBUG: nothing on stderr, in a log record
    or in a warning quotes the record; the results file does."""
    from typer.testing import CliRunner

    from screener.cli import app

    src = tmp_path / "planted.jsonl"
    lines = [json.dumps({"id": "p1", "doc_type": "visit", "text": TEXT}),
             json.dumps({"id": "p2", "doc_type": "minutes", "text": TEXT}),
             '{"id": "p3", "doc_type": "visit", "text": "' + TEXT[:60],  # malformed
             json.dumps({"id": "p4", "doc_type": "visit", "text": TEXT + "\ud800"}),
             json.dumps({"id": "p5", "doc_type": "visit", "text": TEXT * 20_000})]  # too long
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    runs = [["screen", str(src), "--mode", mode, "-o", str(tmp_path / f"out-{mode}.{fmt}"),
             "--format", fmt, "--explain", "--no-progress"]
            for mode, fmt in (("rules", "jsonl"), ("full", "jsonl"), ("rules", "csv"),
                              ("rules", "text"))]
    runs.append(["import", str(_export(tmp_path / "export.csv")), "--mode", "rules", "--db",
                 f"sqlite:///{tmp_path / 'audit.db'}", "--no-progress"])
    runner = CliRunner()
    stderr = []
    # SQL logging has its own test below; here the CLI's own output.
    with every_log_line(except_=("sqlalchemy.engine",)) as log_lines:
        for args in runs:
            res = runner.invoke(app, args, env={"SCREENER_MODELS_DIR": str(models_dir)})
            assert res.exit_code == 0, (args, res.output)
            stderr.append(res.stderr)
            assert leaks(res.stdout) == []
    assert "screened 1 record(s), 4 error(s)" in stderr[0]  # it ran, and complained
    assert "[record r2]" in stderr[-1]  # the import's bad row, named by its id
    bad = [ln for ln in "\n".join(stderr).splitlines() + log_lines if leaks(ln)]
    assert bad == [], bad
    for name in ("out-rules.jsonl", "out-full.jsonl", "out-rules.text"):  # (CSV: no quotes)
        assert leaks((tmp_path / name).read_text(encoding="utf-8")), name  # results quote it


def _export(path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "child_id", "case_file", "doc_type", "date", "worker", "team",
                         "service", "text"])
        writer.writerow(["r1", "c1", "f1", "visit", "2025-03-01", "Sam Riley", "North", "CIN",
                         TEXT])
        writer.writerow(["r2", "c1", "f1", "minutes", "2025-03-02", "Sam Riley", "North",
                         "CIN", TEXT])  # a bad row: reported with its line, not its text
    return path


def test_import_logs_no_record_text_even_with_sql_logging(
        tmp_path: Path, screeners: dict[str, Screener]) -> None:
    from screener.audit.db import Database
    from screener.audit.importer import import_file
    from screener.audit.mapping import load_mapping

    export = _export(tmp_path / "export.csv")
    with every_log_line() as lines:
        db = Database(f"sqlite:///{tmp_path / 'audit.db'}")
        report = import_file(db, export, load_mapping(None), screeners["rules"])
    assert report.inserted == 1
    bad = [line[:200] for line in lines if leaks(line)]
    assert bad == [], bad


def test_api_logs_no_record_text(tmp_path: Path, screeners: dict[str, Screener]) -> None:
    from fastapi.testclient import TestClient

    from api import Settings, create_app
    from api.auth import create_token

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'api.db'}", mode="full",
                        max_record_chars=5_000)
    app = create_app(settings, screener=screeners["full"])
    with every_log_line() as lines, TestClient(app) as client:
        with app.state.db.session() as s:
            token = create_token(s, "robustness", "manager")
        headers = {"Authorization": f"Bearer {token}"}
        ok = client.post("/v1/screen", headers=headers,
                         json={"id": "a1", "doc_type": "visit", "text": TEXT})
        assert ok.status_code == 200 and leaks(ok.text)
        for body in ({"id": "a2", "doc_type": "minutes", "text": TEXT},
                     {"id": "a3", "doc_type": "visit", "text": TEXT * 100},
                     {"id": "a4", "doc_type": "visit", "text": TEXT, "extra": TEXT}):
            assert client.post("/v1/screen", headers=headers, json=body).status_code \
                in (413, 422)
        client.post("/v1/hints", headers=headers, json={"doc_type": "visit", "text": TEXT})
        client.post("/v1/screen", json={"id": "a5", "doc_type": "visit", "text": TEXT})
    bad = [line for line in lines if leaks(line)]
    assert bad == [], bad
