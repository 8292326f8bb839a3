"""All configuration in one place.

Every field can be set by an environment variable ``ASSISTANT_<FIELD>`` (the Chroma
server by ``CHROMA_HOST``/``CHROMA_PORT``), by a CLI flag, or in code. Defaults work
offline with no API key. Values are validated at construction and a bad one is
reported by name, with the value, as a :class:`~assistant.errors.ConfigError`.
"""

from __future__ import annotations

import hmac
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .backends import EXTRACTIVE, BackendName
from .errors import ConfigError

# Nothing phones home, whoever imports us and whatever the shell says.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"

PACKAGE_DIR = Path(__file__).resolve().parent
# prompts/ and devset/ live at the top of the source tree; an installed wheel carries
# copies inside the package (see pyproject's force-include).
PROJECT_DIR = PACKAGE_DIR.parent


def bundled(name: str) -> Path:
    """The top-level folder ``name`` of the source tree, else its copy in an installed wheel."""
    for candidate in (PROJECT_DIR / name, PACKAGE_DIR / "_data" / name):
        if candidate.is_dir():
            return candidate
    return PROJECT_DIR / name


# The web app's Gradio queue: events waiting at once (more get 503 "queue full"), events answered at once.
DEFAULT_QUEUE_SIZE = 64
DEFAULT_QUEUE_CONCURRENCY = 8

COLLECTION_NAME_RULE = "use 3-60 ASCII letters, digits, '-' or '_'"


def is_collection_name(name: str) -> bool:
    return re.fullmatch(r"[A-Za-z0-9_-]{3,60}", name) is not None


class Settings(BaseSettings):
    """Settings of one assistant; see the README's configuration table."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="forbid")

    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path(".assistant")
    collection: str = "default"
    prompts_dir: Path = Field(default_factory=lambda: bundled("prompts"))

    chroma_host: str | None = Field(default=None, validation_alias=AliasChoices("chroma_host", "CHROMA_HOST"))
    chroma_port: int = Field(
        default=8000, ge=1, le=65535, validation_alias=AliasChoices("chroma_port", "CHROMA_PORT")
    )

    embedder: Literal["numpy", "sentence-transformers"] = "numpy"  # same vectors; numpy starts fast
    # Origins (scheme://host[:port], comma-separated, or *) that may frame /embed and call the API.
    allowed_origins: str = ""
    # Request limits of the web app (README: Security).
    rate_limit_per_minute: float = Field(default=60.0, ge=0.0, le=100_000.0)  # per client on /api/*; 0 = off
    rate_limit_burst: int = Field(default=30, ge=1, le=10_000)
    max_body_bytes: int = Field(default=262_144, ge=256, le=64 * 1024 * 1024)
    # Document management over HTTP (upload, remove, re-index) needs this token; without it, it is off.
    admin_token: SecretStr | None = None
    # The OpenAI-compatible endpoint (/v1) and MCP over HTTP (/mcp) need this bearer token when it is set.
    api_token: SecretStr | None = None
    max_upload_bytes: int = Field(default=100 * 1024 * 1024, ge=1024, le=1024 * 1024 * 1024)
    queue_size: int = Field(default=DEFAULT_QUEUE_SIZE, ge=1, le=10_000)
    queue_concurrency: int = Field(default=DEFAULT_QUEUE_CONCURRENCY, ge=1, le=256)
    chunk_chars: int = Field(default=700, ge=100, le=4000)
    top_k: int = Field(default=6, ge=1, le=50)
    max_quotes: int = Field(default=3, ge=1, le=8)
    max_question_chars: int = Field(default=2000, ge=10, le=100_000)
    history_turns: int = Field(default=8, ge=0, le=100)

    # Optional LLM back ends (see the README and assistant.backends); the default needs no model.
    llm: BackendName = EXTRACTIVE
    llm_model: str | None = None  # model name, or a GGUF file path for llamacpp and local
    # Where `local` joins its model (assistant.local_model); None: $XDG_CACHE_HOME/essay-assistant/models.
    model_cache_dir: Path | None = None
    llm_threads: int | None = Field(default=None, ge=1, le=256)  # `local`'s CPU threads; None: cores - 1
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    llm_timeout: float = Field(default=30.0, gt=0.0, le=600.0)
    llm_max_tokens: int = Field(default=400, ge=16, le=8192)
    unsupported: Literal["remove", "flag"] = "remove"  # what verification does with an unsupported sentence
    min_surviving: float = Field(default=0.5, ge=0.0, le=1.0)  # below this share, fall back to extractive

    # LTI 1.3 (assistant.lti): a JSON or TOML file of platform registrations; without it, no LTI route exists.
    lti_config: Path | None = None
    # Where every worker keeps LTI logins in flight (a SQLAlchemy URL); default: SQLite in the LTI key_dir.
    lti_state_store: str | None = None
    # The question log (assistant.insights): a SQLAlchemy URL, e.g. sqlite:///questions.db; off when unset.
    question_log: str | None = None
    question_log_retention_days: int = Field(default=180, ge=1, le=36_500)
    question_log_transcripts: bool = False  # the insight page shows single questions only when on

    # Refusal thresholds, fitted on the development set (see `assistant eval --calibrate`).
    min_similarity: float = Field(default=0.37, ge=-1.0, le=1.0)
    min_support: float = Field(default=0.8, ge=0.0, le=1.0)

    @field_validator("collection")
    @classmethod
    def _collection_name(cls, value: str) -> str:
        if not is_collection_name(value):
            raise ValueError(COLLECTION_NAME_RULE)
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        for entry in filter(None, (e.strip().rstrip("/") for e in value.split(","))):
            if entry != "*" and not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+", entry):
                raise ValueError(f"{entry!r} is not an origin; use scheme://host[:port] or *")
        return value

    def is_admin_token(self, given: str | None) -> bool:
        """Whether ``given`` is the admin token; never while none is configured (management is off).

        The comparison takes the same time however much of a guess is right.
        """
        return self.admin_token is not None and _same_secret(self.admin_token, given)

    def is_api_token(self, given: str | None) -> bool:
        """Whether ``given`` opens /v1 and /mcp: always while no API token is configured."""
        return self.api_token is None or _same_secret(self.api_token, given)

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Build settings from the environment plus explicit overrides (None values ignored)."""
        given = {key: value for key, value in overrides.items() if value is not None}
        try:
            return cls(**given)
        except ValidationError as exc:
            raise ConfigError(_describe(exc)) from None


def _same_secret(secret: SecretStr, given: str | None) -> bool:
    """The comparison takes the same time however much of a guess is right."""
    return hmac.compare_digest((given or "").encode(), secret.get_secret_value().encode())


def _describe(exc: ValidationError) -> str:
    problems = []
    for err in exc.errors():
        name = ".".join(str(part) for part in err["loc"]) or "settings"
        env = f"ASSISTANT_{name.upper()}"
        problems.append(f"{name} (env {env}) = {err.get('input')!r}: {err['msg']}")
    return "Invalid setting: " + "; ".join(problems)
