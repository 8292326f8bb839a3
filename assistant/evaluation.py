"""Evaluation of answer grounding (being built)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .pipeline import Assistant


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--questions")


def run_from_args(args: argparse.Namespace, bot: Assistant) -> int:
    return 0
