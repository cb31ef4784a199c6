"""What a model is called, and whether it is one to chat with (pure): one answer for every screen.

A model's name is its catalogue name when the file came from the catalogue, else its file name
without `.gguf`. The GGUF's own `general.name` is not used: converters fill it with whatever the
training run was called ("Smollm2 135M 8k Lc100K Mix1 Ep2") or just the architecture ("llama"
for stories260K), and two quantizations of one model share it, so a picker could not tell them
apart. The file name always can.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from hearth.library.gguf import GGUFInfo
from hearth.library.library import ModelEntry, model_kind


def file_stem(filename: str) -> str:
    return filename[:-5] if filename.lower().endswith(".gguf") else filename


def display_name(filename: str, catalogue_names: dict[str, str]) -> str:
    """`catalogue_names` maps lower-cased file names to catalogue names (see `names_by_file`)."""
    return catalogue_names.get(filename.lower()) or file_stem(filename)


class Named(Protocol):
    @property
    def filename(self) -> str: ...

    @property
    def name(self) -> str: ...


def names_by_file(entries: Iterable[Named]) -> dict[str, str]:
    """File name (lower-cased) -> name, from catalogue entries."""
    return {e.filename.lower(): e.name for e in entries}


def is_chat_info(info: GGUFInfo | None) -> bool:
    """A model one can chat with: a chat template in its header, and not an embedding model.
    A base model such as stories260K still completes text through the API, but the chat's model
    picker does not offer it: without a template its answers to a conversation are noise."""
    return info is not None and model_kind(info) == "chat" and info.has_chat_template


def is_chat_model(entry: ModelEntry) -> bool:
    return is_chat_info(entry.info)
