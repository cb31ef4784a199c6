"""The catalogue of downloadable models: a JSON file shipped with the backend, checked on load."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hearth import paths
from hearth.errors import BadRequest, ConfigError, NotFound
from hearth.library.filenames import check_model_filename

CATALOGUE_FILE = "catalogue.json"


class CatalogueShape(BaseModel):
    """A model's published shape (its config.json), for a fit estimate before the download."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    n_layers: int = Field(gt=0, le=1000, description="num_hidden_layers / block_count")
    n_embd: int = Field(gt=0, description="hidden_size / embedding_length")
    n_head: int = Field(gt=0, description="num_attention_heads")
    n_head_kv: int | None = Field(default=None, gt=0, description="num_key_value_heads (GQA)")
    context_length: int | None = Field(
        default=None, gt=0, description="trained context, max_position_embeddings"
    )


class CatalogueEntry(BaseModel):
    """One downloadable model. `sha256` pins the content; without it the server's hash is used."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=80)
    name: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=1000)
    kind: Literal["chat", "embedding"]
    url: str = Field(pattern=r"^https?://\S+$")
    filename: str
    size: int | None = Field(default=None, gt=0, description="bytes, if known")
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    license: str = Field(min_length=1)
    # Optional: without it, a fit is estimated from the size alone.
    shape: CatalogueShape | None = None

    @field_validator("filename")
    @classmethod
    def _plain_gguf_name(cls, value: str) -> str:
        try:
            return check_model_filename(value)
        except BadRequest as exc:
            raise ValueError(exc.message) from None


class Catalogue:
    """The entries, by id; ids and file names are unique."""

    def __init__(self, entries: Iterable[CatalogueEntry]):
        self.entries = list(entries)
        self._by_id = {e.id: e for e in self.entries}
        filenames = {e.filename.lower() for e in self.entries}
        if len(self._by_id) != len(self.entries) or len(filenames) != len(self.entries):
            raise ConfigError(
                "The model catalogue repeats an id or a file name", code="bad_catalogue"
            )

    @classmethod
    def load(cls, path: Path | None = None) -> Catalogue:
        """Read and check a catalogue file; the bundled one when `path` is None."""
        path = Path(path) if path is not None else paths.data_file(CATALOGUE_FILE)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            items = raw["models"]
            if not isinstance(items, list):
                raise TypeError('"models" must be a list')
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                f"The model catalogue {path} cannot be read: {exc}", code="bad_catalogue"
            ) from None
        entries = []
        for index, item in enumerate(items):
            try:
                entries.append(CatalogueEntry.model_validate(item))
            except ValidationError as exc:
                label = item.get("id") if isinstance(item, dict) else None
                raise ConfigError(
                    f"The model catalogue {path} has an invalid entry #{index} ({label}): "
                    f"{_describe(exc)}",
                    code="bad_catalogue",
                ) from None
        return cls(entries)

    def get(self, catalogue_id: str) -> CatalogueEntry:
        entry = self._by_id.get(catalogue_id)
        if entry is None:
            raise NotFound(f"No catalogue model {catalogue_id!r}", code="catalogue_not_found")
        return entry


def _describe(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'entry'}: {err['msg']}" for err in exc.errors()
    )
