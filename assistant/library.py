"""The corpus library: named collections, each a folder of readings with its own index.

The default collection is the configured corpus folder (``corpus/``), so a user with
one essay never meets this module. Others are registered by
``assistant ingest PATH --collection NAME`` in ``<index_dir>/collections.json``.

Documents are managed through their collection's folder, which stays the truth:
``add`` places a file there and indexes it (only it), ``remove`` moves the file out
(into ``<index_dir>/removed/``, so nothing is lost) and removes its chunks, and
``reindex`` embeds documents again.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import COLLECTION_NAME_RULE, Settings, is_collection_name
from .corpus import SUFFIXES, doc_id_for, document_title, load_document
from .errors import ConfigError, CorpusError, InvalidDocumentError, NotFoundError
from .index import IngestReport, Progress
from .pipeline import Assistant

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CollectionInfo:
    """A collection's name and the folder its documents come from."""

    name: str
    corpus_dir: Path


@dataclass(frozen=True)
class DocumentInfo:
    """One document of a collection, as ``assistant docs list`` and the admin API show it."""

    doc_id: str
    title: str
    path: str
    format: str
    pages: int | None
    chunks: int
    indexed: bool  # False for a file added to the folder but not ingested yet
    changed: bool  # True when the file differs from what is indexed


class Library:
    """Every collection of one index folder, with an Assistant for each, built on first use."""

    def __init__(self, settings: Settings | None = None, **overrides: Any) -> None:
        self.settings = settings or Settings.load(**overrides)
        self._assistants: dict[str, Assistant] = {}
        self._lock = threading.Lock()

    @classmethod
    def around(cls, bot: Assistant) -> Library:
        """A library whose default collection is served by ``bot`` (as built by the caller)."""
        library = cls(bot.settings)
        library._assistants[bot.settings.collection] = bot
        return library

    @property
    def default(self) -> str:
        return self.settings.collection

    @property
    def registry_path(self) -> Path:
        return self.settings.index_dir / "collections.json"

    # -- collections ---------------------------------------------------------------------

    def collections(self) -> list[CollectionInfo]:
        """The default collection first, then the registered ones by name."""
        registered = self._registry()
        default = CollectionInfo(self.default, self.settings.corpus_dir)
        others = [CollectionInfo(name, Path(folder)) for name, folder in sorted(registered.items())]
        return [default, *(c for c in others if c.name != self.default)]

    def collection(self, name: str) -> CollectionInfo:
        for info in self.collections():
            if info.name == name:
                return info
        known = ", ".join(c.name for c in self.collections())
        raise NotFoundError(
            f"There is no collection {name!r} (known: {known}); "
            f"create one with `assistant ingest FOLDER --collection {name}`."
        )

    def register(self, name: str, folder: Path) -> CollectionInfo:
        """Make ``folder`` the corpus of collection ``name`` (created if new)."""
        if not is_collection_name(name):
            raise ConfigError(f"Invalid collection name {name!r}: {COLLECTION_NAME_RULE}.")
        if not folder.is_dir():
            raise CorpusError(f"Corpus folder {folder} does not exist or is not a folder.")
        if name == self.default:
            raise ConfigError(
                f"{name!r} is the default collection; its folder is the corpus_dir setting "
                "(ASSISTANT_CORPUS_DIR or --corpus), not a registered one."
            )
        registry = self._registry()
        registry[name] = str(folder.resolve())
        self._write_registry(registry)
        with self._lock:
            self._assistants.pop(name, None)
        return CollectionInfo(name, folder.resolve())

    def assistant(self, name: str | None = None) -> Assistant:
        """The Assistant of collection ``name`` (the default one when None)."""
        name = name or self.default
        with self._lock:
            if name not in self._assistants:
                info = self.collection(name)
                settings = self.settings.model_copy(
                    update={"collection": name, "corpus_dir": info.corpus_dir}
                )
                self._assistants[name] = Assistant(settings)
            return self._assistants[name]

    def _registry(self) -> dict[str, str]:
        try:
            data = json.loads(self.registry_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise CorpusError(
                f"The collection registry {self.registry_path} is unreadable ({exc}); "
                "fix or delete it and register the collections again."
            ) from None
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _write_registry(self, registry: dict[str, str]) -> None:
        self.settings.index_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.registry_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(registry, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.registry_path)

    # -- documents -----------------------------------------------------------------------

    def documents(self, name: str | None = None) -> list[DocumentInfo]:
        """The collection's documents: what is indexed, and files waiting to be."""
        bot = self.assistant(name)
        manifest = (bot.index.read_manifest() or {"documents": {}})["documents"]
        indexed = {doc.doc_id: doc for doc in bot.index.documents()}
        infos = []
        for source in bot.sources():
            doc = indexed.get(source.doc_id)
            infos.append(
                DocumentInfo(
                    doc_id=source.doc_id,
                    title=doc.title if doc else document_title(Path(source.path)),
                    path=source.path,
                    format=doc.metadata.get("format", "") if doc else Path(source.path).suffix.lstrip("."),
                    pages=len(doc.pages) if doc and doc.pages else None,
                    chunks=int(manifest.get(source.doc_id, {}).get("chunks", 0)),
                    indexed=doc is not None,
                    changed=doc is not None and doc.sha256 != source.sha256,
                )
            )
        return infos

    def add(
        self, name: str | None, filename: str, data: bytes, *, progress: Progress | None = None
    ) -> IngestReport:
        """Put a file into the collection's folder and index it; a file of that name is replaced
        (its old version is kept in ``removed/``). The file is checked first: nothing is placed
        that cannot be read."""
        bot = self.assistant(name)
        target = bot.settings.corpus_dir / _safe_filename(filename)
        clash = next(
            (s for s in bot.sources() if s.doc_id == doc_id_for(target) and s.path != str(target)), None
        )
        if clash:
            raise InvalidDocumentError(
                f"{filename} would have the same doc_id as {Path(clash.path).name}; rename one of them."
            )
        limit = self.settings.max_upload_bytes
        if len(data) > limit:
            raise InvalidDocumentError(
                f"{filename} is {len(data) // 1_048_576} MB; the limit is {limit // 1_048_576} MB."
            )
        self.settings.index_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.settings.index_dir) as scratch:
            trial = Path(scratch) / target.name
            trial.write_bytes(data)
            try:  # a scanned PDF, a binary file... fails here, before the folder is touched
                load_document(trial)
            except CorpusError as exc:
                raise InvalidDocumentError(str(exc).replace(str(trial), target.name)) from None
            if target.exists():
                self._set_aside(bot, target)
            shutil.move(trial, target)
        log.info("Added %s to collection %s.", target, bot.settings.collection)
        return bot.ingest(progress=progress)

    def remove(self, name: str | None, doc_id: str) -> Path:
        """Move the document's file out of the folder (into ``removed/``) and its chunks out of the index."""
        bot = self.assistant(name)
        source = next((s for s in bot.sources() if s.doc_id == doc_id), None)
        if source is None:
            raise NotFoundError(f"Collection {bot.settings.collection!r} has no document {doc_id!r}.")
        kept = self._set_aside(bot, Path(source.path))
        bot.remove([doc_id])
        return kept

    def reindex(
        self, name: str | None, doc_ids: Iterable[str] = (), *, progress: Progress | None = None
    ) -> IngestReport:
        """Embed the given documents again (all of them when none are given)."""
        bot = self.assistant(name)
        wanted = list(doc_ids)
        known = {s.doc_id for s in bot.sources()}
        missing = [d for d in wanted if d not in known]
        if missing:
            raise NotFoundError(f"Collection {bot.settings.collection!r} has no document {missing[0]!r}.")
        return bot.ingest(force=wanted or known, progress=progress)

    def _set_aside(self, bot: Assistant, path: Path) -> Path:
        """Move a file out of the corpus folder into ``<index_dir>/removed/<collection>/``."""
        folder = self.settings.index_dir / "removed" / bot.settings.collection
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{path.name}"
        shutil.move(path, target)
        log.info("Moved %s to %s.", path, target)
        return target


def _safe_filename(filename: str) -> str:
    """The file name alone (no folders, no '..'), with a supported suffix."""
    name = Path(filename.replace("\\", "/")).name.strip()
    if not name or name.startswith(".") or name in {"..", "."}:
        raise InvalidDocumentError(f"{filename!r} is not a usable file name.")
    if Path(name).suffix.lower() not in SUFFIXES:
        raise InvalidDocumentError(f"{name}: unsupported format; use one of {', '.join(SUFFIXES)}.")
    return name
