"""Column mappings: how one case-management system's export becomes audit records.

A mapping is a small YAML file (see `examples/exports/*.mapping.yaml`):

    source: mosaic                 # names the system; record ids are unique within it
    format: csv                    # csv or jsonl (default: from the file's extension)
    columns:
      record_id: Step ID           # a column, a dotted path into JSONL objects ("Form.Id"),
      child_id: Person ID          #   or a list of them joined with ":" (record_id only)
      case_file: Case Number       # optional (default: one case file per child)
      doc_type: Step Type
      date: Completed              # optional
      worker: Worker               # optional
      team: Team                   # optional
      service: Service Area        # optional
      text: Form Text              # one column; or a list of columns, each written as
                                   #   "Column: value"; or {sections: Answers,
                                   #   heading: Question, body: Answer} for a list of Q&As
    doc_types:                     # the export's record types -> the rubric's doc_type
      "C&F Assessment": assessment
    skip_doc_types: [Case Note]    # types deliberately not imported (counted, not errors)
    date_formats: ["%d/%m/%Y %H:%M", "%d/%m/%Y"]

Every key is checked: an unknown one is an error naming the file and key and listing
the allowed keys. A row that cannot be mapped becomes a `RowError` with its line and
reason; it never disappears silently.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from screener.io import cut_inside_quotes, last_line_if_odd_quotes

csv.field_size_limit(64 * 1024 * 1024)


class MappingError(ValueError):
    """A mapping file (or an export's header) that cannot be used, with where and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TextSections(_Strict):
    """Text built from a list of question/answer objects (JSONL exports)."""

    sections: str
    heading: str
    body: str


class Columns(_Strict):
    record_id: str | list[str]
    child_id: str
    case_file: str | None = None
    doc_type: str
    date: str | None = None
    worker: str | None = None
    team: str | None = None
    service: str | None = None
    text: str | list[str] | TextSections


class Mapping(_Strict):
    source: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    format: Literal["csv", "jsonl"] | None = None
    encoding: str = "utf-8-sig"
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    columns: Columns
    doc_types: dict[str, str] = Field(default_factory=dict)
    skip_doc_types: list[str] = Field(default_factory=list)
    date_formats: list[str] = Field(default_factory=lambda: ["%Y-%m-%d"])

    def doc_type_for(self, raw: str) -> str | None:
        """The rubric's doc_type for an export's record type (case and spacing ignored)."""
        if not self.doc_types:
            return raw
        folded = _fold(raw)
        return next((t for k, t in self.doc_types.items() if _fold(k) == folded), None)


def _fold(s: str) -> str:
    return " ".join(str(s).split()).casefold()


# The layout `screener screen` reads, plus the audit columns: used when no --mapping.
DEFAULT_MAPPING = Mapping(
    source="screener",
    columns=Columns(record_id="id", child_id="child_id", case_file="case_file",
                    doc_type="doc_type", date="date", worker="worker", team="team",
                    service="service", text="text"),
    date_formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y"],
)


def load_mapping(path: str | Path | None) -> Mapping:
    """A mapping from YAML, or the default layout (id, child_id, doc_type, text, ...)."""
    if path is None:
        return DEFAULT_MAPPING
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text("utf-8"))
    except OSError as e:
        raise MappingError(f"{p}: cannot read ({e.strerror})") from e
    except yaml.YAMLError as e:
        raise MappingError(f"{p}: not valid YAML ({e})") from e
    if not isinstance(data, dict):
        raise MappingError(f"{p}: must be a mapping of keys to values")
    try:
        return Mapping.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        key = ".".join(str(x) for x in err["loc"] if not str(x).startswith(("str", "list",
                                                                              "TextSections")))
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            model: type[BaseModel] = Columns if err["loc"][0] == "columns" else Mapping
            msg += f" (allowed: {', '.join(model.model_fields)})"
        raise MappingError(f"{p}: {key}: {msg}") from e


@dataclass(frozen=True)
class MappedRow:
    """One export row in the audit's terms (ids still as the source system wrote them)."""

    line: int
    source_id: str
    child_id: str
    case_file: str
    doc_type: str
    record_date: date | None
    worker: str | None
    team: str | None
    service: str | None
    text: str

    @property
    def content_hash(self) -> str:
        """Hash of what is screened: a change means the record must be screened again."""
        return hashlib.sha256(f"{self.doc_type}\n{self.text}".encode()).hexdigest()


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str
    source_id: str | None = None


@dataclass(frozen=True)
class Skipped:
    line: int
    doc_type: str


def _get(obj: dict[str, Any], path: str) -> Any:
    """A value by column name, else by dotted path into nested objects."""
    if path in obj:
        return obj[path]
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def _str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    s = str(value).strip()
    return s or None


