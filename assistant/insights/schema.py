"""The question log's one table (SQLAlchemy Core); its history is in ``migrations/``."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Boolean, Column, DateTime, Float, Integer, MetaData, String, Table, Text, false

metadata = MetaData()

questions = Table(
    "questions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("asked_at", DateTime(timezone=True), nullable=False, index=True),
    Column("collection", String(60), nullable=False, index=True),
    # A pseudonym: a keyed hash of the LTI user id, or a random id; never a name or an email.
    Column("asker", String(64), nullable=False),
    Column("course", String(64), nullable=False, default="", index=True),  # pseudonymous LTI context
    Column("question", Text, nullable=False),
    Column("refused", Boolean, nullable=False),
    Column("reason", String(40), nullable=False, default=""),  # answer kind if refused, else any LLM fallback
    Column("premise_corrected", Boolean, nullable=False, default=False),
    # The answer's quotes may not answer what was asked (Answer.uncertain): a gap in the reading too.
    Column("uncertain", Boolean, nullable=False, default=False, server_default=false()),
    Column("cited", JSON, nullable=False),  # [{"doc_id", "anchor", "paragraph", "quote"}]
    # Text: the LLM fallback's label names the model, of any length (PostgreSQL enforces VARCHAR's).
    Column("generator", Text, nullable=False),
    Column("latency_ms", Float, nullable=False),
)


def as_utc(moment: datetime) -> datetime:
    """``asked_at`` as read back, in UTC: SQLite hands back naive datetimes (the log writes UTC);
    PostgreSQL aware ones in the session's time zone, which need not be UTC."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
