"""The report's tables on a small case worked out by hand (see conftest.CASE).

Ten visit records in teams A, B, C and services S1, S2, dated 2024, 2025 and one undated,
with three markers (child_seen, child_views, vague_goal), screener grades, and auditor and
moderator grades for some. Every expected number below is counted from CASE by hand.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from report_case import KEY, case_results

from screener.reports.aggregate import build_tables, combine, count
from screener.reports.engine import Settings, process, run_local
from screener.reports.sources import row_item
from screener.reports.stats import wilson
from screener.reports.table import (
    TableSpec,
    normalise_grade,
    period_of,
    result_from_output,
    tidy_frame,
)


@pytest.fixture(scope="module")
def tables(spec: TableSpec) -> dict[str, pd.DataFrame]:
    run = run_local(case_results(), Settings(spec=spec, key=KEY))
    return build_tables(run.counts, spec, by="team", n_boot=200, seed=1)


def _row(df: pd.DataFrame, **keys: str) -> pd.Series:
    mask = pd.Series(True, index=df.index)
    for k, v in keys.items():
        mask &= df[k].astype(str) == v
    assert mask.sum() == 1, f"{keys}: {mask.sum()} rows"
    return df[mask].iloc[0]


def test_grades_by_period_is_an_audit_table(tables: dict[str, pd.DataFrame]) -> None:
    t = tables["grades_by_period"]
    assert list(t["period"]) == ["2024", "2025", "(no date)", "Total"]
    assert list(t.columns) == [
        "period", "Outstanding n", "Outstanding %", "Good n", "Good %",
        "Requires improvement n", "Requires improvement %", "Inadequate n", "Inadequate %",
        "Total"]
    # 2024: r01 good, r02 RI, r05 inadequate, r10 RI
    r = _row(t, period="2024")
    assert (r["Good n"], r["Requires improvement n"], r["Inadequate n"], r["Total"]) == \
        (1, 2, 1, 4)
    assert (r["Good %"], r["Requires improvement %"], r["Inadequate %"]) == (25.0, 50.0, 25.0)
    # 2025: r03 (10/01/2025, read day first) inadequate, r04 good, r06 RI, r07 good, r08 inadequate
    r = _row(t, period="2025")
    assert (r["Good n"], r["Requires improvement n"], r["Inadequate n"], r["Total"]) == \
        (2, 1, 2, 5)
    assert r["Good %"] == 40.0
    r = _row(t, period="Total")
    assert (r["Outstanding n"], r["Good n"], r["Requires improvement n"], r["Inadequate n"],
            r["Total"]) == (0, 4, 3, 3, 10)
    assert (r["Good %"], r["Requires improvement %"], r["Inadequate %"]) == (40.0, 30.0, 30.0)


def test_grades_by_service_and_period_with_totals(tables: dict[str, pd.DataFrame]) -> None:
    t = tables["grades_by_service_period"]
    assert list(zip(t["service"], t["period"], strict=True)) == [
        ("S1", "2024"), ("S1", "2025"), ("S1", "Total"),
        ("S2", "2024"), ("S2", "2025"), ("S2", "(no date)"), ("S2", "Total"), ("Total", "")]
    r = _row(t, service="S1", period="2024")   # r01 good, r02 RI, r10 RI
    assert (r["Good n"], r["Requires improvement n"], r["Total"]) == (1, 2, 3)
    assert (r["Good %"], r["Requires improvement %"]) == (33.3, 66.7)
    r = _row(t, service="S2", period="Total")  # r05 I, r06 RI, r07 G, r08 I, r09 G
    assert (r["Good n"], r["Requires improvement n"], r["Inadequate n"], r["Total"]) == \
        (2, 1, 2, 5)
    r = _row(t, service="Total", period="")
    assert r["Total"] == 10


def test_auditor_grade_table_counts_only_audited_records(
        tables: dict[str, pd.DataFrame]) -> None:
    t = tables["auditor_grades_by_service_period"]
    r = _row(t, service="Total", period="")
    # 9 audited: Outstanding r07; Good r01 r02 r09; RI r04 r06; Inadequate r03 r05 r10
    assert (r["Outstanding n"], r["Good n"], r["Requires improvement n"], r["Inadequate n"],
            r["Total"]) == (1, 3, 2, 3, 9)


def test_marker_prevalence_with_wilson_intervals(tables: dict[str, pd.DataFrame]) -> None:
    p = tables["marker_prevalence"]
    # child seen in r01 r02 r04 r06 r07 r09 r10: 7 of 10
    r = _row(p, doc_type="visit", team="All", marker="child_seen")
    assert (r["n"], r["present"], r["prevalence"]) == (10, 7, 0.7)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx(wilson(7, 10), abs=1e-4)
    # team A: r01 r02 r03 r10 -> seen in 3 of 4
    r = _row(p, doc_type="visit", team="A", marker="child_seen")
    assert (r["n"], r["present"]) == (4, 3)
    assert r["ci_low"] == pytest.approx(wilson(3, 4)[0], abs=1e-4)
    # views: r01 r04 r05 r07 r09 r10 = 6 of 10; team B (r04 r05 r06) 2 of 3
    assert _row(p, doc_type="visit", team="All", marker="child_views")["present"] == 6
    assert _row(p, doc_type="visit", team="B", marker="child_views")["present"] == 2
    # markers the results do not carry are not applicable, not absent
    assert set(p["marker"]) == {"child_seen", "child_views", "vague_goal"}


def test_trend_by_period(tables: dict[str, pd.DataFrame]) -> None:
    t = tables["marker_trend"]
    # 2025: r03 r04 r06 r07 r08 -> seen in r04 r06 r07 = 3 of 5
    r = _row(t, period="2025", marker="child_seen")
    assert (r["n"], r["present"]) == (5, 3)
    g = tables["grade_trend"]
    r = _row(g, period="2024", grade="requires_improvement")
    assert (r["n"], r["total"], r["share"]) == (2, 4, 0.5)


def test_commonest_gaps(tables: dict[str, pd.DataFrame]) -> None:
    g = tables["gaps"]
    # views absent in 4; seen absent in 3; vague goal (negative) present in 3 (r03 r05 r09)
    assert list(g["marker"]) == ["child_views", "child_seen", "vague_goal"]
    assert list(g["gaps"]) == [4, 3, 3]
    assert list(g["rank"]) == [1, 2, 3]
    assert g["share"].tolist() == [0.4, 0.3, 0.3]


def test_agreement_kappas(tables: dict[str, pd.DataFrame]) -> None:
    a = tables["agreement"]
    # screener vs auditor, 9 pairs: po = 5/9, pe = 24/81, kappa = 21/57
    r = _row(a, comparison="screener_vs_auditor", group="All")
    assert r["n"] == 9
    assert r["agreement"] == pytest.approx(5 / 9, abs=1e-4)
    assert r["kappa"] == pytest.approx(21 / 57, abs=1e-4)
    assert r["kappa_low"] <= r["kappa"] <= r["kappa_high"]
    # screener kinder (G->RI r04, RI->I r10) 2/9; auditor kinder (G->O r07, RI->G r02) 2/9
    assert r["a_kinder"] == pytest.approx(2 / 9, abs=1e-4)
    assert r["b_kinder"] == pytest.approx(2 / 9, abs=1e-4)
    # disparity: service S1 (r01 r02 r03 r04 r10): po 2/5, pe 8/25, kappa 2/17
    r = _row(a, comparison="screener_vs_auditor", group="S1")
    assert r["kappa"] == pytest.approx(2 / 17, abs=1e-4)
    # auditor vs moderator, 5 pairs (r01 r02 r03 r06 r07): po 3/5, pe 7/25, kappa 4/9
    r = _row(a, comparison="auditor_vs_moderator", group="All")
    assert (r["n"], r["kappa"]) == (5, pytest.approx(4 / 9, abs=1e-4))
    # also per team (the --by grouping)
    assert set(a.loc[a["group_by"] == "team", "group"]) == {"A", "B", "C"}
    c = tables["agreement_confusion"]
    cell = c[(c["comparison"] == "screener_vs_auditor") & (c["a"] == "good") &
             (c["b"] == "good")]
    assert int(cell["n"].iloc[0]) == 2  # r01, r09


def test_counts_combine_exactly(spec: TableSpec) -> None:
    """Counting parts and combining them gives the counts of the whole (what makes the
    Dask engine agree with the local one)."""
    results = case_results()
    s = Settings(spec=spec, key=KEY)
    whole = process(results, s).counts
    parts = combine([process(results[:3], s).counts, process(results[3:7], s).counts,
                     process(results[7:], s).counts])
    pd.testing.assert_frame_equal(whole.grades, parts.grades)
    pd.testing.assert_frame_equal(whole.markers, parts.markers)
    pd.testing.assert_frame_equal(whole.examples, parts.examples)
    assert whole.n_records == parts.n_records == 10
    assert whole.names == parts.names == {"Hannah Price", "Darren Marsh", "Esi Osei"}


def test_tidy_table_columns_and_pseudonymised_ids(spec: TableSpec) -> None:
    part = process(case_results(), Settings(spec=spec, key=KEY))
    t = part.tidy
    assert list(t.columns) == [c for c in spec.columns() if c != "examples"]
    assert len(t) == 10
    assert t["id"].str.fullmatch(r"rec-[a-z2-7]{10}").all()  # ids are keyed hashes
    assert not t["worker"].str.contains("Price|Marsh|Osei").any()
    assert t["child_seen"].dtype == "Int8" and t["analysis"].isna().all()
    assert t["date"].iloc[2] == pd.Timestamp("2025-01-10")  # 10/01/2025, day first
    assert t["period"].tolist()[8] == "(no date)"
    assert t["auditor_grade"].tolist()[:3] == ["good", "good", "inadequate"]


def test_by_other_groupings(spec: TableSpec) -> None:
    counts = run_local(case_results(), Settings(spec=spec, key=KEY)).counts
    for by in ("service", "doc_type", "worker", "period"):
        t = build_tables(counts, spec, by=by, n_boot=50)
        assert not t["marker_prevalence"].empty
    t = build_tables(counts, spec, by="worker", n_boot=50)
    assert "grades_by_worker_period" in t
    assert not t["grades_by_worker_period"]["worker"].str.contains("Price").any()
    with pytest.raises(ValueError, match="allowed: team, service"):
        build_tables(counts, spec, by="colour")


def test_results_jsonl_lines_round_trip(spec: TableSpec) -> None:
    """A `screener screen` output line (carried columns at top level) gives the same row."""
    for r in case_results():
        line = json.loads(json.dumps(r.to_output()))
        item = row_item(line, "results.jsonl:1")
        assert item == result_from_output(line)
        a, b = tidy_frame([r], spec), tidy_frame([item], spec)  # type: ignore[list-item]
        pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize(("value", "grade"), [
    ("Good", "good"), ("RI", "requires_improvement"), ("Requires  Improvement",
                                                         "requires_improvement"),
    ("inadequate", "inadequate"), ("Outstanding", "outstanding"), ("", None), (None, None),
])
def test_normalise_grade(value: str | None, grade: str | None) -> None:
    assert normalise_grade(value) == grade


def test_unknown_grade_becomes_an_error_row(spec: TableSpec) -> None:
    bad = case_results()[0].model_copy(update={"extra": {"auditor_grade": "Excellent"}})
    part = process([bad], Settings(spec=spec, key=KEY))
    assert len(part.tidy) == 0 and "unknown grade 'Excellent'" in part.errors[0].error
    assert count(part.tidy, spec).n_records == 0


@pytest.mark.parametrize(("kind", "expected"), [
    ("year", ["2024", "2025", "2025", "(no date)"]),
    ("fy", ["2023-24", "2024-25", "2025-26", "(no date)"]),
    ("quarter", ["2024-Q1", "2025-Q1", "2025-Q2", "(no date)"]),
    ("month", ["2024-03", "2025-03", "2025-04", "(no date)"]),
])
def test_periods(kind: str, expected: list[str]) -> None:
    dates = pd.Series(pd.to_datetime(["2024-03-31", "2025-03-31", "2025-04-01", None]))
    assert period_of(dates, kind).tolist() == expected
