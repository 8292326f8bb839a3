"""Which LTI platforms may launch the tool: their registrations, from the configuration file
(``ASSISTANT_LTI_CONFIG``) and from the admin API.

A registration is what an LMS administrator reads off the platform when adding the tool:
the platform's issuer, the client id it gave the tool, its deployment ids, where its keys
are (a JWKS URL, or the key set itself) and its OIDC authorization endpoint.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import ConfigError

log = logging.getLogger(__name__)

ADDED_FILE = "platforms.json"  # registrations added over the admin API, beside the tool's key


class Platform(BaseModel):
    """One platform's registration of this tool."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=200, description="For people, e.g. 'Canvas (production)'.")
    issuer: str = Field(min_length=1, max_length=500, description="The platform's `iss`.")
    client_id: str = Field(min_length=1, max_length=500, description="The client id it gave the tool.")
    deployment_ids: list[str] = Field(min_length=1, max_length=1000)
    auth_login_url: str = Field(description="The platform's OIDC authorization endpoint.")
    jwks_url: str | None = Field(default=None, description="Where the platform publishes its keys.")
    jwks: dict[str, Any] | None = Field(default=None, description="The platform's key set itself.")
    origins: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="Origins of the LMS pages that frame the tool, e.g. https://school.instructure.com, "
        "besides the issuer's and the authorization endpoint's.",
    )

    @model_validator(mode="after")
    def _keys(self) -> Platform:
        if (self.jwks_url is None) == (self.jwks is None):
            raise ValueError("give exactly one of jwks_url (the platform's key set URL) and jwks")
        for url in (self.auth_login_url, self.jwks_url, *self.origins):
            if url is not None and not url.startswith(("https://", "http://")):
                raise ValueError(f"{url!r} is not an http(s) URL")
        return self

    @property
    def key(self) -> tuple[str, str]:
        return self.issuer, self.client_id


class LtiFile(BaseModel):
    """The configuration file: the platforms, and optionally where the tool keeps its keys."""

    model_config = ConfigDict(extra="forbid")

    platforms: list[Platform] = Field(default_factory=list)
    key_dir: Path | None = Field(default=None, description="Default: an `lti` folder in the index folder.")
    session_minutes: int = Field(default=120, ge=5, le=24 * 60)
    state_store: str | None = Field(
        default=None,
        description="A SQLAlchemy URL where every worker keeps logins in flight (ASSISTANT_LTI_STATE_STORE "
        "overrides it); default: a SQLite file in key_dir.",
    )


def read_config(path: Path) -> LtiFile:
    """The LTI configuration file (JSON, or TOML by its suffix); ConfigError says what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot read the LTI configuration {path} (ASSISTANT_LTI_CONFIG): {exc}") from None
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        return LtiFile.model_validate(data)
    except (ValueError, ValidationError) as exc:
        raise ConfigError(f"The LTI configuration {path} is not valid: {exc}") from None


class Registry:
    """The registered platforms: those of the file, and those added over the admin API (kept in
    ``key_dir/platforms.json``, so they survive a restart)."""

    def __init__(self, configured: list[Platform], key_dir: Path) -> None:
        self._configured = {p.key: p for p in configured}
        self._added_path = key_dir / ADDED_FILE
        self._lock = threading.Lock()
        self._added: dict[tuple[str, str], Platform] = {}
        if self._added_path.exists():
            try:
                entries = json.loads(self._added_path.read_text(encoding="utf-8"))
                self._added = {p.key: p for p in (Platform.model_validate(e) for e in entries)}
            except (ValueError, ValidationError) as exc:
                raise ConfigError(f"{self._added_path} is not valid: {exc}") from None

    def find(self, issuer: str, client_id: str) -> Platform | None:
        key = (issuer, client_id)
        with self._lock:
            return self._added.get(key) or self._configured.get(key)

    def for_issuer(self, issuer: str) -> list[Platform]:
        return [p for p in self.all() if p.issuer == issuer]

    def all(self) -> list[Platform]:
        with self._lock:
            merged = {**self._configured, **self._added}
        return list(merged.values())

    def add(self, platform: Platform) -> None:
        """Register (or replace) a platform and persist it; the file's own entries are read-only."""
        with self._lock:
            if platform.key in self._configured:
                raise ConfigError(
                    f"{platform.issuer} / {platform.client_id} is registered in the configuration file; "
                    "change it there."
                )
            self._added[platform.key] = platform
            self._save()

    def remove(self, issuer: str, client_id: str) -> bool:
        with self._lock:
            removed = self._added.pop((issuer, client_id), None) is not None
            if removed:
                self._save()
        return removed

    def _save(self) -> None:
        entries = [p.model_dump(mode="json") for p in self._added.values()]
        temporary = self._added_path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            json.dump(entries, out, indent=2)
        os.replace(temporary, self._added_path)
        log.info(
            "LTI registrations saved to %s (%d added over the admin API).", self._added_path, len(entries)
        )
