#!/usr/bin/env python3
"""Seeded synthetic generator of labelled children's social care case records.

Records are assembled from the YAML paraphrase banks in ``training/banks/`` and written in
the record format of ``training/prompts/writer_common.md``; every record passes
``training/validate_corpus.py``. With ``--sentences`` the same banks are written out as a
labelled sentence file instead.

    python training/generate.py --n 2000 --seed 13 -o training/data/generated.jsonl
    python training/generate.py --sentences --seed 13 -o training/data/sentences_generated.jsonl

How a record is made: pick a doc_type, a target quality and a layout; decide for each marker
whether it is present and, if not, how its absence is realised (silent, negated, placeholder,
intended, adult_not_child, no_substance or near_miss); draw phrasings from the banks; fill
slots from culturally varied name pools; render the sections in the layout; add light noise.
Evidence spans are tracked as character offsets while the text is built, and noise is applied
piece by piece between span boundaries, so every evidence quote is an exact substring.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import random
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
BANK_DIR = HERE / "banks"
WRITER = "generator"
MIN_WORDS, MAX_WORDS = 60, 450
VAGUE = "vague_goal"
# Realised inside the plan action rows (owner and "by when" columns), not by own sentences.
ROW_MARKERS = ("responsibilities", "timescales")
PLAN_TYPES = ("cin_plan", "cp_plan")


def _load_validator() -> Any:
    """Import validate_corpus.py so the marker table has a single source of truth."""
    spec = importlib.util.spec_from_file_location("validate_corpus", HERE / "validate_corpus.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


VALIDATOR = _load_validator()
TYPE_MARKERS: dict[str, list[str]] = VALIDATOR.TYPE_MARKERS


# ============================================================================================
# Bank loading
# ============================================================================================

TAG_RE = re.compile(r"\s+@([a-z_]+)(?::(\S+))?\s*$")
PARENT_RE = re.compile(r"\{(?:mum|dad|Mum|Dad|mum_full|dad_full)\}"
                       r"|\b(?:Mum|Dad|mum|dad|parents?)\b")


@dataclass(frozen=True)
class Entry:
    """One bank phrasing plus the constraints that say where it may be used."""

    text: str
    also: tuple[str, ...] = ()    # also evidence of these markers (used only when they hold)
    needs: tuple[str, ...] = ()   # only used when these markers hold
    age: tuple[int, int] = (0, 17)
    themes: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    who: tuple[str, ...] = ()     # plan actions: roles that can own the action
    lac: bool = False             # only for looked-after / kinship children
    tone: str = ""                # "concern" / "reassure": keeps a record's conclusions aligned
    parents: bool = False         # mentions a parent, so not for a child with none here


def _split(value: str | None) -> tuple[str, ...]:
    """'a,b' -> ('a', 'b'); 'none' clears a default."""
    if not value or value == "none":
        return ()
    return tuple(v for v in value.split(",") if v)


def parse_age(value: str) -> tuple[int, int]:
    """'4..17' -> (4, 17); -1 stands for an unborn baby."""
    lo, _, hi = value.partition("..")
    return int(lo), int(hi or lo)


def parse_entry(line: str, defaults: dict[str, str] | None = None) -> Entry:
    """Parse 'text  @tag:value @flag' into an Entry; tags override block defaults."""
    tags = dict(defaults or {})
    while (m := TAG_RE.search(line)) is not None:
        tags[m.group(1)] = m.group(2) or "1"
        line = line[: m.start()]
    text = line.strip()
    return Entry(
        text=text,
        also=_split(tags.get("also")),
        needs=_split(tags.get("needs")),
        age=parse_age(tags.get("age", "0..17")),
        themes=_split(tags.get("th")),
        types=_split(tags.get("types")),
        who=_split(tags.get("who")),
        lac=tags.get("lac") == "1",
        tone=tags.get("tone", ""),
        parents=bool(PARENT_RE.search(text)),
    )


def parse_lines(value: str | list[str] | None) -> list[str]:
    """Bank lists are block strings (one phrase a line, '#' comments) or YAML lists."""
    if value is None:
        return []
    lines = value.splitlines() if isinstance(value, str) else [str(v) for v in value]
    return [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]


def parse_entries(value: str | list[str] | None,
                  defaults: dict[str, str] | None = None) -> list[Entry]:
    """All phrasings of one bank list, with the block's default tags applied."""
    return [parse_entry(ln, defaults) for ln in parse_lines(value)]


@dataclass
class MarkerBank:
    """Headings, positive phrasings and hard negatives (by case) for one marker."""

    name: str
    headings: list[str]
    type_headings: dict[str, list[str]]
    cases: dict[str, list[Entry]]

    def headings_for(self, doc_type: str) -> list[str]:
        return self.type_headings.get(doc_type) or self.headings


@dataclass
class FillerGroup:
    """Neutral sentences (no marker) that give a record its background and logistics."""

    headings: list[str]
    items: list[Entry]
    max: int = 3  # more neutral sentences than this in one section reads as padding


@dataclass
class Banks:
    """Everything read from training/banks/*.yaml."""

    markers: dict[str, MarkerBank]
    filler: dict[str, FillerGroup]
    lists: dict[str, list[str]]
    doc_types: dict[str, dict[str, Any]]
    people: dict[str, Any]
    settings: dict[str, Any]
    themes: dict[str, dict[str, Any]]
    placeholders: list[str]
    abbreviations: list[tuple[re.Pattern[str], str, float]]


CASE_KEYS = ("positive", "negated", "placeholder", "intended", "adult_not_child",
             "no_substance", "near_miss")
MERGED_KEYS = ("markers", "filler", "lists", "doc_types", "people", "settings", "themes",
               "abbreviations")


