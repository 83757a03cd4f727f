"""Built-in detector kinds.

`cues.v1` applies a marker's YAML cues through the context layer; it is all a marker
defined in an authority's file needs. The others add structure that patterns alone
cannot see: whether the action rows of a plan have owners or dates, and whether a
supervision happened at the expected interval.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from screener.config.loader import compile_regex
from screener.config.models import CueSpec, MarkerSpec
from screener.rules.base import DocContext, Hit, MarkerDetection
from screener.rules.registry import NoParams, register


def _cue_hit(ctx: DocContext, marker: str, cue: CueSpec, start: int, end: int,
             subj: str | None = None) -> Hit | None:
    """Apply one cue's conditions to a match; None when the cue does not apply here."""
    text = ctx.text
    if cue.in_sections and not ctx.in_sections(start, cue.in_sections):
        return None
    sent = ctx.sentence(start, end)
    source = f"rule:{marker}.{cue.id}"

    def hit(blocked: str | None = None) -> Hit:
        return Hit(marker, source, start, end, cue.confidence, sent, blocked)

    if subj is not None and cue.subject == "child" and not ctx.people.is_child(subj):
        return None
    if cue.subject == "adult" and subj is not None and ctx.people.is_child(subj):
        return None
    if cue.unless_pattern is not None and cue.unless_pattern.search(text, sent[0], sent[1]):
        return hit("near_miss")
    if cue.needs_reason:
        nxt = ctx.next_sentence(sent)
        if not (ctx.context.has_reason(text, sent[0], sent[1])
                or (nxt is not None and ctx.context.has_reason(text, nxt[0], nxt[1]))):
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
    need: Literal["owner", "deadline"]
    min_share: float = Field(default=0.5, gt=0.0, le=1.0)
    min_rows: int = Field(default=2, ge=1)


_ROW_ACTION = (
    r"\b(?:to|will|shall)\s+(?:\w+\s+)?(?:complete|make|refer|arrange|attend|book|send|provide|"
    r"visit|contact|undertake|carry out|take|apply|chase|speak|meet|share|ensure|give|write|"
    r"update|request|fit|install|deliver|run|offer|check|do|call|ring|email|liaise|agree|set up|"
    r"collect|invite|convene|hold|go|show|teach|help|buy|pay|register|enrol|obtain|review|"
    r"monitor|support|continue|work|start|find|explain|read|weigh|test|screen|assess|see|"
    r"organise|keep|bring|move|engage|complete|sign|identify|discuss|explore|ask|tell|"
    r"produce|draw up|put)\b"
    r"|^\s*(?:[-•*]|\d+[.)]|action\s*\d*\s*[:.-])?\s*(?:refer(?:ral)?|arrange|complete|book|"
    r"make|send|provide|visit|attend|undertake|apply|request|hold|convene|fit|install|deliver|"
    r"weekly|fortnightly|monthly|sessions?|assessment|programme|course|direct work|"
    r"home visits?|joint visit|appointment|application|gp|dental|health|school|parenting)\b"
)
_ROW_OWNER = (
    r"(?:^|[-•*|/–—,(:]\s*|\b)(?:sw|social worker|tm|hv|health visitor|school nurse|dsl|senco|gp|"
    r"iro|fsw|family support worker|school|nursery|college|police|camhs|mum|dad|mother|father|"
    r"parents?|carers?|grandparents?|nan|nana|grandma|housing|cgl|idva|midwife|paediatrician|"
    r"teacher|head ?teacher|pastoral \w+|early help(?: worker)?|{NAME}(?:\s+{NAME})?)"
    r"\s*(?:\([^)\n]{1,50}\))?\s*(?:,\s*[^,\n|]{2,40}?\s*)?(?:to|will|is to|are to|has agreed to)\s+\w"
    r"|\b(?:who|lead|responsible|owner|by whom)\s*[:|=–-]\s*(?!\s*(?:tbc|tba|n/?a|all|everyone|"
    r"all professionals|\?|-|—)\s*(?:$|[|/\n.]))\S"
    r"|[|/–—]\s*(?:(?:{NAME}\s+){0,2}{NAME}|sw|tm|hv|dsl|senco|gp|school|nursery|mum|dad|parents?|"
    r"\w+ (?:worker|nurse|officer|coordinator|teacher|lead))\s*(?:\([^)\n]{1,50}\))?"
    r"(?:,\s*[^|/\n–—]{2,40})?\s*(?:[|/–—]|$)"
    r"|^\s*[-•*]?\s*(?:{NAME}\s+){1,2}\((?:[^)\n]{1,50})\)\s*(?:will|to)\b"
    r"|^\s*[-•*]?\s*(?:{NAME}\s+){0,2}{NAME},\s*[^,\n]{2,50},\s*(?:will|to)\b"
)
_ROW_NOT_DEADLINE = (
    r"\b(?:next |the next )?(?:review|core group|conference|rcpc|cin review|meeting)\b"
    r"[^\n]{0,20}$"
)


