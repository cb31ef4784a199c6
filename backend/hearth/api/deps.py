"""Every service a route depends on, typed, in one place: routes never read `app.state`.

The app builds the services (hearth.app) and keeps them on `app.state`; these aliases are the
only readers, so a route's signature says what it needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.engine import Engine

from hearth.api_server import ApiListener
from hearth.batches.runner import BatchRunner
from hearth.batches.store import BatchStore
from hearth.chat.service import ChatService
from hearth.docs.service import DocumentService
from hearth.engine.manager import ModelManager
from hearth.hardware.meter import GpuMeter
from hearth.hardware.service import HardwareService
from hearth.keys.gate import KeyGate
from hearth.library.downloads import DownloadManager
from hearth.library.library import ModelLibrary
from hearth.prefs import PrefsStore
from hearth.runtime.jobs import UpgradeJobs
from hearth.security import API_KEY_STATE
from hearth.session_codes import SessionCodes
from hearth.settings import Settings
from hearth.store.conversations import ConversationStore


def _state(name: str, *, optional: bool = False) -> Callable[[Request], Any]:
    def get(request: Request) -> Any:
        return (
            getattr(request.app.state, name, None) if optional else getattr(request.app.state, name)
        )

    get.__name__ = f"state_{name}"
    return get


@dataclass(frozen=True)
class Caller:
    """Who sent a request, for what is kept per caller (files and batches): an API key owns
    what it makes; a key that is not an admin's sees only its own (`viewer`)."""

    owner: int | None  # the key's id; None for the app's own token
    viewer: int | None  # whose rows the request may see; None: all of them


def _caller(request: Request) -> Caller:
    key = request.scope.get("state", {}).get(API_KEY_STATE)
    if key is None:
        return Caller(None, None)
    return Caller(key.id, None if key.role == "admin" else key.id)


CallerDep = Annotated[Caller, Depends(_caller)]
SettingsDep = Annotated[Settings, Depends(_state("settings"))]
KeysDep = Annotated[KeyGate, Depends(_state("keys"))]
ApiListenerDep = Annotated[ApiListener, Depends(_state("api_listener"))]
ModelsDep = Annotated[ModelManager, Depends(_state("models"))]
# Apps that mount only the library routes (their own tests) run without a model manager.
OptionalModelsDep = Annotated[ModelManager | None, Depends(_state("models", optional=True))]
ChatDep = Annotated[ChatService, Depends(_state("chat"))]
StoreDep = Annotated[ConversationStore, Depends(_state("conversations"))]
LibraryDep = Annotated[ModelLibrary, Depends(_state("library"))]
DownloadsDep = Annotated[DownloadManager, Depends(_state("downloads"))]
HardwareDep = Annotated[HardwareService, Depends(_state("hardware"))]
# The library routes' own tests mount them without hardware or preferences: no fit badges then.
OptionalHardwareDep = Annotated[HardwareService | None, Depends(_state("hardware", optional=True))]
OptionalPrefsDep = Annotated[PrefsStore | None, Depends(_state("prefs", optional=True))]
OptionalSettingsDep = Annotated[Settings | None, Depends(_state("settings", optional=True))]
DocsDep = Annotated[DocumentService, Depends(_state("documents"))]
PrefsDep = Annotated[PrefsStore, Depends(_state("prefs"))]
UpgradesDep = Annotated[UpgradeJobs, Depends(_state("upgrades"))]
MeterDep = Annotated[GpuMeter, Depends(_state("gpu_meter"))]
DbDep = Annotated[Engine, Depends(_state("db"))]  # read-only queries of the answer history
SessionCodesDep = Annotated[SessionCodes, Depends(_state("session_codes"))]
TokenDep = Annotated[str, Depends(_state("token"))]
BatchStoreDep = Annotated[BatchStore, Depends(_state("batches"))]
BatchRunnerDep = Annotated[BatchRunner, Depends(_state("batch_runner"))]
RestartDep = Annotated[Callable[[], None], Depends(_state("restart"))]  # respawn the backend