def _read_yaml(bank_dir: Path) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Merge the top-level sections of every bank file; a key defined twice is an error."""
    raw: dict[str, dict[str, Any]] = {k: {} for k in MERGED_KEYS}
    placeholders: list[str] = []
    for path in sorted(bank_dir.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, value in data.items():
            if key == "placeholders":
                placeholders += parse_lines(value)
                continue
            if key not in raw:
                raise ValueError(f"{path.name}: unknown top-level key {key!r}")
            for name, block in value.items():
                if name in raw[key]:
                    raise ValueError(f"{path.name}: {key}.{name} is defined twice in the banks")
                raw[key][name] = block
    return raw, placeholders


def _marker_bank(name: str, block: dict[str, Any]) -> MarkerBank:
    """Parse one marker block; 'defaults' apply to every case, 'positive_defaults' to positives."""
    defaults = {k: str(v) for k, v in (block.get("defaults") or {}).items()}
    pos_defaults = {**defaults,
                    **{k: str(v) for k, v in (block.get("positive_defaults") or {}).items()}}
    cases = {case: parse_entries(block[case], pos_defaults if case == "positive" else defaults)
             for case in CASE_KEYS if block.get(case)}
    return MarkerBank(
        name=name,
        headings=parse_lines(block.get("headings")),
        type_headings={t: parse_lines(v) for t, v in (block.get("type_headings") or {}).items()},
        cases=cases,
    )


def _abbreviation(phrase: str, value: str | list[Any]) -> tuple[re.Pattern[str], str, float]:
    """'phrase: ABBR' or 'phrase: [ABBR, rate multiplier]'."""
    repl, mult = (value, 1.0) if isinstance(value, str) else (str(value[0]), float(value[1]))
    return re.compile(rf"\b{re.escape(phrase)}\b", re.IGNORECASE), repl, mult


def load_banks(bank_dir: Path = BANK_DIR) -> Banks:
    """Read the paraphrase banks, name pools, layouts and settings."""
    raw, placeholders = _read_yaml(bank_dir)
    # filler is neutral, so by default it may appear whatever the child's age (unborn included)
    filler = {name: FillerGroup(parse_lines(g.get("headings")),
                                parse_entries(g.get("items"), {"age": "-1..17"}),
                                int(g.get("max", 3)))
              for name, g in raw["filler"].items()}
    return Banks(
        markers={name: _marker_bank(name, block) for name, block in raw["markers"].items()},
        filler=filler,
        lists={k: parse_lines(v) for k, v in raw["lists"].items()},
        doc_types=raw["doc_types"],
        people=raw["people"],
        settings=raw["settings"],
        themes=raw["themes"],
        placeholders=placeholders,
        abbreviations=[_abbreviation(p, v) for p, v in raw["abbreviations"].items()],
    )


# ============================================================================================
# Random helpers, dates and slot filling
# ============================================================================================

def weighted(rng: random.Random, weights: dict[str, float]) -> str:
    """Pick a key with probability proportional to its weight (dict order is stable)."""
    keys = [k for k, w in weights.items() if w > 0]
    return rng.choices(keys, [weights[k] for k in keys])[0]


def rand_range(rng: random.Random, pair: Sequence[int]) -> int:
    """Inclusive random integer from a [lo, hi] pair read from the settings."""
    return rng.randint(int(pair[0]), int(pair[1]))


def capitalise(text: str) -> str:
    """Upper-case the first letter only (str.capitalize would lower-case names)."""
    return text[:1].upper() + text[1:] if text[:1].islower() else text


NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                "ten"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
DATE_STYLES = ("dmy_slash", "long", "dmy_dot", "short_month", "dmy_short")


def fmt_date(d: dt.date, style: str) -> str:
    """Format dates the ways English case recording systems and workers write them."""
    if style == "dmy_slash":
        return f"{d.day:02d}/{d.month:02d}/{d.year}"
    if style == "long":
        return f"{d.day} {MONTHS[d.month - 1]} {d.year}"
    if style == "dmy_dot":
        return f"{d.day:02d}.{d.month:02d}.{d.year % 100:02d}"
    if style == "short_month":
        return f"{d.day} {MONTHS[d.month - 1][:3]} {d.year}"
    return f"{d.day}/{d.month}/{d.year % 100:02d}"


SLOT_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class Slots:
    """Fills {slot} templates: fixed per-record values, fresh dynamic values, then bank lists.

    A capitalised slot ({He}, {Mum}) gives the capitalised value of its lower-case form.
    """

    def __init__(self, rng: random.Random, lists: dict[str, list[str]], fixed: dict[str, str],
                 dynamic: dict[str, Callable[[], str]]) -> None:
        self.rng, self.lists, self.fixed, self.dynamic = rng, lists, fixed, dynamic

    def value(self, name: str, depth: int) -> str:
        if name in self.fixed:
            return self.fixed[name]
        if name in self.dynamic:
            return self.fill(self.dynamic[name](), depth + 1)
        if name in self.lists:
            return self.fill(self.rng.choice(self.lists[name]), depth + 1)
        lower = name[0].lower() + name[1:]
        if lower != name:
            return capitalise(self.value(lower, depth))
        raise KeyError(f"unknown slot {{{name}}}")

    def fill(self, template: str, depth: int = 0) -> str:
        if depth > 6:
            raise RecursionError(f"slot recursion too deep in {template!r}")
        return SLOT_RE.sub(lambda m: self.value(m.group(1), depth), template)


BRACKET_RE = re.compile(r"\[\[(.+?)\]\]")


def strip_brackets(text: str) -> tuple[str, list[tuple[int, int]]]:
    """Remove [[...]] marks and return the clean text with the marked spans' offsets."""
    spans: list[tuple[int, int]] = []
    out: list[str] = []
    last = pos = 0
    for m in BRACKET_RE.finditer(text):
        out.append(text[last:m.start()])
        pos += m.start() - last
        spans.append((pos, pos + len(m.group(1))))
        out.append(m.group(1))
        pos += len(m.group(1))
        last = m.end()
    out.append(text[last:])
    return "".join(out), spans


# ============================================================================================
# Who the family are, dates and voice
# ============================================================================================

def pick_culture(rng: random.Random, cultures: dict[str, Any]) -> dict[str, Any]:
    """A culture's name pool, weighted so White British names are common but not dominant."""
    culture: dict[str, Any] = cultures[weighted(rng, {k: float(v.get("weight", 1))
                                                      for k, v in cultures.items()})]
    return culture


def person_name(rng: random.Random, culture: dict[str, Any], female: bool,
                surname: str | None = None) -> tuple[str, str]:
    """First name and surname, with the surname form a woman of that culture would use."""
    first = rng.choice(culture["women" if female else "men"])
    last = surname or rng.choice(culture["surnames"])
    if female:
        if culture.get("women_surnames") and rng.random() < 0.5:
            last = rng.choice(culture["women_surnames"])
        elif culture.get("feminine") == "polish" and last.endswith(("ski", "cki", "dzki")):
            last = last[:-1] + "a"
    return first, last


def family_slots(rng: random.Random, cultures: dict[str, Any], age: int) -> dict[str, str]:
    """The child, siblings, parents and partner; sometimes a parent from another culture."""
    culture = pick_culture(rng, cultures)
    dad_culture = pick_culture(rng, cultures) if rng.random() < 0.15 else culture
    boy = rng.random() < 0.5
    surname = rng.choice(dad_culture["surnames"])
    first = rng.choice(culture["boys" if boy else "girls"])
    others = [n for n in culture["boys"] + culture["girls"] if n != first]
    mum_first, mum_last = person_name(rng, culture, True, surname if rng.random() < 0.6 else None)
    dad_first, dad_last = person_name(rng, dad_culture, False, surname)
    if age < 0:
        child = rng.choice([f"Baby {surname}", "the unborn baby", "unborn baby"])
        child_full = f"Unborn baby {surname}"
    else:
        child, child_full = first, f"{first} {surname}"
    return {
        "child": child, "child_full": child_full,
        "child2": rng.choice(others), "friend": rng.choice(others),
        "age": "unborn" if age < 0 else ("9 months" if age == 0 else str(age)),
        "age_desc": ("unborn" if age < 0 else f"{rng.randint(2, 11)} months" if age == 0
                     else f"{age} years"),
        "he": "he" if boy else "she", "him": "him" if boy else "her",
        "his": "his" if boy else "her", "himself": "himself" if boy else "herself",
        "mum": rng.choices([mum_first, "Mum", "mum", f"Ms {mum_last}", "mother"],
                           [4, 3, 1, 1.5, 1])[0],
        "dad": rng.choices([dad_first, "Dad", "dad", f"Mr {dad_last}", "father"],
                           [4, 3, 1, 1.5, 1])[0],
        "mum_full": f"{mum_first} {mum_last}", "dad_full": f"{dad_first} {dad_last}",
        "partner": person_name(rng, pick_culture(rng, cultures), False)[0],
        "carer_name": " ".join(person_name(rng, pick_culture(rng, cultures), True)),
        "language": culture.get("language") or rng.choice(["Polish", "Urdu", "Arabic", "Somali"]),
    }


VOICES = {
    # how the writer refers to themself: (I, me, my, I am, I have)
    "first": ("I", "me", "my", "I am", "I have"),
    "sw": ("SW", "SW", "SW's", "SW is", "SW has"),
    "worker": ("the social worker", "the social worker", "the social worker's",
               "the social worker is", "the social worker has"),
}
VOICE_WEIGHTS = {
    "headed": {"first": 0.8, "sw": 0.1, "worker": 0.1},
    "prose": {"first": 1.0},
    "case_note": {"first": 0.4, "sw": 0.6},
    "export": {"first": 0.6, "worker": 0.25, "sw": 0.15},
    "table": {"first": 0.6, "sw": 0.2, "worker": 0.2},
}


