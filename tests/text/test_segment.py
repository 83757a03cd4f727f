"""Segmentation: sentences and headed sections, with offsets into the untouched text."""

from __future__ import annotations

import pytest

from screener.rules.components import Structure
from screener.text.segment import Section, Segmentation, clean_heading, line_spans, segment


@pytest.fixture(scope="module")
def structure() -> Structure:
    return Structure("default")


def seg_of(structure: Structure, text: str) -> Segmentation:
    return segment(text, structure.heading_names, structure.layer.is_placeholder)


def assert_offsets_valid(text: str, seg: Segmentation) -> None:
    assert seg.sentences == sorted(seg.sentences)
    for s, e in seg.sentences:
        assert 0 <= s < e <= len(text)
        assert text[s:e] == text[s:e].strip()
    for sec in seg.sections:
        assert 0 <= sec.heading_start <= sec.heading_end <= sec.body_start <= sec.body_end
        assert sec.body_end <= len(text)
        assert sec.body(text) == text[sec.body_start:sec.body_end]


def section(seg: Segmentation, marker: str) -> Section:
    found = [s for s in seg.sections if marker in s.names]
    assert found, f"no {marker} section in {[s.heading for s in seg.sections]}"
    return found[0]


def test_inline_heading(structure: Structure) -> None:
    text = "Child's views: Kai said he likes school. He misses his dad."
    seg = seg_of(structure, text)
    assert_offsets_valid(text, seg)
    sec = section(seg, "child_views")
    assert sec.heading == "child's views"
    assert text[sec.heading_start:sec.heading_end] == "Child's views"
    assert sec.body(text) == "Kai said he likes school. He misses his dad."
    assert not sec.placeholder
    sentences = [text[s:e] for s, e in seg.sentences]
    assert sentences == ["Child's views", "Kai said he likes school.", "He misses his dad."]


def test_standalone_headings(structure: Structure) -> None:
    text = ("ANALYSIS\nKai is safe because mum has left dad.\n"
            "Contingency plan\nIf dad returns, mum will call the police.\n")
    seg = seg_of(structure, text)
    assert_offsets_valid(text, seg)
    assert section(seg, "analysis").body(text) == "Kai is safe because mum has left dad."
    assert section(seg, "contingency").body(text) == "If dad returns, mum will call the police."


def test_heading_with_colon_and_body_on_following_lines(structure: Structure) -> None:
    text = "Purpose of visit:\nTo check the bedtime routine.\nThe core group asked for this.\n"
    seg = seg_of(structure, text)
    assert_offsets_valid(text, seg)
    sec = section(seg, "purpose")
    assert sec.body(text) == "To check the bedtime routine.\nThe core group asked for this."


@pytest.mark.parametrize("text", [
    "Contingency:\nOutcomes:\nKai goes to school every day.",
    "Contingency: TBC\nOutcomes: Kai goes to school every day.",
    "Contingency: see previous plan\nOutcomes: Kai goes to school every day.",
    "Contingency: N/A\r\nOutcomes: Kai goes to school every day.",
    "Contingency: -\nOutcomes: Kai goes to school every day.",
    "Contingency:",
])
def test_empty_or_placeholder_body(structure: Structure, text: str) -> None:
    seg = seg_of(structure, text)
    assert_offsets_valid(text, seg)
    assert section(seg, "contingency").placeholder
    if "Outcomes" in text:
        assert not section(seg, "outcomes").placeholder


def test_numbered_and_bold_headings(structure: Structure) -> None:
    text = "**Analysis**\nKai is settled.\n3. Contingency: TBC\n"
    seg = seg_of(structure, text)
    assert_offsets_valid(text, seg)
    assert section(seg, "analysis")
    assert section(seg, "contingency").placeholder
    assert clean_heading("3. **Analysis** :") == "analysis"
    assert clean_heading("<b>Child's views</b>") == "child's views"


def test_html_br_export(structure: Structure) -> None:
    text = ("Purpose of visit:<br>To check the bedtime routine.<br>"
            "Observations:<br/>The flat was tidy.<BR />Kai was in his pyjamas.")
    seg = seg_of(structure, text)
    assert_offsets_valid(text, seg)
    sentences = [text[s:e] for s, e in seg.sentences]
    assert "To check the bedtime routine." in sentences
    assert "Kai was in his pyjamas." in sentences
    assert not any("<br" in s.lower() for s in sentences)
    assert not section(seg, "purpose").placeholder
    obs = section(seg, "observations")
    assert "The flat was tidy." in obs.body(text) and "Kai was in his pyjamas." in obs.body(text)
    assert [a for a, _ in line_spans(text)][:2] == [0, text.index("To check")]


def test_html_paragraph_placeholder(structure: Structure) -> None:
    text = "<p><b>Child's views:</b></p><p>N/A</p><p>Analysis: Kai is safe because dad left.</p>"
    seg = seg_of(structure, text)
    assert_offsets_valid(text, seg)
    assert section(seg, "child_views").placeholder
    assert not section(seg, "analysis").placeholder


def test_unknown_label_with_text_stays_in_its_section(structure: Structure) -> None:
    text = ("Multi-agency information:\nHV (Sian): weight dropped to the 9th centile.\n"
            "School: attendance is 81%.")
    seg = seg_of(structure, text)
    assert_offsets_valid(text, seg)
    assert len(seg.sections) == 1
    assert "9th centile" in section(seg, "multi_agency").body(text)


def test_unknown_bare_heading_ends_the_section(structure: Structure) -> None:
    text = "Analysis: Kai is safe because dad left.\nOther:\nMum is looking for work."
    seg = seg_of(structure, text)
    assert_offsets_valid(text, seg)
    assert section(seg, "analysis").body(text) == "Kai is safe because dad left."
    other = [s for s in seg.sections if s.heading == "other"]
    assert other and not other[0].names


def test_sentences_split_on_full_stops_and_table_cells(structure: Structure) -> None:
    text = "Kai was seen. He said hi! Then we left\nRefer to CAMHS | SW | 10/03"
    seg = seg_of(structure, text)
    assert_offsets_valid(text, seg)
    assert [text[s:e] for s, e in seg.sentences] == [
        "Kai was seen.", "He said hi!", "Then we left", "Refer to CAMHS", "SW", "10/03"]
    assert seg.sentence_at(text.index("said")) == (text.index("He"), text.index(" Then"))
    assert seg.sentence_at(len(text) + 5) is None


def test_sections_at(structure: Structure) -> None:
    text = "Purpose: to check the routine.\nObservations: Kai was clean."
    seg = seg_of(structure, text)
    assert [s.heading for s in seg.sections_at(text.index("clean"))] == ["observations"]


@pytest.mark.parametrize("text", [
    "",
    "\n\n  \n",
    "No headings here, just one long sentence about Kai going to school",
    "a:b:c\n:\n::\n|||\n<br><br>",
    "Child's views:" * 20,
    "\u2022 Analysis \u2013 Kai is safe because dad left.\r\n\u2022 Contingency \u2013 TBC",
])
def test_offsets_valid_on_odd_input(structure: Structure, text: str) -> None:
    assert_offsets_valid(text, seg_of(structure, text))


def test_short_unpunctuated_body_line_is_body(structure: Structure) -> None:
    text = "Purpose of visit:\nTo check Kai's bedtime routine\nObservations:\nThe flat was tidy."
    seg = seg_of(structure, text)
    sec = section(seg, "purpose")
    assert sec.body(text) == "To check Kai's bedtime routine"
    assert not sec.placeholder
