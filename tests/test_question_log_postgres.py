"""The question log on a real PostgreSQL server (``tests/postgres_fixtures.py``), as issue 17 promises
for several workers: migrations from empty and from several processes at once, what SQLite lets
pass and PostgreSQL does not (time zones, column lengths), and two served workers writing to one
log. The scripted run, export, purge and retention (tests/test_question_log.py) run on both."""

from __future__ import annotations

import io
import json
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path

import httpx
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Column, MetaData, Table, create_engine, inspect, select, text

from assistant import Assistant
from assistant.embedding import MiniLMEmbeddings
from assistant.insights.analysis import analyse
from assistant.insights.log import MIGRATIONS, Entry, QuestionLog, migrate
from assistant.insights.schema import metadata, questions
from bench.common import assistant_command, clean_env, free_port, serving, stop, wait_for
from tests.postgres_fixtures import PostgresServer, migrate_together
from tests.server_fixtures import CORPUS_DIR, HOST

pytest_plugins = ["tests.server_fixtures", "tests.postgres_fixtures"]

WORKERS = 2
CLIENTS = 6
PER_CLIENT = 20


def _entry(question: str, **changes: object) -> Entry:
    fields: dict[str, object] = {
        "collection": "default",
        "asker": "anon-x",
        "question": question,
        "refused": False,
        "reason": "",
        "premise_corrected": False,
        "cited": [{"doc_id": "essay", "anchor": "s-1-1", "paragraph": 1, "quote": "A sentence."}],
        "generator": "extractive",
        "latency_ms": 1.0,
    }
    return Entry(**{**fields, **changes})  # type: ignore[arg-type]


@pytest.fixture
def opened(log_url: str) -> Iterator[QuestionLog]:
    log = QuestionLog(log_url, retention_days=36_500)
    log.start()
    yield log
    log.close()


