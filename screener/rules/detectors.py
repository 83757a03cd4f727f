"""Built-in detector kinds.

`cues.v1` applies a marker's YAML cues through the context layer; it is all a marker
defined in an authority's file needs. The others add structure that patterns alone
cannot see: whether the action rows of a plan have owners or dates, and whether a
supervision happened at the expected interval.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from screener.config.loader import compile_regex
from screener.config.models import CueSpec, MarkerSpec
from screener.rules.base import DocContext, Hit, MarkerDetection
from screener.rules.registry import NoParams, register
from screener.text.segment import line_spans

_PRONOUNS = {"he", "she", "they"}


def _cue_hit(ctx: DocContext, marker: str, cue: CueSpec, start: int, end: int,
             subj: str | None = None) -> Hit | None:
    """Apply one cue's conditions to a match; None when the cue does not apply here."""
    text = ctx.text
    if cue.in_sections and not ctx.in_sections(start, cue.in_sections):
        return None
    if ctx.in_heading(start, end):
        return None  # "Parenting capacity:" as a heading is a label, not an instance
    sent = ctx.sentence(start, end)
    source = f"rule:{marker}.{cue.id}"

    def hit(blocked: str | None = None) -> Hit:
        return Hit(marker, source, start, end, cue.confidence, sent, blocked)

    if subj is not None and cue.subject == "child":
        if not ctx.people.is_child(subj):
            return None
        if subj.lower() in _PRONOUNS and not ctx.people.pronoun_is_child(text, start):
            return None
    if cue.subject == "adult" and subj is not None and ctx.people.is_child(subj):
        return None
    if cue.unless_pattern is not None and cue.unless_pattern.search(text, sent[0],
                                                                    max(sent[1], end)):
        return hit("near_miss")
    if cue.not_followed_by_pattern is not None and cue.not_followed_by_pattern.match(
            text, end, max(end, sent[1])):
        return hit("near_miss")
    for other in cue.not_with:
        if ctx.found_in(other, sent[0], sent[1]):
            return hit(f"with {other}")
    if cue.needs_reason or cue.requires_nearby_pattern is not None:
        # the reason (or the link) may be in the sentence or the one after it
        nxt = ctx.next_sentence(sent)
        window = (sent[0], max(sent[1], nxt[1] if nxt is not None else sent[1]))
        if cue.needs_reason and not ctx.context.has_reason(text, *window):
            return hit("no_substance")
        nearby = cue.requires_nearby_pattern
        if nearby is not None and not nearby.search(text, *window):
            return hit("no_substance")
    for check in cue.blocked_by:
        if ctx.context.blocked(check, text, sent, start, end):
            return hit(check)
    return hit()


def _section_hit(ctx: DocContext, marker: str, cue: CueSpec, det: MarkerDetection) -> None:
    for sec in det.sections:
        if sec.placeholder:
            det.add(Hit(marker, f"rule:{marker}.{cue.id}", sec.heading_start, sec.body_end,
                        cue.confidence, (sec.heading_start, sec.body_end), "placeholder"))
            continue
        body = sec.body(ctx.text)
        if len(body.split()) < cue.min_words:
            continue
        first = ctx.sentence(sec.body_start, sec.body_end)
        source = f"rule:{marker}.{cue.id}"
        blocked: str | None = None
        if cue.unless_pattern is not None and cue.unless_pattern.search(body):
            blocked = "near_miss"
        elif cue.needs_reason and not ctx.context.has_reason(ctx.text, sec.body_start,
                                                             sec.body_end):
            blocked = "no_substance"
        else:
            for check in cue.blocked_by:
                if ctx.context.blocked(check, ctx.text, first, sec.body_start,
                                       min(first[1], sec.body_start + 1)):
                    blocked = check
                    break
        det.add(Hit(marker, source, sec.body_start, sec.body_end, cue.confidence,
                    (sec.body_start, sec.body_end), blocked))


