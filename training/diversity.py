"""How varied the training text is, and how little of it overlaps the evaluation text.

    python training/diversity.py [--gold ../shared/data/dev.jsonl] [--n-generated 2000]

Prints, per source (each hand-written file, the generator, the sentence banks): records,
sentences, distinct sentences and their share; then the word n-gram overlap between all
training text and the gold text: the share of the gold's 5-grams (and 8-grams) that occur
anywhere in the training text. Low overlap is the point: the screener is judged on writing
it has never seen, so its training text must not echo the evaluation set.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterable
from pathlib import Path

HERE = Path(__file__).resolve().parent
_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"[a-z0-9']+")


def sentences(text: str) -> list[str]:
    return [" ".join(s.split()).lower() for s in _SPLIT.split(text) if len(s.split()) >= 3]


def ngrams(texts: Iterable[str], n: int) -> set[tuple[str, ...]]:
    out: set[tuple[str, ...]] = set()
    for t in texts:
        words = _WORD.findall(t.lower())
        out.update(zip(*(words[i:] for i in range(n)), strict=False))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gold", type=Path, default=HERE.parents[1] / "shared" / "data" / "dev.jsonl")
    ap.add_argument("--n-generated", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args()

    sources: dict[str, list[str]] = {}
    for path in sorted((HERE / "data" / "written").glob("*.jsonl")):
        rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
        sources[path.stem] = [r["text"] for r in rows]
    from training.generate import generate_records

    sources["generator"] = [r["text"] for r in generate_records(args.n_generated, args.seed)]

    print(f"{'source':<24} {'records':>8} {'sentences':>10} {'distinct':>9} {'share':>6}")
    all_text: list[str] = []
    for name, texts in sources.items():
        sents = [s for t in texts for s in sentences(t)]
        distinct = len(set(sents))
        print(f"{name:<24} {len(texts):>8} {len(sents):>10} {distinct:>9} "
              f"{distinct / max(1, len(sents)):>6.2f}")
        all_text += texts
    if not args.gold.is_file():
        print(f"(no gold file at {args.gold}: overlap not measured)")
        return
    gold = [json.loads(line)["text"] for line in args.gold.read_text("utf-8").splitlines()
            if line.strip()]
    print()
    print(f"overlap with {args.gold.name} ({len(gold)} records)")
    for n in (3, 5, 8):
        g = ngrams(gold, n)
        train_ng = ngrams(all_text, n)
        shared = len(g & train_ng)
        print(f"  word {n}-grams: {shared}/{len(g)} of the gold's occur in training text "
              f"({shared / max(1, len(g)):.1%})")
    gold_sents = {s for t in gold for s in sentences(t)}
    train_sents = {s for t in all_text for s in sentences(t)}
    print(f"  whole sentences shared: {len(gold_sents & train_sents)}/{len(gold_sents)}")


if __name__ == "__main__":
    main()
