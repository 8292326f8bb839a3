"""Retrieval latency against corpus size: 1k, 10k and 100k chunks (1M with ``--large``).

Chunks are real text (paragraphs of the Python documentation, chunked as the
assistant chunks; repeated with new ids past the corpus's size, or the essay's if
the docs cannot be fetched), with synthetic embeddings shaped like real ones (see
``EmbeddingModel``), so no hour of embedding is needed. Stores are written in the
assistant's own layout (``<name>-chunks`` with documents and metadata, ``<name>-sentences`` with vectors and
metadata; sentence texts are left out, as retrieval never reads them) and cached in
``bench/results/cache/scale/`` for the next run (``--fresh`` rebuilds them).

At each size, for the embedded store and for a real ``chroma run`` server on
127.0.0.1 serving the same folder, it measures:
- the index's own part: ``Index.query_chunks`` (a Chroma query for 20 neighbours);
- ``Retriever(...)`` construction: the first worker reads every chunk and builds the
  corpus table and BM25 over chunks and sentences, saving them beside the index; its time
  and the memory it adds (RSS). Then, in a fresh process, a later worker, which maps the
  saved files and reads no chunk: its time, RSS, and the memory it holds of its own;
- ``Retriever.retrieve`` and ``Assistant.ask`` on the development questions (the
  question is embedded for real; dense hits are unrelated to it, the work is the same).

    python -m bench.scale [--large] [--sizes 1000,10000] [--no-server] [--fresh]
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import (
    CACHE,
    ESSAY_CORPUS,
    HOST,
    RESULTS,
    Skip,
    chroma_server,
    in_fresh_process,
    peak_rss_mb,
    percentiles,
    python_docs_corpus,
    questions,
    quiet,
    rss_mb,
    table,
    target,
    targets_table,
    timed,
    write_results,
)

SIZES = [1_000, 10_000, 100_000]
LARGE = 1_000_000
COLLECTION = "scale"
STORE = CACHE / "scale"
SEED = 7
QUERY_POOL = 20  # what Retriever.retrieve asks the index for: max(3 * top_k, 20)
# Bump when the stored layout changes, so cached stores are rebuilt (3: realistic vectors);
# a new index schema (whose fingerprint the stores' pointer carries) rebuilds them too.
LAYOUT = 3
ANCHORS = 2_000  # real chunks embedded to shape the synthetic vectors
# Noise around an anchor, in units of the real embeddings' own spread: at 0.55 drawn
# vectors' nearest-neighbour cosine matches real embeddings' (median 0.564 against 0.563).
SPREAD = 0.55


def real_chunks() -> tuple[list[Any], str]:
    """Chunks of real text: each paragraph of the Python docs chunked as its own document."""
    from assistant.chunking import chunk_document, paragraph_spans
    from assistant.corpus import load_corpus
    from assistant.models import Document

    try:
        folder, info = python_docs_corpus()
        source = f"{info['name']} {info['version']}"
    except Skip:
        folder, source = ESSAY_CORPUS, "the essay (the Python docs could not be fetched)"
    chunks = []
    for doc in load_corpus(folder):
        # Paragraph by paragraph: the sentence splitter's cost grows with the document's length.
        for number, (start, end) in enumerate(paragraph_spans(doc.text)):
            part = Document(f"{doc.doc_id}-{number}", doc.path, doc.text[start:end], "", doc.title)
            chunks.extend(chunk_document(part))
    return chunks, source


def numbered(chunks: list[Any], start: int, stop: int) -> Iterator[Any]:
    """Chunks ``start``..``stop`` of the endless sequence that repeats ``chunks`` under new ids."""
    for i in range(start, stop):
        chunk, copy = chunks[i % len(chunks)], i // len(chunks)
        if copy:
            doc_id = f"{chunk.doc_id}~{copy}"
            sentences = tuple(dataclasses.replace(s, doc_id=doc_id) for s in chunk.sentences)
            chunk = dataclasses.replace(
                chunk, chunk_id=f"{chunk.chunk_id}~{copy}", doc_id=doc_id, sentences=sentences
            )
        yield chunk


@dataclasses.dataclass(frozen=True)
class EmbeddingModel:
    """Draws vectors with the statistics of real MiniLM embeddings of the corpus's text.

    Each vector is the real embedding of one of ``ANCHORS`` sampled chunks plus Gaussian
    noise with those embeddings' own covariance, scaled by ``SPREAD``. Uniform random unit
    vectors, used before, are HNSW's worst case: nothing is near anything, so each insert
    searches far (1.6x slower to build at 30k) and a query finds 28% of its true 20
    nearest, where vectors drawn like these give 99%.
    """

    anchors: np.ndarray  # (ANCHORS, 384) real embeddings
    spread: np.ndarray  # (384, 384) Cholesky factor of their covariance, times SPREAD

    @classmethod
    def fitted(cls, chunks: Callable[[], list[Any]]) -> EmbeddingModel:
        """Embeds a seeded sample of ``chunks()`` (about 20 s) once; cached beside the stores."""
        from assistant.embedding import MiniLMEmbeddings

        cached = STORE / f"anchors-{ANCHORS}.npy"
        if cached.exists():
            anchors = np.load(cached)
        else:
            texts = [c.text for c in chunks()]
            picked = np.random.default_rng(SEED).choice(len(texts), min(ANCHORS, len(texts)), replace=False)
            anchors = MiniLMEmbeddings().encode([texts[i] for i in picked]).astype(np.float64)
            STORE.mkdir(parents=True, exist_ok=True)
            np.save(cached, anchors)
        covariance = np.cov(anchors, rowvar=False) + 1e-6 * np.eye(anchors.shape[1])
        return cls(anchors, SPREAD * np.linalg.cholesky(covariance))

    def vectors(self, count: int, seed: Any) -> np.ndarray:
        rng = np.random.default_rng(seed)
        picked = self.anchors[rng.integers(0, len(self.anchors), count)]
        drawn = picked + rng.standard_normal((count, self.anchors.shape[1])) @ self.spread.T
        normalised: np.ndarray = (drawn / np.linalg.norm(drawn, axis=1, keepdims=True)).astype(np.float32)
        return normalised

    def neighbour_similarity(self) -> tuple[float, float]:
        """Median nearest-neighbour cosine between two halves: of real embeddings, of drawn ones."""
        real = self.anchors / np.linalg.norm(self.anchors, axis=1, keepdims=True)
        half = len(real) // 2
        drawn = self.vectors(2 * half, [SEED, 1])

        def median(vectors: np.ndarray) -> float:
            return round(float(np.median((vectors[:half] @ vectors[half : 2 * half].T).max(axis=1))), 3)

        return median(real), median(drawn)


def open_index(folder: Path, port: int | None = None) -> Any:
    from assistant.config import Settings
    from assistant.embedding import MiniLMEmbeddings
    from assistant.index import Index

    server = {"chroma_host": HOST, "chroma_port": port} if port else {}
    settings = Settings.load(index_dir=folder, collection=COLLECTION, corpus_dir=ESSAY_CORPUS, **server)
    return Index(settings, MiniLMEmbeddings())


def grow(index: Any, chunks: list[Any], model: EmbeddingModel, start: int, stop: int) -> int:
    """Add chunks ``start``..``stop`` (and their sentences) with drawn vectors; returns sentences added.

    Adding is the cost of a first run: Chroma inserts each vector into its HNSW graph,
    about 1 ms of CPU each at these sizes whatever the batch. Batches are as large as
    Chroma takes, and sentences are stored without their texts. (Raising the graph's own
    ``batch_size``/``sync_threshold`` while building measured slower: 87 s against 74 s
    for 60,000 vectors, as its insert threads then share less of the work.)
    """
    from assistant.index import _chunk_metadata, sentence_id

    limit = index.client.get_max_batch_size()
    added = 0
    for begin in range(start, stop, limit):
        part = list(numbered(chunks, begin, min(begin + limit, stop)))
        index.chunk_store.add(
            ids=[c.chunk_id for c in part],
            documents=[c.text for c in part],
            embeddings=model.vectors(len(part), [SEED, begin]),
            metadatas=[_chunk_metadata(c) for c in part],
        )
        sentences = [(c, s) for c in part for s in c.sentences]
        for first in range(0, len(sentences), limit):
            some = sentences[first : first + limit]
            index.sentence_store.add(
                ids=[sentence_id(c.chunk_id, s) for c, s in some],
                embeddings=model.vectors(len(some), [SEED, begin, 1, first]),
                metadatas=[{"chunk_id": c.chunk_id, "doc_id": s.doc_id} for c, s in some],
            )
        added += len(sentences)
    # Readers find the live generation through the index's pointer; the first build writes it.
    index._point(index.generation, index._pointer() or {})
    return added


def build(sizes: list[int], fresh: bool) -> tuple[dict[int, dict[str, Any]], EmbeddingModel]:
    """The store for each size, each in its own folder, grown from the previous size's copy."""
    from assistant.index import SCHEMA_VERSION

    loaded: list[tuple[list[Any], str]] = []

    def corpus() -> tuple[list[Any], str]:
        if not loaded:
            got, ms = timed(real_chunks)
            print(f"{len(got[0]):,} real chunks from {got[1]} in {ms / 1000:.1f} s")
            loaded.append(got)
        return loaded[0]

    model = EmbeddingModel.fitted(lambda: corpus()[0])
    real, drawn = model.neighbour_similarity()
    print(f"nearest-neighbour cosine, median: real embeddings {real}, drawn vectors {drawn}")
    built: dict[int, dict[str, Any]] = {}
    previous: tuple[int, Path, dict[str, Any]] | None = None
    for size in sizes:
        folder, stamp = STORE / f"n{size}", STORE / f"n{size}.json"
        if not fresh and stamp.exists():
            info = json.loads(stamp.read_text())
            if (info.get("layout"), info.get("schema")) == (LAYOUT, SCHEMA_VERSION):
                built[size] = info
                previous = (size, folder, info)
                continue
        chunks, source = corpus()
        shutil.rmtree(folder, ignore_errors=True)
        stamp.unlink(missing_ok=True)
        start, sentences = 0, 0
        if previous is not None:
            shutil.copytree(previous[1], folder)
            start, sentences = previous[0], previous[2]["sentences"]
        began = time.perf_counter()
        index = open_index(folder)
        new = grow(index, chunks, model, start, size)
        index.release()
        seconds = time.perf_counter() - began
        sentences += new
        info = {"layout": LAYOUT, "schema": SCHEMA_VERSION, "chunks": size, "sentences": sentences}
        info["source"] = source
        info |= {"build_seconds": round(seconds, 1), "add_per_s": round((size - start + new) / seconds)}
        info |= {"neighbour_cosine_real": real, "neighbour_cosine_drawn": drawn}
        stamp.write_text(json.dumps(info))
        print(f"built the {size:,}-chunk store in {seconds:.0f} s ({info['add_per_s']:,} vectors/s)")
        built[size] = info
        previous = (size, folder, info)
    return built, model


