"""Typed access to the services the app keeps on `app.state`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hearth.chat.service import ChatService
from hearth.engine.manager import ModelManager
from hearth.settings import Settings
from hearth.store.conversations import ConversationStore


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _models(request: Request) -> ModelManager:
    return request.app.state.models


def _chat(request: Request) -> ChatService:
    return request.app.state.chat


def _store(request: Request) -> ConversationStore:
    return request.app.state.conversations


SettingsDep = Annotated[Settings, Depends(_settings)]
ModelsDep = Annotated[ModelManager, Depends(_models)]
ChatDep = Annotated[ChatService, Depends(_chat)]
StoreDep = Annotated[ConversationStore, Depends(_store)]
