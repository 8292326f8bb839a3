"""Support checkers for grading, and how well each agrees with people on labelled pairs.

A checker scores how well a passage supports a claim (0 to 1) and says from which score
on it counts as support. Two ship:

- :class:`LexicalChecker`: the assistant's own checker (:class:`~assistant.grounding.LexicalSupport`),
  fast and deterministic, at ``Settings.min_support`` (fitted on the essay's development
  set, not on the labelled pairs its agreement is reported on);
- :class:`LLMJudge`: a chat model of any configured back end (``--llm``), asked for one
  word: supported, contradicted or not stated.

:func:`agreement` measures a checker against labelled (claim, passage, label) pairs:
accuracy and Cohen's kappa of "supported or not", by kind of claim (copied or paraphrased)
and by label. The lexical checker's threshold is also fitted the honest way, leaving
out one text at a time: each text's pairs are judged at the threshold that did best
on the other texts' pairs.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast

from .. import metrics
from ..backends import make_chat_model, redact
from ..errors import BackendError
from ..evaluation.dataset import read_jsonl
from ..evaluation.running import progress_bar
from ..grounding import LexicalSupport

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from ..config import Settings

log = logging.getLogger(__name__)

Label = Literal["supported", "contradicted", "not_stated"]
LABELS: tuple[Label, ...] = ("supported", "contradicted", "not_stated")
THRESHOLDS = tuple(step / 20 for step in range(2, 20))  # 0.10 .. 0.95, the lexical checker's grid

JUDGE_INSTRUCTIONS = (
    "You check whether a passage supports a claim. Reply with exactly one word:\n"
    "SUPPORTED if the passage states or plainly implies the claim,\n"
    "CONTRADICTED if the passage says the opposite,\n"
    "NOT_STATED if the passage does not say."
)
JUDGE_MAX_TOKENS = 16
_VERDICT = re.compile(r"\b(supported|contradicted|not[ _]stated)\b", re.IGNORECASE)


class Checker(Protocol):
    """Scores support of ``claim`` by ``premise`` (0-1); ``threshold`` and up counts as supported."""

    name: str
    threshold: float

    def __call__(self, premise: str, claim: str) -> float: ...


class LexicalChecker:
    """The assistant's content-word checker at a threshold."""

    def __init__(self, threshold: float) -> None:
        self._support = LexicalSupport()
        self.name = "lexical"
        self.threshold = threshold

    def __call__(self, premise: str, claim: str) -> float:
        return self._support(premise, claim)


class LLMJudge:
    """A chat model asked whether the passage supports the claim; answers are cached."""

    threshold = 0.5

    def __init__(self, model: BaseChatModel, label: str, settings: Settings | None = None) -> None:
        self.model = model
        self.name = f"llm-judge:{label}"
        self._settings = settings  # to keep the API key out of error messages
        self._cache: dict[tuple[str, str], Label] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> LLMJudge:
        """The judge of the configured back end (``--llm`` / ``ASSISTANT_LLM``)."""
        # One word is all a verdict needs; a model that rambles on is cut short, not waited for.
        model, label = make_chat_model(settings.model_copy(update={"llm_max_tokens": JUDGE_MAX_TOKENS}))
        return cls(model, label, settings)

    def label(self, premise: str, claim: str) -> Label:
        key = (premise, claim)
        if key not in self._cache:
            self._cache[key] = self._ask(premise, claim)
        return self._cache[key]

    def __call__(self, premise: str, claim: str) -> float:
        return 1.0 if premise.strip() and self.label(premise, claim) == "supported" else 0.0

    def _ask(self, premise: str, claim: str) -> Label:
        from langchain_core.messages import HumanMessage, SystemMessage

        messages = [
            SystemMessage(JUDGE_INSTRUCTIONS),
            HumanMessage(f"Passage: {premise}\n\nClaim: {claim}\n\nVerdict (one word):"),
        ]
        try:
            reply = self.model.invoke(messages)
        except Exception as exc:  # any client or model failure: the back end is named, the key hidden
            message = str(exc)[:300]
            if self._settings is not None:
                message = redact(message, self._settings)
            raise BackendError(f"The judge {self.name} failed: {message}") from None
        found = _VERDICT.search(str(reply.content))
        if found is None:
            log.info("Judge reply without a verdict, taken as not stated: %r", str(reply.content)[:80])
            return "not_stated"
        word = found.group(1).lower()
        return "not_stated" if word.startswith("not") else cast(Label, word)


