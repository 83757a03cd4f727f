"""Screening drafts: POST /v1/screen, /v1/screen/batch and /v1/hints (manager, admin).

Nothing here is stored: drafts are not case files. The text is never logged.
"""

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import ManagerUser, ScreeningDep
from api.schemas import BatchIn, BatchOut, DraftIn, HintsOut, ScreenIn
from screener.schemas import ScreenResult

router = APIRouter(tags=["screen"])

_ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "Missing, invalid or revoked token"},
    403: {"description": "The token's role cannot use this route"},
    413: {"description": "A record or the batch is over the configured limit"},
    422: {"description": "Malformed JSON, unknown doc_type, empty text (the field is named)"},
}


@router.post("/screen", summary="Screen one record [manager]",
             responses={200: {"model": ScreenResult}, **_ERRORS}, response_model=None)
async def screen_one(body: ScreenIn, _: ManagerUser, screening: ScreeningDep) -> JSONResponse:
    """One record → the same object as one line of `screener screen` output: grade,
    grade probabilities, every marker of the type with evidence, and flags."""
    return JSONResponse(await screening.screen_one(body))


@router.post("/screen/batch", summary="Screen a batch of records [manager]",
             responses={200: {"model": BatchOut}, **_ERRORS}, response_model=None)
async def screen_batch(body: BatchIn, _: ManagerUser, screening: ScreeningDep) -> JSONResponse:
    """Up to the configured batch size of records, screened together; the results come
    back in order. Any invalid record fails the whole batch with a 422 naming it
    (`records.N.field`), before anything is screened."""
    return JSONResponse({"results": await screening.screen_batch(body.records)})


@router.post("/hints", summary="Hints on a draft, most important first [manager]",
             response_model=HintsOut, responses=_ERRORS)
async def hints(body: DraftIn, _: ManagerUser, screening: ScreeningDep) -> HintsOut:
    """For a draft plan or assessment before it is authorised: the likely grade, the
    flags ordered by importance with their evidence spans and what good looks like, and
    the text's evidence as non-overlapping highlights by marker."""
    return await screening.hints(body)
