"""The triage queue on a hand-computed case: file probabilities, order, weights, yield."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pytest

from screener import load_rubric
from screener.audit import service
from screener.audit.queue import binary_entropy, expected_yield, file_probability


def probs(good: float, ri: float, inad: float) -> dict[str, float]:
    return {"good": good, "requires_improvement": ri, "inadequate": inad}


@pytest.fixture
def four_files(add_record, fake_result):
    """F1: assessment P(below)=.8 (P(inad)=.3) + visit .1 (0); F2: cin_plan .6 (.3);
    F3: supervision .95 (.8); F4: visit .3 (.1)."""
    ids = {}
    ids["f1a"] = add_record("f1", "assessment", fake_result("assessment", probs(.2, .5, .3)),
                            team="A", when=date(2025, 1, 1))
    ids["f1v"] = add_record("f1", "visit", fake_result("visit", probs(.9, .1, 0.0)),
                            team="B", when=date(2025, 2, 1))
    ids["f2"] = add_record("f2", "cin_plan", fake_result("cin_plan", probs(.4, .3, .3)),
                           team="A", service="CP")
    ids["f3"] = add_record("f3", "supervision",
                           fake_result("supervision", probs(.05, .15, .8),
                                       flags=[("reflection", "high"), ("challenge", "high")]),
                           team="A")
    ids["f4"] = add_record("f4", "visit", fake_result("visit", probs(.7, .2, .1)), team="A")
    return ids


def test_file_probability_formula():
    assert file_probability([]) == 0.0
    assert file_probability([(0.8, 1.0), (0.1, 1.0)]) == pytest.approx(1 - 0.2 * 0.9)
    assert file_probability([(0.3, 2.0)]) == pytest.approx(1 - 0.7 ** 2)
    assert file_probability([(0.9, 0.0)]) == 0.0  # weight 0 leaves a type out
    assert file_probability([(1.0, 1.0), (0.2, 1.0)]) == 1.0


def test_queue_ranks_files_by_hand_computed_probability(db, four_files):
    with db.session() as s:
        q = service.list_queue(s)
    assert [it.pseudonym for it in q] == ["F-f3", "F-f1", "F-f2", "F-f4"]
    got = {it.pseudonym: (it.p_below_good, it.p_inadequate) for it in q}
    assert got["F-f3"] == pytest.approx((0.95, 0.8))
    assert got["F-f1"] == pytest.approx((1 - 0.2 * 0.9, 0.3))
    assert got["F-f2"] == pytest.approx((0.6, 0.3))
    assert got["F-f4"] == pytest.approx((0.3, 0.1))
    f3 = q[0]
    assert "worst supervision" in f3.why and "reflection, challenge" in f3.why
    assert q[1].team == "B"  # a file's team is that of its newest record
    assert q[1].n_records == 2


def test_rubric_weights_change_the_order(db, four_files, tmp_path: Path):
    authority = tmp_path / "authority.yaml"
    authority.write_text("extends: default\ndoc_types:\n  visit: {weight: 2}\n"
                         "  cin_plan: {weight: 0}\n")
    with db.session() as s:
        q = service.list_queue(s, rubric=load_rubric(authority))
    got = {it.pseudonym: it.p_below_good for it in q}
    assert [it.pseudonym for it in q] == ["F-f3", "F-f1", "F-f4", "F-f2"]
    assert got["F-f1"] == pytest.approx(1 - 0.2 * 0.9 ** 2)
    assert got["F-f4"] == pytest.approx(1 - 0.7 ** 2)
    assert got["F-f2"] == 0.0


def test_filters_limit_and_reviewed_files(db, four_files):
    with db.session() as s:
        assert [it.pseudonym for it in service.list_queue(s, team="a")] == \
            ["F-f3", "F-f2", "F-f4"]
        assert [it.pseudonym for it in service.list_queue(s, service="CP")] == ["F-f2"]
        assert len(service.list_queue(s, limit=2)) == 2
        service.record_review(s, four_files["f4"], "ann", grade="good")
    with db.session() as s:
        assert "F-f4" not in [it.pseudonym for it in service.list_queue(s)]
        everything = service.list_queue(s, include_reviewed=True)
    assert [it.reviewed for it in everything if it.pseudonym == "F-f4"] == [True]


def test_expected_yield_hand_computed(db, four_files):
    rows = expected_yield([0.8, 0.3, 0.3, 0.1], [0.95, 0.82, 0.6, 0.3])
    total_inad, total_below = 1.5, 2.67
    assert [(r.share, r.files) for r in rows] == [(0.1, 1), (0.2, 1), (0.3, 2)]
    assert rows[0].expected_found == pytest.approx(0.8 / total_inad, abs=1e-4)
    assert rows[0].expected_found_below == pytest.approx(0.95 / total_below, abs=1e-4)
    assert rows[0].random_found == 0.25
    assert rows[2].expected_found == pytest.approx(1.1 / total_inad, abs=1e-4)
    assert rows[2].random_found == 0.5
    with db.session() as s:
        y = service.yield_of(service.list_queue(s))
    assert y[0].expected_found == pytest.approx(0.8 / 1.5, abs=1e-3)
    assert expected_yield([])[0].files == 0


def test_random_sample_is_reproducible_and_unranked(db, four_files):
    with db.session() as s:
        a = service.sample_files(s, 2, seed=7)
        b = service.sample_files(s, 2, seed=7)
        everyone = service.sample_files(s, 10, seed=1)
    assert [x.file_id for x in a] == [x.file_id for x in b]
    assert len(a) == 2
    assert sorted(x.pseudonym for x in everyone) == ["F-f1", "F-f2", "F-f3", "F-f4"]


def test_uncertain_lists_the_least_certain_records(db, add_record, fake_result):
    sure = add_record("u1", "visit", fake_result("visit", probs(.9, .1, 0),
                                                 marker_probs={"child_seen": 0.97,
                                                               "analysis": 0.02}))
    unsure = add_record("u2", "visit", fake_result("visit", probs(.4, .4, .2),
                                                   marker_probs={"child_seen": 0.5,
                                                                 "analysis": 0.5}))
    middle = add_record("u3", "visit", fake_result("visit", probs(.4, .4, .2),
                                                   marker_probs={"child_seen": 0.9,
                                                                 "analysis": 0.5}))
    with db.session() as s:
        got = service.uncertain_records(s, limit=5)
    assert [u.record_id for u in got] == [unsure, middle, sure]
    assert got[0].score == pytest.approx(2.0)
    assert got[1].score == pytest.approx(1 + binary_entropy(0.9), abs=1e-4)
    assert list(got[1].unsure) == ["analysis", "child_seen"]
    assert binary_entropy(0.5) == 1.0 and binary_entropy(0.0) == 0.0
    assert math.isclose(binary_entropy(0.25), binary_entropy(0.75))