def test_migrations_build_the_schema_from_empty_and_rerun_as_no_ops(log_url: str) -> None:
    migrate(log_url)
    migrate(log_url)  # a restart: already at head, nothing to do
    engine = create_engine(log_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [
                "0003"
            ]
            # The migrations and schema.py describe the same table, as this database sees its types.
            assert compare_metadata(MigrationContext.configure(connection), metadata) == []
        indexes = {index["name"] for index in inspect(engine).get_indexes("questions")}
        assert {"ix_questions_asked_at", "ix_questions_collection", "ix_questions_course"} <= indexes
    finally:
        engine.dispose()


def test_an_existing_log_keeps_its_rows_through_the_migrations(log_url: str) -> None:
    migrate(log_url, "0001")  # a log written before 0002 and 0003
    engine = create_engine(log_url)
    try:
        # The table as 0001 made it: inserting through schema.py's would fill in the later columns.
        columns = [Column(c.name, c.type) for c in questions.columns if c.name != "uncertain"]
        then = Table("questions", MetaData(), *columns)
        row = {k: v for k, v in asdict(_entry("What is the main claim?")).items() if k != "uncertain"}
        with engine.begin() as connection:
            connection.execute(then.insert(), [row])
        migrate(log_url)
        with engine.connect() as connection:
            kept = connection.execute(select(questions.c.question, questions.c.uncertain)).all()
            assert [tuple(r) for r in kept] == [("What is the main claim?", False)]
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("sqlalchemy.url", log_url.replace("%", "%%"))
        command.downgrade(config, "0002")  # and back: the row stays, without the column
        with engine.connect() as connection:
            assert "uncertain" not in {c["name"] for c in inspect(connection).get_columns("questions")}
            assert connection.execute(text("SELECT count(*) FROM questions")).scalar_one() == 1
        migrate(log_url)
    finally:
        engine.dispose()


def test_several_workers_migrate_an_empty_database_at_once(log_url: str) -> None:
    # Processes, not threads: Alembic's `context` is one per process. All start migrating together.
    failures = migrate_together(log_url, processes=4)
    assert failures == []
    engine = create_engine(log_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    engine.dispose()


def test_days_and_times_are_utc_whatever_the_servers_zone(opened: QuestionLog) -> None:
    # Half an hour either side of midnight UTC: one day each in UTC, the same day in the server's zone.
    late = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    early = datetime(2026, 3, 2, 0, 30, tzinfo=UTC)
    opened.record(_entry("What does the first paragraph claim?", asked_at=late))
    opened.record(_entry("Why does the essay end this way?", asked_at=early))
    opened.flush()
    rows = list(opened.rows())
    assert [row["asked_at"].astimezone(UTC) for row in rows] == [late, early]
    insights = analyse(rows, MiniLMEmbeddings().encode)
    assert insights.per_day == [(date(2026, 3, 1), 1, 0), (date(2026, 3, 2), 1, 0)]
    out = io.StringIO()
    assert opened.export(out, "json") == 2
    exported = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [row["asked_at"] for row in exported] == ["2026-03-01T23:30:00+00:00", "2026-03-02T00:30:00+00:00"]
    assert exported[0]["cited"][0]["paragraph"] == 1  # the JSON column round-trips as JSON
    # Purging by a moment between them deletes exactly the earlier row, whatever the zone.
    assert opened.purge(before=datetime(2026, 3, 2, 0, 0, tzinfo=UTC)) == 1
    assert opened.count() == 1


def test_a_long_generator_label_is_written_not_dropped(opened: QuestionLog) -> None:
    # The LLM fallback's label names the model, whose name can be long: a VARCHAR(60) lost the row
    # (and the rest of its batch) on PostgreSQL, while SQLite stored it.
    label = "extractive (fallback from openai:meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo)"
    opened.record(_entry("What is the essay's main claim?", generator=label))
    opened.record(_entry("Which example does it give?"))
    opened.flush()
    assert opened.dropped == 0
    assert [row["generator"] for row in opened.rows()] == [label, "extractive"]


def test_two_served_workers_write_every_question_once(
    postgres: PostgresServer, server_bot: Assistant, server_index_dir: Path, tmp_path: Path
) -> None:
    """Two `assistant serve` processes on one index and one PostgreSQL log, started together on an
    empty database (both migrate it), each asked by several clients at once."""
    url = postgres.database()
    env = clean_env(
        ASSISTANT_QUESTION_LOG=url,
        ASSISTANT_RATE_LIMIT_PER_MINUTE="0",
        ASSISTANT_CORPUS_DIR=str(CORPUS_DIR),
        ASSISTANT_INDEX_DIR=str(server_index_dir),
    )
    ports = [free_port() for _ in range(WORKERS)]
    bases = [f"http://{HOST}:{port}" for port in ports]
    with _workers(ports, env, tmp_path):
        sent: Counter[str] = Counter()
        failures: list[str] = []
        lock = threading.Lock()

        def client(number: int) -> None:
            base = bases[number % WORKERS]
            with httpx.Client(base_url=base, timeout=120) as http:
                for turn in range(PER_CLIENT):
                    question = f"What does the essay say about values? (client {number}, turn {turn})"
                    reply = http.post("/api/ask", json={"question": question})
                    with lock:
                        if reply.status_code == 200:
                            sent[question] += 1
                        else:
                            failures.append(f"{base}: {reply.status_code} {reply.text[:200]}")

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
        assert failures == []
    # The workers have stopped (each writes what it queued on shutdown).
    log = QuestionLog(url, retention_days=36_500)
    try:
        logged = Counter(row["question"] for row in log.rows())
    finally:
        log.close()
    assert sum(sent.values()) == CLIENTS * PER_CLIENT
    assert logged == sent, "every question answered is logged exactly once"


@contextmanager
def _workers(ports: list[int], env: dict[str, str], folder: Path) -> Iterator[None]:
    """`assistant serve` on each port, all started at once; stopped (gracefully) afterwards."""
    processes: list[subprocess.Popen[bytes]] = []
    logs = [folder / f"worker-{port}.log" for port in ports]
    try:
        for port, log in zip(ports, logs, strict=True):
            command = [*assistant_command(), "serve", "--host", HOST, "--port", str(port)]
            with log.open("wb") as out:
                processes.append(subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env))
        for port, process, log in zip(ports, processes, logs, strict=True):
            try:
                ready = partial(serving, f"http://{HOST}:{port}", process)
                wait_for(ready, f"the worker on port {port}", timeout=300)
            except (TimeoutError, RuntimeError) as exc:
                pytest.fail(f"{exc}\n{log.read_text(errors='replace')[-3000:]}")
        yield
    finally:
        for process in processes:
            stop(process)
