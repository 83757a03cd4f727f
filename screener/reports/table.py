"""The tidy table every report is built on: one row per screened record.

Columns: `id, doc_type, team, service, worker, date, period, grade, p_<level>...,
<marker>, <marker>_probability ..., flags, n_flags, auditor_grade, moderator_grade, mode,
rubric`, and, internally, `examples` (the sentences behind each flag, as JSON; raw text,
so it never leaves the package unpseudonymised and is dropped from exports).

A marker column is 1 (present), 0 (absent) or missing (the marker does not apply to the
record's type), following the columns of `screener screen -o results.csv`. Whatever feeds
the report (records screened on the fly, a results JSONL from `screener screen`, the
audit database, or a Dask partition) ends up here through `tidy_frame`, so every source
gives the same columns in the same order with the same types.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from screener.config.models import Rubric
from screener.schemas import ScreenResult

__all__ = [
    "GRADE_LABELS",
    "NOT_RECORDED",
    "PERIODS",
    "TableSpec",
    "normalise_grade",
    "period_of",
    "frame_from_rows",
    "tidy_frame",
    "tidy_row",
]

PeriodKind = Literal["year", "fy", "quarter", "month"]
PERIODS: tuple[str, ...] = ("year", "fy", "quarter", "month")
NOT_RECORDED = "(not recorded)"
NO_DATE = "(no date)"

# Audit tables show all four Ofsted-style judgements, whatever the rubric grades.
GRADE_LABELS: dict[str, str] = {
    "outstanding": "Outstanding",
    "good": "Good",
    "requires_improvement": "Requires improvement",
    "inadequate": "Inadequate",
}
_GRADE_ALIASES = {
    "outstanding": "outstanding", "o": "outstanding",
    "good": "good", "g": "good",
    "requires improvement": "requires_improvement", "requires_improvement": "requires_improvement",
    "requires-improvement": "requires_improvement", "ri": "requires_improvement",
    "inadequate": "inadequate", "i": "inadequate",
}

# Extra input columns that mean the same thing in different authorities' exports.
_ALIASES: dict[str, tuple[str, ...]] = {
    "team": ("team", "team_name"),
    "service": ("service", "service_area", "directorate"),
    "worker": ("worker", "social_worker", "author", "worker_name"),
    "date": ("date", "record_date", "recorded_on", "created", "created_at"),
    "auditor_grade": ("auditor_grade", "audit_grade", "auditor"),
    "moderator_grade": ("moderator_grade", "moderated_grade", "moderation_grade", "moderator"),
}


def normalise_grade(value: Any) -> str | None:
    """'Good', 'RI', 'Requires Improvement', 'requires_improvement' ... -> a grade id.

    None for a missing value; ValueError, naming what is allowed, for anything else.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = re.sub(r"\s+", " ", str(value).strip().lower())
    if text in ("", "nan", "none", "n/a", "na", "-"):
        return None
    try:
        return _GRADE_ALIASES[text]
    except KeyError:
        raise ValueError(f"unknown grade {value!r} (allowed: "
                         f"{', '.join(GRADE_LABELS.values())}, or their ids)") from None


def period_of(dates: pd.Series, kind: str = "year") -> pd.Series:
    """Calendar year '2024', financial year '2024-25' (April to March), quarter '2024-Q1'
    or month '2024-03' of each date; '(no date)' where there is none."""
    if kind not in PERIODS:
        raise ValueError(f"unknown period {kind!r} (allowed: {', '.join(PERIODS)})")
    d = pd.to_datetime(dates, errors="coerce")
    out = pd.Series(NO_DATE, index=dates.index, dtype="string")
    ok = d.notna()
    if not ok.any():
        return out
    year, month = d[ok].dt.year.astype(int), d[ok].dt.month.astype(int)
    if kind == "year":
        values = year.astype(str)
    elif kind == "fy":
        start = year.where(month >= 4, year - 1)
        values = start.astype(str) + "-" + ((start + 1) % 100).map("{:02d}".format)
    elif kind == "quarter":
        values = year.astype(str) + "-Q" + ((month - 1) // 3 + 1).astype(str)
    else:
        values = year.astype(str) + "-" + month.map("{:02d}".format)
    out[ok] = values.to_numpy()
    return out


def _parse_date(value: Any) -> pd.Timestamp | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value
    text = str(value).strip()
    if not text:
        return None
    # ISO dates as written; anything else is read the British way (day first).
    iso = re.match(r"^\d{4}-\d{2}-\d{2}", text) is not None
    try:
        ts = pd.to_datetime(text, dayfirst=not iso)
    except (ValueError, OverflowError):
        return None
    return None if pd.isna(ts) else pd.Timestamp(ts).tz_localize(None).normalize()


def _extra(extra: Mapping[str, Any], name: str) -> Any:
    for key in _ALIASES[name]:
        value = extra.get(key)
        if value is not None and not (isinstance(value, float) and math.isnan(value)) \
                and str(value).strip() != "":
            return value
    return None


@dataclass(frozen=True)
class TableSpec:
    """What the table's columns are: the rubric's grade levels and markers, and the period."""

    levels: tuple[str, ...]
    markers: tuple[str, ...]
    marker_labels: Mapping[str, str] = field(default_factory=dict)
    negative: frozenset[str] = frozenset()
    doc_type_markers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    period: str = "year"

    @classmethod
    def from_rubric(cls, rubric: Rubric, period: str = "year") -> TableSpec:
        if period not in PERIODS:
            raise ValueError(f"unknown period {period!r} (allowed: {', '.join(PERIODS)})")
        return cls(
            levels=tuple(rubric.levels),
            markers=tuple(rubric.markers),
            marker_labels={m: s.label for m, s in rubric.markers.items()},
            negative=frozenset(m for m, s in rubric.markers.items() if s.negative),
            doc_type_markers={d: tuple(s.markers) for d, s in rubric.doc_types.items()},
            period=period,
        )

    @property
    def report_levels(self) -> tuple[str, ...]:
        """The levels of the audit table: the four judgements, then any the rubric adds."""
        extra = tuple(lv for lv in self.levels if lv not in GRADE_LABELS)
        return tuple(GRADE_LABELS) + extra

    def columns(self) -> dict[str, str]:
        """Column name -> dtype, in order (also the Dask `meta`)."""
        cols: dict[str, str] = {
            "id": "string", "doc_type": "string", "team": "string", "service": "string",
            "worker": "string", "date": "datetime64[ns]", "period": "string",
            "grade": "string",
        }
        cols.update({f"p_{lv}": "float64" for lv in self.levels})
        for m in self.markers:
            cols[m] = "Int8"
            cols[f"{m}_probability"] = "float64"
        cols.update({"flags": "string", "n_flags": "int64", "auditor_grade": "string",
                     "moderator_grade": "string", "mode": "string", "rubric": "string",
                     "examples": "string"})
        return cols

    def empty(self) -> pd.DataFrame:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in self.columns().items()})


