"""End to end, on SQLite and on PostgreSQL: import -> screen -> queue -> review -> agreement
-> retrain with the reviews -> screen again with the new models (old results kept)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from screener import Screener
from screener.audit import service
from screener.audit.importer import rescreen
from screener.audit.learning import reviewed_training_records, write_rule_weights
from screener.audit.models import ScreeningResult
from screener.audit.schemas import DecisionIn
from screener.classifiers.artefacts import read_registry
from screener.cli import app
from training.train import TrainConfig, train

EXPORTS = Path(__file__).resolve().parents[2] / "examples" / "exports"


def test_audit_workflow_end_to_end(db, db_url, tmp_path: Path):
    runner = CliRunner()

    # 1. import the two example exports (each screened as it is imported)
    for export, mapping in (("mosaic_steps.csv", "mosaic_steps.mapping.yaml"),
                            ("liquidlogic_forms.jsonl", "liquidlogic_forms.mapping.yaml")):
        res = runner.invoke(app, ["import", str(EXPORTS / export), "--mapping",
                                  str(EXPORTS / mapping), "--db", db_url, "--mode", "rules",
                                  "--no-progress"])
        assert res.exit_code == 0, res.output
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ScreeningResult)) == 23

    # 2. the queue: every file ranked, with why, and the expected yield
    res = runner.invoke(app, ["queue", "--db", db_url, "--json"])
    assert res.exit_code == 0, res.output
    queue = json.loads(res.stdout)
    assert queue["total"] == 11
    probs = [f["p_below_good"] for f in queue["queue"]]
    assert probs == sorted(probs, reverse=True) and all(f["why"] for f in queue["queue"])
    res = runner.invoke(app, ["queue", "--db", db_url, "--uncertain", "--limit", "3"])
    assert res.exit_code == 0 and res.stdout.count(" bits; unsure: ") == 3

    # 3. review the top four files the way the API would, then one at the terminal
    reviewed = 0
    with db.session() as s:
        for item in queue["queue"][:4]:
            for rec in service.get_file(s, item["file_id"], actor="ann").records:
                assert rec.result is not None
                decisions = [DecisionIn(marker=f.marker,
                                        decision="confirmed" if f.severity == "high"
                                        else "rejected")
                             for f in rec.result.flags]
                found = [m for m, v in rec.result.markers.items() if v["present"]
                         and m not in {f.marker for f in rec.result.flags}]
                if found and reviewed % 2 == 0:  # auditors add a miss now and then
                    decisions.append(DecisionIn(marker=found[0], decision="added"))
                grade = rec.result.grade if reviewed % 3 else "requires_improvement"
                rv = service.record_review(s, rec.id, "ann", decisions, grade=grade)
                if reviewed % 2:
                    service.record_moderation(s, rv.id, "bob", "inadequate")
                reviewed += 1
    assert reviewed >= 4
    last = queue["queue"][4]["file_id"]
    with db.session() as s:
        n_records = len(service.get_file(s, last).records)
    res = runner.invoke(app, ["review", str(last), "--auditor", "cat", "--db", db_url],
                        input=_answers(db, last))
    assert res.exit_code == 0, res.output
    assert f"{n_records} record(s) reviewed" in res.output

    # 4. agreement, per marker and per service, and the rules' confirmation rates
    res = runner.invoke(app, ["agreement", "--db", db_url])
    assert res.exit_code == 0, res.output
    assert "confirm%" in res.stdout and "screener vs auditor" in res.stdout
    with db.session() as s:
        rep = service.agreement(s)
        stats = service.rule_stats(s)
    assert rep.completed == reviewed + n_records
    assert any(m.confirmed for m in rep.markers) and any(m.rejected for m in rep.markers)
    assert rep.screener_vs_auditor[-1].service == "all"
    assert rep.screener_vs_auditor[-1].n == reviewed + n_records
    assert stats and any(r.rejected for r in stats)
    res = runner.invoke(app, ["agreement", "--db", db_url, "--rules"])
    assert res.exit_code == 0 and "rule:" in res.stdout

    # 5. retrain with the reviews (a quick smoke run into a temporary models folder)
    records = reviewed_training_records(db=db)
    assert len(records) == reviewed + n_records
    assert all(r["writer"] == "reviews" and r["markers"] for r in records)
    models = tmp_path / "models"
    write_rule_weights(models, db=db, version="e2e")
    metrics = train(models, TrainConfig(smoke=True, n_generated=40, folds=2, with_minilm=False,
                                        extra_records=records), version="e2e", progress=False)
    assert "fast" in metrics
    registry = read_registry(models)
    assert registry == {"rule-weights": "e2e", "sentence-tfidf": "e2e", "stacker": "e2e"}
    meta = json.loads((models / "stacker" / "e2e" / "metadata.json").read_text())
    assert meta["n_review_records"] == len(records)

    # 6. screen again with the new models: new latest results, the old ones kept
    scr = Screener(mode="fast", models_dir=models)
    assert rescreen(db, scr) == 23
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ScreeningResult)) == 46
        latest = s.scalars(select(ScreeningResult).where(ScreeningResult.is_latest)).all()
        assert {r.mode for r in latest} == {"fast"}
        assert all(r.model_versions["stacker"] == "e2e" for r in latest)
        assert all(r.model_versions["rule-weights"] == "e2e" for r in latest)
        assert service.list_queue(s, include_reviewed=True)
    # reviews stay attached to the results the auditors saw
    with db.session() as s:
        assert service.agreement(s).completed == rep.completed


def _answers(db, file_id: int) -> str:
    """Answers for `screener review`, record by record: confirm every flag, add no miss,
    grade inadequate, no comment."""
    lines: list[str] = []
    with db.session() as s:
        for rec in service.get_file(s, file_id).records:
            assert rec.result is not None
            lines += ["c"] * len(rec.result.flags)
            if len(rec.result.flags) < len(rec.result.markers):
                lines.append("")  # no misses to add
            lines += ["inadequate", ""]
    return "\n".join(lines) + "\n"
