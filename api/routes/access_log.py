"""GET /v1/access-log: who read or wrote which case file, and when (admin)."""

from fastapi import APIRouter, Query
from sqlalchemy import select

from api.deps import AdminUser, SessionDep
from api.schemas import AccessEntry
from screener.audit.models import AccessLog

router = APIRouter(tags=["access log"])


@router.get("/access-log", summary="The access log, newest first [admin]",
            response_model=list[AccessEntry])
def access_log(_: AdminUser, session: SessionDep,
               who: str | None = Query(default=None, max_length=120),
               object_type: str | None = Query(default=None, max_length=40),
               object_id: str | None = Query(default=None, max_length=200),
               limit: int = Query(default=100, ge=1, le=10_000)) -> list[AccessEntry]:
    q = select(AccessLog).order_by(AccessLog.id.desc()).limit(limit)
    if who is not None:
        q = q.where(AccessLog.who == who)
    if object_type is not None:
        q = q.where(AccessLog.object_type == object_type)
    if object_id is not None:
        q = q.where(AccessLog.object_id == object_id)
    return [AccessEntry(who=a.who, action=a.action, object_type=a.object_type,
                        object_id=a.object_id, at=a.at) for a in session.scalars(q)]