@register("action_rows.v1")
class ActionRows:
    """Share of a plan's action rows that name an owner (or a deadline).

    A plan where most actions have an owner has `responsibilities`, even if one vague row
    is owned by "all professionals"; one owned row among many passive ones does not.
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
            )
        return self._compiled[key]

    def detect(self, ctx: DocContext, marker: str, spec: MarkerSpec) -> MarkerDetection:
        params = ActionRowParams.model_validate(spec.params)
        det = apply_cues(ctx, marker, spec)
        action, owner, deadline, not_deadline = self._patterns(ctx)
        rows = [s for s in ctx.seg.sentences if action.search(ctx.text, s[0], s[1])]
        if len(rows) < params.min_rows:
            return det
        need = owner if params.need == "owner" else deadline
        good = []
        for s, e in rows:
            row = ctx.text[s:e]
            m = need.search(row)
            if m and not (params.need == "deadline" and not_deadline.search(row[: m.end()])
                          and not re.search(r"\bby\b|\bwithin\b", row[: m.start()], re.I)):
                good.append((s, e))
        share = len(good) / len(rows)
        source = f"rule:{marker}.{params.need}_share"
        if good and share >= params.min_share:
            conf = min(0.95, 0.55 + 0.4 * share)
            for s, e in good[:5]:
                det.add(Hit(marker, source, s, e, conf, (s, e)))
        elif rows:
            s, e = rows[0]
            det.add(Hit(marker, source, s, e, 0.0, (s, e), f"only {len(good)}/{len(rows)} rows"))
        return det


class FrequencyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_interval_days: int = Field(default=45, ge=1)


_MONTHS = {m: i for i, m in enumerate(
    "jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)}
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


_SESSION_DATE = re.compile(
    r"\b(?:date(?: of (?:this )?(?:case )?supervision)?|supervision date|session date|"
    r"supervision (?:held )?on|held on)\s*[:\-]?\s*([^\n|]{0,30})", re.IGNORECASE)
_PREVIOUS = re.compile(
    r"\b(?:previous|last|prior|preceding)\s+(?:case\s+|formal\s+|management\s+)?"
    r"(?:supervision|session)(?:\s+(?:date|was|held|on))*\s*[:\-(]?\s*([^\n|]{0,30})",
    re.IGNORECASE)
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
        head = text[:600]
        sm = _SESSION_DATE.search(head)
        session = parse_date(sm.group(1)) if sm else None
        if session is None:
            first = _NUM_DATE.search(head) or _WORD_DATE.search(head)
            session = parse_date(first.group(0)) if first else None
            sm = first
        pm = _PREVIOUS.search(text)
        previous = parse_date(pm.group(1), session.year if session else None) if pm else None
        if session is None or sm is None:
            if det.hits:
                det.add(Hit(marker, source, 0, 0, 0.0, (0, 0), "undated"))
                det.hits = []
            return det
        if previous is not None and pm is not None:
            if previous > session and previous.year == session.year and pm.group(1).count("/") < 2:
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
