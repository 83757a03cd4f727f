"""`screener serve` and `screener token create|revoke|list`.

Registered on the main `screener` app by `register(app)`. Heavy imports (FastAPI,
uvicorn, the models) happen inside the commands, so the `screener` command starts fast.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from screener.cli_common import DbOpt, fail

if TYPE_CHECKING:
    from screener.audit.db import Database

__all__ = ["register"]


class RoleOpt(StrEnum):
    manager = "manager"
    auditor = "auditor"
    researcher = "researcher"
    admin = "admin"


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on (loopback by "
                                      "default; put a TLS proxy in front for anything else).")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port.")] = 8000,
    db: DbOpt = None,
    mode: Annotated[str | None, typer.Option(
        "--mode", help="rules, fast or full (default: $SCREENER_MODE, else the most accurate "
        "mode installed).", show_default=False)] = None,
    rubric: Annotated[str | None, typer.Option(
        "--rubric", help="An authority rubric YAML (default: $SCREENER_RUBRIC, else the "
        "spec's rubric).", show_default=False)] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn log level.")]
    = "info",
) -> None:
    """Run the web service and pages (http://HOST:PORT/check, /queue, /docs).

    Every route but /health needs a token from `screener token create`. Limits and other
    settings come from SCREENER_* environment variables (see api/settings.py).
    """
    import uvicorn
    from pydantic import ValidationError

    from api.main import create_app
    from api.settings import Settings

    overrides = {k: v for k, v in (("database_url", db), ("mode", mode), ("rubric", rubric))
                 if v is not None}
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as e:
        raise fail(f"bad setting: {e.errors()[0]['loc']}: {e.errors()[0]['msg']}") from e
    typer.echo(f"screener: serving on http://{host}:{port}/ (pages: /check, /queue; "
               "API docs: /docs)", err=True)
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level,
                server_header=False)


token_app = typer.Typer(help="Make and revoke API tokens (only their hashes are stored).",
                        no_args_is_help=True)


def _database(url: str | None) -> Database:
    from screener.audit.db import Database, DatabaseError

    try:
        return Database(url)
    except DatabaseError as e:
        raise fail(str(e), 1) from e


@token_app.command("create")
def token_create(
    role: Annotated[RoleOpt, typer.Option("--role", help="manager: screen drafts and hints; "
                                          "auditor: queue, files, reviews; researcher: "
                                          "aggregate pseudonymised reports; admin: all.",
                                          show_default=False)],
    name: Annotated[str, typer.Option("--name", help="Who holds it (written to the access "
                                      "log); never reused.", show_default=False)],
    db: DbOpt = None,
) -> None:
    """Make a token and print it once: it cannot be shown again."""
    from api.auth import TokenError, create_token

    database = _database(db)
    try:
        with database.session() as s:
            token = create_token(s, name, role.value)
    except TokenError as e:
        raise fail(str(e)) from e
    finally:
        database.dispose()
    typer.echo(token)
    typer.echo(f"screener: token for {name.strip()!r} ({role.value}) made; keep it safe, it "
               "is not shown again", err=True)


@token_app.command("revoke")
def token_revoke(name: Annotated[str, typer.Argument(help="The token's name.")],
                 db: DbOpt = None) -> None:
    """Revoke a token. A running server notices within SCREENER_AUTH_CACHE_SECONDS (5 s by
    default); revoking through the API (DELETE /v1/tokens/NAME) takes effect at once."""
    from api.auth import revoke_token

    database = _database(db)
    try:
        with database.session() as s:
            done = revoke_token(s, name)
    finally:
        database.dispose()
    if not done:
        raise fail(f"no live token named {name!r}", 1)
    typer.echo(f"screener: token {name!r} revoked", err=True)


@token_app.command("list")
def token_list(db: DbOpt = None) -> None:
    """The tokens' names, roles and dates (never the tokens)."""
    from api.auth import list_tokens

    database = _database(db)
    try:
        with database.session() as s:
            rows = [(t.name, t.role, t.created_at, t.revoked_at) for t in list_tokens(s)]
    finally:
        database.dispose()
    for name, role, made, revoked in rows:
        state = f"revoked {revoked:%Y-%m-%d %H:%M}" if revoked else "live"
        typer.echo(f"{name}\t{role}\t{made:%Y-%m-%d %H:%M}\t{state}")


def register(app: typer.Typer) -> None:
    """Add `serve` and `token` to the `screener` app."""
    app.command("serve")(serve)
    app.add_typer(token_app, name="token")
