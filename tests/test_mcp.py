"""The MCP server, driven by the official ``mcp`` SDK's own client: over stdio (``python -m assistant
mcp`` as a subprocess) and over streamable HTTP (``/mcp`` on a real server on 127.0.0.1)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from pydantic import SecretStr

from assistant import Assistant
from assistant.web import create_app

from .conftest import ESSAY, ROOT

pytest_plugins = ["tests.server_fixtures"]
pytestmark = pytest.mark.anyio

Serve = Callable[..., AbstractContextManager[str]]
QUESTION = "What is defensive deterrence?"
DOCUMENT = "reading://default/values-in-foreign-policy"
TOKEN = "mcp-token-5678"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def guarded(server_bot: Assistant, serve: Serve) -> Iterator[str]:
    settings = server_bot.settings.model_copy(update={"api_token": SecretStr(TOKEN)})
    with serve(create_app(Assistant(settings))) as base:
        yield base


def stdio(index_dir: Path, *extra: str) -> StdioServerParameters:
    """``python -m assistant mcp`` on the session's index of the project's corpus."""
    args = ["-m", "assistant", "mcp", "--corpus", str(ROOT / "corpus"), "--index", str(index_dir), *extra]
    return StdioServerParameters(command=sys.executable, args=args, cwd=ROOT, env={"PYTHONPATH": str(ROOT)})


@asynccontextmanager
async def with_token(url: str, token: str) -> AsyncIterator[Client]:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        yield client


async def check_the_server(client: Client, base: str) -> None:
    """Tools and resources are listed; ask's quotes are exact slices of the document's resource."""
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == {"ask", "search"}
    assert {"question", "collection", "documents"} <= set(tools["ask"].input_schema["properties"])
    assert tools["ask"].output_schema is not None

    resources = (await client.list_resources()).resources
    assert DOCUMENT in [str(r.uri) for r in resources]
    text = (await client.read_resource(DOCUMENT)).contents[0].text
    assert text == ESSAY.read_text(encoding="utf-8")

    result = await client.call_tool("ask", {"question": QUESTION})
    assert not result.is_error
    answer = result.structured_content
    assert answer is not None and answer["refused"] is False and answer["citations"]
    for citation in answer["citations"]:
        assert citation["document"] == DOCUMENT
        assert text[citation["start"] : citation["end"]] == citation["quote"]
        assert f"[{citation['marker']}]" in answer["answer"]
        assert citation["reading_view"] == f"{base}/read/values-in-foreign-policy#{citation['anchor']}"
    shown = result.content[0].text
    assert shown.startswith(answer["answer"].split(" [1]")[0]) and "Sources:" in shown

    found = await client.call_tool("search", {"query": "defensive deterrence", "k": 3})
    passages = found.structured_content["passages"]
    assert [p["rank"] for p in passages] == [1, 2, 3]
    assert all(text[p["start"] : p["end"]] == p["text"] for p in passages)


async def test_stdio(server_index_dir: Path) -> None:
    base = "http://127.0.0.1:7860"
    async with Client(stdio(server_index_dir, "--base-url", base)) as client:
        await check_the_server(client, base)


async def test_streamable_http_on_serve(live_server: str) -> None:
    async with Client(f"{live_server}/mcp") as client:
        await check_the_server(client, live_server)


async def test_refusals_and_bad_arguments(live_server: str) -> None:
    async with Client(f"{live_server}/mcp") as client:
        refused = await client.call_tool("ask", {"question": "What is the capital of Peru?"})
        assert not refused.is_error
        assert refused.structured_content["refused"] is True and refused.structured_content["citations"] == []
        assert "Peru" in refused.content[0].text
        doubtful = await client.call_tool("ask", {"question": "Which county does the author live in?"})
        assert doubtful.structured_content["uncertain"] is True and not doubtful.structured_content["refused"]
        assert "“county”" in doubtful.content[0].text and "“county”" in doubtful.structured_content["caveat"]

        async def error_of(tool: str, arguments: dict[str, Any]) -> str:
            result = await client.call_tool(tool, arguments)
            assert result.is_error
            return str(result.content[0].text)

        assert "empty" in await error_of("ask", {"question": "  "})
        assert "no collection 'nowhere'" in await error_of(
            "ask", {"question": QUESTION, "collection": "nowhere"}
        )
        assert "No document 'missing'" in await error_of(
            "ask", {"question": QUESTION, "documents": ["missing"]}
        )
        assert "greater than or equal to 1" in await error_of("search", {"query": QUESTION, "k": 0})


async def test_the_api_token_guards_mcp_over_http(guarded: str) -> None:
    refused = httpx.post(f"{guarded}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    assert refused.json()["error"]["type"] == "invalid_api_key"
    async with with_token(f"{guarded}/mcp", TOKEN) as client:
        result = await client.call_tool("ask", {"question": QUESTION})
        assert not result.is_error and result.structured_content["citations"]
