"""Name recall and precision of the pseudonymiser on generated records (a larger check
than the hand-labelled samples, for names only): every person in a generated record comes
from the generator's name pools (training/banks/people.yaml), so a capitalised pool name
in the text is a name that must be masked, and a masked word that is in no pool is a
false positive (mostly towns and template headings).

    .venv/bin/python tests/reports/data/measure_pii_generated.py --n 150 --seed 7
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from screener.reports.pseudonymise import Pseudonymiser  # noqa: E402
from training.generate import generate_records  # noqa: E402

WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=150)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    pools = yaml.safe_load((ROOT / "training/banks/people.yaml").read_text("utf-8"))["people"]
    names: set[str] = set()
    for culture in pools["cultures"].values():
        for key in ("boys", "girls", "women", "men", "surnames", "women_surnames"):
            names |= set(culture.get(key, []))
    names |= {n[:-1] + "a" for n in names if n.endswith("i")}  # Polish feminine surnames
    p = Pseudonymiser(key="measure-key-0123456789")
    gold = caught = detected = correct = 0
    missed: dict[str, int] = {}
    t0 = time.perf_counter()
    recs = generate_records(args.n, args.seed)
    for r in recs:
        text = r["text"]
        spans = [s for s in p.detect(text) if s.label == "NAME"]
        covered = {i for s in spans for i in range(s.start, s.end)}
        for m in WORD.finditer(text):
            w = re.sub(r"['’]s$", "", m.group())
            if w in names or (w.isupper() and len(w) > 2 and w.title() in names):
                gold += 1
                if m.start() in covered:
                    caught += 1
                else:
                    missed[w] = missed.get(w, 0) + 1
        for s in spans:
            detected += 1
            w = text[s.start:s.end]
            correct += w in names or w.title() in names
    words = sum(len(r["text"].split()) for r in recs)
    print(f"{len(recs)} records, {words} words, {time.perf_counter() - t0:.0f} s")
    print(f"name recall {caught / gold:.3f} ({caught}/{gold}), precision "
          f"{correct / detected:.3f} ({correct}/{detected})")
    print("missed:", sorted(missed.items(), key=lambda x: -x[1])[:15])


if __name__ == "__main__":
    main()
