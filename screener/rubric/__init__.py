"""Grading by the rubric and guidance on what good looks like."""

from screener.rubric.grading import grade, grade_probabilities
from screener.rubric.guidance import flags_for

__all__ = ["flags_for", "grade", "grade_probabilities"]
