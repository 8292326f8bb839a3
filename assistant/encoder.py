"""all-MiniLM-L6-v2 in plain NumPy: the same vectors as sentence-transformers, without importing torch.

Importing ``sentence_transformers`` (and with it torch) takes seconds; a question
needs one forward pass of a 6-layer, 384-wide BERT, which NumPy does in
milliseconds. The weights and tokenizer are the packaged model's own files
(``model.safetensors``, ``tokenizer.json``); the forward pass follows Hugging
Face's ``BertModel`` with mean pooling and L2 normalisation, as the model's
sentence-transformers configuration prescribes. ``tests/test_encoder.py`` checks
the vectors against sentence-transformers within 1e-4 cosine distance.

Everything stays float32, as in torch. NumPy 2 promotes a float32 array to float64
when it meets a NumPy float64 *scalar* (``x / np.sqrt(32)``), and every matrix
product after that converts the float32 weights again: that alone made the encoder
several times slower, so constants here are plain Python floats or are folded into
the weights when they are loaded.
"""

from __future__ import annotations

import json
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Encoding, Tokenizer

# A forward pass holds about this many tokens (texts x padded length), so short
# sentences share one and long chunks go alone. Larger passes measured slower, not
# faster: past a few hundred tokens the activations outgrow the CPU's cache and the
# array arithmetic between the matrix products waits on memory (4096: 2.4x slower).
TOKENS_PER_BATCH = 256
MAX_TEXTS_PER_BATCH = 64
# Rows of the (tokens x 1536) GELU input done at a time; see _gelu.
GELU_ROWS = 32

