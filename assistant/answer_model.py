"""Small logistic models over :mod:`assistant.signals`, fitted on several texts.

``sentence``: the probability that a candidate sentence states the answer (pooled over
every candidate), read by ``answerable``: the probability that the text answers the
question at all; below ``threshold`` the answerer refuses. ``ranking``: which of one
question's candidates to quote (fitted question by question). The shipped fit
(``answer_model.json``) is made by ``python -m bench.generalization --write`` from every
development text; the same command scores each text with a fit that never saw it
(leave one text out).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ConfigError
from .signals import QUESTION_FEATURES, SENTENCE_FEATURES

MODEL_FILE = Path(__file__).resolve().parent / "answer_model.json"
L2 = 1.0  # ridge penalty on standardised features: a few hundred examples, a dozen features


@dataclass(frozen=True)
class Logistic:
    """A logistic regression on standardised features, readable in its JSON file."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float

    def probability(self, rows: np.ndarray) -> np.ndarray:
        if rows.shape[0] == 0:
            return np.zeros(0)
        z = ((rows - np.asarray(self.mean)) / np.asarray(self.scale)) @ np.asarray(self.weights) + self.bias
        result: np.ndarray = 1.0 / (1.0 + np.exp(-z))
        return result

    @classmethod
    def fit(cls, features: tuple[str, ...], rows: np.ndarray, labels: np.ndarray, l2: float = L2) -> Logistic:
        """Newton's method on the class-balanced, L2-penalised log loss."""
        mean = rows.mean(axis=0)
        scale = rows.std(axis=0)
        scale[scale < 1e-6] = 1.0
        x = np.hstack([(rows - mean) / scale, np.ones((len(rows), 1))])
        positives = max(labels.sum(), 1.0)
        negatives = max(len(labels) - labels.sum(), 1.0)
        sample = np.where(labels > 0, len(labels) / (2 * positives), len(labels) / (2 * negatives))
        penalty = np.full(x.shape[1], l2)
        penalty[-1] = 0.0  # the bias is not shrunk
        beta = np.zeros(x.shape[1])
        for _ in range(50):
            p = 1.0 / (1.0 + np.exp(-(x @ beta)))
            gradient = x.T @ (sample * (p - labels)) + penalty * beta
            hessian = (x * (sample * p * (1 - p))[:, None]).T @ x + np.diag(penalty + 1e-9)
            step = np.linalg.solve(hessian, gradient)
            beta -= step
            if np.abs(step).max() < 1e-8:
                break
        return cls(
            features,
            tuple(float(m) for m in mean),
            tuple(float(s) for s in scale),
            tuple(float(b) for b in beta[:-1]),
            float(beta[-1]),
        )


@dataclass(frozen=True)
class AnswerModel:
    """The fitted sentence and answerability models, and where to cut."""

    sentence: Logistic  # pooled: how likely a sentence states the answer, for answerability
    answerable: Logistic
    threshold: float  # refuse below this answerability
    trained_on: tuple[str, ...] = ()  # the question sets it was fitted on
    ranking: Logistic | None = None  # per question: which candidates to quote

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> AnswerModel:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            model = cls(
                sentence=Logistic(**_tuples(data["sentence"])),
                answerable=Logistic(**_tuples(data["answerable"])),
                threshold=float(data["threshold"]),
                trained_on=tuple(data.get("trained_on", ())),
                ranking=Logistic(**_tuples(data["ranking"])) if data.get("ranking") else None,
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"Cannot read the answer model {path}: {exc}") from None
        ranked = model.ranking.features if model.ranking else SENTENCE_FEATURES
        if (
            model.sentence.features != SENTENCE_FEATURES
            or ranked != SENTENCE_FEATURES
            or model.answerable.features != QUESTION_FEATURES
        ):
            raise ConfigError(
                f"The answer model {path} was fitted on other features; "
                "refit it with `python -m bench.generalization --write`."
            )
        return model

    def save(self, path: Path = MODEL_FILE) -> None:
        path.write_text(json.dumps(asdict(self), indent=1) + "\n", encoding="utf-8")


def _tuples(data: dict[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
