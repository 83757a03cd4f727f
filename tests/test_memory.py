"""A long-lived screener (the service) must not grow with every new word it reads."""

from __future__ import annotations

import random
import string

from screener import Screener


def _novel_text(seed: int, words: int = 400) -> str:
    rng = random.Random(seed)
    made_up = " ".join("".join(rng.choices(string.ascii_lowercase, k=9)) for _ in range(words))
    return f"I saw Kai alone in his room. Kai said he was happy. {made_up}."


def test_bounded_memory_forgets_the_strings_of_each_batch() -> None:
    kept, bounded = Screener(mode="rules"), Screener(mode="rules", bounded_memory=True)
    for scr in (kept, bounded):
        scr.screen_one("visit", _novel_text(0))  # warm up: the rules' own strings
    before = {id(s): len(s.nlp.vocab.strings) for s in (kept, bounded)}
    results = {}
    for scr in (kept, bounded):
        results[id(scr)] = [scr.screen_one("visit", _novel_text(seed)).model_dump()
                            for seed in range(1, 6)]
    assert len(kept.nlp.vocab.strings) - before[id(kept)] >= 5 * 400  # the default keeps all
    assert len(bounded.nlp.vocab.strings) - before[id(bounded)] < 50
    assert results[id(kept)] == results[id(bounded)]  # and forgetting changes no result
    assert results[id(bounded)][0]["markers"]["child_seen"]["present"]
