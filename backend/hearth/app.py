"""create_app(settings): every service is built here or in the lifespan, never at import time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import get_args

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic_core.core_schema import ErrorType
from starlette.exceptions import HTTPException as StarletteHTTPException

import hearth
from hearth import api_server, heavy, paths
from hearth.api import admin, batches, capabilities, chat, conversations, openai, system
from hearth.api import documents as documents_api
from hearth.api import keys as keys_api
from hearth.api import local_server as local_server_api
from hearth.api import metrics as metrics_api
from hearth.api import models as models_api
from hearth.api import preferences as preferences_api
from hearth.api import session as session_api
from hearth.api.openapi_doc import API_ERRORS, V1_ERRORS, allowed_methods
from hearth.batches.runner import BatchRunner
from hearth.batches.store import BatchStore
from hearth.chat.service import ChatService
from hearth.docs.service import DocumentService
from hearth.engine.factory import LocalFactory, RemoteFactory
from hearth.engine.manager import EngineFactory, ModelManager
from hearth.errors import Conflict, HearthError
from hearth.hardware.meter import GpuMeter
from hearth.hardware.service import HardwareService
from hearth.keys.gate import KeyGate
from hearth.keys.store import FILENAME as KEYS_FILE
from hearth.keys.store import KeyStore
from hearth.library.downloads import DownloadManager
from hearth.library.library import ModelLibrary
from hearth.library.starter import install_carried
from hearth.prefs import PrefsStore
from hearth.runtime import bootstrap
from hearth.runtime.service import RuntimeService
from hearth.security import BodyTooLarge, SecurityConfig, SecurityMiddleware, error_body
from hearth.session_codes import SessionCodes
from hearth.settings import Settings
from hearth.store.conversations import ConversationStore
from hearth.store.db import close_database, open_database

log = logging.getLogger(__name__)


def create_app(settings: Settings, token: str, *, factory: EngineFactory | None = None) -> FastAPI:
    """`factory` replaces the engines the settings choose (tests pass a scripted one)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        settings.models_dir.mkdir(parents=True, exist_ok=True)
        engine = open_database(settings.db_path)
        library = ModelLibrary(settings.models_dir)
        library.remove_stale_imports()  # temp files of an import a crash interrupted
        # First run of an installer that carried the starter model: installed before the first
        # request, so that the first screen already offers it, with no network at all. Every
        # later start skips this with two stat calls.
        await _install_carried_starter(library, settings)
        hardware = HardwareService(
            settings.data_dir,
            hearth.__version__,
            settings.gpu_detection_timeout,
            settings.gpu_detection_cache,
            runtime_id=bootstrap.current().runtime_id,  # what this process really loads
            registry_path=settings.runtime_registry,
            release_url=settings.runtime_release_url,
        )
        prefs = PrefsStore(settings.data_dir)
        manager = ModelManager(factory or _factory(settings, library, hardware, prefs))
        store = ConversationStore(engine)
        app.state.hardware = hardware
        app.state.library = library
        app.state.downloads = DownloadManager(
            library, sizes=settings.data_dir / "catalogue-sizes.json"
        )
        app.state.models = manager
        app.state.conversations = store
        app.state.documents = DocumentService(settings, engine, manager, library)
        # Stored copies of a deleted chat's files that a crash left behind (chromadb is not
        # opened at start: their vectors go at the next purge).
        await asyncio.to_thread(app.state.documents.sweep_leftovers, vectors=False)
        app.state.chat = ChatService(
            store, manager, settings.system_prompt, documents=app.state.documents
        )
        app.state.prefs = prefs
        app.state.db = engine  # read-only queries of the monitor's answer history
        app.state.gpu_meter = GpuMeter()
        runtime = RuntimeService(settings, manager, library, hardware, app.state.restart)
        app.state.upgrades = runtime.jobs
        await runtime.start()  # upgrade jobs; proves a just-switched runtime
        app.state.batches = BatchStore(settings.data_dir)
        app.state.batch_runner = BatchRunner(
            app.state.batches, manager, settings, charge=app.state.keys.limiter.spend
        )
        await app.state.batch_runner.start()  # batches a restart interrupted go on
        listener = app.state.api_listener
        with contextlib.suppress(Conflict):  # a busy port: Settings shows why, the app runs on
            await listener.apply(api_server.load(settings.data_dir / api_server.FILENAME))
        # numpy, off the event loop, once the shell's first /health has its answer; a model
        # load or ingest sooner imports it itself, under the same lock (hearth/heavy.py).
        warm_up = asyncio.get_running_loop().call_later(heavy.WARM_UP_DELAY_S, heavy.warm_up)
        heavy.settle()  # what startup imported and built, out of full collections (heavy.py)
        try:
            yield
        finally:
            warm_up.cancel()
            await listener.stop()
            await app.state.batch_runner.stop()  # its running lines stay pending, for next time
            await runtime.stop()
            app.state.gpu_meter.close()
            await app.state.chat.stop_all()
            await app.state.documents.aclose()
            await app.state.downloads.aclose()
            manager.close()
            close_database(engine)
            app.state.batches.close()
            app.state.keys.store.close()

    app = FastAPI(title="Hearth", version=hearth.__version__, lifespan=lifespan)
    app.state.settings = settings
    app.state.token = token  # handed out once per one-time code by POST /api/session
    app.state.session_codes = SessionCodes()
    app.state.restart = lambda: _request_restart(app)
    # Opened on first use, not here: a key's check is the first thing that needs it.
    app.state.keys = KeyGate(KeyStore(settings.data_dir / KEYS_FILE))
    app.state.api_listener = api_server.ApiListener(app)
    install_error_handlers(app)
    for router in (
        system.router,
        chat.router,
        conversations.router,
        models_api.router,
        capabilities.router,
        openai.router,
        batches.router,
        documents_api.router,
        session_api.router,
        preferences_api.router,
        metrics_api.router,
        admin.router,
        keys_api.router,
        local_server_api.router,
    ):
        v1 = router in (openai.router, batches.router)
        app.include_router(router, responses=V1_ERRORS if v1 else API_ERRORS)
    frontend = paths.frontend_dir()
    if frontend is not None:
        app.mount("/", StaticFiles(directory=frontend, html=True), name="frontend")
    app.add_middleware(
        SecurityMiddleware,  # type: ignore[arg-type]
        config=SecurityConfig(
            token=token,
            max_body_bytes=settings.max_body_bytes,
            path_limits={batches.FILES_PATH: batches.MAX_FILE_BYTES},
            extra_origins=list(settings.allowed_origins),
            keys=app.state.keys,
            lan_port=lambda: app.state.api_listener.lan_port,
            lan_hosts=api_server.local_addresses,
        ),
    )
    return app


