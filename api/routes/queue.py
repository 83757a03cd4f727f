"""GET /v1/queue: case files riskiest first (auditor, admin). Logged in the access log."""

from fastapi import APIRouter, Query

from api.deps import AuditorUser, ScreeningDep, SessionDep
from api.schemas import QueueOut
from screener.audit import service
from screener.audit.store import log_access

router = APIRouter(tags=["queue"])


@router.get("/queue", summary="The audit queue: case files riskiest first [auditor]",
            response_model=QueueOut)
def queue(who: AuditorUser, session: SessionDep, screening: ScreeningDep,
          team: str | None = Query(default=None, max_length=200),
          service_: str | None = Query(default=None, alias="service", max_length=200),
          limit: int = Query(default=50, ge=1, le=1000),
          include_reviewed: bool = False) -> QueueOut:
    """Each file's probability of holding a record below good (and an inadequate one),
    why it is ranked where it is, and its records' flagged markers. No record text."""
    items = service.list_queue(session, rubric=screening.rubric, team=team, service=service_,
                               include_reviewed=include_reviewed)
    log_access(session, who.name, "list", "queue", None)
    return QueueOut(total=len(items), files=[it.model_dump(mode="json") for it in items[:limit]],
                    expected_yield=[y.model_dump() for y in service.yield_of(items)])
