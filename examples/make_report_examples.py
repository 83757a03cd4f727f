#!/usr/bin/env python3
"""Writes the fictional example data for `screener report`:

* examples/report_records.jsonl: 240 generated case records (training/generate.py) with
  the columns an authority's export adds: team, service, worker, date, and auditor and
  moderator grades for the audited sample. Dates run from 2023 to 2025 and recording
  improves over time, as it does in an improvement programme; one service's auditors are
  more generous than their moderators.
* examples/events.csv: structured events for the same teams (assessments, CP enquiries,
  plans, visits, CIN reviews, supervision) for the performance indicators.

Everything is invented. Re-run to regenerate (deterministic):

    .venv/bin/python examples/make_report_examples.py
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from screener.config.loader import load_rubric  # noqa: E402
from screener.rubric.grading import grade  # noqa: E402
from training.generate import generate_records  # noqa: E402

SEED = 2026
N_RECORDS = 240
START, END = dt.date(2023, 1, 1), dt.date(2025, 12, 31)

SERVICES: dict[str, dict[str, list[str]]] = {
    "Assessment and Intervention": {
        "Assessment Team North": ["Hannah Price", "Tom Fletcher", "Aisha Qureshi"],
        "Assessment Team South": ["Darren Marsh", "Priya Sharma", "Joe Bradley"],
    },
    "Family Support and Protection": {
        "Family Support East": ["Kate Morris", "Sam Okoro", "Laura Kent"],
        "Family Support West": ["Ben Hartley", "Nadia Hussain", "Claire Dunn"],
        "Child Protection Team": ["Gareth Lloyd", "Esi Osei", "Marek Nowicki"],
    },
    "Disabled Children's Service": {
        "Disabled Children's Team": ["Ruth Adams", "Imran Sadiq", "Fiona Reid"],
    },
}
# Which service a record of each type is likely to come from.
SERVICE_WEIGHTS = {
    "assessment": [0.7, 0.2, 0.1], "cp_enquiry": [0.6, 0.35, 0.05],
    "cin_plan": [0.1, 0.65, 0.25], "cp_plan": [0.05, 0.85, 0.1], "visit": [0.15, 0.6, 0.25],
    "supervision": [0.35, 0.45, 0.2], "oversight": [0.35, 0.45, 0.2],
}
LEVELS = ["outstanding", "good", "requires_improvement", "inadequate"]
LABEL = {"outstanding": "Outstanding", "good": "Good",
         "requires_improvement": "Requires improvement", "inadequate": "Inadequate"}


def _day(rng: random.Random, lo: dt.date, hi: dt.date) -> dt.date:
    return lo + dt.timedelta(days=rng.randrange((hi - lo).days + 1))


def _shift(level: str, by: int) -> str:
    i = min(max(LEVELS.index(level) + by, 0), len(LEVELS) - 1)
    return LEVELS[i]


def records(rng: random.Random) -> list[dict[str, object]]:
    rubric = load_rubric()
    recs = generate_records(N_RECORDS, SEED)
    services = list(SERVICES)
    scored = []
    for r in recs:
        present = {m for m, v in r["markers"].items() if v}
        gold = grade(present, r["doc_type"], rubric)
        quality = {"good": 2, "requires_improvement": 1, "inadequate": 0}[gold]
        scored.append((quality + rng.gauss(0, 0.9), r, gold))
    # Better records later: an improvement programme at work.
    scored.sort(key=lambda x: x[0])
    span = (END - START).days
    out = []
    for i, (_, r, gold) in enumerate(scored):
        frac = min(max(i / len(scored) + rng.gauss(0, 0.18), 0.0), 1.0)
        when = START + dt.timedelta(days=int(frac * span))
        service = rng.choices(services, SERVICE_WEIGHTS[str(r["doc_type"])])[0]
        team = rng.choice(list(SERVICES[service]))
        worker = rng.choice(SERVICES[service][team])
        row: dict[str, object] = {"id": r["id"], "doc_type": r["doc_type"], "text": r["text"],
                                  "team": team, "service": service, "worker": worker,
                                  "date": when.isoformat()}
        if rng.random() < 0.6:  # the audited sample
            auditor = gold
            roll = rng.random()
            if gold == "good" and roll < 0.12:
                auditor = "outstanding"
            elif roll < 0.2:
                auditor = _shift(gold, rng.choice([-1, 1]))
            generous = service == "Disabled Children's Service"
            if generous and rng.random() < 0.3:
                auditor = _shift(auditor, -1)
            row["auditor_grade"] = LABEL[auditor]
            if rng.random() < 0.4:  # moderated
                moderator = gold if generous else auditor
                if rng.random() < 0.1:
                    moderator = _shift(moderator, rng.choice([-1, 1]))
                row["moderator_grade"] = LABEL[moderator]
        out.append(row)
    out.sort(key=lambda x: (str(x["date"]), str(x["id"])))
    return out


def _busday(d: dt.date, n: int) -> dt.date:
    return np.busday_offset(np.datetime64(d, "D"), n, roll="forward").astype(dt.date)


def events(rng: random.Random) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    child = 1000

    def add(kind: str, team: str, start: dt.date, end: dt.date | None = None, child_id: str = "",
            worker: str = "", plan_type: str = "") -> None:
        rows.append({"event_id": f"E{len(rows) + 1:05d}", "event_type": kind,
                     "child_id": child_id, "team": team, "worker": worker,
                     "start_date": start.isoformat(), "end_date": end.isoformat() if end else "",
                     "plan_type": plan_type})

    last = END
    for service, teams in SERVICES.items():
        for team, workers in teams.items():
            # Timeliness improves over the three years.
            def progress(d: dt.date) -> float:
                return (d - START).days / (END - START).days

            if service == "Assessment and Intervention" or team == "Disabled Children's Team":
                n_assess = 110 if service == "Assessment and Intervention" else 40
                for _ in range(n_assess):
                    s = _day(rng, START, END)
                    wd = max(5, int(rng.gauss(48 - 14 * progress(s), 12)))
                    e = _busday(s, wd)
                    child += 1
                    add("assessment", team, s, e if e <= last and rng.random() > 0.03 else None,
                        f"C{child}", rng.choice(workers))
                for _ in range(35 if service == "Assessment and Intervention" else 8):
                    s = _day(rng, START, END)
                    wd = max(2, int(rng.gauss(14 - 3 * progress(s), 4)))
                    e = _busday(s, wd)
                    child += 1
                    add("cp_enquiry", team, s, e if e <= last else None, f"C{child}",
                        rng.choice(workers))
            if service != "Assessment and Intervention":
                n_plans = 16 if team != "Child Protection Team" else 20
                for _ in range(n_plans):
                    child += 1
                    cid = f"C{child}"
                    ptype = ("cp" if team == "Child Protection Team" or rng.random() < 0.2
                             else "cin")
                    s = _day(rng, START, END - dt.timedelta(days=60))
                    e = s + dt.timedelta(days=rng.randint(120, 480))
                    end = e if e <= last else None
                    worker = rng.choice(workers)
                    add("plan", team, s, end, cid, worker, ptype)
                    stop = end or last
                    gap = 9 if ptype == "cp" else 18
                    d = s
                    while True:
                        late = rng.random() < 0.25 - 0.15 * progress(d)
                        d = _busday(d, max(1, int(rng.gauss(gap + (6 if late else 0), 2))))
                        if d > stop:
                            break
                        add("visit", team, d, None, cid, worker)
                    if ptype == "cin":
                        d = s
                        while True:
                            d = d + dt.timedelta(days=int(rng.gauss(85, 12)))
                            if d > stop:
                                break
                            add("cin_review", team, d, None, cid, worker)
            for worker in workers:
                d = _day(rng, START, START + dt.timedelta(days=30))
                while d <= last:
                    add("supervision", team, d, None, "", worker)
                    d = d + dt.timedelta(days=max(10, int(rng.gauss(27 - 4 * progress(d), 7))))
    rows.sort(key=lambda r: (r["start_date"], r["event_id"]))
    return rows


def main() -> None:
    rng = random.Random(SEED)
    recs = records(rng)
    with (HERE / "report_records.jsonl").open("w", encoding="utf-8") as fh:
        for r in recs:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    ev = events(random.Random(SEED + 1))
    with (HERE / "events.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(ev[0]))
        writer.writeheader()
        writer.writerows(ev)
    print(f"wrote {len(recs)} records and {len(ev)} events to {HERE}")


if __name__ == "__main__":
    main()
