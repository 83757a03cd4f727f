"""Hostile input files through `screener screen`: clear errors naming the file and line,
the good records still screened, nothing half-written.

tests/test_cli.py covers the ordinary bad inputs (a missing column, a broken .docx, an
unknown type); these are the hostile ones: binary, truncated, wrong encoding, huge, zip
bombs, a kill in the middle of writing.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import docx
import pytest
from typer.testing import CliRunner, Result

from screener.cli import app
from screener.io import MAX_DOCX_UNCOMPRESSED, atomic_output

runner = CliRunner()
GOOD = {"id": "g1", "doc_type": "visit",
        "text": "I saw Kai alone in his bedroom. Kai said \"I like my new school\"."}


def screen(*args: str) -> Result:
    return runner.invoke(app, ["screen", "--mode", "rules", "--no-progress", *args])


def results(res: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in res.stdout.splitlines() if line.strip()]


def line(obj: dict[str, Any]) -> bytes:
    return (json.dumps(obj) + "\n").encode("utf-8")


def good(n: int) -> dict[str, Any]:
    return dict(GOOD, id=f"g{n}")


# JSONL ----------------------------------------------------------------------------------

def test_jsonl_bad_lines_in_the_middle_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(line(good(1)) + b'{"id": "x", "doc_type": "visit", "text": "unterminated\n'
                     + b"\x00\x01\xff\xfe binary \x80\n" + b"[1, 2, 3]\n" + line(good(5))
                     + b'{"id": "t", "doc_type": "visit", "te')  # truncated last line
    res = screen(str(path))
    assert res.exit_code == 0, res.output
    out = results(res)
    assert [r.get("id") for r in out if "error" not in r] == ["g1", "g5"]
    errors = {r["where"]: r["error"] for r in out if "error" in r}
    assert set(errors) == {f"{path}:{n}" for n in (2, 3, 4, 6)}
    assert errors[f"{path}:2"].startswith("malformed JSON")
    assert errors[f"{path}:3"] == "line is not valid UTF-8"
    assert errors[f"{path}:4"] == "line is not a JSON object"
    assert errors[f"{path}:6"].startswith("malformed JSON")
    for where in errors:  # and each is reported on stderr with its file and line
        assert f"[{where}]" in res.stderr
    assert "screened 2 record(s), 4 error(s)" in res.stderr


def test_jsonl_lone_surrogate_is_a_record_error(tmp_path: Path) -> None:
    """JSON may escape half an emoji ("\\ud83d"); it used to crash the whole run."""
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"id": "s", "doc_type": "visit", "text": "Kai \\ud83d was seen."}\n'
                     + line(good(2)))
    res = screen(str(path))
    assert res.exit_code == 0, res.output
    first, second = results(res)
    assert "lone surrogate" in first["error"] and first["where"] == f"{path}:1"
    assert second["id"] == "g2" and "grade" in second


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_jsonl_in_utf16_or_32_is_refused_line_by_line(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes((json.dumps(good(1)) + "\n" + json.dumps(good(2)) + "\n").encode(encoding))
    res = screen(str(path))
    assert res.exit_code == 1  # nothing screened
    out = results(res)
    assert out and all("error" in r and r["where"].startswith(f"{path}:") for r in out)
    assert "screened 0 record(s)" in res.stderr and "Traceback" not in res.output


def test_jsonl_huge_record_is_refused_and_the_rest_screened(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(line(good(1)) + line(dict(GOOD, id="huge", text="Kai was seen. " * 100_000))
                     + line(good(3)))
    res = screen(str(path))
    out = results(res)
    assert [r["id"] for r in out] == ["g1", "huge", "g3"]
    assert "text too long" in out[1]["error"] and out[1]["where"] == f"{path}:2"
    assert "grade" in out[0] and "grade" in out[2]


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b"\xef\xbb\xbf"],
                         ids=["empty", "blank-lines", "bom-only"])
def test_empty_jsonl_screens_nothing_and_says_so(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(content)
    res = screen(str(path))
    assert res.exit_code == 1
    assert res.stdout == "" and "screened 0 record(s), 0 error(s)" in res.stderr


# CSV ------------------------------------------------------------------------------------

def test_csv_with_quotes_commas_and_newlines_in_fields(tmp_path: Path) -> None:
    texts = ['Kai said "I\'m fine, honestly", then\nlaughed.\n\nI saw Kai alone.',
             "Line one\r\nLine two, with a comma\rand a CR", "Emoji 😀, RTL \u202e, NUL-free"]
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["id", "doc_type", "text", "note"])
    for i, text in enumerate(texts):
        writer.writerow([f"c{i}", "visit", text, 'a "quoted", note'])
    writer.writerow(["bad", "memo", "Kai was seen.", ""])
    path = tmp_path / "in.csv"
    path.write_bytes(buf.getvalue().encode("utf-8"))
    res = screen(str(path), "--explain")
    out = results(res)
    assert [r["id"] for r in out] == ["c0", "c1", "c2", "bad"]
    for r, text in zip(out[:3], texts, strict=True):
        assert r["note"] == 'a "quoted", note'
        for m in r["markers"].values():
            for ev in m["evidence"] + m.get("trace", []):
                assert text[ev["start"]:ev["end"]] == ev["text"]
    # the bad row's line is where it starts in the file, after the multi-line fields
    # (lines as universal newlines count them: \r\n, \n or a lone \r)
    before = buf.getvalue()[: buf.getvalue().index("bad,")]
    breaks = len(re.findall(r"\r\n|\r|\n", before))
    assert out[3]["where"] == f"{path}:{breaks + 1}"


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16", "cp1252"])
def test_csv_in_another_encoding_names_file_and_line(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "in.csv"
    rows = "id,doc_type,text\nc1,visit,Kai was seen.\nc2,visit,Zoë was seen at the café.\n"
    path.write_bytes(rows.encode(encoding))
    res = screen(str(path))
    assert res.exit_code == 1
    assert f"{path}:" in res.stderr and "not valid UTF-8" in res.stderr
    assert "Traceback" not in res.output


def test_csv_cut_inside_a_quoted_field_keeps_the_rows_before(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(b'id,doc_type,text\nc1,visit,Kai was seen alone.\n'
                     b'c2,visit,"Kai said ""hi"" and then the export stop')
    out = results(screen(str(path)))
    assert out[0]["id"] == "c1" and "grade" in out[0]
    assert len(out) == 2 and out[1]["id"] == "c2"


def test_csv_cut_inside_a_quoted_field_reports_the_last_row(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(b'id,doc_type,text\nc1,visit,Kai was seen alone.\n'
                     b'c2,visit,"Kai said ""hi"" and then the export stop')
    out = results(screen(str(path)))
    assert "error" in out[1] and out[1]["where"] == f"{path}:3"


@pytest.mark.parametrize("content, message", [
    (b"", "missing columns id, doc_type, text"),
    (b"\x00\x01\x02\x03" * 100, "missing column"),
], ids=["empty", "binary"])
def test_unusable_csv_is_a_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(content)
    res = screen(str(path))
    assert res.exit_code == 1 and str(path) in res.stderr and message in res.stderr
    assert "Traceback" not in res.output


# .txt, .docx and folders ----------------------------------------------------------------

def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _real_docx(path: Path, text: str) -> Path:
    document = docx.Document()
    for para in text.split("\n"):
        document.add_paragraph(para)
    document.save(str(path))
    return path


def test_zip_bomb_docx_is_refused_without_inflating(tmp_path: Path) -> None:
    bomb = _zip(tmp_path / "bomb.docx", {
        "[Content_Types].xml": b"<Types/>",
        "word/document.xml": b"<w:document>" + b"\x00" * (MAX_DOCX_UNCOMPRESSED + 1_000_000),
    })
    assert bomb.stat().st_size < 1_000_000
    res = screen(str(bomb), "--doc-type", "visit")
    (out,) = results(res)
    assert out["id"] == "bomb" and "zip bomb" in out["error"] and out["where"] == str(bomb)


def test_high_ratio_docx_under_the_size_limit_is_refused(tmp_path: Path) -> None:
    bomb = _zip(tmp_path / "ratio.docx", {"word/document.xml": b"A" * 20_000_000})
    (out,) = results(screen(str(bomb), "--doc-type", "visit"))
    assert "zip bomb" in out["error"]


def test_docx_whose_header_lies_about_its_size_is_an_error(tmp_path: Path) -> None:
    """The bomb check reads the sizes a zip declares; a zip that declares small sizes
    but inflates to more must still fail cleanly (zipfile stops at the declared size
    and the CRC check fails), not exhaust memory."""
    real = _real_docx(tmp_path / "real.docx", "Kai was seen alone.")
    data = bytearray(real.read_bytes())
    with zipfile.ZipFile(real) as zf:
        info = zf.getinfo("word/document.xml")
    declared = info.file_size.to_bytes(4, "little")
    data = data.replace(declared, (10).to_bytes(4, "little"))  # every copy of the size
    liar = tmp_path / "liar.docx"
    liar.write_bytes(bytes(data))
    res = screen(str(liar), "--doc-type", "visit")
    (out,) = results(res)
    assert "not a readable .docx" in out["error"] and out["where"] == str(liar)


@pytest.mark.parametrize("content", [
    b"PK\x03\x04 truncated zip", b"", b"%PDF-1.7 not a docx", b"\xd0\xcf\x11\xe0 old .doc",
], ids=["truncated-zip", "empty", "pdf", "ole-doc"])
def test_docx_that_is_not_a_docx(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "plan.docx"
    path.write_bytes(content)
    res = screen(str(path), "--doc-type", "cp_plan")
    (out,) = results(res)
    assert out["id"] == "plan" and "not a valid .docx" in out["error"]
    assert out["where"] == str(path) and f"[{path}]" in res.stderr


def test_zip_that_is_not_a_word_document(tmp_path: Path) -> None:
    path = _zip(tmp_path / "other.docx", {"hello.txt": b"hello"})
    (out,) = results(screen(str(path), "--doc-type", "visit"))
    assert "not a readable .docx" in out["error"]


def test_truncated_docx(tmp_path: Path) -> None:
    real = _real_docx(tmp_path / "real.docx", "Kai was seen alone.\n" * 50)
    cut = tmp_path / "cut.docx"
    cut.write_bytes(real.read_bytes()[: real.stat().st_size // 2])
    (out,) = results(screen(str(cut), "--doc-type", "visit"))
    assert "not a valid .docx" in out["error"] or "not a readable .docx" in out["error"]


def test_folder_of_mixed_good_and_bad_files(tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a-good.txt").write_text(GOOD["text"], encoding="utf-8")
    _real_docx(folder / "b-good.docx", GOOD["text"])
    (folder / "c-latin1.txt").write_bytes("Zoë was seen at the café.".encode("latin-1"))
    (folder / "d-utf16.txt").write_bytes("Kai was seen.".encode("utf-16"))
    (folder / "e-binary.txt").write_bytes(bytes(range(256)) * 10)
    (folder / "f-empty.txt").write_bytes(b"")
    (folder / "g-notzip.docx").write_bytes(b"nope")
    _zip(folder / "h-bomb.docx", {"word/document.xml": b"\x00" * 30_000_000})
    (folder / "i-dir.txt").mkdir()  # a folder with a file's name
    (folder / "ignored.pdf").write_bytes(b"%PDF")
    res = screen(str(folder), "--doc-type", "visit")
    assert res.exit_code == 0, res.output
    out = {r["id"]: r for r in results(res)}
    assert set(out) == {"a-good", "b-good", "c-latin1", "d-utf16", "e-binary", "f-empty",
                        "g-notzip", "h-bomb", "i-dir"}
    assert "grade" in out["a-good"] and "grade" in out["b-good"]
    expected = {"c-latin1": "not valid UTF-8", "d-utf16": "not valid UTF-8",
                "e-binary": "not valid UTF-8", "f-empty": "empty text",
                "g-notzip": "not a valid .docx", "h-bomb": "zip bomb", "i-dir": "cannot read"}
    for rid, message in expected.items():
        assert message in out[rid]["error"], (rid, out[rid])
    for rid in ("c-latin1", "e-binary", "g-notzip", "h-bomb", "i-dir"):
        assert out[rid]["where"].startswith(str(folder / rid))
    assert "screened 2 record(s), 7 error(s)" in res.stderr


def test_huge_text_file_is_refused_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_text("Kai was seen alone. " * 60_000, encoding="utf-8")  # 1.2 MB
    res = screen(str(path), "--doc-type", "visit")
    (out,) = results(res)
    assert "text too long" in out["error"] and res.exit_code == 1


# Nothing half-written -------------------------------------------------------------------

def test_atomic_output_removes_its_temporary_file_on_any_exception(tmp_path: Path) -> None:
    target = tmp_path / "out" / "results.jsonl"
    for exc in (ValueError("bad"), KeyboardInterrupt(), OSError(28, "No space left")):
        with pytest.raises(type(exc)), atomic_output(target) as fh:
            fh.write("x" * 100_000)
            raise exc
        assert not target.exists()
        assert list(target.parent.iterdir()) == []


def test_failure_mid_stream_leaves_no_output(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A record that crashes the screener half-way: the records already written to the
    temporary file must not appear as a (partial) output file."""
    from screener.pipeline import Screener

    path = tmp_path / "in.jsonl"
    path.write_bytes(b"".join(line(good(i)) for i in range(200)))
    out = tmp_path / "results.jsonl"
    calls = {"n": 0}
    real = Screener.screen_batch

    def flaky(self: Screener, records: list[Any]) -> list[Any]:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("simulated crash in the third batch")
        return real(self, records)

    monkeypatch.setattr(Screener, "screen_batch", flaky)
    res = screen(str(path), "-o", str(out))
    assert res.exit_code != 0 and calls["n"] == 3
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_sigkill_mid_write_leaves_no_output_file(tmp_path: Path) -> None:
    """Kill `screener screen -o` while it is writing: the output path must not exist
    (only the hidden temporary file it was writing may be left behind)."""
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"".join(line(good(i)) for i in range(20_000)))
    out = tmp_path / "results.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "screener.cli", "screen", str(path), "-o", str(out),
         "--mode", "rules", "--no-progress"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            temps = [p for p in tmp_path.iterdir() if p.name.startswith(".results.jsonl.")]
            if temps and temps[0].stat().st_size > 10_000:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "finished before it could be killed: use more records"
        assert temps and temps[0].stat().st_size > 10_000
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not out.exists()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name not in ("in.jsonl",)]
    assert all(name.startswith(".results.jsonl.") for name in leftovers), leftovers
