"""The context layer: what turns a matching phrase into a genuine instance, or not.

One place decides, for every rule and every marker, whether a cue is negated ("Jordan
was not seen"), only intended ("views to be obtained"), someone else's report ("mum says
Kai wants ..."), remote contact ("spoke to Kai on the phone"), or an empty heading
("Contingency: TBC"). The trigger words are data (conf/context.yaml), in the spirit of
ConText / medspaCy: a trigger acts within its clause, and clause breaks ("but",
"however", ";") end its reach.
"""

from __future__ import annotations

import re

from screener.config.loader import compile_regex
from screener.config.models import ContextSpec

_WORDS_BEFORE = 6  # how far back a negation reaches
_CHARS_AFTER = 40  # how far forward a post-negation ("... were not sought") reaches
PLACEHOLDER_MAX = 120  # a body longer than this has content, whatever words it holds


def _union(patterns: list[str], macros: dict[str, str], key: str) -> re.Pattern[str]:
    if not patterns:
        return re.compile(r"(?!x)x")
    return compile_regex("|".join(f"(?:{p})" for p in patterns), macros, "context.yaml", key)


class ContextLayer:
    def __init__(self, spec: ContextSpec):
        m = spec.macros
        self.negation_pre = _union(spec.negation_pre, m, "negation_pre")
        self.negation_post = _union(spec.negation_post, m, "negation_post")
        self.clause_breaks = _union(spec.clause_breaks, m, "clause_breaks")
        self.intention = _union(spec.intention, m, "intention")
        self.adult_report = _union(spec.adult_report, m, "adult_report")
        self.remote = _union(spec.remote_contact, m, "remote_contact")
        self.placeholder = compile_regex(spec.placeholder, m, "context.yaml", "placeholder")
        self.reasoning = compile_regex(spec.reasoning, m, "context.yaml", "reasoning")

    def clause(self, text: str, sent: tuple[int, int], start: int, end: int) -> tuple[int, int]:
        """The clause of the sentence that holds [start, end)."""
        cs, ce = sent
        for m in self.clause_breaks.finditer(text, sent[0], sent[1]):
            if m.end() <= start:
                cs = m.end()
            elif m.start() >= end:
                ce = m.start()
                break
        return cs, ce

    def blocked(self, check: str, text: str, sent: tuple[int, int], start: int,
                end: int) -> bool:
        """Whether context check `check` blocks the cue at [start, end) in sentence `sent`."""
        cs, ce = self.clause(text, sent, start, end)
        if check == "negation":
            before = text[cs:start]
            words = before.split()
            window = " ".join(words[-_WORDS_BEFORE:])
            if self.negation_pre.search(window):
                return True
            return bool(self.negation_post.match(text, end, min(ce, end + _CHARS_AFTER)))
        if check == "intention":
            return bool(self.intention.search(text, cs, ce))
        if check == "adult_report":
            return bool(self.adult_report.search(text, cs, start))
        if check == "remote":  # "spoke to Kai on the phone", not "saw Kai; later phoned mum"
            return bool(self.remote.search(text, cs, ce))
        raise ValueError(f"unknown context check {check!r}")

    def is_placeholder(self, body: str) -> bool:
        """Empty, or only "N/A", "TBC", "see above", "[insert]", "-" and the like."""
        body = body.strip()
        return not body or (len(body) <= PLACEHOLDER_MAX and bool(self.placeholder.match(body)))

    def has_reason(self, text: str, start: int, end: int) -> bool:
        return bool(self.reasoning.search(text, start, end))
