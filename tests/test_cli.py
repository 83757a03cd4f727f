"""The `screener` command: inputs, formats, output files and what happens to bad records."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docx
import pytest
from typer.testing import CliRunner, Result

from screener import load_rubric
from screener.cli import app
from screener.io import atomic_output

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
WriteFile = Callable[[str, "str | bytes"], Path]

VISIT = ("Purpose of visit: to check Kai's new bedtime routine, as agreed at the core group.\n"
         "I saw Kai alone in his bedroom. Kai said \"I go to bed after one story now.\"\n"
         "Kai looked clean and well dressed.")
PLAN = ("Outcome 1: Ella is in school every day by 1 May.\n"
        "- SW to refer Ella to the Young Carers Group by 14 March.\n"
        "- Mum to engage with services.")

runner = CliRunner()


def screen(*args: str) -> Result:
    return runner.invoke(app, ["screen", "--mode", "rules", "--no-progress", *args])


def jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def line(obj: dict[str, Any]) -> str:
    return json.dumps(obj) + "\n"


def assert_spec_result(res: dict[str, Any]) -> None:
    """A result has the spec's fields and lists every marker of its type."""
    rubric = load_rubric()
    assert {"id", "doc_type", "grade", "grade_probabilities", "markers", "flags"} <= set(res)
    assert res["grade"] in rubric.levels
    assert set(res["grade_probabilities"]) == set(rubric.levels)
    assert sum(res["grade_probabilities"].values()) == pytest.approx(1.0, abs=1e-3)
    assert list(res["markers"]) == rubric.markers_for(res["doc_type"])
    assert "vague_goal" in res["markers"]
    for m in res["markers"].values():
        assert isinstance(m["present"], bool) and 0.0 <= m["probability"] <= 1.0
        assert "trace" not in m
        for ev in m["evidence"]:
            assert {"start", "end", "text", "source"} <= set(ev)
    for flag in res["flags"]:
        assert {"marker", "severity", "message"} <= set(flag)


# Inputs --------------------------------------------------------------------------------

def test_jsonl_examples_every_type() -> None:
    res = screen(str(EXAMPLES / "records.jsonl"))
    assert res.exit_code == 0, res.output
    results = jsonl(res.stdout)
    assert not [r for r in results if "error" in r]
    by_type: dict[str, int] = {}
    for r in results:
        assert_spec_result(r)
        by_type[r["doc_type"]] = by_type.get(r["doc_type"], 0) + 1
    assert set(by_type) == set(load_rubric().doc_types)
    assert all(2 <= n <= 3 for n in by_type.values())
    assert len({r["grade"] for r in results}) == 3, "the examples should vary in quality"
    assert f"screened {len(results)} record(s), 0 error(s)" in res.stderr


def test_evidence_offsets_index_the_input(write_file: WriteFile) -> None:
    path = write_file("in.jsonl", line({"id": "v1", "doc_type": "visit", "text": VISIT}))
    (result,) = jsonl(screen(str(path)).stdout)
    found = 0
    for m in result["markers"].values():
        for ev in m["evidence"]:
            assert VISIT[ev["start"]:ev["end"]] == ev["text"]
            assert ev["source"].startswith("rule:")
            found += 1
    assert found


def test_csv_carries_extra_columns() -> None:
    res = screen(str(EXAMPLES / "records.csv"))
    assert res.exit_code == 0, res.output
    results = jsonl(res.stdout)
    rows = list(csv.DictReader((EXAMPLES / "records.csv").open(encoding="utf-8")))
    assert [r["id"] for r in results] == [r["id"] for r in rows]
    for result, row in zip(results, rows, strict=True):
        assert_spec_result(result)
        assert result["team"] == row["team"]


def test_txt_file_needs_doc_type(write_file: WriteFile) -> None:
    path = write_file("kai-visit.txt", VISIT)
    res = screen(str(path), "--doc-type", "visit")
    assert res.exit_code == 0, res.output
    (result,) = jsonl(res.stdout)
    assert result["id"] == "kai-visit" and result["file"] == "kai-visit.txt"
    assert_spec_result(result)
    res = screen(str(path))
    assert res.exit_code == 1
    assert "needs --doc-type" in res.stdout and "needs --doc-type" in res.stderr


def _docx(path: Path) -> Path:
    document = docx.Document()
    document.add_paragraph("Outcome 1: Ella is in school every day by 1 May.")
    table = document.add_table(rows=3, cols=3)
    for r, cells in enumerate([("Action", "Who", "By when"),
                               ("Refer Ella to the Young Carers Group", "SW", "14/03/2025"),
                               ("Book a dental check for Ella", "Mum", "31/03/2025")]):
        for c, value in enumerate(cells):
            table.cell(r, c).text = value
    document.save(str(path))
    return path


