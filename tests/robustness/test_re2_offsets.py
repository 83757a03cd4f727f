"""RE2Text (screener/config/_re2text.py) must answer exactly as the re2 module does, only
without re-encoding the whole text on every call: same spans, in characters, and same
groups, for any text (emoji and combining marks included) and any pos/endpos.
"""

from __future__ import annotations

import re2
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from robust_helpers import HOSTILE_CHARS, all_patterns

from screener.config._re2text import RE2Text

WRAPPED = {name: pat for name, (pat, _) in all_patterns().items() if isinstance(pat, RE2Text)}
NAMES = sorted(WRAPPED)


def _records() -> list[str]:
    from training.generate import generate_records

    return [r["text"] for r in generate_records(60, 3)]


RECORDS = _records()


@st.composite
def texts(draw: st.DrawFn) -> str:
    """A window of a generated record with hostile characters (emoji, combining marks,
    RTL marks ...) put in front of and among the words the patterns look for."""
    record = draw(st.sampled_from(RECORDS))
    start = draw(st.integers(0, max(0, len(record) - 400)))
    text = record[start:start + draw(st.integers(50, 400))]
    for _ in range(draw(st.integers(1, 12))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(HOSTILE_CHARS)) + text[at:]
    if draw(st.booleans()):  # long enough for RE2Text's cache of encoded texts
        text = text * (2100 // max(1, len(text)) + 1)
    return text


def test_most_rubric_patterns_run_on_re2() -> None:
    assert len(WRAPPED) > 100, "compile_regex no longer wraps RE2 patterns in RE2Text?"


def _spans(m: object) -> object:
    if m is None:
        return None
    groups = getattr(m, "re").groups  # noqa: B009
    return [m.span(i) for i in range(groups + 1)], m.group(0)  # type: ignore[attr-defined]


@settings(max_examples=40, deadline=None)
@given(text=texts(), data=st.data())
def test_same_answers_as_the_re2_module(text: str, data: st.DataObject) -> None:
    pos = data.draw(st.integers(0, 40))
    endpos = data.draw(st.one_of(st.none(), st.integers(len(text) - 40, len(text) + 2)))
    matched = 0
    for name in NAMES:
        wrapped = WRAPPED[name]
        plain = re2.compile(wrapped.pattern)
        for method in ("search", "match"):
            got = getattr(wrapped, method)(text, pos, endpos)
            want = getattr(plain, method)(text, pos, endpos)
            assert _spans(got) == _spans(want), (name, method, pos, endpos)
            if got is not None:
                assert got.groupdict() == want.groupdict(), name
        # finditer: the re2 module repeats an empty match once; RE2Text, like re, does not
        got_all = [_spans(m) for m in wrapped.finditer(text, pos, endpos) if m.end() > m.start()]
        want_all = [_spans(m) for m in plain.finditer(text, pos, endpos) if m.end() > m.start()]
        assert got_all == want_all, name
        matched += len(got_all)
    assume(matched > 0)  # an example where nothing matched proves nothing
