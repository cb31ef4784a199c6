"""Health, status, and which model is loaded."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

import hearth
from hearth.api.deps import ModelsDep

router = APIRouter(tags=["system"])


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness for the shell's health poll; the only route that needs no token."""
    return {"status": "ok", "version": hearth.__version__}


@router.get("/api/status")
async def status(models: ModelsDep) -> dict[str, Any]:
    return {"version": hearth.__version__, "engine": models.status()}


class LoadBody(BaseModel):
    model: str | None = Field(default=None, max_length=512)


@router.post("/api/engine/load")
async def load(body: LoadBody, models: ModelsDep) -> dict[str, Any]:
    """Load a chat model now (the UI's model picker), waiting behind running answers."""
    engine = await models.load(body.model)
    return {"loaded": engine.info().__dict__}


@router.post("/api/engine/unload")
async def unload(models: ModelsDep) -> dict[str, Any]:
    await models.unload()
    return {"loaded": None}
