"""Facts the core defines once and every edge (HTTP API, chat page, evaluation) reads from it."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

from pydantic import SecretStr

from assistant.config import DEFAULT_QUEUE_CONCURRENCY, DEFAULT_QUEUE_SIZE, Settings
from assistant.evaluation import QuestionRecord
from assistant.formats import SUFFIX_NAMES, SUFFIXES
from assistant.models import Message
from assistant.web import AskRequest, create_app
from ui.app import build_ui

from .conftest import ROOT


def test_queue_defaults_are_the_settings() -> None:
    fields = Settings.model_fields
    assert fields["queue_size"].default == DEFAULT_QUEUE_SIZE
    assert fields["queue_concurrency"].default == DEFAULT_QUEUE_CONCURRENCY
    defaults = inspect.signature(build_ui).parameters
    assert defaults["queue_size"].default == DEFAULT_QUEUE_SIZE
    assert defaults["concurrency"].default == DEFAULT_QUEUE_CONCURRENCY


def test_the_admin_token_check() -> None:
    off = Settings().model_copy(update={"admin_token": None})  # whatever the environment says
    assert not any(off.is_admin_token(guess) for guess in (None, "", "anything"))
    on = off.model_copy(update={"admin_token": SecretStr("s3cret")})
    assert on.is_admin_token("s3cret")
    assert not any(on.is_admin_token(guess) for guess in (None, "", "s3cre", "s3cret ", "S3CRET"))


def test_the_history_message_is_the_models_one() -> None:
    assert AskRequest.model_fields["history"].annotation == list[Message]
    assert QuestionRecord.model_fields["history"].annotation == list[Message]
    request = AskRequest.model_validate({"question": "Why?", "history": [{"role": "user", "content": "Hi"}]})
    assert request.history == [Message("user", "Hi")]


def test_the_upload_formats_are_the_ones_read(tmp_path: Path) -> None:
    assert ".htm" in SUFFIXES and ".htm" in SUFFIX_NAMES
    settings = Settings(corpus_dir=ROOT / "corpus", index_dir=tmp_path / "index")
    schema = json.dumps(create_app(settings=settings).openapi())
    assert f"a {SUFFIX_NAMES} file" in schema
