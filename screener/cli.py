"""The `screener` command."""

from __future__ import annotations

import json
import logging
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from screener.audit.cli import register as register_audit
from screener.cli_common import Mode, fail, load_screener
from screener.config.loader import RubricError, load_rubric
from screener.reports.cli import register as register_reports

app = typer.Typer(
    help="Screen children's social care case records for recording quality: find the quality "
    "markers, grade each record by the authority's rubric, and flag gaps with evidence and "
    "what good looks like. Humans decide: flags are hints for auditors and managers.",
    no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False,
)


class Format(StrEnum):
    jsonl = "jsonl"
    csv = "csv"
    text = "text"


RubricOpt = Annotated[Path | None, typer.Option(
    "--rubric", help="An authority rubric YAML (`extends: default`). Default: the spec's rubric.",
    show_default=False)]
ModeArg = Annotated[Mode | None, typer.Option(
    "--mode", help="rules: pattern rules only; fast: + scikit-learn classifier; full: + MiniLM "
    "transformer. Default: the most accurate mode whose models are installed.",
    show_default=False)]


@app.command()
def screen(
    input: Annotated[Path, typer.Argument(
        help="JSONL or CSV with columns id, doc_type, text (other columns are carried "
        "through); or one .txt/.docx file; or a folder of .txt/.docx files (with --doc-type).",
        show_default=False)],
    output: Annotated[str | None, typer.Option(
        "-o", "--output", help="Where to write results; '-' or nothing for stdout. Files are "
        "written atomically (never half-written).", show_default=False)] = None,
    format: Annotated[Format | None, typer.Option(
        "--format", help="jsonl (one result object a line), csv (one row a record), or text "
        "(a readable report). Default: from the output's extension, else jsonl.",
        show_default=False)] = None,
    rubric: RubricOpt = None,
    mode: ModeArg = None,
    doc_type: Annotated[str | None, typer.Option(
        "--doc-type", help="Record type for .txt/.docx input (assessment, cp_enquiry, cin_plan, "
        "cp_plan, visit, supervision, oversight).", show_default=False)] = None,
    explain: Annotated[bool, typer.Option(
        "--explain", help="Add each marker's decision trace: the cues that matched but were "
        "blocked (negated, placeholder, intended, someone else's report ...).")] = False,
    progress: Annotated[bool, typer.Option(
        "--progress/--no-progress", help="Progress bar on stderr (shown only on a terminal).")]
    = True,
    workers: Annotated[int, typer.Option(
        "--workers", min=1, help="Processes screening in parallel, each loading its own "
        "models (a few seconds): use the number of cores for thousands of records.")] = 1,
) -> None:
    """Screen records and write one result per record.

    Each JSONL result: {"id", "doc_type", "grade", "grade_probabilities", "markers":
    {MARKER: {"present", "probability", "evidence": [{"start", "end", "text", "source"}]}},
    "flags": [{"marker", "severity", "message"}]}, listing every marker of the record's type.

    A record that cannot be screened (unknown doc_type, empty or non-UTF-8 text, missing
    field, malformed line) is reported on stderr with its file and line and appears in the
    output as {"id", "error", "where"}; the rest are still screened. The exit status is
    non-zero only when nothing could be screened.
    """
    from tqdm import tqdm

    from screener.io import InputError, atomic_output, read_records, write_csv, write_jsonl
    from screener.io import write_text as write_text_out
    from screener.schemas import ErrorResult, ScreenResult

    if doc_type is not None:
        known = load_rubric(rubric).doc_types if rubric else load_rubric().doc_types
        if doc_type not in known:
            raise fail(f"unknown --doc-type {doc_type!r} (allowed: {', '.join(known)})")
    fmt = format
    if fmt is None:
        suffix = Path(output).suffix.lower() if output and output != "-" else ""
        fmt = {".csv": Format.csv, ".txt": Format.text}.get(suffix, Format.jsonl)
    scr = load_screener(rubric, mode)
    counts = {"ok": 0, "error": 0}

    def tally(items):
        for r in items:
            if isinstance(r, ErrorResult):
                counts["error"] += 1
                where = f" [{r.where}]" if r.where else ""
                typer.echo(f"screener: {r.id or '(no id)'}: {r.error}{where}", err=True)
            elif isinstance(r, ScreenResult):
                counts["ok"] += 1
            yield r

    try:
        records = read_records(input, doc_type)
        bar = tqdm(desc="screening", unit="rec", file=sys.stderr, disable=not progress or None,
                   leave=False)
        results = tally(bar_iter(scr.screen(records, workers=workers), bar))
        with atomic_output(output, newline="" if fmt is Format.csv else None) as fh:
            if fmt is Format.jsonl:
                write_jsonl(results, fh, explain=explain)
            elif fmt is Format.csv:
                write_csv(results, fh)
            else:
                write_text_out(results, fh)
        bar.close()
    except InputError as e:
        raise fail(str(e), 1) from e
    except OSError as e:
        raise fail(f"cannot write {output}: {e.strerror or e}", 1) from e
    typer.echo(f"screener: screened {counts['ok']} record(s), {counts['error']} error(s)",
               err=True)
    if counts["ok"] == 0:
        raise typer.Exit(1)