# Abramowitz & Stegun 7.1.26: erf(z) = 1 - t * poly(t) * exp(-z^2), t = 1 / (1 + P z),
# for z >= 0, within 1.5e-7. NumPy has no erf, and scipy.special costs 0.6 s to import.
_ERF_P = 0.3275911
_ERF_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
_SQRT_HALF = math.sqrt(0.5)


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, x * (1 + erf(x / sqrt 2)) / 2, in place and in float32.

    A block of rows at a time: the erf takes a score of array operations, and on
    blocks whose temporaries stay in the CPU's cache they ran 4x faster than on the
    whole (tokens x 1536) array, where the GELU had cost more than the matrix products.
    """
    rows = min(GELU_ROWS, len(x))
    scratch = np.empty((3, rows, x.shape[1]), dtype=np.float32)
    for start in range(0, len(x), rows):
        block = x[start : start + rows]
        _gelu_block(block, *scratch[:, : len(block)])
    return x


def _gelu_block(x: np.ndarray, magnitude: np.ndarray, t: np.ndarray, e: np.ndarray) -> None:
    """GELU of ``x`` in place, using the other three arrays (x's shape) as scratch.

    With e = 1 - erf(|x| / sqrt 2) the GELU is relu(x) - |x| * e / 2 for either sign of
    x, which needs no sign array and no branches.
    """
    np.abs(x, out=magnitude)
    np.multiply(magnitude, _ERF_P * _SQRT_HALF, out=t)
    t += 1.0
    np.reciprocal(t, out=t)
    a1, a2, a3, a4, a5 = _ERF_A
    np.multiply(t, a5, out=e)  # Horner's rule: e = t * poly(t)
    for coefficient in (a4, a3, a2, a1):
        e += coefficient
        e *= t
    np.square(x, out=t)  # t is free again: exp(-x^2 / 2)
    t *= -0.5
    np.exp(t, out=t)
    e *= t
    e *= magnitude
    e *= 0.5
    np.maximum(x, 0.0, out=x)
    x -= e


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    """Layer normalisation over the last axis; returns a new array, ``x`` is left alone."""
    centred: np.ndarray = x - x.mean(axis=-1, keepdims=True)
    variance = np.square(centred).mean(axis=-1, keepdims=True)
    variance += eps
    centred /= np.sqrt(variance)
    centred *= weight
    centred += bias
    return centred


@dataclass(frozen=True)
class _Layer:
    """One transformer layer's weights, laid out for ``x @ W`` on rows of tokens."""

    qkv: np.ndarray  # (width, 3 * width): query (pre-scaled), key and value in one product
    qkv_bias: np.ndarray
    attention_out: np.ndarray
    attention_out_bias: np.ndarray
    attention_norm: tuple[np.ndarray, np.ndarray]
    intermediate: np.ndarray
    intermediate_bias: np.ndarray
    output: np.ndarray
    output_bias: np.ndarray
    output_norm: tuple[np.ndarray, np.ndarray]


class NumpyMiniLM:
    """Encodes texts to unit vectors with a BERT forward pass in NumPy."""

    def __init__(self, path: Path) -> None:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        sbert = json.loads((path / "sentence_bert_config.json").read_text(encoding="utf-8"))
        self.heads = int(config["num_attention_heads"])
        self.width = int(config["hidden_size"])
        self.eps = float(config["layer_norm_eps"])
        self.pad_id = int(config.get("pad_token_id", 0))
        w = {
            k: v.astype(np.float32, copy=False) for k, v in load_file(str(path / "model.safetensors")).items()
        }
        self.word_embeddings = w["embeddings.word_embeddings.weight"]
        self.position_embeddings = w["embeddings.position_embeddings.weight"]
        self.type_embeddings = w["embeddings.token_type_embeddings.weight"]
        self.embedding_norm = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = [
            self._load_layer(w, f"encoder.layer.{i}") for i in range(int(config["num_hidden_layers"]))
        ]
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=int(sbert["max_seq_length"]))
        self.tokenizer.no_padding()  # we pad each batch ourselves, to its own longest text

    def _load_layer(self, w: dict[str, np.ndarray], prefix: str) -> _Layer:
        def dense(name: str) -> tuple[np.ndarray, np.ndarray]:
            # Stored (out, in) as torch keeps them; x @ W wants (in, out), contiguous.
            return np.ascontiguousarray(w[f"{prefix}.{name}.weight"].T), w[f"{prefix}.{name}.bias"]

        def norm(name: str) -> tuple[np.ndarray, np.ndarray]:
            return w[f"{prefix}.{name}.weight"], w[f"{prefix}.{name}.bias"]

        # Attention divides the scores by sqrt(head size); scaling the query's weights
        # and bias by that once here gives the same scores without a pass per question.
        scale = 1.0 / math.sqrt(self.width // self.heads)
        (query, query_bias), (key, key_bias), (value, value_bias) = (
            dense(f"attention.self.{name}") for name in ("query", "key", "value")
        )
        return _Layer(
            np.ascontiguousarray(np.concatenate([query * scale, key, value], axis=1)),
            np.concatenate([query_bias * scale, key_bias, value_bias]),
            *dense("attention.output.dense"),
            norm("attention.output.LayerNorm"),
            *dense("intermediate.dense"),
            *dense("output.dense"),
            norm("output.LayerNorm"),
        )

    def encode(self, texts: list[str], workers: int = 1) -> np.ndarray:
        """Unit-length float32 vectors, one row per text, in the order given.

        With ``workers`` > 1 and more than one batch, batches run on that many threads
        at once: NumPy lets go of the GIL in matrix products and array arithmetic, so
        the threads use as many cores. (:mod:`assistant.embedding` keeps BLAS itself to
        one thread per product, as BLAS's own threads collapse when other processes
        hold the cores; threads over whole batches do not.)
        """
        out = np.zeros((len(texts), self.width), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch(texts)

        def run(batch: list[int]) -> None:
            out[batch] = self._encode_batch([encodings[i] for i in batch])

        batches = _batches([len(e.ids) for e in encodings])
        if workers > 1 and len(batches) > 1:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="minilm") as pool:
                list(pool.map(run, batches))  # list(): re-raises a batch's exception here
        else:
            for batch in batches:
                run(batch)
        return out

    def _encode_batch(self, encodings: list[Encoding]) -> np.ndarray:
        """One forward pass over tokenised texts; returns their unit vectors."""
        batch, length = len(encodings), max(len(e.ids) for e in encodings)
        ids = np.full((batch, length), self.pad_id, dtype=np.int64)
        types = np.zeros((batch, length), dtype=np.int64)
        keep = np.zeros((batch, length), dtype=np.float32)  # 1 for real tokens, 0 for padding
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            types[row, : len(encoding.ids)] = encoding.type_ids
            keep[row, : len(encoding.ids)] = 1.0
        x = self.word_embeddings[ids] + self.position_embeddings[:length] + self.type_embeddings[types]
        # Tokens as rows, (batch * length, width), so every dense layer is one matrix product.
        x = _layer_norm(x.reshape(batch * length, self.width), *self.embedding_norm, self.eps)
        padded = not keep.all()
        # Padding keys get the lowest float32 score, hence no weight after the softmax.
        mask = ((1.0 - keep) * np.finfo(np.float32).min)[:, None, None, :] if padded else None
        for layer in self.layers:
            x = self._layer(x, layer, batch, length, mask)
        tokens = x.reshape(batch, length, self.width)
        if padded:
            pooled = (tokens * keep[:, :, None]).sum(axis=1) / keep.sum(axis=1, keepdims=True)
        else:
            pooled = tokens.mean(axis=1)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        normalised: np.ndarray = pooled / np.maximum(norms, 1e-12)
        return normalised

    def _layer(
        self, x: np.ndarray, layer: _Layer, batch: int, length: int, mask: np.ndarray | None
    ) -> np.ndarray:
        heads, size = self.heads, self.width // self.heads
        qkv = x @ layer.qkv
        qkv += layer.qkv_bias
        # (tokens, 3 * width) -> (3, batch, heads, length, size): views, no copy.
        query, key, value = qkv.reshape(batch, length, 3, heads, size).transpose(2, 0, 3, 1, 4)
        scores = query @ key.transpose(0, 1, 3, 2)  # already divided by sqrt(size): see _load_layer
        if mask is not None:
            scores += mask
        scores -= scores.max(axis=-1, keepdims=True)  # softmax, in place
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ value).transpose(0, 2, 1, 3).reshape(batch * length, self.width)
        attended = context @ layer.attention_out
        attended += layer.attention_out_bias
        attended += x
        x = _layer_norm(attended, *layer.attention_norm, self.eps)
        hidden = x @ layer.intermediate
        hidden += layer.intermediate_bias
        output = _gelu(hidden) @ layer.output
        output += layer.output_bias
        output += x
        return _layer_norm(output, *layer.output_norm, self.eps)


def _batches(lengths: list[int]) -> list[list[int]]:
    """Positions grouped into batches of similar token length, so that little of a batch is padding.

    Each batch holds at most ``TOKENS_PER_BATCH`` tokens once padded to its longest text.
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    start = 0
    while start < len(order):
        stop = start + 1
        # In length order, the text at ``stop`` would be the longest of the batch.
        while (
            stop < len(order)
            and stop - start < MAX_TEXTS_PER_BATCH
            and (stop - start + 1) * lengths[order[stop]] <= TOKENS_PER_BATCH
        ):
            stop += 1
        batches.append(order[start:stop])
        start = stop
    return batches
