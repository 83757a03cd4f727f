"""Case-record quality screener: finds recording-quality markers in children's social care
records, grades them by the authority's rubric and flags gaps with evidence."""

from screener.config.loader import RubricError, load_rubric
from screener.pipeline import InvalidRecord, Screener, screen
from screener.schemas import ErrorResult, Evidence, Flag, MarkerResult, Record, ScreenResult

__version__ = "0.1.0"

__all__ = [
    "ErrorResult",
    "Evidence",
    "Flag",
    "InvalidRecord",
    "MarkerResult",
    "Record",
    "RubricError",
    "ScreenResult",
    "Screener",
    "__version__",
    "load_rubric",
    "screen",
]
