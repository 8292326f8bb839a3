"""The answer back ends are registered once, and every list of choices offers the registry's names."""

from __future__ import annotations

import argparse
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from assistant import backends
from assistant.backends import make_chat_model, names, register
from assistant.cli import build_parser
from assistant.config import Settings
from assistant.errors import BackendError, ConfigError
from assistant.evaluation import generator_names
from assistant.web import AskRequest

BUILT_IN = ("extractive", "local", "llamacpp", "openai", "ollama")


def _fake(settings: Settings) -> tuple[FakeListChatModel, str]:
    return FakeListChatModel(responses=["Hello."]), f"fake:{settings.llm_model}"


@pytest.fixture
def fake_backend(monkeypatch: pytest.MonkeyPatch) -> str:
    """A back end registered for one test (monkeypatch takes it out again)."""
    monkeypatch.setitem(backends._REGISTRY, "fake", _fake)
    return "fake"


def _cli_choices(command: str = "ask") -> list[str]:
    subcommands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    llm = next(a for a in subcommands.choices[command]._actions if a.dest == "llm")
    return list(llm.choices or [])


def _api_enum() -> list[Any]:
    field = AskRequest.model_json_schema()["properties"]["generator"]
    return next(option["enum"] for option in field["anyOf"] if "enum" in option)


def _settings_error(value: str) -> str:
    with pytest.raises(ConfigError) as caught:
        Settings.load(llm=value)
    return str(caught.value)


def test_the_built_in_back_ends_are_registered_in_order() -> None:
    assert names() == BUILT_IN


@pytest.mark.parametrize("command", ["ask", "chat", "serve", "eval"])
def test_every_list_of_choices_is_the_registry(command: str) -> None:
    assert _cli_choices(command) == list(names())
    assert _api_enum() == list(names())
    assert f"choose one of: {', '.join(names())}" in _settings_error("gpt-9")
    with pytest.raises(argparse.ArgumentTypeError, match=f"choose from {', '.join(names())}"):
        generator_names("gpt-9")


def test_a_registered_back_end_is_offered_everywhere_and_built(fake_backend: str) -> None:
    assert names()[-1] == fake_backend
    assert fake_backend in _cli_choices() and fake_backend in _api_enum()
    assert fake_backend in _settings_error("gpt-9")
    assert generator_names(f"extractive,{fake_backend}") == ["extractive", fake_backend]
    settings = Settings(llm=fake_backend, llm_model="tiny")
    model, label = make_chat_model(settings)
    assert isinstance(model, FakeListChatModel) and label == "fake:tiny"
    assert AskRequest(question="Why?", generator=fake_backend).generator == fake_backend


def test_a_name_is_registered_once(fake_backend: str) -> None:
    with pytest.raises(ValueError, match="'fake' is registered already"):
        register(fake_backend, _fake)


def test_extractive_has_no_chat_model() -> None:
    with pytest.raises(BackendError, match="'extractive' is not a language-model back end"):
        make_chat_model(Settings())


def test_the_api_refuses_an_unknown_back_end_with_the_names() -> None:
    with pytest.raises(ValueError, match=f"choose one of: {', '.join(BUILT_IN)}"):
        AskRequest(question="Why?", generator="gpt-9")