def bar_iter(items, bar):
    for item in items:
        bar.update(1)
        yield item


@app.command()
def markers(
    rubric: RubricOpt = None,
    doc_type: Annotated[str | None, typer.Option("--doc-type", help="Only this record type.")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Print the markers and grading rules in force, and where each came from."""
    from screener.config.describe import describe_rubric, rubric_as_dict

    try:
        rb = load_rubric(rubric)
    except RubricError as e:
        raise fail(str(e)) from e
    if doc_type and doc_type not in rb.doc_types:
        raise fail(f"unknown --doc-type {doc_type!r} (allowed: {', '.join(rb.doc_types)})")
    if as_json:
        typer.echo(json.dumps(rubric_as_dict(rb, doc_type), indent=2))
    else:
        typer.echo(describe_rubric(rb, doc_type))


@app.command()
def evaluate(
    gold: Annotated[Path, typer.Argument(help="Gold JSONL in the spec's evaluation format.",
                                         show_default=False)],
    mode: Annotated[list[Mode] | None, typer.Option(
        "--mode", help="Mode(s) to score; repeat for an ablation table. Default: every mode "
        "whose models are installed.", show_default=False)] = None,
    rubric: RubricOpt = None,
    json_out: Annotated[Path | None, typer.Option(
        "--json", help="Also write the full scores (with reliability tables) here.",
        show_default=False)] = None,
) -> None:
    """Score the screener against gold labels: per-marker P/R/F1/MCC, grades, ranking."""
    from screener.classifiers.artefacts import available_modes
    from screener.evaluate import evaluate as run_eval
    from screener.evaluate import format_report, gold_records, load_gold
    from screener.io import atomic_output
    from screener.schemas import ScreenResult

    try:
        gold_data = load_gold(gold)
    except (OSError, ValueError) as e:
        raise fail(f"cannot read gold file: {e}", 1) from e
    modes = [m.value for m in mode] if mode else [
        m for m in ("rules", "fast", "full") if m in available_modes()]
    reports = []
    for m in modes:
        scr = load_screener(rubric, Mode(m))
        results = [r for r in scr.screen(gold_records(gold_data)) if isinstance(r, ScreenResult)]
        reports.append(run_eval(gold_data, results, scr.rubric.levels, m))
    typer.echo(format_report(reports))
    if json_out:
        with atomic_output(json_out) as fh:
            json.dump([r.to_dict() for r in reports], fh, indent=2)


@app.command()
def train(
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", help="Models folder to write (default: the repository's models/, "
        "or SCREENER_MODELS_DIR).", show_default=False)] = None,
    n_generated: Annotated[int, typer.Option(
        "--n-generated", help="Records from the seeded generator added to the hand-written "
        "corpus.")] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Generator seed (reproducible).")] = 13,
    minilm: Annotated[bool, typer.Option(
        "--minilm/--no-minilm", help="Also train the MiniLM heads (full mode).")] = True,
    version: Annotated[str | None, typer.Option(
        "--version", help="Version label for the new models (default: today's date).",
        show_default=False)] = None,
    with_reviews: Annotated[bool, typer.Option(
        "--with-reviews", help="Add auditor-reviewed records from the audit database as "
        "labelled data.")] = False,
    smoke: Annotated[bool, typer.Option(
        "--smoke", help="A tiny, quick run that exercises every step (for tests and CI).")]
    = False,
) -> None:
    """Rebuild the trained models from training/ (hand-written corpus, seeded generator,
    sentence banks), with progress, and register them as the models in use."""
    from screener.classifiers.artefacts import default_models_dir
    from training.train import TrainConfig
    from training.train import train as run_train

    cfg = TrainConfig(n_generated=n_generated, seed=seed, with_minilm=minilm, smoke=smoke)
    if smoke:
        cfg.n_generated, cfg.folds = min(n_generated, 120), 3
    target = output or default_models_dir()
    if with_reviews:
        from screener.audit.learning import reviewed_training_records, write_rule_weights

        cfg.extra_records = reviewed_training_records()
        typer.echo(f"screener: adding {len(cfg.extra_records)} reviewed record(s)", err=True)
        write_rule_weights(target, version=version)  # rules auditors reject count for less
    metrics = run_train(target, cfg, version=version)
    for mode in ("rules", "fast", "full"):
        if mode in metrics:
            typer.echo(f"{mode:<6} cross-validated macro-MCC (held-out writers): "
                       f"{metrics[mode]['macro_mcc']:.3f}")
    typer.echo(f"models written to {target} in {metrics['seconds']:.0f} s")


register_audit(app)  # import, queue, review, agreement, rescreen (screener/audit/cli.py)
register_reports(app)  # report, pseudonymise (screener/reports/cli.py)
__import__("api.cli", fromlist=["register"]).register(app)  # serve, token (api/cli.py)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()


if __name__ == "__main__":
    main()
