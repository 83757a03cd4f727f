"""Grading by the spec's default rules, grade probabilities, and flags."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from screener import Screener
from screener.config.models import Rubric
from screener.rubric import grading
from screener.rubric.grading import grade, grade_probabilities, rule_markers
from screener.rubric.guidance import flags_for
from screener.schemas import Evidence, MarkerResult

GOOD, RI, INAD = "good", "requires_improvement", "inadequate"

ASSESSMENT_GOOD = {"child_seen", "child_views", "parenting_capacity", "multi_agency", "analysis"}
SUPERVISION = ["frequency", "progress_update", "plan_progress", "reflection", "challenge",
               "decisions"]
PLAN_GOOD = {"outcomes", "actions", "responsibilities", "timescales", "contingency",
             "child_views"}
VISIT_GOOD = {"child_seen", "child_views", "purpose", "observations", "analysis"}
ENQUIRY_GOOD = {"child_seen", "child_views", "multi_agency", "history", "risk_analysis",
                "outcome_decision"}
OVERSIGHT = ["issue", "options", "research", "evidence_weighed", "expected_impact",
             "contingency", "review_date"]

CASES = [
    # assessment
    ("assessment", ASSESSMENT_GOOD, GOOD),
    ("assessment", ASSESSMENT_GOOD | {"history", "vague_goal"}, GOOD),
    ("assessment", ASSESSMENT_GOOD - {"child_views"}, RI),
    ("assessment", {"child_seen", "parenting_capacity", "multi_agency"}, RI),
    ("assessment", {"child_seen", "multi_agency", "analysis"}, RI),
    ("assessment", {"child_seen", "analysis", "child_views", "history"}, INAD),
    ("assessment", ASSESSMENT_GOOD - {"child_seen"}, INAD),
    ("assessment", set(), INAD),
    # supervision: all 6 / at least 4 of the 6
    ("supervision", set(SUPERVISION), GOOD),
    ("supervision", set(SUPERVISION) | {"vague_goal"}, GOOD),
    ("supervision", set(SUPERVISION[1:]), RI),
    ("supervision", set(SUPERVISION[:4]), RI),
    ("supervision", set(SUPERVISION[2:]), RI),
    ("supervision", set(SUPERVISION[:3]), INAD),
    ("supervision", set(), INAD),
    # plans: good needs all 6 and no vague goal; RI needs outcomes and 4 of the 6
    ("cin_plan", PLAN_GOOD, GOOD),
    ("cp_plan", PLAN_GOOD, GOOD),
    ("cin_plan", PLAN_GOOD | {"vague_goal"}, RI),
    ("cp_plan", PLAN_GOOD | {"vague_goal"}, RI),
    ("cin_plan", {"outcomes", "actions", "responsibilities", "timescales"}, RI),
    ("cp_plan", {"outcomes", "child_views", "contingency", "actions", "vague_goal"}, RI),
    ("cin_plan", {"outcomes", "actions", "responsibilities"}, INAD),
    ("cp_plan", PLAN_GOOD - {"outcomes"}, INAD),
    # visit
    ("visit", VISIT_GOOD, GOOD),
    ("visit", VISIT_GOOD | {"seen_alone", "vague_goal"}, GOOD),
    ("visit", {"child_seen", "purpose", "observations"}, RI),
    ("visit", {"child_seen", "child_views", "analysis", "seen_alone"}, RI),
    ("visit", {"child_seen", "observations", "seen_alone"}, INAD),
    ("visit", VISIT_GOOD - {"child_seen"}, INAD),
    # cp_enquiry
    ("cp_enquiry", ENQUIRY_GOOD, GOOD),
    ("cp_enquiry", ENQUIRY_GOOD | {"seen_alone", "vague_goal"}, GOOD),
    ("cp_enquiry", ENQUIRY_GOOD - {"child_views"}, RI),
    ("cp_enquiry", {"child_seen", "multi_agency", "history", "outcome_decision"}, RI),
    ("cp_enquiry", {"child_seen", "multi_agency", "risk_analysis", "seen_alone"}, INAD),
    ("cp_enquiry", ENQUIRY_GOOD - {"multi_agency"}, INAD),
    ("cp_enquiry", ENQUIRY_GOOD - {"child_seen"}, INAD),
    # oversight: all 7 / at least 5 of the 7
    ("oversight", set(OVERSIGHT), GOOD),
    ("oversight", set(OVERSIGHT[1:]), RI),
    ("oversight", set(OVERSIGHT[2:]), RI),
    ("oversight", set(OVERSIGHT[:5]) | {"vague_goal"}, RI),
    ("oversight", set(OVERSIGHT[3:]), INAD),
    ("oversight", set(), INAD),
]


@pytest.mark.parametrize(("doc_type", "present", "expected"), CASES)
def test_default_grade(rubric: Rubric, doc_type: str, present: set[str], expected: str) -> None:
    assert grade(present, doc_type, rubric) == expected


@pytest.mark.parametrize(("doc_type", "present", "expected"), CASES)
def test_probabilities_of_a_certain_record_equal_the_grade(
        rubric: Rubric, doc_type: str, present: set[str], expected: str) -> None:
    probs = {m: float(m in present) for m in rubric.markers_for(doc_type)}
    dist = grade_probabilities(probs, doc_type, rubric)
    assert dist == {lvl: float(lvl == expected) for lvl in rubric.levels}


def test_rule_markers(rubric: Rubric) -> None:
    assert rule_markers("visit", rubric) == sorted(VISIT_GOOD)
    assert rule_markers("cin_plan", rubric) == sorted(PLAN_GOOD | {"vague_goal"})
    assert "seen_alone" not in rule_markers("cp_enquiry", rubric)


def test_missing_and_out_of_range_probabilities_are_clipped(rubric: Rubric) -> None:
    probs = {m: 1.7 for m in VISIT_GOOD} | {"analysis": -0.3}
    assert grade_probabilities(probs, "visit", rubric) == {GOOD: 0.0, RI: 1.0, INAD: 0.0}
    assert grade_probabilities({}, "visit", rubric) == {GOOD: 0.0, RI: 0.0, INAD: 1.0}


def test_known_value(rubric: Rubric) -> None:
    # supervision, each of the 6 at 0.5: P(all 6) = 1/64, P(at least 4) = 22/64.
    dist = grade_probabilities(dict.fromkeys(SUPERVISION, 0.5), "supervision", rubric)
    assert dist[GOOD] == pytest.approx(1 / 64, abs=1e-4)
    assert dist[RI] == pytest.approx(21 / 64, abs=1e-4)
    assert dist[INAD] == pytest.approx(42 / 64, abs=1e-4)


def test_sampling_path_agrees_with_exact(rubric: Rubric, monkeypatch: pytest.MonkeyPatch) -> None:
    probs = dict(zip(OVERSIGHT, (0.9, 0.8, 0.3, 0.6, 0.7, 0.5, 0.95), strict=True))
    exact = grade_probabilities(probs, "oversight", rubric)
    monkeypatch.setattr(grading, "_EXACT_LIMIT", 0)
    sampled = grade_probabilities(probs, "oversight", rubric, samples=20000)
    assert sum(sampled.values()) == pytest.approx(1.0, abs=1e-3)
    for level in rubric.levels:
        assert sampled[level] == pytest.approx(exact[level], abs=0.02)


DOC_TYPES = ["assessment", "cp_enquiry", "cin_plan", "cp_plan", "visit", "supervision",
             "oversight"]
unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@st.composite
def marker_probs(draw: st.DrawFn, rubric: Rubric) -> tuple[str, dict[str, float]]:
    doc_type = draw(st.sampled_from(DOC_TYPES))
    markers = rubric.markers_for(doc_type)
    values = draw(st.lists(unit, min_size=len(markers), max_size=len(markers)))
    return doc_type, dict(zip(markers, values, strict=True))


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_distribution_sums_to_one(rubric: Rubric, data: st.DataObject) -> None:
    doc_type, probs = data.draw(marker_probs(rubric))
    dist = grade_probabilities(probs, doc_type, rubric)
    assert list(dist) == rubric.levels
    assert all(0.0 <= p <= 1.0 for p in dist.values())
    assert sum(dist.values()) == pytest.approx(1.0, abs=1e-3)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_raising_a_required_marker_never_lowers_p_good(rubric: Rubric,
                                                       data: st.DataObject) -> None:
    doc_type, probs = data.draw(marker_probs(rubric))
    required = rubric.doc_types[doc_type].rules[GOOD].all_of
    marker = data.draw(st.sampled_from(required))
    raised = dict(probs, **{marker: data.draw(st.floats(min_value=probs[marker],
                                                        max_value=1.0))})
    before = grade_probabilities(probs, doc_type, rubric)
    after = grade_probabilities(raised, doc_type, rubric)
    assert after[GOOD] >= before[GOOD]
    assert after[INAD] <= before[INAD]


# Flags ----------------------------------------------------------------------------------

def _markers(rubric: Rubric, doc_type: str, present: set[str],
             evidence: dict[str, list[Evidence]] | None = None) -> dict[str, MarkerResult]:
    evidence = evidence or {}
    return {m: MarkerResult(present=m in present, probability=0.9 if m in present else 0.1,
                            evidence=evidence.get(m, []))
            for m in rubric.markers_for(doc_type)}


def test_flag_severities(rubric: Rubric) -> None:
    flags = flags_for("assessment", _markers(rubric, "assessment", {"analysis"}), rubric, "Amira")
    sev = {f.marker: f.severity for f in flags}
    # child_seen and the "2 of" markers are needed to pass; child_views only for good;
    # history is in no rule.
    assert sev == {"child_seen": "high", "parenting_capacity": "high", "multi_agency": "high",
                   "child_views": "medium", "history": "low"}
    assert [f.severity for f in flags] == sorted(
        (f.severity for f in flags), key=["high", "medium", "low"].index)
    assert all(f.message.startswith("Missing: ") for f in flags)
    assert "Amira" in next(f.message for f in flags if f.marker == "child_views")


def test_flag_severity_seen_alone_is_low(rubric: Rubric) -> None:
    flags = flags_for("visit", _markers(rubric, "visit", VISIT_GOOD), rubric)
    assert [(f.marker, f.severity) for f in flags] == [("seen_alone", "low")]


def test_no_flags_for_a_complete_record(rubric: Rubric) -> None:
    assert flags_for("oversight", _markers(rubric, "oversight", set(OVERSIGHT)), rubric) == []


@pytest.mark.parametrize(("doc_type", "severity"), [("cin_plan", "medium"),
                                                    ("assessment", "low")])
def test_vague_goal_flag_quotes_the_phrase_and_names_the_child(
        rubric: Rubric, doc_type: str, severity: str) -> None:
    ev = Evidence(start=10, end=29, text="continue to monitor", source="rule:vague_goal.monitor")
    present = set(rubric.markers_for(doc_type))
    flags = flags_for(doc_type, _markers(rubric, doc_type, present, {"vague_goal": [ev]}),
                      rubric, "Amira")
    assert [f.marker for f in flags] == ["vague_goal"]
    flag = flags[0]
    assert flag.severity == severity
    assert flag.message.startswith('"continue to monitor" is not measurable')
    assert "Amira" in flag.message and "{child}" not in flag.message
    assert flag.evidence == [ev]


def test_vague_goal_flag_without_a_named_child(rubric: Rubric) -> None:
    ev = Evidence(start=0, end=20, text="engage with services",
                  source="rule:vague_goal.engage_with")
    flags = flags_for("cp_plan", _markers(rubric, "cp_plan", PLAN_GOOD | {"vague_goal"},
                                          {"vague_goal": [ev]}), rubric)
    assert "the child" in flags[0].message and "{child}" not in flags[0].message


def test_flags_from_a_screened_plan(screener: Screener) -> None:
    text = ("Child: Amira (9)\n"
            "Outcome 1: Amira is in school every day by 1 May.\n"
            "Actions:\n- SW to refer Amira to the school counsellor by 10 March.\n"
            "- Mum to engage with services.\n")
    result = screener.screen_one("cin_plan", text)
    vague = [f for f in result.flags if f.marker == "vague_goal"]
    assert vague and vague[0].severity == "medium"
    quoted = vague[0].evidence[0]
    assert text[quoted.start:quoted.end] == quoted.text
    assert f'"{quoted.text}" is not measurable' in vague[0].message
    assert "Amira" in vague[0].message
    assert result.grade != GOOD
