"""The NumPy encoder gives sentence-transformers' vectors without importing torch."""

import subprocess
import sys

import numpy as np

from assistant.embedding import MiniLMEmbeddings

TEXTS = [
    "What is defensive deterrence?",
    "U.S. President Joe Biden talks about a values-based approach to foreign policy.",
    "x",
    "",
    "A long sentence about NATO’s Strategic Concept and human security. " * 40,  # past the 256-token limit
    "Émigrés, naïve café — “quotes” and emoji 🤔",
]


def test_numpy_engine_matches_sentence_transformers() -> None:
    ours = MiniLMEmbeddings(engine="numpy").encode(TEXTS)
    reference = MiniLMEmbeddings(engine="sentence-transformers").encode(TEXTS)
    assert ours.shape == reference.shape == (len(TEXTS), 384)
    cosine_distance = 1.0 - (ours * reference).sum(axis=1)
    assert float(cosine_distance.max()) < 1e-4
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_the_default_engine_does_not_import_torch() -> None:
    code = (
        "import sys; from assistant.embedding import MiniLMEmbeddings; "
        "MiniLMEmbeddings().encode(['hello']); print('torch' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "False"
