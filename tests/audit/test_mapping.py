"""Column mappings: validation with useful errors, and rows mapped or rejected with a reason."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from screener.audit.mapping import (
    MappedRow,
    MappingError,
    RowError,
    Skipped,
    load_mapping,
    map_row,
    read_rows,
)

EXPORTS = Path(__file__).resolve().parents[2] / "examples" / "exports"
TYPES = ["assessment", "cp_enquiry", "cin_plan", "cp_plan", "visit", "supervision", "oversight"]


@pytest.mark.parametrize("name", ["mosaic_steps.mapping.yaml", "liquidlogic_forms.mapping.yaml"])
def test_shipped_mappings_load(name):
    m = load_mapping(EXPORTS / name)
    assert set(m.doc_types.values()) <= set(TYPES)


@pytest.mark.parametrize("body, message", [
    ("source: x\ncolumns: {record_id: a, child_id: b, doc_type: c, text: d}\ncolour: red\n",
     "colour: Extra inputs are not permitted (allowed: source, format"),
    ("source: x\ncolumns: {record_id: a, child_id: b, doc_type: c, text: d, kid: e}\n",
     "columns.kid: Extra inputs are not permitted (allowed: record_id, child_id"),
    ("source: x\ncolumns: {record_id: a, doc_type: c, text: d}\n", "columns.child_id: Field "
     "required"),
    ("source: 'has space'\ncolumns: {record_id: a, child_id: b, doc_type: c, text: d}\n",
     "source: String should match pattern"),
    ("- just a list\n", "must be a mapping"),
    ("source: [unclosed\n", "not valid YAML"),
])
def test_bad_mappings_name_the_key(tmp_path: Path, body, message):
    path = tmp_path / "bad.yaml"
    path.write_text(body)
    with pytest.raises(MappingError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_mapping(path)


@pytest.fixture
def ll_mapping():
    return load_mapping(EXPORTS / "liquidlogic_forms.mapping.yaml")


def _row(**kw):
    base = {"FormId": "F1", "FormType": "Child Visit",
            "Subject": {"PersonId": "P1", "CaseRef": "CR-1"},
            "DateCompleted": "2025-02-11T15:40:00Z",
            "CompletedBy": {"Name": "W", "Team": "T", "ServiceArea": "S"},
            "Answers": [{"Question": "Purpose of visit", "Answer": "To see Noah."},
                        {"Question": "Observations", "Answer": ""},
                        {"Question": "Analysis", "Answer": "He is safe because ..."}]}
    base.update(kw)
    return base


def test_nested_paths_sections_and_iso_dates(ll_mapping):
    row = map_row(_row(), 7, ll_mapping, TYPES)
    assert isinstance(row, MappedRow)
    assert (row.line, row.source_id, row.child_id, row.case_file, row.doc_type) == (
        7, "F1", "P1", "CR-1", "visit")
    assert row.record_date == date(2025, 2, 11)
    assert (row.worker, row.team, row.service) == ("W", "T", "S")
    assert row.text == "Purpose of visit:\nTo see Noah.\n\nAnalysis:\nHe is safe because ..."
    millis = map_row(_row(DateCompleted="2025-02-20T09:05:12.000Z"), 1, ll_mapping, TYPES)
    assert isinstance(millis, MappedRow) and millis.record_date == date(2025, 2, 20)


@pytest.mark.parametrize("change, reason", [
    ({"FormId": ""}, "no record id"),
    ({"FormType": "Strategy Meeting"}, "unknown record type 'Strategy Meeting'"),
    ({"Subject": {"CaseRef": "CR-1"}}, "no child id"),
    ({"Answers": []}, "empty text"),
    ({"DateCompleted": "11/02/2025"}, "date '11/02/2025' matches none of the formats"),
])
def test_rows_that_cannot_be_mapped_say_why(ll_mapping, change, reason):
    row = map_row(_row(**change), 3, ll_mapping, TYPES)
    assert isinstance(row, RowError) and row.line == 3 and reason in row.reason


def test_skipped_types_and_case_insensitive_type_names(ll_mapping):
    assert isinstance(map_row(_row(FormType="Contact Record"), 1, ll_mapping, TYPES), Skipped)
    row = map_row(_row(FormType="  child   VISIT "), 1, ll_mapping, TYPES)
    assert isinstance(row, MappedRow) and row.doc_type == "visit"


def test_text_from_several_columns_and_composite_ids(tmp_path: Path):
    path = tmp_path / "m.yaml"
    path.write_text("source: sys\ncolumns:\n  record_id: [Case, Step]\n  child_id: Child\n"
                    "  doc_type: Type\n  text: [Reason, Views]\n")
    m = load_mapping(path)
    row = map_row({"Case": "9", "Step": 12, "Child": "c", "Type": "visit", "Reason": "To see",
                   "Views": "She said hi"}, 2, m, TYPES)
    assert isinstance(row, MappedRow)
    assert row.source_id == "9:12" and row.case_file == "child:c"
    assert row.text == "Reason: To see\n\nViews: She said hi"


def test_csv_header_must_have_the_mapped_columns(tmp_path: Path):
    path = tmp_path / "e.csv"
    path.write_text("id,doc_type,text\n1,visit,hello\n")
    with pytest.raises(MappingError, match="'child_id'"):
        list(read_rows(path, load_mapping(None)))


def test_csv_row_with_too_many_cells(tmp_path: Path):
    path = tmp_path / "e.csv"
    path.write_text("id,child_id,doc_type,text\n1,c,visit,hello\n2,c,visit,hi,extra\n")
    rows = list(read_rows(path, load_mapping(None)))
    assert isinstance(rows[1][1], RowError) and rows[1][0] == 3
    assert "more cell(s) than the header" in rows[1][1].reason
