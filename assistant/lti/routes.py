"""The LTI 1.3 routes (only when ``ASSISTANT_LTI_CONFIG`` is set; see :func:`install`).

- ``/lti/login`` (GET or POST): the platform starts the OIDC login; the tool answers with a
  redirect to the platform's authorization endpoint, carrying a fresh state and nonce, and a
  cookie binding the state to this browser; or, when the platform offers its storage
  (``lti_storage_target``), with a page that keeps that binding there first (``binding``).
- ``/lti/launch`` (POST): the platform posts the signed id_token. With the binding checked (the
  cookie here; for platform storage, a page reads it back and posts it to ``/lti/verify``), a
  resource link launch opens the chat (``/lti/chat``) with a session token; a Deep Linking
  request shows an instructor the reading picker, whose form (``/lti/deep-link``) posts a
  signed content item back.
- ``/lti/jwks``: the tool's public key; ``/lti/config`` and ``/lti/config/canvas.json``: the
  values an LMS administrator enters (``configuration``).
- ``/api/admin/lti/platforms``: list, add and remove registrations (admin token; ``admin``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ui.embed import embed_page
from ui.render import corpus_title

from ..config import Settings
from ..errors import AssistantError
from ..web.errors import error_response as json_error
from ..web.runtime import Runtimes
from ..web.security import PAGE_CSP
from . import binding, pages
from .admin import admin_router
from .configuration import canvas_json, tool_values
from .deep_linking import CUSTOM_COLLECTION, CUSTOM_DOCUMENTS, resource_link, response_jwt
from .keys import ToolKeys, load_or_create
from .launch import Launch, Verifier
from .protocol import DEEP_LINKING_REQUEST, LtiError
from .registry import LtiFile, Platform, Registry, read_config
from .session import Signer
from .state import STATE_SECONDS, Binding, SqlStateStore, StateStore, default_url

log = logging.getLogger(__name__)

PICKER_AUDIENCE = "assistant-deep-link"
PICKER_SECONDS = 1800  # an instructor may take a while to choose


@dataclass
class Lti:
    """Everything the LTI routes share, built once from the configuration."""

    config: LtiFile
    registry: Registry
    keys: ToolKeys
    signer: Signer
    verifier: Verifier
    states: StateStore
    runtimes: Runtimes

    @classmethod
    def build(cls, settings: Settings, runtimes: Runtimes) -> Lti:
        assert settings.lti_config is not None
        config = read_config(settings.lti_config)
        key_dir = config.key_dir or settings.index_dir / "lti"
        keys = load_or_create(key_dir)
        registry = Registry(config.platforms, key_dir)
        states = SqlStateStore(settings.lti_state_store or config.state_store or default_url(key_dir))
        return cls(
            config=config,
            registry=registry,
            keys=keys,
            signer=Signer(keys.session_secret, config.session_minutes),
            verifier=Verifier(registry, states),
            states=states,
            runtimes=runtimes,
        )


def install(app: FastAPI, settings: Settings, runtimes: Runtimes) -> Lti:
    """Add the LTI routes and their HTML error pages to ``app``; called only when LTI is configured."""
    lti = Lti.build(settings, runtimes)
    app.state.lti = lti

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LtiError)
        log.info("LTI request refused (%d): %s", exc.status, exc)
        if request.url.path.startswith("/api/"):
            return json_error(exc.status, "lti_refused", str(exc))
        return pages.error_response(exc.status, exc.title, exc.detail)

    app.add_exception_handler(LtiError, refused)
    app.include_router(_tool_router(lti))
    app.include_router(admin_router(lti.registry, runtimes))
    return lti


def _base(request: Request) -> str:
    return str(request.base_url)


def _tool_router(lti: Lti) -> APIRouter:
    router = APIRouter(prefix="/lti", include_in_schema=False)

    @router.api_route("/login", methods=["GET", "POST"])
    async def login(request: Request) -> Response:
        params = {**request.query_params, **(await _form(request))}
        issuer, hint = params.get("iss", ""), params.get("login_hint", "")
        if not issuer or not hint:
            raise LtiError(
                400, "The login is malformed", "A login must name its issuer (iss) and login_hint."
            )
        platform = _platform_for_login(lti.registry, issuer, params.get("client_id"))
        launch_url = _base(request) + "lti/launch"
        target = params.get("target_link_uri", launch_url)
        if not _same_origin(target, launch_url):
            raise LtiError(400, "The login is malformed", "Its target_link_uri is not this tool.")
        storage_target = params.get(binding.STORAGE_TARGET, "")[:200]  # a frame name, as the store keeps it
        bound_by: Binding = "storage" if storage_target else "cookie"
        issued = lti.states.issue(
            platform.issuer,
            bound_by,
            storage_target=storage_target,
            login=binding.login_to_repeat(params),
        )
        query = {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": platform.client_id,
            "redirect_uri": launch_url,
            "login_hint": hint,
            "state": issued.state,
            "nonce": issued.nonce,
        }
        if "lti_message_hint" in params:
            query["lti_message_hint"] = params["lti_message_hint"]
        separator = "&" if "?" in platform.auth_login_url else "?"
        authorize = platform.auth_login_url + separator + urlencode(query)
        if bound_by == "storage":
            return pages.storage_response(
                mode="put",
                target=storage_target,
                origin=binding.origin_of(platform.auth_login_url),
                key=binding.storage_key(issued.state),
                value=issued.secret,
                next_url=authorize,
                new_window=_login_again(request, binding.login_to_repeat(params)),
                frame_ancestors=_frame_origins(lti),
            )
        redirect = RedirectResponse(authorize, status_code=302)
        binding.set_cookie(redirect, issued.state, issued.secret, STATE_SECONDS)
        return redirect

    @router.post("/launch")
    async def launch(request: Request) -> Response:
        form = await _form(request)
        id_token, state = form.get("id_token", ""), form.get("state", "")
        if not id_token or not state:
            error = form.get("error_description") or form.get("error")
            detail = f"The platform answered: {error}." if error else "It carries no id_token or no state."
            raise LtiError(400, "The launch is malformed", detail)
        pending = lti.states.peek(state)
        if pending is None:
            raise _unknown_state()
        if pending.bound_by == "storage":
            platforms = lti.registry.for_issuer(pending.issuer)
            if not platforms:
                raise LtiError(403, "This platform is not registered", "Its registration was removed.")
            return pages.storage_response(
                mode="get",
                target=pending.storage_target,
                origin=binding.origin_of(platforms[0].auth_login_url),
                key=binding.storage_key(state),
                form={"id_token": id_token, "state": state, binding.STORAGE_FIELD: ""},
                new_window=_login_again(request, pending.login),
                frame_ancestors=_frame_origins(lti),
            )
        secret = binding.cookie_secret(request, state)
        if not secret:
            return pages.new_window_response(_login_again(request, pending.login))
        response = _complete(lti, request, id_token, state, secret, "cookie")
        binding.clear_cookie(response, state)
        return response

    @router.post("/verify")
    async def verify(request: Request) -> Response:
        """The platform-storage launch page posts the id_token, state and the secret it read back."""
        if not binding.from_own_page(request):
            raise LtiError(403, "The launch does not verify", "It was not posted by the tool's own page.")
        form = await _form(request)
        id_token, state = form.get("id_token", ""), form.get("state", "")
        if not id_token or not state:
            raise LtiError(400, "The launch is malformed", "It carries no id_token or no state.")
        return _complete(lti, request, id_token, state, form.get(binding.STORAGE_FIELD, ""), "storage")

    @router.get("/chat")
    def chat(request: Request, session: str = Query("")) -> HTMLResponse:
        if not session:
            raise LtiError(401, "No session", "Open the assistant from your course.")
        opened = lti.signer.session(session)
        runtime = lti.runtimes.get(opened.collection) if opened.collection else lti.runtimes.default
        bot = runtime.bot
        page = embed_page(
            corpus_title(bot.documents()),
            bot.example_questions(),
            theme="auto",
            show_examples=True,
            collection=runtime.collection,
            root="../",
            session=session,
            documents=opened.documents,
            insights_url=_insights_url(request, session) if opened.instructor else None,
        )
        csp = f"{PAGE_CSP}; frame-ancestors {_frame_origins(lti)}"
        return HTMLResponse(page, headers={"Content-Security-Policy": csp, "Referrer-Policy": "no-referrer"})

    @router.post("/deep-link")
    async def deep_link(request: Request) -> Response:
        form = await request.form()
        claims = lti.signer.read(str(form.get("token", "")), PICKER_AUDIENCE)
        collection = str(form.get("collection", ""))
        if collection not in {info.name for info in lti.runtimes.library.collections()}:
            raise LtiError(400, "No such collection", f"{collection!r} is not a collection of this tool.")
        documents = [
            value.split("/", 1)[1]
            for value in (str(v) for v in form.getlist("documents"))
            if value.startswith(collection + "/")
        ]
        title = str(form.get("title", "")).strip()[:200] or "Ask about the reading"
        item = resource_link(_base(request) + "lti/launch", title, collection, documents)
        signed = response_jwt(
            lti.keys,
            client_id=claims["client_id"],
            issuer=claims["iss"],
            deployment_id=claims["deployment_id"],
            items=[item],
            data=claims.get("data"),
        )
        return pages.post_back_response(claims["return_url"], {"JWT": signed})

    @router.get("/jwks")
    def jwks() -> JSONResponse:
        return JSONResponse(lti.keys.jwks(), headers={"Cache-Control": "public, max-age=300"})

    @router.get("/config")
    def config(request: Request) -> HTMLResponse:
        page = pages.config_page(tool_values(_base(request)), canvas_json(_base(request)))
        csp = f"{pages.BASE_CSP}; form-action 'none'"
        return HTMLResponse(page, headers={"Content-Security-Policy": csp})

    @router.get("/config/canvas.json")
    def canvas(request: Request) -> dict[str, Any]:
        return canvas_json(_base(request))

    return router


async def _form(request: Request) -> dict[str, str]:
    if request.method != "POST":
        return {}
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _complete(lti: Lti, request: Request, id_token: str, state: str, secret: str, via: Binding) -> Response:
    """Take the login's state (once), check the browser's secret, verify the id_token, and answer:
    the chat for a resource link, the picker for Deep Linking."""
    pending = lti.states.take(state)
    if pending is None:
        raise _unknown_state()
    if pending.bound_by != via or not pending.bound_to(secret):
        raise LtiError(
            401,
            "This launch was not started in this browser",
            "Its login check does not match the one this browser was given. "
            "Open the assistant again from your course.",
        )
    verified = lti.verifier.verify(id_token, pending)
    if verified.message_type == DEEP_LINKING_REQUEST:
        return _picker(lti, verified)
    collection, documents = _reading(lti.runtimes, verified.custom)
    token = lti.signer.session_token(verified, collection, documents)
    return RedirectResponse("chat?" + urlencode({"session": token}), status_code=303)


def _unknown_state() -> LtiError:
    return LtiError(
        400,
        "This launch has expired or was used already",
        "Its login state is unknown to the tool, used or over ten minutes old. "
        "Open the assistant again from your course.",
    )


def _login_again(request: Request, login: str) -> str:
    """The login, repeated in a window of its own; "" where it was not kept."""
    return f"{_base(request)}lti/login?{login}" if login else ""


def _platform_for_login(registry: Registry, issuer: str, client_id: str | None) -> Platform:
    candidates = registry.for_issuer(issuer)
    if client_id:
        candidates = [p for p in candidates if p.client_id == client_id]
    if not candidates:
        raise LtiError(
            403,
            "This platform is not registered",
            "The tool has no registration for this issuer and client id; an administrator adds it to the "
            "tool's LTI configuration (see /lti/config).",
        )
    if len(candidates) > 1:
        raise LtiError(
            400, "The login is ambiguous", "Several registrations share this issuer; send client_id."
        )
    return candidates[0]


def _same_origin(url: str, ours: str) -> bool:
    a, b = urlsplit(url), urlsplit(ours)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc) and a.path.startswith("/lti/")


def _reading(runtimes: Runtimes, custom: dict[str, str]) -> tuple[str | None, tuple[str, ...]]:
    """The collection and documents a launch's custom parameters (set by Deep Linking) name."""
    collection = custom.get(CUSTOM_COLLECTION) or None
    if collection is not None:
        try:
            runtimes.get(collection)
        except AssistantError:
            raise LtiError(
                404, "This reading is not here any more", f"The collection {collection!r} does not exist."
            ) from None
    documents = tuple(d for d in (custom.get(CUSTOM_DOCUMENTS) or "").split(",") if d)
    return collection, documents


