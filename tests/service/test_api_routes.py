"""Every route × every role × missing and bad token, in one table; then each route's
behaviour and error paths (401 / 403 / 404 / 413 / 422)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from api_helpers import PLAN, ROLES, Seeded, bearer
from fastapi import FastAPI
from fastapi.testclient import TestClient

from screener.audit.db import Database
from screener.pipeline import Screener

DRAFT = {"doc_type": "cin_plan", "text": PLAN}

# (method, path template, body factory, roles allowed, success status). Paths use
# {file} / {review} / {victim}; admin is allowed everywhere (it is added below).
Body = Callable[[Seeded], Any] | None
ROUTES: list[tuple[str, str, Body, tuple[str, ...], int]] = [
    ("GET", "/health", None, ("none", "bad", *ROLES), 200),
    ("GET", "/v1/me", None, ROLES, 200),
    ("GET", "/v1/markers", None, ROLES, 200),
    ("POST", "/v1/screen", lambda s: DRAFT, ("manager",), 200),
    ("POST", "/v1/screen/batch", lambda s: {"records": [DRAFT, DRAFT]}, ("manager",), 200),
    ("POST", "/v1/hints", lambda s: DRAFT, ("manager",), 200),
    ("GET", "/v1/queue", None, ("auditor",), 200),
    ("GET", "/v1/files/{file}", None, ("auditor",), 200),
    ("POST", "/v1/files/{file}/reviews", lambda s: {"record_id": s.plan_id, "comment": "ok"},
     ("auditor",), 201),
    ("POST", "/v1/files/{file}/reviews/{review}/moderation",
     lambda s: {"grade": "good", "comment": "second look"}, ("auditor",), 201),
    ("GET", "/v1/reports/tables", None, ("researcher",), 200),
    ("GET", "/v1/tokens", None, (), 200),
    ("POST", "/v1/tokens", lambda s: {"name": f"t-{uuid.uuid4().hex[:8]}", "role": "manager"},
     (), 201),
    ("DELETE", "/v1/tokens/{victim}", None, (), 204),
    ("GET", "/v1/access-log", None, (), 200),
]
CALLERS = ("none", "bad", *ROLES)


def _cases() -> list[Any]:
    out = []
    for method, path, body, allowed, ok in ROUTES:
        for caller in CALLERS:
            if caller in allowed or (caller == "admin"):
                want = ok
            elif caller in ("none", "bad"):
                want = 401
            else:
                want = 403
            out.append(pytest.param(method, path, body, caller, want,
                                    id=f"{method} {path} as {caller}"))
    return out


@pytest.fixture(scope="module")
def victim(db: Database) -> str:
    from api.auth import create_token

    with db.session() as s:
        create_token(s, "victim", "manager")
    return "victim"


@pytest.mark.parametrize(("method", "path", "body", "caller", "want"), _cases())
def test_route_role_table(client: TestClient, tokens: dict[str, str], seeded: Seeded,
                          victim: str, method: str, path: str, body: Body, caller: str,
                          want: int) -> None:
    url = path.format(file=seeded.file_id, review=seeded.review_id, victim=victim)
    headers = {}
    if caller == "bad":
        headers = bearer("scr_" + "x" * 43)
    elif caller != "none":
        headers = bearer(tokens[caller])
    r = client.request(method, url, json=body(seeded) if body else None, headers=headers)
    assert r.status_code == want, r.text
    if want == 401:
        assert r.headers["www-authenticate"] == "Bearer"


def test_table_covers_every_route(app: FastAPI) -> None:
    served = {(m.upper(), path) for path, ops in app.openapi()["paths"].items() for m in ops}
    table = {(m, p.replace("{file}", "{file_id}").replace("{review}", "{review_id}")
              .replace("{victim}", "{name}")) for m, p, *_ in ROUTES}
    assert served == table


def test_auth_header_variants(client: TestClient, tokens: dict[str, str]) -> None:
    tok = tokens["manager"]
    for headers in ({"Authorization": tok}, {"Authorization": f"Basic {tok}"},
                    {"Authorization": "Bearer "}, {"Authorization": f"Bearer {tok}x"},
                    {"Authorization": "Bearer not-even-ours"}):
        assert client.get("/v1/me", headers=headers).status_code == 401
    assert client.get("/v1/me", headers={"Authorization": f"bearer {tok}"}).json() == {
        "name": "manager", "role": "manager"}


def test_screen_is_one_line_of_screener_screen(client: TestClient, tokens: dict[str, str],
                                               screener: Screener) -> None:
    r = client.post("/v1/screen", json={**DRAFT, "id": "p-1"}, headers=bearer(tokens["manager"]))
    assert r.status_code == 200
    assert r.json() == screener.screen_one("cin_plan", PLAN, id="p-1").to_output()


def test_batch_in_order_with_default_ids(client: TestClient, tokens: dict[str, str]) -> None:
    recs = [{"doc_type": "visit", "text": "Kai was seen alone in his bedroom."},
            {**DRAFT, "id": "mine"}]
    r = client.post("/v1/screen/batch", json={"records": recs}, headers=bearer(tokens["manager"]))
    assert r.status_code == 200
    out = r.json()["results"]
    assert [o["id"] for o in out] == ["0", "mine"]
    assert [o["doc_type"] for o in out] == ["visit", "cin_plan"]


def test_hints_vague_goal_ordered_with_spans(client: TestClient, tokens: dict[str, str]) -> None:
    r = client.post("/v1/hints", json=DRAFT, headers=bearer(tokens["manager"]))
    assert r.status_code == 200
    h = r.json()
    order = {"high": 0, "medium": 1, "low": 2}
    assert [f["rank"] for f in h["flags"]] == list(range(1, len(h["flags"]) + 1))
    sev = [order[f["severity"]] for f in h["flags"]]
    assert sev == sorted(sev)
    vague = next(f for f in h["flags"] if f["marker"] == "vague_goal")
    assert vague["kind"] == "concern" and vague["guidance"]
    assert any(PLAN[e["start"]:e["end"]] == e["text"] for e in vague["evidence"])
    concern = [x for x in h["highlights"] if "vague_goal" in x["markers"]]
    assert concern and all(x["kind"] == "concern" for x in concern)
    assert any("appropriate monitoring" in PLAN[x["start"]:x["end"]] for x in concern)
    spans = [(x["start"], x["end"]) for x in h["highlights"]]
    assert spans == sorted(spans) and all(a < b for a, b in spans)
    assert all(spans[i][1] <= spans[i + 1][0] for i in range(len(spans) - 1))
    missing = [f for f in h["flags"] if f["kind"] == "missing"]
    assert missing and all(f["message"].startswith("Missing") for f in missing)


def test_hints_offsets_are_code_points(client: TestClient, tokens: dict[str, str]) -> None:
    text = "👶🏽 Zoë said: " + PLAN
    h = client.post("/v1/hints", json={"doc_type": "cin_plan", "text": text},
                    headers=bearer(tokens["manager"])).json()
    for f in h["flags"]:
        for e in f["evidence"]:
            assert text[e["start"]:e["end"]] == e["text"]


@pytest.mark.parametrize(("body", "field"), [
    ({"doc_type": "letter", "text": "Kai was seen."}, ["body", "doc_type"]),
    ({"doc_type": "visit", "text": "   \n\t"}, ["body", "text"]),
    ({"doc_type": "visit", "text": ""}, ["body", "text"]),
    ({"doc_type": "visit"}, ["body", "text"]),
    ({"text": "Kai was seen."}, ["body", "doc_type"]),
    ({"doc_type": "visit", "text": 12}, ["body", "text"]),
    ({"doc_type": "visit", "text": "x", "colour": "red"}, ["body", "colour"]),
])
@pytest.mark.parametrize("route", ["/v1/screen", "/v1/hints"])
def test_422_names_the_field(client: TestClient, tokens: dict[str, str], route: str,
                             body: dict[str, Any], field: list[str]) -> None:
    r = client.post(route, json=body, headers=bearer(tokens["manager"]))
    assert r.status_code == 422
    assert [e["loc"] for e in r.json()["detail"]] == [field]
    assert all("input" not in e for e in r.json()["detail"])  # never echoed back


def test_422_batch_names_record_and_field(client: TestClient, tokens: dict[str, str]) -> None:
    recs = [DRAFT, {"doc_type": "letter", "text": "x"}]
    r = client.post("/v1/screen/batch", json={"records": recs}, headers=bearer(tokens["manager"]))
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "records", 1, "doc_type"]
    assert "records.1.doc_type" in r.json()["message"]
    r = client.post("/v1/screen/batch", json={"records": []}, headers=bearer(tokens["manager"]))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "records"]


@pytest.mark.parametrize("raw", [b"{", b'{"doc_type": "visit", "text": }', b"\xff\xfe",
                                 b"[]", b"null", b""])
def test_422_malformed_json(client: TestClient, tokens: dict[str, str], raw: bytes) -> None:
    r = client.post("/v1/screen", content=raw, headers={**bearer(tokens["manager"]),
                                                         "Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][0] == "body"


def test_413_record_too_long(client: TestClient, tokens: dict[str, str]) -> None:
    long = {"doc_type": "visit", "text": "Kai was seen. " * 2000}  # 28,000 > 20,000 chars
    for route in ("/v1/screen", "/v1/hints"):
        r = client.post(route, json=long, headers=bearer(tokens["manager"]))
        assert r.status_code == 413
        assert "limit is 20,000" in r.json()["detail"]
    r = client.post("/v1/screen/batch", json={"records": [DRAFT, long]},
                    headers=bearer(tokens["manager"]))
    assert r.status_code == 413 and "records.1.text" in r.json()["detail"]


def test_413_batch_too_big(client: TestClient, tokens: dict[str, str]) -> None:
    r = client.post("/v1/screen/batch", json={"records": [DRAFT] * 6},
                    headers=bearer(tokens["manager"]))
    assert r.status_code == 413
    assert "6 records; the limit is 5" in r.json()["detail"]


def test_413_body_too_big(client: TestClient, tokens: dict[str, str]) -> None:
    r = client.post("/v1/screen", content=b'{"doc_type": "visit", "text": "' + b"a" * 300_000
                    + b'"}', headers={**bearer(tokens["manager"]),
                                      "Content-Type": "application/json"})
    assert r.status_code == 413 and "request body over" in r.json()["detail"]

    def chunks():  # no Content-Length: counted as it arrives
        yield b'{"doc_type": "visit", "text": "'
        for _ in range(40):
            yield b"a" * 10_000
        yield b'"}'

    r = client.post("/v1/screen", content=chunks(), headers={**bearer(tokens["manager"]),
                                                             "Content-Type": "application/json"})
    assert r.status_code == 413


def test_markers(client: TestClient, tokens: dict[str, str]) -> None:
    r = client.get("/v1/markers", headers=bearer(tokens["researcher"]))
    d = r.json()
    assert d["mode"] == "rules" and "cin_plan" in d["doc_types"] and "vague_goal" in d["markers"]
    r = client.get("/v1/markers?doc_type=visit", headers=bearer(tokens["auditor"]))
    assert list(r.json()["doc_types"]) == ["visit"]
    r = client.get("/v1/markers?doc_type=letter", headers=bearer(tokens["auditor"]))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "doc_type"]


def test_queue_file_review_and_moderation(client: TestClient, tokens: dict[str, str],
                                          seeded: Seeded, screener: Screener) -> None:
    auditor = bearer(tokens["auditor"])
    q = client.get("/v1/queue?include_reviewed=true&limit=10", headers=auditor).json()
    assert seeded.file_id in [f["file_id"] for f in q["files"]]
    assert "text" not in str(q["files"][0].keys())
    f = client.get(f"/v1/files/{seeded.pseudonym}", headers=auditor).json()
    assert f["id"] == seeded.file_id and [r["doc_type"] for r in f["records"]] == [
        "cin_plan", "visit"]
    plan = f["records"][0]
    assert "vague_goal" in [x["marker"] for x in plan["result"]["flags"]]

    body = {"record_id": seeded.plan_id, "grade": "inadequate", "comment": "no outcomes",
            "decisions": [{"marker": "vague_goal", "decision": "confirmed"},
                          {"marker": "contingency", "decision": "corrected",
                           "corrected_value": "severity should be medium"}]}
    r = client.post(f"/v1/files/{seeded.file_id}/reviews", json=body, headers=auditor)
    assert r.status_code == 201, r.text
    rv = r.json()
    assert rv["auditor"] == "auditor" and rv["completed"] and rv["grade"] == "inadequate"
    assert rv["decisions"]["vague_goal"]["decision"] == "confirmed"
    # a second save changes one decision; the newest counts
    r = client.post(f"/v1/files/{seeded.file_id}/reviews", headers=auditor, json={
        "record_id": seeded.plan_id, "decisions": [{"marker": "vague_goal",
                                                    "decision": "rejected"}]})
    assert r.json()["decisions"]["vague_goal"]["decision"] == "rejected"
    # moderation by someone else
    r = client.post(f"/v1/files/{seeded.file_id}/reviews/{rv['id']}/moderation",
                    json={"grade": "requires_improvement"}, headers=bearer(tokens["admin"]))
    assert r.status_code == 201 and r.json()["moderations"][0]["moderator"] == "admin"
    # ... but not by the reviewer
    r = client.post(f"/v1/files/{seeded.file_id}/reviews/{rv['id']}/moderation",
                    json={"grade": "good"}, headers=auditor)
    assert r.status_code == 422 and "second auditor" in r.json()["detail"][0]["msg"]


@pytest.mark.parametrize(("body", "status", "loc"), [
    ({"record_id": 0}, 422, ["body", "record_id"]),
    ({"record_id": "x"}, 422, ["body", "record_id"]),
    ({"record_id": "PLAN", "grade": "brilliant"}, 422, ["body", "grade"]),
    ({"record_id": "PLAN", "decisions": [{"marker": "vague_goal", "decision": "maybe"}]},
     422, ["body", "decisions", 0, "decision"]),
    ({"record_id": "PLAN", "decisions": [{"marker": "nope", "decision": "confirmed"}]},
     422, ["body", "decisions"]),
    ({"record_id": "PLAN", "decisions": [{"marker": "vague_goal", "decision": "corrected"}]},
     422, ["body", "decisions", 0]),
    ({"record_id": 999_999}, 404, None),
])
def test_review_errors(client: TestClient, tokens: dict[str, str], seeded: Seeded,
                       body: dict[str, Any], status: int, loc: list[Any] | None) -> None:
    if body.get("record_id") == "PLAN":
        body = {**body, "record_id": seeded.plan_id}
    r = client.post(f"/v1/files/{seeded.file_id}/reviews", json=body,
                    headers=bearer(tokens["auditor"]))
    assert r.status_code == status, r.text
    if loc is not None:
        assert r.json()["detail"][0]["loc"] == loc


def test_file_404s(client: TestClient, tokens: dict[str, str], seeded: Seeded) -> None:
    auditor = bearer(tokens["auditor"])
    assert client.get("/v1/files/987654", headers=auditor).status_code == 404
    assert client.get("/v1/files/F-nope", headers=auditor).status_code == 404
    r = client.post("/v1/files/987654/reviews", json={"record_id": seeded.plan_id},
                    headers=auditor)
    assert r.status_code == 404
    r = client.post(f"/v1/files/{seeded.file_id}/reviews/987654/moderation",
                    json={"grade": "good"}, headers=auditor)
    assert r.status_code == 404


def test_record_of_another_file_is_404(client: TestClient, tokens: dict[str, str], db: Database,
                                       screener: Screener, seeded: Seeded) -> None:
    from api_helpers import seed

    other = seed(db, screener)
    r = client.post(f"/v1/files/{seeded.file_id}/reviews", json={"record_id": other.plan_id},
                    headers=bearer(tokens["auditor"]))
    assert r.status_code == 404


def test_reports_aggregate_and_pseudonymised(client: TestClient, tokens: dict[str, str],
                                             seeded: Seeded) -> None:
    r = client.get("/v1/reports/tables?by=worker", headers=bearer(tokens["researcher"]))
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["records"] >= 2 and "gaps" in d["tables"] and "grades_by_period" in d["tables"]
    assert "gap_examples" not in d["tables"]
    assert "Sam Riley" not in r.text and "Kai" not in r.text and "appropriate" not in r.text
    r = client.get("/v1/reports/tables?table=gaps", headers=bearer(tokens["researcher"]))
    assert list(r.json()["tables"]) == ["gaps"]
    r = client.get("/v1/reports/tables?table=nope", headers=bearer(tokens["researcher"]))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "table"]
    r = client.get("/v1/reports/tables?by=child", headers=bearer(tokens["researcher"]))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "by"]


def test_tokens_admin(client: TestClient, tokens: dict[str, str]) -> None:
    admin = bearer(tokens["admin"])
    r = client.post("/v1/tokens", json={"name": "temp-manager", "role": "manager"}, headers=admin)
    assert r.status_code == 201
    made = r.json()["token"]
    assert client.get("/v1/me", headers=bearer(made)).json()["role"] == "manager"
    listed = client.get("/v1/tokens", headers=admin).json()
    assert "temp-manager" in [t["name"] for t in listed] and made not in str(listed)
    r = client.post("/v1/tokens", json={"name": "temp-manager", "role": "admin"}, headers=admin)
    assert r.status_code == 422 and "exists already" in r.text
    r = client.post("/v1/tokens", json={"name": "x", "role": "overlord"}, headers=admin)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "role"]
    assert client.delete("/v1/tokens/temp-manager", headers=admin).status_code == 204
    assert client.get("/v1/me", headers=bearer(made)).status_code == 401
    assert client.delete("/v1/tokens/temp-manager", headers=admin).status_code == 404


def test_pages_and_docs_served_without_network(client: TestClient) -> None:
    for path in ("/signin", "/check", "/queue", "/files/1", "/docs"):
        r = client.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert "http://" not in r.text and "https://" not in r.text, path
    for name in ("app.js", "check.js", "queue.js", "review.js", "signin.js", "app.css"):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and "https://" not in r.text
    assert client.get("/", follow_redirects=False).headers["location"] == "/check"
    spec = client.get("/openapi.json").json()
    assert "/v1/hints" in spec["paths"] and "HTTPBearer" in spec["components"]["securitySchemes"]


def test_cors_off_by_default(client: TestClient) -> None:
    r = client.options("/v1/screen", headers={"Origin": "http://evil.example",
                                              "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in r.headers