def staff_slots(rng: random.Random, cultures: dict[str, Any], layout: str) -> dict[str, str]:
    """The social worker and manager, and how the record refers to them."""
    worker_female = rng.random() < 0.82
    w_first, w_last = person_name(rng, pick_culture(rng, cultures), worker_female)
    m_first, m_last = person_name(rng, pick_culture(rng, cultures), rng.random() < 0.7)
    voice = VOICES[weighted(rng, VOICE_WEIGHTS[layout])]
    return {
        "worker": f"{w_first} {w_last}", "worker_first": w_first, "manager": f"{m_first} {m_last}",
        "sw": rng.choice(["SW", w_first, w_first]),
        "tm": rng.choice(["TM", m_first, "I", "Manager"]),
        "sw_she": "she" if worker_female else "he", "sw_her": "her" if worker_female else "his",
        "I": voice[0], "me": voice[1], "my": voice[2], "I_am": voice[3], "I_have": voice[4],
    }


def date_slots(rng: random.Random) -> tuple[dict[str, str], dt.date, str]:
    """Record date, last supervision at the usual interval, an overdue one, and nearby months."""
    d0 = dt.date(2023, 1, 2) + dt.timedelta(days=rng.randint(0, 900))
    style = rng.choice(DATE_STYLES)
    weeks, overdue = rng.randint(3, 6), rng.randint(11, 22)
    fixed = {
        "date": fmt_date(d0, style),
        "date_past": fmt_date(d0 - dt.timedelta(weeks=weeks), style),
        "interval": f"{NUMBER_WORDS[weeks]} weeks",
        "date_overdue": fmt_date(d0 - dt.timedelta(weeks=overdue), style),
        "overdue_interval": rng.choice([f"{overdue} weeks", f"{overdue // 4} months"]),
        "month": MONTHS[(d0.month - 1 - rng.randint(1, 3)) % 12],
        "month_future": MONTHS[(d0.month - 1 + rng.randint(1, 3)) % 12],
    }
    return fixed, d0, style


def place_slots(rng: random.Random, people: dict[str, Any], doc_type: str, theme: dict[str, Any],
                age: int) -> dict[str, str]:
    """School (by age), local places, plan category and the meeting that made the plan."""
    schools = people["schools"]
    key = ("nursery" if age < 4 else "primary" if age < 11 else "secondary" if age < 16
           else "college")
    return {
        "school": rng.choice(schools[key]), "hub": rng.choice(people["hubs"]),
        "area": rng.choice(people["areas"]), "city": rng.choice(people["cities"]),
        "hospital": rng.choice(people["hospitals"]), "practice": rng.choice(people["practices"]),
        "category": theme.get("category", "neglect"),
        "plan_label": {"cin_plan": "CIN plan", "cp_plan": "child protection plan"}.get(
            doc_type, rng.choice(["CIN plan", "child protection plan", "CIN plan"])),
        "meeting": ("CIN meeting" if doc_type == "cin_plan"
                    else rng.choice(["initial child protection conference", "core group"])),
        "empty": "",
    }


def dynamic_slots(rng: random.Random, people: dict[str, Any], d0: dt.date,
                  style: str) -> dict[str, Callable[[], str]]:
    """Slots that take a fresh value at each use: professionals, future dates, times."""
    cultures = people["cultures"]

    def pro() -> str:
        female = rng.random() < 0.7
        first, last = person_name(rng, pick_culture(rng, cultures), female)
        title = rng.choice(people["titles_f"] if female else people["titles_m"])
        return rng.choice([f"{title} {last}", f"{first} {last}", f"{first} {last}"])

    def clock() -> str:
        h, m = rng.randint(9, 17), rng.choice([0, 15, 30, 45])
        twelve = f"{h if h <= 12 else h - 12}.{m:02d}{'am' if h < 12 else 'pm'}"
        return rng.choice([f"{h:02d}:{m:02d}", twelve])

    return {
        "pro": pro,
        "surname_any": lambda: rng.choice(cultures[rng.choice(list(cultures))]["surnames"]),
        "date_future": lambda: fmt_date(d0 + dt.timedelta(days=rng.randint(7, 84)), style),
        "date_recent": lambda: fmt_date(d0 - dt.timedelta(days=rng.randint(2, 18)), style),
        "time": clock,
    }


def make_slots(rng: random.Random, banks: Banks, doc_type: str, layout: str, theme: str,
               age: int, lac: bool) -> Slots:
    """Fix the family, staff, places and dates for one record and build its slot filler."""
    people = banks.people
    theme_spec = banks.themes[theme]
    dates, d0, style = date_slots(rng)
    fixed = {**family_slots(rng, people["cultures"], age),
             **staff_slots(rng, people["cultures"], layout),
             **dates,
             **place_slots(rng, people, doc_type, theme_spec, age)}
    slots = Slots(rng, banks.lists, fixed, dynamic_slots(rng, people, d0, style))
    carer_list = "carer_uasc" if theme == "uasc" else "carer_lac" if lac else "carer_family"
    fixed["carer"] = slots.fill(rng.choice(banks.lists[carer_list]))
    fixed["concern"] = slots.fill(rng.choice(theme_spec["concern"]))
    return slots


# ============================================================================================
# Record context
# ============================================================================================

@dataclass
class Ctx:
    """Per-record state: choices made so far and the slot filler."""

    rng: random.Random
    banks: Banks
    doc_type: str
    quality: str
    layout: str
    theme: str
    age: int
    lac: bool
    no_parents: bool
    tone: str
    noise_level: str
    slots: Slots
    truth: dict[str, bool] = field(default_factory=dict)
    cases: dict[str, str] = field(default_factory=dict)
    vague: bool = False
    used: set[str] = field(default_factory=set)

    @property
    def markers(self) -> list[str]:
        """This doc_type's markers other than vague_goal (which is decided separately)."""
        return [m for m in TYPE_MARKERS[self.doc_type] if m != VAGUE]

    def fill(self, template: str) -> str:
        return self.slots.fill(template)


def pick_theme(rng: random.Random, banks: Banks, doc_type: str) -> str:
    """The concern the record is about, among themes that fit the doc_type."""
    options = {name: float(t.get("weight", 1)) for name, t in banks.themes.items()
               if doc_type in t.get("types", [doc_type])}
    return weighted(rng, options)


AGE_BANDS = {"baby": ((0, 1), 1.0), "early": ((2, 4), 1.5), "primary": ((5, 11), 3.0),
             "teen": ((12, 17), 3.5)}


def pick_age(rng: random.Random, theme_age: tuple[int, int]) -> int:
    """Ages spread from babies to 17, within what the theme allows."""
    band = weighted(rng, {k: w for k, (_, w) in AGE_BANDS.items()})
    (a, b), (lo, hi) = AGE_BANDS[band][0], theme_age
    a, b = max(lo, a), min(hi, b)
    return rng.randint(a, b) if a <= b else rng.randint(lo, hi)


def make_context(rng: random.Random, banks: Banks, doc_type: str, quality: str,
                 layout: str | None = None, theme: str | None = None,
                 age: int | None = None) -> Ctx:
    """All per-record choices that do not depend on the markers."""
    settings = banks.settings
    layout = layout or weighted(rng, settings["layout_weights"])
    theme = theme or pick_theme(rng, banks, doc_type)
    tspec = banks.themes[theme]
    if age is None:
        age = pick_age(rng, parse_age(str(tspec.get("age", "0..17"))))
    lac = bool(tspec.get("lac")) or (age >= 0 and rng.random() < settings["looked_after"])
    heavy_note = layout == "case_note" and rng.random() < 0.6
    noise_level = "heavy" if heavy_note else weighted(rng, settings["noise_levels"])
    return Ctx(rng=rng, banks=banks, doc_type=doc_type, quality=quality, layout=layout,
               theme=theme, age=age, lac=lac, no_parents=bool(tspec.get("no_parents")),
               tone=weighted(rng, settings["tone_weights"]), noise_level=noise_level,
               slots=make_slots(rng, banks, doc_type, layout, theme, age, lac))


