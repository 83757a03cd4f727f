"""The classifiers keep the scikit-learn contract and learn from partial labels."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from screener.classifiers.models import MaskedMultiLabelLR, tfidf_pipeline
from screener.classifiers.stack import blend, record_vector, unsure_units


def test_masked_lr_ignores_unlabelled_rows() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y0 = (X[:, 0] > 0).astype(float)
    # label 1 is known only where it contradicts label 0's pattern: the mask must keep the
    # unknown rows out of its fit, so it learns feature 1, not feature 0.
    y1 = np.full(200, np.nan)
    y1[:100] = (X[:100, 1] > 0).astype(float)
    clf = MaskedMultiLabelLR(labels=["a", "b"], C=10.0).fit(X, np.c_[y0, y1])
    p = clf.predict_proba(X)
    assert p.shape == (200, 2)
    assert ((p[:, 0] > 0.5) == (X[:, 0] > 0)).mean() > 0.95
    assert ((p[:, 1] > 0.5) == (X[:, 1] > 0)).mean() > 0.9
    assert abs(clf.coef_[1][1]) > abs(clf.coef_[1][0])


def test_masked_lr_sklearn_contract() -> None:
    clf = MaskedMultiLabelLR(labels=["a"], C=2.0)
    assert clf.get_params()["C"] == 2.0
    assert not hasattr(clf, "coef_")  # __init__ only stores parameters
    X = np.array([[0.0], [1.0], [0.1], [0.9]])
    fitted = clf.fit(X, np.array([[0], [1], [0], [1]]))
    assert fitted is clf
    assert clone(clf).get_params() == clf.get_params()


def test_label_never_seen_is_confidently_absent() -> None:
    clf = MaskedMultiLabelLR(labels=["a", "b"]).fit(
        np.eye(4), np.c_[[0, 1, 0, 1], [np.nan] * 4])
    assert clf.predict_proba(np.eye(4))[:, 1].max() < 0.05


def test_tfidf_pipeline_learns_a_marker() -> None:
    texts = ([f"visit | | Kai said he wants to live with his nan {i}" for i in range(20)]
             + [f"visit | | Mum said the house is cold {i}" for i in range(20)])
    Y = np.array([[1.0]] * 20 + [[0.0]] * 20)
    model = tfidf_pipeline(["child_views"]).fit(texts, Y)
    p = model.predict_proba(["visit | | Leo said he wants to stay", "visit | | Mum said no"])
    assert p[0, 0] > p[1, 0]


def test_minilm_only_encodes_unsure_units() -> None:
    probs = np.array([[0.02, 0.6], [0.5, 0.01], [0.7, 0.3]])
    assert unsure_units(probs, [0]).tolist() == [False, True, True]
    assert unsure_units(probs, [1]).tolist() == [True, False, True]
    # a marker some unit already settles (>= 0.9) needs no encoding for it
    settled = np.array([[0.95, 0.5], [0.5, 0.02]])
    assert unsure_units(settled, [0]).tolist() == [False, False]
    assert unsure_units(settled, [0, 1]).tolist() == [True, False]
    mini = np.full_like(probs, 0.7)
    blended = blend(probs, mini, np.array([False, True, False]))
    assert blended[1].tolist() == [0.7, 0.7] and blended[0].tolist() == probs[0].tolist()


@pytest.mark.parametrize("minilm", [None, np.array([0.2, 0.8])])
def test_record_vector_layout(minilm: np.ndarray | None) -> None:
    row = record_vector([0.9, 1.0, 0.0, 0.0, 1.0], np.array([0.1, 0.6]), minilm, "visit",
                        ["assessment", "visit"])
    assert len(row) == 5 + 3 + (3 if minilm is not None else 0) + 2
    assert row[-2:] == [0.0, 1.0]
