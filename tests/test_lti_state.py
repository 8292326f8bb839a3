"""The LTI state store shared by workers (assistant/lti/state.py): on SQLite and on a real
PostgreSQL server, processes racing for one state, and two `assistant serve` processes sharing
one store behind a real platform (lti1p3platform): a login on one launches on the other, and a
replay is refused on both."""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack
from html import unescape
from pathlib import Path

import httpx
import pytest

from assistant import Assistant
from assistant.errors import ConfigError
from assistant.lti.state import SqlStateStore, default_url
from tests.lti_platform import LtiPlatform, served_platform
from tests.postgres_fixtures import BACKENDS, PostgresServer
from tests.server_fixtures import CORPUS_DIR, HOST, free_port, subprocess_server

pytest_plugins = ["tests.server_fixtures", "tests.postgres_fixtures"]

RACES = 40


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty state store: the default SQLite file, or a new database on the real PostgreSQL server."""
    if request.param == "sqlite":
        return default_url(tmp_path)
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.database()


def test_a_state_is_taken_once_and_binds_its_browser(url: str) -> None:
    store = SqlStateStore(url)
    issued = store.issue("https://lms.example", "cookie", login="iss=x")
    other = SqlStateStore(url)  # another worker
    pending = other.peek(issued.state)
    assert pending is not None and pending.nonce == issued.nonce and pending.login == "iss=x"
    assert pending.bound_to(issued.secret) and not pending.bound_to("guess") and not pending.bound_to("")
    assert pending.binding != issued.secret, "the store keeps only the secret's hash"
    taken = other.take(issued.state)
    assert taken == pending
    assert store.take(issued.state) is None and other.peek(issued.state) is None
    assert store.use_nonce(issued.nonce, time.time() + 60)
    assert not other.use_nonce(issued.nonce, time.time() + 60), "a replay on another worker"


def test_states_expire_and_the_table_is_bounded(url: str) -> None:
    store = SqlStateStore(url, seconds=0.5, max_pending=3)
    old = store.issue("https://lms.example", "storage", storage_target="_parent")
    time.sleep(0.6)
    assert store.peek(old.state) is None and store.take(old.state) is None
    issued = [store.issue("https://lms.example", "cookie") for _ in range(5)]
    kept = [i for i in issued if store.peek(i.state) is not None]
    assert kept == issued[2:], "the oldest make room"
    # A used nonce is forgotten after its time, so the table does not grow without end.
    assert store.use_nonce("n-1", time.time() + 0.2)
    time.sleep(0.3)
    assert store.use_nonce("n-2", time.time() + 60)
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT nonce FROM lti_used_nonces").scalars().all() == ["n-2"]


def _racer(url: str, states: list[str], barrier: multiprocessing.synchronize.Barrier, out: Path) -> None:
    store = SqlStateStore(url)
    won = []
    for state in states:
        barrier.wait(timeout=60)
        if store.take(state) is not None:
            won.append(state)
    out.write_text("\n".join(won))


def test_processes_racing_for_a_state_one_wins(url: str, tmp_path: Path) -> None:
    store = SqlStateStore(url)
    states = [store.issue("https://lms.example", "cookie").state for _ in range(RACES)]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    outs = [tmp_path / "a.txt", tmp_path / "b.txt"]
    racers = [context.Process(target=_racer, args=(url, states, barrier, out)) for out in outs]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=120)
        assert racer.exitcode == 0
    won = [out.read_text().split() for out in outs]
    assert sorted(won[0] + won[1]) == sorted(states), "every state taken exactly once"
    assert won[0] and won[1], "both processes took part (else the race was not a race)"


@pytest.fixture(scope="module")
def two_workers(
    server_bot: Assistant,
    serve: Callable[..., AbstractContextManager[str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LtiPlatform, str, str]]:
    """The platform, and two `assistant serve` processes with one LTI configuration (so one key
    dir and one state store) and one index."""
    folder = tmp_path_factory.mktemp("lti-workers")
    with served_platform(serve, folder) as (platform, config), ExitStack() as stack:
        env = {
            **os.environ,
            "ASSISTANT_LTI_CONFIG": str(config),
            "ASSISTANT_INDEX_DIR": str(server_bot.settings.index_dir),
            "ASSISTANT_CORPUS_DIR": str(CORPUS_DIR),
        }
        bases = []
        for name in ("a", "b"):
            port = free_port()
            base = f"http://{HOST}:{port}/"
            command = [sys.executable, "-m", "assistant", "serve", "--port", str(port)]
            stack.enter_context(
                subprocess_server(
                    command,
                    lambda base=base: httpx.get(base + "lti/jwks").status_code == 200,
                    folder / f"worker-{name}.log",
                    name=f"worker {name}",
                    timeout=180,
                    env=env,
                )
            )
            bases.append(base)
        platform.tool = bases[0]
        yield platform, bases[0], bases[1]


def test_login_on_one_worker_launches_on_the_other_and_replays_fail_on_both(
    two_workers: tuple[LtiPlatform, str, str],
) -> None:
    platform, a, b = two_workers
    form = platform.launch_form(kind="resource", role="learner")  # the login was served by a
    form.action = b + "lti/launch"
    launched = form.post()
    assert launched.status_code == 303 and launched.headers["location"].startswith("chat?session=")
    for worker in (a, b):
        form.action = worker + "lti/launch"
        replay = form.post()
        assert replay.status_code == 400 and "used already" in replay.text
    # Platform storage: the login on a, the launch page from b, its check posted to a.
    start = httpx.get(platform.start_url(kind="resource", role="learner", storage=True))
    login = _data(httpx.get(start.headers["location"]).text)
    stored = platform.form_from(httpx.get(login["next"]).text, {})
    stored.action = b + "lti/launch"
    page = stored.post()
    assert page.status_code == 200 and _data(page.text)["key"] == login["key"]
    verify = {**stored.fields, "lti_storage_value": login["value"]}
    assert httpx.post(a + "lti/verify", data=verify).status_code == 303
    assert httpx.post(b + "lti/verify", data=verify).status_code == 400


def _data(html: str) -> dict[str, str]:
    return {k: unescape(v) for k, v in re.findall(r'data-(\w+)="([^"]*)"', html)}


def test_two_workers_racing_for_one_launch_accept_it_once(two_workers: tuple[LtiPlatform, str, str]) -> None:
    platform, a, b = two_workers
    for _ in range(5):
        form = platform.launch_form(kind="resource", role="learner")
        copies = []
        for worker in (a, b):
            form.action = worker + "lti/launch"
            copies.append(type(form)(form.action, form.fields, form.cookies))
        with ThreadPoolExecutor(2) as pool:
            statuses = sorted(r.status_code for r in pool.map(lambda f: f.post(), copies))
        assert statuses == [303, 400]


def test_a_store_that_cannot_be_opened_says_which_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ASSISTANT_LTI_STATE_STORE") as raised:
        SqlStateStore(f"sqlite:///{tmp_path}/no/such/folder/state.db")
    assert "unable to open database file" in str(raised.value)
    with pytest.raises(ConfigError, match="cannot be opened"):
        SqlStateStore("nosuchdatabase://somewhere")
