"""Bearer tokens: made once, stored only as a hash, checked in constant time.

A token is `scr_` + 43 URL-safe characters (256 random bits). The database keeps its
SHA-256 (`api_tokens.token_hash`): with that much entropy a salted, slow hash adds
nothing, and a stolen table cannot be turned back into tokens. A request's token is
hashed, the row is found by that hash, and the stored and computed hashes are compared
with `hmac.compare_digest`, so nothing about a stored token leaks through timing.

Roles: manager (screen drafts, hints), auditor (queue, files, reviews), researcher
(aggregate pseudonymised reports), admin (tokens, rubric, everything).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal, cast

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from screener.audit.models import ROLES, ApiToken, utcnow
from screener.audit.store import log_access

__all__ = ["PREFIX", "ROLES", "Principal", "Role", "TokenCache", "TokenError", "create_token",
           "hash_token", "list_tokens", "revoke_token", "verify_token"]

Role = Literal["manager", "auditor", "researcher", "admin"]
PREFIX = "scr_"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,119}$")


class TokenError(ValueError):
    """A token that cannot be made or revoked as asked (says why)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's name (written to the access log) and role."""

    name: str
    role: Role


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, name: str, role: str, actor: str | None = None) -> str:
    """Make a token for `name` with `role`; returns the token (shown once, never stored)."""
    name = name.strip()
    if not _NAME_RE.match(name):
        raise TokenError("a token name is 1-120 letters, digits, spaces or . _ @ - "
                         f"(got {name!r})")
    if role not in ROLES:
        raise TokenError(f"unknown role {role!r} (allowed: {', '.join(ROLES)})")
    if session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
        raise TokenError(f"a token named {name!r} exists already (names are never reused, "
                         "so the access log stays unambiguous): choose another name")
    token = PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, role=role, token_hash=hash_token(token),
                         created_at=utcnow()))
    try:
        session.flush()
    except IntegrityError as e:  # a concurrent create with the same name
        raise TokenError(f"a token named {name!r} exists already") from e
    log_access(session, actor or "cli", "create", "api_token", name)
    return token


def revoke_token(session: Session, name: str, actor: str | None = None) -> bool:
    """Revoke the token called `name`; False when there is no such live token."""
    row = session.scalar(select(ApiToken).where(ApiToken.name == name.strip()))
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    log_access(session, actor or "cli", "revoke", "api_token", row.name)
    return True


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))


def verify_token(session: Session, token: str) -> Principal | None:
    """The live token's principal, or None for an unknown, malformed or revoked token."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    digest = hash_token(token)
    row = session.execute(select(ApiToken.token_hash, ApiToken.name, ApiToken.role,
                                 ApiToken.revoked_at)
                          .where(ApiToken.token_hash == digest)).first()
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    if row.revoked_at is not None:
        return None
    return Principal(name=row.name, role=cast(Role, row.role))


class TokenCache:
    """Live tokens seen in the last `ttl` seconds, by hash, so a busy service does not ask
    the database on every request (on SQLite every transaction takes the write lock).

    Only successes are kept (at most `size`, oldest dropped). A token revoked through this
    service is dropped at once; one revoked elsewhere (`screener token revoke`) stops
    working within `ttl` seconds. `ttl` 0 turns the cache off.
    """

    def __init__(self, ttl: float, size: int = 1024):
        self.ttl, self.size = ttl, size
        self._items: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str) -> Principal | None:
        if self.ttl <= 0:
            return None
        key = hash_token(token)
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                return None
            if hit[0] < time.monotonic():
                del self._items[key]
                return None
            return hit[1]

    def put(self, token: str, who: Principal) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            self._items[hash_token(token)] = (time.monotonic() + self.ttl, who)
            self._items.move_to_end(hash_token(token))
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def forget(self, name: str) -> None:
        with self._lock:
            for key in [k for k, (_, p) in self._items.items() if p.name == name]:
                del self._items[key]
