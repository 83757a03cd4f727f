"""Research reports: recording quality across teams and time, agreement between the
screener, auditors and moderators, performance indicators from event data, and
pseudonymised exports, on one machine or a Dask cluster.

    from screener.reports import TableSpec, Settings, run_local, write_report, Pseudonymiser

Modules: `table` (the tidy table: one row per screened record), `sources` (files, results,
the audit database), `engine` (local and Dask), `aggregate` (additive counts and the
report's tables), `stats` (Wilson intervals, kappa, bootstrap), `indicators` (timeliness
from events), `pseudonymise` (Presidio + UK rules), `figures`, `report` (HTML, CSV,
Parquet), `cli` (`screener report`, `screener pseudonymise`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what type checkers and editors see
    from screener.reports.aggregate import Counts, build_tables, combine, count
    from screener.reports.engine import RunResult, Settings, local_items, run_dask, run_local
    from screener.reports.indicators import (
        IndicatorConfig,
        compute,
        load_config,
        read_events,
    )
    from screener.reports.pseudonymise import Pseudonymiser, score_detection
    from screener.reports.report import write_report
    from screener.reports.stats import bootstrap_kappa, kappa_from_confusion, wilson
    from screener.reports.table import TableSpec, tidy_frame

# Loaded on first use, so that `screener` (which registers the report commands) starts
# without importing pandas.
_WHERE = {
    "Counts": "aggregate", "build_tables": "aggregate", "combine": "aggregate",
    "count": "aggregate",
    "RunResult": "engine", "Settings": "engine", "local_items": "engine", "run_dask": "engine",
    "run_local": "engine",
    "IndicatorConfig": "indicators", "compute": "indicators", "load_config": "indicators",
    "read_events": "indicators",
    "Pseudonymiser": "pseudonymise", "score_detection": "pseudonymise",
    "write_report": "report",
    "bootstrap_kappa": "stats", "kappa_from_confusion": "stats", "wilson": "stats",
    "TableSpec": "table", "tidy_frame": "table",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"screener.reports.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'screener.reports' has no attribute {name!r}")


__all__ = [
    "Counts",
    "IndicatorConfig",
    "Pseudonymiser",
    "RunResult",
    "Settings",
    "TableSpec",
    "bootstrap_kappa",
    "build_tables",
    "combine",
    "compute",
    "count",
    "kappa_from_confusion",
    "load_config",
    "local_items",
    "read_events",
    "run_dask",
    "run_local",
    "score_detection",
    "tidy_frame",
    "wilson",
    "write_report",
]