async def _install_carried_starter(library: ModelLibrary, settings: Settings) -> None:
    try:
        result = await install_carried(library, settings.starter_dir)
    except HearthError as exc:  # a full disk: the app starts anyway, with Models to say why
        log.warning("the carried starter model was not installed: %s", exc.message)
        return
    if result.status == "installed":
        log.info("first run: %s", result.reason)


def _request_restart(app: FastAPI) -> None:
    """Ask the supervisor for a respawn (exit 75): hearth.server.Server puts its hook on the app."""
    hook = getattr(app.state, "request_restart", None)
    if hook is None:
        log.warning("no supervisor in this process: restart Hearth to load the new runtime")
        return
    hook()


def _factory(
    settings: Settings, library: ModelLibrary, hardware: HardwareService, prefs: PrefsStore
) -> EngineFactory:
    if settings.engine == "llama":
        return LocalFactory(settings, library, hardware, prefs)
    return RemoteFactory(settings)


def _error(request: Request, status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(
        status_code=status,
        content=_json(error_body(request.url.path, status, code, message)),
    )


def _json(body: bytes) -> object:
    import json

    return json.loads(body)


def _validation_code(exc: RequestValidationError) -> str:
    """Hearth's own code when one of its checks refused the value (hearth.api.params), so a
    client sees e.g. `bad_filename` as it would from the service; else `invalid_request`."""
    types = {e.get("type") for e in exc.errors()}
    ours = types - _PYDANTIC_ERROR_TYPES
    return ours.pop() if len(types) == 1 and ours else "invalid_request"


_PYDANTIC_ERROR_TYPES = frozenset(get_args(ErrorType))


def install_error_handlers(app: FastAPI) -> None:
    """Hearth's errors, validation errors and oversized bodies in the one JSON error shape (also
    for tests that mount a single router)."""

    @app.exception_handler(HearthError)
    async def hearth_error(request: Request, exc: HearthError) -> JSONResponse:
        if exc.status >= 500:
            log.error("%s: %s", exc.code, exc.message)
        return _error(request, exc.status, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}" for e in exc.errors()
        )
        return _error(request, 422, _validation_code(exc), problems or "Invalid request.")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Starlette's own refusals in the same shape as the rest. A path the API serves with
        # other methods is a 405 naming them, even where the UI's static files said 404.
        allowed = allowed_methods(request.app.openapi(), request.url.path)
        if exc.status_code == 405 or (exc.status_code == 404 and allowed):
            allowed = allowed or ["GET", "HEAD"]  # the static files' own methods
            response = _error(
                request,
                405,
                "method_not_allowed",
                f"{request.method} is not allowed here; use {', '.join(allowed)}.",
            )
            response.headers["Allow"] = ", ".join(allowed)
            return response
        phrase = HTTPStatus(exc.status_code).phrase
        code = phrase.lower().replace(" ", "_").replace("-", "_")
        message = exc.detail if exc.detail != phrase else f"{phrase}: {request.url.path}"
        return _error(request, exc.status_code, code, message)

    @app.exception_handler(BodyTooLarge)
    async def too_large(request: Request, exc: BodyTooLarge) -> JSONResponse:
        return _error(request, 413, "body_too_large", str(exc))
