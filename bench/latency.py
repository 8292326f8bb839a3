"""Warm answer latency on the development questions, per stage, against plain LangChain retrieval.

Ours: ``Assistant.ask`` (hybrid retrieval, extractive answer, support check) on the
essay. Baseline: what a user writes first, ``langchain_chroma.Chroma`` over the same
chunks with the same MiniLM model through sentence-transformers, and
``similarity_search(q, k=4)``: retrieval only, no answer. The two are timed in turn,
question by question, so the machine's noise falls on both alike.

    python -m bench.latency [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from bench.common import (
    essay_assistant,
    percentiles,
    questions,
    quiet,
    table,
    target,
    targets_table,
    timed,
    write_results,
)

STAGES = ("embed", "dense", "bm25", "fusion", "retrieve", "generate", "verify", "total")


def baseline_store(chunks: list[Any], folder: Path, engine: str) -> Any:
    """LangChain's Chroma over ``chunks`` with our MiniLM embeddings on ``engine``."""
    import chromadb
    from langchain_chroma import Chroma

    from assistant.embedding import MiniLMEmbeddings

    client = chromadb.PersistentClient(
        path=str(folder), settings=chromadb.config.Settings(anonymized_telemetry=False)
    )
    store = Chroma(
        client=client,
        collection_name=f"baseline-{engine}",
        embedding_function=MiniLMEmbeddings(engine=engine),
    )
    store.add_texts([c.text for c in chunks], metadatas=[{"chunk_id": c.chunk_id} for c in chunks])
    store.similarity_search("What is defensive deterrence?", k=4)  # warm: loads the model
    return store


def run(repeat: int) -> dict[str, Any]:
    asked = questions()
    with tempfile.TemporaryDirectory() as tmp:
        bot = essay_assistant(Path(tmp) / "index", collection="bench-latency")
        chunks = bot.index.chunks()
        baselines = {
            engine: baseline_store(chunks, Path(tmp) / "baseline", engine)
            for engine in ("sentence-transformers", "numpy")
        }
        stages: dict[str, list[float]] = {s: [] for s in STAGES}
        wall: list[float] = []
        base: dict[str, list[float]] = {e: [] for e in baselines}
        for _ in range(repeat):
            for question, history in asked:
                answer, ms = timed(lambda q=question, h=history: bot.ask(q, h))
                wall.append(ms)
                t = dict(answer.timings_ms)
                # What ask() does after generating: numbering quotes and the support check.
                t["verify"] = t["total"] - t["retrieve"] - t["generate"]
                for stage in STAGES:
                    stages[stage].append(t[stage])
                for engine, store in baselines.items():
                    base[engine].append(timed(lambda q=question, s=store: s.similarity_search(q, k=4))[1])
    ours = {stage: percentiles(values) for stage, values in stages.items()}
    ours["ask (wall)"] = percentiles(wall)
    baseline = {f"similarity_search k=4 ({engine})": percentiles(v) for engine, v in base.items()}
    reference = baseline["similarity_search k=4 (sentence-transformers)"]["p50"]
    ratio = round(ours["ask (wall)"]["p50"] / reference, 3)
    return {
        "questions": len(asked),
        "repeat": repeat,
        "chunks": len(chunks),
        "ours_ms": ours,
        "baseline_ms": baseline,
        "ratio_answer_p50_to_baseline_retrieval_p50": ratio,
        "targets": [
            target("answer p50 / baseline retrieval p50", ratio, 1.5),
            target("answer p50 (ms)", ours["ask (wall)"]["p50"], 30, " ms"),
        ],
    }


def report(result: dict[str, Any]) -> None:
    rows = [[name, s["p50"], s["p95"], s["p99"]] for name, s in result["ours_ms"].items()]
    rows += [[f"baseline: {name}", s["p50"], s["p95"], s["p99"]] for name, s in result["baseline_ms"].items()]
    table(
        f"Warm latency, ms ({result['questions']} questions x {result['repeat']}, {result['chunks']} chunks)",
        ["stage", "p50", "p95", "p99"],
        rows,
    )
    targets_table(result["targets"])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="passes over the question set (default 2)")
    args = parser.parse_args(argv)
    quiet()
    result = run(args.repeat)
    report(result)
    write_results("latency", result)
    return result


if __name__ == "__main__":
    main()
