"""Build engines from settings and the model library: which file, which context, which layers."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from hearth import heavy
from hearth.engine.base import ChatEngine, EmbeddingEngine
from hearth.errors import BadRequest, InvalidModel, NotFound
from hearth.runtime import ggml_backends
from hearth.settings import Settings

if TYPE_CHECKING:
    from hearth.hardware.service import HardwareService
    from hearth.library.gguf import GGUFInfo
    from hearth.library.library import ModelEntry, ModelLibrary
    from hearth.prefs import Effective, PrefsStore

log = logging.getLogger(__name__)

STARTER_MODEL = "SmolLM2-135M-Instruct.Q4_1.gguf"


class LocalFactory:
    """Engines for GGUF files in the models folder, run in-process by llama.cpp."""

    def __init__(
        self,
        settings: Settings,
        library: ModelLibrary,
        hardware: HardwareService | None = None,
        prefs: PrefsStore | None = None,
    ):
        self.settings = settings
        self.library = library
        self.hardware = hardware  # HardwareService: free VRAM now, and where offload is reported
        self.prefs = prefs  # PrefsStore: the UI's choices, read anew at every load

    def effective(self) -> Effective:
        """Threads, context, GPU layers and default model: preference over environment."""
        from hearth.prefs import effective

        return effective(self.settings, self.prefs.get() if self.prefs is not None else None)

    def n_parallel(self) -> int:
        """Answers the next chat model load decodes together."""
        return self.effective().n_parallel

    def _entries(self, kind: str) -> list[ModelEntry]:
        return [e for e in self.library.scan() if e.kind == kind]

    def find(self, name: str) -> ModelEntry | None:
        """A model by id, tolerating a missing `.gguf` suffix; None if absent."""
        for candidate in (name, f"{name}.gguf"):
            entry = self.library.find(candidate)
            if entry is not None:
                return entry
        return None

    def known(self, name: str) -> str | None:
        entry = self.find(name)
        return entry.id if entry is not None else None

    def resolve_chat_model(self, requested: str | None, loaded: str | None) -> str:
        if requested:
            entry = self.find(requested)
            if entry is None:
                raise NotFound(f"Model {requested!r} is not installed.", code="model_not_found")
            if entry.kind not in (None, "chat"):
                raise BadRequest(f"{entry.id} is an {entry.kind} model, not a chat model.")
            return entry.id
        if loaded:
            return loaded
        chat = self._entries("chat")
        if not chat:
            raise NotFound(
                "No chat model is installed. Import a GGUF file or download one from the "
                "catalogue.",
                code="no_model",
            )
        preferred = [self.effective().default_model, STARTER_MODEL]
        ids = {e.id for e in chat}
        for name in preferred:
            if name and name in ids:
                return name
        with_template = [e for e in chat if e.info is not None and e.info.has_chat_template]
        return (with_template or chat)[0].id

    def _path(self, model_id: str) -> tuple[Path, GGUFInfo]:
        entry = self.find(model_id)
        if entry is None:
            raise NotFound(f"Model {model_id!r} is not installed.", code="model_not_found")
        if entry.info is None:
            problem = entry.error
            raise InvalidModel(
                problem.message if problem else f"{model_id} is not a usable GGUF file.",
                code=problem.code if problem else None,
            )
        return entry.path, entry.info

    def load_chat(self, model_id: str) -> ChatEngine:
        """Load with the planner's GPU layers; after an out-of-memory, step down and say so."""
        with heavy.imports():
            from hearth.engine.llama import LlamaEngine
        from hearth.engine.planner import plan_offload, step_down
        from hearth.errors import ModelLoadError

        path, info = self._path(model_id)
        eff = self.effective()
        trained = getattr(info, "context_length", None) or eff.n_ctx
        n_ctx = min(eff.n_ctx, trained)
        # N sequences of n_ctx cells each: the KV cache the planner fits is N times one.
        shape = model_shape(info, n_ctx * eff.n_parallel)
        # After the backends are loaded: before, a GPU runtime has no GPU device to report.
        llama_cpp = ggml_backends.import_llama_cpp()
        offload = bool(llama_cpp.llama_supports_gpu_offload())
        # Only a runtime that can offload is worth a VRAM reading (NVML or nvidia-smi).
        free = self.hardware.free_vram_bytes() if offload and self.hardware else None
        plan = plan_offload(shape, free, override=eff.n_gpu_layers, gpu_offload=offload)
        while True:
            try:
                engine = LlamaEngine(
                    model_id,
                    path,
                    n_ctx=n_ctx,
                    n_gpu_layers=plan.n_gpu_layers,
                    n_threads=eff.n_threads,
                    n_parallel=eff.n_parallel,
                    exact_reuse=self.settings.exact_prompt_cache,
                    verbose=self.settings.verbose,
                )
                break
            except ModelLoadError as exc:
                smaller = step_down(plan, shape) if exc.code == "out_of_memory" else None
                if smaller is None:
                    raise
                log.warning("%s; %s", exc.message, smaller.reason)
                plan = smaller
        engine.offload_plan = plan.to_dict()
        if self.hardware is not None:
            self.hardware.record_offload(
                {
                    "model": model_id,
                    "layers_offloaded": engine.gpu_layers_offloaded(),
                    "plan": plan.to_dict(),
                }
            )
        return engine

    def unloaded(self) -> None:
        if self.hardware is not None:
            self.hardware.record_offload(None)

    def load_embedding(self, model_id: str | None) -> EmbeddingEngine:
        with heavy.imports():
            from hearth.engine.embedding import LlamaEmbedder

        if model_id is None:
            found = self._entries("embedding")
            if not found:
                raise NotFound("No embedding model is installed.", code="model_not_found")
            model_id = found[0].id
        path, info = self._path(model_id)
        if not getattr(info, "is_embedding", False):
            raise BadRequest(f"{model_id} is not an embedding model.", code="not_embedding_model")
        return LlamaEmbedder(
            model_id, path, n_threads=self.effective().n_threads, verbose=self.settings.verbose
        )


class RemoteFactory:
    """Every model lives on a remote OpenAI-compatible server."""

    def __init__(self, settings: Settings):
        if not settings.remote_url:
            raise BadRequest("HEARTH_ENGINE=openai needs HEARTH_REMOTE_URL.")
        self.settings = settings

    def known(self, name: str) -> str | None:
        return name  # the server decides which names it serves

    def resolve_chat_model(self, requested: str | None, loaded: str | None) -> str:
        return requested or loaded or self.settings.default_model or "default"

    def unloaded(self) -> None:
        pass

    def load_chat(self, model_id: str) -> ChatEngine:
        from hearth.engine.remote import RemoteEngine

        return RemoteEngine(
            model_id,
            self.settings.remote_url or "",
            self.settings.remote_api_key,
            n_ctx=self.settings.n_ctx,
        )

    def load_embedding(self, model_id: str | None) -> EmbeddingEngine:
        raise NotFound(
            "Embeddings are not available from the remote engine.", code="model_not_found"
        )


def model_shape(info, n_ctx: int):
    """What the VRAM planner needs from a GGUF header."""
    from hearth.engine.planner import ModelShape

    head_count = info.head_count or 1
    return ModelShape(
        layer_bytes=tuple(info.layer_bytes),
        # llama.cpp keeps the token embedding in RAM; the rest of the non-layer tensors
        # (output norm and head) go to the GPU with a full offload.
        output_bytes=max(0, info.non_layer_bytes - info.token_embd_bytes),
        n_ctx=n_ctx,
        n_embd=info.embedding_length or 0,
        n_head=head_count,
        n_head_kv=info.head_count_kv or head_count,
    )
