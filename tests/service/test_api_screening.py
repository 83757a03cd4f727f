"""The screening worker: requests that arrive together are screened in one batch, a
failing request does not fail the others, and a gone client's request is dropped."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from api.schemas import ScreenIn
from api.screening import Screening, highlights
from screener.pipeline import Screener
from screener.schemas import Record


class Gated:
    """Wraps a Screener: records each batch's size; the first batch waits for a gate."""

    def __init__(self, real: Screener):
        self.real, self.rubric, self.mode = real, real.rubric, real.mode
        self.sizes: list[int] = []
        self.gate = threading.Event()
        self.entered = threading.Event()

    def screen_batch(self, records: list[Record]) -> list[Any]:
        self.entered.set()
        self.gate.wait(10)
        self.sizes.append(len(records))
        if any("BOOM" in r.text for r in records):
            raise RuntimeError("cannot screen this batch")
        return self.real.screen_batch(records)


def _item(text: str, i: int) -> ScreenIn:
    return ScreenIn(doc_type="visit", text=text, id=f"r{i}")


def test_waiting_requests_are_batched_and_failures_isolated(screener: Screener) -> None:
    fake = Gated(screener)
    s = Screening(fake, max_record_chars=10_000, max_batch_size=10,  # type: ignore[arg-type]
                  max_batch_records=32)

    async def run() -> list[Any]:
        first = asyncio.ensure_future(s.screen_one(_item("Kai was seen alone.", 0)))
        await asyncio.get_running_loop().run_in_executor(None, fake.entered.wait, 10)
        rest = [asyncio.ensure_future(s.screen_one(_item(
            "BOOM" if i == 5 else f"Kai was seen at home, visit {i}.", i))) for i in range(1, 9)]
        await asyncio.sleep(0.1)  # all queued behind the first
        fake.gate.set()
        return await asyncio.gather(first, *rest, return_exceptions=True)

    try:
        out = asyncio.run(run())
    finally:
        s.stop()
    assert fake.sizes[0] == 1 and fake.sizes[1] == 8  # the eight waiting went together
    assert isinstance(out[5], RuntimeError)
    assert [o["id"] for i, o in enumerate(out) if i != 5] == [
        f"r{i}" for i in range(9) if i != 5]


def test_a_cancelled_request_is_dropped(screener: Screener) -> None:
    fake = Gated(screener)
    s = Screening(fake, max_record_chars=10_000, max_batch_size=10)  # type: ignore[arg-type]

    async def run() -> Any:
        first = asyncio.ensure_future(s.screen_one(_item("Kai was seen.", 0)))
        await asyncio.get_running_loop().run_in_executor(None, fake.entered.wait, 10)
        gone = asyncio.ensure_future(s.screen_one(_item("Kai was seen again.", 1)))
        await asyncio.sleep(0.05)
        gone.cancel()
        await asyncio.sleep(0.05)  # the cancellation reaches the queued job
        fake.gate.set()
        result = await first
        after = await s.screen_one(_item("Kai was seen a third time.", 2))
        return result, after

    try:
        result, after = asyncio.run(run())
    finally:
        s.stop()
    assert result["id"] == "r0" and after["id"] == "r2"
    assert fake.sizes == [1, 1]  # the cancelled one was never screened


def test_highlights_split_overlaps() -> None:
    h = highlights(20, [(0, 10, "a"), (5, 15, "vague_goal")], {"vague_goal"})
    assert [(x.start, x.end, x.markers, x.kind) for x in h] == [
        (0, 5, ["a"], "found"), (5, 10, ["a", "vague_goal"], "concern"),
        (10, 15, ["vague_goal"], "concern")]
    assert highlights(5, [], set()) == []
