"""Tokens stored hashed and compared in constant time; the access log records every read
and write of a case file without text; no record text in any log line; the CLI's token
commands."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from pathlib import Path

import pytest
from api_helpers import Seeded, bearer, seed, settings_for
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from api import create_app
from api.auth import verify_token
from screener.audit.db import Database
from screener.audit.models import AccessLog, ApiToken
from screener.pipeline import Screener

PLANTED = "Zephyrine Quonsettworth disclosed the blue caravan incident"


def test_tokens_stored_only_as_hashes(db: Database, tokens: dict[str, str]) -> None:
    with db.session() as s:
        rows = {t.name: t.token_hash for t in s.scalars(select(ApiToken))}
    for role, token in tokens.items():
        assert rows[role] == hashlib.sha256(token.encode()).hexdigest()
        assert token not in rows.values()
    raw = Path(str(db.url.database)).read_bytes()
    for token in tokens.values():
        assert token.encode() not in raw


def test_tokens_compared_in_constant_time(db: Database, tokens: dict[str, str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr("api.auth.hmac.compare_digest", spy)
    with db.session() as s:
        who = verify_token(s, tokens["auditor"])
    assert who is not None and who.role == "auditor"
    assert calls == [(hashlib.sha256(tokens["auditor"].encode()).hexdigest(),) * 2]


def test_access_log_every_case_file_read_and_write_without_text(
        client: TestClient, tokens: dict[str, str], db: Database, screener: Screener) -> None:
    s1 = seed(db, screener)
    auditor, admin = bearer(tokens["auditor"]), bearer(tokens["admin"])
    assert client.get(f"/v1/files/{s1.file_id}", headers=auditor).status_code == 200
    r = client.post(f"/v1/files/{s1.file_id}/reviews", headers=auditor, json={
        "record_id": s1.plan_id, "grade": "inadequate", "comment": PLANTED,
        "decisions": [{"marker": "vague_goal", "decision": "confirmed",
                       "evidence": "appropriate monitoring and support"}]})
    assert r.status_code == 201
    review_id = r.json()["id"]
    r = client.post(f"/v1/files/{s1.file_id}/reviews/{review_id}/moderation", headers=admin,
                    json={"grade": "inadequate", "comment": PLANTED})
    assert r.status_code == 201
    assert client.get("/v1/queue", headers=auditor).status_code == 200
    with db.session() as s:
        log = [(a.who, a.action, a.object_type, a.object_id, a.at) for a in
               s.scalars(select(AccessLog).order_by(AccessLog.id))]
    assert ("auditor", "read", "case_file", str(s1.file_id)) in [x[:4] for x in log]
    assert ("auditor", "review", "record", str(s1.plan_id)) in [x[:4] for x in log]
    assert ("admin", "moderate", "review", str(review_id)) in [x[:4] for x in log]
    assert ("auditor", "list", "queue", None) in [x[:4] for x in log]
    assert all(x[4] is not None for x in log)
    flat = " ".join(str(v) for row in log for v in row)
    for fragment in (PLANTED, "appropriate monitoring", "Kai", "Sam Riley"):
        assert fragment not in flat
    # the admin's view of the log says the same, without text
    r = client.get(f"/v1/access-log?object_type=case_file&object_id={s1.file_id}",
                   headers=admin)
    assert [e["action"] for e in r.json()] == ["read"]


def test_no_record_text_in_any_log_line(api_dir: Path, screener: Screener,
                                        caplog: pytest.LogCaptureFixture,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(settings_for(api_dir / "logs"), screener=screener)
    caplog.set_level(logging.DEBUG)
    text = f"Plan for Kai. {PLANTED}. Kai will receive appropriate monitoring and support."
    with TestClient(app, raise_server_exceptions=False) as c:
        from api_helpers import make_tokens

        tok = make_tokens(app.state.db)
        mgr, aud = bearer(tok["manager"]), bearer(tok["auditor"])
        s1 = seed(app.state.db, screener)
        for route in ("/v1/screen", "/v1/hints"):
            assert c.post(route, json={"doc_type": "cin_plan", "text": text},
                          headers=mgr).status_code == 200
            assert c.post(route, json={"doc_type": "letter", "text": text},
                          headers=mgr).status_code == 422
            assert c.post(route, json={"doc_type": "cin_plan", "text": text * 600},
                          headers=mgr).status_code == 413
            assert c.post(route, content=b'{"doc_type": "visit", "text": "' + text.encode(),
                          headers={**mgr, "Content-Type": "application/json"}).status_code == 422
        assert c.post("/v1/screen/batch", json={"records": [{"doc_type": "visit",
                                                             "text": text}]},
                      headers=mgr).status_code == 200
        assert c.post(f"/v1/files/{s1.file_id}/reviews", headers=aud, json={
            "record_id": s1.plan_id, "comment": PLANTED,
            "decisions": [{"marker": "vague_goal", "decision": "confirmed",
                           "evidence": PLANTED}]}).status_code == 422  # not in the record

        def boom(records: list[object]) -> list[object]:
            raise ValueError(f"cannot screen {text!r}")  # a message that quotes the text

        monkeypatch.setattr(app.state.screening.screener, "screen_batch", boom)
        r = c.post("/v1/screen", json={"doc_type": "cin_plan", "text": text}, headers=mgr)
        assert r.status_code == 500 and PLANTED not in r.text
    lines = [rec.getMessage() + (rec.exc_text or "") for rec in caplog.records]
    assert any("unhandled ValueError" in line for line in lines)
    assert not [line for line in lines if "Zephyrine" in line or "caravan" in line]


def test_token_cli_create_list_revoke(tmp_path: Path) -> None:
    from screener.cli import app as cli

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    r = runner.invoke(cli, ["token", "create", "--role", "auditor", "--name", "Ann Auditor",
                            "--db", url])
    assert r.exit_code == 0, r.output
    token = r.stdout.strip()
    assert token.startswith("scr_") and len(token) > 40
    again = runner.invoke(cli, ["token", "create", "--role", "admin", "--name", "Ann Auditor",
                                "--db", url])
    assert again.exit_code == 2 and "exists already" in again.output
    bad = runner.invoke(cli, ["token", "create", "--role", "god", "--name", "x", "--db", url])
    assert bad.exit_code != 0
    listed = runner.invoke(cli, ["token", "list", "--db", url])
    assert "Ann Auditor\tauditor" in listed.stdout and token not in listed.stdout
    db = Database(url)
    try:
        with db.session() as s:
            assert verify_token(s, token) is not None
            assert s.scalar(select(ApiToken.token_hash)) == hashlib.sha256(
                token.encode()).hexdigest()
        r = runner.invoke(cli, ["token", "revoke", "Ann Auditor", "--db", url])
        assert r.exit_code == 0, r.output
        with db.session() as s:
            assert verify_token(s, token) is None
    finally:
        db.dispose()
    r = runner.invoke(cli, ["token", "revoke", "Ann Auditor", "--db", url])
    assert r.exit_code == 1 and "no live token" in r.output


def test_revoked_token_is_refused_at_once(client: TestClient, app: FastAPI,
                                          seeded: Seeded) -> None:
    from api.auth import create_token, revoke_token

    db: Database = app.state.db
    with db.session() as s:
        tok = create_token(s, "short-lived", "auditor")
    assert client.get(f"/v1/files/{seeded.file_id}", headers=bearer(tok)).status_code == 200
    with db.session() as s:
        assert revoke_token(s, "short-lived")
    assert client.get(f"/v1/files/{seeded.file_id}", headers=bearer(tok)).status_code == 401


def test_serve_command_is_registered() -> None:
    from screener.cli import app as cli

    r = CliRunner().invoke(cli, ["serve", "--help"])
    assert r.exit_code == 0 and "--host" in r.output and "--port" in r.output


def test_token_cache_spares_the_database_and_honours_revocation(
        api_dir: Path, screener: Screener, monkeypatch: pytest.MonkeyPatch) -> None:
    import api.deps

    app = create_app(settings_for(api_dir / "cache", auth_cache_seconds=0.5), screener=screener)
    checks: list[str] = []
    real = api.deps.verify_token

    def counting(session: object, token: str) -> object:
        checks.append(token)
        return real(session, token)  # type: ignore[arg-type]

    monkeypatch.setattr(api.deps, "verify_token", counting)
    with TestClient(app) as c:
        from api_helpers import make_tokens

        tok = make_tokens(app.state.db)
        for _ in range(5):
            assert c.get("/v1/me", headers=bearer(tok["manager"])).status_code == 200
        assert len(checks) == 1  # then served from the cache
        for _ in range(3):  # failures are never cached
            assert c.get("/v1/me", headers=bearer("scr_" + "B" * 43)).status_code == 401
        assert len(checks) == 4
        # revoked through the API: refused at once
        r = c.delete("/v1/tokens/manager", headers=bearer(tok["admin"]))
        assert r.status_code == 204
        assert c.get("/v1/me", headers=bearer(tok["manager"])).status_code == 401
        # revoked elsewhere (the CLI): refused once the cache entry expires
        assert c.get("/v1/me", headers=bearer(tok["auditor"])).status_code == 200
        from api.auth import revoke_token

        with app.state.db.session() as s:
            revoke_token(s, "auditor")
        time.sleep(0.6)
        assert c.get("/v1/me", headers=bearer(tok["auditor"])).status_code == 401
