"""The chat page's "Manage documents" tab: list, add, remove and re-index a collection's documents.

The tab exists only when ``ASSISTANT_ADMIN_TOKEN`` is set, and stays locked until the
token is typed. Hiding the panel is not the protection: a browser can send any
event of the page, so every handler checks the token again before it reads or
changes anything. :class:`~assistant.library.Library` does the work; its errors are
shown as their one-line message, never as a traceback.

Uploaded files pass through Gradio's upload folder, from which Gradio would serve
them back to anyone with the link; each is deleted as soon as it has been read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.utils import get_upload_folder

from assistant.errors import AccessError, AssistantError
from assistant.formats import SUFFIXES
from assistant.index import IngestReport, Progress
from assistant.library import DocumentInfo, Library

from .render import documents_table_html, quoted, status_html

log = logging.getLogger(__name__)

LOCKED = "Type the admin token (the server's ASSISTANT_ADMIN_TOKEN) to add, remove or re-index documents."
WRONG_TOKEN = "That is not the admin token."
TOO_LARGE = (
    "A file larger than this page accepts can be added on the server: "
    "<code>assistant docs add FILE --collection NAME</code>."
)
FAILED = "The server failed to do this; the details are in its log."
Outcome = tuple[list[str], bool]  # the lines to show, and whether everything went well
# Gradio finds a handler's progress bar by this default value and reports through it per
# event (the event is looked up from context), so one instance serves every handler.
PROGRESS = gr.Progress()


class Admin:
    """The tab's event handlers; ``name`` is always the collection chosen on the page."""

    def __init__(self, library: Library) -> None:
        self.library = library

    def unlocked(self, token: str | None) -> bool:
        return self.library.settings.is_admin_token(token)

    def _check(self, token: str | None) -> None:
        if not self.unlocked(token):
            raise AccessError(WRONG_TOKEN)

    # -- handlers ------------------------------------------------------------------------

    def unlock(self, token: str | None, name: str) -> tuple[Any, ...]:
        """Open the panel for the right token: (lock status, lock, panel, table, document choice)."""
        if not self.unlocked(token):
            return status_html([WRONG_TOKEN], ok=False), gr.update(), gr.update(), gr.update(), gr.update()
        return "", gr.update(visible=False), gr.update(visible=True), *self.show(token, name)

    def show(self, token: str | None, name: str) -> tuple[Any, Any]:
        """The table and the document choice of collection ``name``; nothing while locked."""
        if not self.unlocked(token):
            return gr.update(), gr.update()
        try:
            infos = self.library.documents(name)
        except AssistantError as exc:
            return status_html([str(exc)], ok=False), gr.Dropdown(choices=[], value=None)
        choices = [(info.title, info.doc_id) for info in infos]
        return documents_table_html(infos), gr.Dropdown(choices=choices, value=None)

    def add(
        self, token: str | None, name: str, files: Sequence[str] | None, progress: gr.Progress = PROGRESS
    ) -> tuple[Any, ...]:
        """Add the uploaded files: (status, the cleared upload field, table, document choice)."""
        paths = [Path(file) for file in files or []]
        try:
            status = self._guarded(token, lambda: self._add(name, paths, _progress(progress)))
        finally:
            for path in paths:
                _discard(path)
        return status, None, *self.show(token, name)

    def ask_to_remove(self, token: str | None, name: str, doc_id: str | None) -> tuple[Any, ...]:
        """Ask for confirmation: (status, confirmation row, its text)."""
        if not self.unlocked(token):
            return status_html([WRONG_TOKEN], ok=False), gr.update(visible=False), ""
        if not doc_id:
            return (
                status_html(["Choose the document to remove first."], ok=False),
                gr.update(visible=False),
                "",
            )
        title = self._title(name, doc_id)
        question = status_html(
            [f"Remove {quoted(title)}? Its passages leave the index; its file is kept aside on the server."],
            ok=False,
        )
        return "", gr.update(visible=True), question

    def remove(self, token: str | None, name: str, doc_id: str | None) -> tuple[Any, ...]:
        """Remove the chosen document: (status, the hidden confirmation row, table, document choice)."""
        status = self._guarded(token, lambda: self._remove(name, doc_id))
        return status, gr.update(visible=False), *self.show(token, name)

    def reindex(
        self, token: str | None, name: str, doc_id: str | None, progress: gr.Progress = PROGRESS
    ) -> tuple[Any, ...]:
        """Re-index the chosen document: (status, table, document choice)."""
        if not doc_id:
            return status_html(["Choose the document to re-index first."], ok=False), gr.update(), gr.update()
        return self._reindex(token, name, [doc_id], progress)

    def reindex_all(self, token: str | None, name: str, progress: gr.Progress = PROGRESS) -> tuple[Any, ...]:
        return self._reindex(token, name, [], progress)

    # -- the work ------------------------------------------------------------------------

    def _guarded(self, token: str | None, action: Callable[[], Outcome]) -> str:
        """The outcome of ``action`` run after the token check; errors show as their message only."""
        try:
            self._check(token)
            lines, ok = action()
        except AssistantError as exc:
            lines, ok = [str(exc)], False
        except Exception:
            log.exception("A document management action failed.")
            lines, ok = [FAILED], False
        return status_html(lines, ok=ok)

    def _add(self, name: str, paths: list[Path], progress: Progress) -> Outcome:
        if not paths:
            return ["Choose the files to add first."], False
        lines, ok = [], True
        for path in paths:  # one bad file must not keep the others out
            try:
                report = self.library.add(name, path.name, path.read_bytes(), progress=progress)
                lines.append(f"{path.name}: {_added(report)}")
            except AssistantError as exc:
                lines.append(f"{path.name}: not added. {exc}")
                ok = False
        return lines, ok

    def _remove(self, name: str, doc_id: str | None) -> Outcome:
        if not doc_id:
            return ["Choose the document to remove first."], False
        title = self._title(name, doc_id)
        kept = self.library.remove(name, doc_id)
        removed = f"Removed {quoted(title)} from the index; its file is kept on the server as {kept.name}."
        return [removed], True

    def _reindex(self, token: str | None, name: str, doc_ids: list[str], bar: gr.Progress) -> tuple[Any, ...]:
        def run() -> Outcome:
            report = self.library.reindex(name, doc_ids, progress=_progress(bar))
            done = len(report.added) + len(report.updated)
            return [f"Re-indexed {done} document{'s' * (done != 1)} in {report.seconds:.1f} s."], True

        return self._guarded(token, run), *self.show(token, name)

    def _title(self, name: str, doc_id: str) -> str:
        return next((info.title for info in self._documents(name) if info.doc_id == doc_id), doc_id)

    def _documents(self, name: str) -> list[DocumentInfo]:
        try:
            return self.library.documents(name)
        except AssistantError:
            return []