# ============================================================================================
# Which markers are present, and how absent ones are realised
# ============================================================================================

def usable(entry: Entry, ctx: Ctx) -> bool:
    """Can this phrasing appear in this record without contradicting its labels?"""
    lo, hi = entry.age
    if (not lo <= ctx.age <= hi
            or (entry.themes and ctx.theme not in entry.themes)
            or (entry.types and ctx.doc_type not in entry.types)
            or (entry.lac and not ctx.lac)
            or (entry.tone and entry.tone != ctx.tone)
            or (entry.parents and ctx.no_parents)
            or entry.text in ctx.used):
        return False
    for marker in entry.needs + entry.also:
        if marker == VAGUE:
            if not ctx.vague:
                return False
        elif marker in ctx.truth and not ctx.truth[marker]:
            return False
    return True


def pick_entries(ctx: Ctx, entries: Iterable[Entry], k: int) -> list[Entry]:
    """Sample without replacement, preferring phrasings written for this record's theme."""
    pool = [e for e in entries if usable(e, ctx)]
    chosen: list[Entry] = []
    while pool and len(chosen) < k:
        entry = ctx.rng.choices(pool, [5.0 if e.themes else 1.0 for e in pool])[0]
        chosen.append(entry)
        pool = [e for e in pool if e.text != entry.text]
    return chosen


def has_usable(ctx: Ctx, marker: str, case: str) -> bool:
    """Does the marker's bank offer at least one phrasing of this case for this record?"""
    return any(usable(e, ctx) for e in ctx.banks.markers[marker].cases.get(case, []))


def requirements_met(ctx: Ctx, marker: str) -> bool:
    """seen_alone needs child_seen, responsibilities needs actions ... (settings tables)."""
    settings = ctx.banks.settings
    if any(not ctx.truth.get(r, True) for r in settings["requires_all"].get(marker, [])):
        return False
    any_of = [r for r in settings["requires_any"].get(marker, []) if r in ctx.truth]
    return not any_of or any(ctx.truth[r] for r in any_of)


def infeasible_under(ctx: Ctx, tone: str) -> int:
    """How many planned-present markers would lack a usable phrasing under this tone."""
    original, ctx.tone = ctx.tone, tone
    count = sum(1 for m in ctx.markers
                if ctx.truth[m] and m not in ROW_MARKERS and not has_usable(ctx, m, "positive"))
    ctx.tone = original
    return count


def decide_truth(ctx: Ctx) -> None:
    """Draw presence per marker by quality, then switch off what this record cannot support."""
    settings = ctx.banks.settings
    p = settings["presence"][ctx.quality]
    adjust = settings.get("presence_adjust", {})
    for marker in ctx.markers:
        ctx.truth[marker] = ctx.rng.random() < min(0.97, p + adjust.get(marker, 0.0))
    ctx.vague = ctx.rng.random() < settings["vague"][ctx.quality]
    ctx.tone = min(("concern", "reassure"),
                   key=lambda tone: (infeasible_under(ctx, tone), tone != ctx.tone))
    changed = True
    while changed:  # fixpoint: switching one marker off can make another infeasible
        changed = False
        for marker in ctx.markers:
            feasible = requirements_met(ctx, marker) and (
                marker in ROW_MARKERS or has_usable(ctx, marker, "positive"))
            if ctx.truth[marker] and not feasible:
                ctx.truth[marker] = False
                changed = True


def choose_case(ctx: Ctx, marker: str) -> str:
    """Pick how an absent marker shows up, among the cases its bank can realise here."""
    weights = ctx.banks.settings["absent_case_weights"]
    options = {"silent": weights["silent"]}
    for case in ctx.banks.markers[marker].cases:
        if case != "positive" and (case == "placeholder" or has_usable(ctx, marker, case)):
            options[case] = weights[case]
    return weighted(ctx.rng, options)


def decide_cases(ctx: Ctx) -> None:
    """Positive, or the way the absence is realised; plan row markers are decided with the rows."""
    for marker in ctx.markers:
        if ctx.truth[marker]:
            ctx.cases[marker] = "positive"
        elif marker not in ROW_MARKERS:
            ctx.cases[marker] = choose_case(ctx, marker)


# ============================================================================================
# Sections and items
# ============================================================================================

Span = tuple[str, int, int]


@dataclass
class Item:
    """A sentence (or plan row) with the labelled spans inside it."""

    text: str
    spans: list[Span] = field(default_factory=list)
    optional: bool = False  # may be dropped to fit the length target


@dataclass
class Section:
    """A heading and its sentences; layouts decide whether the heading is shown."""

    key: str
    heading: str
    items: list[Item]
    show_heading: bool = False  # placeholders keep their heading in every layout
    rows: bool = False          # plan action rows: one per line


class ItemBuilder:
    """Concatenate pieces of a row while recording labelled offsets."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.spans: list[Span] = []
        self.pos = 0

    def add(self, text: str) -> tuple[int, int]:
        start = self.pos
        self.parts.append(text)
        self.pos += len(text)
        return start, self.pos

    def here(self) -> tuple[int, int]:
        """An empty span at the current end (a row piece that was left out)."""
        return self.pos, self.pos

    def mark(self, label: str, start: int, end: int) -> None:
        self.spans.append((label, start, end))

    def item(self) -> Item:
        return Item("".join(self.parts), self.spans)


def make_item(ctx: Ctx, entry: Entry, marker: str | None, optional: bool = False) -> Item:
    """Fill an entry's slots and label it: its own marker, plus any 'also' markers that hold."""
    text, vague_spans = strip_brackets(ctx.fill(entry.text))
    text = capitalise(text)
    whole = (0, len(text))
    spans: list[Span] = []
    for label in ([marker] if marker else []) + list(entry.also):
        if label == VAGUE:
            spans += [(VAGUE, s, e) for s, e in (vague_spans or [whole])]
        elif ctx.truth.get(label):
            spans.append((label, *whole))
    ctx.used.add(entry.text)
    return Item(text, spans, optional)


def pick_heading(ctx: Ctx, headings: list[str]) -> str:
    return capitalise(ctx.fill(ctx.rng.choice(headings)))


def placeholder_item(ctx: Ctx, marker: str) -> Item:
    """An empty-field value ('N/A', 'TBC', 'see previous plan'), marker-specific ones favoured."""
    own = [e.text for e in ctx.banks.markers[marker].cases.get("placeholder", [])]
    return Item(ctx.fill(ctx.rng.choice(own * 2 + ctx.banks.placeholders)))


def marker_section(ctx: Ctx, marker: str) -> Section | None:
    """Sentences for one marker, following the case decided for it."""
    bank = ctx.banks.markers[marker]
    case = ctx.cases[marker]
    heading = pick_heading(ctx, bank.headings_for(ctx.doc_type))
    if case == "silent":
        return None
    if case == "placeholder":
        return Section(marker, heading, [placeholder_item(ctx, marker)], show_heading=True)
    if case == "positive":
        settings = ctx.banks.settings
        k = rand_range(ctx.rng, settings["positives_per_marker"][ctx.quality])
        k = min(k, settings["max_positives"].get(marker, k))
        entries = pick_entries(ctx, bank.cases["positive"], k)
        items = [make_item(ctx, e, marker, optional=i > 0) for i, e in enumerate(entries)]
        if marker == "outcomes":
            items = outcome_extras(ctx, items)
        return Section(marker, heading, items)
    entries = pick_entries(ctx, bank.cases.get(case, []), 1)
    return Section(marker, heading, [make_item(ctx, entries[0], None)]) if entries else None


