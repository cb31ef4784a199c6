"""Damaged copies of a real GGUF for tests: byte edits that keep every offset valid."""

from __future__ import annotations

from pathlib import Path


def with_architecture(data: bytes, new: bytes) -> bytes:
    """The file with general.architecture renamed; `new` has the old name's length (llama)."""
    key = b"general.architecture"
    at = data.index(key) + len(key)
    value_at = at + 4 + 8  # value: type (u32) + length (u64) + the name
    assert data[value_at : value_at + 5] == b"llama" and len(new) == 5
    return data[:value_at] + new + data[value_at + 5 :]


def alien_copy(src: Path, dest: Path) -> Path:
    """A copy whose architecture ("zzzzz") no llama.cpp knows."""
    dest.write_bytes(with_architecture(src.read_bytes(), b"zzzzz"))
    return dest
