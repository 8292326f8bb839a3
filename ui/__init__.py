"""The browser front ends of the assistant: the Gradio chat, the reading view and the embed page.

They sit on the core Python API (``assistant.Assistant``); the HTTP app in
``assistant.web`` mounts them next to the JSON API.
"""

from __future__ import annotations

import os
from pathlib import Path

# Nothing phones home: Gradio reads this when it is first imported, which no module of
# this package does before this line runs.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

STATIC_DIR = Path(__file__).resolve().parent / "static"
