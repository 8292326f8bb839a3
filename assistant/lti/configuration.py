"""The values an LMS administrator enters to add the tool: the generic LTI 1.3 fields, and the
Canvas developer key JSON (``/lti/config`` and ``/lti/config/canvas.json``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


def tool_values(base: str) -> dict[str, str]:
    """What an LMS administrator enters, named as the LMSs name them."""
    return {
        "Tool URL / Target link URI / Redirection URI": base + "lti/launch",
        "Initiate login URL / OpenID Connect initiation URL": base + "lti/login",
        "Public keyset URL / JWK set URL": base + "lti/jwks",
        "Deep linking (content selection) URL": base + "lti/launch",
        "LTI version": "LTI 1.3",
        "Public key type": "Keyset URL",
    }


def canvas_json(base: str) -> dict[str, Any]:
    """The Canvas developer key JSON (LTI 1.3): a course navigation link and an assignment/link picker."""
    host = urlsplit(base).hostname or ""
    launch = base + "lti/launch"
    return {
        "title": "Reading assistant",
        "description": "Grounded answers about the course reading; every sentence cites the text.",
        "oidc_initiation_url": base + "lti/login",
        "target_link_uri": launch,
        "public_jwk_url": base + "lti/jwks",
        "scopes": [],
        "extensions": [
            {
                "domain": host,
                "tool_id": "reading-assistant",
                "platform": "canvas.instructure.com",
                "privacy_level": "anonymous",
                "settings": {
                    "text": "Reading assistant",
                    "placements": [
                        {
                            "placement": "course_navigation",
                            "message_type": "LtiResourceLinkRequest",
                            "target_link_uri": launch,
                            "default": "disabled",
                        },
                        {
                            "placement": "link_selection",
                            "message_type": "LtiDeepLinkingRequest",
                            "target_link_uri": launch,
                        },
                        {
                            "placement": "assignment_selection",
                            "message_type": "LtiDeepLinkingRequest",
                            "target_link_uri": launch,
                        },
                    ],
                },
            }
        ],
        "custom_fields": {},
    }
