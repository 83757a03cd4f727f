"""What the classifiers see: sentence units with their heading, and record features.

Training and inference both build their inputs here, so a model never sees text
prepared differently from how it was trained.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from spacy.tokens import Doc

from screener.rules.base import DocContext, MarkerDetection

MAX_UNIT_CHARS = 600  # a longer unit is cut for the classifiers (evidence keeps it whole)


@dataclass(frozen=True)
class Unit:
    """One sentence (or heading, or table row) of a record, as a classifier input."""

    start: int
    end: int
    input: str


def units(doc: Doc) -> list[Unit]:
    """Sentence units of an analysed record: "doc_type | heading | sentence".

    The heading matters: "TBC" under "Contingency" and "Mum says he is fine" under
    "Child's views" mean something only beside their heading.
    """
    ctx: DocContext = doc._.context
    text = ctx.text
    out = []
    for s, e in ctx.seg.sentences:
        heads = [sec.heading for sec in ctx.seg.sections_at(s) if sec.body_start <= s]
        head = heads[-1] if heads else ""
        body = " ".join(text[s:e].split())[:MAX_UNIT_CHARS]
        out.append(Unit(s, e, f"{ctx.doc_type} | {head} | {body}"))
    return out


# Record-level features per marker, in this order (the stacker's columns).
RULE_FEATURES = ("rule_p", "rule_hits", "rule_blocked", "empty_section", "full_section")
MODEL_FEATURES = ("max", "top2", "n_over")


def rule_features(det: MarkerDetection) -> list[float]:
    full = [s for s in det.sections if not s.placeholder]
    return [det.probability, math.log1p(len(det.hits)), math.log1p(len(det.blocked)),
            float(bool(det.empty_sections)), float(bool(full))]


def model_features(probs: np.ndarray) -> list[float]:
    """Summary of one marker's sentence probabilities over a record."""
    if probs.size == 0:
        return [0.0, 0.0, 0.0]
    top = np.sort(probs)[::-1]
    return [float(top[0]), float(top[:2].mean()), math.log1p(float((probs > 0.5).sum()))]
