"""``assistant eval``: score the assistant's grounding on a question set and gate on the result.

Each question is asked through the public ``Assistant`` API, then scored for
retrieval (against gold sentences, by span overlap), citations (ALCE recall and
precision with the configured support checker), correctness, abstention and
latency. A naive baseline (embed every sentence, quote the top two, refuse below
a fixed cosine) is scored beside it so the gain of each idea stays visible.

One module per step: ``dataset`` (question sets), ``scoring`` (one answer), ``aggregates``
(figures over a set, the baseline, the checker's calibration), ``running`` (the report),
``comparison`` (several generators), ``gate`` (thresholds) and ``command`` (the CLI's part).
"""

from .aggregates import aggregate, calibrate_checker, naive_baseline
from .command import add_eval_arguments, run_from_args
from .comparison import COMPARED, assistant_factory, backend_metrics, compare, generator_names
from .dataset import DEFAULT_PAIRS, DEFAULT_QUESTIONS, QuestionRecord, SupportPair, load_questions
from .gate import gate, parse_thresholds, pyproject_thresholds
from .running import evaluate
from .scoring import QuestionResult, Scorer

__all__ = [
    "COMPARED",
    "DEFAULT_PAIRS",
    "DEFAULT_QUESTIONS",
    "QuestionRecord",
    "QuestionResult",
    "Scorer",
    "SupportPair",
    "add_eval_arguments",
    "aggregate",
    "assistant_factory",
    "backend_metrics",
    "calibrate_checker",
    "compare",
    "evaluate",
    "gate",
    "generator_names",
    "load_questions",
    "naive_baseline",
    "parse_thresholds",
    "pyproject_thresholds",
    "run_from_args",
]
