"""Case files and their reviews (auditor, admin). Every read and write is access-logged
(who, what, which file or record, when; never text)."""

from typing import Annotated

from fastapi import APIRouter, Path, status

from api.deps import AuditorUser, ScreeningDep, SessionDep
from api.errors import field_error, not_found
from api.schemas import ModerationIn, ReviewIn
from screener.audit import service
from screener.audit.models import CaseFile, CaseRecord, Review
from screener.audit.schemas import FileView, ReviewView

router = APIRouter(prefix="/files", tags=["files"])

FileRef = Annotated[str, Path(min_length=1, max_length=64,
                              description="The file's number or pseudonym (F-…)")]


def _file(session: SessionDep, file_id: str) -> CaseFile:
    try:
        return service.find_file(session, file_id)
    except service.NotFound as e:
        raise not_found(str(e)) from e


@router.get("/{file_id}", summary="A case file: records, latest results, reviews [auditor]",
            response_model=FileView)
def get_file(who: AuditorUser, session: SessionDep, file_id: FileRef) -> FileView:
    """The file's records oldest first, each with its text, latest screening result
    (flags and evidence) and reviews."""
    try:
        return service.get_file(session, file_id, actor=who.name)
    except service.NotFound as e:
        raise not_found(str(e)) from e


def _grade(grade: str | None, levels: list[str]) -> None:
    if grade is not None and grade not in levels:
        raise field_error(("body", "grade"), f"unknown grade {grade[:40]!r} (allowed: "
                          f"{', '.join(levels)})")


@router.post("/{file_id}/reviews", summary="Record a review of one of the file's records [auditor]",
             response_model=ReviewView, status_code=status.HTTP_201_CREATED)
def add_review(body: ReviewIn, who: AuditorUser, session: SessionDep, screening: ScreeningDep,
               file_id: FileRef) -> ReviewView:
    """Decisions on the record's flags (confirmed / rejected / corrected, or added for a
    miss), and optionally the final grade (which completes the review) and a comment.
    The auditor is the token's name. Send again to change decisions: the newest counts."""
    cf = _file(session, file_id)
    rec = session.get(CaseRecord, body.record_id)
    if rec is None or rec.file_id != cf.id:
        raise not_found(f"no record {body.record_id} in case file {cf.pseudonym}")
    _grade(body.grade, screening.rubric.levels)
    try:
        return service.record_review(session, rec.id, who.name, body.decisions, body.grade,
                                     body.comment, result_id=body.result_id,
                                     rubric=screening.rubric, actor=who.name)
    except service.NotFound as e:
        raise not_found(str(e)) from e
    except service.ReviewError as e:
        raise field_error(("body", "decisions"), str(e)) from e


@router.post("/{file_id}/reviews/{review_id}/moderation",
             summary="Moderate a completed review (a second auditor's grade) [auditor]",
             response_model=ReviewView, status_code=status.HTTP_201_CREATED)
def moderate(body: ModerationIn, who: AuditorUser, session: SessionDep, screening: ScreeningDep,
             file_id: FileRef, review_id: Annotated[int, Path(ge=1)]) -> ReviewView:
    """The moderator is the token's name and must not be the review's auditor."""
    cf = _file(session, file_id)
    review = session.get(Review, review_id)
    rec = session.get(CaseRecord, review.record_id) if review is not None else None
    if rec is None or rec.file_id != cf.id:
        raise not_found(f"no review {review_id} in case file {cf.pseudonym}")
    _grade(body.grade, screening.rubric.levels)
    try:
        return service.record_moderation(session, review_id, who.name, body.grade,
                                         body.comment, rubric=screening.rubric, actor=who.name)
    except service.NotFound as e:
        raise not_found(str(e)) from e
    except service.ReviewError as e:
        raise field_error(("body",), str(e)) from e
