"""Per-rule confidence scales learnt from auditors' reviews (the `rule-weights` artefact).

`screener train --with-reviews` writes `models/rule-weights/<version>/rule-weights.json`
({"scales": {"rule:<marker>.<cue>": 0.4, ...}}) when auditors keep rejecting what a rule
finds. The Screener multiplies each unblocked hit's confidence by its rule's scale
before the hits are combined, so that rule counts for less in rules mode (noisy-OR) and
in the stacker's rule features. Rules without a scale, and every rule when no artefact
is registered, are unchanged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from screener.rules.base import MarkerDetection

ARTEFACT = "rule-weights"


@dataclass(frozen=True)
class RuleWeights:
    scales: dict[str, float] = field(default_factory=dict)
    version: str | None = None

    def apply(self, detections: dict[str, MarkerDetection]) -> None:
        """Scale the confidence of each hit whose rule has a scale (in place)."""
        if not self.scales:
            return
        for det in detections.values():
            det.hits = [replace(h, confidence=h.confidence * self.scales[h.source])
                        if h.source in self.scales else h for h in det.hits]


def load_rule_weights(models_dir: str | Path | None = None) -> RuleWeights:
    """The registered rule weights in `models_dir` (default: the models folder), if any."""
    from screener.classifiers.artefacts import (
        ArtefactError,
        default_models_dir,
        load_artefact,
        read_registry,
    )

    d = Path(models_dir) if models_dir is not None else default_models_dir()
    try:
        if ARTEFACT not in read_registry(d):
            return RuleWeights()
    except ArtefactError:
        return RuleWeights()  # a broken registry is reported by the model loaders
    art = load_artefact(ARTEFACT, d)
    data = json.loads(art.file("rule-weights.json").read_text("utf-8"))
    scales = {str(k): min(1.0, max(0.0, float(v))) for k, v in data.get("scales", {}).items()}
    return RuleWeights(scales, art.version)
