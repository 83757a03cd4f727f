"""GET /v1/markers: the rubric in force (any signed-in role)."""

from typing import Any

from fastapi import APIRouter, Query

from api.deps import CurrentUser, ScreeningDep
from api.errors import field_error
from screener.config.describe import rubric_as_dict

router = APIRouter(tags=["markers"])


@router.get("/markers",
            summary="Markers and grading rules in force, and where each came from [any role]")
def markers(_: CurrentUser, screening: ScreeningDep,
            doc_type: str | None = Query(default=None, max_length=80,
                                         description="Only this record type.")
            ) -> dict[str, Any]:
    rubric = screening.rubric
    if doc_type is not None and doc_type not in rubric.doc_types:
        raise field_error(("query", "doc_type"),
                          f"unknown doc_type {doc_type[:40]!r} (allowed: "
                          f"{', '.join(rubric.doc_types)})")
    return {**rubric_as_dict(rubric, doc_type), "mode": screening.mode}
