"""Locating and checking trained model artefacts (filled in by the classifiers work)."""

from __future__ import annotations


def available_modes() -> set[str]:
    return {"rules"}
