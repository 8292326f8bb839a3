from assistant.grounding import support

PREMISE = (
    "NATO’s new Strategic Concept, the outcome of the June 2022 Summit in Madrid, emphasizes the need "
    "to integrate human security “across all our core tasks.”"
)


def test_verbatim_and_paraphrase_are_supported() -> None:
    assert support(PREMISE, PREMISE) == 1.0
    assert support(PREMISE, "The Madrid summit in June 2022 produced NATO's new Strategic Concept.") >= 0.8


def test_changed_numbers_names_and_unrelated_claims_are_not() -> None:
    assert support(PREMISE, "NATO's new Strategic Concept came out of the June 2021 Summit in Madrid.") <= 0.2
    assert support(PREMISE, "NATO's new Strategic Concept came out of the June 2022 Summit in Lisbon.") <= 0.3
    assert support(PREMISE, "The withdrawal from Afghanistan was a tragedy.") < 0.3


def test_negation_mismatch_is_caught() -> None:
    premise = "On the other hand, the policy towards Ukraine has been exemplary."
    assert support(premise, "The policy towards Ukraine has not been exemplary.") <= 0.4
