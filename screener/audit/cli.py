"""The audit commands: `screener import`, `queue`, `review`, `agreement`, `rescreen`.

Registered on the main `screener` app by `register(app)`.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from screener.cli_common import DbOpt, Mode, fail, load_screener

if TYPE_CHECKING:
    from screener.audit.db import Database
    from screener.audit.schemas import RecordView
    from screener.config.models import Rubric

RubricOpt = Annotated[Path | None, typer.Option(
    "--rubric", help="An authority rubric YAML (`extends: default`): its grades, and its "
    "record-type weights for the queue. Default: the spec's rubric.", show_default=False)]
TeamOpt = Annotated[str | None, typer.Option("--team", help="Only files of this team "
                                             "(the team of the file's newest record).",
                                             show_default=False)]
ServiceOpt = Annotated[str | None, typer.Option("--service", help="Only files of this "
                                                "service.", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output (JSON).")]


ModeOpt = Annotated[Mode | None, typer.Option(
    "--mode", help="Screening mode: rules, fast or full. Default: the most accurate mode whose "
    "models are installed.", show_default=False)]


def _db(url: str | None) -> Database:
    from screener.audit.db import Database, DatabaseError

    try:
        return Database(url)
    except DatabaseError as e:
        raise fail(str(e), 1) from e


def _rubric(path: Path | None) -> Rubric:
    from screener.config.loader import RubricError, load_rubric

    try:
        return load_rubric(path)
    except RubricError as e:
        raise fail(str(e)) from e


def _pct(x: float | None) -> str:
    return "  —  " if x is None else f"{x:5.0%}"


def _num(x: float | None) -> str:
    return "  —  " if x is None else f"{x:5.2f}"


# -- import ------------------------------------------------------------------------------

def import_cmd(
    file: Annotated[Path, typer.Argument(help="A CSV or JSONL export of a case-management "
                                         "system.", show_default=False)],
    mapping: Annotated[Path | None, typer.Option(
        "--mapping", help="Column-mapping YAML for this export's layout (see "
        "examples/exports/). Default: columns id, child_id, case_file, doc_type, date, worker, "
        "team, service, text.", show_default=False)] = None,
    db: DbOpt = None,
    rubric: RubricOpt = None,
    mode: ModeOpt = None,
    batch_size: Annotated[int, typer.Option(
        "--batch-size", min=1, help="Rows written per transaction (a killed run keeps whole "
        "batches; re-running finishes the rest).")] = 50,
    progress: Annotated[bool, typer.Option(
        "--progress/--no-progress", help="Progress bar on stderr (only on a terminal).")]
    = True,
) -> None:
    """Import an export into the audit database and screen its records.

    Re-importing is safe: records are matched by the source system's record id, a changed
    record is updated and screened again (its old result is kept), and an unchanged one is
    left alone. Bad rows are reported with their line and reason; the rest are imported.
    A run that is killed leaves whole batches behind; run it again to finish.
    """
    from screener.audit.importer import import_file
    from screener.audit.mapping import MappingError, RowError, load_mapping

    if not file.is_file():
        raise fail(f"{file}: no such file", 1)
    try:
        m = load_mapping(mapping)
    except MappingError as e:
        raise fail(str(e)) from e
    database = _db(db)
    scr = load_screener(rubric, mode)

    def report(err: RowError) -> None:
        rid = f" [record {err.source_id}]" if err.source_id else ""
        typer.echo(f"screener: {file}:{err.line}: {err.reason}{rid}", err=True)

    try:
        rep = import_file(database, file, m, scr, batch_size=batch_size,
                          progress=progress and sys.stderr.isatty(), on_error=report)
    except MappingError as e:
        raise fail(str(e), 1) from e
    typer.echo(rep.summary())
    typer.echo(f"database: {database.display_url} (import run {rep.run_id}, "
               f"mode {scr.mode}, rubric {scr.rubric.label})")
    if rep.rows and rep.inserted + rep.updated + rep.unchanged == 0 and rep.bad:
        raise typer.Exit(1)


def rescreen_cmd(
    db: DbOpt = None,
    rubric: RubricOpt = None,
    mode: ModeOpt = None,
    everything: Annotated[bool, typer.Option(
        "--all", help="Screen every record again, not only those screened by other models, "
        "rubric or mode.")] = False,
) -> None:
    """Screen records again after a model or rubric change (old results are kept)."""
    from screener.audit.importer import rescreen

    database = _db(db)
    scr = load_screener(rubric, mode)
    n = rescreen(database, scr, everything, progress=sys.stderr.isatty())
    typer.echo(f"screened {n} record(s) again (mode {scr.mode}, rubric {scr.rubric.label})")


# -- queue -------------------------------------------------------------------------------

def queue_cmd(
    team: TeamOpt = None,
    service: ServiceOpt = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Show only the first N "
                                              "files of the ranked queue.",
                                              show_default=False)] = None,
    sample_n: Annotated[int | None, typer.Option(
        "--sample", min=1, help="Also draw a simple random sample of N files for an unbiased "
        "audit.", show_default=False)] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed for --sample "
                                             "(reproducible).", show_default=False)] = None,
    uncertain_flag: Annotated[bool, typer.Option(
        "--uncertain", help="List instead the unreviewed records the screener is least sure "
        "about: reviewing them teaches the model most.")] = False,
    include_reviewed: Annotated[bool, typer.Option(
        "--all", help="Include files whose every record has been reviewed.")] = False,
    db: DbOpt = None,
    rubric: RubricOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Rank case files for audit: which to read first, and why.

    Files are ranked by the probability that they hold a record below good (requires
    improvement or inadequate), record types weighted by the rubric; one line per file
    with why, then the expected yield of reading the top of the queue vs a random sample.
    """
    from screener.audit import service as svc

    database = _db(db)
    rb = _rubric(rubric)
    with database.session() as s:
        if uncertain_flag:
            recs = svc.uncertain_records(s, limit or 20, team=team, service=service)
            if as_json:
                typer.echo(json.dumps([r.model_dump(mode="json") for r in recs], indent=1))
                return
            typer.echo(f"Records whose review would teach the model most ({len(recs)}):")
            for i, u in enumerate(recs, 1):
                unsure = ", ".join(f"{m} {p:.2f}" for m, p in u.unsure.items())
                typer.echo(f"{i:>3}. record {u.record_id} ({u.key}) file {u.file_id} "
                           f"{u.doc_type}: uncertainty {u.score:.2f} bits; unsure: {unsure}")
            return
        items = svc.list_queue(s, rubric=rb, team=team, service=service,
                               include_reviewed=include_reviewed)
        picked = svc.sample_files(s, sample_n, rubric=rb, team=team, service=service, seed=seed,
                                  include_reviewed=include_reviewed) if sample_n else []
    yields = svc.yield_of(items)
    shown = items[:limit] if limit else items
    if as_json:
        typer.echo(json.dumps({"queue": [it.model_dump(mode="json") for it in shown],
                               "total": len(items),
                               "yield": [y.model_dump() for y in yields],
                               "sample": [it.model_dump(mode="json") for it in picked]},
                              indent=1))
        return
    if not items:
        typer.echo("No screened case files match (import an export with `screener import`).")
        return
    weights = {t: d.weight for t, d in rb.doc_types.items() if d.weight != 1.0}
    wtxt = ", ".join(f"{t} x{w:g}" for t, w in weights.items()) or "all record types x1"
    typer.echo(f"Triage queue: {len(shown)} of {len(items)} case file(s) · rubric "
               f"{rb.label} · weights: {wtxt}")
    typer.echo("P = probability the file holds a record below good (RI or inadequate)")
    for i, it in enumerate(shown, 1):
        typer.echo(_file_line(i, it))
    typer.echo("")
    typer.echo("Expected yield (if the screener's probabilities are calibrated):")
    for y in yields:
        typer.echo(f"  reading the top {y.share:.0%} ({y.files} file(s)) should find "
                   f"{y.expected_found:.0%} of the files with an inadequate record "
                   f"({y.expected_found_below:.0%} of those below good); a random "
                   f"{y.share:.0%} finds {y.random_found:.0%}")
    if picked:
        typer.echo("")
        typer.echo(f"Random sample for an unbiased audit ({len(picked)} file(s)"
                   + (f", seed {seed}" if seed is not None else "") + "):")
        for i, it in enumerate(picked, 1):
            typer.echo(_file_line(i, it))


