"""A real LTI 1.3 platform for the tests: ``lti1p3platform`` (from PyPI) behind a small web app.

The library does the platform's side of the protocol: it builds the OIDC login initiation,
validates the tool's authorization request, signs the id_token with its key, and verifies the
tool's Deep Linking response against the tool's published JWKS. This module only gives it the
FastAPI routes and the launch form a platform renders (the library's own template module
needs ``pkg_resources``, which current setuptools no longer has).

Routes: ``/start?hint=JSON`` (a course page's link: the login initiation), ``/authorize`` (the
platform's OIDC endpoint), ``/jwks``, ``/deep-link-return`` and ``/course?hint=JSON`` (a course
page framing the tool, for the browser tests).

A hint with ``"storage": true`` makes the platform offer its storage (LTI Client Side postMessages):
the login names ``lti_storage_target``, and the course page holds the frame that answers
``lti.put_data`` / ``lti.get_data`` (``/storage-frame``, on the platform's own origin, as Canvas's
``post_message_forwarding`` frame is). ``lti1p3platform`` has no client side, so this module
writes that frame's script, after the spec: it answers only the registered tool's origin, keeps
each tool origin's keys apart, and replies to the sender's origin with the request's message id.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urljoin, urlsplit

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration

CLIENT_ID = "assistant-client"
DEPLOYMENT_ID = "deployment-1"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
STORAGE_FRAME = "post_message_forwarding"  # the frame name Canvas gives its storage frame


def new_key() -> tuple[str, str]:
    """An RSA key pair as PEM strings (private, public)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


class ForgedRegistration(Registration):
    """Signs with another key while naming the published key's kid: a forged signature."""

    published_kid = ""

    def get_kid(self) -> str | None:
        return self.published_kid


class PlatformConfig(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs: Any) -> None:
        self._registration = kwargs["registration"]

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        return self._registration