def _examples(result: ScreenResult) -> str:
    """For each flag, the first sentence behind it (the blocked cue or the vague phrase)."""
    out: dict[str, str] = {}
    for flag in result.flags:
        for ev in flag.evidence:
            sentence = (ev.sentence or ev.text or "").strip()
            if sentence:
                out[flag.marker] = " ".join(sentence.split())[:400]
                break
    return json.dumps(out, ensure_ascii=False, sort_keys=True)


def tidy_row(result: ScreenResult, spec: TableSpec) -> dict[str, Any]:
    """One table row from a screening result and the columns carried in its `extra`."""
    extra = result.extra
    row: dict[str, Any] = {
        "id": result.id, "doc_type": result.doc_type,
        "team": _extra(extra, "team"), "service": _extra(extra, "service"),
        "worker": _extra(extra, "worker"), "date": _parse_date(_extra(extra, "date")),
        "grade": result.grade,
    }
    for lv in spec.levels:
        row[f"p_{lv}"] = result.grade_probabilities.get(lv, math.nan)
    for m in spec.markers:
        res = result.markers.get(m)
        row[m] = None if res is None else int(res.present)
        row[f"{m}_probability"] = math.nan if res is None else res.probability
    row["flags"] = "; ".join(f.marker for f in result.flags)
    row["n_flags"] = len(result.flags)
    for who in ("auditor_grade", "moderator_grade"):
        raw = _extra(extra, who)
        try:
            row[who] = normalise_grade(raw)
        except ValueError as e:
            raise ValueError(f"record {result.id}: {who}: {e}") from None
    row["mode"], row["rubric"] = result.mode, result.rubric
    row["examples"] = _examples(result)
    return row


def tidy_frame(results: Iterable[ScreenResult], spec: TableSpec) -> pd.DataFrame:
    """The tidy table of these results, typed and in column order (empty results: no rows)."""
    return frame_from_rows([tidy_row(r, spec) for r in results], spec)


def frame_from_rows(rows: list[dict[str, Any]], spec: TableSpec) -> pd.DataFrame:
    """The typed tidy table of rows made by `tidy_row`."""
    cols = spec.columns()
    if not rows:
        return spec.empty()
    df = pd.DataFrame(rows, columns=list(cols))
    for name in ("team", "service", "worker"):
        df[name] = df[name].map(lambda v: NOT_RECORDED if v is None else str(v).strip())
    df["date"] = pd.to_datetime(df["date"])
    df["period"] = period_of(df["date"], spec.period)
    out = df.astype(cols)
    out.index = pd.RangeIndex(len(out))
    return out


def result_from_output(obj: dict[str, Any]) -> ScreenResult:
    """A `screener screen` JSONL line (carried columns at top level) back into a result."""
    known = set(ScreenResult.model_fields) - {"extra"}
    body = {k: v for k, v in obj.items() if k in known}
    body.setdefault("mode", "")
    body.setdefault("rubric", "")
    body["extra"] = {k: v for k, v in obj.items() if k not in known}
    return ScreenResult.model_validate(body)


def is_result_line(obj: Mapping[str, Any]) -> bool:
    """Whether a JSON object is a `screener screen` result rather than a record to screen."""
    markers = obj.get("markers")
    return ("grade" in obj and isinstance(markers, dict) and "text" not in obj
            and all(isinstance(v, dict) and "present" in v for v in markers.values()))
