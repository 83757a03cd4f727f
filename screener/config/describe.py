"""Human- and machine-readable views of the rubric in force (`screener markers`, the API)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from screener.config.models import Condition, Rubric


def _condition(cond: Condition, out: Callable[[str], str]) -> str:
    parts = []
    if cond.all_of:
        parts.append(" and ".join(out(m) for m in cond.all_of))
    for rule in cond.at_least:
        parts.append(f"at least {rule.n} of ({', '.join(out(m) for m in rule.of)})")
    if cond.none_of:
        parts.append(f"no {', '.join(out(m) for m in cond.none_of)}")
    return "; ".join(parts)


def rubric_as_dict(rubric: Rubric, doc_type: str | None = None) -> dict[str, Any]:
    """The rubric in force, with markers under the IDs users see (renames applied)."""
    types = [doc_type] if doc_type else list(rubric.doc_types)
    out = rubric.output_id

    def cond(c: Condition) -> str:
        return _condition(c, out)

    return {
        "rubric": rubric.label,
        "sources": rubric.sources,
        "levels": rubric.levels,
        "doc_types": {
            dt: {
                "label": rubric.doc_types[dt].label,
                "markers": [out(m) for m in rubric.doc_types[dt].markers],
                "rules": {lvl: cond(rubric.doc_types[dt].rules[lvl]) for lvl in rubric.levels
                          if lvl in rubric.doc_types[dt].rules},
                "weight": rubric.doc_types[dt].weight,
            } for dt in types
        },
        "markers": {
            out(m): {"label": s.label, "types": s.types, "negative": s.negative,
                     "detector": s.detector, "cues": [c.id for c in s.cues],
                     "source": rubric.marker_sources.get(m, "default"), "spec_id": m}
            for m, s in rubric.markers.items()
            if doc_type is None or doc_type in s.types
        },
    }


def describe_rubric(rubric: Rubric, doc_type: str | None = None) -> str:
    d = rubric_as_dict(rubric, doc_type)
    lines = [f"Rubric {d['rubric']}  (from: {' + '.join(d['sources'])})",
             f"Levels, best first: {', '.join(d['levels'])}", ""]
    for dt, spec in d["doc_types"].items():
        lines.append(f"{dt} — {spec['label']}")
        for lvl, cond in spec["rules"].items():
            lines.append(f"  {lvl:<22} {cond}")
        lines.append(f"  {d['levels'][-1]:<22} otherwise")
        lines.append("")
    lines.append("Markers")
    for m, spec in d["markers"].items():
        neg = " (negative)" if spec["negative"] else ""
        lines.append(f"  {m:<19} {spec['label']}{neg}")
        lines.append(f"  {'':<19} types: {', '.join(spec['types'])}")
        lines.append(f"  {'':<19} detector: {spec['detector']}; cues: "
                     f"{', '.join(spec['cues']) or '-'}")
        lines.append(f"  {'':<19} from: {spec['source']}")
    return "\n".join(lines)
