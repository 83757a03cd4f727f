"""The hand-computed case of the report tests (numbers worked out in test_tables.py)."""

from __future__ import annotations

from typing import Any

from screener.schemas import Evidence, Flag, MarkerResult, ScreenResult

KEY = b"test-key-0123456789abcdef"

# The hand-computed case (tests/reports/test_tables.py works the numbers out by hand):
# id, team, service, date, screener grade, child_seen, child_views, vague_goal,
# auditor grade, moderator grade.
CASE: list[tuple[Any, ...]] = [
    ("r01", "A", "S1", "2024-03-01", "good", 1, 1, 0, "Good", "Good"),
    ("r02", "A", "S1", "2024-06-01", "requires_improvement", 1, 0, 0, "Good", "RI"),
    ("r03", "A", "S1", "10/01/2025", "inadequate", 0, 0, 1, "Inadequate", "Inadequate"),
    ("r04", "B", "S1", "2025-02-01", "good", 1, 1, 0, "Requires improvement", None),
    ("r05", "B", "S2", "2024-07-01", "inadequate", 0, 1, 1, "inadequate", None),
    ("r06", "B", "S2", "2025-08-01", "requires_improvement", 1, 0, 0, "RI",
     "requires_improvement"),
    ("r07", "C", "S2", "2025-09-09", "good", 1, 1, 0, "Outstanding", "Good"),
    ("r08", "C", "S2", "2025-12-31", "inadequate", 0, 0, 0, None, None),
    ("r09", "C", "S2", None, "good", 1, 1, 1, "Good", None),
    ("r10", "A", "S1", "2024-11-11", "requires_improvement", 1, 1, 0, "Inadequate", None),
]
WORKERS = {"A": "Hannah Price", "B": "Darren Marsh", "C": "Esi Osei"}


def make_result(rid: str, grade: str, markers: dict[str, int], extra: dict[str, Any],
                doc_type: str = "visit", example: str | None = None) -> ScreenResult:
    flags = []
    for m, v in markers.items():
        if (m == "vague_goal") == bool(v):
            ev = [Evidence(start=0, end=4, text=example[:4], source="rule:test",
                           sentence=example)] if example else []
            flags.append(Flag(marker=m, severity="high", message="-", evidence=ev))
    return ScreenResult(
        id=rid, doc_type=doc_type, grade=grade,
        grade_probabilities={"good": 0.2, "requires_improvement": 0.3, "inadequate": 0.5},
        markers={m: MarkerResult(present=bool(v), probability=0.9 if v else 0.1)
                 for m, v in markers.items()},
        flags=flags, mode="rules", rubric="default@test", extra=extra)


def case_results() -> list[ScreenResult]:
    out = []
    for rid, team, service, date, grade, seen, views, vague, aud, mod in CASE:
        extra = {"team": team, "service": service, "worker": WORKERS[team], "date": date,
                 "auditor_grade": aud, "moderator_grade": mod}
        out.append(make_result(rid, grade, {"child_seen": seen, "child_views": views,
                                            "vague_goal": vague}, extra,
                               example=f"{WORKERS[team]} visited; Kai said nothing ({rid})."))
    return out