def _file_line(i: int, it: Any) -> str:
    where = " / ".join(x for x in (it.team, it.service) if x) or "no team"
    done = " [reviewed]" if it.reviewed else ""
    return (f"{i:>3}. file {it.file_id} ({it.pseudonym}) · {where} · P={it.p_below_good:.2f} "
            f"P(inadequate)={it.p_inadequate:.2f} · {it.why}{done}")


# -- review ------------------------------------------------------------------------------

_CHOICES = {"c": "confirmed", "r": "rejected", "o": "corrected", "s": None}
_LETTER = {v: k for k, v in _CHOICES.items() if v}


def _choose(text: str, choices: list[str], default: str) -> str:
    """Ask until the answer is one of `choices`."""
    while True:
        answer = str(typer.prompt(text, default=default)).strip()
        if answer in choices:
            return answer
        typer.echo(f"  please answer one of: {', '.join(choices)}")


def _quote(prompt: str, text: str) -> str | None:
    """An optional quote from the record; asked again until it is found in the text."""
    while True:
        quote = str(typer.prompt(prompt, default="", show_default=False)).strip()
        if not quote or quote in text:
            return quote or None
        typer.echo("  not found in the record's text: quote it exactly, or press Enter to skip")


def _wrap(text: str, indent: str = "    ") -> str:
    out = []
    for para in text.splitlines():
        out.append(textwrap.fill(para, width=96, initial_indent=indent,
                                 subsequent_indent=indent) if para.strip() else "")
    return "\n".join(out)