def paged_chunks(index: Any, page: int = 10_000) -> list[Any]:
    """``Index.chunks`` read a page at a time, for an ``Index.chunks`` that reads them all at once.

    One unpaged ``get()`` fails past ~100k chunks ("too many SQL variables"); index.py
    now pages its reads, so this is only the fallback that keeps older versions measurable.
    """
    from assistant.index import _chunk_from_row

    chunks, offset = [], 0
    while True:
        got = index.chunk_store.get(include=["documents", "metadatas"], limit=page, offset=offset)
        if not got["ids"]:
            break
        rows = zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        chunks += [_chunk_from_row(chunk_id, text, dict(meta)) for chunk_id, text, meta in rows]
        offset += page
    return sorted(chunks, key=lambda c: (c.doc_id, c.start))


def build_retriever(index: Any) -> tuple[Any, str | None]:
    """A Retriever; if ``Index.chunks()`` fails, its error and one built from paged reads."""
    from assistant.errors import IndexStoreError
    from assistant.retrieval import Retriever

    try:
        return Retriever(index, index.embeddings, 6), None
    except IndexStoreError as exc:
        index.chunks = lambda: paged_chunks(index)
        return Retriever(index, index.embeddings, 6), str(exc)


def measure(folder: str, port: int | None, probes: np.ndarray) -> dict[str, Any]:
    """Everything at one size and store, in a fresh process so that memory figures are its own.

    ``probes``: query vectors for the index alone (the first 5 warm it up).
    """
    quiet()
    from assistant import Assistant

    index, asked = open_index(Path(folder), port), questions()
    query = [timed(lambda v=v: index.query_chunks(v, QUERY_POOL))[1] for v in probes]
    gc.collect()
    before = rss_mb()
    # The first worker reads every chunk, builds the tables and BM25 and saves them beside the index.
    shutil.rmtree(Path(folder) / "tables", ignore_errors=True)
    (retriever, failed), init_ms = timed(lambda: build_retriever(index))
    grown = rss_mb() - before
    retriever.retrieve("warm up the model")
    retrieve = [timed(lambda q=q: retriever.retrieve(q))[1] for q, _ in asked]
    bot = Assistant(index.settings)
    bot.__dict__["retriever"] = retriever  # the retriever just built; skip the manifest check
    ask = [timed(lambda q=q, h=h: bot.ask(q, h))[1] for q, h in asked]
    return {
        "index_chunks_error": failed,
        "query_ms": percentiles(query[5:]),
        "retriever_init_s": round(init_ms / 1000, 2),
        "retriever_rss_mb": round(grown, 1),
        "process_peak_rss_mb": peak_rss_mb(),
        "retrieve_ms": percentiles(retrieve),
        "ask_ms": percentiles(ask),
    }