def apply_cues(ctx: DocContext, marker: str, spec: MarkerSpec) -> MarkerDetection:
    det = MarkerDetection(marker, sections=ctx.sections_of(marker))
    for cue in spec.cues:
        if cue.section_body:
            _section_hit(ctx, marker, cue, det)
            continue
        if cue.pattern is not None:
            matches = ((m.start(), m.end(), m.groupdict().get("subj"))
                       for m in cue.pattern.finditer(ctx.text) if m.end() > m.start())
        else:
            matches = ((s, e, None) for s, e in ctx.phrase_hits.get(f"{marker}/{cue.id}", []))
        for start, end, subj in matches:
            h = _cue_hit(ctx, marker, cue, start, end, subj)
            if h is not None:
                det.add(h)
    return det


@register("cues.v1")
class Cues:
    """Pattern cues from YAML, through the shared context layer."""

    name = "cues.v1"
    Params = NoParams

    def validate_params(self, params: dict[str, Any]) -> BaseModel:
        return self.Params.model_validate(params)

    def detect(self, ctx: DocContext, marker: str, spec: MarkerSpec) -> MarkerDetection:
        return apply_cues(ctx, marker, spec)


class ActionRowParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    need: Literal["owner", "deadline", "action"]
    min_share: float = Field(default=0.5, gt=0.0, le=1.0)
    min_rows: int = Field(default=2, ge=1)
    # Rows where one of these markers was found (a vague aim) are left out of the count.
    skip_rows_with: list[str] = Field(default_factory=lambda: ["vague_goal"])


_ROW_ACTION = (
    r"\b(?:to|will|shall)\s+(?:\w+\s+)?(?:complete|make|refer|arrange|attend|book|send|provide|"
    r"visit|contact|undertake|carry out|take|apply|chase|speak|meet|share|ensure|give|write|"
    r"update|request|fit|install|deliver|run|offer|check|do|call|ring|email|liaise|agree|set up|"
    r"collect|invite|convene|hold|go|show|teach|help|buy|pay|register|enrol|obtain|review|"
    r"monitor|support|continue|work|start|find|explain|read|weigh|test|screen|assess|see|"
    r"organise|keep|bring|move|engage|sign|identify|discuss|explore|ask|tell|produce|draw up|"
    r"put|repeat|confirm|order|text|phone|sort|plan|prepare|introduce|link|join|use|access)\b"
    r"|^\s*(?:[-•*–]|\d+[.)]|action\s*\d*\s*[:.-])?\s*(?:refer(?:ral)?|arrange|complete|book|"
    r"make|send|provide|visit|attend|undertake|apply|request|hold|convene|fit|install|deliver|"
    r"weekly|fortnightly|monthly|sessions?|assessment|programme|course|direct work|"
    r"home visits?|joint visit|appointment|application|gp|dental|parenting|"
    r"young carers?|adult social care|(?:\w+\s+){0,3}(?:assessment|referral|"
    r"programme|course|sessions?|appointment|application))\b"
)
# What makes an action specific rather than "support to continue": a number, a date, a
# concrete thing to do or a named service.
_SPECIFIC = (
    r"\d|\b(?:referr\w*|assessment|appointment|course|programme|sessions?|application|apply|"
    r"book\w*|install\w*|fit\w*|test\w*|screen\w*|weigh\w*|enrol\w*|register\w*|letter|form|"
    r"card|bed|cot|meter|funding|fees?|club|group|clinic|panel|timetable|diary|chart|agreement|"
    r"written|show \w+ how|teach|mentor|counsell\w*|therap\w*|medication|dentist|optician|"
    r"uniform|transport|lift|voucher|grant|benefits?|tenancy|move|place|buddy|key adult|"
    r"check-?in|return home interview|safety plan|crisis plan|warning notice|daily|weekly|"
    r"fortnightly|monthly|every)\b"
    r"|(?-i:[A-Z][a-z]+(?: [A-Z][a-z]+)* (?:Service|Programme|Project|Team|Clinic|Group|Centre|"
    r"Hub|Unit|Club|Trust|Academy|School|Nursery|Course|Bank))"
)
_TITLE = re.compile(r"^\W*(?:review of |updated? )?(?:(?:cin|cp|child in need|child protection|"
                    r"care|pathway|safety|protection)\s+plan|plan)\b", re.IGNORECASE)
