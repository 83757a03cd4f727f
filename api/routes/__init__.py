"""One APIRouter per resource; `api_router` gathers the /v1 ones."""

from fastapi import APIRouter

from api.routes import access_log, files, markers, queue, reports, screen, tokens

api_router = APIRouter(prefix="/v1")
for _module in (screen, markers, queue, files, reports, tokens, access_log):
    api_router.include_router(_module.router)

__all__ = ["api_router"]
