"""From the tidy table to the report's tables, by way of additive counts.

`count` turns (a partition of) the tidy table into `Counts`: how many records fall in
each (period, service, team, worker, doc_type, grade, auditor grade, moderator grade)
cell, how many have each marker in each (period, service, team, worker, doc_type) cell,
and a few example sentences per gap. Counts add up: `combine` of the counts of the parts
is the counts of the whole, exactly (integers, canonical order), which is why the local
engine and a Dask cluster give the same report. `build_tables` derives every table of
the report from the combined counts alone.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from screener.reports.stats import bootstrap_kappa, wilson
from screener.reports.table import GRADE_LABELS, NO_DATE, NOT_RECORDED, TableSpec

__all__ = ["BY_CHOICES", "DIMS", "Counts", "build_tables", "combine", "count"]

DIMS: tuple[str, ...] = ("period", "service", "team", "worker", "doc_type")
BY_CHOICES: tuple[str, ...] = ("team", "service", "doc_type", "worker", "period")
GRADE_KEYS: tuple[str, ...] = ("grade", "auditor_grade", "moderator_grade")
ALL = "All"
TOTAL = "Total"
EXAMPLES_PER_MARKER = 3
_GRADE_COLS = [*DIMS, *GRADE_KEYS, "n"]
_MARKER_COLS = [*DIMS, "marker", "n", "present"]
_EXAMPLE_COLS = ["marker", "doc_type", "key", "id", "sentence"]


@dataclass
class Counts:
    """Additive counts of a set of screened records (see the module docstring)."""

    grades: pd.DataFrame
    markers: pd.DataFrame
    examples: pd.DataFrame
    n_records: int = 0
    names: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def empty(cls) -> Counts:
        return cls(
            grades=pd.DataFrame({c: pd.Series(dtype="int64" if c == "n" else "string")
                                 for c in _GRADE_COLS}),
            markers=pd.DataFrame({c: pd.Series(dtype="int64" if c in ("n", "present")
                                               else "string") for c in _MARKER_COLS}),
            examples=pd.DataFrame({c: pd.Series(dtype="string") for c in _EXAMPLE_COLS}),
        )


def _example_key(record_id: str, marker: str) -> str:
    """A stable pseudo-random order for picking examples: spreads them across teams and
    years (first-by-id would pick one batch) and is the same on every engine."""
    return hashlib.sha256(f"{marker}\x1f{record_id}".encode()).hexdigest()[:16]


def examples_of(tidy: pd.DataFrame, k: int = EXAMPLES_PER_MARKER) -> pd.DataFrame:
    """Up to k raw example sentences per flagged marker (needs the raw `examples` column)."""
    rows = []
    for rid, doc_type, blob in zip(tidy["id"], tidy["doc_type"], tidy["examples"],
                                   strict=True):
        if pd.isna(blob) or not blob:
            continue
        for marker, sentence in json.loads(blob).items():
            rows.append((marker, doc_type, _example_key(str(rid), marker), str(rid),
                         sentence))
    if not rows:
        return Counts.empty().examples
    df = pd.DataFrame(rows, columns=_EXAMPLE_COLS).astype("string")
    return _top_examples(df, k)


def _top_examples(df: pd.DataFrame, k: int) -> pd.DataFrame:
    df = df.sort_values(["marker", "key"], kind="stable")
    return df.groupby("marker", sort=True).head(k).reset_index(drop=True)


def count(tidy: pd.DataFrame, spec: TableSpec, examples: pd.DataFrame | None = None,
          names: Iterable[str] = ()) -> Counts:
    """Counts of one part of the tidy table (worker and id already pseudonymised)."""
    if tidy.empty:
        out = Counts.empty()
        if examples is not None:
            out.examples = examples
        out.names = frozenset(names)
        return out
    keys = tidy[list(DIMS)].astype("string")
    grades = pd.concat([keys, tidy[list(GRADE_KEYS)].astype("string").fillna("")], axis=1)
    g = grades.groupby(list(grades.columns), sort=True, dropna=False).size()
    g = g.rename("n").reset_index()
    parts = []
    for m in spec.markers:
        if m not in tidy:
            continue
        col = tidy[m]
        ok = col.notna()
        if not ok.any():
            continue
        part = keys[ok].copy()
        part["marker"] = m
        part["present"] = col[ok].astype("int64")
        parts.append(part)
    if parts:
        long = pd.concat(parts, ignore_index=True)
        mk = long.groupby([*DIMS, "marker"], sort=True).agg(
            n=("present", "size"), present=("present", "sum")).reset_index()
    else:
        mk = Counts.empty().markers
    ex = examples if examples is not None else (
        examples_of(tidy) if "examples" in tidy else Counts.empty().examples)
    return _canonical(Counts(g, mk, ex, len(tidy), frozenset(names)))


def _canonical(c: Counts) -> Counts:
    grades = c.grades.astype({k: "string" for k in [*DIMS, *GRADE_KEYS]}).astype({"n": "int64"})
    grades = grades.groupby([*DIMS, *GRADE_KEYS], sort=True, dropna=False)["n"].sum() \
        .reset_index()
    markers = c.markers.astype({k: "string" for k in [*DIMS, "marker"]}) \
        .astype({"n": "int64", "present": "int64"})
    markers = markers.groupby([*DIMS, "marker"], sort=True)[["n", "present"]].sum() \
        .reset_index()
    examples = _top_examples(c.examples.astype("string"), EXAMPLES_PER_MARKER)
    return Counts(grades[_GRADE_COLS], markers[_MARKER_COLS], examples[_EXAMPLE_COLS],
                  c.n_records, c.names)


def combine(parts: Sequence[Counts]) -> Counts:
    """The counts of the union of the parts (associative and exact)."""
    parts = [p for p in parts if p is not None]
    if not parts:
        return Counts.empty()
    return _canonical(Counts(
        grades=pd.concat([p.grades for p in parts], ignore_index=True),
        markers=pd.concat([p.markers for p in parts], ignore_index=True),
        examples=pd.concat([p.examples for p in parts], ignore_index=True),
        n_records=sum(p.n_records for p in parts),
        names=frozenset().union(*(p.names for p in parts)),
    ))


# --------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------

def _period_order(values: Iterable[str]) -> list[str]:
    vals = sorted({str(v) for v in values})
    return [v for v in vals if v != NO_DATE] + ([NO_DATE] if NO_DATE in vals else [])


def _group_order(values: Iterable[str]) -> list[str]:
    vals = sorted({str(v) for v in values})
    return [v for v in vals if v != NOT_RECORDED] + (
        [NOT_RECORDED] if NOT_RECORDED in vals else [])


def _order(dim: str, values: Iterable[str]) -> list[str]:
    return _period_order(values) if dim == "period" else _group_order(values)


def audit_table(grades: pd.DataFrame, rows: Sequence[str], levels: Sequence[str],
                grade_col: str = "grade") -> pd.DataFrame:
    """Counts and row percentages of each grade, one row per combination of `rows`, with
    a total row per outer group (when there are two row keys) and a grand total: the
    shape of an audit return (Outstanding / Good / Requires improvement / Inadequate)."""
    g = grades[grades[grade_col] != ""]
    labels = [GRADE_LABELS.get(lv, lv.replace("_", " ").capitalize()) for lv in levels]
    if g.empty:
        cols = list(rows) + [f"{lab} {s}" for lab in labels for s in ("n", "%")] + ["Total"]
        return pd.DataFrame(columns=cols)
    pivot = g.pivot_table(index=list(rows), columns=grade_col, values="n", aggfunc="sum",
                          fill_value=0, observed=True)
    pivot = pivot.reindex(columns=list(levels), fill_value=0)
    frames = []
    if len(rows) == 1:
        order = _order(rows[0], pivot.index)
        body = pivot.reindex(order)
        body.index = pd.Index(order, name=rows[0])
        frames.append(body)
    else:
        outer, inner = rows[0], rows[1]
        for key in _order(outer, pivot.index.get_level_values(0)):
            block = pivot.xs(key, level=0)
            block = block.reindex(_order(inner, block.index))
            block.index = pd.MultiIndex.from_product([[key], block.index], names=rows)
            frames.append(block)
            tot = block.sum().to_frame().T
            tot.index = pd.MultiIndex.from_tuples([(key, TOTAL)], names=rows)
            frames.append(tot)
    body = pd.concat(frames)
    grand = pivot.sum().to_frame().T
    grand.index = (pd.Index([TOTAL], name=rows[0]) if len(rows) == 1 else
                   pd.MultiIndex.from_tuples([(TOTAL, "")], names=rows))
    table = pd.concat([body, grand]).astype("int64")
    total = table.sum(axis=1)
    out = pd.DataFrame(index=table.index)
    for lv, lab in zip(levels, labels, strict=True):
        out[f"{lab} n"] = table[lv]
        out[f"{lab} %"] = (100 * table[lv] / total.where(total > 0)).round(1)
    out["Total"] = total
    return out.reset_index()


def prevalence(markers: pd.DataFrame, keys: Sequence[str], spec: TableSpec) -> pd.DataFrame:
    """Share of records with each marker (Wilson 95% CI), by `keys`."""
    cols = [*keys, "marker", "label", "n", "present", "prevalence", "ci_low", "ci_high"]
    if markers.empty:
        return pd.DataFrame(columns=cols)
    agg = markers.groupby([*keys, "marker"], sort=True)[["n", "present"]].sum().reset_index()
    agg["label"] = agg["marker"].map(lambda m: spec.marker_labels.get(m, m))
    agg["prevalence"] = agg["present"] / agg["n"]
    cis = [wilson(int(k), int(n)) for k, n in zip(agg["present"], agg["n"], strict=True)]
    agg["ci_low"] = [c[0] for c in cis]
    agg["ci_high"] = [c[1] for c in cis]
    for col in ("prevalence", "ci_low", "ci_high"):
        agg[col] = agg[col].round(4)
    order = {m: i for i, m in enumerate(spec.markers)}
    sort_keys = [*keys, "_m"]
    if "doc_type" in keys:  # the record type's own order of markers
        per_type = {(d, m): i for d, ms in spec.doc_type_markers.items()
                    for i, m in enumerate(ms)}
        agg["_m"] = [per_type.get((d, m), len(order) + order.get(m, 0))
                     for d, m in zip(agg["doc_type"], agg["marker"], strict=True)]
    else:
        agg["_m"] = agg["marker"].map(order)
    return agg.sort_values(sort_keys, kind="stable").drop(columns="_m")[cols] \
        .reset_index(drop=True)


def _grade_trend(grades: pd.DataFrame, levels: Sequence[str]) -> pd.DataFrame:
    g = grades.groupby(["period", "grade"], sort=True)["n"].sum().reset_index()
    rows = []
    for period in _period_order(g["period"]):
        sub = g[g["period"] == period]
        total = int(sub["n"].sum())
        for lv in levels:
            k = int(sub.loc[sub["grade"] == lv, "n"].sum())
            lo, hi = wilson(k, total)
            rows.append({"period": period, "grade": lv, "label": GRADE_LABELS.get(lv, lv),
                         "n": k, "total": total, "share": round(k / total, 4) if total else
                         math.nan, "ci_low": round(lo, 4), "ci_high": round(hi, 4)})
    return pd.DataFrame(rows, columns=["period", "grade", "label", "n", "total", "share",
                                       "ci_low", "ci_high"])


def gaps(markers: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """The commonest gaps: markers absent (or, for a negative marker, present) most often."""
    cols = ["rank", "marker", "label", "doc_types", "n", "gaps", "share", "ci_low", "ci_high"]
    if markers.empty:
        return pd.DataFrame(columns=cols)
    agg = markers.groupby("marker", sort=True)[["n", "present"]].sum().reset_index()
    neg = agg["marker"].isin(spec.negative)
    agg["gaps"] = np.where(neg, agg["present"], agg["n"] - agg["present"]).astype("int64")
    types = markers.groupby("marker")["doc_type"].agg(lambda s: ", ".join(sorted(set(s))))
    agg["doc_types"] = agg["marker"].map(types)
    agg["label"] = agg["marker"].map(lambda m: spec.marker_labels.get(m, m))
    agg["share"] = (agg["gaps"] / agg["n"]).round(4)
    cis = [wilson(int(k), int(n)) for k, n in zip(agg["gaps"], agg["n"], strict=True)]
    agg["ci_low"] = [round(c[0], 4) for c in cis]
    agg["ci_high"] = [round(c[1], 4) for c in cis]
    agg = agg.sort_values(["gaps", "share", "marker"], ascending=[False, False, True],
                          kind="stable").reset_index(drop=True)
    agg["rank"] = np.arange(1, len(agg) + 1)
    return agg[cols]


def _confusion(grades: pd.DataFrame, a: str, b: str, levels: Sequence[str]) -> np.ndarray:
    idx = {lv: i for i, lv in enumerate(levels)}
    cm = np.zeros((len(levels), len(levels)), dtype=np.int64)
    pairs = grades[(grades[a] != "") & (grades[b] != "")]
    for ga, gb, n in zip(pairs[a], pairs[b], pairs["n"], strict=True):
        if ga in idx and gb in idx:
            cm[idx[ga], idx[gb]] += int(n)
    return cm


COMPARISONS: tuple[tuple[str, str, str], ...] = (
    ("screener_vs_auditor", "grade", "auditor_grade"),
    ("auditor_vs_moderator", "auditor_grade", "moderator_grade"),
)


def agreement(grades: pd.DataFrame, levels: Sequence[str], n_boot: int = 1000,
              seed: int = 0, by: str = "service") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cohen's kappa (unweighted and quadratic-weighted) with bootstrap 95% intervals, for
    all records and per `by` group (the disparity between services), plus the confusion
    matrices. 'a_kinder' is the share where the first rater gave the better grade."""
    rows, conf = [], []
    for name, a, b in COMPARISONS:
        groups: list[tuple[str, pd.DataFrame]] = [(ALL, grades)]
        groups += [(str(v), grades[grades[by] == v]) for v in _order(by, grades[by])]
        for group, sub in groups:
            cm = _confusion(sub, a, b, levels)
            n = int(cm.sum())
            if n == 0:
                continue
            k = bootstrap_kappa(cm, "none", n_boot, seed)
            wk = bootstrap_kappa(cm, "quadratic", n_boot, seed)
            upper = int(np.triu(cm, 1).sum())   # a better (earlier level) than b
            lower = int(np.tril(cm, -1).sum())
            rows.append({
                "comparison": name, "group_by": by if group != ALL else ALL, "group": group,
                "n": n, "agreement": round(k.agreement, 4),
                "kappa": round(k.kappa, 4), "kappa_low": round(k.low, 4),
                "kappa_high": round(k.high, 4), "weighted_kappa": round(wk.kappa, 4),
                "weighted_low": round(wk.low, 4), "weighted_high": round(wk.high, 4),
                "a_kinder": round(upper / n, 4), "b_kinder": round(lower / n, 4),
            })
            if group == ALL:
                for i, la in enumerate(levels):
                    for j, lb in enumerate(levels):
                        conf.append({"comparison": name, "a": la, "b": lb,
                                     "n": int(cm[i, j])})
    cols = ["comparison", "group_by", "group", "n", "agreement", "kappa", "kappa_low",
            "kappa_high", "weighted_kappa", "weighted_low", "weighted_high", "a_kinder",
            "b_kinder"]
    return (pd.DataFrame(rows, columns=cols),
            pd.DataFrame(conf, columns=["comparison", "a", "b", "n"]))


