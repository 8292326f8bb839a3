"""What a question asks for (assistant.questions), and the checks that use it."""

from __future__ import annotations

import pytest

from assistant.generation import _is_heading
from assistant.questions import analyse, gives_expected


@pytest.mark.parametrize(
    ("question", "counted"),
    [
        ("How many troops did NATO deploy in Kosovo?", ("troop",)),
        (
            "How many deployed strategic nuclear warheads does New START allow?",
            ("deploy", "strateg", "nuclear", "warhead"),
        ),
        ("How much did it cost to develop Stuxnet?", ()),
        # A modal ends what is counted as an auxiliary does (a cookbook's "should", a law's "must").
        ("For how many hours should pork be kept cold?", ("hour",)),
        ("How many Senators must each State send?", ("senat",)),
        ("What is deterrence?", ()),
    ],
)
def test_what_how_many_counts(question: str, counted: tuple[str, ...]) -> None:
    assert analyse(question).counted == counted


@pytest.mark.parametrize(
    ("question", "focus"),
    [
        ("In which county is Jack's country house?", "county"),
        ("What is the price of the two-volume Appendix?", "price"),
        ("What kind of mood was the police chief in?", "mood"),
        ("What interest rate will the energy bonds pay?", "interest rate"),
        # A verb, an adverb or a bare "what does" names no thing asked for.
        ("What made Holmes sure of it?", ""),
        ("What exactly did his accuser assert?", ""),
        ("What does the author think of realism?", ""),
        ("And which big ones are based just outside the city?", ""),
        ("Which one does he choose?", ""),
    ],
)
def test_what_a_what_or_which_question_asks_for(question: str, focus: str) -> None:
    assert analyse(question).focus == focus


def test_a_number_must_count_the_thing_asked_about() -> None:
    info = analyse("How much ransom did the WannaCry attackers demand?")
    assert not gives_expected(info, "In May 2017 WannaCry spread to more than 150 countries.")
    assert gives_expected(info, "The attackers demanded a ransom of 300 dollars in bitcoin.")
    dated = analyse("When did the campaign start?")
    assert gives_expected(dated, "It started in March 1999.") and not gives_expected(dated, "It started.")


def test_weather_in_a_question_is_not_a_request() -> None:
    assert analyse("How many people did weather-related hazards displace?").intent == "question"
    assert analyse("What's the weather like today?").intent == "request"


@pytest.mark.parametrize(
    ("text", "heading"),
    [
        ("## Arms control", True),
        ("Estonia, 2007", True),
        ("The attribution problem", True),
        ("Deterrence works by threatening punishment.", False),
        ("“Blood and iron”", False),
        (
            "Realism is about the pursuit of national interest by military force, if necessary, through war",
            False,
        ),
    ],
)
def test_headings_are_told_from_sentences(text: str, heading: bool) -> None:
    assert _is_heading(text) is heading
