"""The NumPy encoder gives sentence-transformers' vectors without importing torch."""

import math
import multiprocessing
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from assistant.embedding import MiniLMEmbeddings, _Batcher, model_path
from assistant.encoder import GELU_ROWS, TOKENS_PER_BATCH, NumpyMiniLM, _batches, _gelu

TEXTS = [
    "What is defensive deterrence?",
    "U.S. President Joe Biden talks about a values-based approach to foreign policy.",
    "x",
    "",
    "A long sentence about NATO’s Strategic Concept and human security. " * 40,  # past the 256-token limit
    "Émigrés, naïve café — “quotes” and emoji 🤔",
    "What is defensive deterrence?",  # a repeat: embedded once, returned twice
]
# Texts of many lengths, so that batches hold several texts padded to the longest.
MIXED = [" ".join(["deterrence"] * n) + " and alliances." for n in (1, 2, 3, 5, 8, 13, 21, 34, 55, 89)]


@pytest.fixture(scope="module")
def reference() -> MiniLMEmbeddings:
    return MiniLMEmbeddings(engine="sentence-transformers")


def test_numpy_engine_matches_sentence_transformers(reference: MiniLMEmbeddings) -> None:
    texts = TEXTS + MIXED
    ours = MiniLMEmbeddings(engine="numpy").encode(texts)
    expected = reference.encode(texts)
    assert ours.dtype == np.float32
    assert ours.shape == expected.shape == (len(texts), 384)
    cosine_distance = 1.0 - (ours * expected).sum(axis=1)
    assert float(cosine_distance.max()) < 1e-4
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(ours[0], ours[6])  # the repeated text, in its own place


def test_threads_and_batching_do_not_change_the_vectors() -> None:
    model = NumpyMiniLM(model_path())
    texts = TEXTS + MIXED
    one_by_one = np.stack([model.encode([text])[0] for text in texts])
    assert np.allclose(model.encode(texts, workers=1), one_by_one, atol=1e-5)
    assert np.allclose(model.encode(texts, workers=3), one_by_one, atol=1e-5)


def test_the_forward_pass_stays_float32() -> None:
    # A float64 scalar (np.sqrt(32)) once promoted every activation to float64, and each
    # matrix product after it converted the float32 weights again: several times slower.
    model = NumpyMiniLM(model_path())
    x = np.random.default_rng(0).standard_normal((2 * 7, 384)).astype(np.float32)
    assert model._layer(x, model.layers[0], 2, 7, None).dtype == np.float32


def test_gelu_is_the_exact_erf_gelu() -> None:
    # More rows than one block, and values far into both tails.
    x = np.linspace(-12.0, 12.0, 3 * GELU_ROWS * 50, dtype=np.float32).reshape(3 * GELU_ROWS, 50)
    expected = np.vectorize(lambda v: 0.5 * v * (1.0 + math.erf(v / math.sqrt(2.0))))(x.astype(np.float64))
    got = _gelu(x.copy())
    assert got.dtype == np.float32
    assert float(np.abs(got - expected).max()) < 1e-5


def test_batches_cover_every_text_once_within_the_token_budget() -> None:
    lengths = [3, 256, 40, 40, 2, 120, 7, 256, 64, 64, 64, 5]
    batches = _batches(lengths)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) == 1 or len(batch) * max(lengths[i] for i in batch) <= TOKENS_PER_BATCH


def test_the_default_engine_does_not_import_torch() -> None:
    code = (
        "import sys; from assistant.embedding import MiniLMEmbeddings; "
        "MiniLMEmbeddings().encode(['hello']); print('torch' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "False"


def test_concurrent_queries_are_embedded_together_and_each_gets_its_own_vector() -> None:
    embeddings = MiniLMEmbeddings()
    texts = TEXTS + MIXED
    expected = embeddings.encode(texts)
    calls: list[int] = []

    def encode(batch: list[str]) -> np.ndarray:
        calls.append(len(batch))
        return embeddings.encode(batch)

    batcher = _Batcher(encode)  # its own, so no other test's queries join these batches
    start = threading.Barrier(len(texts))

    def ask(text: str) -> np.ndarray:
        start.wait()
        return batcher.embed(text)

    with ThreadPoolExecutor(max_workers=len(texts)) as pool:
        vectors = np.stack(list(pool.map(ask, texts)))
    assert np.allclose(vectors, expected, atol=1e-5)
    assert sum(calls) == len(texts) and max(calls) > 1, calls


@pytest.mark.parametrize("error", [RuntimeError("out of memory"), SystemExit(3)])
def test_an_error_reaches_the_waiting_query_and_the_next_query_works(error: BaseException) -> None:
    failures = [error]

    def encode(batch: list[str]) -> np.ndarray:
        if failures:
            raise failures.pop()
        return MiniLMEmbeddings().encode(batch)

    batcher = _Batcher(encode)
    with pytest.raises(type(error)):
        batcher.embed("What is defensive deterrence?")
    assert batcher.embed("What is defensive deterrence?").shape == (384,)


def _embed_in_child(text: str) -> tuple[int, ...]:
    return tuple(MiniLMEmbeddings().encode_query(text).shape)


def test_a_forked_worker_embeds_queries_with_its_own_thread() -> None:
    MiniLMEmbeddings().encode_query("warm: the parent's batcher thread now runs")
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply_async(_embed_in_child, ("What is defensive deterrence?",)).get(timeout=120) == (
            384,
        )
