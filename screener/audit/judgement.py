"""What a review says about each marker of a screened record.

The screener flags a marker when it sees a problem: a marker it did not find, or a
negative marker (a vague goal) that it did find. Auditors answer each flag (confirmed,
rejected, corrected) and add the problems it missed (added). From the stored result and
the review, every marker gets the auditor's reading:

* a flag confirmed or corrected: the problem is real; rejected: it is not;
* added (on a marker not flagged): a problem the screener missed;
* no decision on a marker the screener did not flag, in a completed review (one with a
  final grade): the auditor accepts the screener's reading;
* no decision on a flag, or anything in an unfinished review: not judged (None).

A negative marker is recognised from the result itself: it is flagged exactly when it
is present. Agreement statistics, rule confirmation rates and training labels all come
from this one function, so they always agree with each other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol


class DecisionLike(Protocol):
    id: int
    marker: str
    decision: str
    evidence: str | None


@dataclass(frozen=True)
class Judgement:
    marker: str
    screener_present: bool
    flagged: bool
    decision: str | None
    present: bool | None  # the auditor's reading; None when not judged
    evidence: str | None = None

    @property
    def negative(self) -> bool:
        return self.flagged == self.screener_present


def effective(decisions: Iterable[DecisionLike]) -> dict[str, DecisionLike]:
    """The newest decision on each marker (decisions are append-only)."""
    out: dict[str, DecisionLike] = {}
    for d in sorted(decisions, key=lambda d: d.id):
        out[d.marker] = d
    return out


def judge(markers: dict[str, Any], flags: Iterable[dict[str, Any]],
          decisions: dict[str, DecisionLike], completed: bool) -> dict[str, Judgement]:
    """Every marker of a stored result, with the auditor's reading of it."""
    flagged = {f["marker"] for f in flags}
    out: dict[str, Judgement] = {}
    for m, value in markers.items():
        present = bool(value["present"])
        is_flagged = m in flagged
        negative = is_flagged == present
        d = decisions.get(m)
        problem: bool | None
        if d is not None and (d.decision == "added") != is_flagged:
            problem = d.decision != "rejected"
        elif d is None and completed and not is_flagged:
            problem = False
        else:  # an unanswered flag, or nothing judged yet
            problem = None
        reading = None if problem is None else (problem if negative else not problem)
        out[m] = Judgement(m, present, is_flagged, d.decision if d else None, reading,
                           d.evidence if d else None)
    return out
