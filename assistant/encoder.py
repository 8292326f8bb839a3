"""all-MiniLM-L6-v2 in plain NumPy: the same vectors as sentence-transformers, without importing torch.

Importing ``sentence_transformers`` (and with it torch) takes seconds; a question
needs one forward pass of a 6-layer, 384-wide BERT, which NumPy does in
milliseconds. The weights and tokenizer are the packaged model's own files
(``model.safetensors``, ``tokenizer.json``); the forward pass follows Hugging
Face's ``BertModel`` with mean pooling and L2 normalisation, as the model's
sentence-transformers configuration prescribes. ``tests/test_encoder.py`` checks
the vectors against sentence-transformers within 1e-4 cosine distance.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer


def _erf(x: np.ndarray) -> np.ndarray:
    """Abramowitz & Stegun 7.1.26 (max error 1.5e-7): NumPy has no erf and BERT's GELU needs one."""
    sign = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    result: np.ndarray = sign * (1.0 - poly * np.exp(-x * x))
    return result


def _gelu(x: np.ndarray) -> np.ndarray:
    result: np.ndarray = 0.5 * x * (1.0 + _erf(x / np.sqrt(2.0)))
    return result


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    result: np.ndarray = (x - mean) / np.sqrt(variance + eps) * weight + bias
    return result


class NumpyMiniLM:
    """Encodes texts to unit vectors with a BERT forward pass in NumPy."""

    def __init__(self, path: Path) -> None:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        sbert = json.loads((path / "sentence_bert_config.json").read_text(encoding="utf-8"))
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config["layer_norm_eps"])
        weights = load_file(str(path / "model.safetensors"))
        # Dense weights are stored (out, in); keep them transposed and contiguous for x @ W.
        self.w = {
            k: np.ascontiguousarray(
                v.T if k.endswith(".weight") and v.ndim == 2 and "embeddings" not in k else v
            )
            for k, v in weights.items()
        }
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=int(sbert["max_seq_length"]))
        self.tokenizer.enable_padding(pad_id=int(config.get("pad_token_id", 0)))

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        weight = self.w[f"{name}.weight"]
        flat = x.reshape(-1, x.shape[-1]) @ weight + self.w[f"{name}.bias"]
        result: np.ndarray = flat.reshape(*x.shape[:-1], weight.shape[1])
        return result

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        return _layer_norm(x, self.w[f"{name}.weight"], self.w[f"{name}.bias"], self.eps)

    def _layer(self, x: np.ndarray, mask: np.ndarray, i: int) -> np.ndarray:
        prefix = f"encoder.layer.{i}"
        batch, length, width = x.shape
        size = width // self.heads

        def split(t: np.ndarray) -> np.ndarray:
            return t.reshape(batch, length, self.heads, size).transpose(0, 2, 1, 3)

        q = split(self._dense(x, f"{prefix}.attention.self.query"))
        k = split(self._dense(x, f"{prefix}.attention.self.key"))
        v = split(self._dense(x, f"{prefix}.attention.self.value"))
        scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(size) + mask
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        attention = scores / scores.sum(axis=-1, keepdims=True)
        context = (attention @ v).transpose(0, 2, 1, 3).reshape(batch, length, width)
        x = self._norm(
            x + self._dense(context, f"{prefix}.attention.output.dense"),
            f"{prefix}.attention.output.LayerNorm",
        )
        hidden = _gelu(self._dense(x, f"{prefix}.intermediate.dense"))
        return self._norm(x + self._dense(hidden, f"{prefix}.output.dense"), f"{prefix}.output.LayerNorm")

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length float32 vectors, one row per text; batched by similar length."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.w["embeddings.word_embeddings.weight"].shape[1]), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            out[chunk] = self._encode_batch([texts[i] for i in chunk])
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        types = np.array([e.type_ids for e in encodings], dtype=np.int64)
        keep = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        positions = np.arange(ids.shape[1])
        x = (
            self.w["embeddings.word_embeddings.weight"][ids]
            + self.w["embeddings.position_embeddings.weight"][positions][None, :, :]
            + self.w["embeddings.token_type_embeddings.weight"][types]
        )
        x = self._norm(x, "embeddings.LayerNorm")
        mask = ((1.0 - keep) * np.finfo(np.float32).min)[:, None, None, :]
        for i in range(self.layers):
            x = self._layer(x, mask, i)
        pooled = (x * keep[:, :, None]).sum(axis=1) / np.clip(keep.sum(axis=1, keepdims=True), 1e-9, None)
        normalised: np.ndarray = pooled / np.linalg.norm(pooled, axis=1, keepdims=True).clip(1e-12)
        return normalised.astype(np.float32)
