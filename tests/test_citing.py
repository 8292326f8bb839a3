"""An answer as the protocol edges show it: text with [n] markers and a Sources block."""

from __future__ import annotations

from assistant import Assistant
from assistant.citing import answer_text, citation_data, reading_link, sources_block, without_sources
from assistant.pipeline import render_sentence


def test_reading_links_name_the_collection_and_the_sentence() -> None:
    assert reading_link("my-text") == "/read/my-text"
    assert reading_link("my-text", "s-3-2", collection="week-3") == "/read/my-text?collection=week-3#s-3-2"
    assert reading_link("a b", base="http://host:7860/") == "http://host:7860/read/a%20b"


def test_the_sources_block_lists_each_marker_and_is_dropped_from_history(bot: Assistant) -> None:
    answer = bot.ask("What is defensive deterrence?")
    text = answer_text(answer, base="http://host")
    sentences = " ".join(render_sentence(s) for s in answer.sentences)
    assert text.startswith(sentences) and without_sources(text) == sentences
    block = sources_block(answer.citations, base="http://host")
    assert block.count("\n- [") == len(answer.citations)
    for c in answer.citations:
        assert f"- [{c.marker}] {c.title}, paragraph {c.paragraph}: “{c.quote}” http://host/read/" in block
        assert citation_data(c)["reading_view"] == f"/read/{c.doc_id}#{c.anchor}"


def test_a_refusal_has_no_sources_block(bot: Assistant) -> None:
    refusal = bot.ask("What is the capital of Peru?")
    assert refusal.refused and answer_text(refusal) == refusal.answer
    assert sources_block(refusal.citations) == ""
