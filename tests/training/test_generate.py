"""Tests for the seeded synthetic record generator (training/generate.py)."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

TRAINING = Path(__file__).resolve().parents[2] / "training"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, TRAINING / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses need the module registered while it executes
    spec.loader.exec_module(module)
    return module


generate = _load("generate")
validator = _load("validate_corpus")


@pytest.fixture(scope="module")
def banks():
    return generate.load_banks()


@pytest.fixture(scope="module")
def records(banks):
    return generate.generate_records(300, seed=7, banks=banks)


def _dump(rows: list[dict]) -> str:
    return "\n".join(json.dumps(r, ensure_ascii=False, sort_keys=True) for r in rows)


def _sentences(text: str) -> list[str]:
    """Split a record into sentences, ignoring layout debris and short headings."""
    text = re.sub(r"<br>|&nbsp;|</?p>|</?b>", "\n", text)
    parts = re.split(r"(?<=[.!?])\s+|\n+|\s\|\s", text)
    return [p.strip() for p in parts if len(p.split()) >= 4]


def test_same_seed_gives_identical_output(banks):
    assert _dump(generate.generate_records(40, seed=3, banks=banks)) == \
        _dump(generate.generate_records(40, seed=3, banks=banks))


def test_different_seeds_differ(banks):
    a = generate.generate_records(40, seed=3, banks=banks)
    b = generate.generate_records(40, seed=4, banks=banks)
    assert sum(x["text"] != y["text"] for x, y in zip(a, b, strict=True)) >= 38


def test_every_record_passes_the_validator(records):
    for r in records:
        assert validator.check_record(r, r["id"]) == []
    assert len({r["id"] for r in records}) == len(records)


def test_record_shape(records):
    for r in records:
        assert r["writer"] == "generator"
        assert set(r["markers"]) == set(validator.TYPE_MARKERS[r["doc_type"]])
        assert 60 <= len(r["text"].split()) <= 450, r["id"]
        assert "absent:" in r["notes"]
        for marker, present in r["markers"].items():
            if marker != "vague_goal" and not present:
                assert f"{marker}=" in r["notes"], (r["id"], marker)


def test_evidence_is_exact_and_complete(records):
    for r in records:
        assert set(r["evidence"]) == {m for m, v in r["markers"].items() if v}
        for marker, quotes in r["evidence"].items():
            assert quotes, (r["id"], marker)
            for q in quotes:
                assert q and q == q.strip()
                assert q in r["text"], (r["id"], marker, q)


def test_every_marker_is_both_present_and_absent(records):
    seen: dict[tuple[str, str], set[bool]] = {}
    for r in records:
        for marker, present in r["markers"].items():
            seen.setdefault((r["doc_type"], marker), set()).add(present)
    for doc_type, markers in validator.TYPE_MARKERS.items():
        for marker in markers:
            assert seen.get((doc_type, marker)) == {True, False}, (doc_type, marker)


def test_absences_are_realised_in_varied_ways(records):
    cases = re.findall(r"=(\w+)", " ".join(r["notes"].split("absent: ")[1] for r in records))
    for case in ("silent", "negated", "placeholder", "intended", "adult_not_child",
                 "no_substance", "near_miss"):
        assert case in cases


def test_layouts_and_noise_all_occur(records):
    notes = " ".join(r["notes"] for r in records)
    for layout in generate.LAYOUTS:
        assert f"layout={layout}" in notes
    assert any("<br>" in r["text"] and "&nbsp;" in r["text"] for r in records)
    assert any(" | " in r["text"] and "---" in r["text"] for r in records)


def test_vague_goal_rate_is_moderate(records):
    rate = sum(r["markers"]["vague_goal"] for r in records) / len(records)
    assert 0.3 <= rate <= 0.6


def test_distinct_sentence_ratio_is_high(records):
    sentences = [s for r in records for s in _sentences(r["text"])]
    assert len(set(sentences)) / len(sentences) >= 0.5


def test_sentence_mode_validates(banks, tmp_path):
    rows = generate.generate_sentences(seed=5, per_entry=1, banks=banks)
    path = tmp_path / "sentences_generated.jsonl"
    generate.write_jsonl(path, rows)
    assert validator.main([str(path)]) == 0
    markers = {(r["doc_type"], r["marker"]) for r in rows if r["present"]}
    for doc_type, names in validator.TYPE_MARKERS.items():
        for marker in names:
            assert (doc_type, marker) in markers


def test_slot_noise_never_moves_evidence(banks):
    """Heavy noise on every piece still leaves each span an exact substring."""
    import random

    rng = random.Random(1)
    rates = {"typo": 0.3, "abbrev": 1.0, "lower_start": 1.0, "drop_stop": 1.0}
    noiser = generate.Noiser(rng, rates, banks.abbreviations)
    item = generate.Item("The social worker saw the child with mother because of concerns.",
                         [("child_seen", 0, 34), ("x", 4, 17)])
    for _ in range(50):
        text, spans = noiser.apply(item)
        for _, s, e in spans:
            assert 0 <= s < e <= len(text)
        evidence = generate.evidence_from(text, spans)
        assert all(q in text for quotes in evidence.values() for q in quotes)
        assert spans[1][1] >= spans[0][1] and spans[1][2] <= spans[0][2]  # nesting is kept


def test_bank_entries_parse_and_fill(banks):
    """Every phrasing in the banks fills without unknown slots in some context."""
    import random

    rng = random.Random(0)
    for name, bank in banks.markers.items():
        for case, entries in bank.cases.items():
            for entry in entries:
                doc_type = next((t for t in entry.types), None) or next(
                    t for t, ms in validator.TYPE_MARKERS.items() if name in ms)
                ctx = generate.sentence_ctx(rng, banks, doc_type, entry)
                filled = ctx.fill(entry.text)
                assert "{" not in filled and "}" not in filled, (name, case, entry.text)


def test_cli_writes_validating_file(tmp_path):
    out = tmp_path / "generated.jsonl"
    assert generate.main(["--n", "25", "--seed", "2", "-o", str(out)]) == 0
    assert validator.main([str(out)]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 25
