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

from screener.reports.aggregate import Counts, build_tables, combine, count
from screener.reports.engine import RunResult, Settings, local_items, run_dask, run_local
from screener.reports.indicators import IndicatorConfig, compute, load_config, read_events
from screener.reports.pseudonymise import Pseudonymiser, score_detection
from screener.reports.report import write_report
from screener.reports.stats import bootstrap_kappa, kappa_from_confusion, wilson
from screener.reports.table import TableSpec, tidy_frame

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