def _added(report: IngestReport) -> str:
    if report.skipped:
        return "saved, but it could not be indexed: " + "; ".join(report.skipped.values())
    return "replaced the earlier version and indexed." if report.updated else "added and indexed."


def _progress(bar: gr.Progress) -> Progress:
    """The library's ``progress(stage, done, total)`` callback, shown on the page's progress bar."""

    def report(stage: str, done: int, total: int) -> None:
        bar((done, total), desc=f"Indexing {stage}", unit=stage)

    return report


def _discard(path: Path) -> None:
    """Delete an uploaded file (and its folder, if now empty), so Gradio cannot serve it back.

    Only files inside Gradio's upload folder are touched: that is where uploads land.
    """
    uploads = Path(get_upload_folder()).resolve()
    path = path.resolve()
    if uploads not in path.parents:
        return
    path.unlink(missing_ok=True)
    if path.parent != uploads and not any(path.parent.iterdir()):
        path.parent.rmdir()


def build_admin_tab(admin: Admin, collection: gr.Dropdown) -> list[Any]:
    """The tab: a lock, then (once unlocked) the table and the actions. Returns the events that
    change the collection, for the page to refresh what depends on its documents.

    Changes run one at a time (one queue slot), so two uploads never race for the index lock.
    """
    private: dict[str, Any] = {"api_visibility": "private"}
    one_at_a_time: dict[str, Any] = {**private, "concurrency_limit": 1, "concurrency_id": "admin"}
    with gr.Column(elem_id="qa-admin-lock") as lock:
        gr.HTML(f'<p class="qa-admin-intro">{LOCKED}</p>', js_on_load=None)
        with gr.Row(equal_height=True):
            token = gr.Textbox(
                label="Admin token", type="password", scale=4, max_lines=1, elem_id="qa-admin-token"
            )
            unlock = gr.Button("Unlock", variant="primary", scale=1, min_width=100, elem_id="qa-admin-unlock")
        lock_status = gr.HTML("", elem_id="qa-admin-lock-status", js_on_load=None)
    with gr.Column(visible=False, elem_id="qa-admin") as panel:
        table = gr.HTML("", elem_id="qa-admin-table", js_on_load=None)
        gr.HTML(f'<p class="qa-admin-intro">{TOO_LARGE}</p>', js_on_load=None)
        with gr.Group():
            files = gr.File(
                label=f"Add documents ({', '.join(SUFFIXES)}); a file of the same name is replaced",
                file_count="multiple",
                file_types=list(SUFFIXES),
                type="filepath",
                elem_id="qa-admin-files",
            )
            add = gr.Button("Add to the collection", variant="primary", elem_id="qa-admin-add")
        with gr.Group():
            document = gr.Dropdown(
                label="Document to re-index or remove", choices=[], value=None, elem_id="qa-admin-document"
            )
            with gr.Row():
                reindex = gr.Button("Re-index this document", size="sm", elem_id="qa-admin-reindex")
                reindex_all = gr.Button("Re-index all", size="sm", elem_id="qa-admin-reindex-all")
                remove = gr.Button(
                    "Remove this document…", size="sm", variant="stop", elem_id="qa-admin-remove"
                )
        with gr.Row(visible=False, elem_id="qa-admin-confirm") as confirm_row:
            confirm_text = gr.HTML("", js_on_load=None)
            confirm = gr.Button("Yes, remove it", variant="stop", size="sm", elem_id="qa-admin-confirm-yes")
            cancel = gr.Button("Cancel", size="sm", elem_id="qa-admin-confirm-no")
        status = gr.HTML("", elem_id="qa-admin-status", js_on_load=None)

    who, shown = [token, collection], [table, document]
    for opened in (unlock.click, token.submit):
        opened(admin.unlock, who, [lock_status, lock, panel, *shown], **private)
    collection.change(admin.show, who, shown, **private)
    cancel.click(lambda: gr.update(visible=False), None, confirm_row, **private)
    remove.click(admin.ask_to_remove, [*who, document], [status, confirm_row, confirm_text], **private)
    return [
        add.click(admin.add, [*who, files], [status, files, *shown], **one_at_a_time),
        confirm.click(admin.remove, [*who, document], [status, confirm_row, *shown], **one_at_a_time),
        reindex.click(admin.reindex, [*who, document], [status, *shown], **one_at_a_time),
        reindex_all.click(admin.reindex_all, who, [status, *shown], **one_at_a_time),
    ]
