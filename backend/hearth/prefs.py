"""User preferences the UI sets, kept as JSON in the data dir: how models load (threads, context,
GPU layers, default model), applied on the next load, and the UI's own choices (theme, onboarding
done, sampling, the last upgrade result seen).

The UI's choices live here and not in the browser because in web mode the page's origin changes
with the random port on every launch, and localStorage with it.

A load preference wins over the environment's default; an unset one (null) falls back to it. The
file is written atomically, and a damaged file is set aside rather than trusted or silently lost.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hearth.errors import BadRequest
from hearth.files import write_json_atomic
from hearth.jsonvalues import INTEGRAL
from hearth.settings import Settings

log = logging.getLogger(__name__)

FILENAME = "preferences.json"


class Sampling(BaseModel):
    """How answers are sampled; the bounds are the chat parameter panel's (chat/params.ts)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: Annotated[int, Field(ge=1, le=32_768), INTEGRAL] | None = None
    top_p: float | None = Field(default=None, ge=0.05, le=1)
    repeat_penalty: float | None = Field(default=None, ge=0.5, le=2)


class Preferences(BaseModel):
    """What the person chose; None everywhere means "as the environment (or the UI) says"."""

    model_config = ConfigDict(extra="forbid", strict=True)

    n_threads: Annotated[int, Field(ge=1, le=1024), INTEGRAL] | None = Field(
        default=None, description="CPU threads for generation."
    )
    n_ctx: Annotated[int, Field(ge=256, le=1_048_576), INTEGRAL] | None = Field(
        default=None, description="Context window in tokens."
    )
    n_parallel: Annotated[int, Field(ge=1, le=8), INTEGRAL] | None = Field(
        default=None, description="Answers one model generates at once."
    )
    n_gpu_layers: Annotated[int, Field(ge=-1, le=100_000), INTEGRAL] | None = Field(
        default=None,
        description="Layers on the GPU; -1 = all; null = the VRAM planner decides.",
    )
    default_model: str | None = Field(
        default=None, min_length=1, max_length=500, description="Chat model to load first."
    )
    # The UI's own choices: nothing here changes how a model loads.
    theme: Literal["light", "dark", "system"] | None = Field(
        default=None, description="Colour theme; null = as the system says."
    )
    onboarded: bool | None = Field(
        default=None, description="The first-run welcome was finished or skipped."
    )
    sampling: Sampling | None = Field(
        default=None, description="Sampling for answers, the same for every conversation."
    )
    upgrade_seen: str | None = Field(
        default=None, max_length=200, description="The GPU-upgrade job whose result was shown."
    )


@dataclass(frozen=True)
class Effective:
    """The values a model load uses, and where each came from ("preference" or "environment")."""

    n_threads: int | None
    n_ctx: int
    n_gpu_layers: int | None
    default_model: str | None
    sources: dict[str, str]
    n_parallel: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_threads": self.n_threads,
            "n_ctx": self.n_ctx,
            "n_gpu_layers": self.n_gpu_layers,
            "n_parallel": self.n_parallel,
            "default_model": self.default_model,
            "sources": dict(self.sources),
        }


# The fields that have an environment default; `effective` and `bounds` cover these only.
FIELDS = ("n_threads", "n_ctx", "n_gpu_layers", "n_parallel", "default_model")
UI_FIELDS = ("theme", "onboarded", "sampling", "upgrade_seen")


def effective(settings: Settings, prefs: Preferences | None) -> Effective:
    """Preference over environment default, field by field (pure)."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name in FIELDS:
        chosen = getattr(prefs, name) if prefs is not None else None
        if chosen is not None:
            values[name], sources[name] = chosen, "preference"
        else:
            values[name], sources[name] = getattr(settings, name), "environment"
    return Effective(sources=sources, **values)


def bounds() -> dict[str, dict[str, Any]]:
    """Each field's limits and description, so the UI's inputs match what a PUT accepts."""
    schema = Preferences.model_json_schema()["properties"]
    out: dict[str, dict[str, Any]] = {}
    for name in FIELDS:
        spec = schema[name]
        numeric: dict[str, Any] = next(
            (s for s in spec.get("anyOf", []) if s.get("type") == "integer"), {}
        )
        out[name] = {
            "minimum": numeric.get("minimum"),
            "maximum": numeric.get("maximum"),
            "description": spec.get("description"),
        }
    return out


class PrefsStore:
    """Preferences on disk: `<data dir>/preferences.json`, read once, written atomically."""

    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / FILENAME
        self._lock = threading.Lock()
        self._prefs: Preferences | None = None
        # Why the file on disk was not used, shown in Settings; None when it was fine or absent.
        self.problem: str | None = None

    def get(self) -> Preferences:
        with self._lock:
            if self._prefs is None:
                self._prefs = self._read()
            return self._prefs

    def update(self, changes: dict[str, Any]) -> Preferences:
        """Apply the fields given (an explicit null clears one), validate the whole, save."""
        unknown = sorted(set(changes) - set(FIELDS) - set(UI_FIELDS))
        if unknown:
            raise BadRequest(f"Unknown preference: {', '.join(unknown)}.", code="invalid_request")
        with self._lock:
            current = self._prefs if self._prefs is not None else self._read()
            try:
                updated = Preferences.model_validate({**current.model_dump(), **changes})
            except ValidationError as exc:
                raise BadRequest(_describe(exc), code="invalid_request") from None
            self._write(updated)
            self._prefs = updated
            self.problem = None
            return updated

    def _read(self) -> Preferences:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return Preferences()
        except OSError as exc:
            self.problem = f"could not read {self.path.name}: {exc}"
            log.warning("preferences: %s", self.problem)
            return Preferences()
        try:
            return Preferences.model_validate(json.loads(raw))
        except (ValueError, ValidationError) as exc:
            # Keep the bad file for the person to look at; start from the defaults.
            aside = self.path.with_suffix(".json.bad")
            os.replace(self.path, aside)
            first = str(exc).splitlines()[0]
            self.problem = f"{self.path.name} was invalid ({first}); moved to {aside.name}"
            log.warning("preferences: %s", self.problem)
            return Preferences()

    def _write(self, prefs: Preferences) -> None:
        write_json_atomic(self.path, prefs.model_dump())


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        name = ".".join(str(p) for p in err["loc"]) or "preferences"
        parts.append(f"{name}: {err['msg']} (got {err.get('input')!r})")
    return "; ".join(parts)