def _show_record(r: RecordView, n: int, total: int) -> None:
    when = r.record_date.isoformat() if r.record_date else "undated"
    who = ", ".join(x for x in (r.worker, r.team, r.service) if x)
    typer.secho(f"\n── Record {n}/{total} · #{r.id} {r.key} · {r.doc_type} · {when}"
                + (f" · {who}" if who else ""), bold=True)
    typer.echo(_wrap(r.text))
    if r.result is None:
        return
    res = r.result
    probs = ", ".join(f"{k.replace('_', ' ')} {v:.0%}" for k, v in res.grade_probabilities.items())
    typer.echo(f"\n  Screener: {res.grade.replace('_', ' ').upper()} ({probs}) · {res.mode} · "
               f"{res.rubric}")
    found = [m for m, v in res.markers.items() if v["present"]
             and m not in {f.marker for f in res.flags}]
    for m in found:
        ev = res.markers[m].get("evidence") or []
        said = " ".join(str(ev[0].get("sentence") or ev[0]["text"]).split()) if ev else ""
        quote = f' "{textwrap.shorten(said, 80)}"' if said else ""
        typer.echo(f"   ✓ {m}{quote}")


def _ask_decisions(r: RecordView, previous: dict[str, Any]) -> list[dict[str, Any]]:
    assert r.result is not None
    out: list[dict[str, Any]] = []
    flags = r.result.flags
    for i, f in enumerate(flags, 1):
        typer.echo(f"\n  Flag {i}/{len(flags)} [{f.severity}] {f.marker}: "
                   f"{textwrap.shorten(f.message, 240)}")
        default = _LETTER.get(previous.get(f.marker, ""), "s")
        choice = _choose("  [c]onfirm / [r]eject / c[o]rrect / [s]kip", list(_CHOICES), default)
        decision = _CHOICES[choice]
        if decision is None:
            continue
        d: dict[str, Any] = {"marker": f.marker, "decision": decision}
        if decision == "corrected":
            d["corrected_value"] = typer.prompt("  What is right (e.g. the severity, or the "
                                                "right wording)")
        if decision == "rejected":
            quote = _quote("  Quote the passage that shows it (optional)", r.text)
            if quote:
                d["evidence"] = quote
        out.append(d)
    flagged = {f.marker for f in flags}
    unflagged = [m for m in r.result.markers if m not in flagged]
    if unflagged:
        typer.echo(f"\n  Not flagged: {', '.join(unflagged)}")
        raw = typer.prompt("  Add misses (markers the screener got wrong, comma-separated; "
                           "Enter for none)", default="", show_default=False)
        for m in [x.strip() for x in raw.split(",") if x.strip()]:
            if m not in unflagged:
                typer.echo(f"  (ignored {m!r}: not one of {', '.join(unflagged)})")
                continue
            d = {"marker": m, "decision": "added"}
            quote = _quote(f"  Quote for {m} (optional)", r.text)
            if quote:
                d["evidence"] = quote
            out.append(d)
    return out


