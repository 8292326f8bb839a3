"""The extractive answerer's rules, table by table, on short texts of several genres held in
memory (``tests/memory.py``): no index, the real embedding model and the shipped answer model."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from assistant.config import Settings
from assistant.generation import Draft, ExtractiveGenerator

from .memory import MemoryPassages

TEXTS = {
    "bread": (
        "# Bread\n\nMix the flour with water and salt. Knead the dough for ten minutes. "
        "Let it rise for two hours in a warm place. Bake it at 220 degrees for thirty minutes.\n"
    ),
    "bridge": (
        "# A review of the new bridge\n\nThe new bridge is a failure. Its design ignores the people "
        "who walk across it every day. The council spent too much on decoration and too little on safety.\n"
    ),
    "fable": (
        "# The fox and the crow\n\nA crow sat in a tree with a piece of cheese. A fox wanted the cheese "
        "and praised the crow's voice. The crow opened its beak to sing, and the cheese fell to the fox.\n"
    ),
    "play": (
        "# The key\n\nAnna.  “Where did you hide the key to the shed, Ben?”\n\n"
        "Ben.  Under the flat stone by the shed door.\n\nAnna.  Under the stone?  How careless of you.\n\n"
        "Ben.  How long have you kept the garden?\n\nAnna.  Eleven summers.\n"
    ),
    "lamp": (
        "# The lamp\n\nMira sat down again without lighting the lamp.\n\n"
        "“We shall think better in the dark,” she said.\n"
    ),
    "mill": (
        "# The old mill\n\nThe old mill was a ruin, and the town was right to pull it down. "
        "What should stand there now?\n\nA park would serve the town best.\n"
    ),
    "imports": (
        "# Imports\n\nImports go in this order:\n\n1. Standard library imports.\n\n"
        "2. Third party imports.\n\n3. Local imports.\n"
    ),
}


@pytest.fixture(scope="module")
def answer() -> Callable[[str], Draft]:
    """The extractive answerer over TEXTS: a question in, its draft out."""
    passages = MemoryPassages(TEXTS)
    generator = ExtractiveGenerator(passages, Settings())
    return lambda question: generator.generate(passages.request(question))


def quoted(draft: Draft) -> list[str]:
    return [q.sentence.text for s in draft.sentences for q in s.quotes]


Answer = Callable[[str], Draft]


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        ("How long should the dough rise?", "Let it rise for two hours in a warm place."),
        ("What did the fox praise?", "A fox wanted the cheese and praised the crow's voice."),
        ("What does the review think of the new bridge?", "The new bridge is a failure."),
    ],
)
def test_the_sentence_that_answers_is_quoted(answer: Answer, question: str, sentence: str) -> None:
    draft = answer(question)
    assert not draft.refused and sentence in quoted(draft)


def test_a_line_that_asks_is_never_quoted_and_a_speaker_stays_with_the_line(answer: Answer) -> None:
    """In dialogue the question often echoes a line that asks it (“…?” in quotation marks too)."""
    draft = answer("Where did Ben hide the key to the shed?")
    assert not draft.refused
    assert quoted(draft)[0] == "Ben.  Under the flat stone by the shed door."
    assert not any(q.rstrip("”’\"' ").endswith("?") for q in quoted(draft))


def test_the_line_after_the_one_that_asks_answers(answer: Answer) -> None:
    """Dialogue, an interview, a FAQ: the text's own question matches, the next line answers."""
    draft = answer("How long has Anna kept the garden?")
    assert not draft.refused and "Anna.  Eleven summers." in quoted(draft)


@pytest.mark.parametrize(
    ("question", "opening"),
    [
        # A why question's reason follows the best sentence, in dialogue in the next line.
        (
            "Why did Mira not light the lamp?",
            [
                "Mira sat down again without lighting the lamp.",
                "“We shall think better in the dark,” she said.",
            ],
        ),
        # A sentence ending in a colon is quoted with what it introduces.
        (
            "In what order do imports go?",
            ["Imports go in this order:", "1. Standard library imports.", "2. Third party imports."],
        ),
    ],
)
def test_the_best_sentence_is_quoted_with_what_follows_it(
    answer: Answer, question: str, opening: list[str]
) -> None:
    draft = answer(question)
    assert not draft.refused and quoted(draft)[: len(opening)] == opening


def test_a_line_that_asks_is_not_quoted_as_a_reason(answer: Answer) -> None:
    """The sentence after a verdict gives its reasons, unless it asks (a rhetorical question)."""
    draft = answer("What does the text think of the old mill?")
    assert not draft.refused and quoted(draft)[0].startswith("The old mill was a ruin")
    assert "What should stand there now?" not in quoted(draft)


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("What did Napoleon think of the bridge?", "do not mention “Napoleon”"),
        ("What does the text say about quantum computing?", "not"),
    ],
)
def test_what_the_texts_do_not_say_is_refused(answer: Answer, question: str, reason: str) -> None:
    draft = answer(question)
    assert draft.refused and reason in draft.sentences[0].text


def test_a_false_premise_is_corrected_from_the_text(answer: Answer) -> None:
    draft = answer("Why is the new bridge such a success?")
    assert not draft.refused
    assert draft.sentences[0].text.endswith("takes the opposite view: “The new bridge is a failure.”")


def test_each_part_of_a_two_part_question_gets_its_quote(answer: Answer) -> None:
    """Two questions about two texts in one: a quote for each, whichever scores best overall."""
    draft = answer("What did the fox praise, and what does the review say the council spent too much on?")
    assert not draft.refused
    assert {
        "A fox wanted the cheese and praised the crow's voice.",
        "The council spent too much on decoration and too little on safety.",
    } <= set(quoted(draft))


def test_quotes_that_never_name_what_is_asked_for_say_so(answer: Answer) -> None:
    """On the topic but silent on the thing asked for (a price): quoted, with a caveat that names it."""
    draft = answer("What price did the council pay for the decoration?")
    assert not draft.refused and "“price”" in draft.caveat and "may not answer" in draft.caveat
    assert not draft.notice  # the notice is for other things (a model's answer replaced)
    named = answer("In which tree did the crow sit?")
    assert not named.refused and not named.caveat
