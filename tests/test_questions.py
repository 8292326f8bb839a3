"""What a question asks for (assistant.questions), and the checks that use it."""

from __future__ import annotations

import pytest

from assistant.generation import _is_heading
from assistant.questions import analyse, gives_expected, gives_focus


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
        ("What kind of mood was the police chief in?", ""),  # answered by a kind, seldom the word
        ("What interest rate will the energy bonds pay?", "interest rate"),
        # A verb, an adverb or a bare "what does" names no thing asked for.
        ("What made Holmes sure of it?", ""),
        ("What exactly did his accuser assert?", ""),
        ("What does the author think of realism?", ""),
        ("And which big ones are based just outside the city?", ""),
        ("Which one does he choose?", ""),
        ("what's the price of defence?", "price"),
        ("What he said was true?", ""),  # a clause, not a thing
        ("What is the result of the vote?", ""),
        # What the text does (means, argues, gives as evidence) is not a word its answer repeats.
        ("What is the meaning of realism?", ""),
        ("What evidence does the author give?", ""),
        ("In what way does the author criticise idealism?", ""),
    ],
)
def test_what_a_what_or_which_question_asks_for(question: str, focus: str) -> None:
    assert analyse(question).focus == focus


def test_what_is_asked_for_is_named_by_its_word_or_a_date() -> None:
    county = analyse("In which county is the farm?")
    assert gives_focus(county, "It lies in Kent county.") and not gives_focus(county, "The farm is old.")
    year = analyse("In what year did the war end?")
    assert gives_focus(year, "The war ended in 1648.") and not gives_focus(year, "The war ended at last.")
    price = analyse("What price did the council pay for the bridge?")
    assert gives_focus(price, "The price was high.") and not gives_focus(price, "It paid 3 million pounds.")
    assert gives_focus(analyse("What does the author think?"), "Anything.")  # nothing named is asked for
    name = analyse("What is the name of the dog?")
    assert gives_focus(name, "The dog was called Rex.") and not gives_focus(name, "The Dog barked at Rex.")


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