_ROLE = (
    r"(?:sw|social worker|tm|hv|health visitor|school nurse|dsl|senco|gp|iro|fsw|"
    r"family support worker|school|nursery|college|police|camhs|mum|dad|m|f|mother|father|"
    r"parents?|carers?|grandparents?|nan|nana|grandma|gran|housing|cgl|idva|midwife|"
    r"paediatrician|teacher|head ?teacher|head of year|early help|ot|yot|"
    r"(?:\w+[ -]){0,3}(?:worker|nurse|officer|coordinator|co-ordinator|teacher|lead|practitioner|"
    r"therapist|manager|visitor|midwife|adviser|advisor|mentor|consultant|team|service|"
    r"centre|hub|chair|keyworker|key worker|psychologist|paediatrician|clinician|senco|dsl))"
)
_NOT_OWNER = (r"(?!(?:ongoing|tbc|tba|n/?a|none|weekly|monthly|fortnightly|daily|asap|all|"
              r"everyone|multi-?agency|professionals|agencies|various|family|by|from|to|"
              r"review|next|within|the)\b)")
_PERSON = (r"(?:(?:mr|mrs|ms|miss|dr|dc|pc)\.?\s+{NAME}|" + _NOT_OWNER +
           r"{NAME}(?:\s+(?-i:[A-Z][A-Za-z'-]+))?)")
# No two \s* may meet around an optional piece ("\s*,?\s*"): they split a run of spaces
# every possible way, and a row with a few thousand spaces took seconds.
_OWNER = (r"(?:(?:the\s+)?" + _ROLE + r"(?:\s*(?:,\s*)?\(?" + _PERSON + r"\)?)?|" + _PERSON +
          r"(?:\s*[,(]\s*(?:the\s+)?[^,)\n|]{2,40}[,)])?)")
_ROW_OWNER = (
    r"(?:^|[\s(|/–—-])" + _OWNER + r"(?:\s+(?:and|&|with)\s+" + _OWNER + r")?\s*"
    r"(?:will|to|is to|are to|has agreed to|have agreed to|agreed to|shall)\s+(?!be\b)\w"
    r"|(?:^|[|–—/]|\s-\s|:)\s*" + _OWNER + r"(?:\s+(?:and|&|with)\s+" + _OWNER +
    r")?\s*(?:[;,][^|\n]{0,30}\s*)?(?:$|[|–—/]|\s-\s)"
    r"|\b(?:who|lead|responsible(?: person| agency)?|owner|by whom)\s*[:|=–-]\s*"
    r"(?!(?:tbc|tba|n/?a|all|everyone|all professionals|multi-?agency|professionals|"
    r"agencies|various|family/professionals|\?|-|—|–)\s*(?:$|[|/\n.]))\w"
    r"|\b(?:by|led by|booked by|done by)\s+(?:the\s+)?" + _ROLE + r"\b"
)
_ROW_NOT_DEADLINE = (
    r"\b(?:next |the next )?(?:review|core group|conference|rcpc|cin review|meeting)\b"
    r"[^\n]{0,20}$"
)
_LIST_LINE = re.compile(r"^\s*(?:[-•*–—]|\d{1,2}[.)]|[a-h][.)]|\(\w\))|\||\s[-–—/]\s")
_PLAN_SECTIONS = {"actions", "outcomes", "responsibilities", "timescales"}
_NOT_PLAN = {"contingency", "child_views"}
_FIELD_LINE = re.compile(r"^\W*(?:who|by when|when|by|lead|timescales?|responsible|owner|"
                         r"by whom|deadline|target date)\s*[:|=–-]", re.IGNORECASE)
_IF_LINE = re.compile(r"^\W*(?:contingency\W*)?(?:if|should|in the event)\b", re.IGNORECASE)
# Capitalised words that name a thing to be done, not someone who does it
# ("Family Group Conference to confirm ...", "Referral to ... to be sent").
_NOT_OWNER_WORDS = frozenset(
    "referral conference meeting review plan assessment programme course sessions session "
    "attendance appointment application outcome outcomes action actions contingency parenting "
    "visits visit funding payment check contact work support monitoring information "
    "documentation report letter timetable refer book arrange complete make send provide "
    "request apply attend hold convene invite ensure continue monitor offer agree check "
    "speak meet visit install fit deliver register enrol obtain chase share update "
    "explore discuss ask tell give take start".split())


