"""Research reports (researcher, admin): aggregate tables only, pseudonymised.

The tables are `screener report`'s (screener.reports), built from the audit database's
latest results, reviews and moderation: counts, shares with intervals, trends and
agreement. Workers appear only as keyed pseudonyms; no record text and no example
sentences are served (the HTML report's pseudonymised examples stay with the CLI).
"""

import json
from typing import Any, Literal

from fastapi import APIRouter, Query, Request

from api.deps import DatabaseDep, ResearcherUser, ScreeningDep, SettingsDep
from api.errors import field_error
from api.schemas import ReportOut
from screener.audit.store import log_access

router = APIRouter(prefix="/reports", tags=["reports"])


def _rows(df: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(df.to_json(orient="records", date_format="iso"))
    return rows


@router.get("/tables", summary="The research report's aggregate tables [researcher]",
            response_model=ReportOut)
def tables(request: Request, who: ResearcherUser, db: DatabaseDep, screening: ScreeningDep,
           settings: SettingsDep,
           by: Literal["team", "service", "doc_type", "worker", "period"] = "team",
           period: Literal["year", "fy", "quarter", "month"] = "year",
           table: str | None = Query(default=None, max_length=80,
                                     description="Only this table (default: all).")
           ) -> ReportOut:
    """Grade distributions by period and service (audit-table shape), marker prevalence
    by record type and group with 95% intervals, trends, the commonest gaps, and
    screener / auditor / moderator agreement (kappa with bootstrap intervals)."""
    from screener.reports.aggregate import build_tables
    from screener.reports.engine import Settings as ReportSettings
    from screener.reports.engine import run_local
    from screener.reports.sources import iter_db
    from screener.reports.table import TableSpec

    spec = TableSpec.from_rubric(screening.rubric, period)
    key: bytes = request.app.state.report_key
    run = run_local(iter_db(db.url.render_as_string(hide_password=False)),
                    ReportSettings(spec=spec, key=key, rubric=settings.rubric,
                                   mode=screening.mode))
    built = build_tables(run.counts, spec, by=by, n_boot=settings.report_bootstrap, seed=0)
    if table is not None:
        if table not in built:
            raise field_error(("query", "table"), f"unknown table {table[:40]!r} (allowed: "
                              f"{', '.join(sorted(built))})")
        built = {table: built[table]}
    with db.session() as s:
        log_access(s, who.name, "report", "report", f"tables?by={by}&period={period}")
    return ReportOut(records=run.n_records, by=by, period=period,
                     tables={name: _rows(df) for name, df in built.items()})
