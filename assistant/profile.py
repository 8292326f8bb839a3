"""A collection's profile: what it needs beyond its text, kept as data beside the text.

The answerer knows nothing about any one reading's subject. What a collection may add
lives in ``profile.yaml`` in its corpus folder (every key optional)::

    called: the report               # how answers and notices name the reading
    examples:                        # shown on the empty chat
      - What does the report recommend?
    warm_up: What does the report recommend?   # asked once when the server starts
    aliases:                         # a name readers use -> the name the text uses
      NYC: New York
    stance:                          # words that carry a verdict in this text's genre
      positive: [sound, welcome]
      negative: [flawed, mistaken]

With no profile the behaviour is general: the reading is "the text" (one document) or
"the readings" (several), example questions come from the text (``examples.py``), and
stance is read with VADER's general lexicon.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import CorpusError

PROFILE_FILE = "profile.yaml"


class Stance(BaseModel):
    model_config = ConfigDict(extra="forbid")
    positive: list[str] = []
    negative: list[str] = []


class Profile(BaseModel):
    """What a collection adds to its text; see the module's docstring."""

    model_config = ConfigDict(extra="forbid")
    called: str | None = Field(default=None, min_length=3, max_length=80)
    examples: list[str] = Field(default=[], max_length=12)
    warm_up: str | None = Field(default=None, max_length=500)
    aliases: dict[str, str] = {}
    stance: Stance | None = None

    @field_validator("aliases")
    @classmethod
    def _lower_aliases(cls, value: dict[str, str]) -> dict[str, str]:
        return {k.strip().lower(): v.strip().lower() for k, v in value.items() if k.strip() and v.strip()}

    def reading(self, documents: int) -> str:
        """How answers name the reading: "the essay", "the text" or "the readings"."""
        if self.called:
            return self.called
        return "the text" if documents <= 1 else "the readings"


def load_profile(folder: Path) -> Profile:
    """The profile in ``folder``; an empty one when there is none. A bad file names its problem."""
    path = folder / PROFILE_FILE
    if not path.is_file():
        return Profile()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CorpusError(f"{path}: cannot read the profile ({exc}).") from None
    if not isinstance(data, dict):
        raise CorpusError(f"{path}: a profile is a mapping of called/examples/warm_up/aliases/stance.")
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"]) or "profile"
        raise CorpusError(f"{path}: {where}: {problem['msg']}.") from None


def does(reading: str) -> str:
    """The verb that agrees with the reading's name: "the text does", "the readings do"."""
    return "do" if reading.endswith("s") and not reading.endswith("ss") else "does"
