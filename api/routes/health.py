"""GET /health: is the service up (no auth, no data)."""

from fastapi import APIRouter

from screener import __version__

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness (no auth)")
def health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}
