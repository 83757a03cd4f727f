"""Dependencies the routes share, as `Annotated` aliases (SessionDep, CurrentUser, ...).

The screening service, the database and the settings are made once at start-up (see
`api.main.create_app`) and read from `app.state`; nothing here loads a model.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.auth import Principal, Role, TokenCache, verify_token
from api.screening import Screening
from api.settings import Settings
from screener.audit.db import Database

__all__ = ["AdminUser", "AuditorUser", "CurrentUser", "DatabaseDep", "ManagerUser",
           "ResearcherUser", "ScreeningDep", "SessionDep", "SettingsDep", "TokenCacheDep",
           "require"]

_bearer = HTTPBearer(auto_error=False, description="A token from `screener token create`.")


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_screening(request: Request) -> Screening:
    screening: Screening = request.app.state.screening
    return screening


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]
ScreeningDep = Annotated[Screening, Depends(get_screening)]


def get_session(db: DatabaseDep) -> Iterator[Session]:
    """One transaction per request, committed when the route returns (before the response
    is sent), rolled back if it raises."""
    with db.session() as s:
        yield s


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def _unauthorised(message: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=message,
                         headers={"WWW-Authenticate": "Bearer"})


async def get_token_cache(request: Request) -> TokenCache:
    cache: TokenCache = request.app.state.token_cache
    return cache


TokenCacheDep = Annotated[TokenCache, Depends(get_token_cache)]


def _check(db: Database, token: str) -> Principal | None:
    with db.session() as s:
        return verify_token(s, token)


async def current_user(db: DatabaseDep, cache: TokenCacheDep,
                       credentials: Annotated[HTTPAuthorizationCredentials | None,
                                              Depends(_bearer)]) -> Principal:
    """The caller, from `Authorization: Bearer TOKEN`; 401 without a live token. (Async,
    so a cached token costs no trip to the thread pool; the database is asked in one.)"""
    if credentials is None:
        raise _unauthorised("missing bearer token: send 'Authorization: Bearer TOKEN' "
                            "(make one with `screener token create`)")
    token = credentials.credentials
    who = cache.get(token)
    if who is None:
        who = await run_in_threadpool(_check, db, token)
        if who is None:
            raise _unauthorised("invalid or revoked token")
        cache.put(token, who)
    return who


CurrentUser = Annotated[Principal, Depends(current_user)]


def require(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets through the given roles (and admin); 403 for the others."""
    allowed = (*roles, "admin")

    async def check(who: CurrentUser) -> Principal:
        if who.role not in allowed:
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                detail=f"the {who.role} role cannot use this route "
                                f"(allowed: {', '.join(allowed)})")
        return who

    check.__name__ = f"require_{'_'.join(roles) or 'admin'}"
    return check


ManagerUser = Annotated[Principal, Depends(require("manager"))]
AuditorUser = Annotated[Principal, Depends(require("auditor"))]
ResearcherUser = Annotated[Principal, Depends(require("researcher"))]
AdminUser = Annotated[Principal, Depends(require())]

