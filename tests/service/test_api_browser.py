"""The pages in headless Chromium (Playwright): sign in with a token, check a draft and
see the vague goal highlighted as you type, confirm a flag on the review page and see it
stored. Needs Debian's chromium (`bash .ci/services.sh` installs it)."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from api_helpers import Seeded, make_tokens, seed, settings_for

from api import create_app
from screener.audit import service
from screener.audit.db import Database
from screener.pipeline import Screener

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage"]

if not CHROMIUM.exists():
    pytest.skip("no Chromium at /usr/bin/chromium (run `bash .ci/services.sh`, which "
                "installs Debian's chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


@dataclass
class Live:
    url: str
    db: Database
    tokens: dict[str, str]
    seeded: Seeded


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, screener: Screener) -> Iterator[Live]:
    import uvicorn

    app = create_app(settings_for(tmp_path_factory.mktemp("browser")), screener=screener)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    db: Database = app.state.db
    try:
        yield Live(url=f"http://127.0.0.1:{port}", db=db, tokens=make_tokens(db, "-b"),
                   seeded=seed(db, screener))
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, live: Live) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 800})
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    outside: list[str] = []
    pg.on("request", lambda req: None if req.url.startswith(live.url)
          else outside.append(req.url))
    yield pg
    context.close()
    assert outside == [], f"the pages asked for something outside the service: {outside}"


def sign_in(page: Any, live: Live, role: str, next_path: str) -> None:
    page.goto(f"{live.url}/signin?next={next_path}")
    page.get_by_label("Access token").fill(live.tokens[role])
    page.keyboard.press("Enter")
    page.wait_for_url(live.url + next_path)


def test_bad_token_is_refused(page: Any, live: Live) -> None:
    page.goto(f"{live.url}/signin")
    page.get_by_label("Access token").fill("scr_not-a-real-token")
    page.get_by_role("button", name="Sign in").click()
    sync_api.expect(page.locator("#signin-error")).to_contain_text("not valid")


def test_check_a_draft_highlights_the_vague_goal(page: Any, live: Live) -> None:
    sign_in(page, live, "manager", "/check")
    page.get_by_label("Record type").select_option("cin_plan")
    draft = page.get_by_label("Text", exact=True)
    draft.focus()
    page.keyboard.insert_text("Plan for Kai.\nOutcome: Kai will receive appropriate "
                              "monitoring and support.\n")  # as a paste does
    mark = page.locator('#preview mark[data-markers~="vague_goal"]')
    sync_api.expect(mark.first).to_contain_text("appropriate monitoring")
    assert "concern" in (mark.first.get_attribute("class") or "")
    flag = page.locator('#flags li[data-marker="vague_goal"]')
    sync_api.expect(flag).to_contain_text("not measurable")
    sync_api.expect(page.locator("#grade-value")).not_to_be_empty()
    assert page.locator('#flags li[data-kind="missing"]').count() > 0
    # it updates as the person edits: rewrite the goal and the highlight goes
    draft.fill("Plan for Kai.\nOutcome: Kai attends school every day; Mrs Khan meets mum "
               "each Monday from 10 March.\n")
    sync_api.expect(page.locator('#preview mark[data-markers~="vague_goal"]')).to_have_count(0)
    sync_api.expect(page.locator("#preview")).to_contain_text("Mrs Khan")


def test_keyboard_order_starts_with_skip_link_and_labels(page: Any, live: Live) -> None:
    sign_in(page, live, "manager", "/check")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    focused = []
    for _ in range(12):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.id || "
                                     "document.activeElement.textContent.trim()"))
    assert focused.index("doc-type") < focused.index("draft") < focused.index("preview")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # a visible focus ring


def test_review_page_confirm_a_flag_is_stored(page: Any, live: Live) -> None:
    s = live.seeded
    sign_in(page, live, "auditor", f"/files/{s.file_id}")
    form = page.locator(f'form[data-record-id="{s.plan_id}"]')
    flag = form.locator('fieldset[data-marker="vague_goal"]')
    sync_api.expect(flag).to_contain_text("not measurable")
    sync_api.expect(page.locator(f"#rec-{s.plan_id}")).to_be_visible()
    sync_api.expect(page.locator(f'article:has(#rec-{s.plan_id}) mark.concern').first
                    ).to_contain_text("appropriate monitoring")
    flag.get_by_label("Confirm").check()
    form.get_by_label("Final grade").select_option("inadequate")
    form.get_by_label("Comment").fill("Goals are not measurable.")
    form.get_by_role("button", name="Save review").click()
    sync_api.expect(form.locator(".status")).to_contain_text("Saved")
    sync_api.expect(flag.locator(".prev")).to_contain_text("confirmed")

    with live.db.session() as sess:
        f = service.get_file(sess, s.file_id)
    plan = next(r for r in f.records if r.id == s.plan_id)
    mine = next(rv for rv in plan.reviews if rv.auditor == "auditor-b")
    assert mine.decisions["vague_goal"].decision == "confirmed"
    assert mine.grade == "inadequate" and mine.completed
    assert mine.comment == "Goals are not measurable."


def test_queue_lists_the_file_and_links_to_it(page: Any, live: Live) -> None:
    sign_in(page, live, "auditor", "/queue")
    page.get_by_label("Include reviewed files").check()
    page.get_by_role("button", name="Show").click()
    link = page.get_by_role("link", name=live.seeded.pseudonym)
    sync_api.expect(link).to_be_visible()
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/files/{live.seeded.file_id}$"))
    sync_api.expect(page.locator("#file-title")).to_contain_text(live.seeded.pseudonym)


def test_wrong_role_sees_a_clear_message(page: Any, live: Live) -> None:
    sign_in(page, live, "researcher", "/queue")
    sync_api.expect(page.locator("#status")).to_contain_text("researcher role cannot")
