"""Pseudonymisation: consistency, leaks, recall on a labelled sample, and no network."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import pytest

from screener.reports import pseudonymise as pm
from screener.reports.pseudonymise import Pseudonymiser, is_pseudonym, score_detection

# Figures measured on tests/reports/data/pii_sample.jsonl (40 records, 127 gold spans; the
# development set: 0.91 recall before the UK rules were added): recall 1.00, precision
# 0.98 (three town names taken for names). On pii_holdout.jsonl (15 records, 42 spans,
# written afterwards), first scored at recall 0.95 / precision 0.95 (one mislabelled
# title, one name before a colon taken for a field label, since fixed), now 1.00 / 0.96.
# The thresholds leave room for small changes in the spaCy pipeline, not for a planted
# name or NHS number (the leak test).
MIN_RECALL = 0.97
MIN_PRECISION = 0.90


@pytest.fixture(scope="module")
def scores(pii_sample: list[dict[str, Any]], pseudo: Pseudonymiser) -> pm.PiiScores:
    return score_detection(pii_sample, pseudo)


def test_recall_and_precision_on_the_labelled_sample(scores: pm.PiiScores) -> None:
    by_label = ", ".join(f"{k} {c}/{n}" for k, (c, n) in scores.by_label.items())
    print(f"\nPII recall {scores.recall:.3f} ({scores.caught}/{scores.gold}), precision "
          f"{scores.precision:.3f} ({scores.correct}/{scores.detected}); {by_label}")
    assert scores.recall >= MIN_RECALL, scores.missed
    assert scores.precision >= MIN_PRECISION, scores.false_positives


def test_recall_on_the_holdout_sample(pii_holdout: list[dict[str, Any]],
                                     pseudo: Pseudonymiser) -> None:
    s = score_detection(pii_holdout, pseudo)
    print(f"\nPII holdout recall {s.recall:.3f} ({s.caught}/{s.gold}), precision "
          f"{s.precision:.3f} ({s.correct}/{s.detected})")
    assert s.recall >= MIN_RECALL, s.missed
    assert s.precision >= MIN_PRECISION, s.false_positives


def test_no_planted_name_or_nhs_number_leaks(pii_sample: list[dict[str, Any]],
                                            pii_holdout: list[dict[str, Any]],
                                            pseudo: Pseudonymiser) -> None:
    """Every gold name and NHS number is gone from the pseudonymised text."""
    leaks = []
    for rec in [*pii_sample, *pii_holdout]:
        out = pseudo.text(rec["text"])
        for span in rec["spans"]:
            if span["label"] not in ("NAME", "NHS"):
                continue
            value = span["text"]
            if span["label"] == "NHS":
                digits = re.sub(r"\D", "", value)
                if digits in re.sub(r"\D", "", out):
                    leaks.append((rec["id"], value))
                continue
            for word in re.findall(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*", value):
                if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", out, re.IGNORECASE):
                    leaks.append((rec["id"], word))
    assert not leaks


@pytest.mark.parametrize(("text", "label", "value"), [
    ("Child: Kai MITCHELL (8)", "NAME", "MITCHELL"),
    ("Mum (Sana) said it was fine.", "NAME", "Sana"),
    ("NHS number 943 476 5919 recorded.", "NHS", "943 476 5919"),
    ("NI number AB 12 34 56 C.", "NINO", "AB 12 34 56 C"),
    ("Lives at 14 Elm Road, Leeds LS6 2AB.", "POSTCODE", "LS6 2AB"),
    ("Lives at 14 Elm Road, Leeds LS6 2AB.", "ADDRESS", "14 Elm Road"),
    ("Call mum on 07700 900461 today.", "PHONE", "07700 900461"),
    ("Email sana.m@example.org please.", "EMAIL", "sana.m@example.org"),
    ("DOB: 12/03/2016, seen today.", "DOB", "12/03/2016"),
    ("SW Darren Marsh visited.", "NAME", "Darren"),
])
def test_each_kind_is_found(pseudo: Pseudonymiser, text: str, label: str, value: str) -> None:
    found = [(s.label, text[s.start:s.end]) for s in pseudo.detect(text)]
    assert (label, value) in found


@pytest.mark.parametrize("text", [
    "The NHS number check was not done.",                 # no number
    "Visit on 12/03/2025: Riverside Primary, CAMHS and the GP attended.",
    "Reference 123 456 7890 is not a valid NHS number.",  # fails the checksum
])
def test_things_that_are_not_personal_data_stay(pseudo: Pseudonymiser, text: str) -> None:
    assert [s for s in pseudo.detect(text) if s.label != "NAME"] == []
    assert pseudo.text(text).count("[") == 0 or "NAME" in pseudo.text(text)


def test_same_person_same_pseudonym_within_an_export(pseudo: Pseudonymiser) -> None:
    a = pseudo.text("Child: Kai MITCHELL (8). Kai was seen by Darren Marsh.")
    b = pseudo.text("kai's mum rang Darren.")
    kai = pseudo.pseudonym("NAME", "Kai")
    assert a.count(kai) == 2 and kai in b
    assert a.startswith(f"Child: {kai} {pseudo.pseudonym('NAME', 'Mitchell')} (8)")
    # the worker column and the text agree
    assert pseudo.name("Darren Marsh") in a
    assert pseudo.pseudonym("NAME", "Darren") in b
    # numbers are normalised before hashing: spacing does not make a new person
    assert pseudo.pseudonym("NHS", "943 476 5919") == pseudo.pseudonym("NHS", "9434765919")
    assert pseudo.pseudonym("POSTCODE", "ls6 2ab") == pseudo.pseudonym("POSTCODE", "LS62AB")
    assert is_pseudonym(kai)


def test_different_exports_cannot_be_linked() -> None:
    one, two = Pseudonymiser(), Pseudonymiser()
    assert one.pseudonym("NAME", "Kai") != two.pseudonym("NAME", "Kai")
    assert Pseudonymiser(key="k" * 20).pseudonym("NAME", "Kai") == \
        Pseudonymiser(key="k" * 20).pseudonym("NAME", "Kai")


def test_known_names_are_masked_even_where_nothing_else_fires() -> None:
    p = Pseudonymiser(key="k" * 20, known_names=["Quorra Vantablack"])
    out = p.text("discussed with quorra; Vantablack agreed.")
    assert "uorra" not in out and "Vantablack" not in out


def test_frame_pseudonymises_ids_names_and_text(pseudo: Pseudonymiser) -> None:
    df = pd.DataFrame({"id": ["a-1", "a-2"], "worker": ["Darren Marsh", None],
                       "text": ["Kai was seen by Darren.", "No names here."]})
    out = pseudo.frame(df, text_columns=["text"])
    assert out["id"].str.startswith("rec-").all()
    assert out["worker"].iloc[0] == pseudo.name("Darren Marsh") and pd.isna(out["worker"][1])
    assert "Darren" not in out["text"].iloc[0] and out["text"].iloc[1] == "No names here."
    assert df["worker"].iloc[0] == "Darren Marsh"  # the input is not changed


def test_nothing_is_fetched_from_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Build the analyzer from scratch with sockets blocked, and run every recognizer
    (emails and URLs included): nothing may try to connect (tldextract's suffix list,
    a spaCy model download ...)."""
    import pytest_socket
    import tldextract

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("tldextract was called (it downloads the public suffix list)")

    monkeypatch.setattr(tldextract, "extract", refuse)
    monkeypatch.setattr(tldextract.TLDExtract, "__call__", refuse)
    pm._analyzer.cache_clear()
    pytest_socket.disable_socket(allow_unix_socket=True)
    try:
        p = Pseudonymiser(key="k" * 20)
        out = p.text("Mum (Sana Begum) emailed sana.begum@example.co.uk from "
                     "https://www.example.org/form, phone 07700 900123, NHS 943 476 5919.")
    finally:
        pytest_socket.enable_socket()
        pm._analyzer.cache_clear()
    assert "Sana" not in out and "example.co.uk" not in out and "943" not in out
