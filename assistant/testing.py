"""Helpers for users' own tests of an assistant's grounding.

from assistant.testing import assert_grounded

def test_my_reading_list(bot):
    assert_grounded(bot.ask("What does the text say about X?"), min_support=0.8)
"""

from __future__ import annotations

from .models import Answer


def assert_grounded(
    answer: Answer, min_support: float = 0.5, *, corpus: dict[str, str] | None = None
) -> None:
    """Fail unless every answer sentence cites something that supports it at ``min_support``.

    With ``corpus`` ({doc_id: text}), also check that every quote is the exact text at its offsets.
    """
    if answer.refused:
        return
    problems = []
    markers = {c.marker for c in answer.citations}
    for sentence in answer.sentences:
        if not sentence.markers:
            problems.append(f"uncited sentence: {sentence.text!r}")
        elif not set(sentence.markers) <= markers:
            problems.append(f"marker without a citation in: {sentence.text!r}")
        elif sentence.support < min_support:
            problems.append(f"support {sentence.support:.2f} < {min_support}: {sentence.text!r}")
    for citation in answer.citations:
        text = (corpus or {}).get(citation.doc_id)
        if text is not None and text[citation.start : citation.end] != citation.quote:
            problems.append(f"quote [{citation.marker}] is not the text at {citation.start}:{citation.end}")
    if problems:
        raise AssertionError("Answer is not grounded:\n  " + "\n  ".join(problems))
