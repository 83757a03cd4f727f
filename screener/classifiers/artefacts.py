"""Model artefacts on disk: where they are, what they are, and whether to trust them.

Each model lives in `models/<name>/<version>/` with its weights in a safe format
(skops, safetensors, JSON), a `metadata.json` (training data hash, config, library
versions, metrics, and the SHA-256 of every weight file) and a `MODEL_CARD.md`.
`models/registry.json` names the version in use. A weight file whose hash does not
match its metadata is refused: it is corrupt or has been tampered with.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MODEL_NAMES = {"fast": ("sentence-tfidf", "stacker"),
               "full": ("sentence-tfidf", "minilm-heads", "stacker")}


class ArtefactError(RuntimeError):
    """A model artefact that is missing, corrupt, tampered with or of the wrong version."""


def default_models_dir() -> Path:
    """`SCREENER_MODELS_DIR`, else the repository's `models/` beside the package."""
    env = os.environ.get("SCREENER_MODELS_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "models"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class Artefact:
    name: str
    version: str
    path: Path
    metadata: dict[str, Any]

    def file(self, name: str) -> Path:
        """A weight file of this artefact, after checking its hash against the metadata."""
        expected = self.metadata.get("files", {}).get(name)
        p = self.path / name
        if expected is None:
            raise ArtefactError(f"{self.path}: metadata.json lists no file {name!r}")
        if not p.is_file():
            raise ArtefactError(f"{p}: missing; run `screener train` to rebuild the models")
        actual = sha256(p)
        if actual != expected:
            raise ArtefactError(f"{p}: refused: its SHA-256 does not match metadata.json "
                                "(corrupt or tampered with); restore it or run `screener train`")
        return p


def read_registry(models_dir: Path | None = None) -> dict[str, str]:
    d = models_dir or default_models_dir()
    reg = d / "registry.json"
    if not reg.is_file():
        return {}
    try:
        data = json.loads(reg.read_text("utf-8"))
    except json.JSONDecodeError as e:
        raise ArtefactError(f"{reg}: not valid JSON ({e.msg})") from e
    return {str(k): str(v) for k, v in data.get("models", {}).items()}


def load_artefact(name: str, models_dir: Path | None = None) -> Artefact:
    d = models_dir or default_models_dir()
    version = read_registry(d).get(name)
    if version is None:
        raise ArtefactError(f"{d}/registry.json names no {name!r} model; run `screener train`")
    path = d / name / version
    meta_path = path / "metadata.json"
    if not meta_path.is_file():
        raise ArtefactError(f"{meta_path}: missing")
    try:
        metadata = json.loads(meta_path.read_text("utf-8"))
    except json.JSONDecodeError as e:
        raise ArtefactError(f"{meta_path}: not valid JSON ({e.msg})") from e
    if metadata.get("name") != name or metadata.get("version") != version:
        raise ArtefactError(f"{meta_path}: describes {metadata.get('name')}@"
                            f"{metadata.get('version')}, expected {name}@{version}")
    return Artefact(name, version, path, metadata)


def available_modes(models_dir: Path | None = None) -> set[str]:
    """Modes whose models are registered here (integrity is checked when they load)."""
    modes = {"rules"}
    try:
        reg = read_registry(models_dir)
    except ArtefactError:
        return modes
    for mode, names in MODEL_NAMES.items():
        if all(n in reg for n in names):
            modes.add(mode)
    return modes


def write_artefact(models_dir: Path, name: str, version: str, files: dict[str, Path],
                   metadata: dict[str, Any], card: str) -> Path:
    """Record hashes of `files` (already written into the version folder) with the card."""
    path = models_dir / name / version
    metadata = {**metadata, "name": name, "version": version,
                "files": {fname: sha256(p) for fname, p in files.items()}}
    (path / "metadata.json").write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n")
    (path / "MODEL_CARD.md").write_text(card)
    return path


def update_registry(models_dir: Path, versions: dict[str, str]) -> None:
    reg = models_dir / "registry.json"
    current = read_registry(models_dir) if reg.is_file() else {}
    current.update(versions)
    tmp = reg.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"models": dict(sorted(current.items()))}, indent=2) + "\n")
    os.replace(tmp, reg)
