"""Who is who in a record: the children and the adults it names.

Rules that need the child as the speaker or subject ("Kai said ...", "Kai is in school
every day") check the name against these sets, so "Mum said ..." or "Gary will ..." do
not pass for the child. The patterns are the conventions of case recording: "Name (8)",
"Name, aged 8", "Child: Name", "mum Lisa", "Sana (mum)".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import re2

from screener.config._re2text import RE2Text


def _compile(pattern: str, flags: int = 0) -> Any:
    """RE2 where it can run the pattern (linear time, fast on long records), else `re`."""
    try:
        prefix = ("(?i)" if flags & re.IGNORECASE else "") + (
            "(?m)" if flags & re.MULTILINE else "")
        return RE2Text(re2.compile(prefix + pattern))
    except re2.error:
        return re.compile(pattern, flags)


_N = r"(?-i:[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?)"
_SURNAME = r"(?:\s+(?-i:[A-Z][A-Za-z'-]+))?"
_ADULT_ROLE = (
    r"(?:mum|mother|mam|dad|father|step-?dad|step-?mum|step-?father|step-?mother|"
    r"carer|foster carer|grand(?:ma|mother|dad|father)|nan|nana|gran|granny|grandad|"
    r"aunt(?:ie)?|uncle|partner|boyfriend|girlfriend|sw|tm|iro|hv|social worker|"
    r"worker|manager|supervisor|supervisee|chair|teacher|dsl|senco|nurse|officer|"
    r"practitioner|parents?)"
)

ADULT_AGE = 18
# Patterns whose second group is an age: a person of 18 or more is an adult.
_AGED_PATTERNS = [
    _compile(
        rf"\b({_N}){_SURNAME}\s*\(\s*(?:aged?\s*|age\s*)?(\d{{1,2}})\s*"
        r"(?:y(?:rs?|ears?)?|m(?:onths?|ths?)?|wks?|weeks?|yo)?\s*\)"
    ),
    _compile(rf"\b({_N}){_SURNAME},?\s+(?:aged?|age)\s*(\d{{1,2}})"),
    _compile(
        # [^\S\n]*, not \s*: from every line start \s* ran on through all the blank lines
        # below it, which made a record with many blank lines take minutes.
        rf"^[^\S\n]*(?:[A-Za-z &/-]{{0,40}}[-–:]\s*)?({_N}){_SURNAME}\s*,\s*(\d{{1,2}})\b",
        re.MULTILINE
    ),
]
_CHILD_PATTERNS = [
    # "\s*(?:,\s*)?", not "\s*,?\s*" (here and below): two \s* in a row split a run of
    # spaces every possible way, so a name before a long blank stretch took seconds.
    _compile(rf"\b({_N}){_SURNAME}\s*(?:,\s*)?\(?(?:dob|d\.o\.b\.?|born)\b", re.IGNORECASE),
    _compile(
        rf"\b(?:child(?:ren)?|yp|young person|subject|baby|son|daughter|sons|daughters|"
        rf"brother|sister|siblings?|twins?)\s*(?:[:\-]\s*)?({_N})",
        re.IGNORECASE,
    ),
    _compile(
        rf"\b({_N})(?:'s|s')\s+(?:views?|wishes|voice|school|nursery|bedroom|plan|"
        r"cot|teacher|class|attendance|weight|development|behaviour|presentation)\b"
    ),
]
_ADULT_PATTERNS = [
    _compile(rf"\b{_ADULT_ROLE}\s*(?:[,(]\s*)?\(?({_N})", re.IGNORECASE),
    _compile(rf"\b({_N}){_SURNAME}\s*[,(]\s*(?:the\s+)?{_ADULT_ROLE}\b", re.IGNORECASE),
    _compile(rf"\b(?:mr|mrs|ms|miss|dr|dc|pc|ds)\.?\s+({_N})"),
    _compile(rf"\b({_N})(?:'s)?\s+(?:partner|husband|wife|boyfriend|girlfriend)\b"),
]
_ADULT_NOUNS = (
    r"(?:[Mm]um|[Mm]other|[Mm]am|[Dd]ad|[Ff]ather|[Ss]tep-?(?:dad|mum|father|mother)|"
    r"[Pp]artner|[Nn]an|[Nn]ana|[Gg]ran(?:dma|dad|ny)?|[Gg]randmother|[Gg]randfather|"
    r"[Aa]unt(?:ie)?|[Uu]ncle|[Cc]arer|(?-i:M|F|MGM|PGM|MGF|PGF))"
)
# Capitalised words that are never a person in this domain.
NOT_NAMES = frozenset(
    [
        "i",
        "the",
        "this",
        "that",
        "these",
        "those",
        "there",
        "then",
        "when",
        "where",
        "what",
        "who",
        "why",
        "how",
        "he",
        "she",
        "they",
        "we",
        "it",
        "his",
        "her",
        "their",
        "our",
        "my",
        "your",
        "mum",
        "dad",
        "mother",
        "father",
        "parents",
        "parent",
        "sw",
        "tm",
        "hv",
        "gp",
        "iro",
        "dsl",
        "senco",
        "camhs",
        "school",
        "nursery",
        "police",
        "health",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "child",
        "children",
        "baby",
        "yp",
        "both",
        "all",
        "outcome",
        "outcomes",
        "action",
        "actions",
        "who",
        "when",
        "date",
        "review",
        "contingency",
        "purpose",
        "analysis",
        "plan",
        "visit",
        "assessment",
        "supervision",
        "decision",
        "decisions",
        "issue",
        "options",
        "research",
        "evidence",
        "impact",
        "no",
        "yes",
        "not",
        "none",
        "n/a",
        "tbc",
        "mr",
        "mrs",
        "ms",
        "miss",
        "dr",
        "social",
        "worker",
        "team",
        "manager",
        "if",
        "by",
        "to",
        "and",
        "or",
        "but",
        "so",
        "as",
        "at",
        "in",
        "on",
        "of",
        "for",
        "from",
        "with",
        "without",
        "after",
        "before",
        "during",
        "home",
        "today",
        "yesterday",
        "next",
        "last",
        "previous",
        "grandma",
        "nan",
        "nana",
        "gran",
        "grandad",
        "aunt",
        "uncle",
        "stepdad",
        "stepmum",
        "carer",
        "carers",
    ]
)


@dataclass
class People:
    children: set[str] = field(default_factory=set)
    adults: set[str] = field(default_factory=set)

    def is_child(self, word: str) -> bool:
        """True when `word` refers to a child of this record (name, noun or pronoun)."""
        w = word.strip()
        low = w.lower()
        if low in {"he", "she", "they", "both"} or low.startswith(
            (
                "the child",
                "the baby",
                "the boy",
                "the girl",
                "the young",
                "the yp",
                "the sibling",
                "the kids",
                "the twins",
                "the older",
                "the younger",
                "the eldest",
                "the youngest",
                "both ",
                "all ",
                "yp",
                "cyp",
            )
        ):
            return True
        first = w.split()[0] if w.split() else w
        if first.lower() in NOT_NAMES or first in self.adults:
            return False
        if self.children:
            return first in self.children
        return first[:1].isupper()

    _mention: re.Pattern[str] | None = None

    def pronoun_is_child(self, text: str, pos: int, window: int = 400) -> bool:
        """Whether a he/she/they at `pos` most likely refers to a child: the last person
        mentioned before it (within `window` characters) is a child, or nobody is."""
        if self._mention is None:
            names = sorted(self.children | self.adults, key=len, reverse=True)
            alts = [re.escape(n) for n in names] + [_ADULT_NOUNS]
            self._mention = re.compile(r"\b(?:" + "|".join(alts) + r")\b")
        last = None
        for m in self._mention.finditer(text, max(0, pos - window), pos):
            last = m.group(0)
        return last is None or last in self.children


def find_people(text: str) -> People:
    people = People()
    for pat in _AGED_PATTERNS:
        for m in pat.finditer(text):
            name = m.group(1)
            if name.lower() not in NOT_NAMES:
                (people.adults if int(m.group(2)) >= ADULT_AGE else people.children).add(name)
    for pat in _ADULT_PATTERNS:
        for m in pat.finditer(text):
            name = m.group(1)
            if name.lower() not in NOT_NAMES:
                people.adults.add(name)
    for pat in _CHILD_PATTERNS:
        for m in pat.finditer(text):
            name = m.group(1)
            if name.lower() not in NOT_NAMES and name not in people.adults:
                people.children.add(name)
    people.children -= people.adults
    return people


def first_child_in_order(text: str, people: People) -> str | None:
    """The child named first in the text: the one guidance should talk about."""
    best: tuple[int, str] | None = None
    for name in people.children:
        pos = text.find(name)
        if pos >= 0 and (best is None or pos < best[0]):
            best = (pos, name)
    return best[1] if best else None
