"""Checking a launch: the platform's id_token verified by PyJWT (signature against the
platform's published key, ``iss``, ``aud``, ``exp``, ``iat``) and the LTI rules on top
(``azp``, the single-use ``nonce`` of this login, ``deployment_id``, version, message type).
The login's ``state`` and its binding to the browser are checked before (``routes``, ``binding``)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import jwt

from .protocol import (
    CONTEXT,
    CUSTOM,
    DEEP_LINKING_REQUEST,
    DEPLOYMENT_ID,
    DL_SETTINGS,
    LTI_VERSION,
    MESSAGE_TYPE,
    RESOURCE_LINK,
    RESOURCE_LINK_REQUEST,
    ROLES,
    VERSION,
    LtiError,
    is_teaching,
)
from .registry import Platform, Registry
from .state import Pending, StateStore

log = logging.getLogger(__name__)

LEEWAY_SECONDS = 60  # clocks of an LMS and this server differ a little
JWKS_CACHE_SECONDS = 300  # a platform's rotated key is fetched again within minutes


@dataclass(frozen=True)
class Launch:
    """What a verified launch says, as the tool uses it."""

    platform: Platform
    message_type: str
    deployment_id: str
    user: str  # the platform's opaque ``sub``; "" for an anonymous launch
    context_id: str
    context_title: str
    instructor: bool
    resource_link_id: str = ""
    custom: dict[str, str] = field(default_factory=dict)
    deep_linking: dict[str, Any] = field(default_factory=dict)  # the deep_linking_settings claim


class Verifier:
    def __init__(self, registry: Registry, states: StateStore) -> None:
        self.registry = registry
        self.states = states
        self._clients: dict[str, jwt.PyJWKClient] = {}
        self._lock = threading.Lock()

    def verify(self, id_token: str, pending: Pending) -> Launch:
        """The launch ``id_token`` carries for the login ``pending`` (taken from the store, its
        browser binding checked), if it passes every check; LtiError says which failed."""
        platform = self._platform_of(id_token, pending)
        claims = self._decode(id_token, platform)
        self._check_lti(claims, platform, pending)
        return _launch(claims, platform)

    def _platform_of(self, id_token: str, pending: Pending) -> Platform:
        try:
            unverified = jwt.decode(id_token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise LtiError(400, "The launch is malformed", "Its id_token is not a JWT.") from None
        issuer = unverified.get("iss")
        audience = unverified.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if issuer != pending.issuer:
            raise LtiError(401, "The launch does not verify", "Its issuer is not the one that logged in.")
        for client_id in audiences:
            if isinstance(client_id, str) and (platform := self.registry.find(issuer, client_id)):
                return platform
        raise LtiError(
            401,
            "The launch does not verify",
            "Its audience is not a client id this tool is registered with at that platform.",
        )

    def _decode(self, id_token: str, platform: Platform) -> dict[str, Any]:
        try:
            key = self._signing_key(id_token, platform)
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key,
                algorithms=["RS256"],
                audience=platform.client_id,
                issuer=platform.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["iss", "aud", "exp", "iat", "nonce"]},
            )
        except jwt.ExpiredSignatureError:
            raise LtiError(401, "The launch has expired", "Its id_token is past its expiry time.") from None
        except jwt.ImmatureSignatureError:
            raise LtiError(
                401, "The launch does not verify", "Its id_token was issued in the future."
            ) from None
        except jwt.InvalidAudienceError:
            raise LtiError(401, "The launch does not verify", "It is meant for another tool (aud).") from None
        except jwt.InvalidSignatureError:
            raise LtiError(
                401, "The launch does not verify", "Its signature does not match the platform's key."
            ) from None
        except jwt.PyJWKClientError as exc:
            raise LtiError(
                401, "The launch does not verify", f"The platform's key is not available: {exc}."
            ) from None
        except jwt.PyJWTError as exc:
            raise LtiError(401, "The launch does not verify", f"Its id_token is not valid: {exc}.") from None
        return claims

    def _signing_key(self, id_token: str, platform: Platform) -> Any:
        if platform.jwks is not None:
            header = jwt.get_unverified_header(id_token)
            keys = jwt.PyJWKSet.from_dict(platform.jwks)
            kid = header.get("kid")
            matching = [k for k in keys.keys if kid is None or k.key_id == kid]
            if not matching:
                raise jwt.PyJWKClientError(f'no key with kid "{kid}" in the registered key set')
            return matching[0]
        assert platform.jwks_url is not None
        with self._lock:
            client = self._clients.get(platform.jwks_url)
            if client is None:
                client = jwt.PyJWKClient(platform.jwks_url, lifespan=JWKS_CACHE_SECONDS, timeout=10)
                self._clients[platform.jwks_url] = client
        return client.get_signing_key_from_jwt(id_token)

    def _check_lti(self, claims: dict[str, Any], platform: Platform, pending: Pending) -> None:
        audience = claims["aud"]
        azp = claims.get("azp")
        if (isinstance(audience, list) and len(audience) > 1 and azp is None) or (
            azp is not None and azp != platform.client_id
        ):
            raise LtiError(401, "The launch does not verify", "Its authorized party (azp) is not this tool.")
        if claims["nonce"] != pending.nonce:
            raise LtiError(401, "The launch does not verify", "Its nonce is not the one this login issued.")
        if not self.states.use_nonce(claims["nonce"], float(claims["exp"]) + LEEWAY_SECONDS):
            raise LtiError(401, "This launch was used already", "Its nonce has been seen before (a replay).")
        if claims.get(DEPLOYMENT_ID) not in platform.deployment_ids:
            raise LtiError(
                403,
                "This deployment is not registered",
                f"The platform's deployment {claims.get(DEPLOYMENT_ID)!r} is not one registered for this "
                "tool; an administrator adds it to the tool's LTI configuration.",
            )
        if claims.get(VERSION) != LTI_VERSION:
            raise LtiError(400, "The launch is not LTI 1.3", f"Its version is {claims.get(VERSION)!r}.")
        message_type = claims.get(MESSAGE_TYPE)
        if message_type not in (RESOURCE_LINK_REQUEST, DEEP_LINKING_REQUEST):
            raise LtiError(
                400,
                "This kind of launch is not supported",
                f"The message type {message_type!r} is neither a resource link nor a deep linking request.",
            )
        if message_type == RESOURCE_LINK_REQUEST and not (claims.get(RESOURCE_LINK) or {}).get("id"):
            raise LtiError(
                400, "The launch is malformed", "A resource link launch must name its resource link."
            )
        if message_type == DEEP_LINKING_REQUEST and not (claims.get(DL_SETTINGS) or {}).get(
            "deep_link_return_url"
        ):
            raise LtiError(400, "The launch is malformed", "A deep linking request must give its return URL.")


def _launch(claims: dict[str, Any], platform: Platform) -> Launch:
    context = claims.get(CONTEXT) or {}
    roles = [str(role) for role in claims.get(ROLES) or []]
    custom = {str(k): str(v) for k, v in (claims.get(CUSTOM) or {}).items()}
    return Launch(
        platform=platform,
        message_type=claims[MESSAGE_TYPE],
        deployment_id=claims[DEPLOYMENT_ID],
        user=str(claims.get("sub") or ""),
        context_id=str(context.get("id") or ""),
        context_title=str(context.get("title") or ""),
        instructor=is_teaching(roles),
        resource_link_id=str((claims.get(RESOURCE_LINK) or {}).get("id") or ""),
        custom=custom,
        deep_linking=dict(claims.get(DL_SETTINGS) or {}),
    )
