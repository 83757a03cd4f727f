"""Flags: what is missing or poor in a record, and what good looks like instead.

Severity follows the rubric: a marker the lowest passing grade needs is `high`, one
that only `good` (or a higher level) needs is `medium`, an ungraded one is `low`. A
negative marker found (a vague goal) is quoted with a restatement for the named child.
"""

from __future__ import annotations

from screener.config.models import Rubric
from screener.schemas import Flag, MarkerResult, Severity

_SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}

# How to restate each kind of vague aim, keyed by the vague_goal cue that found it.
_RESTATE = {
    "monitor": ('say what will be checked, by whom, how often and what would trigger action, '
                'e.g. "{child} is weighed fortnightly by the health visitor from 3 March; if '
                '{child} drops a centile line the SW calls a core group within 5 days."'),
    "support_as_needed": ('name the support, who gives it, how often and from when, e.g. '
                          '"{child} has a weekly session with the school counsellor (Ms Ali) '
                          'from 10 March; reviewed at the CIN review on 14 April."'),
    "engage_with": ('say what the parent will do, how you will know and by when, and how it '
                    'changes things for {child}, e.g. "Dad attends his CGL key-work session '
                    'every Tuesday and gives clear tests, so that {child} is cared for by a '
                    'sober adult; checked by the SW with CGL fortnightly until 30 May."'),
    "generic_aim": ('write what will be different for {child} and how you will know, e.g. '
                    '"{child} sleeps in her own bed in a home free from domestic abuse: mum '
                    'completes the Freedom Programme by 30 June (IDVA to confirm)."'),
}
_RESTATE.update({"generic_support": _RESTATE["support_as_needed"],
                 "offer_support": _RESTATE["support_as_needed"],
                 "continue_or_passive": _RESTATE["monitor"],
                 "statutory_visits": _RESTATE["monitor"],
                 "improve_aim": _RESTATE["generic_aim"], "reduce_risk": _RESTATE["generic_aim"],
                 "meet_needs": _RESTATE["generic_aim"]})
_RESTATE_DEFAULT = ('restate it as an outcome for {child} with an action, who and by when, e.g. '
                    '"{child} is in school every day: Mrs Khan (attendance officer) meets mum '
                    'each Monday from 10 March; reviewed on 14 April."')


def _severity(marker: str, doc_type: str, rubric: Rubric) -> Severity:
    rules = rubric.doc_types[doc_type].rules
    passing = rubric.levels[-2]
    cond = rules.get(passing)
    if cond is not None and (marker in cond.all_of
                             or any(marker in r.of for r in cond.at_least)):
        return "high"
    if any(marker in c.markers() for c in rules.values()):
        return "medium"
    return "low"


def _fill(template: str, child: str) -> str:
    return template.replace("{child}", child)


def flags_for(doc_type: str, markers: dict[str, MarkerResult], rubric: Rubric,
              child: str | None = None) -> list[Flag]:
    """Flags for the missing markers and the negative markers found, most important first."""
    who = child or "the child"
    out: list[Flag] = []
    for marker, result in markers.items():
        spec = rubric.markers[marker]
        if spec.negative:
            if not result.present:
                continue
            sev: Severity = "medium" if _severity(marker, doc_type, rubric) != "low" else "low"
            phrases = result.evidence[:3]
            if phrases:
                parts = []
                for ev in phrases:
                    cue = ev.source.rsplit(".", 1)[-1] if ev.source.startswith("rule:") else ""
                    how = _fill(_RESTATE.get(cue, _RESTATE_DEFAULT), who)
                    parts.append(f'"{ev.text.strip()}" is not measurable: {how}')
                message = " ".join(parts)
            else:
                message = f"{spec.label}: {_fill(spec.guidance_for(doc_type), who)}"
            out.append(Flag(marker=rubric.output_id(marker), severity=sev, message=message,
                            evidence=list(phrases)))
        elif not result.present:
            sev = _severity(marker, doc_type, rubric)
            message = f"Missing: {spec.label}. {_fill(spec.guidance_for(doc_type), who)}"
            out.append(Flag(marker=rubric.output_id(marker), severity=sev, message=message,
                            evidence=[t for t in (result.trace or [])][:2]))
    out.sort(key=lambda f: _SEVERITY_ORDER[f.severity])
    return out
