"""Prompt templates for the LLM back ends, loaded from a folder of files.

The folder (``Settings.prompts_dir``; by default the project's ``prompts/``) holds
Jinja2 templates rendered with ``StrictUndefined``:

- ``system.j2`` (may use ``title``): the system message.
- ``answer.j2`` (must use ``question`` and ``passages``; may use ``title``, ``refusal``,
  ``max_sentences``, ``original_question``): the user message with the numbered passages.
- ``rewrite.j2`` (must use ``question`` and ``history``; may use ``title``): follow-up rewriting.
- ``compose_system.j2`` (may use ``title``, ``refusal``, ``max_sentences``) and ``compose.j2``
  (must use ``question`` and ``evidence``; may use ``title``, ``original_question``): the
  ``local`` back end's answer, written from the few sentences the extractive selector chose.
- ``answerable.j2`` (must use ``question`` and ``evidence``; may use ``title``): the yes/no
  question whose answer's probability judges whether those sentences answer at all.
- ``refusal.txt`` (plain text): the sentence the model is told to answer with when the
  passages do not answer; seeing it, the assistant falls back to the extractive answer.

Templates are checked when they are loaded: a template that never uses a required
variable, or uses one that is never passed, is a :class:`PromptError` naming the
file and the variable, so a mistake in a user's own prompt folder shows up at
start-up rather than as a half-rendered prompt. A file missing from a user's folder
is taken from the bundled prompts.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta

from .config import PACKAGE_DIR, PROJECT_DIR
from .errors import PromptError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Spec:
    """What one template must and may use."""

    required: frozenset[str]
    optional: frozenset[str] = frozenset()

    @property
    def allowed(self) -> frozenset[str]:
        return self.required | self.optional


TEMPLATES: dict[str, Spec] = {
    "system.j2": Spec(frozenset(), frozenset({"title"})),
    "answer.j2": Spec(
        frozenset({"question", "passages"}),
        frozenset({"title", "refusal", "max_sentences", "original_question"}),
    ),
    "rewrite.j2": Spec(frozenset({"question", "history"}), frozenset({"title"})),
    # The local model's jobs (assistant.composed): short prompts over the sentences the
    # extractive selector chose, the fixed instructions first so llama.cpp caches them.
    "compose_system.j2": Spec(frozenset(), frozenset({"title", "refusal", "max_sentences"})),
    "compose.j2": Spec(frozenset({"question", "evidence"}), frozenset({"title", "original_question"})),
    "answerable.j2": Spec(frozenset({"question", "evidence"}), frozenset({"title"})),
}
REFUSAL_FILE = "refusal.txt"


def bundled_prompts_dir() -> Path:
    """The prompts that ship with the project (source tree) or the wheel (package data)."""
    for candidate in (PROJECT_DIR / "prompts", PACKAGE_DIR / "_data" / "prompts"):
        if (candidate / "answer.j2").is_file():
            return candidate
    return PROJECT_DIR / "prompts"


_ENV = jinja2.Environment(
    undefined=jinja2.StrictUndefined,
    autoescape=False,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
)


class Prompts:
    """The loaded, checked prompt set; ``render(name, **variables)`` gives the text."""

    def __init__(self, templates: Mapping[str, jinja2.Template], refusal: str, sources: Mapping[str, Path]):
        self._templates = dict(templates)
        self.refusal = refusal
        self.sources = dict(sources)

    @classmethod
    def load(cls, folder: Path | str | None = None) -> Prompts:
        """Load and check every prompt, taking files missing from ``folder`` from the bundled set."""
        bundled = bundled_prompts_dir()
        folder = Path(folder) if folder is not None else bundled
        if not folder.is_dir():
            raise PromptError(
                f"The prompts folder {folder} does not exist; set ASSISTANT_PROMPTS_DIR to a folder "
                f"holding {', '.join([*TEMPLATES, REFUSAL_FILE])} (copy {bundled} to start)."
            )
        templates: dict[str, jinja2.Template] = {}
        sources: dict[str, Path] = {}
        for name, spec in TEMPLATES.items():
            path = _locate(name, folder, bundled)
            templates[name] = _compile(path, spec)
            sources[name] = path
        refusal_path = _locate(REFUSAL_FILE, folder, bundled)
        refusal = " ".join(_read(refusal_path).split())
        if not refusal:
            raise PromptError(f"{refusal_path} is empty; write the sentence the model should answer with.")
        sources[REFUSAL_FILE] = refusal_path
        return cls(templates, refusal, sources)

    def render(self, name: str, **variables: Any) -> str:
        """Render one template; a variable it needs and is not given is a PromptError."""
        if name not in self._templates:
            raise PromptError(f"There is no prompt named {name!r}; the prompts are {', '.join(TEMPLATES)}.")
        unknown = set(variables) - TEMPLATES[name].allowed
        if unknown:
            raise PromptError(f"{name} was given unknown variable(s): {', '.join(sorted(unknown))}.")
        try:
            return self._templates[name].render(**variables).strip()
        except jinja2.UndefinedError as exc:
            raise PromptError(f"{self.sources[name]}: {exc.message}") from None


def _locate(name: str, folder: Path, bundled: Path) -> Path:
    path = folder / name
    if path.is_file():
        return path
    fallback = bundled / name
    if not fallback.is_file():
        raise PromptError(f"The prompt file {path} is missing (and no bundled {name} was found).")
    if folder.resolve() != bundled.resolve():
        log.info("%s has no %s; using the bundled one.", folder, name)
    return fallback


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PromptError(f"Cannot read the prompt file {path}: {exc}") from None


def _compile(path: Path, spec: Spec) -> jinja2.Template:
    source = _read(path)
    try:
        parsed = _ENV.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        raise PromptError(f"{path}, line {exc.lineno}: {exc.message}") from None
    used = meta.find_undeclared_variables(parsed)
    unknown = used - spec.allowed
    if unknown:
        allowed = ", ".join(sorted(spec.allowed))
        raise PromptError(
            f"{path} uses unknown variable(s) {', '.join(sorted(unknown))}; it may use: {allowed}."
        )
    missing = spec.required - used
    if missing:
        raise PromptError(f"{path} must use the variable(s) {', '.join(sorted(missing))}.")
    return _ENV.from_string(source)
