from hypothesis import given
from hypothesis import strategies as st

from assistant.sentences import sentence_spans, split_sentences


def test_abbreviations_initials_and_acronyms_do_not_split() -> None:
    text = (
        "U.S. President Joe Biden talks about values. Yet George W. Bush claimed it, e.g. in Iraq. "
        "Mr. Smith agreed."
    )
    assert split_sentences(text) == [
        "U.S. President Joe Biden talks about values.",
        "Yet George W. Bush claimed it, e.g. in Iraq.",
        "Mr. Smith agreed.",
    ]


def test_acronym_at_sentence_end_splits_before_a_sentence_opener() -> None:
    assert split_sentences("Power moved to the U.S. The rest followed.") == [
        "Power moved to the U.S.",
        "The rest followed.",
    ]


def test_closing_quotes_stay_with_their_sentence() -> None:
    text = "It is the “war on terror.” In Afghanistan it failed! Did it? “Yes,” he said."
    assert split_sentences(text) == [
        "It is the “war on terror.”",
        "In Afghanistan it failed!",
        "Did it?",
        "“Yes,” he said.",
    ]


def test_dashes_and_lowercase_continuations_do_not_split() -> None:
    text = "This approach did not work – it fueled the insurgency. It ended—as expected. etc. and so on."
    assert split_sentences(text) == [
        "This approach did not work – it fueled the insurgency.",
        "It ended—as expected. etc. and so on.",
    ]


def test_sentences_may_open_with_a_capital_of_any_script_but_not_a_small_letter() -> None:
    text = "Il pleut. Ça suffit. Über alles! Élan vital. 3 left. The end. éclair wins. Area 5 m². ² marks it."
    assert split_sentences(text) == [
        "Il pleut.",
        "Ça suffit.",
        "Über alles!",
        "Élan vital.",
        "3 left.",
        "The end. éclair wins.",
        "Area 5 m². ² marks it.",
    ]
    # After "etc." only a common sentence opener splits: "Anémones" is not "An".
    assert split_sentences("Roses, lilies, etc. Anémones bloom later.") == [
        "Roses, lilies, etc. Anémones bloom later."
    ]


@given(st.text(alphabet=st.sampled_from(list("ab .?!”“U.S\n  AZ")), max_size=200))
def test_spans_slice_the_text_and_never_overlap(text: str) -> None:
    previous_end = 0
    for start, end in sentence_spans(text):
        assert previous_end <= start < end <= len(text)
        assert text[start:end] == text[start:end].strip()
        previous_end = end
    # no non-space character is lost between spans
    covered = "".join(text[s:e] for s, e in sentence_spans(text))
    assert covered.replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")
