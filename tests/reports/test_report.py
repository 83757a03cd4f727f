"""`screener report` end to end: a self-contained HTML file, tables as CSV and Parquet,
nothing identifying in any of it, the same numbers from records and from results, and
the audit database as a source."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from report_case import KEY
from typer.testing import CliRunner

from screener.cli import app
from screener.reports.aggregate import build_tables
from screener.reports.engine import Settings, local_items, run_local
from screener.reports.table import TableSpec

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
runner = CliRunner()

PLANTED = "Quorra VANTABLACK"
PLANTED_NHS = "943 476 5919"
WORKERS = ("Hannah Price", "Tom Fletcher", "Darren Marsh", "Priya Sharma", "Esi Osei")


def planted_records() -> list[dict[str, Any]]:
    """Example records plus some whose flagged sentences name a planted child."""
    lines = (EXAMPLES / "report_records.jsonl").read_text("utf-8").splitlines()[:36]
    recs = [json.loads(x) for x in lines]
    for i in range(4):
        recs.append({
            "id": f"planted-{i}", "doc_type": "visit", "team": "Family Support East",
            "service": "Family Support and Protection", "worker": WORKERS[i],
            "date": f"2025-0{i + 1}-15", "auditor_grade": "Inadequate",
            "text": (f"Child: {PLANTED} (7) NHS {PLANTED_NHS}\nChild's views: N/A\n"
                     "Quorra was not seen alone as mum stayed in the room. Mum said Quorra "
                     "is fine. Continue to monitor.")})
    return recs


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Path:
    folder = tmp_path_factory.mktemp("report")
    src = folder / "records.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in planted_records()), "utf-8")
    key = folder / "key.txt"
    key.write_bytes(KEY)
    res = runner.invoke(app, ["report", str(src), "--mode", "rules", "--events",
                              str(EXAMPLES / "events.csv"), "--by", "team", "--bootstrap",
                              "200", "--key-file", str(key), "-o", str(folder / "out.html")])
    assert res.exit_code == 0, res.output
    assert "40 record(s) reported, 0 error(s)" in res.output
    return folder


def test_html_is_self_contained(report: Path) -> None:
    html = (report / "out.html").read_text("utf-8")
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", html, re.IGNORECASE)
    assert refs, "no src/href at all?"
    assert all(r.startswith(("data:", "#")) for r in refs), [r for r in refs if
                                                               not r.startswith(("data:", "#"))]
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", html, re.IGNORECASE)
    assert "<script" not in html.lower() and "@import" not in html
    assert html.count('src="data:image/png;base64,') >= 5
    for section in ("Grade distribution", "Trends over time", "Marker prevalence",
                    "Commonest gaps", "Agreement", "Performance indicators"):
        assert section in html


def test_tables_written_as_csv_and_parquet(report: Path) -> None:
    folder = report / "out_tables"
    for name in ("grades_by_period", "grades_by_service_period", "grades_by_team_period",
                 "marker_prevalence", "marker_trend", "grade_trend", "gaps", "gap_examples",
                 "agreement", "agreement_confusion", "indicators", "records"):
        csv_t = pd.read_csv(folder / f"{name}.csv")
        pq_t = pd.read_parquet(folder / f"{name}.parquet")
        assert len(csv_t) == len(pq_t) > 0, name
    records = pd.read_parquet(folder / "records.parquet")
    assert len(records) == 40 and "examples" not in records and "text" not in records
    ind = pd.read_csv(folder / "indicators.csv")
    assert "All teams" in set(ind["team"])


def test_nothing_identifying_in_any_output(report: Path) -> None:
    files = [report / "out.html", *sorted((report / "out_tables").glob("*.csv"))]
    for f in files:
        text = f.read_text("utf-8")
        for secret in (*WORKERS, "Quorra", "VANTABLACK", PLANTED_NHS, "9434765919",
                       "planted-"):
            assert secret.lower() not in text.lower(), (f.name, secret)
    ex = pd.read_csv(report / "out_tables" / "gap_examples.csv")
    assert ex["id"].str.startswith("rec-").all()
    assert ex["sentence"].str.contains(r"\[NAME-[a-z2-7]{6}\]").any()
    for parquet in (report / "out_tables").glob("*.parquet"):
        df = pd.read_parquet(parquet)
        blob = df.astype(str).to_csv()
        assert "Quorra" not in blob and "Hannah Price" not in blob, parquet.name


def test_results_input_gives_the_same_tables(tmp_path: Path, settings: Settings,
                                             spec: TableSpec) -> None:
    """Records screened on the fly, and `screener screen` results of the same records
    (carried columns included), give identical report tables."""
    src = tmp_path / "records.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in planted_records()), "utf-8")
    res = runner.invoke(app, ["screen", str(src), "--mode", "rules", "--no-progress", "-o",
                              str(tmp_path / "results.jsonl")])
    assert res.exit_code == 0, res.output
    a = run_local(local_items(src), settings)
    b = run_local(local_items(tmp_path / "results.jsonl"), settings)
    pd.testing.assert_frame_equal(a.tidy, b.tidy)
    ta, tb = build_tables(a.counts, spec, n_boot=100), build_tables(b.counts, spec, n_boot=100)
    for name in ta:
        pd.testing.assert_frame_equal(ta[name], tb[name], obj=name)


def test_bad_inputs_are_reported(tmp_path: Path) -> None:
    res = runner.invoke(app, ["report", "--mode", "rules", "-o", str(tmp_path / "r.html")])
    assert res.exit_code == 2 and "either INPUT or --db" in res.output
    src = tmp_path / "bad.jsonl"
    src.write_text('{"id": "x", "doc_type": "nonsense", "text": "hello"}\nnot json\n')
    res = runner.invoke(app, ["report", str(src), "--mode", "rules", "-o",
                              str(tmp_path / "r.html")])
    assert res.exit_code == 1 and "nothing could be screened" in res.output
    assert "unknown doc_type" in res.output and "malformed JSON" in res.output
    assert not (tmp_path / "r.html").exists()
    conf = tmp_path / "ours.yaml"
    conf.write_text("- 45\n")
    res = runner.invoke(app, ["report", str(EXAMPLES / "report_records.jsonl"), "--mode",
                              "rules", "--indicators", str(conf), "--events",
                              str(EXAMPLES / "events.csv"), "-o", str(tmp_path / "r.html")])
    assert res.exit_code == 2 and "ours.yaml: expected a mapping" in res.output


def test_pseudonymise_command(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in planted_records()[-2:]), "utf-8")
    out = tmp_path / "out.jsonl"
    res = runner.invoke(app, ["pseudonymise", str(src), "-o", str(out)])
    assert res.exit_code == 0, res.output
    text = out.read_text("utf-8")
    assert "Quorra" not in text and PLANTED_NHS not in text and "Esi Osei" not in text
    assert len(text.splitlines()) == 2


# ---- the audit database as a source -----------------------------------------------------

def _audit_db(url: str, spec: TableSpec) -> None:
    import datetime as dt

    from report_case import case_results

    from screener.audit import service
    from screener.audit.db import Database
    from screener.audit.models import CaseFile, CaseRecord, Child, utcnow
    from screener.audit.store import add_result

    db = Database(url)
    levels = {"Good": "good", "RI": "requires_improvement", "Inadequate": "inadequate",
              "Requires improvement": "requires_improvement", "inadequate": "inadequate",
              "requires_improvement": "requires_improvement"}
    try:
        for r in case_results():
            e = r.extra
            with db.session() as s:
                child = Child(pseudonym=f"C-{r.id}", created_at=utcnow())
                s.add(child)
                s.flush()
                cf = CaseFile(pseudonym=f"F-{r.id}", child_id=child.id, created_at=utcnow())
                s.add(cf)
                s.flush()
                date = e["date"]
                when = (dt.date(2025, 1, 10) if date == "10/01/2025" else
                        dt.date.fromisoformat(date) if date else None)
                rec = CaseRecord(file_id=cf.id, source="test", source_id=r.id,
                                 doc_type=r.doc_type, record_date=when, worker=e["worker"],
                                 team=e["team"], service=e["service"], text="Some text.",
                                 content_hash=f"h{r.id}", imported_at=utcnow(),
                                 updated_at=utcnow())
                s.add(rec)
                s.flush()
                add_result(s, rec.id, rec.content_hash, r, {})
                aud = levels.get(e["auditor_grade"] or "")
                if aud:  # (the audit rubric has no "outstanding": r07 stays unreviewed)
                    view = service.record_review(s, rec.id, "auditor-1", grade=aud)
                    mod = levels.get(e["moderator_grade"] or "")
                    if mod:
                        service.record_moderation(s, view.id, "moderator-1", mod)
    finally:
        db.dispose()


def test_report_from_the_audit_database(tmp_path: Path, spec: TableSpec) -> None:
    pytest.importorskip("screener.audit.service")
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    _audit_db(url, spec)
    res = runner.invoke(app, ["report", "--db", "--database-url", url, "--bootstrap", "100",
                              "-o", str(tmp_path / "db.html")])
    assert res.exit_code == 0, res.output
    agree = pd.read_csv(tmp_path / "db_tables" / "agreement.csv")
    all_rows = agree[agree["group"] == "All"].set_index("comparison")
    # r07's Outstanding cannot be stored, so 8 screener/auditor pairs; moderations of
    # r01 r02 r03 r06 (r07 unreviewed) give 4 auditor/moderator pairs.
    assert all_rows.loc["screener_vs_auditor", "n"] == 8
    assert all_rows.loc["auditor_vs_moderator", "n"] == 4
    grades = pd.read_csv(tmp_path / "db_tables" / "grades_by_period.csv")
    assert grades.set_index("period").loc["Total", "Total"] == 10
    html = (tmp_path / "db.html").read_text("utf-8")
    assert "Hannah Price" not in html
