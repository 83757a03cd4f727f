"""Check hand-written training files against the marker contract before they are used.

Usage: python training/validate_corpus.py FILE.jsonl [FILE.jsonl ...]

Record files hold {"id", "doc_type", "text", "markers", "evidence", "writer"[, "notes"]};
sentence files (name starts with "sentences") hold {"text", "doc_type", "marker",
"present", "case"[, "writer"]}. Exits non-zero and names the line on any problem.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# The spec's marker table (../shared/spec/markers.md); vague_goal applies to every type.
TYPE_MARKERS: dict[str, list[str]] = {
    "assessment": ["child_seen", "child_views", "parenting_capacity", "multi_agency", "history",
                   "analysis"],
    "cp_enquiry": ["child_seen", "seen_alone", "child_views", "multi_agency", "history",
                   "risk_analysis", "outcome_decision"],
    "cin_plan": ["outcomes", "actions", "responsibilities", "timescales", "contingency",
                 "child_views"],
    "cp_plan": ["outcomes", "actions", "responsibilities", "timescales", "contingency",
                "child_views"],
    "visit": ["child_seen", "seen_alone", "child_views", "purpose", "observations", "analysis"],
    "supervision": ["frequency", "progress_update", "plan_progress", "reflection", "challenge",
                    "decisions"],
    "oversight": ["issue", "options", "research", "evidence_weighed", "expected_impact",
                  "contingency", "review_date"],
}
for _markers in TYPE_MARKERS.values():
    _markers.append("vague_goal")

CASES = {"positive", "negated", "placeholder", "intended", "adult_not_child", "no_substance",
         "near_miss", "other"}


def check_record(obj: dict, where: str) -> list[str]:
    errs = []
    for key in ("id", "doc_type", "text", "markers", "evidence", "writer"):
        if key not in obj:
            errs.append(f"{where}: missing key {key!r}")
    if errs:
        return errs
    extra = set(obj) - {"id", "doc_type", "text", "markers", "evidence", "writer", "notes"}
    if extra:
        errs.append(f"{where}: unknown keys {sorted(extra)}")
    dt = obj["doc_type"]
    if dt not in TYPE_MARKERS:
        return [f"{where}: doc_type {dt!r} not one of {sorted(TYPE_MARKERS)}"]
    want = set(TYPE_MARKERS[dt])
    got = set(obj["markers"])
    if got != want:
        errs.append(f"{where}: markers for {dt} must be exactly {sorted(want)}; "
                    f"missing {sorted(want - got)}, extra {sorted(got - want)}")
    for m, v in obj["markers"].items():
        if not isinstance(v, bool):
            errs.append(f"{where}: markers.{m} must be true/false")
    text = obj["text"]
    if not isinstance(text, str) or len(text.split()) < 20:
        errs.append(f"{where}: text too short")
    for m, quotes in obj["evidence"].items():
        if m not in want:
            errs.append(f"{where}: evidence for {m!r}, not a marker of {dt}")
            continue
        if not obj["markers"].get(m):
            errs.append(f"{where}: evidence given for {m!r} but the marker is false")
        if not isinstance(quotes, list) or not quotes:
            errs.append(f"{where}: evidence.{m} must be a non-empty list of quotes")
            continue
        for q in quotes:
            if not isinstance(q, str) or q not in text:
                errs.append(f"{where}: evidence.{m} quote is not an exact substring: {q!r:.80}")
    for m, v in obj["markers"].items():
        if v and m not in obj["evidence"]:
            errs.append(f"{where}: marker {m!r} is true but has no evidence quotes")
    return errs


def check_sentence(obj: dict, where: str) -> list[str]:
    errs = []
    for key in ("text", "doc_type", "marker", "present", "case"):
        if key not in obj:
            errs.append(f"{where}: missing key {key!r}")
    if errs:
        return errs
    if obj["doc_type"] not in TYPE_MARKERS:
        errs.append(f"{where}: doc_type {obj['doc_type']!r} unknown")
    elif obj["marker"] not in TYPE_MARKERS[obj["doc_type"]]:
        errs.append(f"{where}: marker {obj['marker']!r} is not a marker of {obj['doc_type']}")
    if not isinstance(obj["present"], bool):
        errs.append(f"{where}: present must be true/false")
    if obj["case"] not in CASES:
        errs.append(f"{where}: case {obj['case']!r} not one of {sorted(CASES)}")
    if obj["present"] != (obj["case"] == "positive") and obj["marker"] != "vague_goal":
        errs.append(f"{where}: present must be true exactly when case is 'positive'")
    return errs


def main(paths: list[str]) -> int:
    total_errs = 0
    for p in paths:
        path = Path(p)
        is_sentences = path.name.startswith("sentences")
        ids: set[str] = set()
        n = 0
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            where = f"{path}:{i}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                print(f"{where}: not valid JSON ({e})")
                total_errs += 1
                continue
            errs = check_sentence(obj, where) if is_sentences else check_record(obj, where)
            if not is_sentences and obj.get("id") in ids:
                errs.append(f"{where}: duplicate id {obj.get('id')!r}")
            ids.add(obj.get("id"))
            for e in errs:
                print(e)
            total_errs += len(errs)
            n += 1
        print(f"{path}: {n} {'sentences' if is_sentences else 'records'} checked")
    print(f"{total_errs} problem(s)")
    return 1 if total_errs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
