"""The ``assistant`` command: parses arguments, calls the Python API, turns known errors into one line.

assistant ask "What is defensive deterrence?" [--json]
assistant chat
assistant ingest [PATH] [--rebuild]
assistant serve [--host 127.0.0.1] [--port 7860]
assistant eval [--questions FILE] [--out DIR] [--min METRIC=VALUE ...]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .errors import AssistantError
from .models import Answer, Message
from .pipeline import Assistant

EXIT_ERROR = 2


class _HistoryAction(argparse.Action):
    """Collects --user/--assistant flags in the order given, as one conversation."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: str | None = None) -> None:
        turns = list(getattr(namespace, "turns", None) or [])
        turns.append(Message("user" if option_string == "--user" else "assistant", str(values)))
        namespace.turns = turns


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", type=Path, help="corpus folder (default ./corpus)")
    parser.add_argument("--index", type=Path, help="index folder (default ./.assistant)")
    parser.add_argument("--collection", help="collection name (default 'default')")
    parser.add_argument(
        "--llm",
        choices=["extractive", "llamacpp", "openai", "ollama"],
        help="answer generator (default extractive)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress and decisions")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    ask = commands.add_parser("ask", help="answer one question with cited quotes")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the answer contract as JSON")
    ask.add_argument("--user", action=_HistoryAction, help="an earlier user turn (repeatable)")
    ask.add_argument("--assistant", action=_HistoryAction, help="an earlier assistant turn (repeatable)")
    ask.add_argument("--history", type=Path, help="JSON file: a list of {role, content} messages")
    _common(ask)

    chat = commands.add_parser("chat", help="interactive chat in the terminal")
    _common(chat)

    ingest = commands.add_parser("ingest", help="build or update the index")
    ingest.add_argument("path", nargs="?", type=Path, help="corpus folder (default ./corpus)")
    ingest.add_argument("--rebuild", action="store_true", help="drop the index and embed everything again")
    _common(ingest)

    serve = commands.add_parser("serve", help="web UI, HTTP API and embed page")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=7860)
    _common(serve)

    from .evaluation import add_eval_arguments

    evaluate = commands.add_parser("eval", help="score grounding on a question set")
    add_eval_arguments(evaluate)
    _common(evaluate)
    return parser


def _assistant(args: argparse.Namespace) -> Assistant:
    corpus = getattr(args, "path", None) or args.corpus
    return Assistant(corpus_dir=corpus, index_dir=args.index, collection=args.collection, llm=args.llm)


def _progress(stage: str, done: int, total: int) -> None:
    end = "\n" if done == total else ""
    print(f"\rIndexing {stage}: {done}/{total}", end=end, file=sys.stderr, flush=True)


def cmd_ask(args: argparse.Namespace) -> int:
    bot = _assistant(args)
    history = list(getattr(args, "turns", None) or [])
    if args.history:
        history = _read_history(args.history) + history
    answer = bot.ask(args.question, history)
    print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2) if args.json else format_answer(answer))
    return 0


def _read_history(path: Path) -> list[Message]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AssistantError(f"Cannot read history file {path}: {exc}") from None
    if not isinstance(raw, list) or not all(isinstance(m, dict) for m in raw):
        raise AssistantError(f"History file {path} must hold a JSON list of {{role, content}} objects.")
    return [Message(m.get("role"), m.get("content")) for m in raw]  # validated by Assistant.ask


def format_answer(answer: Answer) -> str:
    """The answer and a numbered list of its sources, for a person at a terminal."""
    lines = [answer.answer]
    if answer.citations:
        lines.append("")
        lines.append("Sources:")
        for c in answer.citations:
            lines.append(f"  [{c.marker}] {c.doc_id}, paragraph {c.paragraph}: “{c.quote}”")
    return "\n".join(lines)


def cmd_chat(args: argparse.Namespace) -> int:
    bot = _assistant(args)
    bot.ensure_index(progress=_progress)
    print("Ask about the essay. An empty line or Ctrl-D quits; 'clear' starts over.", file=sys.stderr)
    history: list[Message] = []
    while True:
        try:
            question = input("\n> ").strip()
        except (EOFError, KeyboardInterrupt):
            print(file=sys.stderr)
            return 0
        if not question:
            return 0
        if question.lower() == "clear":
            history = []
            continue
        try:
            answer = bot.ask(question, history)
        except AssistantError as exc:
            print(f"Error: {exc}", file=sys.stderr)
            continue
        print(format_answer(answer))
        history += [Message("user", question), Message("assistant", answer.answer)]


def cmd_ingest(args: argparse.Namespace) -> int:
    bot = _assistant(args)
    report = bot.ingest(rebuild=args.rebuild, progress=_progress)
    print(
        f"{len(report.added)} added, {len(report.updated)} updated, {len(report.removed)} removed, "
        f"{len(report.unchanged)} unchanged; {report.chunks} chunks in {report.seconds:.1f} s"
    )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .api import serve

    serve(_assistant(args).settings, host=args.host, port=args.port)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from .evaluation import run_from_args

    return run_from_args(args, _assistant(args))


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "ask": cmd_ask,
    "chat": cmd_chat,
    "ingest": cmd_ingest,
    "serve": cmd_serve,
    "eval": cmd_eval,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return COMMANDS[args.command](args)
    except AssistantError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