def later_worker(folder: str, port: int | None) -> dict[str, Any]:
    """A later worker's start in a fresh process: it maps the tables the first one saved.

    Its own memory is what it holds apart from mapped files (``RssAnon``); the mapped
    pages are shared with every other worker through the page cache.
    """
    quiet()
    index = open_index(Path(folder), port)
    index.version()  # connect first: the client's start is not the retriever's
    gc.collect()
    before, own = rss_mb(), rss_mb(field="RssAnon")
    _, ms = timed(lambda: build_retriever(index))
    return {
        "retriever_later_s": round(ms / 1000, 2),
        "later_rss_mb": round(rss_mb() - before, 1),
        "later_own_mb": round(rss_mb(field="RssAnon") - own, 1),
    }


def measured(folder: Path, port: int | None, probes: np.ndarray) -> dict[str, Any]:
    """``measure`` then ``later_worker``, each in its own fresh process."""
    first = in_fresh_process(measure, str(folder), port, probes)
    return first | in_fresh_process(later_worker, str(folder), port)


def run(sizes: list[int], server: bool, fresh: bool) -> dict[str, Any]:
    os.environ.pop("CHROMA_HOST", None)
    built, model = build(sizes, fresh)
    probes = model.vectors(105, [SEED, 10**9])
    rows: list[dict[str, Any]] = []
    for size in sizes:
        folder = STORE / f"n{size}"
        counts = {"chunks": size, "sentences": built[size]["sentences"]}
        began = time.perf_counter()
        rows.append({"store": "embedded", **counts, **measured(folder, None, probes)})
        print(f"measured {size:,} chunks, embedded, in {time.perf_counter() - began:.0f} s", flush=True)
        if server:
            began = time.perf_counter()
            with chroma_server(folder / "chroma") as port:
                rows.append({"store": "server", **counts, **measured(folder, port, probes)})
            seconds = time.perf_counter() - began
            print(f"measured {size:,} chunks, chroma run server, in {seconds:.0f} s", flush=True)
    targets = []
    for r in (r for r in rows if r["chunks"] == 100_000):
        label = f"answer p95 at 100k chunks, {r['store']}"
        if r["index_chunks_error"]:
            targets.append(target(f"{label}, as shipped (Index.chunks fails)", None, 100, " ms"))
            label += ", with paged Index.chunks"
        targets.append(target(f"{label} (ms)", r["ask_ms"]["p95"], 100, " ms"))
    return {"sizes": sizes, "stores": built, "rows": rows, "targets": targets}


