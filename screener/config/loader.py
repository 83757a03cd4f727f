"""Read the shipped defaults and an authority's overrides into one validated `Rubric`.

An authority's file starts with `extends: default` (or a path to another rubric file)
and changes only what it names. Errors name the file, the key and what is allowed.
"""

from __future__ import annotations

import copy
import re
from importlib import resources
from pathlib import Path
from typing import Any, cast, get_args

import re2
import yaml
from pydantic import BaseModel, ValidationError

from screener.config._re2text import RE2Text
from screener.config.models import ContextSpec, DocTypeSpec, MarkerSpec, Rubric

DEFAULT = "default"
_TOP_KEYS = {"extends", "name", "version", "levels", "doc_types", "markers", "rename", "context"}
_MACRO = re.compile(r"\{([A-Z]+)\}")
# Syntax RE2 lacks or reads differently: look-arounds, back-references, \Z.
_RE2_UNSAFE = re.compile(r"\(\?<?[=!]|\\[1-9]|\\Z|\(\?P=")
Regex = re.Pattern[str]  # RE2 patterns offer the same search/match/finditer interface


class RubricError(ValueError):
    """A rubric file that cannot be used, with where and why."""

    def __init__(self, file: str, key: str, message: str, allowed: list[str] | None = None):
        self.file, self.key, self.message, self.allowed = file, key, message, allowed
        text = f"{file}: {key}: {message}" if key else f"{file}: {message}"
        if allowed:
            text += f" (allowed: {', '.join(allowed)})"
        super().__init__(text)


def _read_yaml(path: Path | str, text: str | None = None) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text if text is not None else Path(path).read_text("utf-8"))
    except OSError as e:
        raise RubricError(str(path), "", f"cannot read file ({e.strerror})") from e
    except yaml.YAMLError as e:
        raise RubricError(str(path), "", f"not valid YAML ({e})") from e
    if not isinstance(data, dict):
        raise RubricError(str(path), "", "must be a mapping of keys to values")
    return data


def _default_raw() -> tuple[dict[str, Any], dict[str, str]]:
    conf = resources.files("screener") / "conf"
    rubric = _read_yaml("default/rubric.yaml", (conf / "rubric.yaml").read_text("utf-8"))
    markers = _read_yaml("default/markers.yaml", (conf / "markers.yaml").read_text("utf-8"))
    context = _read_yaml("default/context.yaml", (conf / "context.yaml").read_text("utf-8"))
    raw = {**rubric, "markers": markers.get("markers", {}), "context": context}
    origin = {f"markers.{m}": "default/markers.yaml" for m in raw["markers"]}
    origin.update({f"doc_types.{d}": "default/rubric.yaml" for d in raw.get("doc_types", {})})
    origin["context"] = "default/context.yaml"
    origin["sources"] = "default"
    return raw, origin


def _merge_file(path: Path, seen: set[Path]) -> tuple[dict[str, Any], dict[str, str]]:
    """Raw merged dict for an authority file and every file it extends."""
    where = str(path)
    if path.resolve() in seen:
        raise RubricError(where, "extends", "files extend each other in a loop")
    seen.add(path.resolve())
    data = _read_yaml(path)
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise RubricError(where, sorted(unknown)[0], "unknown key", sorted(_TOP_KEYS))
    base_name = data.get("extends")
    if base_name is None:
        raise RubricError(where, "extends", "an authority rubric must say what it extends, "
                          "e.g. `extends: default`")
    if base_name == DEFAULT:
        raw, origin = _default_raw()
    else:
        raw, origin = _merge_file((path.parent / str(base_name)), seen)
    origin["sources"] = f"{origin['sources']} + {where}"

    for key in ("name", "version", "levels"):
        if key in data:
            raw[key] = data[key]
    for dt, spec in (data.get("doc_types") or {}).items():
        if not isinstance(spec, dict):
            raise RubricError(where, f"doc_types.{dt}", "must be a mapping")
        current = raw.setdefault("doc_types", {}).setdefault(dt, {})
        rules = spec.get("rules")
        current.update({k: v for k, v in spec.items() if k != "rules"})
        if rules is not None:
            if not isinstance(rules, dict):
                raise RubricError(where, f"doc_types.{dt}.rules", "must be a mapping")
            current.setdefault("rules", {}).update(rules)
            for level, cond in rules.items():
                if cond is None:  # `level: null` removes a level's rule
                    current["rules"].pop(level, None)
        origin[f"doc_types.{dt}"] = where
    for marker, spec in (data.get("markers") or {}).items():
        if not isinstance(spec, dict):
            raise RubricError(where, f"markers.{marker}", "must be a mapping")
        if marker in raw["markers"]:
            merged = copy.deepcopy(raw["markers"][marker])
            merged.update(spec)
            raw["markers"][marker] = merged
            origin[f"markers.{marker}"] = f"{origin[f'markers.{marker}']}; changed by {where}"
        else:
            raw["markers"][marker] = spec
            origin[f"markers.{marker}"] = where
    for old, new in (data.get("rename") or {}).items():
        # A rename changes the ID users see; inside, rules, cues and trained models keep
        # the spec's ID, so nothing that refers to the marker has to change with it.
        if old not in raw["markers"]:
            raise RubricError(where, f"rename.{old}", "no such marker", sorted(raw["markers"]))
        taken = set(raw["markers"]) | {m.get("output_id") for m in raw["markers"].values()
                                       if isinstance(m, dict)}
        if new in taken and new != old:
            raise RubricError(where, f"rename.{old}", f"{new!r} is already a marker's ID")
        raw["markers"][old]["output_id"] = new
        origin[f"markers.{old}"] = f"{origin[f'markers.{old}']}; renamed to {new} by {where}"
    if "context" in data:
        raw["context"].update(data["context"] or {})
        origin["context"] = f"{origin['context']}; changed by {where}"
    return raw, origin


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation such as list[X], dict[str, X] or X | None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str] | None:
    """The keys a model accepts at `loc` (the path of an unknown key)."""
    current = model
    for part in loc[:-1]:
        field = current.model_fields.get(part) if isinstance(part, str) else None
        if field is None:  # a list index or a mapping key: same model further down
            continue
        inner = _model_in(field.annotation)
        if inner is None:
            return None
        current = inner
    return sorted(f.alias or name for name, f in current.model_fields.items())