def _text(obj: dict[str, Any], spec: str | list[str] | TextSections) -> str | None:
    if isinstance(spec, str):
        value = _get(obj, spec)
        return value if isinstance(value, str) and value.strip() else None
    if isinstance(spec, list):
        parts = []
        for col in spec:
            value = _str(_get(obj, col))
            if value:
                parts.append(f"{col.rsplit('.', 1)[-1]}: {value}")
        return "\n\n".join(parts) or None
    items = _get(obj, spec.sections)
    if not isinstance(items, list):
        return None
    parts = []
    for item in items:
        if not isinstance(item, dict):
            continue
        head, body = _str(item.get(spec.heading)), _str(item.get(spec.body))
        if body:
            parts.append(f"{head}:\n{body}" if head else body)
    return "\n\n".join(parts) or None


def parse_date(value: str, formats: list[str]) -> date:
    for fmt in formats:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"date {value!r} matches none of the formats {formats}")


def map_row(obj: dict[str, Any], line: int, m: Mapping,
            doc_types: list[str]) -> MappedRow | RowError | Skipped:
    """One export row -> a mapped row, a reasoned error, or a deliberate skip."""
    c = m.columns
    if isinstance(c.record_id, list):
        parts = [_str(_get(obj, col)) for col in c.record_id]
        rid = ":".join(p for p in parts if p) if all(parts) else None
    else:
        rid = _str(_get(obj, c.record_id))
    if not rid:
        return RowError(line, f"no record id (column {c.record_id!r} is empty)")
    raw_type = _str(_get(obj, c.doc_type))
    if not raw_type:
        return RowError(line, f"no record type (column {c.doc_type!r} is empty)", rid)
    if _fold(raw_type) in {_fold(s) for s in m.skip_doc_types}:
        return Skipped(line, raw_type)
    doc_type = m.doc_type_for(raw_type)
    if doc_type not in doc_types:
        known = sorted(m.doc_types) if m.doc_types else doc_types
        return RowError(line, f"unknown record type {raw_type!r} (add it to doc_types or "
                        f"skip_doc_types in the mapping; mapped: {', '.join(known)})", rid)
    child = _str(_get(obj, c.child_id))
    if not child:
        return RowError(line, f"no child id (column {c.child_id!r} is empty)", rid)
    case_file = (_str(_get(obj, c.case_file)) if c.case_file else None) or f"child:{child}"
    text = _text(obj, c.text)
    if text is None:
        return RowError(line, "empty text", rid)
    when: date | None = None
    raw_date = _str(_get(obj, c.date)) if c.date else None
    if raw_date:
        try:
            when = parse_date(raw_date, m.date_formats)
        except ValueError as e:
            return RowError(line, str(e), rid)

    def opt(col: str | None) -> str | None:
        return _str(_get(obj, col)) if col else None

    return MappedRow(line=line, source_id=rid, child_id=child, case_file=case_file,
                     doc_type=doc_type, record_date=when, worker=opt(c.worker),
                     team=opt(c.team), service=opt(c.service), text=text)


def read_rows(path: Path, m: Mapping) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """(line, raw row) for each row of a CSV or JSONL export; unreadable rows as RowError."""
    fmt = m.format or ("csv" if path.suffix.lower() == ".csv" else "jsonl")
    if fmt == "jsonl":
        with path.open("rb") as fh:
            for n, raw in enumerate(fh, 1):
                try:
                    line = raw.decode(m.encoding)
                except UnicodeDecodeError:
                    yield n, RowError(n, f"line is not valid {m.encoding}")
                    continue
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as e:
                    yield n, RowError(n, f"malformed JSON ({e.msg} at column {e.colno})")
                    continue
                if not isinstance(obj, dict):
                    yield n, RowError(n, "line is not a JSON object")
                    continue
                yield n, obj
        return
    try:
        text = path.read_bytes().decode(m.encoding)
    except UnicodeDecodeError as e:
        raise MappingError(f"{path}: not valid {m.encoding} (set `encoding:` in the mapping, "
                           "e.g. cp1252)") from e
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=m.delimiter)
    header = reader.fieldnames or []
    c = m.columns
    needed = [c.child_id, c.doc_type]
    needed += c.record_id if isinstance(c.record_id, list) else [c.record_id]
    needed += [c.text] if isinstance(c.text, str) else (
        c.text if isinstance(c.text, list) else [])
    missing = [col for col in needed if col not in header]
    if missing:
        raise MappingError(f"{path}: the mapping names column(s) {', '.join(map(repr, missing))} "
                           f"that the export does not have (found: {', '.join(header)})")
    last = last_line_if_odd_quotes(text)
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            yield start, RowError(start, f"malformed CSV ({e}); the rest of the file cannot "
                                  "be read")
            return
        if None in row:
            extra = row.pop(None)
            yield start, RowError(start, f"{len(extra or [])} more cell(s) than the header has "
                                  "columns (a stray delimiter or quote?)")
            continue
        if reader.line_num == last and cut_inside_quotes(text, start, m.delimiter):
            yield start, RowError(start, "the file ends inside a quoted field (is the export "
                                  "cut short?)")
            return
        yield start, dict(row)
