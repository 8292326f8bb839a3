"""Alembic's environment for the question log: the database URL comes from the caller's Config.

Several workers start together and each migrates on start, so the whole migration runs in one
transaction that takes a lock first: the first worker creates the schema and the others then
find it at head (without the lock two of them both create the tables, and one fails to start).
PostgreSQL: an advisory lock, held until the transaction ends. SQLite: its write lock, taken by
``BEGIN IMMEDIATE`` (pysqlite would begin lazily, and never before DDL).
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection, create_engine, event, text

from assistant.insights.schema import metadata

MIGRATION_LOCK = 0x510617  # the advisory lock's key: any number, the same in every worker

engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
if engine.dialect.name == "sqlite":  # SQLAlchemy's recipe for SQLite transactions it controls

    @event.listens_for(engine, "connect")
    def _driver_autocommit(dbapi_connection: Any, _: object) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


with engine.begin() as connection:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    context.configure(connection=connection, target_metadata=metadata)
    context.run_migrations()  # inside this transaction: Alembic neither begins nor commits its own
engine.dispose()
