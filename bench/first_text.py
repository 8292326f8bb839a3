"""Time to first visible text, against time to the whole answer, for both kinds of generator.

What a reader waits for before anything appears: the first event ``Assistant.ask_stream``
yields that the chat shows (a language model's first words, or the first verified sentence).

- extractive: the essay's development questions, each asked as a stream;
- language model: the same back-end code over a chat model that streams a fixed, supported
  answer at ``--tokens-per-second`` (17 by default: Qwen2.5 1.5B on 2 cores, as measured for
  the local-model issue), so the figure is the pipeline's own delay plus the model's first
  token; with ``ASSISTANT_LLM`` set to a real back end, that back end is timed instead.

    python -m bench.first_text [--questions 20] [--tokens-per-second 17]

The ratio (first text / whole answer) is what streaming buys: 1.0 would mean nothing
shows until the answer is complete.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk

from bench.common import ESSAY_CORPUS, essay_assistant, percentiles, questions, quiet, table, write_results

REPLY = (
    "Defensive deterrence, or deterrence by denial, aims to avoid the kind of competitive "
    "armament that leads to escalation [1]. It relies on the ability to deny an aggressor the "
    "gains of an attack [1]."
)


class PacedModel(FakeListChatModel):
    """Streams its reply word by word at a fixed rate, like a local model on a small machine."""

    seconds_per_token: float = 1 / 17

    def _stream(
        self, messages: list[BaseMessage], *args: Any, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        for number, word in enumerate(self.responses[0].split(" ")):
            time.sleep(self.seconds_per_token)
            yield ChatGenerationChunk(message=AIMessageChunk(content=word if number == 0 else " " + word))


def first_and_total(bot: Any, question: str, history: list[dict[str, str]]) -> tuple[float, float]:
    """Milliseconds to the first shown event and to the final answer."""
    began = time.perf_counter()
    first = None
    for event in bot.ask_stream(question, history):
        if first is None and event.kind in ("token", "sentence"):
            first = (time.perf_counter() - began) * 1000.0
    total = (time.perf_counter() - began) * 1000.0
    return (first if first is not None else total), total


def model_bot(index: Path, rate: float) -> tuple[Any, str]:
    """The essay's assistant with a language model: the configured one, else the paced fake."""
    from assistant import Assistant
    from assistant.generation import ExtractiveGenerator
    from assistant.llm import build_generator

    configured = os.environ.get("ASSISTANT_LLM", "extractive")
    if configured != "extractive":
        return essay_assistant(index, collection="bench-first-text"), configured
    bot = Assistant(corpus_dir=ESSAY_CORPUS, index_dir=index, collection="bench-first-text", llm="openai")
    model = PacedModel(responses=[REPLY], seconds_per_token=1 / rate)
    extractive = ExtractiveGenerator(bot.retriever, bot.settings)
    bot.__dict__["generator"] = build_generator(
        bot.settings, extractive, bot.retriever, bot.checker, chat_model=model, label="paced"
    )
    bot.ask("What is defensive deterrence?")  # opens the retriever, as a served assistant has
    return bot, f"paced fake model, {rate:g} tokens/s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=20, help="development questions to ask")
    parser.add_argument("--tokens-per-second", type=float, default=17.0)
    args = parser.parse_args(argv)
    quiet()
    asked = questions()[: args.questions]
    rows, results = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        extractive = essay_assistant(Path(tmp) / "index", collection="bench-first-text")
        model, label = model_bot(Path(tmp) / "index", args.tokens_per_second)
        for name, bot in (("extractive", extractive), (label, model)):
            timings = [first_and_total(bot, q, h) for q, h in asked]
            first = percentiles([f for f, _ in timings])
            total = percentiles([t for _, t in timings])
            ratio = first["p50"] / total["p50"] if total["p50"] else 1.0
            rows.append([name, len(timings), first["p50"], first["p95"], total["p50"], total["p95"], ratio])
            results[name] = {"first_text_ms": first, "answer_ms": total, "ratio_p50": round(ratio, 3)}
    headers = ["generator", "questions", "first text p50 ms", "p95", "whole answer p50 ms", "p95", "ratio"]
    table("Time to first visible text (Assistant.ask_stream)", headers, rows)
    write_results("first_text", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
