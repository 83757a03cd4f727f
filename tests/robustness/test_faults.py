"""Faults: corrupt or tampered model artefacts, unsafe model files, a read-only or full
disk. Each must end in a clear message (and, from the CLI, no traceback) and no
partial output file.

tests/classifiers/test_artefacts.py checks one edited stacker file; here every weight
file is corrupted byte-wise, the metadata and registry are broken, and a model file is
replaced *with* a matching hash, so that only skops' type allow-list stands in the way.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from screener.classifiers.artefacts import ArtefactError, read_registry, sha256
from screener.classifiers.stack import load_scorer
from screener.cli import app
from screener.config.loader import load_rubric

runner = CliRunner()
RECORD = {"id": "r1", "doc_type": "visit", "text": "I saw Kai alone. Kai said he was happy."}
WEIGHTS = [("fast", "sentence-tfidf", "model.skops"), ("fast", "stacker", "stacker.json"),
           ("full", "minilm-heads", "heads.safetensors")]


def load(mode: str, models: Path) -> None:
    """What Screener(mode=..., models_dir=...) does with the models (without building the
    spaCy pipeline each time; the CLI test below goes through the whole Screener)."""
    load_scorer(mode, load_rubric(), models)


@pytest.fixture
def models_copy(models_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "models"
    shutil.copytree(models_dir, copy)
    return copy


def weight(models: Path, name: str, file: str) -> Path:
    return models / name / read_registry(models)[name] / file


def cli_screen(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(RECORD) + "\n", encoding="utf-8")
    return runner.invoke(app, ["screen", str(src), "--no-progress", *args], env=env)


def assert_clean_failure(res: Result, *phrases: str) -> None:
    """A non-zero exit through typer.Exit (no exception escaped) with a message."""
    assert res.exit_code != 0
    assert isinstance(res.exception, SystemExit), f"uncaught {res.exception!r}"
    for phrase in phrases:
        assert phrase in res.stderr, res.stderr


# Model artefacts ------------------------------------------------------------------------

DAMAGE = ([(*w, "flip-byte") for w in WEIGHTS]
          + [("fast", "sentence-tfidf", "model.skops", d) for d in ("truncate", "append")])


@pytest.mark.parametrize("mode, name, file, damage", DAMAGE)
def test_damaged_weight_file_is_refused(models_copy: Path, mode: str, name: str, file: str,
                                        damage: str) -> None:
    path = weight(models_copy, name, file)
    data = bytearray(path.read_bytes())
    if damage == "flip-byte":
        data[len(data) // 2] ^= 0x01
    elif damage == "truncate":
        del data[len(data) // 2:]
    else:
        data += b"\x00"
    path.write_bytes(bytes(data))
    with pytest.raises(ArtefactError, match="SHA-256 does not match metadata.json") as err:
        load(mode, models_copy)
    assert str(path) in str(err.value) and "tampered" in str(err.value)


def test_cli_refuses_a_tampered_model_from_SCREENER_MODELS_DIR(models_copy: Path,
                                                              tmp_path: Path) -> None:
    path = weight(models_copy, "sentence-tfidf", "model.skops")
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    out = tmp_path / "out.jsonl"
    res = cli_screen(tmp_path, "--mode", "fast", "-o", str(out),
                     env={"SCREENER_MODELS_DIR": str(models_copy)})
    assert_clean_failure(res, str(path), "refused", "SHA-256")
    assert not out.exists()


@pytest.mark.parametrize("mode, name, file", WEIGHTS)
def test_missing_weight_file_is_refused(models_copy: Path, mode: str, name: str,
                                        file: str) -> None:
    weight(models_copy, name, file).unlink()
    with pytest.raises(ArtefactError, match="missing; run `screener train`"):
        load(mode, models_copy)


@pytest.mark.parametrize("breakage, message", [
    ("metadata-not-json", "metadata.json: not valid JSON"),
    ("metadata-other-model", "describes stacker@"),
    ("metadata-lists-no-file", "lists no file 'model.skops'"),
    ("registry-not-json", "registry.json: not valid JSON"),
    ("registry-unknown-version", "metadata.json: missing"),
])
def test_broken_metadata_or_registry_is_refused(models_copy: Path, breakage: str,
                                                message: str) -> None:
    meta = weight(models_copy, "sentence-tfidf", "metadata.json")
    registry = models_copy / "registry.json"
    if breakage == "metadata-not-json":
        meta.write_text("{ half a file", encoding="utf-8")
    elif breakage == "metadata-other-model":
        data = json.loads(meta.read_text("utf-8"))
        meta.write_text(json.dumps(dict(data, name="stacker")), encoding="utf-8")
    elif breakage == "metadata-lists-no-file":
        data = json.loads(meta.read_text("utf-8"))
        meta.write_text(json.dumps(dict(data, files={})), encoding="utf-8")
    elif breakage == "registry-not-json":
        registry.write_text('{"models": ', encoding="utf-8")
    else:
        data = json.loads(registry.read_text("utf-8"))
        data["models"]["sentence-tfidf"] = "1999.01.01"
        registry.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ArtefactError, match=message.replace("(", r"\(")):
        load("fast", models_copy)


def _replace_with_matching_hash(models: Path, obj: Any) -> Path:
    """Swap model.skops for `obj` and update metadata.json's hash, as an attacker with
    write access to models/ could: the hash check passes, the type allow-list must not."""
    import skops.io as sio

    path = weight(models, "sentence-tfidf", "model.skops")
    sio.dump(obj, path)
    meta_path = path.parent / "metadata.json"
    meta = json.loads(meta_path.read_text("utf-8"))
    meta["files"]["model.skops"] = sha256(path)
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    return path


def _function_transformer_calling_os_system() -> Any:
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    return Pipeline([("run", FunctionTransformer(func=os.system))])


def _pipeline_with_an_encoder_reading_any_path() -> Any:
    from sklearn.pipeline import Pipeline

    from screener.classifiers.models import MiniLMEncoder

    return Pipeline([("encoder", MiniLMEncoder(model_path="/etc"))])


@pytest.mark.parametrize("make, unexpected", [
    (_function_transformer_calling_os_system, "posix.system"),
    (_pipeline_with_an_encoder_reading_any_path, "screener.classifiers.models.MiniLMEncoder"),
], ids=["os-system", "unlisted-screener-class"])
def test_skops_file_with_an_unexpected_type_is_refused(models_copy: Path, make: Any,
                                                       unexpected: str) -> None:
    path = _replace_with_matching_hash(models_copy, make())
    with pytest.raises(ArtefactError, match="refused: contains unexpected types") as err:
        load("fast", models_copy)
    assert unexpected in str(err.value) and str(path) in str(err.value)


def test_no_pickles_anywhere_in_the_models(models_dir: Path) -> None:
    suffixes = {p.suffix for p in models_dir.rglob("*") if p.is_file()}
    assert not suffixes & {".pkl", ".pickle", ".joblib", ".pt", ".bin"}, suffixes


# Disks ----------------------------------------------------------------------------------

@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Any]:
    """Mount a tiny tmpfs (read-only, or of a given size); skipped where mounting is not
    allowed (not root, no CAP_SYS_ADMIN)."""
    mounted: list[Path] = []

    def mount(size: str, read_only: bool = False) -> Path:
        where = tmp_path / f"mnt{len(mounted)}"
        where.mkdir()
        opts = f"size={size}" + (",ro" if read_only else "")
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(where)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(where)
        return where

    yield mount
    for where in mounted:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_read_only_output_folder_is_a_clear_error(tmp_path: Path, tmpfs: Any) -> None:
    folder = tmpfs("64k", read_only=True)
    out = folder / "results.jsonl"
    res = cli_screen(tmp_path, "--mode", "rules", "-o", str(out))
    assert_clean_failure(res, f"cannot write {out}", "Read-only file system")
    assert not out.exists()


def test_full_disk_is_a_clear_error_and_leaves_nothing(tmp_path: Path, tmpfs: Any) -> None:
    folder = tmpfs("32k")
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(dict(RECORD, id=f"r{i}")) + "\n" for i in range(200)),
                   encoding="utf-8")  # about 200 KB of results: does not fit in 32 KB
    out = folder / "results.jsonl"
    res = runner.invoke(app, ["screen", str(src), "--mode", "rules", "--no-progress",
                              "-o", str(out)])
    assert_clean_failure(res, f"cannot write {out}", "No space left on device")
    assert list(folder.iterdir()) == []  # neither the output nor its temporary file


@pytest.mark.parametrize("failure", [
    ("tempfile", "mkstemp", errno.EROFS),
    ("tempfile", "mkstemp", errno.EACCES),
    ("os", "fsync", errno.ENOSPC),
    ("os", "replace", errno.EXDEV),
    ("write", "write", errno.ENOSPC),
    ("write", "write", errno.EIO),
], ids=["mkstemp-erofs", "mkstemp-eacces", "fsync-enospc", "replace-exdev", "write-enospc",
        "write-eio"])
def test_simulated_disk_errors_are_clear_and_leave_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: tuple[str, str, int]) -> None:
    """The same without mounting anything: the failing call raises OSError(errno)."""
    import tempfile

    where, name, code = failure

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise OSError(code, os.strerror(code))

    if where == "write":  # the file object of the temporary file fails on write
        real_fdopen = os.fdopen

        class Failing:
            def __init__(self, fh: Any):
                self.fh, self.written = fh, 0

            def write(self, s: str) -> int:
                self.written += len(s)
                if self.written > 2000:
                    fail()
                return int(self.fh.write(s))

            def __getattr__(self, attr: str) -> Any:
                return getattr(self.fh, attr)

            def __enter__(self) -> Failing:
                return self

            def __exit__(self, *exc: object) -> None:
                self.fh.close()

        monkeypatch.setattr(os, "fdopen", lambda *a, **k: Failing(real_fdopen(*a, **k)))
    else:
        monkeypatch.setattr(tempfile if where == "tempfile" else os, name, fail)
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "results.jsonl"
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(dict(RECORD, id=f"r{i}")) + "\n" for i in range(20)),
                   encoding="utf-8")
    res = runner.invoke(app, ["screen", str(src), "--mode", "rules", "--no-progress",
                              "-o", str(out)])
    assert_clean_failure(res, f"cannot write {out}", os.strerror(code))
    assert list(folder.iterdir()) == []


def test_output_path_under_a_file_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    res = cli_screen(tmp_path, "--mode", "rules", "-o", str(blocker / "results.jsonl"))
    assert_clean_failure(res, "cannot write")