def outcome_extras(ctx: Ctx, items: list[Item]) -> list[Item]:
    """Occasionally slip one parent-focused (vague) aim in among specific child outcomes."""
    if ctx.vague and len(items) >= 2 and ctx.rng.random() < 0.35:
        extra = pick_entries(ctx, ctx.banks.markers["outcomes"].cases["near_miss"], 1)
        if extra:
            items.insert(ctx.rng.randrange(1, len(items) + 1), make_item(ctx, extra[0], None))
    return items


def filler_section(ctx: Ctx, name: str, n: int) -> Section:
    """Up to n neutral sentences from one filler group (capped by the group's max)."""
    group = ctx.banks.filler[name]
    entries = pick_entries(ctx, group.items, min(n, group.max))
    return Section(name, pick_heading(ctx, group.headings),
                   [make_item(ctx, e, None, optional=True) for e in entries])


# ---- plan action rows ----------------------------------------------------------------------

def owner_for(ctx: Ctx, entry: Entry | None, owned: bool, blank_case: str) -> str:
    """Who owns a row: a named person/agency, or a blank/TBC where responsibilities is absent.

    entry None is a vague row: in an otherwise owned plan it belongs to 'all professionals'.
    """
    lists = ctx.banks.lists
    if not owned:
        return ctx.fill(ctx.rng.choice(lists[f"owner_none_{blank_case}"]))
    if entry is None:
        return ctx.fill(ctx.rng.choice(lists["owner_vague"]))
    roles = [r for r in entry.who if not (ctx.no_parents and r in ("mum", "dad"))] or ["sw"]
    return ctx.fill(ctx.rng.choice(lists[f"owner_{ctx.rng.choice(roles)}"]))


def when_for(ctx: Ctx, dated: bool, case: str) -> str:
    """A deadline, or what stands in for one when timescales is absent ('ongoing', 'TBC', '')."""
    if dated:
        return ctx.fill(ctx.rng.choice(ctx.banks.lists["when_pos"]))
    if case == "silent":
        return ""
    return ctx.fill(ctx.rng.choice(ctx.banks.lists[f"when_{case}"]))


def when_joiner(ctx: Ctx, when: str, dated: bool) -> str:
    """'by 3 May' follows an action directly; 'ongoing' or 'TBC' reads as a separate note."""
    if dated or when.startswith(("by ", "within ", "before ", "from ", "starting ")):
        return " "
    return ctx.rng.choice([" – ", "; timescale: ", ", "])


def plan_row(ctx: Ctx, action: str, owner: str, when: str, labels: dict[str, bool],
             vague_spans: list[tuple[int, int]]) -> Item:
    """Write one action as a table row or a sentence, recording the labelled pieces."""
    b = ItemBuilder()
    owned, dated = labels["responsibilities"], labels["timescales"]
    if ctx.layout == "table":
        a = b.add(capitalise(action))
        b.add(" | ")
        o = b.add(owner or " ")
        b.add(" | ")
        w = b.add(when or "-")
    elif owned and ctx.rng.random() < 0.5:          # "Mum will attend ... by 3 May."
        o = b.add(capitalise(owner))
        b.add(ctx.rng.choice([" will ", " to "]))
        a = b.add(action)
        w = b.add(when_joiner(ctx, when, dated) + when) if when else b.here()
        b.add(".")
    elif owned or owner.strip() not in ("", "-"):   # "Attend ... – Mum, by 3 May."
        a = b.add(capitalise(action))
        b.add(" – " if owned else " – lead: ")
        o = b.add(owner)
        w = b.add(", " + when) if when else b.here()
        b.add(".")
    else:                                           # no owner at all
        lead = ctx.rng.choice(["", "It was agreed to ", "Action: "])
        o = b.add(lead)
        a = b.add(action if lead.startswith("It") else capitalise(action))
        w = b.add(when_joiner(ctx, when, dated) + when) if when else b.here()
        b.add(".")
    for s, e in vague_spans:
        b.mark(VAGUE, a[0] + s, a[0] + e)
    if labels["actions"]:
        b.mark("actions", *a)
    if owned:
        b.mark("responsibilities", min(a[0], o[0]), max(a[1], o[1]))
    if dated:
        b.mark("timescales", min(a[0], w[0]), max(a[1], w[1]))
    return b.item()


def vague_row(ctx: Ctx, entry: Entry, owned_by_all: bool, r_case: str, t_case: str) -> Item:
    """An unmeasurable action row; owned by 'all professionals' only in an otherwise owned plan."""
    ctx.used.add(entry.text)
    text, spans = strip_brackets(ctx.fill(entry.text))
    owner = owner_for(ctx, None, owned_by_all, r_case)
    when = when_for(ctx, False, "near_miss" if t_case == "silent" else t_case)
    labels = {"actions": False, "responsibilities": False, "timescales": False}
    return plan_row(ctx, text, owner, when, labels, spans)


def plan_sections(ctx: Ctx) -> list[Section]:
    """The action table/list of a plan; realises actions, responsibilities and timescales."""
    bank = ctx.banks.markers["actions"]
    heading = pick_heading(ctx, bank.headings_for(ctx.doc_type))
    case = ctx.cases["actions"]
    t_true, r_true = ctx.truth["timescales"], ctx.truth["responsibilities"]
    r_case = ctx.rng.choice(["near_miss", "placeholder"])
    t_case = weighted(ctx.rng, {"near_miss": 2, "placeholder": 1, "silent": 1})
    rows: list[Item] = []
    if case == "positive":
        labels = {"actions": True, "responsibilities": r_true, "timescales": t_true}
        k = rand_range(ctx.rng, {"good": (3, 5), "average": (2, 4), "poor": (1, 3)}[ctx.quality])
        for entry in pick_entries(ctx, bank.cases["positive"], k):
            ctx.used.add(entry.text)
            rows.append(plan_row(ctx, ctx.fill(entry.text), owner_for(ctx, entry, r_true, r_case),
                                 when_for(ctx, t_true, t_case), labels, []))
    elif case == "near_miss":
        for entry in pick_entries(ctx, bank.cases["near_miss"], rand_range(ctx.rng, (1, 3))):
            rows.append(vague_row(ctx, entry, r_true, r_case, t_case))
    ctx.cases["responsibilities"] = "positive" if r_true else (r_case if rows else "silent")
    ctx.cases["timescales"] = "positive" if t_true else (t_case if rows else "silent")
    if rows:
        return [Section("actions", heading, rows, rows=True)]
    if case == "placeholder":
        return [Section("actions", heading, [placeholder_item(ctx, "actions")], show_heading=True)]
    if case == "intended":
        entries = pick_entries(ctx, bank.cases["intended"], 1)
        return [Section("actions", heading, [make_item(ctx, e, None) for e in entries])]
    return []


def add_outcome_dates(ctx: Ctx, sections: list[Section]) -> None:
    """Give outcomes target dates: needed when no action row is dated, sometimes added anyway."""
    outcomes = next((s for s in sections if s.key == "outcomes"), None)
    if not outcomes or ctx.cases["outcomes"] != "positive" or not ctx.truth["timescales"]:
        return
    rows_dated = has_label(sections, "timescales")
    if rows_dated and ctx.rng.random() < 0.7:
        return
    targets = [it for it in outcomes.items if any(lab == "outcomes" for lab, *_ in it.spans)]
    for item in targets[:1] if rows_dated else targets:
        suffix = ctx.fill(ctx.rng.choice(ctx.banks.lists["outcome_date_suffix"]))
        base = item.text.rstrip(".")
        item.text = base + ("" if suffix.startswith(",") else " ") + suffix + "."
        item.spans = [(lab, s, len(item.text) if e >= len(base) else e)
                      for lab, s, e in item.spans]
        item.spans.append(("timescales", 0, len(item.text)))


# ---- putting a record's sections together --------------------------------------------------

