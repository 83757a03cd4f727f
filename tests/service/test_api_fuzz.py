"""A schema-driven fuzz of the OpenAPI description (schemathesis): no input makes a 500.

Bounded: a few dozen generated requests per operation, all sent as an admin (who may call
every route, so the fuzz reaches the handlers rather than stopping at 403), in process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from api_helpers import bearer, seed, settings_for
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from api import create_app
from api.auth import create_token
from screener.pipeline import Screener

SCHEMA = schemathesis.openapi.from_dict(create_app(settings_for(Path("."))).openapi())
EXAMPLES = 20


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory: pytest.TempPathFactory,
                screener: Screener) -> Any:
    app = create_app(settings_for(tmp_path_factory.mktemp("fuzz")), screener=screener)
    with TestClient(app, raise_server_exceptions=False) as c:
        with app.state.db.session() as s:
            token = create_token(s, "fuzz-admin-7f3c9d", "admin")
        seed(app.state.db, screener)
        yield c, token


@SCHEMA.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_input_makes_a_500(case: Any, fuzz_client: Any) -> None:
    client, token = fuzz_client
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=bearer(token))
    method, url = kwargs.pop("method"), kwargs.pop("url")
    body: dict[str, Any] = {}
    if "json" in kwargs:
        body["json"] = kwargs.pop("json")
    if "data" in kwargs:
        body["content"] = kwargs.pop("data")
    r = client.request(method, url, params=kwargs.get("params"), headers=kwargs.get("headers"),
                       **body)
    assert r.status_code < 500, f"{method} {url} -> {r.status_code}: {r.text[:300]}"
    if r.status_code == 422:
        assert "input" not in str([list(e) for e in r.json().get("detail", [])
                                   if isinstance(e, dict)])
