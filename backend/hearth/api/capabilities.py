"""GET /api/capabilities and POST /api/capabilities/refresh: hardware, cache, active runtime,
recommendation and upgrade state, as one document."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hearth.api.deps import HardwareDep

router = APIRouter(prefix="/api/capabilities", tags=["capabilities"])


# Plain `def`: detection runs nvidia-smi and reads files, so FastAPI runs these in its threadpool.
@router.get("")
def get_capabilities(hardware: HardwareDep) -> dict[str, Any]:
    return hardware.current()


@router.post("/refresh")
def refresh_capabilities(hardware: HardwareDep) -> dict[str, Any]:
    return hardware.refresh()
