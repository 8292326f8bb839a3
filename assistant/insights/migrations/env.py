"""Alembic's environment for the question log: the database URL comes from the caller's Config."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from assistant.insights.schema import metadata

engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
