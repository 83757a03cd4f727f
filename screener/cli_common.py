"""What every `screener` sub-command shares: the error exit, the mode choice, the
database option and loading a Screener without a traceback.

Kept free of heavy imports: every command module imports it at start-up.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from screener.pipeline import Screener


class Mode(StrEnum):
    rules = "rules"
    fast = "fast"
    full = "full"


DbOpt = Annotated[str | None, typer.Option(
    "--db", help="Audit database URL. Default: $SCREENER_DATABASE_URL, else "
    "sqlite:///screener.db (an SQLite file in the working directory). PostgreSQL: "
    "postgresql+psycopg://user@host:5432/dbname.", show_default=False)]


def fail(message: str, code: int = 2) -> typer.Exit:
    """Say what went wrong on stderr and give the exit to raise (no traceback)."""
    typer.echo(f"screener: {message}", err=True)
    return typer.Exit(code)


def load_screener(rubric: Path | None, mode: Mode | None) -> Screener:
    """A Screener, or a clear exit: a broken rubric, missing or refused models (a failed
    hash check is a RuntimeError) or an unknown mode."""
    from screener.config.loader import RubricError
    from screener.pipeline import Screener

    try:
        return Screener(rubric=rubric, mode=mode.value if mode else None)
    except (RubricError, FileNotFoundError, ValueError, RuntimeError) as e:
        raise fail(str(e)) from e
