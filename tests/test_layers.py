"""Layers run one way: the core never imports the edges (the web, LTI and insights packages,
the MCP server), FastAPI, Gradio, the MCP SDK or the UI."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EDGE = {"web", "lti", "insights"}  # packages at the HTTP edge, beside assistant.web
CORE = sorted(
    ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    for path in (ROOT / "assistant").rglob("*.py")
    if not EDGE & set(path.relative_to(ROOT / "assistant").parts)
    and path.stem not in ("__main__", "mcp_server")
)
WEB_ONLY = (
    "gradio",
    "fastapi",
    "starlette",
    "uvicorn",
    "ui",
    "mcp",
    "assistant.web",
    "assistant.lti",
    "assistant.insights",
    "assistant.mcp_server",
)


def test_the_core_imports_no_web_framework() -> None:
    """Every core module, imported in a fresh interpreter, leaves the web stack unloaded."""
    assert {"assistant", "assistant.pipeline", "assistant.cli", "assistant.evaluation.running"} <= set(CORE)
    script = (
        "import importlib, sys\n"
        f"for name in {CORE!r}: importlib.import_module(name)\n"
        f"print(','.join(m for m in {WEB_ONLY!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.strip() == "", f"the core loaded {done.stdout.strip()}"


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_ui_does_not_import_the_web_package() -> None:
    """ui/ sits on the core; the web package mounts it, never the other way round."""
    offending = {
        path.name: sorted(m for m in _imports(path) if m.startswith("assistant.web"))
        for path in (ROOT / "ui").glob("*.py")
    }
    assert not any(offending.values()), offending
