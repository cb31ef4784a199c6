"""Settings → Local API server: on or off, its fixed port, and the local network (admin only).
A change applies at once (hearth.api_server); the local network needs `confirm_lan`, the UI's
"yes" to a warning that says what it exposes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field

from hearth import api_server
from hearth.api.deps import ApiListenerDep, SettingsDep
from hearth.errors import BadRequest

router = APIRouter(prefix="/api/admin/api-server", tags=["local API server"])


class ApiServerChange(api_server.ApiServerConfig):
    confirm_lan: bool = Field(
        default=False,
        description="Required to turn the local network on: every computer there can then "
        "reach Hearth's API with an API key.",
    )


@router.get("")
async def get_api_server(listener: ApiListenerDep) -> dict[str, Any]:
    return listener.status()


@router.put("")
async def put_api_server(
    body: ApiServerChange, listener: ApiListenerDep, settings: SettingsDep
) -> dict[str, Any]:
    # Asked whenever the network is newly chosen, on or off: turning it on later must not
    # open it without the question.
    if body.lan and not listener.config.lan and not body.confirm_lan:
        raise BadRequest(
            "Serving the local network lets every computer on it use Hearth's models, "
            "conversations and documents with an API key. Confirm it to turn it on.",
            code="confirm_lan",
        )
    config = api_server.ApiServerConfig(enabled=body.enabled, port=body.port, lan=body.lan)
    api_server.save(settings.data_dir / api_server.FILENAME, config)  # kept even if busy now
    await listener.apply(config)
    return listener.status()
