"""Split a record into sentences and headed sections, keeping offsets into the original.

Real records are templates ("Child's views: N/A"), bullet lists, flattened tables and
system exports with HTML remnants as often as prose, so lines and headings matter as
much as full stops. Nothing here changes the text: every span indexes the input.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

# A line break, or HTML that stands for one in exported notes.
_BREAK = re.compile(r"\r?\n|<br\s*/?>|</?p\b[^>]*>|</?li\b[^>]*>|</?div\b[^>]*>|</?tr\b[^>]*>",
                    re.IGNORECASE)
# Sentence end inside a line: . ! ? followed by space and something sentence-like.
_SENT_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9*•-])|\s+\|\s+(?=\S)")
_MARKUP = re.compile(r"<[^>]{0,40}>|&nbsp;|&amp;|\*\*|__|^#+\s*|^[\[(]|[\])]$")
# "Heading: body" on one line; the heading is short and starts with a letter or digit.
_INLINE_HEADING = re.compile(
    r"^(?P<lead>(?:[-•*>#\[\s]|\d{1,2}[.)]|<[^>]{1,20}>)*)"
    r"(?P<head>[A-Za-z][^:\n|]{0,60}?)\s*(?:\*\*|</[^>]{1,20}>|\])?\s*[:?]\s*"
    r"(?:\*\*|</[^>]{1,20}>)?(?P<body>.*)$")
_WORD = re.compile(r"[A-Za-z0-9']+")


@dataclass(frozen=True)
class Section:
    """A heading and the text under it, up to the next heading."""

    heading: str
    heading_start: int
    heading_end: int
    body_start: int
    body_end: int
    names: frozenset[str]  # marker IDs whose heading aliases match
    placeholder: bool  # body is empty or only "N/A", "TBC", "see above", "[insert]" ...

    def body(self, text: str) -> str:
        return text[self.body_start:self.body_end]


@dataclass
class Segmentation:
    sentences: list[tuple[int, int]] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)

    def sentence_at(self, pos: int) -> tuple[int, int] | None:
        lo, hi = 0, len(self.sentences) - 1
        while lo <= hi:
            mid = (lo + hi) // 2
            s, e = self.sentences[mid]
            if pos < s:
                hi = mid - 1
            elif pos >= e:
                lo = mid + 1
            else:
                return s, e
        return None

    def sentence_index(self, pos: int) -> int:
        """Index of the sentence holding pos, or of the next one after it."""
        lo, hi = 0, len(self.sentences)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.sentences[mid][1] <= pos:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def sections_at(self, pos: int) -> list[Section]:
        return [s for s in self.sections if s.heading_start <= pos < s.body_end]


def _lines(text: str) -> Iterable[tuple[int, int]]:
    start = 0
    for m in _BREAK.finditer(text):
        yield start, m.start()
        start = m.end()
    yield start, len(text)


def line_spans(text: str) -> list[tuple[int, int]]:
    """Non-empty lines (HTML breaks count as line ends), stripped, as offsets."""
    out = []
    for ls, le in _lines(text):
        ls, le = _strip(text, ls, le)
        if ls < le:
            out.append((ls, le))
    return out


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def clean_heading(heading: str) -> str:
    """Lower-case heading text without markup, numbering or trailing punctuation."""
    h = _MARKUP.sub(" ", heading)
    h = re.sub(r"^\s*(?:\d{1,2}[.)]|[a-h][.)]|[-•*>#])\s*", "", h)
    return re.sub(r"\s+", " ", h).strip(" :-–—*#.?").lower()


def _looks_like_heading_line(line: str) -> bool:
    """A line on its own that is a heading: short, no sentence ending, heading-ish shape."""
    stripped = line.strip()
    if not stripped or len(stripped) > 70 or stripped[-1] in ".!,;":
        return False
    words = _WORD.findall(stripped)
    if not 1 <= len(words) <= 7:
        return False
    if stripped.startswith(("-", "•", "·")) and not stripped.endswith(":"):
        return False
    bare = _MARKUP.sub("", stripped).strip()
    return bool(
        stripped.endswith(":")
        or stripped.startswith(("**", "#", "<b", "<strong", "[", "=="))
        or (bare.isupper() and len(bare) > 3)
        or (bare[:1].isupper() and not re.search(r"\d{1,2}[/.]\d{1,2}", bare))
    )


def segment(text: str, heading_names: Callable[[str], frozenset[str]],
            is_placeholder: Callable[[str], bool]) -> Segmentation:
    """Sentences and sections of `text`.

    `heading_names` maps a cleaned heading to the marker IDs it introduces (empty when the
    heading is not a known one); unknown headings still end the section before them.
    """
    seg = Segmentation()
    headings: list[tuple[int, int, int, str, frozenset[str]]] = []  # hstart, hend, bstart
    for ls, le in _lines(text):
        ls, le = _strip(text, ls, le)
        if ls >= le:
            continue
        line = text[ls:le]
        m = _INLINE_HEADING.match(line)
        body_start = ls
        if m and len(_WORD.findall(m.group("head"))) <= 8:
            head = clean_heading(m.group("head"))
            names = heading_names(head)
            body = m.group("body").strip()
            # Only known headings, or labels with nothing after them, open a section; an
            # unknown "Label: text" line ("HV (Sian): weight dropped", "Mum said: ...") is
            # a line of the section it sits in.
            if names or not body:
                hs = ls + m.start("head")
                headings.append((hs, ls + m.end("head"), ls + m.start("body"), head, names))
                body_start = ls + m.start("body")
        elif _looks_like_heading_line(line):
            head = clean_heading(line)
            headings.append((ls, le, le, head, heading_names(head)))
            body_start = le
        # sentences of the rest of the line
        s = body_start
        for sm in _SENT_END.finditer(text, body_start, le):
            a, b = _strip(text, s, sm.start())
            if a < b:
                seg.sentences.append((a, b))
            s = sm.end()
        a, b = _strip(text, s, le)
        if a < b:
            seg.sentences.append((a, b))
        if body_start > ls:  # the heading itself is a unit too, for evidence and models
            hs = headings[-1][0]
            seg.sentences.append(_strip(text, hs, headings[-1][1]))
    seg.sentences.sort()
    for i, (hs, he, bs, head, names) in enumerate(headings):
        be = headings[i + 1][0] if i + 1 < len(headings) else len(text)
        bs2, be2 = _strip(text, bs, be)
        body = text[bs2:be2] if bs2 < be2 else ""
        seg.sections.append(Section(
            heading=head, heading_start=hs, heading_end=he, body_start=bs2 if bs2 < be2 else bs,
            body_end=be2 if bs2 < be2 else bs, names=names,
            placeholder=is_placeholder(_MARKUP.sub(" ", body)),
        ))
    return seg