# -- agreement with people -------------------------------------------------------------------


@dataclass(frozen=True)
class LabelledPair:
    id: str
    text: str  # which reading the pair comes from; pairs of one text are held out together
    claim: str
    passage: str
    label: Label
    kind: str = "copied"  # copied | paraphrase


def load_pairs(path: Path) -> list[LabelledPair]:
    """Labelled pairs: ``{id, text, claim, passage, label, kind}`` per line; the older
    ``{id, sentence, passage, supported}`` pairs of ``devset/`` are read too."""
    return read_jsonl(path, _pair, "labelled pairs")


def _pair(line: str) -> LabelledPair:
    record = json.loads(line)
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, found {type(record).__name__}")
    label = record.get("label") or ("supported" if record["supported"] else "not_stated")
    if label not in LABELS:
        raise ValueError(f"label {label!r} is not one of {', '.join(LABELS)}")
    return LabelledPair(
        id=str(record["id"]),
        text=str(record.get("text", "essay")),
        claim=str(record.get("claim") or record["sentence"]),
        passage=str(record["passage"]),
        label=label,
        kind=str(record.get("kind", "copied")),
    )


def _scores(predicted: Sequence[bool], pairs: Sequence[LabelledPair]) -> dict[str, Any]:
    truth = [p.label == "supported" for p in pairs]
    hits = [float(a == b) for a, b in zip(truth, predicted, strict=True)]
    by_kind = {
        kind: metrics.mean([h for h, p in zip(hits, pairs, strict=True) if p.kind == kind])
        for kind in sorted({p.kind for p in pairs})
    }
    by_label = {
        label: metrics.mean([h for h, p in zip(hits, pairs, strict=True) if p.label == label])
        for label in LABELS
        if any(p.label == label for p in pairs)
    }
    return {
        "pairs": len(pairs),
        "accuracy": metrics.mean(hits),
        "kappa": metrics.cohen_kappa(truth, list(predicted)),
        "accuracy_by_kind": by_kind,
        "accuracy_by_label": by_label,
    }


def _best_threshold(scores: Sequence[float], pairs: Sequence[LabelledPair]) -> float:
    truth = [p.label == "supported" for p in pairs]
    return max(
        THRESHOLDS, key=lambda t: (metrics.cohen_kappa(truth, [s >= t for s in scores]), -abs(t - 0.5))
    )


def agreement(checker: Checker, pairs: Sequence[LabelledPair], *, progress: bool = False) -> dict[str, Any]:
    """How often ``checker`` agrees with the labels, at its own threshold and, for a checker
    with a tunable score, at thresholds fitted with each text held out."""
    scores = []
    for number, pair in enumerate(pairs, start=1):
        scores.append(checker(pair.passage, pair.claim))
        if progress:
            progress_bar(number, len(pairs))
    result: dict[str, Any] = {
        "checker": checker.name,
        "threshold": checker.threshold,
        **_scores([s >= checker.threshold for s in scores], pairs),
    }
    if isinstance(checker, LLMJudge):
        labels = [checker.label(p.passage, p.claim) for p in pairs]
        result["three_way_accuracy"] = metrics.mean(
            [float(a == p.label) for a, p in zip(labels, pairs, strict=True)]
        )
        return result
    groups = sorted({p.text for p in pairs})
    # One text only (the essay's older pairs): five folds by position instead of by text.
    folds = groups if len(groups) > 1 else [str(i) for i in range(5)]

    def fold_of(index: int, pair: LabelledPair) -> str:
        return pair.text if len(groups) > 1 else str(index % 5)

    predicted: list[bool] = [False] * len(pairs)
    fitted: dict[str, float] = {}
    for fold in folds:
        train = [i for i, p in enumerate(pairs) if fold_of(i, p) != fold]
        threshold = _best_threshold([scores[i] for i in train], [pairs[i] for i in train])
        fitted[fold] = threshold
        for i, p in enumerate(pairs):
            if fold_of(i, p) == fold:
                predicted[i] = scores[i] >= threshold
    result["held_out"] = {
        "by": "text" if len(groups) > 1 else "5 folds",
        "thresholds": fitted,
        **_scores(predicted, pairs),
    }
    return result