def build_sections(ctx: Ctx) -> list[Section]:
    """Sections in the doc_type's order: filler groups, marker sections, plan action rows."""
    spec = ctx.banks.doc_types[ctx.doc_type]
    per_filler = ctx.banks.settings["filler_per_section"][ctx.quality]
    sections: list[Section] = []
    for part in spec["sections"]:
        if "filler" in part:
            n = rand_range(ctx.rng, part.get("n", per_filler))
            sections.append(filler_section(ctx, part["filler"], n))
        elif "special" in part:
            sections += plan_sections(ctx)
        else:
            section = marker_section(ctx, part["marker"])
            prev = sections[-1] if sections else None
            if section is None:
                continue
            if (part.get("join") and prev and prev.key == part["join"]
                    and not prev.show_heading and not section.show_heading):
                prev.items += section.items
            else:
                sections.append(section)
    if ctx.doc_type in PLAN_TYPES:
        add_outcome_dates(ctx, sections)
    ensure_vague(ctx, sections, spec["vague_section"])
    return [s for s in sections if s.items]


def has_label(sections: list[Section], label: str) -> bool:
    return any(lab == label for s in sections for it in s.items for lab, *_ in it.spans)


def ensure_vague(ctx: Ctx, sections: list[Section], where: str) -> None:
    """A record meant to contain a vague aim gets one, in the place such aims usually sit."""
    if not ctx.vague or has_label(sections, VAGUE):
        return
    target = next((s for s in sections if s.key == where and not s.show_heading), None)
    if target is not None and target.rows:
        rows = pick_entries(ctx, ctx.banks.markers["actions"].cases["near_miss"], 1)
        if rows:
            owned = ctx.truth.get("responsibilities", False)
            target.items.append(vague_row(ctx, rows[0], owned, "near_miss", "near_miss"))
            return
    item = make_item(ctx, pick_entries(ctx, ctx.banks.markers[VAGUE].cases["positive"], 1)[0],
                     VAGUE)
    if target is not None and not target.rows:
        target.items.append(item)
    else:
        heading = pick_heading(ctx, ctx.banks.markers[VAGUE].headings)
        sections.append(Section("next_steps", heading, [item]))


# ============================================================================================
# Length control
# ============================================================================================

def estimate_words(sections: list[Section]) -> int:
    """Words before rendering (title and meta lines add about a dozen)."""
    return 12 + sum(len(s.heading.split()) + sum(len(i.text.split()) for i in s.items)
                    for s in sections)


def _filler_position(spec: dict[str, Any], sections: list[Section], name: str) -> int:
    """Where a missing filler section goes: after the sections that precede it in the spec."""
    order = [p.get("filler") or p.get("marker") or "actions" for p in spec["sections"]]
    rank = {k: i for i, k in enumerate(order)}
    mine = rank.get(name, len(order))
    return sum(1 for s in sections if rank.get(s.key, len(order)) < mine)


def add_filler(ctx: Ctx, sections: list[Section], relax: bool = False) -> bool:
    """Lengthen a short record with a neutral sentence from one of its own filler groups.

    relax lifts the per-section cap; it is only used when a record would otherwise be too short.
    """
    spec = ctx.banks.doc_types[ctx.doc_type]
    names = [p["filler"] for p in spec["sections"] if "filler" in p]
    for name in ctx.rng.sample(names, len(names)):
        group = ctx.banks.filler[name]
        section = next((s for s in sections if s.key == name), None)
        if section is not None and len(section.items) >= group.max and not relax:
            continue
        entries = pick_entries(ctx, group.items, 1)
        if not entries:
            continue
        if section is None:
            section = Section(name, pick_heading(ctx, group.headings), [])
            sections.insert(_filler_position(spec, sections, name), section)
        section.items.append(make_item(ctx, entries[0], None, optional=True))
        return True
    return False


def drop_optional(ctx: Ctx, sections: list[Section]) -> bool:
    """Shorten a long record by dropping filler or a second/third positive phrasing."""
    candidates = [(s, i) for s in sections for i in s.items if i.optional]
    if not candidates:
        return False
    section, item = ctx.rng.choice(candidates)
    section.items.remove(item)
    return True


def fit_length(ctx: Ctx, sections: list[Section], lo: int, hi: int) -> None:
    """Aim for the quality's word range before rendering."""
    while estimate_words(sections) < lo and add_filler(ctx, sections):
        pass
    while estimate_words(sections) > hi and drop_optional(ctx, sections):
        pass


# ============================================================================================
# Noise
# ============================================================================================

WORD_RE = re.compile(r"[A-Za-z]{5,}")


class Noiser:
    """Light, seeded spelling and formatting noise that never moves a span boundary."""

    def __init__(self, rng: random.Random, rates: dict[str, float],
                 abbreviations: list[tuple[re.Pattern[str], str, float]]) -> None:
        self.rng, self.rates, self.abbreviations = rng, rates, abbreviations

    def typo(self, word: str) -> str:
        """Swap, drop or double one inner letter."""
        if word.isupper():
            return word
        i = self.rng.randrange(1, len(word) - 1)
        op = self.rng.choice(("swap", "drop", "double"))
        if op == "swap":
            return word[:i] + word[i + 1] + word[i] + word[i + 2:]
        if op == "drop":
            return word[:i] + word[i + 1:]
        return word[:i] + word[i] + word[i:]

    def _replacer(self, rate: float, new: str | None) -> Callable[[re.Match[str]], str]:
        """A re.sub callback that changes each match with probability rate (typo if new is None)."""
        def replace(m: re.Match[str]) -> str:
            if self.rng.random() >= rate:
                return m.group(0)
            return self.typo(m.group(0)) if new is None else new
        return replace

    def words(self, text: str) -> str:
        """Abbreviations and typos inside one piece of text."""
        if self.rates["abbrev"]:
            for pattern, repl, mult in self.abbreviations:
                text = pattern.sub(self._replacer(self.rates["abbrev"] * mult, repl), text)
        if self.rates["typo"]:
            text = WORD_RE.sub(self._replacer(self.rates["typo"], None), text)
        return text

    def apply(self, item: Item) -> tuple[str, list[Span]]:
        """Noise an item piece by piece between span boundaries; return text and moved spans."""
        text, spans = item.text, list(item.spans)
        if (text[:1].isupper() and not text[:2].isupper()
                and self.rng.random() < self.rates["lower_start"]):
            text = text[0].lower() + text[1:]
        if text.endswith(".") and self.rng.random() < self.rates["drop_stop"]:
            text = text[:-1]
            spans = [(lab, min(s, len(text)), min(e, len(text))) for lab, s, e in spans]
        cuts = sorted({0, len(text), *(s for _, s, _ in spans), *(e for _, _, e in spans)})
        moved = {0: 0}
        out: list[str] = []
        for a, b in zip(cuts, cuts[1:], strict=False):
            out.append(self.words(text[a:b]))
            moved[b] = moved[a] + len(out[-1])
        return "".join(out), [(lab, moved[s], moved[e]) for lab, s, e in spans]


# ============================================================================================
# Layouts
# ============================================================================================

class DocBuilder:
    """Accumulates the record text; items are noised and their spans moved to text offsets."""

    def __init__(self, noiser: Noiser) -> None:
        self.noiser = noiser
        self.parts: list[str] = []
        self.spans: list[Span] = []
        self.pos = 0

    def raw(self, text: str) -> None:
        self.parts.append(text)
        self.pos += len(text)

    def item(self, item: Item) -> None:
        text, spans = self.noiser.apply(item)
        self.spans += [(lab, self.pos + s, self.pos + e) for lab, s, e in spans]
        self.raw(text)

    def items(self, items: list[Item], sep: str) -> None:
        for i, it in enumerate(items):
            if i:
                self.raw(sep)
            self.item(it)

    @property
    def text(self) -> str:
        return "".join(self.parts)