class Login(OIDCLoginAbstract):
    storage_target = ""

    def set_lti_message_hint(self, **kwargs: Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> RedirectResponse:
        if self.storage_target:
            url += "&" + urlencode({"lti_storage_target": self.storage_target})
        return RedirectResponse(url, status_code=302)


class Launch(LTIAdvantageMessageLaunchAbstract):
    def get_preflight_response(self) -> dict[str, Any]:
        return dict(self._request.query_params)

    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> HTMLResponse:
        return HTMLResponse(
            f"""<!doctype html><html><head><title>Launching</title></head><body>
<form method="POST" action="{escape(launch_data["launch_url"])}" id="form">
<input type="hidden" name="id_token" value="{escape(launch_data["id_token"])}">
<input type="hidden" name="state" value="{escape(launch_data["state"])}">
</form><script>document.getElementById("form").submit();</script></body></html>"""
        )


@dataclass
class LaunchForm:
    """The form the platform posts to the tool, and the cookies the tool set at login (sent back
    by hand: a Secure cookie is not sent over http by httpx, as it is by Chromium to 127.0.0.1)."""

    action: str
    fields: dict[str, str]
    cookies: dict[str, str]

    def post(self, **fields: str) -> httpx.Response:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return httpx.post(
            self.action, data={**self.fields, **fields}, headers={"Cookie": cookie} if cookie else {}
        )


@dataclass
class LtiPlatform:
    """One platform: its issuer (its own base URL), keys, and what the tool sent back."""

    base: str = ""
    tool: str = ""  # the tool's base URL, "http://127.0.0.1:PORT/"
    private: str = ""
    public: str = ""
    returned: list[list[dict[str, Any]]] = field(default_factory=list)  # Deep Linking content items

    def __post_init__(self) -> None:
        self.private, self.public = new_key()

    def registration(self, variant: str = "") -> Registration:
        registration = ForgedRegistration() if variant == "bad-signature" else Registration()
        registration.set_iss(self.base).set_client_id(CLIENT_ID).set_deployment_id(DEPLOYMENT_ID)
        registration.set_oidc_login_url(self.tool + "lti/login").set_launch_url(self.tool + "lti/launch")
        registration.set_deeplink_launch_url(self.tool + "lti/launch")
        registration.set_tool_key_set_url(self.tool + "lti/jwks")
        if variant == "bad-signature":
            forged, _ = new_key()
            registration.published_kid = Registration.get_jwk(self.public)["kid"]
            registration.set_platform_private_key(forged)
        else:
            registration.set_platform_private_key(self.private)
        return registration.set_platform_public_key(self.public)

    def config(self, variant: str = "") -> PlatformConfig:
        return PlatformConfig(registration=self.registration(variant))

    def tool_registration(self) -> dict[str, Any]:
        """The tool's configuration entry for this platform."""
        return {
            "name": "Test platform (lti1p3platform)",
            "issuer": self.base,
            "client_id": CLIENT_ID,
            "deployment_ids": [DEPLOYMENT_ID],
            "auth_login_url": self.base + "authorize",
            "jwks_url": self.base + "jwks",
            # The browser test opens the course page as localhost: another site than the tool's.
            "origins": [self.course_origin],
        }

    @property
    def course_origin(self) -> str:
        return self.base.rstrip("/").replace("127.0.0.1", "localhost")

    def start_url(self, **hint: Any) -> str:
        """The course's link that starts a launch: ``kind`` resource|deeplink, ``role``, ``variant``,
        ``custom`` (the resource link's custom parameters), ``user``."""
        return f"{self.base}start?hint={quote(json.dumps(hint))}"

    def launch_form(self, **hint: Any) -> LaunchForm:
        """Follow the start link through the OIDC login to the form the platform posts to the tool."""
        url, cookies = self.start_url(**hint), {}
        page = httpx.get(url)
        while page.is_redirect:
            cookies.update(set_cookies(page))
            url = urljoin(url, page.headers["location"])
            page = httpx.get(url)
        assert page.status_code == 200, page.text
        return self.form_from(page.text, cookies)

    def form_from(self, html: str, cookies: dict[str, str]) -> LaunchForm:
        form = form_of(html)
        assert form.action == self.tool + "lti/launch", html
        return LaunchForm(form.action, dict(form.fields), cookies)

    def launch(self, **hint: Any) -> httpx.Response:
        """A whole launch, as the browser would make it; the tool's answer to the posted form."""
        return self.launch_form(**hint).post()

    def session(self, **hint: Any) -> str:
        """The session token a resource link launch hands the chat page."""
        launched = self.launch(kind="resource", **hint)
        assert launched.status_code == 303, launched.text
        return parse_qs(urlsplit(launched.headers["location"]).query)["session"][0]

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/jwks")
        def jwks() -> JSONResponse:
            return JSONResponse(self.config().get_jwks() if self._registered() else {})

        @app.get("/start")
        def start(hint: str) -> Any:
            user = json.loads(hint).get("user", "user-42")
            login = Login(None, self.config())
            login.set_lti_message_hint(hint=hint)
            if json.loads(hint).get("storage"):
                login.storage_target = STORAGE_FRAME
            return login.initiate_login(user)

        @app.get("/storage-frame")
        def storage_frame() -> HTMLResponse:
            return HTMLResponse(storage_frame_page(self.tool_origin))

        @app.get("/authorize")
        def authorize(request: Request) -> Any:
            hint = json.loads(request.query_params["lti_message_hint"])
            variant = hint.get("variant", "")
            launch = Launch(request, self.config(variant))  # type: ignore[arg-type]
            role = INSTRUCTOR if hint.get("role") == "instructor" else LEARNER
            launch.set_user_data(request.query_params["login_hint"], [role], full_name="Ada Example")
            launch.set_launch_context_claim("course-7", context_title="Close reading 101")
            launch.set_resource_link_claim(hint.get("link", "link-1"), title="Week 3 reading")
            if hint.get("custom"):
                launch.set_custom_parameters_claim(hint["custom"])
            if hint.get("kind") == "deeplink":
                launch.set_dl(self.base + "deep-link-return", title="Add a reading", extra_data="opaque-42")
            extra = {
                "wrong-aud": {"aud": "another-tool", "azp": "another-tool"},
                "unknown-deployment": {CLAIM + "deployment_id": "deployment-unknown"},
                "wrong-type": {CLAIM + "message_type": "LtiSubmissionReviewRequest"},
            }.get(variant)
            if extra:
                launch.set_extra_claims(extra)
            if variant == "expired":
                launch.set_id_token_expiration(-600)
            return launch.lti_launch()

        @app.post("/deep-link-return")
        async def deep_link_return(request: Request) -> HTMLResponse:
            form = await request.form()
            items = self.config().validate_deeplinking_resp({"JWT": form["JWT"]})
            self.returned.append(items)
            return HTMLResponse(f"<!doctype html><title>Added</title><p id='added'>{len(items)} added</p>")

        @app.get("/course")
        def course(hint: str) -> HTMLResponse:
            src = escape(f"{self.base}start?hint={quote(hint)}")
            # The storage frame loads first: the tool's login page asks it at once.
            storage = (
                f'<iframe name="{STORAGE_FRAME}" src="{escape(self.base)}storage-frame" hidden></iframe>'
                if json.loads(hint).get("storage")
                else ""
            )
            return HTMLResponse(
                f"""<!doctype html><html lang="en"><head><title>Close reading 101</title>
<style>iframe {{ width: 100%; height: 700px; border: 1px solid #ccc; }}</style></head>
<body><h1>Close reading 101 · Week 3</h1>{storage}
<iframe id="tool" src="{src}" title="Reading assistant"></iframe></body></html>"""
            )

        return app

    def _registered(self) -> bool:
        return bool(self.tool)

    @property
    def tool_origin(self) -> str:
        return self.tool.rstrip("/")


def storage_frame_page(tool_origin: str) -> str:
    """The platform's side of LTI platform storage: keeps what the registered tool puts, per tool
    origin, and gives it back; ignores (and counts) messages from any other origin."""
    return f"""<!doctype html><html><head><title>Platform storage</title></head><body><script>
const TOOL = {json.dumps(tool_origin)};
const store = new Map();
window.ignored = 0;
window.addEventListener("message", (event) => {{
  const m = event.data;
  if (!m || typeof m !== "object" || typeof m.subject !== "string") return;
  if (event.origin !== TOOL) {{ window.ignored += 1; return; }}
  const reply = {{ subject: m.subject + ".response", message_id: m.message_id }};
  const key = event.origin + " " + m.key;
  if (m.subject === "lti.put_data" && typeof m.key === "string") {{
    store.set(key, m.value);
    Object.assign(reply, {{ key: m.key, value: m.value }});
  }} else if (m.subject === "lti.get_data" && typeof m.key === "string") {{
    Object.assign(reply, {{ key: m.key, value: store.get(key) }});
  }} else {{
    reply.error = {{ code: "unsupported_subject", message: "Unsupported: " + m.subject }};
  }}
  event.source.postMessage(reply, event.origin);
}});
</script></body></html>"""


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """The name=value pairs a response's Set-Cookie headers set."""
    pairs = (header.split(";", 1)[0].split("=", 1) for header in response.headers.get_list("set-cookie"))
    return {name.strip(): value for name, value in pairs}


@contextmanager
def served_platform(
    serve: Callable[..., AbstractContextManager[str]], folder: Path
) -> Iterator[tuple[LtiPlatform, Path]]:
    """A platform served on 127.0.0.1, and a tool configuration (``folder/lti.json``, keys in
    ``folder/keys``) that registers it; the tool's URL is the caller's to set on the platform."""
    platform = LtiPlatform()
    with serve(platform.app(), wait_ready=False) as base:
        platform.base = base + "/"
        config = folder / "lti.json"
        config.write_text(
            json.dumps({"platforms": [platform.tool_registration()], "key_dir": str(folder / "keys")})
        )
        yield platform, config


class FormParser(HTMLParser):
    """The first form of a page: its action and its fields (hidden inputs, checked boxes, radios)."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: list[tuple[str, str]] = []
        self.inputs: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action = values.get("action", "")
        if tag == "input":
            self.inputs.append(values)
            kind = values.get("type", "text")
            if kind in ("hidden", "text") or (kind in ("checkbox", "radio") and "checked" in values):
                self.fields.append((values.get("name", ""), values.get("value", "")))


def form_of(html: str) -> FormParser:
    parser = FormParser()
    parser.feed(html)
    return parser
