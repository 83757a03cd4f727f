"""Error responses: one shape for every 4xx, and no record text in any of them.

Validation errors (422) list each problem as {"loc": [...], "msg", "type"} with the field
named in `loc` (FastAPI's shape, less the `input` it would echo back: that could be a
whole case record). Other errors carry {"detail": "..."}.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import HTTPException, status

__all__ = ["clean_errors", "field_error", "not_found", "summary", "too_large"]


def field_error(loc: Sequence[str | int], message: str) -> HTTPException:
    """A 422 naming the field at `loc` (e.g. ("body", "doc_type"))."""
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                         detail=[{"loc": list(loc), "msg": message, "type": "value_error"}])


def too_large(message: str) -> HTTPException:
    return HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail=message)


def not_found(message: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=message)


def clean_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Validation errors without the offending input (never echo record text)."""
    out = []
    for err in errors:
        item = {"loc": list(err.get("loc", ())), "msg": str(err.get("msg", "invalid")),
                "type": str(err.get("type", "value_error"))}
        out.append(item)
    return out


def summary(errors: Sequence[Any]) -> str:
    """One line for people: 'malformed JSON' or 'invalid body.doc_type: unknown ...'."""
    if any(e.get("type") == "json_invalid" for e in errors):
        return "malformed JSON in the request body"
    parts = []
    for e in errors:
        loc = ".".join(str(p) for p in e.get("loc", ()))
        parts.append(f"{loc}: {e.get('msg', 'invalid')}")
    return "invalid " + "; ".join(parts)
