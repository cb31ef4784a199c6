"""GET/PUT /api/preferences (threads, context, GPU layers, parallel answers, default model; the UI's
theme, onboarding and sampling) and the VRAM planner's estimate for the GPU-layers control. A PUT
that changes how a model loads unloads it, so the next answer loads with the new values."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from hearth import prefs as prefs_mod
from hearth.api.deps import HardwareDep, ModelsDep, PrefsDep, SettingsDep
from hearth.errors import NotFound
from hearth.prefs import PrefsStore
from hearth.settings import Settings

router = APIRouter(prefix="/api/preferences", tags=["preferences"])

# What changes how a model is loaded: a change to one of these needs a reload.
_LOAD_FIELDS = ("n_threads", "n_ctx", "n_gpu_layers", "n_parallel")


def _document(store: PrefsStore, settings: Settings) -> dict[str, Any]:
    current = store.get()
    return {
        "preferences": current.model_dump(),
        "effective": prefs_mod.effective(settings, current).to_dict(),
        "bounds": prefs_mod.bounds(),
        "problem": store.problem,
    }


@router.get("")
def get_preferences(store: PrefsDep, settings: SettingsDep) -> dict[str, Any]:
    return _document(store, settings)


@router.put("")
async def put_preferences(
    body: prefs_mod.Preferences, store: PrefsDep, settings: SettingsDep, models: ModelsDep
) -> dict[str, Any]:
    """Only the fields sent change; null clears one back to the environment's default."""
    changes = body.model_dump(exclude_unset=True)  # an explicit null is sent, so it is kept
    before = store.get()
    after = store.update(changes)
    reload = any(getattr(before, f) != getattr(after, f) for f in _LOAD_FIELDS)
    if reload and models.loaded is not None:
        await models.unload()  # waits behind a running answer; the next one loads anew
    return {**_document(store, settings), "unloaded": reload}


@router.get("/offload")
def offload_estimate(
    store: PrefsDep,
    settings: SettingsDep,
    models: ModelsDep,
    hardware: HardwareDep,
    layers: Annotated[int | None, Query(ge=-1, le=100_000)] = None,
) -> dict[str, Any]:
    """The planner's view for the model the next answer would use: its automatic choice and the
    estimated VRAM for every possible layer count."""
    from hearth.engine.factory import LocalFactory, model_shape
    from hearth.engine.planner import plan_offload

    factory = models.factory
    if not isinstance(factory, LocalFactory):
        raise NotFound("GPU layers apply only to local models.", code="not_local")
    loaded = models.loaded
    model_id = factory.resolve_chat_model(None, loaded.model_id if loaded else None)
    entry = factory.find(model_id)
    if entry is None or entry.info is None:
        raise NotFound(f"Model {model_id!r} is not usable.", code="model_not_found")
    eff = prefs_mod.effective(settings, store.get())
    info = entry.info
    n_ctx = min(eff.n_ctx, info.context_length or eff.n_ctx)
    shape = model_shape(info, n_ctx * eff.n_parallel)  # a KV cache for each parallel answer
    can_offload = bool(hardware.runtime().supports_gpu_offload)
    free = hardware.free_vram_bytes()
    auto = plan_offload(shape, free, gpu_offload=can_offload)
    estimates = [
        plan_offload(shape, free, override=n).estimated_vram_bytes
        for n in range(shape.n_layers + 1)
    ]
    chosen = None
    if layers is not None:
        chosen = plan_offload(shape, free, override=layers, gpu_offload=can_offload).to_dict()
    return {
        "model": model_id,
        "n_layers": shape.n_layers,
        "n_ctx": n_ctx,
        "trained_ctx": info.context_length,  # what the model was trained for, if it says
        "free_vram_bytes": sum(free) if free else None,
        "gpu_offload": can_offload,
        "auto": auto.to_dict(),
        "chosen": chosen,
        "estimates": estimates,
    }