def test_docx_file(tmp_path: Path) -> None:
    path = _docx(tmp_path / "ella-plan.docx")
    res = screen(str(path), "--doc-type", "cin_plan")
    assert res.exit_code == 0, res.output
    (result,) = jsonl(res.stdout)
    assert_spec_result(result)
    assert result["id"] == "ella-plan"
    assert result["markers"]["outcomes"]["present"]
    assert result["markers"]["timescales"]["present"]


def test_folder_of_txt_and_docx(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(PLAN, encoding="utf-8")
    _docx(tmp_path / "b.docx")
    (tmp_path / "notes.md").write_text("not a record", encoding="utf-8")
    res = screen(str(tmp_path), "--doc-type", "cin_plan")
    assert res.exit_code == 0, res.output
    results = jsonl(res.stdout)
    assert [r["id"] for r in results] == ["a", "b"]
    for r in results:
        assert_spec_result(r)


def test_examples_txt_folder() -> None:
    res = screen(str(EXAMPLES / "txt"), "--doc-type", "visit", "--format", "text")
    assert res.exit_code == 0, res.output
    assert len(list((EXAMPLES / "txt").glob("*.txt"))) == 2
    assert res.stdout.count("■ ") == 2


# Formats and output files ---------------------------------------------------------------

def test_format_csv(write_file: WriteFile) -> None:
    path = write_file("in.jsonl", line({"id": "v1", "doc_type": "visit", "text": VISIT}))
    res = screen(str(path), "--format", "csv")
    assert res.exit_code == 0, res.output
    (row,) = list(csv.DictReader(io.StringIO(res.stdout)))
    assert row["id"] == "v1" and row["grade"] in load_rubric().levels
    for m in load_rubric().markers_for("visit"):
        assert row[m] in ("0", "1") and f"{m}_probability" in row
    assert {"p_good", "p_requires_improvement", "p_inadequate", "flags", "error"} <= set(row)


def test_format_csv_carries_extra_columns() -> None:
    res = screen(str(EXAMPLES / "records.csv"), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert rows[0]["team"] == "Assessment East"


def test_format_text(write_file: WriteFile) -> None:
    path = write_file("in.jsonl", line({"id": "p1", "doc_type": "cin_plan", "text": PLAN}))
    res = screen(str(path), "--format", "text")
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert out.startswith("■ p1 · cin_plan · ")
    assert "! vague_goal" in out and "Flags:" in out and "is not measurable" in out


@pytest.mark.parametrize(("name", "check"), [
    ("results.jsonl", lambda text: jsonl(text)[0]["id"] == "v1"),
    ("results.csv", lambda text: next(csv.DictReader(io.StringIO(text)))["id"] == "v1"),
    ("results.txt", lambda text: text.startswith("■ v1 · visit")),
])
def test_output_file_format_follows_extension(write_file: WriteFile, name: str,
                                              check: Callable[[str], bool]) -> None:
    src = write_file("in.jsonl", line({"id": "v1", "doc_type": "visit", "text": VISIT}))
    out = src.parent / "out" / name
    res = screen(str(src), "-o", str(out))
    assert res.exit_code == 0, res.output
    assert res.stdout == ""
    assert check(out.read_text(encoding="utf-8"))
    assert sorted(p.name for p in out.parent.iterdir()) == [name], "no temporary files left"


def test_output_file_replaced_not_appended(write_file: WriteFile) -> None:
    src = write_file("in.jsonl", line({"id": "v1", "doc_type": "visit", "text": VISIT}))
    out = write_file("results.jsonl", "old contents\n")
    assert screen(str(src), "-o", str(out)).exit_code == 0
    assert [r["id"] for r in jsonl(out.read_text(encoding="utf-8"))] == ["v1"]


def test_output_not_touched_when_input_is_unusable(write_file: WriteFile) -> None:
    src = write_file("in.csv", "id,doc_type,body\nv1,visit,I saw Kai.\n")
    out = write_file("results.jsonl", "previous run\n")
    res = screen(str(src), "-o", str(out))
    assert res.exit_code == 1
    assert out.read_text(encoding="utf-8") == "previous run\n"
    assert sorted(p.name for p in out.parent.iterdir()) == ["in.csv", "results.jsonl"]


def test_atomic_output_keeps_the_old_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "results.jsonl"
    target.write_text("old\n", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_output(target) as fh:
        fh.write("half a file")
        raise RuntimeError("crash mid-write")
    assert target.read_text(encoding="utf-8") == "old\n"
    assert os.listdir(tmp_path) == ["results.jsonl"]


def test_explain_adds_traces(write_file: WriteFile) -> None:
    text = "I saw Kai at school. Kai was not seen alone as it was break time."
    src = write_file("in.jsonl", line({"id": "v1", "doc_type": "visit", "text": text}))
    (result,) = jsonl(screen(str(src), "--explain").stdout)
    marker = result["markers"]["seen_alone"]
    assert not marker["present"]
    (trace,) = marker["trace"]
    assert trace["reason"] == "negation" and trace["source"] == "rule:seen_alone.alone_phrase"
    assert text[trace["start"]:trace["end"]] == trace["text"] == "seen alone"
    (plain,) = jsonl(screen(str(src)).stdout)
    assert "trace" not in plain["markers"]["seen_alone"]


# Bad input ------------------------------------------------------------------------------

GOOD_LINE = {"id": "ok-1", "doc_type": "visit", "text": VISIT}


def test_bad_records_do_not_stop_the_rest(write_file: WriteFile) -> None:
    data = b"".join([
        line(GOOD_LINE).encode(),
        line({"id": "bad-type", "doc_type": "home_visit", "text": VISIT}).encode(),
        line({"id": "empty", "doc_type": "visit", "text": ""}).encode(),
        b'{"id": "broken", "doc_type": "visit", "text": "unterminated\n',
        '{"id": "latin1", "doc_type": "visit", "text": "caf\u00e9"}\n'.encode("latin-1"),
        line({"id": "no-text", "doc_type": "visit"}).encode(),
        b"[1, 2, 3]\n",
        b"\n",
        line(dict(GOOD_LINE, id="ok-2")).encode(),
    ])
    path = write_file("mixed.jsonl", data)
    res = screen(str(path))
    assert res.exit_code == 0, res.output
    results = jsonl(res.stdout)
    assert [r.get("id") for r in results] == [
        "ok-1", "bad-type", "empty", None, None, "no-text", None, "ok-2"]
    assert_spec_result(results[0])
    assert_spec_result(results[-1])
    errors = {i: r for i, r in enumerate(results) if "error" in r}
    assert "unknown doc_type 'home_visit'" in errors[1]["error"]
    assert "allowed: assessment" in errors[1]["error"]
    assert errors[2] == {"id": "empty", "error": "empty text", "where": f"{path}:3",
                         "doc_type": "visit"}
    assert errors[3]["error"].startswith("malformed JSON") and errors[3]["where"] == f"{path}:4"
    assert errors[4] == {"error": "line is not valid UTF-8", "where": f"{path}:5"}
    assert errors[5]["error"] == "missing field text" and errors[5]["where"] == f"{path}:6"
    assert errors[6]["error"] == "line is not a JSON object" and errors[6]["where"] == f"{path}:7"
    assert f"{path}:4" in res.stderr and "malformed JSON" in res.stderr
    assert "screened 2 record(s), 6 error(s)" in res.stderr


def test_worker_processes_give_the_same_results_in_the_same_order(
        write_file: WriteFile) -> None:
    """--workers 2 screens batches in two processes: same output, errors in place."""
    lines = [line({"id": f"r{i}", "doc_type": "visit" if i % 2 else "cin_plan",
                   "text": VISIT if i % 2 else PLAN}) for i in range(20)]
    lines[7] = line({"id": "bad", "doc_type": "home_visit", "text": VISIT})
    lines[13] = '{"id": "broken", "doc_type": "visit", "text\n'
    path = write_file("many.jsonl", "".join(lines))
    one = screen(str(path))
    two = screen(str(path), "--workers", "2")
    assert two.exit_code == 0, two.output
    assert jsonl(two.stdout) == jsonl(one.stdout)
    assert [r.get("id") for r in jsonl(two.stdout)][6:9] == ["r6", "bad", "r8"]
    assert "screened 18 record(s), 2 error(s)" in two.stderr


def test_unknown_doc_type_error_names_the_line(write_file: WriteFile) -> None:
    path = write_file("in.jsonl", line(GOOD_LINE) + line(dict(GOOD_LINE, doc_type="vist")))
    results = jsonl(screen(str(path)).stdout)
    assert results[1]["where"] == f"{path}:2"


def test_whitespace_only_text_is_an_error(write_file: WriteFile) -> None:
    path = write_file("in.jsonl", line(dict(GOOD_LINE, text="  \n\t ")))
    res = screen(str(path))
    assert res.exit_code == 1
    assert jsonl(res.stdout)[0]["error"] == "empty text"


def test_nothing_screened_exits_non_zero(write_file: WriteFile) -> None:
    path = write_file("bad.jsonl", "{not json}\n" + line(dict(GOOD_LINE, doc_type="memo")))
    res = screen(str(path))
    assert res.exit_code == 1
    assert len(jsonl(res.stdout)) == 2
    assert "screened 0 record(s), 2 error(s)" in res.stderr


def test_csv_missing_column(write_file: WriteFile) -> None:
    path = write_file("in.csv", "id,type,text\nv1,visit,I saw Kai.\n")
    res = screen(str(path))
    assert res.exit_code == 1
    assert "missing column doc_type" in res.stderr and "found: id, type, text" in res.stderr


def test_csv_empty_cells_and_bom(write_file: WriteFile) -> None:
    body = io.StringIO()
    writer = csv.writer(body)
    writer.writerows([["id", "doc_type", "text", "team"], ["v1", "visit", VISIT, "East"],
                      ["v2", "visit", "", "East"], ["v3", "", VISIT, "West"]])
    path = write_file("in.csv", "\ufeff" + body.getvalue())
    res = screen(str(path))
    assert res.exit_code == 0, res.output
    results = jsonl(res.stdout)
    assert results[0]["team"] == "East"
    v2_line = 2 + VISIT.count("\n") + 1  # the header, then v1's quoted multi-line text
    assert results[1] == {"id": "v2", "error": "empty text", "where": f"{path}:{v2_line}",
                          "doc_type": "visit"}
    assert results[2]["error"] == "missing field doc_type"


def test_csv_not_utf8(write_file: WriteFile) -> None:
    path = write_file("in.csv", "id,doc_type,text\nv1,visit,caf\u00e9 visit\n".encode("cp1252"))
    res = screen(str(path))
    assert res.exit_code == 1
    assert f"{path}:2: not valid UTF-8" in res.stderr


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p / "missing.jsonl", "no such file or folder"),
    (lambda p: p, "no .txt or .docx files in this folder"),
    (lambda p: (p / "records.xlsx").write_bytes(b"PK") and p / "records.xlsx",
     "unknown file type .xlsx"),
])
def test_unusable_input(tmp_path: Path, make: Callable[[Path], Path], message: str) -> None:
    res = screen(str(make(tmp_path)), "--doc-type", "visit")
    assert res.exit_code == 1
    assert message in res.stderr