def _first_error(e: ValidationError, model: type[BaseModel] | None = None,
                 ) -> tuple[str, str, list[str] | None]:
    """Key path, message and (for an unknown key) the keys that are allowed there."""
    err = e.errors()[0]
    key = ".".join(str(p) for p in err["loc"])
    allowed = None
    if err.get("type") == "extra_forbidden" and model is not None:
        allowed = _allowed_keys(model, tuple(err["loc"]))
        return key, "unknown key", allowed
    return key, err["msg"], allowed


def _expand(pattern: str, macros: dict[str, str], where: str, key: str) -> str:
    for _ in range(5):  # macros may use macros
        new = _MACRO.sub(lambda m: macros.get(m.group(1), m.group(0)), pattern)
        if new == pattern:
            break
        pattern = new
    leftover = _MACRO.search(pattern)
    if leftover:
        raise RubricError(where, key, f"unknown macro {leftover.group(0)}",
                          sorted("{" + k + "}" for k in macros))
    return pattern


def compile_regex(pattern: str, macros: dict[str, str], where: str, key: str) -> Regex:
    """Expand {MACROS} and compile case-insensitively; a bad pattern names its key.

    Patterns run on RE2 where RE2 can express them: it is many times faster on the long
    alternations cues are made of, and it matches in linear time, so no record can make
    a rule backtrack for ever. Patterns with look-arounds fall back to Python's `re`.
    """
    source = _expand(pattern, macros, where, key)
    try:
        compiled = re.compile(source, re.IGNORECASE | re.MULTILINE)
    except re.error as e:
        raise RubricError(where, key, f"invalid regular expression ({e})") from e
    if _RE2_UNSAFE.search(source):
        return compiled
    try:
        return cast(Regex, RE2Text(re2.compile("(?im)" + source)))
    except re2.error:
        return compiled


def _last_file(provenance: str) -> str:
    """The file that last changed a key, from "a.yaml; changed by b.yaml" provenance."""
    return provenance.split("; ")[-1].split(" by ")[-1]


def _to_internal(cond: Any, renamed: dict[str, str]) -> None:
    """Rules may name a renamed marker by its new ID; inside, the spec's ID is used."""
    cond.all_of = [renamed.get(m, m) for m in cond.all_of]
    cond.none_of = [renamed.get(m, m) for m in cond.none_of]
    for rule in cond.at_least:
        rule.of = [renamed.get(m, m) for m in rule.of]


