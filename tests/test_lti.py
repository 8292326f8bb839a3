"""LTI 1.3 against a real platform implementation (``lti1p3platform``, tests/lti_platform.py):
login, launch, chat and Deep Linking round trips with the served app, and every rejection."""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, FrameLocator, Page, expect
from pydantic import SecretStr

from assistant import Assistant
from assistant.web import create_app
from tests.browser_fixtures import CHROMIUM, CHROMIUM_FLAGS, DESKTOP
from tests.lti_platform import (
    CLIENT_ID,
    STORAGE_FRAME,
    LaunchForm,
    LtiPlatform,
    form_of,
    served_platform,
    set_cookies,
)
from tests.server_fixtures import SCREENSHOTS

pytest_plugins = ["tests.server_fixtures", "tests.browser_fixtures"]

ADMIN_TOKEN = "lti-admin-token"


@dataclass
class Setup:
    platform: LtiPlatform
    tool: str  # the tool's base URL, with its trailing slash
    key_dir: Path


@pytest.fixture(scope="module")
def lti(
    server_bot: Assistant,
    serve: Callable[..., AbstractContextManager[str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Setup]:
    folder = tmp_path_factory.mktemp("lti")
    with served_platform(serve, folder) as (platform, config):
        settings = server_bot.settings.model_copy(
            update={"lti_config": config, "admin_token": SecretStr(ADMIN_TOKEN)}
        )
        with serve(create_app(Assistant(settings))) as tool_base:
            platform.tool = tool_base + "/"
            yield Setup(platform, platform.tool, folder / "keys")


def _refused(response: httpx.Response, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert words in response.text
    assert "Traceback" not in response.text and "Error" in response.text


def test_learner_launch_opens_the_chat_and_it_answers(lti: Setup) -> None:
    launched = lti.platform.launch(kind="resource", role="learner")
    assert launched.status_code == 303
    location = launched.headers["location"]
    assert location.startswith("chat?session=")
    chat = httpx.get(lti.tool + "lti/" + location)
    assert chat.status_code == 200
    assert "set-cookie" not in chat.headers
    # The launch only expires the login's cookie (binding.py); the chat needs none.
    assert all("Max-Age=0" in c for c in launched.headers.get_list("set-cookie"))
    assert (
        f"frame-ancestors 'self' {lti.platform.base.rstrip('/')}" in chat.headers["content-security-policy"]
    )
    assert 'data-root="../"' in chat.text and "data-session=" in chat.text
    session = parse_qs(urlsplit(location).query)["session"][0]
    answer = httpx.post(
        lti.tool + "api/ask",
        json={"question": "What role should values play in foreign policy?"},
        headers={"X-Assistant-Session": session},
        timeout=60,
    )
    assert answer.status_code == 200
    assert answer.json()["citations"], answer.json()


def test_deep_linking_round_trip_places_a_reading_that_launches(lti: Setup) -> None:
    picker = lti.platform.launch(kind="deeplink", role="instructor")
    assert picker.status_code == 200, picker.text
    assert "Close reading 101" in picker.text
    form = form_of(picker.text)
    documents = [i["value"] for i in form.inputs if i.get("name") == "documents"]
    assert documents, "the picker lists the collection's documents"
    fields = {**dict(form.fields), "documents": [documents[0]], "title": "Week 3: ask the essay"}
    back = httpx.post(lti.tool + "lti/" + (form.action or ""), data=fields)
    assert back.status_code == 200, back.text
    post_back = form_of(back.text)
    assert post_back.action == lti.platform.base + "deep-link-return"
    # The platform verifies the response's signature against the tool's published JWKS.
    added = httpx.post(post_back.action, data=dict(post_back.fields))
    assert added.status_code == 200 and "1 added" in added.text
    (item,) = lti.platform.returned[-1]
    doc_id = documents[0].split("/", 1)[1]
    assert item["type"] == "ltiResourceLink" and item["url"] == lti.tool + "lti/launch"
    assert item["title"] == "Week 3: ask the essay"
    assert item["custom"] == {"collection": "default", "documents": doc_id}
    # The placed link launches the chat on the chosen document.
    launched = lti.platform.launch(kind="resource", role="learner", custom=item["custom"], link="placed")
    assert launched.status_code == 303
    chat = httpx.get(lti.tool + "lti/" + launched.headers["location"])
    assert f'data-documents="{doc_id}"' in chat.text


def test_a_learner_cannot_pick_readings(lti: Setup) -> None:
    _refused(lti.platform.launch(kind="deeplink", role="learner"), 403, "Only instructors pick readings")


@pytest.mark.parametrize(
    ("variant", "status", "words"),
    [
        ("bad-signature", 401, "signature does not match"),
        ("wrong-aud", 401, "audience is not a client id"),
        ("expired", 401, "The launch has expired"),
        ("unknown-deployment", 403, "This deployment is not registered"),
        ("wrong-type", 400, "This kind of launch is not supported"),
    ],
)
def test_launches_that_do_not_verify_are_refused(lti: Setup, variant: str, status: int, words: str) -> None:
    _refused(lti.platform.launch(kind="resource", role="learner", variant=variant), status, words)


def test_a_replayed_launch_is_refused(lti: Setup) -> None:
    form = lti.platform.launch_form(kind="resource", role="learner")
    assert form.post().status_code == 303
    _refused(form.post(), 400, "used already")
    # The same id_token with the state of a fresh login: its nonce is not this login's.
    fresh = lti.platform.launch_form(kind="resource", role="learner")
    _refused(fresh.post(id_token=form.fields["id_token"]), 401, "nonce")


def test_malformed_and_unregistered_requests_get_pages_not_traces(lti: Setup) -> None:
    _refused(httpx.post(lti.tool + "lti/launch", data={}), 400, "The launch is malformed")
    _refused(
        httpx.post(lti.tool + "lti/launch", data={"id_token": "x", "state": "y"}), 400, "expired or was used"
    )
    login = httpx.get(lti.tool + "lti/login", params={"iss": "https://elsewhere.example", "login_hint": "u"})
    _refused(login, 403, "This platform is not registered")
    _refused(httpx.get(lti.tool + "lti/chat", params={"session": "forged"}), 401, "not valid")


def test_login_redirects_to_the_platform_with_state_and_nonce(lti: Setup) -> None:
    login = httpx.get(
        lti.tool + "lti/login",
        params={"iss": lti.platform.base, "login_hint": "u", "client_id": CLIENT_ID, "lti_message_hint": "m"},
    )
    assert login.status_code == 302
    target = urlsplit(login.headers["location"])
    query = parse_qs(target.query)
    assert f"{target.scheme}://{target.netloc}{target.path}" == lti.platform.base + "authorize"
    assert query["response_mode"] == ["form_post"] and query["redirect_uri"] == [lti.tool + "lti/launch"]
    assert query["state"][0] and query["nonce"][0] and query["state"] != query["nonce"]


def test_login_binds_its_state_to_the_browser_with_a_cookie(lti: Setup) -> None:
    login = httpx.get(lti.tool + "lti/login", params={"iss": lti.platform.base, "login_hint": "u"})
    assert login.status_code == 302
    state = parse_qs(urlsplit(login.headers["location"]).query)["state"][0]
    (cookie,) = login.headers.get_list("set-cookie")
    assert cookie.startswith(f"lti_state_{state}=")
    for attribute in ("HttpOnly", "Secure", "SameSite=none", "Path=/lti", "Max-Age=600"):
        assert attribute.lower() in cookie.lower(), cookie


def test_a_launch_with_another_browsers_cookie_is_refused(lti: Setup) -> None:
    form = lti.platform.launch_form(kind="resource", role="learner")
    mine = lti.platform.launch_form(kind="resource", role="learner")
    (name,) = form.cookies
    _refused(
        LaunchForm(form.action, form.fields, {name: mine.cookies.popitem()[1]}).post(), 401, "not started"
    )
    # The check used the state up: the right cookie cannot try again.
    _refused(form.post(), 400, "used already")


def test_a_launch_whose_cookie_did_not_come_back_offers_a_new_window(lti: Setup) -> None:
    """No platform storage, and the login's cookie is missing (third-party cookies blocked):
    an explanation, and the same login again in a window of its own."""
    form = lti.platform.launch_form(kind="resource", role="learner", user="cookieless")
    page = httpx.post(form.action, data=form.fields)
    _refused(page, 403, "Open the assistant in a new window")
    link = unescape(re.search(r'href="([^"]+)" target="_blank" rel="noopener"', page.text)[1])  # type: ignore[index]
    assert link.startswith(lti.tool + "lti/login?")
    # The link repeats the platform's login: in a new window it sets a first-party cookie and launches.
    again = httpx.get(link)
    assert again.status_code == 302 and set_cookies(again)
    platform_form = httpx.get(again.headers["location"])
    launched = lti.platform.form_from(platform_form.text, set_cookies(again)).post()
    assert launched.status_code == 303 and launched.headers["location"].startswith("chat?session=")
    # The first launch's state is still unused but now useless without its cookie.
    assert httpx.post(form.action, data=form.fields).status_code == 403


def _data(html: str) -> dict[str, str]:
    """The platform-storage page's data attributes."""
    return {k: unescape(v) for k, v in re.findall(r'data-(\w+)="([^"]*)"', html)}


def _storage_login(lti: Setup, **hint: object) -> dict[str, str]:
    start = httpx.get(lti.platform.start_url(kind="resource", role="learner", storage=True, **hint))
    login = httpx.get(start.headers["location"])
    assert login.status_code == 200, login.text
    assert "set-cookie" not in login.headers, "platform storage replaces the cookie"
    assert "ui-static/lti-storage.js" in login.text
    assert "script-src 'self'" in login.headers["content-security-policy"]
    return _data(login.text)


def _storage_launch(lti: Setup, login: dict[str, str]) -> tuple[dict[str, str], LaunchForm]:
    form = lti.platform.form_from(httpx.get(login["next"]).text, {})
    page = form.post()
    assert page.status_code == 200 and "set-cookie" not in page.headers
    verify = form_of(page.text)
    assert verify.action == "verify"
    return _data(page.text), LaunchForm(lti.tool + "lti/verify", dict(verify.fields), {})


def test_platform_storage_binds_the_state_and_the_launch_checks_it(lti: Setup) -> None:
    """The messages of the spec's flow, as the pages' script sends them (the browser test runs it)."""
    login = _storage_login(lti)
    assert login["mode"] == "put" and login["target"] == STORAGE_FRAME
    assert login["origin"] == lti.platform.base.rstrip("/"), "the platform's origin, from its auth URL"
    assert login["next"].startswith(lti.platform.base + "authorize?")
    state = parse_qs(urlsplit(login["next"]).query)["state"][0]
    assert login["key"] == f"lti_state_{state}" and login["value"] not in (state, "")
    launch, verify = _storage_launch(lti, login)
    assert launch["mode"] == "get" and launch["key"] == login["key"] and "value" not in launch
    assert launch["origin"] == login["origin"] and launch["target"] == STORAGE_FRAME
    launched = verify.post(lti_storage_value=login["value"])
    assert launched.status_code == 303 and launched.headers["location"].startswith("chat?session=")
    _refused(verify.post(lti_storage_value=login["value"]), 400, "used already")


def test_platform_storage_value_that_does_not_match_is_refused(lti: Setup) -> None:
    _, verify = _storage_launch(lti, _storage_login(lti))
    _refused(verify.post(lti_storage_value="another-browsers-secret"), 401, "not started in this browser")
    _, verify = _storage_launch(lti, _storage_login(lti))
    _refused(verify.post(lti_storage_value=""), 401, "not started in this browser")


def test_verify_accepts_only_a_post_from_the_tools_own_page(lti: Setup) -> None:
    login = _storage_login(lti)
    _, verify = _storage_launch(lti, login)
    fields = {**verify.fields, "lti_storage_value": login["value"]}
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://attacker.example"}):
        _refused(httpx.post(verify.action, data=fields, headers=headers), 403, "own page")
    # A cookie-bound state cannot be completed through the storage step, nor the other way.
    form = lti.platform.launch_form(kind="resource", role="learner")
    (secret,) = form.cookies.values()
    _refused(httpx.post(verify.action, data={**form.fields, "lti_storage_value": secret}), 401, "not started")
    own = {"Sec-Fetch-Site": "same-origin", "Origin": lti.tool.rstrip("/")}
    assert httpx.post(verify.action, data=fields, headers=own).status_code == 303


def test_tool_key_is_private_and_published(lti: Setup) -> None:
    assert stat.S_IMODE((lti.key_dir / "tool-key.pem").stat().st_mode) == 0o600
    keys = httpx.get(lti.tool + "lti/jwks").json()["keys"]
    assert keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256" and "d" not in keys[0]


def test_configuration_page_and_canvas_json(lti: Setup) -> None:
    page = httpx.get(lti.tool + "lti/config")
    assert page.status_code == 200 and lti.tool + "lti/login" in page.text
    canvas = httpx.get(lti.tool + "lti/config/canvas.json").json()
    assert canvas["oidc_initiation_url"] == lti.tool + "lti/login"
    assert canvas["public_jwk_url"] == lti.tool + "lti/jwks"


def test_registrations_over_the_admin_api(lti: Setup) -> None:
    url = lti.tool + "api/admin/lti/platforms"
    entry = {**lti.platform.tool_registration(), "client_id": "second-client"}
    assert httpx.post(url, json=entry).status_code == 401
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    assert httpx.post(url, json=entry, headers=auth).status_code == 200
    assert {p["client_id"] for p in httpx.get(url, headers=auth).json()} == {CLIENT_ID, "second-client"}
    saved = lti.key_dir / "platforms.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    bad = httpx.post(url, json={**entry, "jwks_url": None}, headers=auth)
    assert bad.status_code == 422
    params = {"issuer": entry["issuer"], "client_id": "second-client"}
    assert httpx.delete(url, params=params, headers=auth).status_code == 200
    assert [p["client_id"] for p in httpx.get(url, headers=auth).json()] == [CLIENT_ID]


def test_no_lti_route_without_its_configuration(live_server: str) -> None:
    for path in ("/lti/login", "/lti/jwks", "/lti/config", "/lti/chat"):
        assert httpx.get(live_server + path).status_code == 404, path
    assert httpx.post(live_server + "/lti/launch", data={"id_token": "x"}).status_code in (404, 405)
    assert httpx.get(live_server + "/api/admin/lti/platforms").status_code == 404


@pytest.fixture
def strict(browser: Browser) -> Iterator[BrowserContext]:
    """A browser that blocks third-party cookies, as Chrome's phase-out and Safari do."""
    blocking = browser.browser_type.launch(
        executable_path=str(CHROMIUM), args=[*CHROMIUM_FLAGS, "--test-third-party-cookie-phaseout"]
    )
    try:
        yield blocking.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    finally:
        blocking.close()


def _course(lti: Setup, **hint: object) -> str:
    return f"{lti.platform.course_origin}/course?hint={quote(json.dumps(hint))}"


def _ask(frame: FrameLocator | Page) -> None:
    expect(frame.locator("#question")).to_be_visible(timeout=30_000)
    frame.locator("#question").fill("What role should values play in foreign policy?")
    frame.locator("#ask-button").click()
    expect(frame.locator("#sources-count")).not_to_have_text("0", timeout=60_000)


@pytest.mark.browser
def test_launched_inside_the_course_frame_with_third_party_cookies_blocked(
    lti: Setup, strict: BrowserContext
) -> None:
    """The course page (localhost) frames the platform's link (127.0.0.1): login, launch and chat all
    run in a cross-site frame of a browser that blocks third-party cookies. The platform offers its
    storage: the login keeps its check there (lti.put_data), the launch reads it back (lti.get_data),
    and the tool sets no cookie."""
    page = strict.new_page()
    page.goto(_course(lti, kind="resource", role="learner", user="browser-learner", storage=True))
    _ask(page.frame_locator("#tool"))
    chat = next(f for f in page.frames if "/lti/chat" in f.url)
    assert chat.url.startswith(lti.tool + "lti/chat?session=")
    assert strict.cookies() == [], "the tool must not need cookies"
    storage = next(f for f in page.frames if f.name == STORAGE_FRAME)
    assert storage.evaluate("window.ignored") == 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "lti-launch-in-course-frame.png"))


@pytest.mark.browser
def test_a_top_level_launch_is_bound_by_a_first_party_cookie(lti: Setup, browser: Browser) -> None:
    context = browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    try:
        page = context.new_page()
        page.goto(lti.platform.start_url(kind="resource", role="learner", user="top-level"))
        _ask(page)
        assert page.url.startswith(lti.tool + "lti/chat?session=")
        assert context.cookies() == [], "the launch expires the login's cookie"
    finally:
        context.close()


@pytest.mark.browser
def test_without_storage_or_cookies_the_frame_offers_a_new_window_that_works(
    lti: Setup, strict: BrowserContext
) -> None:
    """No platform storage, and the login's cookie blocked in the cross-site frame: the frame says
    so, and its link runs the login again in a tab of its own, where the cookie is first-party."""
    page = strict.new_page()
    page.goto(_course(lti, kind="resource", role="learner", user="cookieless-browser"))
    frame = page.frame_locator("#tool")
    expect(frame.locator("h1")).to_have_text("Open the assistant in a new window", timeout=30_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "lti-new-window-offer.png"))
    with strict.expect_page() as opened:
        frame.locator("#new-window").click()
    tab = opened.value
    _ask(tab)
    assert tab.url.startswith(lti.tool + "lti/chat?session=")