def _plausible_owner(found: str) -> bool:
    """The matched owner is a role, an agency or a person, not a task ("Referral to ...")."""
    words = re.findall(r"[A-Za-z]+", found)
    caps = [w for w in words if w[:1].isupper()]
    return not caps or not any(w.lower() in _NOT_OWNER_WORDS for w in caps[:3])


@dataclass(frozen=True)
class _Row:
    start: int
    end: int
    cells: tuple[str, ...]
    prose: bool = False
    structured: bool = False  # a table row, list item or line of a plan section


@register("action_rows.v1")
class ActionRows:
    """Share of a plan's specific action rows that name an owner (or a deadline).

    Rows are list items, table rows and (in prose plans) sentences that set out an action.
    Rows that are vague aims are left out: a wholly vague plan has no owned actions, and
    one vague row owned by "all professionals" does not spoil an otherwise owned plan.
    Pipe tables with a "Who" or "By when" column are read by column.
    """

    name = "action_rows.v1"
    Params = ActionRowParams
    _compiled: dict[int, tuple[re.Pattern[str], ...]] = {}

    def validate_params(self, params: dict[str, Any]) -> BaseModel:
        return self.Params.model_validate(params)

    def _patterns(self, ctx: DocContext) -> tuple[re.Pattern[str], ...]:
        key = id(ctx.rubric)
        if key not in self._compiled:
            m = ctx.rubric.context.macros
            self._compiled[key] = (
                compile_regex(_ROW_ACTION, m, "action_rows.v1", "action"),
                compile_regex(_ROW_OWNER, m, "action_rows.v1", "owner"),
                compile_regex("{DEADLINE}|{DATE}", m, "action_rows.v1", "deadline"),
                compile_regex(_ROW_NOT_DEADLINE, m, "action_rows.v1", "not_deadline"),
                compile_regex(_SPECIFIC, m, "action_rows.v1", "specific"),
            )
        return self._compiled[key]

    def rows(self, ctx: DocContext) -> list[_Row]:
        """Candidate rows: list and table lines, and sentences; `prose` marks sentences
        outside plan sections, which must name an owner to count as an action."""
        text = ctx.text
        out: list[_Row] = []
        for ls, le in line_spans(text):
            secs = ctx.seg.sections_at(ls)
            names = set().union(*(s.names for s in secs)) if secs else set()
            line = text[ls:le]
            listy = bool("|" in line or _LIST_LINE.search(line))
            if names and not names & _PLAN_SECTIONS and (not listy or names & _NOT_PLAN):
                continue
            if _IF_LINE.match(line):
                continue
            if _TITLE.search(line) or any(
                    s.heading_start <= ls and le <= s.heading_end for s in secs):
                continue
            if out and not out[-1].prose and _FIELD_LINE.match(line):
                # "Who: Mr Abbott, SENCo." under its "Action: ..." line: one row
                prev = out.pop()
                out.append(_Row(prev.start, le, prev.cells, structured=True))
            elif listy or (names & _PLAN_SECTIONS and len(line) < 200):
                cells = tuple(c.strip() for c in line.split("|")) if "|" in line else ()
                structured = len(cells) >= 3 or bool(_LIST_LINE.match(line)) or bool(
                    names & _PLAN_SECTIONS)
                out.append(_Row(ls, le, cells, structured=structured))
            else:
                in_plan = bool(names & _PLAN_SECTIONS)
                for s, e in ctx.seg.sentences:
                    if ls <= s and e <= le:
                        out.append(_Row(s, e, (), prose=not in_plan))
        return out

    def detect(self, ctx: DocContext, marker: str, spec: MarkerSpec) -> MarkerDetection:
        params = ActionRowParams.model_validate(spec.params)
        det = apply_cues(ctx, marker, spec)
        action, owner, deadline, not_deadline, specific = self._patterns(ctx)
        text = ctx.text
        skip = [h for m in params.skip_rows_with for h in ctx.detections.get(m, _EMPTY).hits]
        outcome_hits = ctx.detections.get("outcomes", _EMPTY).hits
        column: int | None = None
        rows: list[_Row] = []
        good: list[_Row] = []
        for row in self.rows(ctx):
            body = text[row.start:row.end]
            if row.cells and len(row.cells) >= 2:
                heads = [c.lower() for c in row.cells]
                want = ("who", "lead", "responsible", "by whom") if params.need == "owner" else (
                    "when", "by when", "timescale", "date", "by")
                found = [i for i, h in enumerate(heads) if h.strip(" :") in want]
                if found and all(len(h.split()) <= 4 for h in heads):
                    column = found[0]
                    continue
            if row.prose and not owner.search(body):
                continue
            if not action.search(body) and not (row.structured and specific.search(body)):
                continue
            if any(h.start < row.end and row.start < h.end for h in skip):
                continue
            if any(h.start <= row.start + 3 and (h.end - h.start) >= 0.6 * (row.end - row.start)
                   for h in outcome_hits):
                continue  # an outcome statement, not an action
            rows.append(row)
            if params.need == "action":
                if specific.search(body):
                    good.append(row)
            elif column is not None and row.cells and len(row.cells) > column:
                cell = row.cells[column]
                if cell and not ctx.context.is_placeholder(cell) and (
                        params.need == "owner" or deadline.search(cell)):
                    good.append(row)
            elif params.need == "owner":
                if any(_plausible_owner(m.group(0)) for m in owner.finditer(body)):
                    good.append(row)
            else:
                m = deadline.search(body)
                if m and not (not_deadline.search(body[: m.end()])
                              and not re.search(r"\bby\b|\bwithin\b", body[: m.start()], re.I)):
                    good.append(row)
        source = f"rule:{marker}.{params.need}_rows"
        if not rows:
            return det
        share = len(good) / len(rows)
        enough = len(good) >= params.min_rows if params.need == "action" else (
            len(rows) >= params.min_rows and share >= params.min_share)
        if enough:
            conf = min(0.95, 0.55 + 0.4 * share) if params.need != "action" else min(
                0.9, 0.5 + 0.1 * len(good))
            for r in good[:5]:
                det.add(Hit(marker, source, r.start, r.end, conf, (r.start, r.end)))
        else:
            r = rows[0]
            det.add(Hit(marker, source, r.start, r.end, 0.0, (r.start, r.end),
                        f"only {len(good)}/{len(rows)} rows"))
        return det


