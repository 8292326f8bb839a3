"""Grading speed: 1,000 synthetic answers of about 100 words with the lexical checker.

    python -m bench.grading [--answers 1000]

The answers are made from the readings' own sentences (the essay and the five texts of
tests/data/texts, one corpus), each citing its quotes with offsets, as provider citations
and this project's contract do. Some citations are made wrong on purpose, so every path of
the alignment is timed: 70% exact with the right offsets, 10% right text at wrong offsets,
10% with a word changed (found fuzzily), 10% invented (searched fuzzily in every document
and not found); every fourth answer instead carries retrieved contexts and no markers,
as RAGAS samples do. Target: < 60 s on 2 cores. Writes ``bench/results/grading.json``.
"""

from __future__ import annotations

import argparse
import random
import time

from assistant.corpus import load_corpus
from assistant.grading import Aligner, Corpus, Item, LexicalChecker, Source, grade
from assistant.models import Document

from .common import ESSAY_CORPUS, ROOT, quiet, table, target, write_results

TEXTS = ROOT / "tests" / "data" / "texts"
WORDS = 100


def documents() -> list[Document]:
    folders = [ESSAY_CORPUS, *sorted(p / "corpus" for p in TEXTS.iterdir() if (p / "corpus").is_dir())]
    return [doc for folder in folders for doc in load_corpus(folder)]


def answers(corpus: Corpus, count: int, seed: int = 18) -> list[Item]:
    rng = random.Random(seed)
    sentences = [s for s in corpus.all_sentences() if 8 <= len(s.text.split()) <= 45]
    vocabulary = [w for s in sentences for w in s.text.split()]
    items = []
    for number in range(count):
        first = rng.randrange(len(sentences) - 12)
        chosen, words = [], 0
        for sentence in sentences[first : first + 12]:
            if words >= WORDS:
                break
            chosen.append(sentence)
            words += len(sentence.text.split())
        text_parts, sources = [], []
        for marker, sentence in enumerate(chosen, start=1):
            roll = rng.random()
            quote, start, end = sentence.text, sentence.start, sentence.end
            if roll < 0.1:
                start, end = start + 17, end + 17
            elif roll < 0.2:
                parts = quote.split()
                parts[len(parts) // 2] = rng.choice(vocabulary)
                quote = " ".join(parts)
            elif roll < 0.3:
                quote = " ".join(rng.sample(vocabulary, len(quote.split())))
            sources.append(Source(quote, "citation", doc=sentence.doc_id, start=start, end=end))
            text_parts.append(f"{sentence.text} [{marker}]")
        if number % 4 == 3:  # a RAGAS-style answer: the same sentences, judged against contexts
            sources = [Source(s.text, "context") for s in chosen]
            text_parts = [s.text for s in chosen]
        items.append(Item(f"q{number}", "What does the text say?", " ".join(text_parts), sources))
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=1000)
    args = parser.parse_args()
    quiet()
    began = time.perf_counter()
    corpus = Corpus(documents())
    load_s = time.perf_counter() - began
    items = answers(corpus, args.answers)
    words = sum(len(i.answer.split()) for i in items) / len(items)
    began = time.perf_counter()
    report = grade(items, Aligner(corpus), LexicalChecker(0.8), progress=True)
    seconds = time.perf_counter() - began
    rows = [
        ["corpus load (6 readings, sentences, folded text)", load_s],
        [f"grade {len(items)} answers (mean {words:.0f} words)", seconds],
        ["per answer (ms)", 1000 * seconds / len(items)],
    ]
    table("Grading speed (seconds)", ["step", "s"], rows)
    print("alignment:", report["alignment"])
    checked = target("grade 1,000 answers", seconds * 1000 / len(items), 60.0, " s")
    table(
        "Targets",
        ["target", "measured", "limit", "met"],
        [[checked["name"], checked["value"], checked["target"], checked["met"]]],
    )
    write_results(
        "grading",
        {"answers": len(items), "mean_words": words, "seconds": seconds, "load_seconds": load_s,
         "alignment": report["alignment"], "targets": [checked]},
    )  # fmt: skip


if __name__ == "__main__":
    main()
