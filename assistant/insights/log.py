"""The opt-in question log: one row per answered question, written off the request path.

``record`` only puts the row on a bounded queue and returns at once; a writer thread inserts
rows in batches. If the database falls so far behind that the queue is full, the row is
dropped and counted (``dropped``), never waited for: the log must not slow an answer. The
schema is migrated with Alembic on start; rows older than the retention setting are deleted
on start and daily.
"""

from __future__ import annotations

import csv
import json
import logging
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, Literal

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, delete, func, select
from sqlalchemy.exc import SQLAlchemyError

from ..config import Settings
from ..errors import ConfigError
from ..models import Answer
from .schema import as_utc, questions

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
QUEUE_SIZE = 10_000
BATCH = 500
RETENTION_CHECK_SECONDS = 24 * 3600.0
COLUMNS = [c.name for c in questions.columns]


@dataclass(frozen=True)
class Entry:
    """One question as the log keeps it."""

    collection: str
    asker: str
    question: str
    refused: bool
    reason: str
    premise_corrected: bool
    cited: list[dict[str, Any]]
    generator: str
    latency_ms: float
    course: str = ""
    uncertain: bool = False  # answered with quotes that may not answer what was asked: a gap too
    asked_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @classmethod
    def of(cls, collection: str, asker: str, course: str, answer: Answer, latency_ms: float) -> Entry:
        reason = answer.kind if answer.refused else (answer.fallback or "")
        cited = [
            {"doc_id": c.doc_id, "anchor": c.anchor, "paragraph": c.paragraph, "quote": c.quote}
            for c in answer.citations
        ]
        return cls(
            collection=collection,
            asker=asker,
            course=course,
            question=answer.question,
            refused=answer.refused,
            reason=reason,
            premise_corrected=answer.premise_corrected,
            uncertain=answer.uncertain,
            cited=cited,
            generator=answer.generator,
            latency_ms=round(latency_ms, 2),
        )


def migrate(url: str, revision: str = "head") -> None:
    """Bring the database's schema up to the newest migration (or to ``revision``)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, revision)


class QuestionLog:
    def __init__(self, url: str, retention_days: int) -> None:
        try:
            self.engine: Engine = create_engine(url)
            migrate(url)
        except (SQLAlchemyError, ValueError, ImportError) as exc:
            raise ConfigError(
                f"The question log (ASSISTANT_QUESTION_LOG={url!r}) cannot be opened: {exc}"
            ) from None
        self.retention = timedelta(days=retention_days)
        self.dropped = 0
        self._queue: queue.Queue[Entry | None] = queue.Queue(maxsize=QUEUE_SIZE)
        self._writer: threading.Thread | None = None
        self._next_purge = 0.0

    def start(self) -> None:
        """Enforce the retention now, and start the writer thread (which enforces it daily)."""
        self.enforce_retention()
        self._writer = threading.Thread(target=self._write, name="question-log", daemon=True)
        self._writer.start()

    def record(self, entry: Entry) -> None:
        """Queue a row; never blocks. A full queue drops the row and counts it."""
        try:
            self._queue.put_nowait(entry)
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning("The question log is behind; %d rows dropped so far.", self.dropped)

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every queued row is written (for tests, the bench and shutdown)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.02)

    def close(self) -> None:
        if self._writer is not None:
            self._queue.put(None)
            self._writer.join(timeout=30)
            self._writer = None
        self.engine.dispose()

    def _write(self) -> None:
        self._next_purge = time.monotonic() + RETENTION_CHECK_SECONDS
        while True:
            first = self._queue.get()
            batch = [first]
            while len(batch) < BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            rows = [asdict(e) for e in batch if e is not None]
            try:
                if rows:
                    with self.engine.begin() as connection:
                        connection.execute(questions.insert(), rows)
            except SQLAlchemyError:
                log.exception("%d question log rows could not be written.", len(rows))
                self.dropped += len(rows)
            finally:
                for _ in batch:
                    self._queue.task_done()
            if None in batch:
                return
            if time.monotonic() >= self._next_purge:
                self.enforce_retention()
                self._next_purge = time.monotonic() + RETENTION_CHECK_SECONDS

    def enforce_retention(self) -> int:
        """Delete rows older than the retention setting; how many."""
        return self.purge(before=datetime.now(UTC) - self.retention)

    def purge(self, before: datetime | None = None) -> int:
        """Delete the rows asked before ``before`` (all of them when None); how many."""
        statement = delete(questions)
        if before is not None:
            statement = statement.where(questions.c.asked_at < before)
        with self.engine.begin() as connection:
            deleted = connection.execute(statement).rowcount
        if deleted:
            log.info("Deleted %d question log rows.", deleted)
        return int(deleted or 0)

    def count(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(questions)).scalar_one())

    def rows(self, collection: str | None = None, course: str | None = None) -> Iterator[dict[str, Any]]:
        statement = select(questions).order_by(questions.c.asked_at)
        if collection is not None:
            statement = statement.where(questions.c.collection == collection)
        if course is not None:
            statement = statement.where(questions.c.course == course)
        with self.engine.connect() as connection:
            for row in connection.execute(statement):
                yield dict(row._mapping)

    def export(self, out: IO[str], form: Literal["csv", "json"]) -> int:
        """Write every row to ``out`` as CSV or JSON lines; how many."""
        count = 0
        writer = csv.DictWriter(out, fieldnames=COLUMNS) if form == "csv" else None
        if writer is not None:
            writer.writeheader()
        for row in self.rows():
            row["asked_at"] = as_utc(row["asked_at"]).isoformat()
            if writer is not None:
                writer.writerow({**row, "cited": json.dumps(row["cited"], ensure_ascii=False)})
            else:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
        return count


def open_log(settings: Settings) -> QuestionLog:
    """The configured question log; ConfigError when it is off (nothing to export or purge)."""
    if not settings.question_log:
        raise ConfigError("The question log is off; set ASSISTANT_QUESTION_LOG to its database URL.")
    return QuestionLog(settings.question_log, settings.question_log_retention_days)