def review_cmd(
    file_id: Annotated[str, typer.Argument(help="Case file number (from `screener queue`) or "
                                           "pseudonym (F-...).", show_default=False)],
    auditor: Annotated[str | None, typer.Option(
        "--auditor", help="Your name as auditor (default: $SCREENER_AUDITOR, else your login "
        "name).", show_default=False)] = None,
    moderate: Annotated[bool, typer.Option(
        "--moderate", help="Moderate: give a second grade to records another auditor "
        "reviewed.")] = False,
    db: DbOpt = None,
    rubric: RubricOpt = None,
) -> None:
    """Review a case file at the terminal, or moderate another auditor's review.

    For each record: confirm, reject or correct each flag, add what the screener missed,
    give the final grade and a comment. With --moderate, give a second auditor's grade to
    completed reviews.

    Each record is saved as soon as it is done (Ctrl-C keeps the records already saved).
    """
    import getpass

    from screener.audit import service as svc
    from screener.audit.schemas import DecisionIn

    who = (auditor or os.environ.get("SCREENER_AUDITOR") or getpass.getuser()).strip()
    database = _db(db)
    rb = _rubric(rubric)
    try:
        with database.session() as s:
            fv = svc.get_file(s, file_id, actor=who)
    except svc.NotFound as e:
        raise fail(str(e), 1) from e
    typer.secho(f"Case file {fv.id} ({fv.pseudonym}) · child {fv.child} · "
                f"{len(fv.records)} record(s) · {'moderator' if moderate else 'auditor'} {who}",
                bold=True)
    grades = list(rb.levels)
    done = 0
    for n, r in enumerate(fv.records, 1):
        if r.result is None:
            continue
        if moderate:
            done += _moderate_record(database, r, n, len(fv.records), who, grades, rb)
            continue
        _show_record(r, n, len(fv.records))
        mine = next((rv for rv in r.reviews if rv.auditor == who
                     and rv.result_id == r.result.id), None)
        previous = {m: d.decision for m, d in mine.decisions.items()} if mine else {}
        decisions = _ask_decisions(r, previous)
        grade = _choose(f"\n  Final grade ({'/'.join(grades)}, or skip)", [*grades, "skip"],
                        mine.grade if mine and mine.grade else "skip")
        comment = typer.prompt("  Comment (optional)", default=(mine.comment or "") if mine
                               else "", show_default=False)
        try:
            with database.session() as s:
                svc.record_review(s, r.id, who, [DecisionIn.model_validate(d)
                                                 for d in decisions],
                                  grade=None if grade == "skip" else grade,
                                  comment=comment or None, rubric=rb)
        except (svc.ReviewError, ValueError) as e:
            typer.echo(f"  not saved: {e}", err=True)
            continue
        done += 1
        typer.echo(f"  saved: {len(decisions)} decision(s)"
                   + (f", grade {grade}" if grade != "skip" else ", no grade yet"))
    typer.echo(f"\n{done} record(s) {'moderated' if moderate else 'reviewed'} in file {fv.id}.")


def _moderate_record(database: Database, r: RecordView, n: int, total: int, who: str,
                     grades: list[str], rb: Rubric) -> int:
    from screener.audit import service as svc

    todo = [rv for rv in r.reviews if rv.completed and rv.auditor != who]
    if not todo:
        return 0
    _show_record(r, n, total)
    saved = 0
    for rv in todo:
        decided = ", ".join(f"{m} {d.decision}" for m, d in rv.decisions.items()) or "none"
        typer.echo(f"\n  {rv.auditor} graded it {rv.grade}; decisions: {decided}"
                   + (f"; comment: {rv.comment}" if rv.comment else ""))
        mine = next((m for m in rv.moderations if m.moderator == who), None)
        grade = _choose(f"  Your grade ({'/'.join(grades)}, or skip)", [*grades, "skip"],
                        mine.grade if mine else "skip")
        if grade == "skip":
            continue
        comment = typer.prompt("  Comment (optional)", default="", show_default=False)
        try:
            with database.session() as s:
                svc.record_moderation(s, rv.id, who, grade, comment or None, rubric=rb)
        except (svc.ReviewError, svc.NotFound) as e:
            typer.echo(f"  not saved: {e}", err=True)
            continue
        saved += 1
        typer.echo(f"  saved: moderation grade {grade}")
    return saved


