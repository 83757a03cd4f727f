"""The report's figures: matplotlib, drawn off-screen and embedded as base64 PNG.

Each function takes a table from `aggregate.build_tables` (or the indicators) and
returns a `data:` URI, or None when there is nothing to draw, so the HTML needs no
files beside it and nothing from the network.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

import pandas as pd

from screener.reports.table import GRADE_LABELS

__all__ = ["agreement_plot", "gaps_plot", "grade_trend_plot", "grades_by_group_plot",
           "indicators_plot", "marker_trend_plot"]

GRADE_COLOURS = {"outstanding": "#1b7837", "good": "#7fbf7b", "requires_improvement": "#f1a340",
                 "inadequate": "#d7301f"}
_OTHER = "#9e9e9e"


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "axes.spines.top": False,
                         "axes.spines.right": False, "svg.hashsalt": "screener",
                         "figure.dpi": 100})
    return plt


def _uri(fig: Any) -> str:
    plt = _plt()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight",
                metadata={"Software": None})
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def grade_trend_plot(trend: pd.DataFrame, levels: Sequence[str]) -> str | None:
    """Stacked bars: the share of each grade in each period."""
    if trend.empty or trend["total"].max() == 0:
        return None
    plt = _plt()
    pivot = trend.pivot_table(index="period", columns="grade", values="share", sort=False)
    periods = list(dict.fromkeys(trend["period"]))
    pivot = pivot.reindex(periods)
    fig, ax = plt.subplots(figsize=(7, 3.2))
    bottom = pd.Series(0.0, index=pivot.index)
    for lv in levels:
        if lv not in pivot or pivot[lv].fillna(0).sum() == 0:
            continue
        vals = pivot[lv].fillna(0) * 100
        ax.bar(range(len(periods)), vals, bottom=bottom, label=GRADE_LABELS.get(lv, lv),
               color=GRADE_COLOURS.get(lv, _OTHER), width=0.65)
        bottom += vals
    totals = trend.groupby("period", sort=False)["total"].first().reindex(periods)
    ax.set_xticks(range(len(periods)), [f"{p}\n(n={int(t)})" for p, t in totals.items()])
    ax.set_ylabel("% of records")
    ax.set_ylim(0, 100)
    ax.legend(loc="upper left", bbox_to_anchor=(1, 1), frameon=False)
    ax.set_title("Screener grades by period")
    return _uri(fig)


def grades_by_group_plot(table: pd.DataFrame, group: str, levels: Sequence[str]) -> str | None:
    """Horizontal stacked bars: the grade mix of each group (all periods together)."""
    rows = table[(table.get("period", pd.Series(dtype=str)) == "Total")
                 & (table[group] != "Total")] if "period" in table else table
    if rows.empty:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(rows) + 1.2))
    left = pd.Series(0.0, index=rows.index)
    for lv in levels:
        lab = GRADE_LABELS.get(lv, lv)
        col = f"{lab} %"
        if col not in rows or rows[col].fillna(0).sum() == 0:
            continue
        vals = rows[col].fillna(0)
        ax.barh(range(len(rows)), vals, left=left, color=GRADE_COLOURS.get(lv, _OTHER),
                label=lab)
        left += vals
    ax.set_yticks(range(len(rows)), [f"{g} (n={t})" for g, t in zip(rows[group], rows["Total"],
                                                                      strict=True)])
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of records")
    ax.legend(loc="upper left", bbox_to_anchor=(1, 1), frameon=False)
    ax.set_title(f"Screener grades by {group}")
    return _uri(fig)


def gaps_plot(gaps: pd.DataFrame, top: int = 12) -> str | None:
    """The commonest gaps: share of applicable records, with 95% intervals."""
    if gaps.empty:
        return None
    plt = _plt()
    g = gaps.head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(g) + 1.2))
    share = g["share"] * 100
    err = [share - g["ci_low"] * 100, g["ci_high"] * 100 - share]
    ax.barh(range(len(g)), share, xerr=err, color="#d7301f", alpha=0.75, capsize=2)
    ax.set_yticks(range(len(g)), [f"{lab} ({n})" for lab, n in zip(g["label"], g["gaps"],
                                                                    strict=True)])
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of records where the marker applies")
    ax.set_title("Commonest gaps (95% Wilson intervals)")
    return _uri(fig)


def marker_trend_plot(trend: pd.DataFrame, markers: Sequence[str]) -> str | None:
    """Prevalence of some markers by period, with 95% bands."""
    t = trend[trend["marker"].isin(markers)]
    if t.empty or t["period"].nunique() < 2:
        return None
    plt = _plt()
    periods = sorted(t["period"].unique())
    fig, ax = plt.subplots(figsize=(7, 3.4))
    for m in markers:
        s = t[t["marker"] == m].set_index("period").reindex(periods)
        if s["n"].isna().all():
            continue
        x = range(len(periods))
        ax.plot(x, s["prevalence"] * 100, marker="o", label=str(s["label"].dropna().iloc[0]))
        ax.fill_between(x, s["ci_low"] * 100, s["ci_high"] * 100, alpha=0.12)
    ax.set_xticks(range(len(periods)), periods)
    ax.set_ylim(0, 100)
    ax.set_ylabel("% of records with the marker")
    ax.legend(loc="upper left", bbox_to_anchor=(1, 1), frameon=False, fontsize=8)
    ax.set_title("Markers over time")
    return _uri(fig)


def agreement_plot(agreement: pd.DataFrame) -> str | None:
    """Kappa with bootstrap 95% intervals, overall and per group, for each comparison."""
    if agreement.empty:
        return None
    plt = _plt()
    comps = list(dict.fromkeys(agreement["comparison"]))
    fig, axes = plt.subplots(1, len(comps), figsize=(3.6 * len(comps) + 1, 0.4 *
                             agreement.groupby("comparison").size().max() + 1.4),
                             squeeze=False)
    for ax, comp in zip(axes[0], comps, strict=True):
        a = agreement[agreement["comparison"] == comp].reset_index(drop=True)
        y = range(len(a))
        k = a["kappa"].astype(float)
        lo = (k - a["kappa_low"].astype(float)).clip(lower=0).fillna(0)
        hi = (a["kappa_high"].astype(float) - k).clip(lower=0).fillna(0)
        for i in y:
            colour = "#333333" if a["group"][i] == "All" else "#4575b4"
            ax.errorbar([k[i]], [i], xerr=[[lo[i]], [hi[i]]], fmt="o", color=colour,
                        ecolor=colour, capsize=2, ms=4)
        ax.set_yticks(list(y), [f"{g} (n={n})" for g, n in zip(a["group"], a["n"],
                                                                strict=True)])
        ax.invert_yaxis()
        ax.axvline(0, color="#999999", lw=0.8)
        lowest = pd.concat([a["kappa_low"], a["kappa"]]).astype(float).min()
        ax.set_xlim(min(-0.2, lowest - 0.05) if pd.notna(lowest) else -0.2, 1.02)
        ax.set_xlabel("Cohen's kappa")
        ax.set_title(comp.replace("_", " "))
    fig.tight_layout()
    return _uri(fig)


def indicators_plot(ind: pd.DataFrame) -> str | None:
    """Each indicator's rate by period, all teams and each team."""
    if ind.empty:
        return None
    plt = _plt()
    names = list(dict.fromkeys(ind["indicator"]))
    cols = 2
    rows = (len(names) + 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(9, 2.4 * rows), squeeze=False)
    periods = sorted(ind["period"].unique())
    teams = sorted(t for t in ind["team"].unique() if t != "All teams")
    palette = plt.get_cmap("tab10")
    colour = {t: palette(i % 10) for i, t in enumerate(teams)}
    for i, name in enumerate(names):
        ax = axes[i // cols][i % cols]
        sub = ind[ind["indicator"] == name]
        for team, g in sub.groupby("team", sort=False):
            g = g.set_index("period").reindex(periods)
            style = ({"color": "#000000", "lw": 2.2} if team == "All teams" else
                     {"color": colour[team], "lw": 1, "alpha": 0.85})
            ax.plot(range(len(periods)), g["rate"] * 100, marker="o", ms=3, label=team,
                    **style)
        ax.set_xticks(range(len(periods)), periods)
        ax.set_ylim(0, 105)
        ax.set_title(str(sub["label"].iloc[0]), fontsize=9)
        ax.set_ylabel("% in time" if "timeliness" in name or "timescale" in name
                      else "% completed", fontsize=8)
    for j in range(len(names), rows * cols):
        axes[j // cols][j % cols].axis("off")
    seen: dict[str, Any] = {}
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(lab, h)
    labels = sorted(seen, key=lambda t: (t != "All teams", t))
    handles = [seen[t] for t in labels]
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 4), frameon=False,
               bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return _uri(fig)
