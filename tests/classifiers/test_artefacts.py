"""Trained artefacts: training writes them with hashes; tampering is refused; modes load."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from screener import Screener
from screener.classifiers.artefacts import ArtefactError, available_modes, load_artefact
from training.train import TrainConfig, train


@pytest.fixture(scope="module")
def smoke_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny but complete model set, trained the same way as the shipped one."""
    out = tmp_path_factory.mktemp("models")
    metrics = train(out, TrainConfig(smoke=True, n_generated=60, folds=3), version="test",
                    progress=False)
    assert {"rules", "fast", "full"} <= set(metrics)
    return out


def test_training_writes_every_artefact_with_metadata(smoke_models: Path) -> None:
    assert available_modes(smoke_models) == {"rules", "fast", "full"}
    for name in ("sentence-tfidf", "minilm-heads", "stacker"):
        art = load_artefact(name, smoke_models)
        meta = art.metadata
        assert meta["version"] == "test" and len(meta["training_data_sha256"]) == 64
        assert meta["files"] and all(len(h) == 64 for h in meta["files"].values())
        assert "scikit-learn" in meta["libraries"]
        assert (art.path / "MODEL_CARD.md").read_text().startswith(f"# {name}")
    assert not list(smoke_models.rglob("*.pkl")) and not list(smoke_models.rglob("*.pickle"))


@pytest.mark.parametrize("mode", ["fast", "full"])
def test_trained_modes_screen(smoke_models: Path, mode: str) -> None:
    scr = Screener(mode=mode, models_dir=smoke_models)
    text = ("Visit to Kai (7) at home. Kai was seen alone in his bedroom and said \"I like my "
            "new school\". Purpose: to check the safety plan agreed at the CP conference.")
    result = scr.screen_one("visit", text)
    assert result.mode == mode
    assert abs(sum(result.grade_probabilities.values()) - 1) < 1e-3
    for marker in result.markers.values():
        assert 0.0 <= marker.probability <= 1.0
        for ev in marker.evidence:
            assert text[ev.start:ev.end] == ev.text


def test_tampered_weights_are_refused(smoke_models: Path, tmp_path: Path) -> None:
    copy = tmp_path / "models"
    shutil.copytree(smoke_models, copy)
    target = copy / "stacker" / "test" / "stacker.json"
    data = json.loads(target.read_text())
    data["fast"]["child_seen"]["intercept"] = 9.0
    target.write_text(json.dumps(data))
    with pytest.raises(ArtefactError, match="SHA-256 does not match"):
        Screener(mode="fast", models_dir=copy)


def test_missing_registry_entry_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "registry.json").write_text('{"models": {}}')
    assert available_modes(tmp_path) == {"rules"}
    with pytest.raises(ArtefactError, match="names no 'sentence-tfidf' model"):
        Screener(mode="fast", models_dir=tmp_path)