def test_broken_docx_is_a_record_error(write_file: WriteFile) -> None:
    path = write_file("plan.docx", b"this is not a zip file")
    res = screen(str(path), "--doc-type", "cp_plan")
    assert res.exit_code == 1
    (result,) = jsonl(res.stdout)
    assert result["id"] == "plan" and "not a valid .docx" in result["error"]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root can read a file whatever its mode")
def test_unreadable_file(write_file: WriteFile) -> None:
    path = write_file("in.jsonl", line(GOOD_LINE))
    path.chmod(0)
    try:
        res = screen(str(path))
    finally:
        path.chmod(0o644)
    assert res.exit_code == 1
    assert "cannot read" in res.stderr


def test_unreadable_file_as_any_user(write_file: WriteFile,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_file("in.jsonl", line(GOOD_LINE))
    real_open = Path.open

    def denied(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", denied)
    res = screen(str(path))
    assert res.exit_code == 1
    assert f"{path}: cannot read (Permission denied)" in res.stderr


def test_unknown_doc_type_option(write_file: WriteFile) -> None:
    path = write_file("a.txt", VISIT)
    res = screen(str(path), "--doc-type", "home_visit")
    assert res.exit_code == 2
    assert "unknown --doc-type 'home_visit'" in res.stderr and "allowed: assessment" in res.stderr


def test_broken_rubric_option(write_file: WriteFile) -> None:
    src = write_file("in.jsonl", line(GOOD_LINE))
    rubric = write_file("rubric.yaml", "extends: default\nmarker: {}\n")
    res = screen(str(src), "--rubric", str(rubric))
    assert res.exit_code == 2
    assert f"{rubric}: marker: unknown key" in res.stderr


def test_screen_help_mentions_formats_and_errors() -> None:
    res = runner.invoke(app, ["screen", "--help"])
    assert res.exit_code == 0
    text = re.sub(r"[\s│╭╮╰╯─]+", " ", res.output)
    for fmt in ("jsonl", "csv", "text"):
        assert fmt in text
    assert "written atomically" in text
    assert "reported on stderr with its file and line" in text
    assert "the rest are still screened" in text
    assert "non-zero only when nothing could be screened" in text


def test_library_workers_keep_order_across_many_batches(screener) -> None:
    from screener import Record
    from screener.schemas import ErrorResult

    items: list[Record | ErrorResult] = [
        Record(id=f"r{i}", doc_type="visit" if i % 3 else "cin_plan",
               text=VISIT if i % 3 else PLAN) for i in range(23)]
    items[10] = ErrorResult(id=None, error="malformed JSON", where="x:11")
    serial = [r.model_dump() for r in screener.screen(items, batch_size=4)]
    parallel = [r.model_dump() for r in screener.screen(items, batch_size=4, workers=2)]
    assert parallel == serial and len(parallel) == 23
    assert parallel[10] == {"id": None, "error": "malformed JSON", "where": "x:11",
                            "doc_type": None}
