"""`screener report` and `screener pseudonymise`: research reports and pseudonymised exports.

Heavy imports (pandas, Presidio, Dask, matplotlib) happen inside the commands, so that
registering them costs the `screener` command nothing at start-up.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from screener.cli_common import Mode, fail

__all__ = ["register"]

KEY_ENV = "SCREENER_PSEUDONYM_KEY"


class By(StrEnum):
    team = "team"
    service = "service"
    doc_type = "doc_type"
    worker = "worker"
    period = "period"


class Period(StrEnum):
    year = "year"
    fy = "fy"
    quarter = "quarter"
    month = "month"


class Engine(StrEnum):
    local = "local"
    dask = "dask"


def _key(key_file: Path | None) -> bytes | None:
    """The pseudonym key: from --key-file, else $SCREENER_PSEUDONYM_KEY, else None (a fresh
    random key: this export cannot be linked to any other)."""
    if key_file is not None:
        try:
            raw = key_file.read_bytes().strip()
        except OSError as e:
            raise fail(f"cannot read --key-file {key_file}: {e.strerror or e}") from e
        if len(raw) < 16:
            raise fail(f"--key-file {key_file}: a key needs at least 16 bytes")
        return raw
    env = os.environ.get(KEY_ENV)
    return env.encode("utf-8") if env else None


def report_cmd(
    input: Annotated[Path | None, typer.Argument(
        help="Records to screen (JSONL/CSV with id, doc_type, text and optional team, service, "
        "worker, date, auditor_grade, moderator_grade), a results JSONL from `screener "
        "screen` (carried columns included), or a folder of JSONL/Parquet partitions.",
        show_default=False)] = None,
    db: Annotated[bool, typer.Option(
        "--db", help="Read the latest screening results, reviews and moderation from the "
        "audit database ($SCREENER_DATABASE_URL, or --database-url) instead of INPUT.")]
    = False,
    database_url: Annotated[str | None, typer.Option(
        "--database-url", help="The audit database for --db.", show_default=False)] = None,
    output: Annotated[Path, typer.Option(
        "-o", "--output", help="The HTML report to write; its tables go to "
        "<name>_tables/ beside it (CSV and Parquet).")] = Path("report.html"),
    by: Annotated[By, typer.Option(
        "--by", help="The grouping for marker prevalence, grade tables and agreement.")]
    = By.team,
    period: Annotated[Period, typer.Option(
        "--period", help="year (calendar), fy (financial year, April to March), quarter, "
        "month.")] = Period.year,
    events: Annotated[Path | None, typer.Option(
        "--events", help="Events CSV for the performance indicators (see "
        "examples/events.csv).", show_default=False)] = None,
    indicators: Annotated[Path | None, typer.Option(
        "--indicators", help="YAML overriding the indicator timescales (default: 45 working "
        "days for assessments, 15 for CP enquiries ...).", show_default=False)] = None,
    rubric: Annotated[Path | None, typer.Option(
        "--rubric", help="An authority rubric YAML (`extends: default`).",
        show_default=False)] = None,
    mode: Annotated[Mode | None, typer.Option(
        "--mode", help="Screening mode for records screened on the fly (default: the most "
        "accurate installed).", show_default=False)] = None,
    engine: Annotated[Engine, typer.Option(
        "--engine", help="local: this process; dask: partitions on a Dask cluster.")]
    = Engine.local,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="Dask scheduler address (tcp://host:8786); default: a local "
        "cluster of --workers processes.", show_default=False)] = None,
    workers: Annotated[int, typer.Option("--workers", min=1,
                                         help="Local Dask workers (one thread each).")] = 2,
    blocksize: Annotated[str, typer.Option(
        "--blocksize", help="Dask: split JSONL/CSV files into blocks of this size.")]
    = "64MiB",
    key_file: Annotated[Path | None, typer.Option(
        "--key-file", help=f"Pseudonym key (keep it with the data controller); same key, "
        f"same pseudonyms across exports. Default: ${KEY_ENV}, else a fresh random key.",
        show_default=False)] = None,
    bootstrap: Annotated[int, typer.Option(
        "--bootstrap", min=0, help="Bootstrap resamples for kappa intervals.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed.")] = 0,
    title: Annotated[str, typer.Option("--title", help="The report's title.")]
    = "Recording quality report",
) -> None:
    """Write a research report: grade distributions by period and service (audit-table
    shape), marker prevalence by record type and team with confidence intervals, trends,
    the commonest gaps with pseudonymised examples, screener/auditor/moderator agreement,
    and performance indicators from an events file. Self-contained HTML, plus every table
    as CSV and Parquet; everything pseudonymised."""
    from screener.config.loader import RubricError, load_rubric
    from screener.io import InputError
    from screener.reports.engine import Settings, local_items, run_dask, run_local
    from screener.reports.indicators import IndicatorError, load_config
    from screener.reports.pseudonymise import Pseudonymiser
    from screener.reports.report import write_report
    from screener.reports.sources import iter_db
    from screener.reports.table import TableSpec

    if (input is None) == (not db):
        raise fail("give either INPUT or --db (not both)")
    if db and engine is Engine.dask:
        raise fail("--engine dask reads files; for the database use the local engine")
    try:
        rb = load_rubric(rubric) if rubric else load_rubric()
        cfg = load_config(indicators) if (indicators or events) else None
    except (RubricError, IndicatorError) as e:
        raise fail(str(e)) from e
    if events is not None and not events.is_file():
        raise fail(f"--events {events}: no such file")
    spec = TableSpec.from_rubric(rb, period.value)
    key = _key(key_file)
    pseudo = Pseudonymiser(key=key)
    chosen_mode = mode.value if mode else None
    if chosen_mode is None and not db:
        from screener.pipeline import default_mode

        chosen_mode = default_mode()
    settings = Settings(spec=spec, key=pseudo.key, rubric=str(rubric) if rubric else None,
                        mode=chosen_mode or "rules")
    tables_dir = output.with_name(f"{output.stem}_tables")
    try:
        if engine is Engine.dask:
            import logging

            import distributed  # noqa: F401  (sets its loggers to INFO on import ...)

            assert input is not None
            for name in ("distributed", "dask"):  # (... which is chatter for a CLI user)
                logging.getLogger(name).setLevel(logging.WARNING)
            run = run_dask(input, settings, tables_dir / "records.parquet",
                           scheduler=scheduler, workers=workers, blocksize=blocksize)
            source = f"{input.name} (Dask, {run.partitions} partitions)"
        elif db:
            run = run_local(iter_db(database_url), settings)
            source = "audit database"
        else:
            assert input is not None
            run = run_local(local_items(input), settings)
            source = input.name
        for err in run.errors[:20]:
            typer.echo(f"screener: {err.id or '(no id)'}: {err.error}"
                       + (f" [{err.where}]" if err.where else ""), err=True)
        if run.n_records == 0:
            raise fail("nothing could be screened; no report written", 1)
        out = write_report(run, spec, output, pseudo=pseudo, by=by.value, events=events,
                           indicator_config=cfg, n_boot=bootstrap, seed=seed, title=title,
                           source=source, tables_dir=tables_dir)
    except (InputError, IndicatorError) as e:
        raise fail(str(e), 1) from e
    except OSError as e:
        raise fail(f"cannot write the report: {e.strerror or e}", 1) from e
    for note in out.notes:
        typer.echo(f"screener: {note}", err=True)
    typer.echo(f"screener: {run.n_records} record(s) reported, {len(run.errors)} error(s), "
               f"{run.engine} engine, {run.seconds:.1f} s; report {out.html}, tables in "
               f"{out.tables_dir}/", err=True)


def pseudonymise_cmd(
    input: Annotated[Path, typer.Argument(
        help="JSONL or CSV records (or results) to pseudonymise.", show_default=False)],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write (same "
                                         "format as the input).", show_default=False)],
    text_columns: Annotated[list[str] | None, typer.Option(
        "--text", help="Free-text column(s) to pseudonymise (default: text).",
        show_default=False)] = None,
    name_columns: Annotated[list[str] | None, typer.Option(
        "--name", help="Column(s) holding people's names (default: worker, child_name).",
        show_default=False)] = None,
    key_file: Annotated[Path | None, typer.Option(
        "--key-file", help=f"Pseudonym key (default: ${KEY_ENV}, else random).",
        show_default=False)] = None,
) -> None:
    """Write a copy of a records file with names, dates of birth, addresses, postcodes,
    phone numbers, emails, NHS and NI numbers replaced by consistent pseudonyms (ids and
    name columns by keyed hash)."""
    import pandas as pd

    from screener.io import atomic_output
    from screener.reports.pseudonymise import Pseudonymiser

    suffix = input.suffix.lower()
    try:
        if suffix == ".csv":
            df = pd.read_csv(input, dtype=str, keep_default_na=False)
        elif suffix in (".jsonl", ".ndjson"):
            df = pd.read_json(input, lines=True, dtype=False)
        else:
            raise fail(f"{input}: unknown file type {suffix or '(none)'} (allowed: .jsonl, "
                        ".csv)")
    except (OSError, ValueError) as e:
        raise fail(f"cannot read {input}: {e}", 1) from e
    texts = text_columns or ["text"]
    names = name_columns or ["worker", "child_name"]
    pseudo = Pseudonymiser(key=_key(key_file))
    for col in names:
        if col in df:
            pseudo.add_known_names(str(v) for v in df[col] if isinstance(v, str))
    out = pseudo.frame(df, text_columns=[c for c in texts if c in df],
                       name_columns=[c for c in names if c in df], id_columns=["id"])
    with atomic_output(output, newline="" if suffix == ".csv" else None) as fh:
        if suffix == ".csv":
            out.to_csv(fh, index=False)
        else:
            out.to_json(fh, orient="records", lines=True, force_ascii=False)
    typer.echo(f"screener: pseudonymised {len(out)} row(s) to {output}", err=True)


def register(app: typer.Typer) -> None:
    """Add the report commands to the `screener` app."""
    app.command("report")(report_cmd)
    app.command("pseudonymise")(pseudonymise_cmd)
