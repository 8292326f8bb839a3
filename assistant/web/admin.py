"""Document management over HTTP: list, upload, remove and re-index a collection's documents.

Every route needs ``Authorization: Bearer <ASSISTANT_ADMIN_TOKEN>``; with no token
configured, management over HTTP is off (403) and only the CLI (``assistant docs``)
can change a collection. The routes are thin: :class:`~assistant.library.Library`
does the work, and its errors become JSON errors at the app's edge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, File, Header, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from ..errors import AccessError, ManagementOffError
from ..formats import SUFFIX_NAMES
from ..index import IngestReport
from ..library import Library

ADMIN_PREFIX = "/api/admin/"
UPLOAD = File(description=f"a {SUFFIX_NAMES} file")


class ReindexRequest(BaseModel):
    documents: list[str] = Field(
        default_factory=list, max_length=10_000, description="doc_ids to embed again; all when empty."
    )


def report_dict(report: IngestReport) -> dict[str, Any]:
    return asdict(report)


def admin_check(library: Library) -> Callable[..., None]:
    """A dependency that lets a request through only with the admin token (see the module)."""

    def authorised(authorization: str | None = Header(None, description="Bearer <admin token>")) -> None:
        token = library.settings.admin_token
        if token is None:
            raise ManagementOffError(
                "Management over HTTP is off; set ASSISTANT_ADMIN_TOKEN on the server to turn it on."
            )
        given = (authorization or "").removeprefix("Bearer ").strip()
        if not library.settings.is_admin_token(given):
            raise AccessError("Send the admin token as `Authorization: Bearer <token>`.")

    return authorised


def admin_router(library: Library) -> APIRouter:
    router = APIRouter(
        prefix=ADMIN_PREFIX.rstrip("/"), tags=["admin"], dependencies=[Depends(admin_check(library))]
    )

    @router.get("/collections/{name}/documents")
    def documents(name: str) -> list[dict[str, Any]]:
        """The collection's documents, indexed or waiting to be, with their formats and chunk counts."""
        return [asdict(info) for info in library.documents(name)]

    @router.post("/collections/{name}/documents")
    async def upload(name: str, file: UploadFile = UPLOAD) -> dict[str, Any]:
        """Add a file to the collection (replacing one of the same name) and index it."""
        data = await file.read()
        report = await run_in_threadpool(library.add, name, file.filename or "", data)
        return report_dict(report)

    @router.delete("/collections/{name}/documents/{doc_id}")
    def remove(name: str, doc_id: str) -> dict[str, Any]:
        """Remove a document: its chunks leave the index, its file is kept aside on the server."""
        kept = library.remove(name, doc_id)
        return {"removed": doc_id, "kept_as": kept.name}

    @router.post("/collections/{name}/reindex")
    def reindex(name: str, request: ReindexRequest) -> dict[str, Any]:
        """Embed documents again (all of them when none are named)."""
        return report_dict(library.reindex(name, request.documents))

    return router
