"""The LTI registrations over the admin API: ``/api/admin/lti/platforms`` (admin token)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from ..web.admin import ADMIN_PREFIX, admin_check
from ..web.runtime import Runtimes
from .protocol import LtiError
from .registry import Platform, Registry


def admin_router(registry: Registry, runtimes: Runtimes) -> APIRouter:
    """``/api/admin/lti/platforms``: list, add and remove registrations (admin token)."""
    router = APIRouter(
        prefix=ADMIN_PREFIX + "lti",
        tags=["admin"],
        dependencies=[Depends(admin_check(runtimes.library))],
    )

    @router.get("/platforms")
    def platforms() -> list[dict[str, Any]]:
        """The registered LTI platforms (from the configuration file and added here)."""
        return [p.model_dump(mode="json") for p in registry.all()]

    @router.post("/platforms")
    def add(platform: Platform) -> dict[str, Any]:
        """Register an LTI platform (or replace one added here before)."""
        registry.add(platform)
        return platform.model_dump(mode="json")

    @router.delete("/platforms")
    def remove(issuer: str = Query(...), client_id: str = Query(...)) -> dict[str, Any]:
        """Remove a registration added over this API."""
        if not registry.remove(issuer, client_id):
            raise LtiError(404, "No such registration", f"{issuer} / {client_id} was not added over the API.")
        return {"removed": {"issuer": issuer, "client_id": client_id}}

    return router
