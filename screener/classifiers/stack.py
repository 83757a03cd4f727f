"""Rules + sentence classifiers -> calibrated marker probabilities (fast and full modes).

A logistic-regression stacker per marker weighs the rule evidence (fired cues, cues
blocked by context, empty headings) against the sentence models' scores, so neither a
fixed OR nor a single source decides. It is trained on out-of-fold sentence scores
(training/train.py) and stored as plain JSON coefficients.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from spacy.tokens import Doc

from screener.classifiers.artefacts import ArtefactError, load_artefact
from screener.classifiers.features import (
    MODEL_FEATURES,
    RULE_FEATURES,
    Unit,
    model_features,
    rule_features,
    units,
)
from screener.config.models import Rubric
from screener.schemas import Evidence

# Full mode encodes with MiniLM only the units the TF-IDF model is unsure about.
UNSURE = (0.1, 0.9)
SETTLED = 0.9
SKLEARN_ALLOWED_TYPES = {
    "screener.classifiers.models.MaskedMultiLabelLR",
    "sklearn.pipeline.FeatureUnion",
    "sklearn.pipeline.Pipeline",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "numpy.float32",
    "numpy.float64",
    "numpy.int64",
    "builtins.dict",
    "builtins.list",
    "builtins.tuple",
    "builtins.str",
    "builtins.int",
    "builtins.float",
    "builtins.bool",
}


def feature_names(marker_types: Sequence[str], with_minilm: bool) -> list[str]:
    names = list(RULE_FEATURES) + [f"tfidf_{f}" for f in MODEL_FEATURES]
    if with_minilm:
        names += [f"minilm_{f}" for f in MODEL_FEATURES]
    return names + [f"type:{t}" for t in marker_types]


def record_vector(det_features: list[float], tfidf: np.ndarray, minilm: np.ndarray | None,
                  doc_type: str, marker_types: Sequence[str]) -> list[float]:
    row = det_features + model_features(tfidf)
    if minilm is not None:
        row += model_features(minilm)
    return row + [float(doc_type == t) for t in marker_types]


def unsure_units(probs: np.ndarray, columns: Sequence[int]) -> np.ndarray:
    """Which units MiniLM should encode: those the TF-IDF model is unsure about for a
    marker of the record's type that the TF-IDF scores have not already settled (a marker
    some unit scores >= SETTLED for is present whatever the other units say)."""
    if probs.size == 0 or not columns:
        return np.zeros(len(probs), dtype=bool)
    sub = probs[:, list(columns)]
    open_markers = sub.max(axis=0) < SETTLED
    unsure = (sub > UNSURE[0]) & (sub < UNSURE[1])
    return np.asarray(unsure[:, open_markers].any(axis=1))


def blend(tfidf: np.ndarray, minilm: np.ndarray, encoded: np.ndarray) -> np.ndarray:
    """MiniLM scores where a unit was encoded, TF-IDF scores where it was not."""
    out = tfidf.copy()
    out[encoded] = minilm[encoded]
    return out


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def load_skops_pipeline(path: Path) -> Any:
    """Load the TF-IDF pipeline, trusting only the types it is known to contain."""
    import skops.io as sio

    untrusted = set(sio.get_untrusted_types(file=path))
    unknown = untrusted - SKLEARN_ALLOWED_TYPES
    if unknown:
        raise ArtefactError(f"{path}: refused: contains unexpected types {sorted(unknown)}")
    return sio.load(path, trusted=sorted(untrusted))


class StackedScorer:
    """Scores markers with rules + TF-IDF (fast) or rules + TF-IDF + MiniLM (full)."""

    def __init__(self, mode: str, rubric: Rubric, models_dir: Path | None = None):
        if mode not in ("fast", "full"):
            raise ValueError(f"StackedScorer has no mode {mode!r}")
        self.mode = mode
        self.rubric = rubric
        tfidf = load_artefact("sentence-tfidf", models_dir)
        self.tfidf = load_skops_pipeline(tfidf.file("model.skops"))
        self.labels: list[str] = list(tfidf.metadata["labels"])
        self.col = {m: i for i, m in enumerate(self.labels)}
        stacker = load_artefact("stacker", models_dir)
        import json

        data = json.loads(stacker.file("stacker.json").read_text("utf-8"))
        if mode not in data:
            raise ArtefactError(f"{stacker.path}: no stacker for mode {mode!r}")
        self.stack: dict[str, dict[str, Any]] = data[mode]
        self.versions = {"sentence-tfidf": tfidf.version, "stacker": stacker.version}
        self.encoder = None
        if mode == "full":
            heads = load_artefact("minilm-heads", models_dir)
            from safetensors.numpy import load_file

            tensors = load_file(str(heads.file("heads.safetensors")))
            self.head_coef, self.head_bias = tensors["coef"], tensors["intercept"]
            if list(heads.metadata["labels"]) != self.labels:
                raise ArtefactError(f"{heads.path}: labels differ from sentence-tfidf's")
            from screener.classifiers.models import MiniLMEncoder

            self.encoder = MiniLMEncoder(**heads.metadata.get("encoder", {}))
            self.encoder.fit([])
            self.versions["minilm-heads"] = heads.version

    def _minilm_probs(self, inputs: list[str]) -> np.ndarray:
        assert self.encoder is not None
        emb = self.encoder.transform(inputs)
        z = np.clip(emb @ self.head_coef.T + self.head_bias, -30, 30)
        return 1.0 / (1.0 + np.exp(-z))

    def score(self, docs: list[Doc]) -> list[dict[str, Any]]:
        from screener.pipeline import MarkerScore

        doc_units: list[list[Unit]] = [units(d) for d in docs]
        flat = [u.input for us in doc_units for u in us]
        sk = self.tfidf.predict_proba(flat) if flat else np.zeros((0, len(self.labels)))
        mini = None
        encoded = np.zeros(len(flat), dtype=bool)
        if self.encoder is not None and flat:
            offsets = np.cumsum([0] + [len(us) for us in doc_units])
            for i, doc in enumerate(docs):
                cols = [self.col[m] for m in doc._.detections if m in self.col]
                a, b = offsets[i], offsets[i + 1]
                encoded[a:b] = unsure_units(sk[a:b], cols)
            mini = sk.copy()
            if encoded.any():
                idx = np.flatnonzero(encoded)
                mini[idx] = self._minilm_probs([flat[i] for i in idx])
        elif self.encoder is not None:  # no units at all ("<br><br>"): rows still need
            mini = sk.copy()  # MiniLM's columns, or the stacker's dot product fails
        out = []
        pos = 0
        for doc, us in zip(docs, doc_units, strict=True):
            n = len(us)
            sk_doc = sk[pos:pos + n]
            mini_doc = mini[pos:pos + n] if mini is not None else None
            pos += n
            scores = {}
            for marker, det in doc._.detections.items():
                params = self.stack.get(marker)
                if params is None or marker not in self.col:  # a marker the models never saw
                    scores[marker] = MarkerScore(det.probability)
                    continue
                c = self.col[marker]
                row = record_vector(rule_features(det), sk_doc[:, c],
                                    mini_doc[:, c] if mini_doc is not None else None,
                                    doc._.doc_type, params["types"])
                p = _sigmoid(float(np.dot(params["coef"], row)) + params["intercept"])
                sent_p = mini_doc[:, c] if mini_doc is not None else sk_doc[:, c]
                scores[marker] = MarkerScore(p, self._evidence(doc, us, sent_p, det))
            out.append(scores)
        return out

    def _evidence(self, doc: Doc, us: list[Unit], probs: np.ndarray, det) -> list[Evidence]:
        text = doc._.context.text
        source = "model:minilm-heads" if self.encoder is not None else "model:sentence-tfidf"
        taken = [(h.start, h.end) for h in det.hits]
        ev = []
        for i in np.argsort(-probs)[:3]:
            if probs[i] < 0.5:
                break
            u = us[int(i)]
            if any(s < u.end and u.start < e for s, e in taken):
                continue
            ev.append(Evidence.model_construct(start=u.start, end=u.end,
                                               text=text[u.start:u.end], source=source,
                                               sentence=text[u.start:u.end]))
        return ev


def load_scorer(mode: str, rubric: Rubric, models_dir: str | Path | None = None) -> StackedScorer:
    return StackedScorer(mode, rubric, Path(models_dir) if models_dir else None)
