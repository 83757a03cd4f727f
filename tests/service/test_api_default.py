"""The default app (no mode given) loads the best installed models once, at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_helpers import PLAN, bearer, make_tokens
from fastapi.testclient import TestClient

import screener.pipeline
from api import Settings, create_app
from screener.classifiers.artefacts import available_modes
from screener.pipeline import Screener, default_mode


def test_default_app_loads_models_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[Screener] = []

    class Counting(Screener):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            made.append(self)

    monkeypatch.setattr(screener.pipeline, "Screener", Counting)
    monkeypatch.delenv("SCREENER_MODE", raising=False)
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'd.db'}"))
    assert made == []  # nothing loads before start-up
    with TestClient(app) as c:
        assert len(made) == 1
        tok = make_tokens(app.state.db)["manager"]
        modes = set()
        for _ in range(3):
            r = c.post("/v1/screen", json={"doc_type": "cin_plan", "text": PLAN},
                       headers=bearer(tok))
            assert r.status_code == 200
            modes.add(r.json()["mode"])
        r = c.post("/v1/hints", json={"doc_type": "cin_plan", "text": PLAN}, headers=bearer(tok))
        modes.add(r.json()["mode"])
    assert len(made) == 1
    assert modes == {default_mode()}
    if {"fast", "full"} & available_modes():
        assert modes != {"rules"}  # trained models are installed: they are the ones used
