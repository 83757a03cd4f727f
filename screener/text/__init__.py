"""Text structure shared by rules and classifiers: sentences, headed sections, context."""

from screener.text.context import ContextLayer
from screener.text.names import People, find_people
from screener.text.segment import Section, Segmentation, segment

__all__ = ["ContextLayer", "People", "Section", "Segmentation", "find_people", "segment"]
