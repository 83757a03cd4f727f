"""The context layer: what turns a matching phrase into a genuine instance, or not.

Each check is tested on its own, on a one-sentence text, at the cue a marker rule would
have matched: negation (and where its reach ends), intention, someone else's report,
remote contact, and placeholder bodies.
"""

from __future__ import annotations

import pytest

from screener import load_rubric
from screener.text.context import PLACEHOLDER_MAX, ContextLayer


@pytest.fixture(scope="module")
def layer() -> ContextLayer:
    return ContextLayer(load_rubric().context)


def blocked(layer: ContextLayer, check: str, text: str, cue: str) -> bool:
    """Whether `check` blocks the first occurrence of `cue` in the one-sentence `text`."""
    start = text.index(cue)
    return layer.blocked(check, text, (0, len(text)), start, start + len(cue))


@pytest.mark.parametrize(("text", "cue", "expected"), [
    ("Kai was not seen on this visit.", "seen", True),
    ("Kai was never seen alone.", "seen alone", True),
    ("Kai wasn't seen as he was at his dad's.", "seen", True),
    ("Ruby could not be seen because she was unwell.", "seen", True),
    ("Mum declined for the children to be spoken to.", "spoken to", True),
    ("No professionals were consulted.", "professionals", True),
    ("Kai was seen at school in his classroom.", "seen", False),
    # A clause break ends the negation's reach.
    ("Mum was not at home but Kai was seen at school.", "seen", False),
    ("Dad was not there; Kai was seen with his nan.", "seen", False),
    ("Ella did not want to talk at first, however she told me about her friends.",
     "told me", False),
    ("Mum is not working although she said she was looking for a job.", "said", False),
    # The reach is six words back: a negation further away does not count.
    ("Not all of the professionals who were invited came, and the school nurse shared her "
     "report.", "shared", False),
    ("Kai's views were not sought on this occasion.", "views", True),
    pytest.param("Seen alone: no, dad stayed in the room.", "Seen alone", True),
])
def test_negation(layer: ContextLayer, text: str, cue: str, expected: bool) -> None:
    assert blocked(layer, "negation", text, cue) is expected


def test_clause_is_bounded_by_breaks(layer: ContextLayer) -> None:
    text = "Mum was out, but Kai was seen at school; he seemed happy."
    start = text.index("Kai")
    cs, ce = layer.clause(text, (0, len(text)), start, start + 3)
    assert text[cs:ce].strip() == "Kai was seen at school"


@pytest.mark.parametrize(("text", "cue", "expected"), [
    ("Kai's views are to be obtained at the next visit.", "views", True),
    ("School to be contacted for an attendance update.", "School", True),
    ("The SW will speak to Kai at school next week.", "Kai", True),
    ("Awaiting the health visitor's report on Isla's weight.", "health visitor", True),
    ("A referral has been requested from CAMHS.", "CAMHS", True),
    ("Ruby's wishes and feelings will be explored in the next session.", "wishes", True),
    ("Kai's views were obtained at school on Monday.", "views", False),
    ("The health visitor reported that Isla has gained weight.", "health visitor", False),
    ("Kai's views are to be gathered by school, but Kai told me he is happy there.",
     "Kai told", False),
    # Abilities and wishes are not intentions.
    ("Mum is able to meet Kai's basic needs.", "meet Kai's basic needs", False),
    ("Zara would like to see her dad every weekend.", "Zara", False),
    ("Dad struggles to see the impact of his shouting.", "impact", False),
])
def test_intention(layer: ContextLayer, text: str, cue: str, expected: bool) -> None:
    assert blocked(layer, "intention", text, cue) is expected


@pytest.mark.parametrize(("text", "cue", "expected"), [
    ("Mum said that Kai was happy at school.", "Kai was happy", True),
    ("Dad told me Poppy wants to live with him.", "Poppy wants", True),
    ("According to nan, Jayden is scared of the dark.", "Jayden is scared", True),
    ("Mrs Hughes reported that Leo wet the bed twice this week.", "Leo wet", True),
    ("Mum's view is that Tia is too young to understand.", "Tia is too young", True),
    ("Kai said that mum was happy.", "Kai said", False),
    ("Mum reported the dog had bitten him, but Kai told me he was fine.", "Kai told", False),
    ("I asked Ruby about school and she said she likes her teacher.", "she said", False),
])
def test_adult_report(layer: ContextLayer, text: str, cue: str, expected: bool) -> None:
    assert blocked(layer, "adult_report", text, cue) is expected


@pytest.mark.parametrize(("text", "cue", "expected"), [
    ("I spoke to Kai on the phone after school.", "Kai", True),
    ("Kai was seen by video call as the family were isolating.", "seen", True),
    ("We talked over FaceTime while Kai was at his dad's.", "Kai", True),
    ("Kai texted me to say he was safe.", "Kai", True),
    ("Kai was seen at home in the living room.", "seen", False),
    ("I saw Kai at school and we sat in the library.", "Kai", False),
    ("I saw Kai at school; later I phoned mum to update her.", "saw Kai", False),
])
def test_remote(layer: ContextLayer, text: str, cue: str, expected: bool) -> None:
    assert blocked(layer, "remote", text, cue) is expected


def test_unknown_check_is_an_error(layer: ContextLayer) -> None:
    with pytest.raises(ValueError, match="unknown context check"):
        layer.blocked("sarcasm", "Kai was seen.", (0, 13), 0, 3)


@pytest.mark.parametrize("body", [
    "", "   ", "N/A", "n/a", "NA", "TBC", "TBC.", "tbc - to follow", "To be completed",
    "To be discussed at the next review", "See previous plan", "see above", "As above",
    "None agreed at this time", "Not applicable", "Not known", "[insert]", "<insert text>",
    "-", "—", "???", "Pending", "N/A, TBC", "Nothing to add",
])
def test_placeholder(layer: ContextLayer, body: str) -> None:
    assert layer.is_placeholder(body)


@pytest.mark.parametrize("body", [
    "Kai said he likes his new school.",
    "If mum misses two appointments, the SW will call a strategy discussion.",
    "None of the children were at home.",
    "TBC whether dad will attend; mum has agreed to the Freedom Programme from 4 March.",
    "Seen at school.",
])
def test_not_placeholder(layer: ContextLayer, body: str) -> None:
    assert not layer.is_placeholder(body)


def test_long_body_is_never_a_placeholder(layer: ContextLayer) -> None:
    body = " ".join(["N/A"] * (PLACEHOLDER_MAX // 3 + 5))
    assert len(body) > PLACEHOLDER_MAX
    assert not layer.is_placeholder(body)


@pytest.mark.parametrize(("text", "expected"), [
    ("Kai is not safe because dad is back in the home.", True),
    ("This means Ella goes to bed hungry.", True),
    ("Given that mum has relapsed, the risk has risen.", True),
    ("Risk is medium.", False),
    ("Recommend CIN plan.", False),
])
def test_reasoning(layer: ContextLayer, text: str, expected: bool) -> None:
    assert layer.has_reason(text, 0, len(text)) is expected
