"""Grades from markers, and grade probabilities from marker probabilities.

`grade_probabilities` pushes the marker probabilities through the same rules as `grade`
(exactly, by enumerating the markers the rules use, treating markers as independent),
so the grade distribution is never a separate guess.
"""

from __future__ import annotations

import itertools

import numpy as np

from screener.config.models import Rubric

_EXACT_LIMIT = 14  # 2**14 combinations; beyond that, sample


def grade(present: set[str], doc_type: str, rubric: Rubric) -> str:
    """The best level whose rule holds; the last level when none does."""
    rules = rubric.doc_types[doc_type].rules
    for level in rubric.levels[:-1]:
        cond = rules.get(level)
        if cond is not None and cond.holds(present):
            return level
    return rubric.levels[-1]


def rule_markers(doc_type: str, rubric: Rubric) -> list[str]:
    names: set[str] = set()
    for cond in rubric.doc_types[doc_type].rules.values():
        names |= cond.markers()
    return sorted(names)


def grade_probabilities(probs: dict[str, float], doc_type: str, rubric: Rubric,
                        samples: int = 4000, seed: int = 0) -> dict[str, float]:
    out = dict.fromkeys(rubric.levels, 0.0)
    used = rule_markers(doc_type, rubric)
    p = [min(max(probs.get(m, 0.0), 0.0), 1.0) for m in used]
    if len(used) <= _EXACT_LIMIT:
        for bits in itertools.product((False, True), repeat=len(used)):
            weight = 1.0
            for b, pi in zip(bits, p, strict=True):
                weight *= pi if b else 1.0 - pi
            if weight:
                present = {m for m, b in zip(used, bits, strict=True) if b}
                out[grade(present, doc_type, rubric)] += weight
    else:
        rng = np.random.default_rng(seed)
        draws = rng.random((samples, len(used))) < np.array(p)
        for row in draws:
            out[grade({m for m, b in zip(used, row, strict=True) if b}, doc_type, rubric)] += 1
        out = {k: v / samples for k, v in out.items()}
    return {k: round(v, 4) for k, v in out.items()}
