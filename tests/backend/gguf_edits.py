"""Damaged copies of a real GGUF for tests: byte edits that keep every offset valid."""

from __future__ import annotations

import struct
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


def _skip_string(data: bytes, at: int) -> int:
    return at + 8 + struct.unpack_from("<Q", data, at)[0]


def _skip_value(data: bytes, at: int, vtype: int) -> int:
    if vtype in _SCALAR_SIZES:
        return at + _SCALAR_SIZES[vtype]
    if vtype == 8:
        return _skip_string(data, at)
    etype, count = struct.unpack_from("<IQ", data, at)
    at += 12
    for _ in range(count):
        at = _skip_value(data, at, etype)
    return at


_SCALAR_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


def with_chat_template(data: bytes, template: str) -> bytes:
    """The file with tokenizer.chat_template replaced by `template`. The header grows or
    shrinks, so the tensor data moves to the next aligned offset after it (tensor offsets are
    relative to that start, so they stay valid)."""
    _, n_tensors, n_kv = struct.unpack_from("<IQQ", data, 4)
    at, value_span, alignment = 24, None, 32
    for _ in range(n_kv):
        key_end = _skip_string(data, at)
        key = data[at + 8 : key_end]
        (vtype,) = struct.unpack_from("<I", data, key_end)
        end = _skip_value(data, key_end + 4, vtype)
        if key == b"tokenizer.chat_template":
            value_span = (key_end + 4, end)
        if key == b"general.alignment":
            (alignment,) = struct.unpack_from("<I", data, key_end + 4)
        at = end
    for _ in range(n_tensors):
        at = _skip_string(data, at)
        (n_dims,) = struct.unpack_from("<I", data, at)
        at += 4 + 8 * n_dims + 4 + 8
    data_start = at + (-at) % alignment
    assert value_span is not None, "the model has no chat template to replace"
    encoded = template.encode("utf-8")
    header = (
        data[: value_span[0]] + struct.pack("<Q", len(encoded)) + encoded + data[value_span[1] : at]
    )
    return header + b"\0" * ((-len(header)) % alignment) + data[data_start:]


def template_copy(src: Path, dest: Path, template: str) -> Path:
    """A copy whose chat template is `template`."""
    dest.write_bytes(with_chat_template(src.read_bytes(), template))
    return dest
