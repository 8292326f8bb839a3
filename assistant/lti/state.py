"""OIDC ``state`` and ``nonce``: issued at login, each good for one launch and a few minutes.

They live in a database (SQLAlchemy: a SQLite file beside the tool's key by default, or any
URL, e.g. PostgreSQL), so any number of server processes share them: a login served by one
worker is launched on another, and a replay is caught whichever worker it reaches. Taking a
state is one ``DELETE ... RETURNING``, so of two workers racing for the same state exactly one
gets it. Rows live minutes; expired ones are deleted as new ones come, and the tables are
bounded. No migrations: a schema change may drop the tables, losing only logins in flight.

Each state also records how it is bound to the browser that started the login (login CSRF
protection): a secret that browser holds, in a cookie or in the platform's storage, whose hash
is kept here and which the launch must present.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from sqlalchemy import (
    Column,
    Engine,
    Float,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ..errors import ConfigError

STATE_SECONDS = 600.0  # from login to launch: a slow LMS page and a person's click fit easily
MAX_PENDING = 100_000  # bounded: a flood of logins cannot grow the table without end
NONCE_SECONDS_MAX = 24 * 3600.0  # a used nonce is kept until its token's expiry, at most this long
STORE_FILE = "lti-state.db"

Binding = Literal["cookie", "storage"]

metadata = MetaData()
pending_states = Table(
    "lti_pending_states",
    metadata,
    Column("state", String(64), primary_key=True),
    Column("nonce", String(64), nullable=False),
    Column("issuer", String(500), nullable=False),
    Column("bound_by", String(16), nullable=False),  # "cookie" or "storage"
    Column("binding", String(64), nullable=False),  # sha256 (hex) of the secret the browser holds
    Column("storage_target", String(200), nullable=False),  # the platform's frame, for "storage"
    Column("login", Text, nullable=False),  # the login's parameters, to repeat it in a new window
    Column("expires", Float, nullable=False, index=True),  # wall-clock seconds
)
used_nonces = Table(
    "lti_used_nonces",
    metadata,
    Column("nonce", String(64), primary_key=True),
    Column("until", Float, nullable=False, index=True),
)


@dataclass(frozen=True)
class Pending:
    """A login waiting for its launch."""

    state: str
    nonce: str
    issuer: str
    bound_by: Binding
    binding: str
    storage_target: str
    login: str
    expires: float

    def bound_to(self, secret: str) -> bool:
        """Whether ``secret`` is the one the login's browser was given."""
        return bool(secret) and hmac.compare_digest(_digest(secret), self.binding)


@dataclass(frozen=True)
class Issued:
    state: str
    nonce: str
    secret: str  # for the browser only (its cookie or the platform's storage); the store keeps its hash


class StateStore(Protocol):
    def issue(self, issuer: str, bound_by: Binding, *, storage_target: str = "", login: str = "") -> Issued:
        """A new state, nonce and binding secret for a login from ``issuer``."""

    def peek(self, state: str) -> Pending | None:
        """The login ``state`` names, left in place; None if unknown, used or expired."""

    def take(self, state: str) -> Pending | None:
        """The login ``state`` names, once: None if unknown, used or expired."""

    def use_nonce(self, nonce: str, until: float) -> bool:
        """Record ``nonce`` as used until the wall-clock time ``until``; False if it was used already."""


class SqlStateStore:
    """The state store on a SQLAlchemy database (SQLite or PostgreSQL; any with DELETE ... RETURNING)."""

    def __init__(self, url: str, seconds: float = STATE_SECONDS, max_pending: int = MAX_PENDING) -> None:
        self.seconds = seconds
        self.max_pending = max_pending
        try:
            self.engine: Engine = create_engine(url, **_engine_options(url))
            if self.engine.dialect.name == "sqlite":
                event.listen(self.engine, "connect", _sqlite_pragmas)
            metadata.create_all(self.engine)
        except (SQLAlchemyError, ValueError, ImportError) as exc:
            raise ConfigError(
                f"The LTI state store ({url!r}; ASSISTANT_LTI_STATE_STORE or the LTI configuration's "
                f"state_store) cannot be opened: {exc}"
            ) from None

    def issue(self, issuer: str, bound_by: Binding, *, storage_target: str = "", login: str = "") -> Issued:
        issued = Issued(secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(24))
        now = time.time()
        row = {
            "state": issued.state,
            "nonce": issued.nonce,
            "issuer": issuer,
            "bound_by": bound_by,
            "binding": _digest(issued.secret),
            "storage_target": storage_target,
            "login": login,
            "expires": now + self.seconds,
        }
        with self.engine.begin() as connection:
            connection.execute(delete(pending_states).where(pending_states.c.expires <= now))
            count = connection.execute(select(func.count()).select_from(pending_states)).scalar_one()
            if count >= self.max_pending:  # the oldest make room
                oldest = select(pending_states.c.state).order_by(pending_states.c.expires)
                doomed = oldest.limit(count - self.max_pending + 1).scalar_subquery()
                connection.execute(delete(pending_states).where(pending_states.c.state.in_(doomed)))
            connection.execute(insert(pending_states).values(row))
        return issued

    def peek(self, state: str) -> Pending | None:
        query = select(pending_states).where(
            pending_states.c.state == state, pending_states.c.expires > time.time()
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return _pending(row) if row else None

    def take(self, state: str) -> Pending | None:
        # One statement: the database lets exactly one of several concurrent takers delete the row.
        statement = (
            delete(pending_states)
            .where(pending_states.c.state == state, pending_states.c.expires > time.time())
            .returning(*pending_states.c)
        )
        with self.engine.begin() as connection:
            row = connection.execute(statement).mappings().first()
        return _pending(row) if row else None

    def use_nonce(self, nonce: str, until: float) -> bool:
        now = time.time()
        try:
            with self.engine.begin() as connection:
                connection.execute(delete(used_nonces).where(used_nonces.c.until <= now))
                until = min(until, now + NONCE_SECONDS_MAX)
                connection.execute(insert(used_nonces).values(nonce=nonce, until=until))
        except IntegrityError:
            return False
        return True


def default_url(key_dir: Path) -> str:
    """A SQLite file beside the tool's key, shared by every worker on this machine; made 0600
    (SQLite gives its journal files the database file's permissions)."""
    path = key_dir / STORE_FILE
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    except OSError as exc:
        raise ConfigError(f"Cannot keep the LTI state store in {path}: {exc}") from None
    return f"sqlite:///{path}"


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        # Workers wait for each other's short write lock rather than fail.
        return {"connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True}


def _sqlite_pragmas(connection: Any, _: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not wait for a writer in another process
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _pending(row: Any) -> Pending:
    return Pending(**{key: row[key] for key in Pending.__dataclass_fields__})


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
