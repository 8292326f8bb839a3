"""The browser front ends of the assistant: the Gradio chat, the reading view and the embed page.

They sit on the core Python API (``assistant.Assistant``); the HTTP app in
``assistant.api`` mounts them next to the JSON API.
"""

from __future__ import annotations

from pathlib import Path

# Imported first for its side effect: assistant.config turns Gradio's analytics off
# (GRADIO_ANALYTICS_ENABLED=False) before any module of this package imports gradio.
import assistant  # noqa: F401

STATIC_DIR = Path(__file__).resolve().parent / "static"
