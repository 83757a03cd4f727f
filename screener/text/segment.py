"""Split a record into sentences and headed sections, keeping offsets into the original.

Real records are templates ("Child's views: N/A"), bullet lists, flattened tables and
system exports with HTML remnants as often as prose, so lines and headings matter as
much as full stops. Nothing here changes the text: every span indexes the input.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

# A line break, or HTML that stands for one in exported notes.
_BREAK = re.compile(r"\r?\n|<br\s*/?>|</?p\b[^>]*>|</?li\b[^>]*>|</?div\b[^>]*>|</?tr\b[^>]*>",
                    re.IGNORECASE)
# Sentence end inside a line: . ! ? followed by space and something sentence-like.
# (?<!\s): a "|" cell break starts at the first space of its run, never inside a run, so
# a line with a long run of spaces is scanned once, not once per space.
_SENT_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9*•-])"
                       r"|(?<!\s)\s+\|\s+(?=\S)")
_MARKUP = re.compile(r"<[^>]{0,40}>|&nbsp;|&amp;|\*\*|__|^#+\s*|^[\[(]|[\])]$")
# "Heading: body" on one line; the heading is short and starts with a letter or digit.
_INLINE_HEADING = re.compile(
    r"^(?P<lead>(?:[-•*>#\[\s]|\d{1,2}[.)]|<[^>]{1,20}>)*)"
    # "\s*(?:X\s*)?", not "\s*X?\s*": two \s* in a row split a run of spaces every
    # possible way, and a line of "a", 10,000 spaces and "b" took a minute.
    r"(?P<head>[A-Za-z][^:\n|]{0,60}?)\s*(?:(?:\*\*|</[^>]{1,20}>|\])\s*)?[:?]\s*"
    r"(?:\*\*|</[^>]{1,20}>)?(?P<body>.*)$")
_WORD = re.compile(r"[A-Za-z0-9']+")
# A longer "sentence" (a line with no full stops) is cut at a space into pieces this long
# or shorter: the context layer searches a hit's sentence, so one 1 MB line made every
# hit cost the whole line. Real sentences are far shorter (the longest in the training
# corpus is under 600 characters).
MAX_SENTENCE_CHARS = 1000


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
    _starts: list[int] = field(default_factory=list, repr=False, compare=False)

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
        # Sections follow each other without overlapping (segment() builds them in text
        # order), so only the last one starting at or before pos can hold it. A binary
        # search, not a scan: this is called per line and per sentence of long records.
        if len(self._starts) != len(self.sections):
            self._starts = [s.heading_start for s in self.sections]
        i = bisect_right(self._starts, pos) - 1
        return [self.sections[i]] if i >= 0 and pos < self.sections[i].body_end else []


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


_EDGE_HEAD = re.compile(r"\s+|<[^>\n]{0,40}>|&nbsp;")
_EDGE_TAIL = re.compile(r"(?:\s+|<[^>\n]{0,40}>|&nbsp;)$")


def _strip_markup(text: str, start: int, end: int) -> tuple[int, int]:
    """Like _strip, and also drops HTML tags and &nbsp; at either end of the span."""
    while start < end and (m := _EDGE_HEAD.match(text, start, end)) and m.end() > start:
        start = m.end()
    while start < end and (m := _EDGE_TAIL.search(text, max(start, end - 64), end)):
        if m.start() >= end:
            break
        end = m.start()
    return start, end


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _cut(text: str, start: int, end: int) -> Iterable[tuple[int, int]]:
    """[start, end) in stripped pieces of at most MAX_SENTENCE_CHARS, cut at spaces."""
    while end - start > MAX_SENTENCE_CHARS:
        cut = start + MAX_SENTENCE_CHARS
        low = start + MAX_SENTENCE_CHARS // 2
        while cut > low and not text[cut].isspace():
            cut -= 1
        if cut == low:  # no space in the second half: cut mid-word
            cut = start + MAX_SENTENCE_CHARS
        a, b = _strip(text, start, cut)
        if a < b:
            yield a, b
        start = cut
    a, b = _strip(text, start, end)
    if a < b:
        yield a, b


def clean_heading(heading: str) -> str:
    """Lower-case heading text without markup, numbering or trailing punctuation."""
    h = _MARKUP.sub(" ", heading)
    h = re.sub(r"^\s*(?:\d{1,2}[.)]|[a-h][.)]|[-•*>#])\s*", "", h)
    return re.sub(r"\s+", " ", h).strip(" :-–—*#.?").lower()


def _heading_shape(line: str) -> str | None:
    """'strong' for a line that is a heading by its form alone ("Outcomes:", "**Issue**",
    "PURPOSE OF VISIT"), 'weak' for a short capitalised line that is a heading only if it
    is a known one, None otherwise."""
    stripped = line.strip()
    if not stripped or len(stripped) > 70 or stripped[-1] in ".!,;" or "|" in stripped:
        return None
    words = _WORD.findall(stripped)
    if not 1 <= len(words) <= 7:
        return None
    if stripped.startswith(("-", "•", "·")) and not stripped.endswith(":"):
        return None
    bare = _MARKUP.sub("", stripped).strip()
    if (stripped.endswith(":") or stripped.startswith(("**", "#", "<b", "<strong", "[", "=="))
            or (bare.isupper() and len(bare) > 3)):
        return "strong"
    if bare[:1].isupper() and not re.search(r"\d{1,2}[/.]\d{1,2}", bare):
        return "weak"
    return None


def segment(text: str, heading_names: Callable[[str], frozenset[str]],
            is_placeholder: Callable[[str], bool]) -> Segmentation:
    """Sentences and sections of `text`.

    `heading_names` maps a cleaned heading to the marker IDs it introduces (empty when the
    heading is not a known one); unknown headings still end the section before them.
    """
    seg = Segmentation()
    # (line start, heading start, heading end, body start, heading, names)
    headings: list[tuple[int, int, int, int, str, frozenset[str]]] = []
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
                headings.append((ls, hs, ls + m.end("head"), ls + m.start("body"), head, names))
                body_start = ls + m.start("body")
        elif (shape := _heading_shape(line)) is not None:
            head = clean_heading(line)
            names = heading_names(head)
            if shape == "strong" or names:
                headings.append((ls, ls, le, le, head, names))
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
            seg.sentences.append(_strip(text, headings[-1][1], headings[-1][2]))
    seg.sentences = sorted(p for s, e in seg.sentences for p in _cut(text, s, e))
    for i, (_, hs, he, bs, head, names) in enumerate(headings):
        be = headings[i + 1][0] if i + 1 < len(headings) else len(text)
        bs2, be2 = _strip_markup(text, bs, be)
        body = text[bs2:be2] if bs2 < be2 else ""
        seg.sections.append(Section(
            heading=head, heading_start=hs, heading_end=he, body_start=bs2 if bs2 < be2 else bs,
            body_end=be2 if bs2 < be2 else bs, names=names,
            placeholder=is_placeholder(_MARKUP.sub(" ", body)),
        ))
    return seg
