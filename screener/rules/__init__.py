"""Pattern rules: detector kinds (code) that apply the markers' cues (data) with context."""

from screener.rules.base import DocContext, Hit, MarkerDetection
from screener.rules.registry import detector_kinds, register

__all__ = ["DocContext", "Hit", "MarkerDetection", "detector_kinds", "register"]
