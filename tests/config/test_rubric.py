"""Rubric loading, merging and validation: the default, an authority's override, and the
broken files an authority might write (kept as fixtures next to this file)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from screener import RubricError, Screener, load_rubric
from screener.cli import app
from screener.config.models import Rubric
from screener.rubric.grading import grade, grade_probabilities

FIXTURES = Path(__file__).parent / "fixtures"
VALID = FIXTURES / "authority_valid.yaml"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "authority_rubric.yaml"
SPEC_TYPES = {"assessment", "cp_enquiry", "cin_plan", "cp_plan", "visit", "supervision",
              "oversight"}
SUPERVISION = ["frequency", "progress_update", "plan_progress", "reflection", "challenge",
               "decisions"]


# The default rubric ---------------------------------------------------------------------

def test_default_rubric_matches_the_spec(rubric: Rubric) -> None:
    assert rubric.label.startswith("default@")
    assert rubric.levels == ["good", "requires_improvement", "inadequate"]
    assert set(rubric.doc_types) == SPEC_TYPES
    assert rubric.markers_for("visit") == [
        "child_seen", "seen_alone", "child_views", "analysis", "purpose", "observations",
        "vague_goal"]
    for dt in SPEC_TYPES:
        assert "vague_goal" in rubric.markers_for(dt)
    assert rubric.markers["vague_goal"].negative
    assert set(rubric.marker_sources.values()) == {"default/markers.yaml"}


def test_load_rubric_is_cached_and_default_aliases(rubric: Rubric) -> None:
    assert load_rubric() is rubric
    assert load_rubric("default") is rubric


# A valid authority override -----------------------------------------------------------

@pytest.fixture(scope="module")
def authority() -> Rubric:
    return load_rubric(VALID)


def test_override_adds_a_level(authority: Rubric) -> None:
    assert authority.label == "northfield@2025.1"
    assert authority.levels == ["outstanding", "good", "requires_improvement", "inadequate"]
    assert authority.sources == ["default", str(VALID)]


def test_override_adds_a_pattern_only_marker(authority: Rubric) -> None:
    spec = authority.markers["family_network"]
    assert spec.detector == "cues.v1" and [c.id for c in spec.cues] == ["network_named"]
    assert "family_network" in authority.markers_for("assessment")
    assert "family_network" in authority.markers_for("cp_enquiry")
    assert "family_network" not in authority.markers_for("visit")
    assert authority.marker_sources["family_network"] == str(VALID)


def test_override_disables_a_marker(authority: Rubric) -> None:
    assert "seen_alone" not in authority.markers
    assert "seen_alone" not in authority.markers_for("visit")
    assert "seen_alone" not in authority.markers_for("cp_enquiry")


def test_override_renames_a_marker(authority: Rubric) -> None:
    # Users see the new ID; rules, cues and models keep the spec's ID inside.
    assert authority.output_id("history") == "family_history"
    assert authority.internal_id("family_history") == "history"
    assert "history" in authority.markers_for("assessment")
    source = authority.marker_sources["history"]
    assert "default/markers.yaml" in source and f"renamed to family_history by {VALID}" in source
    good = authority.doc_types["cp_enquiry"].rules["good"]
    assert "history" in good.all_of


def test_renamed_marker_is_output_under_its_new_id(authority: Rubric) -> None:
    from screener import Screener

    scr = Screener(rubric=VALID, mode="rules")
    result = scr.screen_one("assessment", "Kai (7) was seen at home. He said he likes school.")
    assert "family_history" in result.markers and "history" not in result.markers


def test_override_changes_a_rule(authority: Rubric) -> None:
    four, five = set(SUPERVISION[:4]), set(SUPERVISION[:5])
    assert grade(four, "supervision", authority) == "inadequate"
    assert grade(five, "supervision", authority) == "requires_improvement"
    assert grade(set(SUPERVISION), "supervision", authority) == "good"


def test_override_grades_outstanding(authority: Rubric) -> None:
    good = {"child_seen", "child_views", "parenting_capacity", "multi_agency", "analysis"}
    assert grade(good, "assessment", authority) == "good"
    assert grade(good | {"history"}, "assessment", authority) == "outstanding"
    probs = grade_probabilities(dict.fromkeys(good | {"history"}, 1.0), "assessment",
                                authority)
    assert probs == {"outstanding": 1.0, "good": 0.0, "requires_improvement": 0.0,
                     "inadequate": 0.0}
    # Types without an `outstanding` rule never reach it.
    assert grade(set(SUPERVISION), "supervision", authority) == "good"


def test_override_leaves_the_default_alone(authority: Rubric, rubric: Rubric) -> None:
    assert "seen_alone" in rubric.markers and "history" in rubric.markers
    assert "family_network" not in rubric.markers
    assert rubric.levels == ["good", "requires_improvement", "inadequate"]


def test_screener_uses_the_override() -> None:
    scr = Screener(rubric=VALID, mode="rules")
    text = ("I saw Kai at home. A family group conference was held on 3 March and nan offered "
            "to care for Kai at weekends.")
    result = scr.screen_one("assessment", text)
    assert result.rubric == "northfield@2025.1"
    authority = load_rubric(VALID)
    assert set(result.markers) == {authority.output_id(m)
                                   for m in authority.markers_for("assessment")}
    network = result.markers["family_network"]
    assert network.present
    ev = network.evidence[0]
    assert text[ev.start:ev.end] == ev.text == "family group conference"
    assert ev.source == "rule:family_network.network_named"
    assert set(result.grade_probabilities) == {"outstanding", "good", "requires_improvement",
                                               "inadequate"}
    assert sum(result.grade_probabilities.values()) == pytest.approx(1.0, abs=1e-3)
    visit = scr.screen_one("visit", "I saw Kai alone in his room.")
    assert "seen_alone" not in visit.markers


def test_example_authority_rubric_loads() -> None:
    rb = load_rubric(EXAMPLE)
    assert rb.levels[0] == "outstanding"
    assert "outstanding" in rb.doc_types["assessment"].rules
    added = [m for m, src in rb.marker_sources.items() if src == str(EXAMPLE)]
    assert added, "the example should add a marker"
    assert any("renamed from" in src or "changed by" in src for src in rb.marker_sources.values())


# Broken files ---------------------------------------------------------------------------

BROKEN = [
    # fixture, key the message names, what it says, what it lists as allowed (or None)
    ("broken_unknown_key.yaml", "marker", "unknown key", "doc_types, extends, levels, markers"),
    ("broken_bad_regex.yaml", "markers.family_network.cues[0].regex",
     "invalid regular expression", None),
    ("broken_rule_disabled_marker.yaml", "doc_types.assessment.rules.good",
     "'analysis' is disabled", "child_seen, child_views, parenting_capacity, multi_agency"),
    ("broken_unknown_doc_type.yaml", "markers.family_network.types",
     "unknown record type 'assesment'", "assessment, cin_plan, cp_enquiry, cp_plan"),
    ("broken_unknown_detector.yaml", "markers.family_network.detector",
     "unknown detector 'keywords.v2'", "action_rows.v1, cues.v1, supervision_frequency.v1"),
    ("broken_n_too_big.yaml", "doc_types.supervision.rules.requires_improvement.at_least.0",
     "n=7 is more than the 6 markers", None),
    ("broken_missing_extends.yaml", "extends", "must say what it extends", None),
    ("broken_not_yaml.yaml", "", "not valid YAML", None),
    ("broken_not_mapping.yaml", "", "must be a mapping", None),
    ("broken_unknown_level.yaml", "doc_types.assessment.rules.outstanding",
     "unknown grade level", "good, requires_improvement, inadequate"),
    ("broken_unknown_macro.yaml", "markers.family_network.cues[0].regex",
     "unknown macro {CHILD}", "{CHILDREF}"),
    ("broken_cue_two_kinds.yaml", "markers.family_network.cues.0",
     "exactly one of: regex, phrases, section_body", None),
    ("broken_unknown_context_check.yaml", "markers.family_network.cues.0.blocked_by.1",
     "'negation', 'intention', 'adult_report' or 'remote'", None),
    ("broken_rename_unknown.yaml", "rename.hisotry", "no such marker", "history"),
    ("broken_loop_a.yaml", "extends", "loop", None),
]


@pytest.mark.parametrize(("name", "key", "message", "allowed"), BROKEN,
                         ids=[b[0].removeprefix("broken_").removesuffix(".yaml") for b in BROKEN])
def test_broken_rubric(name: str, key: str, message: str, allowed: str | None) -> None:
    with pytest.raises(RubricError) as err:
        load_rubric(FIXTURES / name)
    e = err.value
    assert e.key == key
    assert message in str(e)
    if allowed:
        assert e.allowed and "(allowed: " in str(e) and allowed in str(e)
    if name != "broken_rule_disabled_marker.yaml":  # names the file that disabled it
        assert e.file == str(FIXTURES / name)
        assert str(e).startswith(f"{FIXTURES / name}: ")


def test_missing_file() -> None:
    with pytest.raises(RubricError, match="no such file"):
        load_rubric(FIXTURES / "does_not_exist.yaml")


def test_extends_a_missing_file_names_it() -> None:
    with pytest.raises(RubricError) as err:
        load_rubric(FIXTURES / "broken_extends_missing_file.yaml")
    assert err.value.file == str(FIXTURES / "northfield_base.yaml")
    assert "cannot read file" in str(err.value)


def test_rule_on_disabled_marker_names_the_authority_file() -> None:
    path = FIXTURES / "broken_rule_disabled_marker.yaml"
    with pytest.raises(RubricError) as err:
        load_rubric(path)
    assert str(path) in str(err.value)


def test_unknown_marker_key_lists_allowed_keys() -> None:
    with pytest.raises(RubricError) as err:
        load_rubric(FIXTURES / "broken_unknown_marker_key.yaml")
    assert err.value.key == "markers.child_seen.lable"
    assert "label" in str(err.value) and "allowed" in str(err.value)


def test_rename_child_views() -> None:
    rb = load_rubric(FIXTURES / "rename_child_views.yaml")
    assert rb.internal_id("voice_of_child") == "child_views"
    assert rb.output_id("child_views") == "voice_of_child"


def test_rename_onto_an_existing_marker_is_refused() -> None:
    with pytest.raises(RubricError) as err:
        load_rubric(FIXTURES / "broken_rename_collision.yaml")
    assert err.value.key == "rename.history"


def test_rule_on_marker_of_another_type_says_so() -> None:
    with pytest.raises(RubricError) as err:
        load_rubric(FIXTURES / "narrow_analysis_types.yaml")
    assert "not a marker of this type" in str(err.value)


# `screener markers` ---------------------------------------------------------------------

runner = CliRunner()


def _marker_blocks(out: str) -> dict[str, str]:
    """The `Markers` part of `screener markers`, one text block per marker."""
    blocks: dict[str, list[str]] = {}
    current = ""
    for line in out.split("\nMarkers\n", 1)[1].splitlines():
        if line.startswith("  ") and not line.startswith("   "):
            current = line.split()[0]
            blocks[current] = []
        if current:
            blocks[current].append(line.strip())
    return {m: "\n".join(lines) for m, lines in blocks.items()}


def test_markers_command_shows_where_each_marker_came_from() -> None:
    res = runner.invoke(app, ["markers", "--rubric", str(VALID)])
    assert res.exit_code == 0, res.output
    out = res.output
    assert f"from: default + {VALID}" in out
    assert "Levels, best first: outstanding, good, requires_improvement, inadequate" in out
    blocks = _marker_blocks(out)
    assert f"from: {VALID}" in blocks["family_network"]
    assert "from: default/markers.yaml" in blocks["child_seen"]
    assert f"renamed to family_history by {VALID}" in blocks["family_history"]
    assert "seen_alone" not in blocks


def test_markers_command_json() -> None:
    res = runner.invoke(app, ["markers", "--rubric", str(VALID), "--json",
                              "--doc-type", "assessment"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert list(data["doc_types"]) == ["assessment"]
    assert data["markers"]["family_network"]["source"] == str(VALID)
    assert data["markers"]["family_history"]["spec_id"] == "history"
    assert data["markers"]["child_seen"]["source"] == "default/markers.yaml"
    assert "outstanding" in data["doc_types"]["assessment"]["rules"]


def test_markers_command_default() -> None:
    res = runner.invoke(app, ["markers"])
    assert res.exit_code == 0
    assert "Rubric default@" in res.output
    for dt in SPEC_TYPES:
        assert f"\n{dt} — " in res.output


@pytest.mark.parametrize("name", ["broken_unknown_key.yaml", "broken_bad_regex.yaml"])
def test_markers_command_broken_rubric(name: str) -> None:
    res = runner.invoke(app, ["markers", "--rubric", str(FIXTURES / name)])
    assert res.exit_code == 2
    assert str(FIXTURES / name) in res.output


def test_markers_command_unknown_doc_type() -> None:
    res = runner.invoke(app, ["markers", "--doc-type", "assesment"])
    assert res.exit_code == 2
    assert "allowed: assessment" in res.output