def title_and_meta(ctx: Ctx) -> tuple[str, list[str]]:
    """The form title and up to three header lines (date, worker, child)."""
    spec = ctx.banks.doc_types[ctx.doc_type]
    title = ctx.fill(ctx.rng.choice(parse_lines(spec["titles"])))
    meta = parse_lines(spec["meta"])
    chosen = ctx.rng.sample(meta, ctx.rng.randint(0, min(3, len(meta))))
    return title, [ctx.fill(m) for m in chosen]


def render_headed(ctx: Ctx, b: DocBuilder, sections: list[Section]) -> None:
    """Template form: title, meta lines, then 'Heading:' blocks."""
    title, meta = title_and_meta(ctx)
    style = ctx.rng.choice(["{h}:\n", "{H}\n", "{h}: ", "{h} – ", "{h}\n"])
    b.raw(title + "\n" + "".join(m + "\n" for m in meta) + "\n")
    for s in sections:
        h = s.heading
        b.raw(f"{h}: " if s.show_heading else style.replace("{h}", h).replace("{H}", h.upper()))
        b.items(s.items, "\n" if s.rows else " ")
        b.raw("\n\n")


def render_prose(ctx: Ctx, b: DocBuilder, sections: list[Section]) -> None:
    """First-person running text: headings dropped except for empty-field lines."""
    if ctx.rng.random() < 0.5:
        title = ctx.rng.choice(parse_lines(ctx.banks.doc_types[ctx.doc_type]["titles"]))
        b.raw(ctx.fill(title) + "\n\n")
    in_para = 0
    for s in sections:
        if s.show_heading:
            b.raw(("\n\n" if in_para else "") + f"{s.heading}: ")
            b.items(s.items, " ")
            b.raw("\n\n")
            in_para = 0
            continue
        if in_para:
            b.raw(" ")
        b.items(s.items, " ")
        in_para += 1
        if in_para >= ctx.rng.randint(1, 3):
            b.raw("\n\n")
            in_para = 0


CASE_NOTE_EVENTS = {"assessment": "C&F assessment", "cp_enquiry": "s47 enquiry",
                    "visit": "Home visit", "cin_plan": "CIN plan", "cp_plan": "CP plan",
                    "supervision": "Case supervision", "oversight": "Mgmt oversight"}


def render_case_note(ctx: Ctx, b: DocBuilder, sections: list[Section]) -> None:
    """Terse note: a dated header line, then one line per sentence."""
    initials = "".join(w[0] for w in ctx.slots.fixed["worker"].split()[:2]).upper()
    event = CASE_NOTE_EVENTS[ctx.doc_type]
    b.raw(f"{ctx.slots.fixed['date']} {ctx.fill('{time}')} – {event} – {initials}\n")
    bullet = ctx.rng.choice(["- ", "* ", "", "• "])
    for s in sections:
        if s.show_heading:
            b.raw(f"{bullet}{s.heading}: ")
            b.items(s.items, " ")
            b.raw("\n")
            continue
        for it in s.items:
            b.raw(bullet)
            b.item(it)
            b.raw("\n")


def render_export(ctx: Ctx, b: DocBuilder, sections: list[Section]) -> None:
    """System export: timestamped header and leftover HTML (<br>, &nbsp;, <b>)."""
    title, meta = title_and_meta(ctx)
    system = ctx.rng.choice(ctx.banks.people["systems"])
    printed = f"{ctx.slots.fixed['date']} {ctx.fill('{time}')}"
    b.raw(f"[{system}] Case record export | Printed {printed}<br>"
          f"Case ref: {ctx.rng.randint(100000, 9999999)}<br>Form: {title}<br>"
          + "".join(f"{m}<br>" for m in meta) + "<br>")
    head = ctx.rng.choice(["<b>{h}</b><br>", "{H}:&nbsp;", "<b>{h}:</b>&nbsp;", "{h}:&nbsp;&nbsp;"])
    sep = ctx.rng.choice([" ", "&nbsp; ", "<br>", " "])
    for s in sections:
        b.raw(head.replace("{h}", s.heading).replace("{H}", s.heading.upper()))
        b.items(s.items, "<br>" if s.rows else sep)
        b.raw(ctx.rng.choice(["<br><br>", "<br>\n", "<br><br>\n", "</p><p>"]))


def render_table(ctx: Ctx, b: DocBuilder, sections: list[Section]) -> None:
    """Flattened table: 'Field | Detail' rows with dash separators; plans keep an action grid."""
    title, _ = title_and_meta(ctx)
    b.raw(f"{title}\nField | Detail\n--- | ---\n")
    for s in sections:
        if s.rows:
            b.raw(f"{s.heading}\nAction | Who | By when\n--- | --- | ---\n")
            b.items(s.items, "\n")
            b.raw("\n--- | ---\n")
            continue
        b.raw(f"{s.heading} | ")
        b.items(s.items, " ")
        b.raw("\n")


LAYOUTS: dict[str, Callable[[Ctx, DocBuilder, list[Section]], None]] = {
    "headed": render_headed, "prose": render_prose, "case_note": render_case_note,
    "export": render_export, "table": render_table,
}


def render(ctx: Ctx, sections: list[Section]) -> tuple[str, list[Span]]:
    """The record text in its layout, with evidence spans as offsets into that text."""
    rates = ctx.banks.settings["noise"][ctx.noise_level]
    builder = DocBuilder(Noiser(ctx.rng, rates, ctx.banks.abbreviations))
    LAYOUTS[ctx.layout](ctx, builder, sections)
    return builder.text.rstrip(), builder.spans


# ============================================================================================
# Records
# ============================================================================================

def evidence_from(text: str, spans: list[Span]) -> dict[str, list[str]]:
    """Exact quotes for each labelled span, in order, without duplicates."""
    evidence: dict[str, list[str]] = {}
    for label, s, e in spans:
        quote = text[s:e].strip()
        if quote and quote not in evidence.setdefault(label, []):
            evidence[label].append(quote)
    return {k: v for k, v in evidence.items() if v}


def render_within_limits(ctx: Ctx, sections: list[Section]) -> tuple[str, list[Span]]:
    """Render, then add or drop neutral sentences until the text is 60-450 words."""
    text, spans = render(ctx, sections)
    for _ in range(12):
        n = len(text.split())
        if n < MIN_WORDS:
            changed = add_filler(ctx, sections) or add_filler(ctx, sections, relax=True)
        elif n > MAX_WORDS:
            changed = drop_optional(ctx, sections)
        else:
            break
        if not changed:
            break
        text, spans = render(ctx, sections)
    return text, spans


def make_notes(ctx: Ctx, markers: dict[str, bool]) -> str:
    """Record-level choices and how each absent marker was realised."""
    absent = [f"{m}={ctx.cases.get(m, 'silent')}" for m in ctx.markers if not markers[m]]
    parts = [f"quality={ctx.quality}", f"layout={ctx.layout}", f"theme={ctx.theme}",
             f"tone={ctx.tone}", f"noise={ctx.noise_level}",
             f"vague_goal={'yes' if markers[VAGUE] else 'no'}",
             "absent: " + (", ".join(absent) if absent else "none")]
    return "; ".join(parts)


