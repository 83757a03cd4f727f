"""Performance indicators from structured event data, beside the recording-quality tables.

The events file is a CSV with one row per event:

| column | meaning |
|---|---|
| `event_type` | assessment, cp_enquiry, plan, visit, cin_review, supervision |
| `start_date` | when it started (assessment start, strategy discussion, plan start, |
|              | the visit, the review, the supervision) |
| `end_date` | when it finished (assessment authorised, enquiry completed, plan |
|            | ended); blank if open |
| `team` | the team responsible |
| `child_id` | the child (plans, visits and reviews are matched on it) |
| `worker` | the worker (supervision is counted per worker) |
| `plan_type` | cin, cp or lac (plans) |

Dates are ISO (2025-03-14) or British (14/03/2025). Indicators, each by team and period
with a Wilson interval:

* `assessment_timeliness`: of assessments completed in the period, the share completed
  within the timescale (default 45 working days); `assessment_completion`: of
  assessments whose deadline fell in the period, the share completed by the as-of day.
* `cp_enquiry_timeliness`, `cp_enquiry_completion`: the same for section 47 enquiries
  (default 15 working days).
* `visits_in_timescale`: of the visits due to children on plans (by plan type), the
  share made within the plan's timescale of the previous visit (or of the plan's start);
  a visit due but not made by the plan's end (or the as-of day) counts as missed.
* `cin_reviews_in_timescale`: the same for Child in Need plan reviews (default 3 months).
* `supervision_in_timescale`: of supervisions due to each worker, the share held within
  the timescale of the previous one (default 4 weeks); a worker's first recorded
  supervision starts the clock.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from screener.reports.stats import wilson
from screener.reports.table import period_of

__all__ = ["EVENT_TYPES", "IndicatorConfig", "IndicatorError", "Timescale", "compute",
           "load_config", "read_events"]

EVENT_TYPES = ("assessment", "cp_enquiry", "plan", "visit", "cin_review", "supervision")
REQUIRED = ("event_type", "start_date", "team")
OPTIONAL = ("end_date", "child_id", "worker", "plan_type", "event_id")
ALL_TEAMS = "All teams"

LABELS = {
    "assessment_timeliness": "Assessments completed within timescale",
    "assessment_completion": "Assessments due that were completed",
    "cp_enquiry_timeliness": "CP enquiries completed within timescale",
    "cp_enquiry_completion": "CP enquiries due that were completed",
    "visits_in_timescale": "Visits to children on plans within timescale",
    "cin_reviews_in_timescale": "CIN plan reviews within timescale",
    "supervision_in_timescale": "Supervisions within timescale",
}


class IndicatorError(ValueError):
    """An events file or indicator configuration that cannot be used."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Timescale(_Strict):
    within: int = Field(gt=0)
    unit: Literal["working_days", "days", "weeks", "months"] = "working_days"

    def describe(self) -> str:
        return f"{self.within} {self.unit.replace('_', ' ')}"

    def met(self, start: dt.date, end: dt.date, holidays: np.ndarray) -> bool:
        """Whether `end` falls within the timescale counted from `start`."""
        return end <= self.deadline(start, holidays)

    def deadline(self, start: dt.date, holidays: np.ndarray) -> dt.date:
        if self.unit == "working_days":
            # the within-th working day after start
            day = np.busday_offset(np.datetime64(start, "D"), 0, roll="forward",
                                   holidays=holidays)
            if day == np.datetime64(start, "D"):
                day = np.busday_offset(day, self.within, holidays=holidays)
            else:  # started on a weekend or holiday: day 1 is the next working day
                day = np.busday_offset(day, self.within - 1, holidays=holidays)
            return pd.Timestamp(day).date()
        if self.unit == "days":
            return start + dt.timedelta(days=self.within)
        if self.unit == "weeks":
            return start + dt.timedelta(weeks=self.within)
        return (pd.Timestamp(start) + pd.DateOffset(months=self.within)).date()


def _ts(within: int, unit: str) -> Timescale:
    return Timescale.model_validate({"within": within, "unit": unit})


class IndicatorConfig(_Strict):
    """Timescales for the indicators (conf/indicators.yaml)."""

    assessment: Timescale = Field(default_factory=lambda: _ts(45, "working_days"))
    cp_enquiry: Timescale = Field(default_factory=lambda: _ts(15, "working_days"))
    visits: dict[str, Timescale] = Field(default_factory=lambda: {
        "cp": _ts(10, "working_days"), "cin": _ts(20, "working_days"), "lac": _ts(6, "weeks")})
    cin_review: Timescale = Field(default_factory=lambda: _ts(3, "months"))
    supervision: Timescale = Field(default_factory=lambda: _ts(4, "weeks"))
    as_of: dt.date | None = None
    holidays: list[dt.date] = Field(default_factory=list)

    def holiday_array(self) -> np.ndarray:
        return np.array(sorted(self.holidays), dtype="datetime64[D]")