_EMPTY = MarkerDetection("")


class FrequencyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_interval_days: int = Field(default=45, ge=1)


_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
_NUM_DATE = re.compile(r"\b(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2,4}))?\b")
_WORD_DATE = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]{3})[a-z]*\.?(?:\s+(\d{4}))?\b",
                        re.IGNORECASE)


def parse_date(s: str, default_year: int | None = None) -> date | None:
    """A UK-style date (day first) from a fragment of text; None when there is none."""
    m = _NUM_DATE.search(s)
    day = month = year = None
    if m:
        day, month = int(m.group(1)), int(m.group(2))
        year = int(m.group(3)) if m.group(3) else None
    else:
        w = _WORD_DATE.search(s)
        if w and w.group(2).lower()[:3] in _MONTHS:
            day, month = int(w.group(1)), _MONTHS[w.group(2).lower()[:3]]
            year = int(w.group(3)) if w.group(3) else None
    if day is None or month is None:
        return None
    if year is None:
        year = default_year or 2000
    elif year < 100:
        year += 2000
    try:
        return date(year, month, day)
    except ValueError:
        return None


_PREVIOUS = (
    r"\b(?:previous|prev|last|prior|preceding)\b(?:\s+(?:case\s+|formal\s+|management\s+)?"
    r"(?:supervision|session|one|sup))?(?:\s+(?:on this case|on this family|date|was|were|"
    r"held|on|took place|recorded|dated))*\s*[:\-(]?\s*(?:on\s+)?(?P<date>{DATE})"
)
_SESSION = (
    r"\b(?:date(?: of (?:this )?(?:case )?supervision)?|this (?:supervision|session)(?: date)?|"
    r"(?:case )?supervision date|session date|(?:case )?supervision(?: held)? on|"
    r"supervised (?:\w+ ){0,2}on)\s*[:\-]?\s*(?P<date>{DATE})"
)
_OVERDUE = re.compile(
    r"\b(?:overdue|out of timescale|outside (?:of )?(?:the )?timescale|not within timescale|"
    r"first (?:case )?supervision (?:since|in|for)|(?:two|three|four|five|six|\d+)\s+months?\s+"
    r"(?:since|gap|without)|has not been supervised|not been supervised|delayed supervision|"
    r"no supervision (?:since|for))\b", re.IGNORECASE)


