"""Loading, merging and validating rubric and marker configuration."""

from screener.config.loader import DEFAULT, RubricError, load_rubric
from screener.config.models import Condition, CueSpec, DocTypeSpec, MarkerSpec, Rubric

__all__ = [
    "DEFAULT",
    "Condition",
    "CueSpec",
    "DocTypeSpec",
    "MarkerSpec",
    "Rubric",
    "RubricError",
    "load_rubric",
]