def _build(raw: dict[str, Any], origin: dict[str, str]) -> Rubric:
    for key in ("name", "version", "levels", "doc_types"):
        if key not in raw:
            raise RubricError(origin["sources"], key, "missing")
    try:
        context = ContextSpec.model_validate(raw.get("context", {}))
    except ValidationError as e:
        key, msg, allowed = _first_error(e, ContextSpec)
        raise RubricError(origin["context"], f"context.{key}", msg, allowed) from e

    markers: dict[str, MarkerSpec] = {}
    for mid, spec in raw["markers"].items():
        where = _last_file(origin.get(f"markers.{mid}", origin["sources"]))
        try:
            markers[mid] = MarkerSpec.model_validate(spec)
        except ValidationError as e:
            key, msg, allowed = _first_error(e, MarkerSpec)
            raise RubricError(where, f"markers.{mid}.{key}", msg, allowed) from e

    doc_types: dict[str, DocTypeSpec] = {}
    levels = list(raw["levels"])
    for dt, spec in raw["doc_types"].items():
        where = origin.get(f"doc_types.{dt}", origin["sources"])
        try:
            doc_types[dt] = DocTypeSpec.model_validate(spec)
        except ValidationError as e:
            key, msg, allowed = _first_error(e, DocTypeSpec)
            raise RubricError(where, f"doc_types.{dt}.{key}", msg, allowed) from e

    enabled = {m: s for m, s in markers.items() if s.enabled}
    renamed = {s.output_id: m for m, s in markers.items() if s.output_id}
    renamed_back = {m: new for new, m in renamed.items()}
    for mid, spec in enabled.items():
        where = _last_file(origin.get(f"markers.{mid}", "")) or origin["sources"]
        for t in spec.types:
            if t not in doc_types:
                raise RubricError(where, f"markers.{mid}.types", f"unknown record type {t!r}",
                                  sorted(doc_types))
    for dt, dspec in doc_types.items():
        dspec.markers = [m for m, s in enabled.items() if dt in s.types]
        where = origin.get(f"doc_types.{dt}", origin["sources"])
        for level, cond in dspec.rules.items():
            if level not in levels:
                raise RubricError(where, f"doc_types.{dt}.rules.{level}", "unknown grade level",
                                  levels)
            if level == levels[-1]:
                raise RubricError(where, f"doc_types.{dt}.rules.{level}",
                                  "the last level is the fallback and takes no rule", levels[:-1])
            _to_internal(cond, renamed)
            for m in sorted(cond.markers()):
                if m in dspec.markers:
                    continue
                if m in markers and not markers[m].enabled:
                    blame = _last_file(origin.get(f"markers.{m}", where))
                    raise RubricError(blame, f"doc_types.{dt}.rules.{level}",
                                      f"{m!r} is disabled (by markers.{m}.enabled) but this rule "
                                      "needs it", [renamed_back.get(x, x) for x in dspec.markers])
                why = "is not a marker of this type" if m in markers else "is not a marker"
                raise RubricError(where, f"doc_types.{dt}.rules.{level}", f"{m!r} {why}",
                                  [renamed_back.get(x, x) for x in dspec.markers])

    from screener.rules.registry import detector_kinds  # detectors are code; validate names

    for mid, spec in enabled.items():
        where = _last_file(origin.get(f"markers.{mid}", "")) or origin["sources"]
        kinds = detector_kinds()
        if spec.detector not in kinds:
            raise RubricError(where, f"markers.{mid}.detector",
                              f"unknown detector {spec.detector!r}", sorted(kinds))
        try:
            kinds[spec.detector].validate_params(spec.params)
        except (ValidationError, ValueError) as e:
            msg = _first_error(e)[1] if isinstance(e, ValidationError) else str(e)
            raise RubricError(where, f"markers.{mid}.params", msg) from e
        spec._headings = [compile_regex(h, context.macros, where, f"markers.{mid}.headings[{i}]")
                          for i, h in enumerate(spec.headings)]
        for i, cue in enumerate(spec.cues):
            key = f"markers.{mid}.cues[{i}]"
            if cue.regex is not None:
                cue._pattern = compile_regex(cue.regex, context.macros, where, f"{key}.regex")
            if cue.unless is not None:
                cue._unless = compile_regex(cue.unless, context.macros, where, f"{key}.unless")
            if cue.requires_nearby is not None:
                cue._requires_nearby = compile_regex(cue.requires_nearby, context.macros, where,
                                                     f"{key}.requires_nearby")
            if cue.not_followed_by is not None:
                cue._not_followed_by = compile_regex(cue.not_followed_by, context.macros, where,
                                                     f"{key}.not_followed_by")
            for s in cue.in_sections:
                if s not in markers:
                    raise RubricError(where, f"{key}.in_sections", f"unknown section {s!r}",
                                      sorted(markers))
            for s in cue.not_with:
                if s not in enabled or s == mid:
                    raise RubricError(where, f"{key}.not_with", f"unknown marker {s!r}",
                                      sorted(m for m in enabled if m != mid))
    for i, p in enumerate(context.negation_pre + context.negation_post + context.clause_breaks
                          + context.intention + context.adult_report + context.remote_contact):
        compile_regex(p, context.macros, origin["context"], f"context[{i}]")
    return Rubric(
        name=str(raw["name"]), version=str(raw["version"]), levels=levels, doc_types=doc_types,
        markers=enabled, context=context, sources=origin["sources"].split(" + "),
        marker_sources={m: origin.get(f"markers.{m}", "default") for m in enabled},
    )


_CACHE: dict[str, Rubric] = {}


def load_rubric(path: str | Path | None = None) -> Rubric:
    """The default rubric, or an authority's file merged onto what it extends."""
    key = DEFAULT if path in (None, DEFAULT) else str(Path(path).resolve())
    if key not in _CACHE:
        if key == DEFAULT:
            raw, origin = _default_raw()
        else:
            p = Path(str(path))
            if not p.is_file():
                raise RubricError(str(p), "", "no such file")
            raw, origin = _merge_file(p, set())
        _CACHE[key] = _build(raw, origin)
    return _CACHE[key]
