"""The local model's file: joined from the installed part wheels once, checked, found again.

The join and the checks run on real files in a temporary cache: small wrong parts (their
sum is not the pinned size or hash) for the failures, and the real 22 installed parts for
the one join that must succeed (``pytest -m llm``; it writes 1.1 GB).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant import local_model
from assistant.backends import make_chat_model
from assistant.config import Settings
from assistant.errors import BackendError

from .conftest import ROOT
from .llm_fixtures import MISSING


def small_parts(folder: Path, count: int = 3) -> list[Path]:
    folder.mkdir()
    parts = []
    for n in range(1, count + 1):
        part = folder / f"part{n:02d}.bin"
        part.write_bytes(bytes([n]) * 1000)
        parts.append(part)
    return parts


def test_parts_that_do_not_make_the_model_leave_nothing_in_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = small_parts(tmp_path / "parts")
    monkeypatch.setattr(local_model, "part_files", lambda: parts)
    cache = tmp_path / "cache"
    with pytest.raises(
        BackendError, match=r"joined from 3 parts is 3,000 bytes, not the expected 1,117,320,768"
    ):
        local_model.fetch(cache)
    assert list(cache.iterdir()) == []  # neither the model nor a half-written temporary file


def test_a_wrong_hash_of_the_right_size_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parts = small_parts(tmp_path / "parts")
    monkeypatch.setattr(local_model, "part_files", lambda: parts)
    monkeypatch.setattr(local_model, "SIZE", 3000)
    with pytest.raises(BackendError, match=r"has sha256 [0-9a-f]{64}, not the expected cc324af0"):
        local_model.fetch(tmp_path / "cache")
    assert not local_model.model_path(tmp_path / "cache").exists()


def test_missing_part_wheels_are_named_with_the_install_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_model, "PART_DISTRIBUTION", "no-such-model-part{n}")
    with pytest.raises(BackendError) as caught:
        local_model.part_files()
    message = str(caught.value)
    assert "no-such-model-part1 is not installed; no-such-model-part2 is not installed" in message
    assert "and 19 more" in message and "make llm" in message and "--require-hashes" in message


def test_a_corrupt_cached_model_is_found_by_verify_and_removed(tmp_path: Path) -> None:
    path = local_model.model_path(tmp_path)
    path.write_bytes(b"not a model")
    with pytest.raises(
        BackendError, match=r"is 11 bytes, not the expected .*removed; `assistant model fetch`"
    ):
        local_model.verify(tmp_path)
    assert not path.exists()
    with pytest.raises(BackendError, match=r"not in .*run `assistant model fetch`"):
        local_model.verify(tmp_path)


def test_a_file_changed_after_its_check_is_checked_again(tmp_path: Path) -> None:
    path = local_model.model_path(tmp_path)
    path.write_bytes(b"x" * 10)
    stamp = path.with_name(path.name + ".verified")
    # A stamp recorded for this very file is trusted: no 1.1 GB hash on every start...
    stamp.write_text(json.dumps(local_model._fingerprint(path)), encoding="utf-8")
    assert local_model.state(tmp_path).verified
    assert local_model.fetch(tmp_path) == path
    # ...but once the file changes, fetch hashes it again, refuses it and removes it.
    path.write_bytes(b"y" * 10)
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert not local_model.state(tmp_path).verified
    with pytest.raises(BackendError, match="is 10 bytes"):
        local_model.fetch(tmp_path)
    assert not path.exists()


def test_the_cache_folder_follows_xdg_and_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert local_model.model_path() == tmp_path / "xdg" / "essay-assistant" / "models" / local_model.FILE_NAME
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ASSISTANT_MODEL_CACHE_DIR": str(tmp_path / "mine")}
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "model", "path"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert done.stdout.strip() == str(tmp_path / "mine" / local_model.FILE_NAME)
    assert done.returncode == 1 and "run `assistant model fetch`" in done.stderr


def test_local_backend_without_xllamacpp_names_the_install_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "xllamacpp", None)
    with pytest.raises(BackendError, match="ASSISTANT_LLM=local needs xllamacpp: make llm"):
        make_chat_model(Settings(llm="local"))


@pytest.mark.llm
@pytest.mark.skipif(bool(MISSING), reason=MISSING or "ready")
def test_the_installed_parts_join_into_the_pinned_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = local_model.fetch(tmp_path)
    assert path == local_model.model_path(tmp_path) and path.stat().st_size == local_model.SIZE
    assert local_model.state(tmp_path).verified
    assert local_model.sha256_of(path) == local_model.SHA256

    def no_hashing(*args: object, **kwargs: object) -> str:
        raise AssertionError("a checked file is not hashed again")

    monkeypatch.setattr(local_model, "sha256_of", no_hashing)
    assert local_model.fetch(tmp_path) == path
