"""The web pages: HTML shells (no data in them) whose scripts call the API with the
token kept in sessionStorage. Served without auth: every datum they show comes from a
/v1 route that checks the token."""

from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=FsPath(__file__).resolve().parents[1] / "templates")


def _page(request: Request, name: str, title: str, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"title": title, **context})


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/check", status_code=303)


@router.get("/signin", response_class=HTMLResponse)
def signin(request: Request) -> HTMLResponse:
    return _page(request, "signin.html", "Sign in")


@router.get("/check", response_class=HTMLResponse)
def check(request: Request) -> HTMLResponse:
    return _page(request, "check.html", "Check a draft", page="check")


@router.get("/queue", response_class=HTMLResponse)
def queue(request: Request) -> HTMLResponse:
    return _page(request, "queue.html", "Audit queue", page="queue")


@router.get("/files/{file_id}", response_class=HTMLResponse)
def review(request: Request,
           file_id: Annotated[str, Path(min_length=1, max_length=64)]) -> HTMLResponse:
    return _page(request, "review.html", "Review a file", page="review", file_id=file_id)


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request) -> HTMLResponse:
    """The OpenAPI description as a readable page (served locally, no CDN)."""
    spec = request.app.openapi()
    ops = []
    for path, methods in spec.get("paths", {}).items():
        for method, op in methods.items():
            ops.append({"method": method.upper(), "path": path, "op": op})
    return _page(request, "docs.html", "API", ops=ops, spec=spec, page="docs")