@register("supervision_frequency.v1")
class SupervisionFrequency:
    """This session's date and the last one's, within the expected interval."""

    name = "supervision_frequency.v1"
    Params = FrequencyParams

    def validate_params(self, params: dict[str, Any]) -> BaseModel:
        return self.Params.model_validate(params)

    _compiled: dict[int, tuple[re.Pattern[str], ...]] = {}

    def _patterns(self, ctx: DocContext) -> tuple[re.Pattern[str], ...]:
        key = id(ctx.rubric)
        if key not in self._compiled:
            m = ctx.rubric.context.macros
            self._compiled[key] = (
                compile_regex(_PREVIOUS, m, self.name, "previous"),
                compile_regex("{DATE}", m, self.name, "date"),
                compile_regex(_SESSION, m, self.name, "session"),
            )
        return self._compiled[key]

    @staticmethod
    def _session_date(text: str, taken: tuple[int, int], date_re: re.Pattern[str],
                      session_re: re.Pattern[str]) -> date | None:
        """This session's date: a labelled one, else one on the line of "previous: ...",
        else the first date near the top that is not the previous one."""
        for sm in session_re.finditer(text):
            if not (taken[0] <= sm.start(session_re.groupindex["date"]) < taken[1]):
                found = parse_date(sm.group("date"))
                if found:
                    return found
        if taken[0] >= 0:
            line_start = text.rfind("\n", 0, taken[0]) + 1
            for dm in date_re.finditer(text, line_start, taken[0]):
                found = parse_date(dm.group(0))
                if found:
                    return found
        for dm in date_re.finditer(text, 0, min(len(text), 800)):
            if not (taken[0] <= dm.start() < taken[1]):
                found = parse_date(dm.group(0))
                if found:
                    return found
        return None

    def detect(self, ctx: DocContext, marker: str, spec: MarkerSpec) -> MarkerDetection:
        params = FrequencyParams.model_validate(spec.params)
        det = apply_cues(ctx, marker, spec)
        text = ctx.text
        source = f"rule:{marker}.interval"
        overdue = _OVERDUE.search(text)
        if overdue:
            det.hits = []  # shown overdue: no cue can make it timely
            det.add(Hit(marker, source, overdue.start(), overdue.end(), 0.0,
                        ctx.sentence(overdue.start(), overdue.end()), "overdue"))
            return det
        previous_re, date_re, session_re = self._patterns(ctx)
        pm = previous_re.search(text)
        taken = (pm.start(), pm.end()) if pm else (-1, -1)
        session = self._session_date(text, taken, date_re, session_re)
        if session is None:
            if det.hits:
                det.add(Hit(marker, source, 0, 0, 0.0, (0, 0), "undated"))
                det.hits = []
            return det
        previous = parse_date(pm.group("date"), session.year) if pm else None
        if previous is not None and pm is not None:
            if previous > session and pm.group("date").count("/") < 2 and not re.search(
                    r"\d{4}", pm.group("date")):
                previous = previous.replace(year=session.year - 1)
            gap = (session - previous).days
            span = (pm.start(), pm.end())
            if 0 < gap <= params.max_interval_days:
                det.add(Hit(marker, source, span[0], span[1], 0.85, ctx.sentence(*span)))
            else:
                det.hits = []
                det.add(Hit(marker, source, span[0], span[1], 0.0, ctx.sentence(*span),
                            f"interval {gap} days"))
        return det
