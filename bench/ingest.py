"""Ingestion throughput on a real prose corpus, against ``Chroma.from_documents``.

Corpus: the Python documentation's sources, about 1.4 million words (PSF licence),
fetched once from Debian's ``python3.X-doc`` package (see ``common.python_docs_corpus``),
or any folder given with ``--corpus``. Embedding all of it takes over an hour on
2 cores, so the timed runs use a seeded random sample of whole documents
(``--sample-words``) and the full-corpus figures are extrapolated from it, linearly
in words, and labelled so. Re-ingesting the unchanged *full* corpus is measured for
real (its manifest is written by the benchmark with every document's true hash).

Each pipeline runs in a fresh process, so its peak memory is its own:
- ours: ``Assistant.ingest(rebuild=True)`` (chunking, embedding chunks and sentences,
  two Chroma collections, manifest), for each embedding engine;
- baseline: the same chunks' texts as LangChain documents, ``Chroma.from_documents``
  with the same MiniLM through sentence-transformers (chunk vectors only).

    python -m bench.ingest [--sample-words 4000] [--corpus DIR]
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any

from bench.common import (
    Skip,
    in_fresh_process,
    peak_rss_mb,
    python_docs_corpus,
    quiet,
    table,
    target,
    targets_table,
    timed,
    write_results,
)

COLLECTION = "bench-ingest"
BASELINE_ENGINE = "sentence-transformers"


def ours(corpus: str, workdir: str, engine: str) -> dict[str, Any]:
    """Our ingest of ``corpus`` from scratch, then again unchanged (in a fresh process)."""
    quiet()
    from assistant import Assistant
    from assistant.chunking import chunk_document

    index_dir = Path(workdir) / f"ours-{engine}"
    bot = Assistant(corpus_dir=Path(corpus), index_dir=index_dir, collection=COLLECTION, embedder=engine)
    bot.embeddings.encode(["warm up"])  # loading the model is cold start, not ingestion
    chunks, chunk_ms = timed(lambda: [c for d in bot.documents() for c in chunk_document(d)])
    first, ms = timed(lambda: bot.ingest(rebuild=True))
    _, again_ms = timed(bot.ingest)
    return {
        "pipeline": f"ours, engine={engine}",
        "documents": len(first.added),
        "chunks": first.chunks,
        "sentences": sum(len(c.sentences) for c in chunks),
        "seconds": round(ms / 1000, 3),
        "chunking_seconds": round(chunk_ms / 1000, 3),
        "reingest_unchanged_seconds": round(again_ms / 1000, 3),
        "peak_rss_mb": peak_rss_mb(),
    }


def baseline(corpus: str, workdir: str, engine: str) -> dict[str, Any]:
    """``Chroma.from_documents`` over the same chunk texts (in a fresh process)."""
    quiet()
    import chromadb
    from langchain_chroma import Chroma
    from langchain_core.documents import Document

    from assistant.chunking import chunk_document
    from assistant.corpus import load_corpus
    from assistant.embedding import MiniLMEmbeddings

    docs = load_corpus(Path(corpus))
    chunks = [c for d in docs for c in chunk_document(d)]
    documents = [
        Document(page_content=c.text, metadata={"doc_id": c.doc_id, "start": c.start}) for c in chunks
    ]
    embeddings = MiniLMEmbeddings(engine=engine)  # type: ignore[arg-type]
    embeddings.embed_query("warm up")
    client = chromadb.PersistentClient(
        path=str(Path(workdir) / f"baseline-{engine}"),
        settings=chromadb.config.Settings(anonymized_telemetry=False),
    )
    _, ms = timed(
        lambda: Chroma.from_documents(documents, embeddings, client=client, collection_name="baseline")
    )
    return {
        "pipeline": f"baseline Chroma.from_documents, engine={engine}",
        "documents": len(docs),
        "chunks": len(chunks),
        "sentences": 0,
        "seconds": round(ms / 1000, 3),
        "peak_rss_mb": peak_rss_mb(),
    }


def reingest_full(corpus: str, workdir: str) -> dict[str, Any]:
    """Re-ingesting the whole unchanged corpus: hash every file, compare with the index, change nothing."""
    quiet()
    from assistant import Assistant
    from assistant.index import _document_metadata

    bot = Assistant(corpus_dir=Path(corpus), index_dir=Path(workdir) / "full", collection=COLLECTION)
    documents = bot.documents()  # no index yet: the corpus folder's documents, as they would be indexed
    # The records a finished ingest leaves (true hashes, stored texts) written in one batch,
    # but with no chunks: embedding 1.4 M words would take hours, and an unchanged
    # re-ingest reads none of them.
    index = bot.index
    index.document_store.add(
        ids=[d.doc_id for d in documents],
        documents=[d.text for d in documents],
        embeddings=bot.embeddings.encode([d.title for d in documents]),
        metadatas=[_document_metadata(d, 0) for d in documents],
    )
    index._point(index.generation, {})
    report, ms = timed(bot.ingest)
    _, ensure_ms = timed(bot.ensure_index)
    assert not report.changed and len(report.unchanged) == len(documents), "the corpus should be unchanged"
    return {
        "documents": len(documents),
        "reingest_unchanged_seconds": round(ms / 1000, 3),
        "ensure_index_unchanged_seconds": round(ensure_ms / 1000, 3),
    }


def sample(corpus: Path, words: int, into: Path, seed: int = 0) -> dict[str, Any]:
    """Copy a seeded random sample of whole documents, at least ``words`` words, into ``into``.

    Documents longer than a quarter of the sample are passed over, so that it holds several.
    """
    files = sorted(corpus.rglob("*.txt")) + sorted(corpus.rglob("*.md"))
    random.Random(seed).shuffle(files)
    into.mkdir(parents=True)
    taken, total = [], 0
    for path in files:
        size = len(path.read_text(encoding="utf-8").split())
        if size > words / 4:
            continue
        shutil.copy(path, into / path.name)
        taken.append(path.name)
        total += size
        if total >= words:
            break
    return {"seed": seed, "documents": taken, "words": total, "longest_document_words": words // 4}


def run(corpus: Path | None, sample_words: int, engines: list[str]) -> dict[str, Any]:
    if corpus is None:
        corpus, source = python_docs_corpus()
    else:
        texts = [
            p.read_text(encoding="utf-8") for p in sorted(corpus.rglob("*")) if p.suffix in (".txt", ".md")
        ]
        source = {"name": str(corpus), "files": len(texts), "words": sum(len(t.split()) for t in texts)}
    with tempfile.TemporaryDirectory() as tmp:
        picked = sample(corpus, sample_words, Path(tmp) / "sample")
        runs = [in_fresh_process(ours, str(Path(tmp) / "sample"), tmp, engine) for engine in engines]
        base = in_fresh_process(baseline, str(Path(tmp) / "sample"), tmp, BASELINE_ENGINE)
        full = in_fresh_process(reingest_full, str(corpus), tmp)
    scale = source["words"] / picked["words"]
    for r in [*runs, base]:
        r["docs_per_s"] = round(r["documents"] / r["seconds"], 2)
        r["chunks_per_s"] = round(r["chunks"] / r["seconds"], 2)
        r["full_corpus_seconds_extrapolated"] = round(r["seconds"] * scale, 1)
    same = next((r for r in runs if r["pipeline"].endswith(BASELINE_ENGINE)), runs[0])
    default = runs[0]
    ratios = {r["pipeline"]: round(r["chunks_per_s"] / base["chunks_per_s"], 3) for r in runs}
    return {
        "corpus": source,
        "sample": picked,
        "extrapolation": f"full corpus = sample time x {scale:.1f} (words): an estimate, not a measurement",
        "runs": [*runs, base],
        "throughput_ratio_vs_baseline": ratios,
        "full_corpus_reingest": full,
        "targets": [
            target(f"throughput / baseline ({same['pipeline']})", ratios[same["pipeline"]], 1.5, below=False),
            target(
                f"throughput / baseline ({default['pipeline']})",
                ratios[default["pipeline"]],
                1.5,
                below=False,
            ),
            target("re-ingest unchanged full corpus (s)", full["reingest_unchanged_seconds"], 1.0, " s"),
        ],
    }


COLUMNS = {
    "pipeline": "pipeline",
    "documents": "docs",
    "chunks": "chunks",
    "sentences": "sentences",
    "chunking_seconds": "chunking s",
    "seconds": "s",
    "docs_per_s": "docs/s",
    "chunks_per_s": "chunks/s",
    "peak_rss_mb": "peak RSS MB",
    "full_corpus_seconds_extrapolated": "full corpus s (extrapolated)",
}


def report(result: dict[str, Any]) -> None:
    source, picked = result["corpus"], result["sample"]
    print(f"corpus: {source['name']} {source.get('version', '')}: {source['words']:,} words")
    print(f"sample: {picked['words']:,} words, {len(picked['documents'])} documents (seed {picked['seed']})")
    rows = [[r.get(key) for key in COLUMNS] for r in result["runs"]]
    table("Ingestion of the sample", list(COLUMNS.values()), rows)
    full = result["full_corpus_reingest"]
    again, ensure = full["reingest_unchanged_seconds"], full["ensure_index_unchanged_seconds"]
    print(
        f"\nUnchanged full corpus ({full['documents']} docs): ingest() {again} s, ensure_index() {ensure} s"
    )
    targets_table(result["targets"])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="a folder of .txt/.md files (default: the Python docs)")
    parser.add_argument(
        "--sample-words", type=int, default=4000, help="words of whole documents to ingest (default 4000)"
    )
    parser.add_argument(
        "--engines", default="numpy,sentence-transformers", help="our engines to time, default first"
    )
    args = parser.parse_args(argv)
    quiet()
    try:
        result = run(args.corpus, args.sample_words, args.engines.split(","))
    except Skip as skip:
        result = {"skipped": str(skip), "targets": []}
        print(f"ingest benchmark skipped: {skip}")
    else:
        report(result)
    write_results("ingest", result)
    return result


if __name__ == "__main__":
    main()
