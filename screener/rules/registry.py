"""The explicit, versioned registry of detector kinds.

Markers name their detector in YAML (`detector: action_rows.v1`); the loader rejects a
name that is not here and lists the ones that are. New kinds are registered by
importing their module below: no discovery by import side effects elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from screener.config.models import MarkerSpec
from screener.rules.base import DocContext, MarkerDetection


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DetectorKind(Protocol):
    name: str
    Params: type[BaseModel]

    def validate_params(self, params: dict[str, Any]) -> BaseModel: ...

    def detect(self, ctx: DocContext, marker: str, spec: MarkerSpec) -> MarkerDetection: ...


_REGISTRY: dict[str, DetectorKind] = {}


def register(name: str) -> Callable[[type], type]:
    def wrap(cls: type) -> type:
        if name in _REGISTRY:
            raise ValueError(f"detector kind {name!r} registered twice")
        inst = cls()
        inst.name = name
        _REGISTRY[name] = inst
        return cls

    return wrap


def detector_kinds() -> dict[str, DetectorKind]:
    if not _REGISTRY:
        from screener.rules import detectors  # noqa: F401  (registers the built-in kinds)
    return _REGISTRY