def _default_dict() -> dict[str, Any]:
    text = resources.files("screener.reports").joinpath("conf/indicators.yaml") \
        .read_text("utf-8")
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def load_config(path: str | Path | None = None) -> IndicatorConfig:
    """The default timescales, overridden key by key by an authority's YAML file."""
    data = _default_dict()
    where = "the default indicator configuration"
    if path is not None:
        where = str(path)
        try:
            override = yaml.safe_load(Path(path).read_text("utf-8")) or {}
        except (OSError, yaml.YAMLError) as e:
            raise IndicatorError(f"{path}: cannot read ({e})") from e
        if not isinstance(override, dict):
            raise IndicatorError(f"{path}: expected a mapping of indicator settings")
        for key, value in override.items():
            if key == "visits" and isinstance(value, dict) and isinstance(data.get(key), dict):
                data[key] = {**data[key], **value}
            else:
                data[key] = value
    try:
        return IndicatorConfig.model_validate(data)
    except ValidationError as e:
        allowed = ", ".join(IndicatorConfig.model_fields)
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
                             for err in e.errors())
        raise IndicatorError(f"{where}: {problems} (allowed keys: {allowed})") from None


def _dates(values: pd.Series) -> pd.Series:
    text = values.fillna("").astype(str).str.strip()
    iso = text.str.match(r"^\d{4}-\d{2}-\d{2}")
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    out[iso] = pd.to_datetime(text[iso], errors="coerce", format="ISO8601")
    other = ~iso & (text != "")
    out[other] = pd.to_datetime(text[other], errors="coerce", dayfirst=True)
    return out


@dataclass
class Events:
    frame: pd.DataFrame
    skipped: list[str]


