"""`create_app(settings)`: the FastAPI app over the library and the audit database.

The Screener (rubric and models) and the database (migrated to head) are made once, at
start-up, in the lifespan; every request shares them. Record text never reaches a log:
validation errors do not echo input, and an unexpected error is logged by its type and
where it happened only (an exception's message may quote the text).
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import TokenCache
from api.errors import clean_errors, summary
from api.routes import api_router
from api.routes import health as health_routes
from api.routes import pages as page_routes
from api.screening import Screening
from api.settings import Settings
from screener import __version__

__all__ = ["create_app"]

log = logging.getLogger("api")
STATIC = Path(__file__).resolve().parent / "static"

DESCRIPTION = """Screens children's social care case records for recording quality.

Every route but `/health` needs `Authorization: Bearer TOKEN` (make one with
`screener token create --role ROLE --name NAME`). Roles: **manager** (screen, hints),
**auditor** (queue, files, reviews), **researcher** (aggregate pseudonymised reports),
**admin** (tokens, access log, everything; admin passes every role check). The role
each route needs is in [brackets] after its summary. Flags are hints: humans decide.
"""


def _where(exc: BaseException) -> str:
    """file:line of the innermost frame, without the exception's message."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return "?"
    return f"{Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}"


class GuardMiddleware:
    """Refuses request bodies over the limit (413, before they are read in full), and
    turns an unexpected error into a 500 logged without its message or any request data."""

    def __init__(self, app: ASGIApp, max_body_bytes: int):
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def _send_json(self, send: Send, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        too_big = {"detail": f"request body over {limit:,} bytes (SCREENER_MAX_BODY_BYTES)"}
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    if int(value) > limit:
                        await self._send_json(send, 413, too_big)
                        return
                except ValueError:
                    await self._send_json(send, 400, {"detail": "bad Content-Length"})
                    return
        seen = 0
        started = False
        refused = False

        async def limited_receive() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:  # answer now; the app sees the client go away
                    refused = True
                    if not started:
                        await tracking_send_raw(413, too_big)
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send_raw(status: int, body: dict[str, Any]) -> None:
            nonlocal started
            started = True
            await self._send_json(send, status, body)

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except Exception as exc:  # never let the server log the message (it may quote text)
            if refused:
                return
            log.error("unhandled %s at %s on %s %s", type(exc).__name__, _where(exc),
                      scope.get("method"), scope.get("path"))
            if not started:
                await self._send_json(send, 500, {"detail": "internal error"})


def create_app(settings: Settings | None = None, *, screener: Any | None = None) -> FastAPI:
    """The app. `screener`: an already-loaded Screener to use instead of loading one from
    the settings (tests share one)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from screener.audit.db import Database
        from screener.pipeline import Screener

        db = Database(settings.database_url)
        # A server lives for months on varied text: keep spaCy's string store bounded.
        scr = screener or Screener(rubric=settings.rubric, mode=settings.mode,
                                   models_dir=settings.models_dir, bounded_memory=True)
        app.state.db = db
        app.state.token_cache = TokenCache(settings.auth_cache_seconds)
        app.state.screening = Screening(scr, settings.max_record_chars,
                                        settings.max_batch_size,
                                        settings.screen_batch_records)
        app.state.report_key = (settings.pseudonym_key.encode() if settings.pseudonym_key
                                else secrets.token_bytes(32))
        log.info("screener service ready: mode %s, rubric %s, database %s", scr.mode,
                 scr.rubric.label, db.display_url)
        app.state.screening.start()
        try:
            yield
        finally:
            app.state.screening.stop()
            db.dispose()

    app = FastAPI(title="Case-record quality screener", version=__version__,
                  description=DESCRIPTION, lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json")
    app.state.settings = settings

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = clean_errors(exc.errors())
        return JSONResponse(status_code=422,
                            content={"detail": errors, "message": summary(errors)})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        content: dict[str, Any] = {"detail": exc.detail}
        if isinstance(exc.detail, list):
            content["message"] = summary(exc.detail)
        return JSONResponse(status_code=exc.status_code, content=content,
                            headers=getattr(exc, "headers", None))

    app.include_router(health_routes.router)
    app.include_router(api_router)
    app.include_router(page_routes.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(GuardMiddleware, max_body_bytes=settings.max_body_bytes)
    return app