def build_tables(counts: Counts, spec: TableSpec, by: str = "team", n_boot: int = 1000,
                 seed: int = 0) -> dict[str, pd.DataFrame]:
    """Every table of the report, from the combined counts (names are file stems)."""
    if by not in BY_CHOICES:
        raise ValueError(f"unknown --by {by!r} (allowed: {', '.join(BY_CHOICES)})")
    levels = list(spec.report_levels)
    g, m = counts.grades, counts.markers
    tables: dict[str, pd.DataFrame] = {
        "grades_by_period": audit_table(g, ["period"], levels),
        "grades_by_service_period": audit_table(g, ["service", "period"], levels),
    }
    if by not in ("service", "period"):
        tables[f"grades_by_{by}_period"] = audit_table(g, [by, "period"], levels)
    if (g["auditor_grade"] != "").any():
        tables["auditor_grades_by_service_period"] = audit_table(
            g, ["service", "period"], levels, grade_col="auditor_grade")
    prev_keys = ["doc_type", by] if by != "doc_type" else ["doc_type"]
    by_group = prevalence(m, prev_keys, spec)
    overall = prevalence(m, ["doc_type"], spec)
    if by != "doc_type":
        overall.insert(1, by, ALL)
        by_group = pd.concat([overall, by_group], ignore_index=True)
    tables["marker_prevalence"] = by_group
    tables["marker_trend"] = prevalence(m, ["period"], spec)
    tables["grade_trend"] = _grade_trend(g, levels)
    tables["gaps"] = gaps(m, spec)
    agree_by = "service" if by in ("period", "doc_type") else by
    agree, conf = agreement(g, levels, n_boot, seed, by="service")
    if agree_by != "service":
        extra, _ = agreement(g, levels, n_boot, seed, by=agree_by)
        agree = pd.concat([agree, extra[extra["group"] != ALL]], ignore_index=True)
    tables["agreement"] = agree
    tables["agreement_confusion"] = conf
    return tables
