"""The Deep Linking response: a JWT signed with the tool's key that gives the platform one
LTI resource link, which later launches the chat on the chosen collection and documents."""

from __future__ import annotations

import secrets
import time
from typing import Any

import jwt

from .keys import ToolKeys
from .protocol import (
    DEEP_LINKING_RESPONSE,
    DEPLOYMENT_ID,
    DL_CONTENT_ITEMS,
    DL_DATA,
    LTI_VERSION,
    MESSAGE_TYPE,
    VERSION,
)

RESPONSE_SECONDS = 300

# The custom parameters a deep-linked resource carries back in its launches.
CUSTOM_COLLECTION = "collection"
CUSTOM_DOCUMENTS = "documents"


def resource_link(launch_url: str, title: str, collection: str, documents: list[str]) -> dict[str, Any]:
    """The content item: an LTI resource link opening the chat in the course's frame."""
    custom = {CUSTOM_COLLECTION: collection}
    if documents:
        custom[CUSTOM_DOCUMENTS] = ",".join(documents)
    return {
        "type": "ltiResourceLink",
        "title": title,
        "url": launch_url,
        "custom": custom,
        "iframe": {"width": 800, "height": 700},
    }


def response_jwt(
    keys: ToolKeys,
    *,
    client_id: str,
    issuer: str,
    deployment_id: str,
    items: list[dict[str, Any]],
    data: str | None,
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": client_id,
        "aud": issuer,
        "azp": client_id,
        "iat": now,
        "exp": now + RESPONSE_SECONDS,
        "nonce": secrets.token_urlsafe(16),
        MESSAGE_TYPE: DEEP_LINKING_RESPONSE,
        VERSION: LTI_VERSION,
        DEPLOYMENT_ID: deployment_id,
        DL_CONTENT_ITEMS: items,
    }
    if data is not None:
        claims[DL_DATA] = data
    return jwt.encode(claims, keys.private_pem, algorithm="RS256", headers={"kid": keys.kid})
