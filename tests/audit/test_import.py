"""`screener import`: the example exports, bad rows, idempotent re-import, changed records."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from screener.audit.importer import import_file, rescreen
from screener.audit.mapping import load_mapping
from screener.audit.models import CaseFile, CaseRecord, Child, ImportRun, ScreeningResult
from screener.cli import app

EXPORTS = Path(__file__).resolve().parents[2] / "examples" / "exports"
MOSAIC = EXPORTS / "mosaic_steps.csv"
MOSAIC_MAP = EXPORTS / "mosaic_steps.mapping.yaml"
LL = EXPORTS / "liquidlogic_forms.jsonl"
LL_MAP = EXPORTS / "liquidlogic_forms.mapping.yaml"


def counts(db) -> tuple[int, int, int]:
    with db.session() as s:
        return (s.scalar(select(func.count()).select_from(CaseRecord)) or 0,
                s.scalar(select(func.count()).select_from(ScreeningResult)) or 0,
                s.scalar(select(func.count()).select_from(ScreeningResult)
                         .where(ScreeningResult.is_latest)) or 0)


def test_example_exports_import_with_bad_rows_reported(db, screener):
    rep = import_file(db, MOSAIC, load_mapping(MOSAIC_MAP), screener, batch_size=4)
    assert (rep.rows, rep.inserted, rep.skipped, len(rep.bad), rep.screened) == (17, 13, 1, 3, 13)
    assert rep.skipped_types == {"Case Note": 1}
    bad = {e.line: e for e in rep.bad}
    assert sorted(bad) == [52, 97, 104]
    assert "31/02/2025" in bad[52].reason and bad[52].source_id == "ST-500245"
    assert bad[97].reason == "empty text"
    assert "unknown record type 'Core Grp Minutes'" in bad[104].reason
    rep2 = import_file(db, LL, load_mapping(LL_MAP), screener)
    assert (rep2.rows, rep2.inserted, rep2.skipped, len(rep2.bad)) == (13, 10, 1, 2)
    assert [(e.line, e.reason.split(" (")[0]) for e in rep2.bad] == [
        (10, "malformed JSON"), (12, "no child id")]
    assert counts(db) == (23, 23, 23)
    with db.session() as s:
        # siblings on one LiquidLogic case share a file; Mosaic files are one per person
        assert s.scalar(select(func.count()).select_from(CaseFile)) == 11
        runs = s.scalars(select(ImportRun).order_by(ImportRun.id)).all()
        assert [r.status for r in runs] == ["done", "done"]
        assert runs[0].counts["bad"] == 3 and runs[0].errors[0]["line"] == 52
        rec = s.scalar(select(CaseRecord).where(CaseRecord.source_id == "LCS-88213"))
        assert rec is not None and rec.key == "liquidlogic:LCS-88213"
        assert rec.text.startswith("Purpose of visit:\nStatutory CP visit")
        assert (rec.team, rec.service, str(rec.record_date)) == (
            "Locality East", "Child Protection", "2025-02-11")


def test_source_ids_of_people_are_never_stored(db, screener):
    import_file(db, MOSAIC, load_mapping(MOSAIC_MAP), screener)
    with db.session() as s:
        names = list(s.scalars(select(Child.pseudonym))) + list(
            s.scalars(select(CaseFile.pseudonym)))
    assert names and all(n.startswith(("C-", "F-")) for n in names)
    assert not any("1048221" in n for n in names)


def test_reimport_is_idempotent(db, screener):
    m = load_mapping(MOSAIC_MAP)
    import_file(db, MOSAIC, m, screener)
    with db.session() as s:
        before = sorted(s.execute(select(CaseRecord.id, CaseRecord.source_id, CaseFile.pseudonym)
                                  .join(CaseFile)).all())
    rep = import_file(db, MOSAIC, m, screener)
    assert (rep.inserted, rep.updated, rep.unchanged, rep.screened) == (0, 0, 13, 0)
    assert len(rep.bad) == 3  # still reported, every time
    assert counts(db) == (13, 13, 13)
    with db.session() as s:
        after = sorted(s.execute(select(CaseRecord.id, CaseRecord.source_id, CaseFile.pseudonym)
                                 .join(CaseFile)).all())
    assert after == before


def _rewrite_csv(src: Path, dst: Path, changes: dict[str, dict[str, str]]) -> None:
    with src.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        row.update(changes.get(row["Step ID"], {}))
    with dst.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def test_changed_record_is_updated_and_rescreened_keeping_the_old_result(db, screener,
                                                                         tmp_path: Path):
    m = load_mapping(MOSAIC_MAP)
    import_file(db, MOSAIC, m, screener)
    changed = tmp_path / "export2.csv"
    new_text = ("Home visit. Purpose: to review the CIN plan. Kai was seen alone in his bedroom "
                "and said \"I feel safe now Dean has gone\".")
    _rewrite_csv(MOSAIC, changed, {"ST-500188": {"Form Text": new_text},
                                   "ST-500214": {"Team": "Northfield CIN Team 3"}})
    rep = import_file(db, changed, m, screener)
    assert (rep.inserted, rep.updated, rep.unchanged, rep.screened) == (0, 2, 11, 1)
    assert counts(db) == (13, 14, 13)
    with db.session() as s:
        rec = s.scalar(select(CaseRecord).where(CaseRecord.source_id == "ST-500188"))
        assert rec is not None and rec.text == new_text
        results = s.scalars(select(ScreeningResult).where(ScreeningResult.record_id == rec.id)
                            .order_by(ScreeningResult.id)).all()
        assert [r.is_latest for r in results] == [False, True]
        assert results[1].content_hash == rec.content_hash != results[0].content_hash
        moved = s.scalar(select(CaseRecord.team).where(CaseRecord.source_id == "ST-500214"))
        assert moved == "Northfield CIN Team 3"


def test_duplicate_record_ids_in_one_export_are_reported(db, screener, tmp_path: Path):
    rows = [{"id": "r1", "child_id": "c1", "doc_type": "visit", "text": "Kai was seen at home."},
            {"id": "r2", "child_id": "c1", "doc_type": "visit", "text": "Kai was seen at school."},
            {"id": "r1", "child_id": "c1", "doc_type": "visit", "text": "A different text."}]
    path = tmp_path / "dup.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    rep = import_file(db, path, load_mapping(None), screener)
    assert rep.inserted == 2
    assert [(e.line, e.source_id) for e in rep.bad] == [(3, "r1")]
    assert "duplicate record id 'r1' (first at line 1)" in rep.bad[0].reason


def test_export_cut_inside_a_quoted_field_reports_the_last_row(db, screener, tmp_path: Path):
    path = tmp_path / "cut.csv"
    path.write_text('id,child_id,doc_type,text\nr1,c1,visit,Kai was seen at home.\n'
                    'r2,c1,visit,"Kai said ""hi"" and then the export sto', encoding="utf-8")
    rep = import_file(db, path, load_mapping(None), screener)
    assert rep.inserted == 1
    assert [e.line for e in rep.bad] == [3] and "cut short" in rep.bad[0].reason


def test_rescreen_after_a_model_change_keeps_old_results(db, screener):
    import_file(db, LL, load_mapping(LL_MAP), screener)
    assert rescreen(db, screener) == 0  # same models: nothing to do
    assert rescreen(db, screener, everything=True) == 10
    assert counts(db) == (10, 20, 10)


def test_cli_import_and_queue(db_url, tmp_path: Path):
    runner = CliRunner()
    res = runner.invoke(app, ["import", str(MOSAIC), "--mapping", str(MOSAIC_MAP), "--db", db_url,
                              "--mode", "rules", "--no-progress"])
    assert res.exit_code == 0, res.output
    assert "17 row(s): 13 new, 0 updated, 0 unchanged, 1 skipped by the mapping (Case Note x1), " \
           "3 bad; 13 screened" in res.stdout
    assert f"{MOSAIC}:97: empty text [record ST-500420]" in res.stderr
    res = runner.invoke(app, ["queue", "--db", db_url, "--limit", "3", "--sample", "2",
                              "--seed", "3"])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0].startswith("Triage queue: 3 of 6 case file(s)")
    assert sum(1 for ln in lines if ln.startswith(("  1. file", "  2. file", "  3. file"))) == 5
    assert "reading the top 10% (1 file(s)) should find" in res.stdout
    assert "Random sample for an unbiased audit (2 file(s), seed 3)" in res.stdout
    res = runner.invoke(app, ["queue", "--db", db_url, "--json"])
    data = json.loads(res.stdout)
    assert data["total"] == 6 and len(data["yield"]) == 3


@pytest.mark.parametrize("args, message", [
    (["--mapping", "missing.yaml"], "cannot read"),
])
def test_cli_import_bad_mapping(db_url, args, message):
    res = CliRunner().invoke(app, ["import", str(MOSAIC), "--db", db_url, *args])
    assert res.exit_code == 2 and message in res.stderr
