"""No regular expression the engine runs may backtrack catastrophically.

A line of 60 dashes once hung the heading pattern. Here every compiled pattern (the
rubric's headings, cues and `unless` patterns from screener/conf/*.yaml, the context
layer's triggers, the detectors' own and the module-level patterns of screener.text and
screener.rules) runs over long runs of hostile units and of its own words, each in a
child process that is killed if it does not finish. A linear pattern takes milliseconds
on 8,000 characters; a quadratic one takes seconds, and an exponential one forever.
"""

from __future__ import annotations

import importlib

import pytest
from robust_helpers import ScreenWorker, all_patterns, repeat_to, time_all_patterns

segment_module = importlib.import_module("screener.text.segment")  # not the function

PER_INPUT_SECONDS = 0.5  # worst single finditer over 8,000 characters (linear: < 0.05)
GROWTH = 8.0  # time growth for 4x the input: linear 4, quadratic 16
HANG_SECONDS = 60.0  # one pattern's whole set of inputs


def test_every_pattern_is_linear_on_adversarial_input() -> None:
    timings, hung = time_all_patterns(HANG_SECONDS)
    assert not hung, f"patterns that did not finish in {HANG_SECONDS:.0f} s: {hung}"
    slow = [(name, round(t1, 3), round(t4, 3), start) for name, t1, t4, start in timings
            if t1 > PER_INPUT_SECONDS or (t4 > 0.2 and t4 > GROWTH * t1)]
    assert not slow, "patterns slow on 8,000 characters, or growing faster than linearly " \
                     f"(name, seconds, seconds at 4x, start of the input): {slow}. A pattern " \
                     "only ever given one line or a short fragment: say so in " \
                     "robust_helpers.PATTERN_SCOPES"
    assert len(timings) == len(all_patterns())


def test_inventory_covers_config_and_code_patterns() -> None:
    """The fuzz above is only as good as its inventory: it must find the YAML cues and
    the module-level patterns (a new module-level pattern is picked up on its own)."""
    names = set(all_patterns())
    assert "markers.child_seen.seen_where" in names
    assert any(n.startswith("markers.") and ".headings[" in n for n in names)
    assert any(n.endswith(".unless") for n in names)
    assert {"context.negation_pre", "context.placeholder", "context.reasoning"} <= names
    assert "screener.text.segment._INLINE_HEADING" in names
    assert "screener.text.names._AGED_PATTERNS[2]" in names
    assert "action_rows.v1.owner" in names and "supervision_frequency.v1.previous" in names


# Inputs that hung (or took minutes) before the fixes named in each id; cheap regression
# tests of the whole rules-mode pipeline, in a child process with a time budget.
@pytest.mark.parametrize("text", [
    "Child's views:\n" + "-" * 60,
    "a" + " " * 200_000 + "b | c",
    "Kai said hi" + "\n" * 200_000 + "Child: Kai, 8",
    "<" * 100_000,
    "Kai said hello. " * 10_000,
    repeat_to("Kai said he was seen by mum ", 200_000),
], ids=["dash-heading", "space-run-before-pipe", "blank-lines-before-name-age",
        "punctuation-token", "many-sentences-re2-offsets", "one-long-sentence"])
def test_former_hangs_are_fast(text: str, workers: dict[str, ScreenWorker]) -> None:
    outcome, seconds = workers["rules"].screen("assessment", text, timeout=60)
    assert not isinstance(outcome, str)
    assert seconds < 15


def test_long_lines_are_cut_into_bounded_sentences() -> None:
    text = repeat_to("Kai said he was seen by mum ", 50_000)
    seg = segment_module.segment(text, lambda h: frozenset(), lambda b: not b.strip())
    longest = max(e - s for s, e in seg.sentences)
    assert longest <= segment_module.MAX_SENTENCE_CHARS
    covered = "".join(text[s:e] for s, e in seg.sentences)
    assert covered.replace(" ", "") == text.replace(" ", "")  # nothing lost at the cuts
