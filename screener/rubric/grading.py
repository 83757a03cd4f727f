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


def _grade_table(doc_type: str, rubric: Rubric,
                 used: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Every combination of the rule markers (rows of 0/1) and the grade of each, as an
    index into the levels; built once per record type and kept on the rubric."""
    table = rubric._grade_tables.get(doc_type)
    if table is None:
        bits = np.array(list(itertools.product((False, True), repeat=len(used))),
                        dtype=bool).reshape(-1, len(used))
        grades = np.array([rubric.levels.index(grade(
            {m for m, b in zip(used, row, strict=True) if b}, doc_type, rubric)) for row in bits])
        table = rubric._grade_tables[doc_type] = (bits, grades)
    return table


def grade_probabilities(probs: dict[str, float], doc_type: str, rubric: Rubric,
                        samples: int = 4000, seed: int = 0) -> dict[str, float]:
    used = rule_markers(doc_type, rubric)
    p = np.clip(np.array([probs.get(m, 0.0) for m in used], dtype=float), 0.0, 1.0)
    levels = tuple(rubric.levels)
    counts = np.zeros(len(levels))
    if len(used) <= _EXACT_LIMIT:
        bits, grades = _grade_table(doc_type, rubric, used)
        weights = np.where(bits, p, 1.0 - p).prod(axis=1)
        np.add.at(counts, grades, weights)
    else:
        rng = np.random.default_rng(seed)
        draws = rng.random((samples, len(used))) < p
        for row in draws:
            counts[levels.index(grade({m for m, b in zip(used, row, strict=True) if b},
                                      doc_type, rubric))] += 1
        counts /= samples
    return {lvl: round(float(c), 4) for lvl, c in zip(levels, counts, strict=True)}
