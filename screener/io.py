"""Reading records from files and writing results, without losing anything.

Every input problem becomes an `ErrorResult` naming the file and line, so the good
records are still screened and the bad ones show up in the output. Output files are
written to a temporary file and moved into place, so a crash never leaves half a file.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from screener.schemas import ErrorResult, Record, ScreenResult

REQUIRED = ("id", "doc_type", "text")
TEXT_SUFFIXES = (".txt", ".docx")
TABLE_SUFFIXES = (".jsonl", ".json", ".ndjson", ".csv")
MAX_DOCX_UNCOMPRESSED = 50 * 1024 * 1024  # a .docx larger than this inflated is refused
MAX_DOCX_RATIO = 200  # ... as is one that inflates more than this (zip bomb)

csv.field_size_limit(64 * 1024 * 1024)


class InputError(ValueError):
    """An input that cannot be read at all (not a single record in it can be screened)."""


def _record(obj: dict[str, Any], where: str) -> Record | ErrorResult:
    missing = [k for k in REQUIRED if obj.get(k) in (None, "")]
    rid = obj.get("id")
    rid = str(rid) if rid not in (None, "") else None
    if missing:
        what = "empty text" if missing == ["text"] and "text" in obj else \
            f"missing field{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
        return ErrorResult(id=rid, error=what, where=where,
                           doc_type=str(obj["doc_type"]) if obj.get("doc_type") else None)
    if not isinstance(obj["text"], str):
        return ErrorResult(id=rid, error="text must be a string", where=where)
    extra = {k: v for k, v in obj.items() if k not in REQUIRED}
    return Record(id=str(rid), doc_type=str(obj["doc_type"]).strip(), text=obj["text"],
                  extra=extra, where=where)


def read_jsonl(path: Path) -> Iterator[Record | ErrorResult]:
    with path.open("rb") as fh:
        for n, raw in enumerate(fh, 1):
            where = f"{path}:{n}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                yield ErrorResult(id=None, error="line is not valid UTF-8", where=where)
                continue
            if n == 1:
                line = line.lstrip("\ufeff")
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                yield ErrorResult(id=None, error=f"malformed JSON: {e.msg} (column {e.colno})",
                                  where=where)
                continue
            if not isinstance(obj, dict):
                yield ErrorResult(id=None, error="line is not a JSON object", where=where)
                continue
            yield _record(obj, where)


def read_csv(path: Path) -> Iterator[Record | ErrorResult]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise InputError(f"{path}:{line}: not valid UTF-8 (save the file as UTF-8)") from e
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError(f"{path}: missing column{'s' if len(missing) > 1 else ''} "
                         f"{', '.join(missing)} (found: {', '.join(header) or 'no header'})")
    last = last_line_if_odd_quotes(text)
    while True:
        start_line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            yield ErrorResult(id=None, error=f"malformed CSV ({e})", where=f"{path}:{start_line}")
            return
        if None in row:  # more cells than header columns
            row.pop(None)
        where = f"{path}:{start_line}"
        if reader.line_num == last and cut_inside_quotes(text, start_line):
            yield ErrorResult(id=row.get("id") or None, where=where,
                              error="malformed CSV (the file ends inside a quoted field: "
                                    "is the export cut short?)")
            return
        yield _record(dict(row), where)


def last_line_if_odd_quotes(text: str) -> int:
    """The CSV text's line count if it has an odd number of quotes (so it may end inside
    a quoted field), else -1: a cheap gate for `cut_inside_quotes`."""
    return sum(1 for _ in io.StringIO(text, newline="")) if text.count('"') % 2 else -1


def cut_inside_quotes(text: str, start_line: int, delimiter: str = ",") -> bool:
    """Whether the last CSV row, starting at `start_line`, is cut inside a quoted field.
    Python's lenient reader accepts such a row as if it were whole, which would screen
    half a record from a truncated export."""
    tail = "".join(list(io.StringIO(text, newline=""))[start_line - 1:])
    try:
        list(csv.reader(io.StringIO(tail, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as e:
        return "unexpected end of data" in str(e)
    return False


def _read_docx(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            size = sum(i.file_size for i in infos)
            packed = sum(i.compress_size for i in infos) or 1
    except zipfile.BadZipFile as e:
        raise InputError("not a valid .docx (not a zip file)") from e
    if size > MAX_DOCX_UNCOMPRESSED or size / packed > MAX_DOCX_RATIO:
        raise InputError(f"refused: inflates to {size} bytes (ratio {size / packed:.0f}); "
                         "looks like a zip bomb")
    import docx  # python-docx

    try:
        document = docx.Document(str(path))
    except Exception as e:  # python-docx raises many kinds on a broken package
        raise InputError(f"not a readable .docx ({type(e).__name__})") from e
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(c.text.strip() for c in row.cells))
    return "\n".join(parts)


def read_text_file(path: Path, doc_type: str | None) -> Record | ErrorResult:
    where = str(path)
    if not doc_type:
        return ErrorResult(id=path.stem, error="a .txt/.docx file needs --doc-type", where=where)
    try:
        if path.suffix.lower() == ".docx":
            text = _read_docx(path)
        else:
            text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        return ErrorResult(id=path.stem, error="not valid UTF-8", where=where, doc_type=doc_type)
    except InputError as e:
        return ErrorResult(id=path.stem, error=str(e), where=where, doc_type=doc_type)
    except OSError as e:
        return ErrorResult(id=path.stem, error=f"cannot read ({e.strerror})", where=where)
    return Record(id=path.stem, doc_type=doc_type, text=text, extra={"file": path.name},
                  where=where)


def read_records(path: str | Path, doc_type: str | None = None) -> Iterator[Record | ErrorResult]:
    """Records from a JSONL/CSV file, a .txt/.docx file, or a folder of .txt/.docx files."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file or folder")
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.suffix.lower() in TEXT_SUFFIXES)
        if not files:
            raise InputError(f"{p}: no .txt or .docx files in this folder")
        for f in files:
            yield read_text_file(f, doc_type)
        return
    suffix = p.suffix.lower()
    try:
        if suffix in (".jsonl", ".json", ".ndjson"):
            yield from read_jsonl(p)
        elif suffix == ".csv":
            yield from read_csv(p)
        elif suffix in TEXT_SUFFIXES:
            yield read_text_file(p, doc_type)
        else:
            raise InputError(f"{p}: unknown file type {suffix or '(none)'} "
                             f"(allowed: {', '.join(TABLE_SUFFIXES + TEXT_SUFFIXES)})")
    except PermissionError as e:
        raise InputError(f"{p}: cannot read ({e.strerror})") from e
    except IsADirectoryError as e:
        raise InputError(f"{p}: is a folder") from e