# -- agreement ---------------------------------------------------------------------------

def agreement_cmd(
    service: Annotated[str | None, typer.Option("--service", help="Only records of this "
                                                "service.", show_default=False)] = None,
    rules: Annotated[bool, typer.Option(
        "--rules", help="Show each pattern rule's confirmation rate instead, and the rules "
        "auditors keep rejecting (their weight drops after `screener train "
        "--with-reviews`).")] = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """How far auditors agree with the screener, and with each other.

    Per marker: the share of flags auditors confirm (precision as they judge it) and the
    misses they add. Per service: Cohen's kappa between the screener's and the auditor's
    grades, and between auditor and moderator."""
    from screener.audit import service as svc
    from screener.audit.learning import keeps_rejecting

    database = _db(db)
    with database.session() as s:
        if rules:
            stats = svc.rule_stats(s)
            if as_json:
                typer.echo(json.dumps([r.model_dump() for r in stats], indent=1))
                return
            _print_rules(stats, keeps_rejecting)
            return
        rep = svc.agreement(s, service)
    if as_json:
        typer.echo(rep.model_dump_json(indent=1))
        return
    typer.echo(f"Reviews: {rep.reviews} ({rep.completed} completed)"
               + (f" · service {service}" if service else ""))
    typer.echo(f"\n{'marker':<20}{'flags':>6}{'confirmed':>10}{'corrected':>10}{'rejected':>9}"
               f"{'confirm%':>9}{'misses':>8}{'judged':>8}")
    for m in rep.markers:
        typer.echo(f"{m.marker:<20}{m.flags_decided:>6}{m.confirmed:>10}{m.corrected:>10}"
                   f"{m.rejected:>9}{_pct(m.confirm_rate):>9}{m.misses_added:>8}{m.judged:>8}")
    typer.echo("\nGrades, Cohen's kappa (n pairs, raw agreement, kappa):")
    typer.echo(f"{'service':<28}{'screener vs auditor':>26}{'auditor vs moderator':>26}")
    mods = {k.service: k for k in rep.auditor_vs_moderator}
    for k in rep.screener_vs_auditor:
        m2 = mods.get(k.service)
        right = (f"{m2.n:>4} {_pct(m2.agreement)} {_num(m2.kappa)}" if m2 else "   0    —     — ")
        typer.echo(f"{k.service:<28}{k.n:>10} {_pct(k.agreement)} {_num(k.kappa)}"
                   f"{right:>26}")
    for name, m2 in mods.items():
        if name not in {k.service for k in rep.screener_vs_auditor}:
            typer.echo(f"{name:<28}{'':>26}{m2.n:>8} {_pct(m2.agreement)} {_num(m2.kappa)}")


def _print_rules(stats: list[Any], keeps_rejecting: Any) -> None:
    if not stats:
        typer.echo("No reviewed rule evidence yet.")
        return
    bad = [r for r in stats if keeps_rejecting(r)]
    typer.echo(f"{'rule':<46}{'confirmed':>10}{'rejected':>9}{'rate':>7}{'weight':>8}")
    for r in stats:
        mark = "  ← auditors keep rejecting" if keeps_rejecting(r) else ""
        typer.echo(f"{r.rule:<46}{r.confirmed:>10}{r.rejected:>9}{_pct(r.rate):>7}"
                   f"{r.weight:>8.2f}{mark}")
    if bad:
        typer.echo(f"\n{len(bad)} rule(s) auditors keep rejecting; `screener train "
                   "--with-reviews` lowers their weight.")


def register(app: typer.Typer) -> None:
    """Add the audit commands to the `screener` app."""
    app.command("import")(import_cmd)
    app.command("queue")(queue_cmd)
    app.command("review")(review_cmd)
    app.command("agreement")(agreement_cmd)
    app.command("rescreen")(rescreen_cmd)