def read_events(source: str | Path | io.StringIO) -> Events:
    """Read and check an events CSV; rows that cannot be used are listed, not fatal."""
    try:
        df = pd.read_csv(source, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as e:
        raise IndicatorError(f"{source}: cannot read events CSV ({e})") from e
    df.columns = [c.strip().lower() for c in df.columns]
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise IndicatorError(f"{source}: missing column(s) {', '.join(missing)} (found: "
                             f"{', '.join(df.columns)}; optional: {', '.join(OPTIONAL)})")
    for c in OPTIONAL:
        if c not in df.columns:
            df[c] = ""
    df["event_type"] = df["event_type"].str.strip().str.lower()
    df["plan_type"] = df["plan_type"].str.strip().str.lower()
    df["team"] = df["team"].str.strip()
    df["start"] = _dates(df["start_date"])
    df["end"] = _dates(df["end_date"])
    skipped: list[str] = []
    bad_type = ~df["event_type"].isin(EVENT_TYPES)
    bad_start = df["start"].isna()
    bad_end = (df["end_date"].str.strip() != "") & df["end"].isna()
    for i in df.index[bad_type | bad_start | bad_end]:
        line = i + 2  # header is line 1
        why = ("unknown event_type " + repr(df.at[i, "event_type"]) + " (allowed: "
               + ", ".join(EVENT_TYPES) + ")" if bad_type[i] else
               "unreadable start_date" if bad_start[i] else "unreadable end_date")
        skipped.append(f"line {line}: {why}")
    keep = df[~(bad_type | bad_start | bad_end)].copy()
    keep.loc[keep["team"] == "", "team"] = "(not recorded)"
    return Events(keep.reset_index(drop=True), skipped)


def _d(ts: Any) -> dt.date:
    return pd.Timestamp(ts).date()


def _timeliness(df: pd.DataFrame, kind: str, ts: Timescale, as_of: dt.date,
                hol: np.ndarray) -> list[dict[str, Any]]:
    items = []
    for team, start, end in zip(df["team"], df["start"], df["end"], strict=True):
        s = _d(start)
        deadline = ts.deadline(s, hol)
        if pd.notna(end):
            e = _d(end)
            items.append({"indicator": f"{kind}_timeliness", "team": team, "date": e,
                          "met": e <= deadline})
        if deadline <= as_of:
            done = pd.notna(end) and _d(end) <= as_of
            items.append({"indicator": f"{kind}_completion", "team": team, "date": deadline,
                          "met": bool(done)})
    return items


def _chain(anchor: dt.date | None, dates: Iterable[dt.date], stop: dt.date, ts: Timescale,
           hol: np.ndarray) -> list[tuple[dt.date, bool]]:
    """(date, in time) for each due event: made ones, then a missed one at the end."""
    out: list[tuple[dt.date, bool]] = []
    prev = anchor
    for d in sorted(dates):
        if prev is not None:
            out.append((d, ts.met(prev, d, hol)))
        prev = d
    if prev is not None:
        due = ts.deadline(prev, hol)
        if due < stop:
            out.append((due, False))
    return out


def _plans_items(ev: pd.DataFrame, indicator: str, event: str, timescales: dict[str, Timescale],
                 as_of: dt.date, hol: np.ndarray) -> list[dict[str, Any]]:
    plans = ev[ev["event_type"] == "plan"]
    happened = ev[ev["event_type"] == event]
    by_child = {c: sorted(_d(x) for x in g["start"]) for c, g in happened.groupby("child_id")}
    items = []
    for child, team, ptype, start, end in zip(plans["child_id"], plans["team"],
                                              plans["plan_type"], plans["start"], plans["end"],
                                              strict=True):
        ts = timescales.get(ptype)
        if ts is None:
            continue
        s = _d(start)
        stop = min(_d(end), as_of) if pd.notna(end) else as_of
        dates = [d for d in by_child.get(child, []) if s <= d <= stop]
        for d, met in _chain(s, dates, stop, ts, hol):
            items.append({"indicator": indicator, "team": team, "date": d, "met": met,
                          "plan_type": ptype})
    return items


def _supervision_items(ev: pd.DataFrame, ts: Timescale, as_of: dt.date,
                       hol: np.ndarray) -> list[dict[str, Any]]:
    sup = ev[(ev["event_type"] == "supervision") & (ev["worker"].str.strip() != "")]
    items = []
    for _, g in sup.groupby("worker"):
        g = g.sort_values("start")
        team = g["team"].iloc[-1]
        for d, met in _chain(None, [_d(x) for x in g["start"]], as_of, ts, hol):
            items.append({"indicator": "supervision_in_timescale", "team": team, "date": d,
                          "met": met})
    return items


def compute(events: Events | pd.DataFrame, config: IndicatorConfig | None = None,
            period: str = "year") -> pd.DataFrame:
    """Every indicator by team and period (and for all teams), with Wilson intervals."""
    cfg = config or IndicatorConfig()
    ev = events.frame if isinstance(events, Events) else events
    cols = ["indicator", "label", "timescale", "team", "period", "met", "due", "rate",
            "ci_low", "ci_high"]
    if ev.empty:
        return pd.DataFrame(columns=cols)
    hol = cfg.holiday_array()
    latest = pd.concat([ev["start"], ev["end"]]).max()
    as_of = cfg.as_of or _d(latest)
    items: list[dict[str, Any]] = []
    for kind, ts in (("assessment", cfg.assessment), ("cp_enquiry", cfg.cp_enquiry)):
        items += _timeliness(ev[ev["event_type"] == kind], kind, ts, as_of, hol)
    items += _plans_items(ev, "visits_in_timescale", "visit", cfg.visits, as_of, hol)
    items += _plans_items(ev, "cin_reviews_in_timescale", "cin_review",
                          {"cin": cfg.cin_review}, as_of, hol)
    items += _supervision_items(ev, cfg.supervision, as_of, hol)
    if not items:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame(items)
    df["period"] = period_of(pd.to_datetime(df["date"]), period)
    both = pd.concat([df, df.assign(team=ALL_TEAMS)], ignore_index=True)
    agg = both.groupby(["indicator", "team", "period"], sort=True)["met"] \
        .agg(met="sum", due="size").reset_index()
    agg["met"] = agg["met"].astype("int64")
    agg["rate"] = (agg["met"] / agg["due"]).round(4)
    cis = [wilson(int(k), int(n)) for k, n in zip(agg["met"], agg["due"], strict=True)]
    agg["ci_low"] = [round(c[0], 4) for c in cis]
    agg["ci_high"] = [round(c[1], 4) for c in cis]
    agg["label"] = agg["indicator"].map(LABELS)
    scales = {
        "assessment_timeliness": cfg.assessment.describe(),
        "assessment_completion": cfg.assessment.describe(),
        "cp_enquiry_timeliness": cfg.cp_enquiry.describe(),
        "cp_enquiry_completion": cfg.cp_enquiry.describe(),
        "visits_in_timescale": "; ".join(f"{k.upper()} {v.describe()}"
                                         for k, v in cfg.visits.items()),
        "cin_reviews_in_timescale": cfg.cin_review.describe(),
        "supervision_in_timescale": cfg.supervision.describe(),
    }
    agg["timescale"] = agg["indicator"].map(scales)
    order = {k: i for i, k in enumerate(LABELS)}
    agg["_i"] = agg["indicator"].map(order)
    agg["_t"] = (agg["team"] != ALL_TEAMS).astype(int)
    agg = agg.sort_values(["_i", "_t", "team", "period"], kind="stable")
    return agg[cols].reset_index(drop=True)


def wide(indicators: pd.DataFrame) -> pd.DataFrame:
    """Indicator x team rows, one column per period: 'rate% (met/due)', for the report."""
    if indicators.empty:
        return indicators
    cell = indicators.apply(lambda r: f"{100 * r['rate']:.0f}% ({r['met']}/{r['due']})",
                            axis=1)
    df = indicators.assign(cell=cell)
    out = df.pivot_table(index=["label", "team"], columns="period", values="cell",
                         aggfunc="first", sort=False)
    out = out[sorted(out.columns, key=str)]
    out.columns.name = None
    return out.reset_index().rename(columns={"label": "indicator"}).fillna("–")