SERIES = {
    "ask_ms": "Assistant.ask",
    "retrieve_ms": "Retriever.retrieve",
    "query_ms": "Chroma query (index only)",
}
COLOURS = {"ask_ms": "tab:red", "retrieve_ms": "tab:blue", "query_ms": "tab:green"}


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import LogLocator, ScalarFormatter

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    memory = right.twinx()
    for store, style in (("embedded", "o-"), ("server", "s--")):
        rows = [r for r in result["rows"] if r["store"] == store]
        sizes = [r["chunks"] for r in rows]
        for key, label in SERIES.items():
            p50, p95 = [r[key]["p50"] for r in rows], [r[key]["p95"] for r in rows]
            left.plot(sizes, p50, style, color=COLOURS[key], label=f"{label}, {store}")
            left.fill_between(sizes, p50, p95, color=COLOURS[key], alpha=0.08)
        seconds = [r["retriever_init_s"] for r in rows]
        right.plot(sizes, seconds, style, color="tab:purple", label=f"first worker, {store} (s, left)")
        later = [r["retriever_later_s"] for r in rows]
        right.plot(sizes, later, style, color="tab:gray", label=f"later workers, {store} (s, left)")
        # Log axes: a figure under 1 MB is drawn at 1.
        kept = [max(1.0, r["retriever_rss_mb"]) for r in rows]
        memory.plot(sizes, kept, style, color="tab:orange", label=f"first worker's RSS, {store} (MB, right)")
        own = [max(1.0, r["later_own_mb"]) for r in rows]
        memory.plot(sizes, own, style, color="tab:brown", label=f"later worker's own, {store} (MB, right)")
    for axis in (left, right, memory):
        axis.set(xscale="log", yscale="log")
        axis.yaxis.set_major_formatter(ScalarFormatter())
        axis.yaxis.set_minor_locator(LogLocator(subs=()))
    for axis in (left, right):
        axis.set_xlabel("chunks in the collection")
        axis.grid(True, which="both", alpha=0.3)
    left.legend(fontsize=7)
    lines = right.get_legend_handles_labels()[0] + memory.get_legend_handles_labels()[0]
    right.legend(lines, [line.get_label() for line in lines], fontsize=7, loc="upper left")
    left.set(ylabel="ms: line p50, band up to p95", title="Latency against corpus size")
    right.set(
        ylabel="seconds",
        title="Starting a Retriever (the first worker builds the tables, later ones map them)",
    )
    memory.set_ylabel("MB")
    title = "Synthetic embeddings shaped like real ones, real text (Python docs); a shared 2-core machine"
    paged = sorted({f"{r['chunks']:,}" for r in result["rows"] if r["index_chunks_error"]})
    if paged:
        title += f". At {', '.join(paged)} chunks Index.chunks() fails as shipped: measured with paged reads"
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


