"""Writing the report: one self-contained HTML file, and its tables as CSV and Parquet.

`write_report` takes what an engine produced (`RunResult`), builds the tables from the
counts, pseudonymises the example sentences, adds the performance indicators when an
events file is given, draws the figures, and writes

    report.html                 the report (figures embedded; no links to anything outside)
    report_tables/NAME.csv      every table, as CSV ...
    report_tables/NAME.parquet  ... and Parquet
    report_tables/records.parquet   the tidy table, one row per record (pseudonymised)

Everything in these files is pseudonymised: ids and workers by keyed hash, names and
other identifiers in the example sentences by `Pseudonymiser.text`.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from screener.io import atomic_output
from screener.reports import figures
from screener.reports.aggregate import ALL, build_tables
from screener.reports.engine import RunResult
from screener.reports.indicators import IndicatorConfig, compute, read_events, wide
from screener.reports.pseudonymise import Pseudonymiser
from screener.reports.table import GRADE_LABELS, TableSpec

__all__ = ["ReportOutput", "build_report_tables", "write_report"]

TOP_GAPS = 10


@dataclass
class ReportOutput:
    html: Path
    tables_dir: Path
    tables: dict[str, pd.DataFrame]
    notes: list[str] = field(default_factory=list)


def _example_table(counts_examples: pd.DataFrame, gaps: pd.DataFrame,
                   pseudo: Pseudonymiser) -> pd.DataFrame:
    """Pseudonymised example sentences for the commonest gaps."""
    cols = ["rank", "marker", "label", "doc_type", "id", "sentence"]
    top = gaps.head(TOP_GAPS)
    if counts_examples.empty or top.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for rank, marker, label in zip(top["rank"], top["marker"], top["label"], strict=True):
        ex = counts_examples[counts_examples["marker"] == marker]
        for doc_type, rid, sentence in zip(ex["doc_type"], ex["id"], ex["sentence"],
                                           strict=True):
            rows.append({"rank": int(rank), "marker": marker, "label": label,
                         "doc_type": doc_type, "id": pseudo.record_id(str(rid)),
                         "sentence": pseudo.text(str(sentence))})
    return pd.DataFrame(rows, columns=cols)


def build_report_tables(run: RunResult, spec: TableSpec, pseudo: Pseudonymiser,
                        by: str = "team", events: str | Path | None = None,
                        indicator_config: IndicatorConfig | None = None, n_boot: int = 1000,
                        seed: int = 0) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """Every table of the report (pseudonymised), and notes on anything skipped."""
    notes: list[str] = []
    tables = build_tables(run.counts, spec, by=by, n_boot=n_boot, seed=seed)
    pseudo.add_known_names(run.counts.names)
    tables["gap_examples"] = _example_table(run.counts.examples, tables["gaps"], pseudo)
    if events is not None:
        ev = read_events(events)
        if ev.skipped:
            notes.append(f"{len(ev.skipped)} event row(s) skipped: "
                         + "; ".join(ev.skipped[:5]) + (" ..." if len(ev.skipped) > 5 else ""))
        tables["indicators"] = compute(ev, indicator_config, period=spec.period)
    return tables, notes


# --------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------

def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "–" if pd.isna(v) else f"{v:.3f}".rstrip("0").rstrip(".") if abs(v) < 1 \
            else f"{v:,.1f}".rstrip("0").rstrip(".")
    return str(v)


def _html(df: pd.DataFrame, cls: str = "t") -> str:
    if df is None or df.empty:
        return '<p class="empty">No data.</p>'
    return df.to_html(index=False, classes=cls, border=0, na_rep="–", escape=True,
                      float_format=_fmt)


def _audit_display(table: pd.DataFrame) -> pd.DataFrame:
    """An audit table for reading: 'n (p%)' per grade, repeated group names blanked."""
    if table.empty:
        return table
    labels = [c[:-2] for c in table.columns if c.endswith(" n")]
    keys = [c for c in table.columns if not c.endswith((" n", " %")) and c != "Total"]
    out = table[keys].copy()
    for lab in labels:
        n, pct = table[f"{lab} n"], table[f"{lab} %"]
        out[lab] = [f"{int(a)} ({b:.1f}%)" if pd.notna(b) else str(int(a))
                    for a, b in zip(n, pct, strict=True)]
    out["Total"] = table["Total"]
    if len(keys) == 2:
        first = out[keys[0]].astype(str)
        out[keys[0]] = first.where(first != first.shift(), "")
    return out


def _prevalence_wide(prev: pd.DataFrame, rows: list[str], col: str | None) -> pd.DataFrame:
    """Rows by `rows` (marker label last), one column per value of `col`:
    'share% (low–high) n=...'."""
    if prev.empty:
        return prev
    cell = prev.apply(lambda r: f"{100 * r['prevalence']:.0f}% ({100 * r['ci_low']:.0f}–"
                      f"{100 * r['ci_high']:.0f}) n={r['n']}", axis=1)
    df = prev.assign(cell=cell)
    if col is None:
        return df[[*rows, "cell"]].rename(columns={"label": "marker",
                                                   "cell": "prevalence (95% CI)"})
    out = df.pivot_table(index=rows, columns=col, values="cell", aggfunc="first", sort=False)
    cols = sorted(out.columns, key=lambda c: (c != ALL, str(c)))
    out = out[cols]
    out.columns.name = None
    return out.reset_index().rename(columns={"label": "marker"}).fillna("–")


def _agreement_display(agree: pd.DataFrame) -> pd.DataFrame:
    if agree.empty:
        return agree
    d = agree.copy()
    d["kappa (95% CI)"] = d.apply(lambda r: f"{r['kappa']:.2f} ({r['kappa_low']:.2f} to "
                                  f"{r['kappa_high']:.2f})", axis=1)
    d["weighted kappa (95% CI)"] = d.apply(
        lambda r: f"{r['weighted_kappa']:.2f} ({r['weighted_low']:.2f} to "
                  f"{r['weighted_high']:.2f})", axis=1)
    d["agreement"] = (d["agreement"] * 100).round(1).astype(str) + "%"
    d["first kinder"] = (d["a_kinder"] * 100).round(1).astype(str) + "%"
    d["second kinder"] = (d["b_kinder"] * 100).round(1).astype(str) + "%"
    d["comparison"] = d["comparison"].str.replace("_", " ")
    return d[["comparison", "group", "n", "agreement", "kappa (95% CI)",
              "weighted kappa (95% CI)", "first kinder", "second kinder"]]


def _confusion_display(conf: pd.DataFrame, comparison: str) -> pd.DataFrame:
    c = conf[conf["comparison"] == comparison]
    if c.empty or c["n"].sum() == 0:
        return pd.DataFrame()
    first, second = comparison.split("_vs_")
    p = c.pivot_table(index="a", columns="b", values="n", aggfunc="sum", sort=False)
    keep = [lv for lv in p.index if p.loc[lv].sum() > 0 or p[lv].sum() > 0]
    p = p.loc[keep, keep]
    p.index = [f"{first}: {GRADE_LABELS.get(x, x)}" for x in p.index]
    p.columns = [f"{second}: {GRADE_LABELS.get(x, x)}" for x in p.columns]
    return p.reset_index().rename(columns={"index": ""})


def _disparity(agree: pd.DataFrame) -> list[str]:
    out = []
    for comp in dict.fromkeys(agree["comparison"]):
        for by in dict.fromkeys(agree.loc[agree["group"] != ALL, "group_by"]):
            sub = agree[(agree["comparison"] == comp) & (agree["group_by"] == by) &
                        (agree["n"] >= 10) & agree["kappa"].notna()]
            if len(sub) < 2:
                continue
            hi, lo = sub.loc[sub["kappa"].idxmax()], sub.loc[sub["kappa"].idxmin()]
            out.append(f"{comp.replace('_', ' ')}: kappa ranges from {lo['kappa']:.2f} "
                       f"({lo['group']}, n={lo['n']}) to {hi['kappa']:.2f} ({hi['group']}, "
                       f"n={hi['n']}) across the {len(sub)} {by}s with 10 or more records.")
    return out


def _render(context: Mapping[str, Any]) -> str:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda name: resources.files("screener.reports")
                                     .joinpath("templates", name).read_text("utf-8")),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.get_template("report.html.j2").render(**context)


def _write_table(df: pd.DataFrame, folder: Path, name: str) -> None:
    with atomic_output(folder / f"{name}.csv", newline="") as fh:
        df.to_csv(fh, index=False)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".parquet", dir=folder)
    os.close(fd)
    try:
        out = df.copy()
        for c in out.columns:
            if out[c].dtype == object:
                out[c] = out[c].map(lambda v: v if v is None or isinstance(v, str) else str(v))
        out.columns = [str(c) for c in out.columns]
        out.to_parquet(tmp, index=False)
        os.replace(tmp, folder / f"{name}.parquet")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report(run: RunResult, spec: TableSpec, html_path: str | Path, *,
                 pseudo: Pseudonymiser, by: str = "team", events: str | Path | None = None,
                 indicator_config: IndicatorConfig | None = None, n_boot: int = 1000,
                 seed: int = 0, title: str = "Recording quality report",
                 source: str = "", tables_dir: str | Path | None = None) -> ReportOutput:
    """Build the tables and figures and write the HTML report and its tables."""
    html = Path(html_path)
    folder = Path(tables_dir) if tables_dir else html.with_name(f"{html.stem}_tables")
    folder.mkdir(parents=True, exist_ok=True)
    tables, notes = build_report_tables(run, spec, pseudo, by=by, events=events,
                                        indicator_config=indicator_config, n_boot=n_boot,
                                        seed=seed)
    for name, df in tables.items():
        _write_table(df, folder, name)
    if run.tidy is not None:
        run.tidy.to_parquet(folder / "records.parquet", index=False)
        with atomic_output(folder / "records.csv", newline="") as fh:
            run.tidy.to_csv(fh, index=False)

    levels = list(spec.report_levels)
    gaps = tables["gaps"]
    by_label = {"team": "team", "service": "service", "doc_type": "record type",
                "worker": "worker", "period": "period"}[by]
    grade_group = by if by not in ("period",) else "service"
    group_table = tables.get(f"grades_by_{grade_group}_period",
                             tables["grades_by_service_period"])
    ind = tables.get("indicators")
    periods = sorted(p for p in run.counts.grades["period"].unique())
    context = {
        "title": title,
        "generated": dt.date.today().isoformat(),
        "source": source,
        "engine": run.engine,
        "n_records": run.n_records,
        "n_errors": len(run.errors),
        "errors": [f"{e.id or '(no id)'}: {e.error}" + (f" [{e.where}]" if e.where else "")
                   for e in run.errors[:10]],
        "notes": notes,
        "periods": ", ".join(periods),
        "n_services": run.counts.grades["service"].nunique(),
        "n_teams": run.counts.grades["team"].nunique(),
        "period_kind": {"year": "calendar year", "fy": "financial year (April to March)",
                        "quarter": "quarter", "month": "month"}[spec.period],
        "by": by, "by_label": by_label, "n_boot": n_boot,
        "grades_by_period": _html(_audit_display(tables["grades_by_period"])),
        "grades_by_service_period": _html(_audit_display(tables["grades_by_service_period"])),
        "grades_by_group": (_html(_audit_display(tables[f"grades_by_{by}_period"]))
                            if f"grades_by_{by}_period" in tables else None),
        "auditor_grades": (_html(_audit_display(tables["auditor_grades_by_service_period"]))
                           if "auditor_grades_by_service_period" in tables else None),
        "fig_grade_trend": figures.grade_trend_plot(tables["grade_trend"], levels),
        "fig_grades_group": figures.grades_by_group_plot(group_table, grade_group, levels),
        "fig_marker_trend": figures.marker_trend_plot(tables["marker_trend"],
                                                      list(gaps["marker"].head(6))),
        "marker_trend": _html(_prevalence_wide(tables["marker_trend"], ["label"], "period")),
        "prevalence": _html(_prevalence_wide(tables["marker_prevalence"],
                                             ["doc_type", "label"],
                                             None if by == "doc_type" else by)),
        "gaps": _html(gaps.drop(columns=["marker"]).assign(
            share=(gaps["share"] * 100).round(1), ci_low=(gaps["ci_low"] * 100).round(1),
            ci_high=(gaps["ci_high"] * 100).round(1)).rename(
            columns={"share": "% of records", "ci_low": "95% CI low", "ci_high": "95% CI high",
                     "n": "records", "gaps": "gaps", "doc_types": "record types"})),
        "fig_gaps": figures.gaps_plot(gaps),
        "examples": tables["gap_examples"].to_dict(orient="records"),
        "agreement": _html(_agreement_display(tables["agreement"])),
        "has_agreement": not tables["agreement"].empty,
        "confusions": [(c.replace("_", " "), _html(_confusion_display(
            tables["agreement_confusion"], c))) for c in
            dict.fromkeys(tables["agreement_confusion"]["comparison"])],
        "disparity": _disparity(tables["agreement"]),
        "fig_agreement": figures.agreement_plot(tables["agreement"]),
        "indicators": _html(wide(ind)) if ind is not None else None,
        "fig_indicators": figures.indicators_plot(ind) if ind is not None else None,
        "tables_dir": folder.name,
        "table_names": sorted([*tables, "records"] if run.tidy is not None or run.tidy_path
                              else tables),
    }
    with atomic_output(html) as fh:
        fh.write(_render(context))
    return ReportOutput(html=html, tables_dir=folder, tables=tables, notes=notes)