def _insights_url(request: Request, session: str) -> str | None:
    """The insight page for an instructor's course, where the question log is on."""
    if getattr(request.app.state, "question_log", None) is None:
        return None
    return "../insights/?" + urlencode({"session": session})


def _frame_origins(lti: Lti) -> str:
    """The registered platforms' origins may frame the chat: those a registration names, and its
    issuer's and authorization endpoint's."""
    origins = {"'self'"}
    for platform in lti.registry.all():
        origins.update(platform.origins)
        for url in (platform.issuer, platform.auth_login_url):
            if url.startswith(("http://", "https://")) and urlsplit(url).netloc:
                origins.add(binding.origin_of(url))
    return " ".join(sorted(origins))


def _picker(lti: Lti, launch: Launch) -> HTMLResponse:
    if not launch.instructor:
        raise LtiError(403, "Only instructors pick readings", "This launch's roles are not a teaching role.")
    settings = launch.deep_linking
    claims = {
        "iss": launch.platform.issuer,
        "client_id": launch.platform.client_id,
        "deployment_id": launch.deployment_id,
        "return_url": settings["deep_link_return_url"],
        "data": settings.get("data"),
    }
    token = lti.signer.sign(claims, PICKER_AUDIENCE, PICKER_SECONDS)
    choices = []
    for info in lti.runtimes.library.collections():
        documents = lti.runtimes.get(info.name).bot.documents()
        title = info.name if len(documents) != 1 else f"{info.name}: {corpus_title(documents)}"
        choices.append(pages.Choice(info.name, title, [(d.doc_id, d.title) for d in documents]))
    return pages.picker_response(pages.picker_page(token, choices, launch.context_title))
