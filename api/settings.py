"""The service's configuration: environment variables (prefix `SCREENER_`) or arguments.

    SCREENER_DATABASE_URL     the audit database (default: sqlite:///screener.db)
    SCREENER_MODE             rules | fast | full (default: the best installed)
    SCREENER_RUBRIC           an authority rubric YAML (default: the spec's rubric)
    SCREENER_MAX_RECORD_CHARS, SCREENER_MAX_BATCH_SIZE, SCREENER_MAX_BODY_BYTES
    SCREENER_CORS_ORIGINS     JSON list of origins allowed to call the API (default: none)
    SCREENER_PSEUDONYM_KEY    the key for research reports' pseudonyms (as `screener report`)
    SCREENER_AUTH_CACHE_SECONDS  how long a checked token is trusted (default 5; 0: off)
    SCREENER_SCREEN_BATCH_RECORDS  most records screened together (default 8)
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    """What `create_app` needs. Arguments win over environment variables."""

    model_config = SettingsConfigDict(env_prefix="SCREENER_", extra="ignore",
                                      frozen=True)

    database_url: str | None = Field(
        default=None, description="Audit database URL; None: $SCREENER_DATABASE_URL's "
        "default, an SQLite file screener.db in the working directory.")
    mode: Literal["rules", "fast", "full"] | None = Field(
        default=None, description="Screening mode; None: the most accurate one installed.")
    rubric: str | None = Field(default=None, description="Authority rubric YAML path.")
    models_dir: str | None = Field(default=None, description="Trained models folder.")
    max_record_chars: int = Field(default=200_000, ge=1,
                                  description="Longest record text accepted (characters).")
    max_batch_size: int = Field(default=100, ge=1, description="Most records in one batch.")
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024,
                                description="Largest request body accepted (bytes).")
    screen_batch_records: int = Field(
        default=8, ge=1, le=1000, description="Most records screened together when "
        "requests arrive at once (the worker's batch).")
    cors_origins: list[str] = Field(default_factory=list,
                                    description="Browser origins allowed (CORS off if empty).")
    pseudonym_key: str | None = Field(
        default=None, description="Key for research reports' pseudonyms; None: a random key "
        "per server start (pseudonyms cannot be linked across restarts).")
    auth_cache_seconds: float = Field(
        default=5.0, ge=0, le=300, description="How long a checked token is trusted without "
        "asking the database again; a token revoked by `screener token revoke` stops "
        "working within this time (at once when revoked through the API). 0: off.")
    report_bootstrap: int = Field(default=200, ge=0, le=5000,
                                  description="Bootstrap resamples for kappa intervals.")
