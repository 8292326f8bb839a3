"""The tool's own keys: an RSA key that signs its Deep Linking responses (published at the JWKS
endpoint) and a secret that signs its session tokens; both made on first run, stored 0600."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from ..errors import ConfigError

log = logging.getLogger(__name__)

PRIVATE_KEY_FILE = "tool-key.pem"
SESSION_SECRET_FILE = "session.key"


@dataclass(frozen=True)
class ToolKeys:
    private_pem: bytes
    session_secret: bytes
    kid: str

    def public_jwk(self) -> dict[str, Any]:
        """The public half as a JWK, with its ``kid``, ``alg`` and ``use``."""
        key = serialization.load_pem_private_key(self.private_pem, password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
        return {**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.public_jwk()]}


def load_or_create(folder: Path) -> ToolKeys:
    """The keys in ``folder``, made there (0600, in a 0700 folder) if they are not there yet."""
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        pem = _read_or_write(folder / PRIVATE_KEY_FILE, _new_private_key)
        secret = _read_or_write(folder / SESSION_SECRET_FILE, lambda: secrets.token_bytes(32))
    except OSError as exc:
        raise ConfigError(f"Cannot keep the LTI tool's keys in {folder}: {exc}") from None
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(f"{folder / PRIVATE_KEY_FILE} is not an RSA private key.")
    return ToolKeys(private_pem=pem, session_secret=secret, kid=_thumbprint(key.public_key()))


def _new_private_key() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _read_or_write(path: Path, make: Any) -> bytes:
    """The file's bytes; on first run, ``make()``'s written with 0600 permissions from the start."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            log.warning("%s is readable by others; it should be 0600 (chmod 600 %s).", path, path)
        return path.read_bytes()
    data: bytes = make()
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)
    log.info("Made the LTI tool's %s.", path)
    return data


def _thumbprint(public: rsa.RSAPublicKey) -> str:
    """The key's RFC 7638 thumbprint, a stable ``kid`` that changes only with the key."""
    jwk = json.loads(RSAAlgorithm.to_jwk(public))
    canonical = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
