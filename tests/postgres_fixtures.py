"""A real PostgreSQL server for the tests, started once per session in a temporary folder.

Load with ``pytest_plugins = ["tests.postgres_fixtures"]``. The ``postgres`` fixture runs
``initdb`` and ``pg_ctl`` (from PATH, or Debian's /usr/lib/postgresql/*/bin) on 127.0.0.1 and a
free port, trust authentication, a throwaway cluster (no fsync); ``postgres.database()`` creates
an empty database and returns its ``postgresql+psycopg://`` URL. PostgreSQL refuses to run as
root, so under root (CI) the server runs as the ``postgres`` system user.

Without the binaries (or psycopg) the tests that need it skip, except under
``ASSISTANT_TEST_REQUIRE_POSTGRES=1`` (set by ``.ci/run``), where a missing server fails them.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import itertools
import multiprocessing
import multiprocessing.queues
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import pytest

from bench.common import free_port

REQUIRED = os.environ.get("ASSISTANT_TEST_REQUIRE_POSTGRES") == "1"
HOST = "127.0.0.1"
SUPERUSER = "postgres"
# Far from UTC (+12:45/+13:45), so a datetime read back in the server's zone shows on the wrong day.
SERVER_TIMEZONE = "Pacific/Chatham"


def binaries() -> Path | None:
    """The folder holding initdb and pg_ctl: PATH first, then Debian's versioned folders."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


def unavailable(reason: str) -> NoReturn:
    """Skip, or fail where the PostgreSQL tests are required."""
    if REQUIRED:
        pytest.fail(f"ASSISTANT_TEST_REQUIRE_POSTGRES=1, but {reason}", pytrace=False)
    pytest.skip(reason)


@dataclass
class PostgresServer:
    port: int
    _names: Iterator[int] = field(default_factory=itertools.count)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@{HOST}:{self.port}/{database}"

    def database(self) -> str:
        """A new, empty database; its SQLAlchemy URL."""
        import psycopg

        name = f"questions_{next(self._names)}"
        with psycopg.connect(f"host={HOST} port={self.port} user={SUPERUSER} dbname=postgres") as admin:
            admin.autocommit = True
            admin.execute(f"CREATE DATABASE {name}")
        return self.url(name)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    folder = binaries()
    if folder is None:
        unavailable(
            "PostgreSQL's initdb and pg_ctl are not on this machine (Debian: apt-get install postgresql)"
        )
    if importlib.util.find_spec("psycopg") is None:
        unavailable("psycopg is not installed (pip install -e '.[postgres]')")
    as_user: list[str] = []
    owner = None
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        try:
            owner = pwd.getpwnam(SUPERUSER)
        except KeyError:
            unavailable(f"the tests run as root, and there is no {SUPERUSER!r} user to run PostgreSQL as")
        as_user = ["runuser", "-u", SUPERUSER, "--"]
    # Not under pytest's temp folder: that is private to root, and the server's user must reach it.
    base = Path(tempfile.mkdtemp(prefix="assistant-pg-"))
    data, log = base / "data", base / "server.log"
    if owner is not None:
        os.chown(base, owner.pw_uid, owner.pw_gid)
    port = free_port()
    options = (
        f"-p {port} -c listen_addresses={HOST} -c unix_socket_directories={base} "
        f"-c timezone={SERVER_TIMEZONE} -c fsync=off -c full_page_writes=off"
    )
    started = False
    try:
        initdb = [*as_user, str(folder / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust"]
        _run([*initdb, "--encoding=UTF8", "--locale=C"])
        start = [*as_user, str(folder / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options]
        _run([*start, "-w", "-t", "60", "start"], log)
        started = True
        yield PostgresServer(port)
    finally:
        if started:
            _stop([*as_user, str(folder / "pg_ctl"), "-D", str(data), "-w", "-t", "30"], data)
        shutil.rmtree(base, ignore_errors=True)


def _run(command: list[str], log: Path | None = None) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:] if log is not None and log.exists() else ""
        pytest.fail(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}\n{tail}")


def _stop(pg_ctl: list[str], data: Path) -> None:
    """``pg_ctl stop -m fast``; if that fails, end the postmaster this fixture started, by its pid."""
    done = subprocess.run([*pg_ctl, "-m", "fast", "stop"], capture_output=True, timeout=60, check=False)
    if done.returncode == 0:
        return
    try:
        pid = int((data / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


BACKENDS = ["sqlite", "postgres"]


def database_url(request: pytest.FixtureRequest, folder: Path) -> str:
    """A new, empty question log database on the back end the requesting fixture is parametrized with."""
    if request.param == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres")
        return server.database()
    return f"sqlite:///{folder / 'questions.db'}"


@pytest.fixture(params=BACKENDS)
def log_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty question log database, once on SQLite and once on PostgreSQL."""
    return database_url(request, tmp_path)


def migrate_together(url: str, processes: int) -> list[str]:
    """Run the log's migrations from several processes released at the same moment; their errors."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(processes)
    errors: multiprocessing.queues.SimpleQueue[str] = context.SimpleQueue()
    workers = [context.Process(target=_migrate, args=(url, start, errors)) for _ in range(processes)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    codes = [worker.exitcode for worker in workers]
    failures = [] if codes == [0] * processes else [f"exit codes {codes}"]
    while not errors.empty():
        failures.append(errors.get())
    return failures


def _migrate(url: str, start: threading.Barrier, errors: multiprocessing.queues.SimpleQueue[str]) -> None:
    from assistant.insights.log import migrate

    start.wait(timeout=60)
    try:
        migrate(url)
    except Exception as exc:  # reported to the test, which shows every process's error
        errors.put(f"{type(exc).__name__}: {exc}")
