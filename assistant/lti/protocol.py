"""LTI 1.3 names and the one error every refused LTI request raises."""

from __future__ import annotations

from ..errors import AccessError

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = CLAIM + "message_type"
VERSION = CLAIM + "version"
DEPLOYMENT_ID = CLAIM + "deployment_id"
ROLES = CLAIM + "roles"
CONTEXT = CLAIM + "context"
RESOURCE_LINK = CLAIM + "resource_link"
CUSTOM = CLAIM + "custom"
TARGET_LINK_URI = CLAIM + "target_link_uri"
DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
DL_CONTENT_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
DL_DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse"
LTI_VERSION = "1.3.0"

# Roles (LIS vocabulary) that may pick readings and see the insight page; everyone else is a learner.
TEACHING_ROLES = ("#Instructor", "#Administrator", "#ContentDeveloper", "#TeachingAssistant")


def is_teaching(roles: list[str] | tuple[str, ...]) -> bool:
    """Whether the launch roles make the user an instructor (context or institution role)."""
    return any(role.endswith(TEACHING_ROLES) for role in roles)


class LtiError(AccessError):
    """An LTI request refused: answered with an HTML page saying ``title`` and why, never a trace.

    ``status``: 400 a malformed or out-of-order request, 401 an id_token that does not verify,
    403 a platform or deployment that is not registered.
    """

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(f"{title}: {detail}")
        self.status, self.title, self.detail = status, title, detail
