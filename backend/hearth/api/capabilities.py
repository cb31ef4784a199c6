"""GET /api/capabilities and POST /api/capabilities/refresh: hardware, cache, active runtime,
recommendation and upgrade state, as one document."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from hearth.hardware.service import HardwareService

router = APIRouter(prefix="/api/capabilities", tags=["capabilities"])


def _hardware(request: Request) -> HardwareService:
    return request.app.state.hardware


HardwareDep = Annotated[HardwareService, Depends(_hardware)]


# Plain `def`: detection runs nvidia-smi and reads files, so FastAPI runs these in its threadpool.
@router.get("")
def get_capabilities(hardware: HardwareDep) -> dict[str, Any]:
    return hardware.current()


@router.post("/refresh")
def refresh_capabilities(hardware: HardwareDep) -> dict[str, Any]:
    return hardware.refresh()
