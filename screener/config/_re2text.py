"""RE2 patterns that encode a text once, however many times it is searched.

The `re2` module encodes the whole `str` to UTF-8 and counts characters up to `pos` on
every call. The context layer searches one sentence of a record at a time
(`pattern.search(text, start, end)`), so each call cost the length of the record and
screening a long record was quadratic in its length (a 1 MB record took minutes). Here
the UTF-8 bytes and a character-to-byte table are kept for the last few long texts, the
search runs on the bytes with the same `pos`/`endpos` (so `^`, `$` and `\\b` see the same
context as before), and match offsets come back as character offsets.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

_CACHE_SIZE = 4  # a record's text is searched many times in a row: keep the last few


class _Encoded:
    """A text's UTF-8 bytes and, when it is not ASCII, each character's byte offset."""

    __slots__ = ("text", "data", "offsets", "_list")

    def __init__(self, text: str):
        self.text = text
        self.data = text.encode("utf-8")
        self.offsets: np.ndarray | None = None
        self._list: list[int] | None = None
        if len(self.data) != len(text):
            cp = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
            widths = 1 + (cp >= 0x80).astype(np.int64) + (cp >= 0x800) + (cp >= 0x10000)
            offsets = np.zeros(len(text) + 1, dtype=np.int64)
            np.cumsum(widths, out=offsets[1:])
            self.offsets = offsets

    def byte(self, pos: int) -> int:
        return pos if self.offsets is None else int(self.offsets[pos])

    def char(self, byte: int) -> int:
        if byte < 0 or self.offsets is None:
            return byte
        if self._list is None:  # bisect on a list beats a numpy call per lookup
            self._list = self.offsets.tolist()
        return bisect.bisect_left(self._list, byte)


_local = threading.local()


def _encoded(text: str) -> _Encoded:
    cache: list[_Encoded] = _local.__dict__.setdefault("cache", [])
    for enc in cache:
        if enc.text is text:
            return enc
    enc = _Encoded(text)
    cache.insert(0, enc)
    del cache[_CACHE_SIZE:]
    return enc


class RE2Match:
    """The parts of `re.Match` the screener uses, in character offsets."""

    __slots__ = ("_m", "_enc", "re", "string", "pos", "endpos")

    def __init__(self, m: Any, enc: _Encoded, rx: RE2Text, pos: int, endpos: int):
        self._m, self._enc, self.re = m, enc, rx
        self.string, self.pos, self.endpos = enc.text, pos, endpos

    def span(self, group: int | str = 0) -> tuple[int, int]:
        index = self.re.groupindex[group] if isinstance(group, str) else group
        s, e = self._m.span(index)
        return self._enc.char(s), self._enc.char(e)

    def start(self, group: int | str = 0) -> int:
        return self.span(group)[0]

    def end(self, group: int | str = 0) -> int:
        return self.span(group)[1]

    def _one(self, group: int | str, default: Any = None) -> Any:
        s, e = self.span(group)
        return default if s < 0 else self.string[s:e]

    def group(self, *groups: int | str) -> Any:
        if len(groups) <= 1:
            return self._one(groups[0] if groups else 0)
        return tuple(self._one(g) for g in groups)

    def __getitem__(self, group: int | str) -> Any:
        return self._one(group)

    def groups(self, default: Any = None) -> tuple[Any, ...]:
        return tuple(self._one(i, default) for i in range(1, self.re.groups + 1))

    def groupdict(self, default: Any = None) -> dict[str, Any]:
        return {name: self._one(name, default) for name in self.re.groupindex}


class RE2Text:
    """Wraps a compiled `re2` pattern; same search/match/finditer interface as `re`."""

    def __init__(self, compiled: Any):
        self._rx = compiled
        self.pattern: str = compiled.pattern
        self.groups: int = compiled.groups
        self.groupindex: dict[str, int] = dict(compiled.groupindex)

    def _args(self, text: str, pos: int | None,
              endpos: int | None) -> tuple[_Encoded, int, int] | None:
        n = len(text)
        p = 0 if pos is None else max(0, min(pos, n))
        e = n if endpos is None else max(0, min(endpos, n))
        return None if p > e else (_encoded(text), p, e)

    def _one(self, method: Any, text: str, pos: int | None,
             endpos: int | None) -> RE2Match | None:
        args = self._args(text, pos, endpos)
        if args is None:
            return None
        enc, p, e = args
        m = method(enc.data, enc.byte(p), enc.byte(e))
        return None if m is None else RE2Match(m, enc, self, p, e)

    def search(self, text: str, pos: int | None = None,
               endpos: int | None = None) -> RE2Match | None:
        return self._one(self._rx.search, text, pos, endpos)

    def match(self, text: str, pos: int | None = None,
              endpos: int | None = None) -> RE2Match | None:
        return self._one(self._rx.match, text, pos, endpos)

    def fullmatch(self, text: str, pos: int | None = None,
                  endpos: int | None = None) -> RE2Match | None:
        return self._one(self._rx.fullmatch, text, pos, endpos)

    def finditer(self, text: str, pos: int | None = None,
                 endpos: int | None = None) -> Iterator[RE2Match]:
        args = self._args(text, pos, endpos)
        if args is None:
            return
        enc, p, e = args
        at, end = enc.byte(p), enc.byte(e)
        while True:
            m = self._rx.search(enc.data, at, end)
            if m is None:
                return
            yield RE2Match(m, enc, self, p, e)
            s, stop = m.span()
            if stop > s:
                at = stop
            elif stop >= end:
                return
            else:  # an empty match: go on from the next character, as `re` does
                at = enc.byte(enc.char(stop) + 1)

    def findall(self, text: str, pos: int | None = None, endpos: int | None = None) -> list[Any]:
        out: list[Any] = []
        for m in self.finditer(text, pos, endpos):
            out.append(m.group(0) if self.groups == 0 else
                       m.group(1) if self.groups == 1 else m.groups(""))
        return out

    def __getattr__(self, name: str) -> Any:  # sub, split ...: the re2 module's own
        return getattr(self._rx, name)

    def __repr__(self) -> str:
        return f"RE2Text({self.pattern!r})"