COLUMNS = {
    "store": "store",
    "chunks": "chunks",
    "sentences": "sentences",
    "query_ms.p50": "query p50",
    "query_ms.p95": "query p95",
    "retriever_init_s": "Retriever() s",
    "retriever_later_s": "later workers s",
    "retriever_rss_mb": "Retriever() RSS MB",
    "later_rss_mb": "later RSS MB",
    "later_own_mb": "later own MB",
    "retrieve_ms.p50": "retrieve p50",
    "retrieve_ms.p95": "retrieve p95",
    "ask_ms.p50": "ask p50",
    "ask_ms.p95": "ask p95",
}


def report(result: dict[str, Any]) -> None:
    def value(row: dict[str, Any], key: str) -> Any:
        name, _, part = key.partition(".")
        return row[name][part] if part else row[name]

    rows = [[value(r, key) for key in COLUMNS] for r in result["rows"]]
    table("Latency (ms) against corpus size; synthetic embeddings, real text", list(COLUMNS.values()), rows)
    for r in result["rows"]:
        if r["index_chunks_error"]:
            print(
                f"* {r['store']}, {r['chunks']:,} chunks: Index.chunks() failed ({r['index_chunks_error']});"
            )
            print("  Retriever, retrieve and ask were measured with a paged Index.chunks (the proposed fix).")
    targets_table(result["targets"])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--large", action="store_true", help="add the 1M-chunk point (about an hour to build, once)"
    )
    parser.add_argument("--sizes", help="comma-separated sizes instead of 1000,10000,100000")
    parser.add_argument("--no-server", action="store_true", help="measure the embedded store only")
    parser.add_argument("--fresh", action="store_true", help="rebuild the cached stores")
    parser.add_argument("--replot", action="store_true", help="only redraw the plot from scale.json")
    args = parser.parse_args(argv)
    quiet()
    name = "scale-custom" if args.sizes else "scale"
    if args.replot:
        result: dict[str, Any] = json.loads((RESULTS / f"{name}.json").read_text())
    else:
        sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else SIZES + ([LARGE] * args.large)
        result = run(sorted(sizes), server=not args.no_server, fresh=args.fresh)
        report(result)
        write_results(name, result)
    plot(result, RESULTS / f"{name}.png")
    print(f"plot: bench/results/{name}.png")
    return result


if __name__ == "__main__":
    main()