def make_record(banks: Banks, seed: int, index: int) -> dict[str, Any]:
    """One labelled record; deterministic in (seed, index) whatever else is generated."""
    rng = random.Random(f"{seed}:{index}")
    settings = banks.settings
    doc_type = weighted(rng, settings["doc_type_weights"])
    quality = weighted(rng, settings["quality_weights"])
    ctx = make_context(rng, banks, doc_type, quality)
    decide_truth(ctx)
    decide_cases(ctx)
    sections = build_sections(ctx)
    lo, hi = settings["words"][quality]
    fit_length(ctx, sections, rng.randint(lo, hi), hi)
    text, spans = render_within_limits(ctx, sections)
    evidence = evidence_from(text, spans)
    markers = {m: bool(evidence.get(m)) for m in TYPE_MARKERS[doc_type]}
    wrong = [m for m in ctx.markers if markers[m] != ctx.truth[m]]
    if wrong:
        raise AssertionError(f"record {index}: planned and realised markers differ: {wrong}")
    record = {
        "id": f"gen-{seed}-{index + 1:05d}",
        "doc_type": doc_type,
        "text": text,
        "markers": markers,
        "evidence": {m: evidence[m] for m in TYPE_MARKERS[doc_type] if markers[m]},
        "writer": WRITER,
        "notes": make_notes(ctx, markers),
    }
    problems = VALIDATOR.check_record(record, record["id"])
    if problems:
        raise AssertionError("; ".join(problems))
    return record


def generate_records(n: int, seed: int, banks: Banks | None = None) -> list[dict[str, Any]]:
    """n records for this seed (record i is the same whatever n is)."""
    banks = banks or load_banks()
    return [make_record(banks, seed, i) for i in range(n)]


# ============================================================================================
# Sentence mode
# ============================================================================================

def sentence_ctx(rng: random.Random, banks: Banks, doc_type: str, entry: Entry | None) -> Ctx:
    """A throwaway context in which the entry is usable (age, theme, looked-after)."""
    themes = [t for t in banks.themes if doc_type in banks.themes[t].get("types", [doc_type])]
    if entry and entry.themes:
        themes = [t for t in entry.themes if t in themes] or themes
    theme = rng.choice(themes)
    lo, hi = entry.age if entry else (0, 17)
    t_lo, t_hi = parse_age(str(banks.themes[theme].get("age", "0..17")))
    a, b = max(lo, t_lo), min(hi, t_hi)
    age = rng.randint(a, b) if a <= b else rng.randint(lo, hi)
    ctx = make_context(rng, banks, doc_type, "average", layout=rng.choice(list(LAYOUTS)),
                       theme=theme, age=age)
    ctx.lac = ctx.lac or bool(entry and entry.lac)
    ctx.noise_level = weighted(rng, {"clean": 0.6, "light": 0.4})
    return ctx


def sentence_text(ctx: Ctx, template: str) -> str:
    """One filled, capitalised, lightly noised phrasing."""
    text, _ = strip_brackets(ctx.fill(template))
    rates = ctx.banks.settings["noise"][ctx.noise_level]
    noised, _ = Noiser(ctx.rng, rates, ctx.banks.abbreviations).apply(Item(capitalise(text)))
    return noised


def row(marker: str, present: bool, case: str, text: str) -> dict[str, Any]:
    return {"marker": marker, "present": present, "case": case, "text": text}


def sentence_rows(ctx: Ctx, entry: Entry, positive: bool) -> Iterator[dict[str, Any]]:
    """A plan action written three ways (owned and dated, unowned, undated), or a vague row."""
    action, spans = strip_brackets(ctx.fill(entry.text))
    ctx.layout = "prose"
    variants = [(True, True), (False, True), (True, False)] if positive else [(False, False)]
    for owned, dated in variants:
        owner = owner_for(ctx, entry if positive else None, owned, "near_miss")
        when = when_for(ctx, dated, "near_miss")
        labels = {"actions": positive, "responsibilities": owned and positive,
                  "timescales": dated and positive}
        text = plan_row(ctx, action, owner, when, labels, spans).text
        if positive:
            yield row("actions", True, "positive", text)
            yield row("responsibilities", owned, "positive" if owned else "near_miss", text)
            yield row("timescales", dated, "positive" if dated else "near_miss", text)
        else:
            yield row("actions", False, "near_miss", text)
            yield row(VAGUE, True, "positive", text)


def entry_sentences(ctx: Ctx, doc_type: str, marker: str, case: str,
                    entry: Entry) -> Iterator[dict[str, Any]]:
    """Labelled sentences from one filling of one bank phrasing."""
    if marker == "actions" and case in ("positive", "near_miss"):
        yield from sentence_rows(ctx, entry, case == "positive")
        return
    if case == "placeholder":
        heading = pick_heading(ctx, ctx.banks.markers[marker].headings_for(doc_type))
        yield row(marker, False, case, f"{heading}: {ctx.fill(entry.text)}")
        return
    text = sentence_text(ctx, entry.text)
    yield row(marker, case == "positive", case, text)
    for extra in entry.also:
        if extra in TYPE_MARKERS[doc_type] and extra != marker:
            yield row(extra, True, "positive", text)


def marker_sentences(banks: Banks, rng: random.Random, doc_type: str, marker: str,
                     per_entry: int) -> Iterator[dict[str, Any]]:
    """Every phrasing of a marker's bank that fits the doc_type, filled per_entry times."""
    for case, entries in banks.markers[marker].cases.items():
        for entry in entries:
            if entry.types and doc_type not in entry.types:
                continue
            for _ in range(per_entry):
                ctx = sentence_ctx(rng, banks, doc_type, entry)
                yield from entry_sentences(ctx, doc_type, marker, case, entry)


def filler_sentences(banks: Banks, rng: random.Random,
                     doc_type: str) -> Iterator[dict[str, Any]]:
    """Neutral sentences, each as a negative ('other') example for one of the type's markers."""
    groups = sorted({p["filler"] for p in banks.doc_types[doc_type]["sections"] if "filler" in p})
    for group in groups:
        for entry in banks.filler[group].items:
            ctx = sentence_ctx(rng, banks, doc_type, entry)
            yield row(rng.choice(TYPE_MARKERS[doc_type]), False, "other",
                      sentence_text(ctx, entry.text))


def generate_sentences(seed: int, per_entry: int = 2,
                       banks: Banks | None = None) -> list[dict[str, Any]]:
    """Every bank phrasing, filled per_entry times, as labelled single sentences."""
    banks = banks or load_banks()
    rng = random.Random(f"sentences:{seed}")
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str]] = set()
    for doc_type, markers in TYPE_MARKERS.items():
        found: list[dict[str, Any]] = []
        for marker in markers:
            found += marker_sentences(banks, rng, doc_type, marker, per_entry)
        found += filler_sentences(banks, rng, doc_type)
        for r in found:
            key = (r["text"], doc_type, r["marker"])
            if key not in seen:
                seen.add(key)
                out.append({"text": r["text"], "doc_type": doc_type, "marker": r["marker"],
                            "present": r["present"], "case": r["case"], "writer": WRITER})
    return out


# ============================================================================================
# CLI
# ============================================================================================

def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    """Write one JSON object a line (UTF-8, not escaped); returns the count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
            n += 1
    return n


def main(argv: list[str] | None = None) -> int:
    """Command line: records by default, a sentence file with --sentences."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="number of records")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("-o", "--output", type=Path, default=None)
    parser.add_argument("--sentences", action="store_true",
                        help="write a labelled sentence file instead of records")
    parser.add_argument("--per-entry", type=int, default=2,
                        help="sentence mode: fillings of each bank phrasing")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    banks = load_banks()
    if args.sentences:
        out = args.output or HERE / "data" / "sentences_generated.jsonl"
        if not out.name.startswith("sentences"):
            parser.error("sentence files must be named sentences*.jsonl (the validator needs it)")
        n = write_jsonl(out, generate_sentences(args.seed, args.per_entry, banks))
        kind = "sentences"
    else:
        out = args.output or HERE / "data" / "generated.jsonl"
        if out.name.startswith("sentences"):
            parser.error("record files must not be named sentences*.jsonl")
        n = write_jsonl(out, generate_records(args.n, args.seed, banks))
        kind = "records"
    print(f"wrote {n} {kind} to {out} in {time.perf_counter() - start:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
