"""Performance indicators on a small events file worked out by hand."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from screener.reports.indicators import (
    IndicatorConfig,
    IndicatorError,
    Timescale,
    compute,
    load_config,
    read_events,
)

EVENTS = """event_type,child_id,team,worker,start_date,end_date,plan_type
assessment,c1,T1,,2025-01-06,2025-03-10,
assessment,c2,T1,,2025-01-06,2025-03-11,
assessment,c3,T2,,04/01/2025,,
assessment,c4,T2,,2025-06-20,,
plan,c5,T1,,2025-01-06,,cp
visit,c5,T1,,2025-01-17,,
visit,c5,T1,,2025-02-05,,
visit,c5,T1,,2025-02-12,,
plan,c6,T2,,2025-01-06,2025-04-30,cin
cin_review,c6,T2,,2025-04-01,,
supervision,,T1,Ann,2025-01-06,,
supervision,,T1,Ann,2025-02-03,,
supervision,,T1,Ann,2025-03-10,,
supervision,,T2,Bob,2025-06-16,,
bogus,,T1,,2025-01-01,,
assessment,,T1,,not a date,,
"""
NO_HOLIDAYS = np.array([], dtype="datetime64[D]")


@pytest.fixture(scope="module")
def result() -> pd.DataFrame:
    cfg = IndicatorConfig(as_of=dt.date(2025, 6, 30), holidays=[])
    return compute(read_events(io.StringIO(EVENTS)), cfg, period="year")


def _get(df: pd.DataFrame, indicator: str, team: str) -> tuple[int, int]:
    row = df[(df["indicator"] == indicator) & (df["team"] == team) & (df["period"] == "2025")]
    assert len(row) == 1, (indicator, team)
    return int(row["met"].iloc[0]), int(row["due"].iloc[0])


def test_bad_rows_are_listed_not_fatal() -> None:
    ev = read_events(io.StringIO(EVENTS))
    assert len(ev.frame) == 14
    assert ev.skipped == [
        "line 16: unknown event_type 'bogus' (allowed: assessment, cp_enquiry, plan, visit, "
        "cin_review, supervision)", "line 17: unreadable start_date"]


def test_assessment_timeliness_and_completion(result: pd.DataFrame) -> None:
    # c1: started Monday 6 Jan, 45 working days later is Monday 10 March: in time.
    # c2: finished 11 March: late. So T1 has 1 of 2 in time.
    assert _get(result, "assessment_timeliness", "T1") == (1, 2)
    # Completion: c1, c2 done by the as-of day; c3 (4 January, read day first, a
    # Saturday: due Friday 7 March) still open; c4 not yet due.
    assert _get(result, "assessment_completion", "T1") == (2, 2)
    assert _get(result, "assessment_completion", "T2") == (0, 1)
    assert _get(result, "assessment_completion", "All teams") == (2, 3)


def test_visits_within_the_plans_timescale(result: pd.DataFrame) -> None:
    # c5 (CP, 10 working days): 17 Jan in time (due 20 Jan), 5 Feb late (due 31 Jan),
    # 12 Feb in time, then none by 26 Feb: missed. 2 of 4.
    assert _get(result, "visits_in_timescale", "T1") == (2, 4)
    # c6 (CIN, 20 working days): no visit by 3 Feb: missed.
    assert _get(result, "visits_in_timescale", "T2") == (0, 1)
    assert _get(result, "visits_in_timescale", "All teams") == (2, 5)


def test_cin_reviews_and_supervision(result: pd.DataFrame) -> None:
    # c6 reviewed 1 April, within 3 months of 6 January; plan ended before the next was due.
    assert _get(result, "cin_reviews_in_timescale", "T2") == (1, 1)
    # Ann: 3 Feb after 28 days (in time), 10 March after 35 (late), none by 7 April.
    assert _get(result, "supervision_in_timescale", "T1") == (1, 3)
    # Bob's first supervision starts his clock; the next is not due by the as-of day.
    assert result[(result["indicator"] == "supervision_in_timescale") &
                  (result["team"] == "T2")].empty


def test_rates_carry_wilson_intervals(result: pd.DataFrame) -> None:
    row = result[(result["indicator"] == "visits_in_timescale") &
                 (result["team"] == "All teams")].iloc[0]
    assert row["rate"] == 0.4
    assert row["ci_low"] < 0.4 < row["ci_high"]
    assert row["timescale"] == "CP 10 working days; CIN 20 working days; LAC 6 weeks"


@pytest.mark.parametrize(("ts", "start", "deadline", "holidays"), [
    (Timescale(within=45), "2025-01-06", "2025-03-10", []),
    (Timescale(within=45), "2025-01-06", "2025-03-11", ["2025-02-03"]),
    (Timescale(within=45), "2025-01-04", "2025-03-07", []),          # a Saturday start
    (Timescale(within=1), "2025-12-24", "2025-12-29", ["2025-12-25", "2025-12-26"]),
    (Timescale(within=4, unit="weeks"), "2025-01-06", "2025-02-03", []),
    (Timescale(within=28, unit="days"), "2025-01-06", "2025-02-03", []),
    (Timescale(within=3, unit="months"), "2024-11-30", "2025-02-28", []),
])
def test_timescale_deadlines(ts: Timescale, start: str, deadline: str,
                             holidays: list[str]) -> None:
    hol = np.array(holidays, dtype="datetime64[D]")
    assert ts.deadline(dt.date.fromisoformat(start), hol) == dt.date.fromisoformat(deadline)


def test_default_config_and_authority_override(tmp_path: Path) -> None:
    default = load_config()
    assert default.assessment.within == 45 and default.assessment.unit == "working_days"
    assert dt.date(2025, 12, 25) in default.holidays
    f = tmp_path / "ours.yaml"
    f.write_text("assessment: {within: 35}\nvisits:\n  cp: {within: 2, unit: weeks}\n")
    ours = load_config(f)
    assert ours.assessment.within == 35
    assert ours.visits["cp"].unit == "weeks" and ours.visits["cin"].within == 20  # kept


def test_bad_config_names_the_file_and_allowed_keys(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("assesment: {within: 35}\n")
    with pytest.raises(IndicatorError, match=r"bad.yaml: assesment: .*allowed keys: "
                       r"assessment, cp_enquiry"):
        load_config(f)
    f.write_text("supervision: {within: 4, unit: fortnights}\n")
    with pytest.raises(IndicatorError, match="supervision.unit"):
        load_config(f)


def test_missing_columns_are_named() -> None:
    with pytest.raises(IndicatorError, match="missing column.*start_date"):
        read_events(io.StringIO("event_type,team\nvisit,T1\n"))


def test_example_events_file() -> None:
    path = Path(__file__).resolve().parents[2] / "examples" / "events.csv"
    ev = read_events(path)
    assert not ev.skipped
    out = compute(ev, load_config())
    assert set(out["indicator"]) == {
        "assessment_timeliness", "assessment_completion", "cp_enquiry_timeliness",
        "cp_enquiry_completion", "visits_in_timescale", "cin_reviews_in_timescale",
        "supervision_in_timescale"}
    assert (out["due"] > 0).all() and out["rate"].between(0, 1).all()