@contextmanager
def atomic_output(path: str | Path | None, newline: str | None = None) -> Iterator[IO[str]]:
    """Write to stdout ('-' or None), or to a temporary file moved onto `path` at the end."""
    if path in (None, "-"):
        yield sys.stdout
        sys.stdout.flush()
        return
    target = Path(str(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_jsonl(results: Iterable[ScreenResult | ErrorResult], fh: IO[str],
                explain: bool = False) -> None:
    for r in results:
        fh.write(json.dumps(r.to_output(explain), ensure_ascii=False) + "\n")


def csv_rows(results: Iterable[ScreenResult | ErrorResult]) -> Iterator[dict[str, Any]]:
    for r in results:
        if isinstance(r, ErrorResult):
            yield {"id": r.id, "doc_type": r.doc_type, "error": f"{r.error} ({r.where})"
                   if r.where else r.error}
            continue
        row: dict[str, Any] = {"id": r.id, "doc_type": r.doc_type, "grade": r.grade}
        for key, value in r.extra.items():  # carried-through input columns
            if isinstance(value, str | int | float | bool) or value is None:
                row.setdefault(key, value)
        for level, p in r.grade_probabilities.items():
            row[f"p_{level}"] = p
        for m, res in r.markers.items():
            row[m] = int(res.present)
            row[f"{m}_probability"] = res.probability
        row["flags"] = "; ".join(f"{f.marker} ({f.severity})" for f in r.flags)
        row["error"] = ""
        yield row


def write_csv(results: Iterable[ScreenResult | ErrorResult], fh: IO[str]) -> None:
    rows = list(csv_rows(results))
    fields: list[str] = []
    for row in rows:
        for k in row:
            if k not in fields:
                fields.append(k)
    writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)


def format_text(r: ScreenResult | ErrorResult, width: int = 88) -> str:
    """A readable report of one result for a person at a terminal."""
    import textwrap

    if isinstance(r, ErrorResult):
        return f"✗ {r.id or '(no id)'}: could not screen: {r.error}" + (
            f" [{r.where}]" if r.where else "") + "\n"
    grade = r.grade.replace("_", " ").upper()
    probs = ", ".join(f"{k.replace('_', ' ')} {v:.0%}" for k, v in r.grade_probabilities.items())
    lines = [f"■ {r.id} · {r.doc_type} · {grade}   ({probs})"]
    for m, res in r.markers.items():
        mark = "✓" if res.present else "✗"
        if m == "vague_goal":
            mark = "!" if res.present else "✓"
        quote = ""
        if res.present and res.evidence:
            ev = res.evidence[0].text.replace("\n", " ").strip()
            quote = f'  "{ev[:60]}{"…" if len(ev) > 60 else ""}"'
        lines.append(f"   {mark} {m:<19} {res.probability:4.2f}{quote}")
    if r.flags:
        lines.append("   Flags:")
        for f in r.flags:
            body = textwrap.fill(f"[{f.severity}] {f.marker}: {f.message}", width=width,
                                 initial_indent="   - ", subsequent_indent="     ")
            lines.append(body)
    return "\n".join(lines) + "\n"


def write_text(results: Iterable[ScreenResult | ErrorResult], fh: IO[str]) -> None:
    for r in results:
        fh.write(format_text(r) + "\n")
