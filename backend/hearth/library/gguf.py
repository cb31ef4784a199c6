"""Read a GGUF file's header (metadata and tensor table) without loading its weights.

The file is memory-mapped, so only the pages the header occupies are read; arrays such as the
tokenizer's vocabulary are stepped over, not decoded. Format: ggml `docs/gguf.md`, versions 2 and 3.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hearth.errors import InvalidModel
from hearth.library.ggml_types import EMBEDDING_ARCHITECTURES, FILE_TYPES, TENSOR_TYPES
from hearth.library.tool_templates import ToolFormat, detect

MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
DEFAULT_ALIGNMENT = 32
MAX_DIMS = 4
# Numeric arrays up to this length are decoded (per-layer head counts); longer ones are skipped.
_SMALL_ARRAY = 4096

_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_STRING, _ARRAY = 8, 9
# GGUF value type -> struct for one element
_SCALARS: dict[int, struct.Struct] = {
    0: struct.Struct("<B"),
    1: struct.Struct("<b"),
    2: struct.Struct("<H"),
    3: struct.Struct("<h"),
    4: _U32,
    5: struct.Struct("<i"),
    6: struct.Struct("<f"),
    7: struct.Struct("<?"),
    10: _U64,
    11: struct.Struct("<q"),
    12: struct.Struct("<d"),
}


@dataclass(frozen=True)
class ArrayInfo:
    """A metadata array that was stepped over: its element type and length."""

    element_type: int
    count: int


@dataclass(frozen=True)
class GGUFInfo:
    """What the header says about a model; enough to list it and to plan its memory."""

    version: int
    architecture: str
    name: str | None
    model_type: str  # general.type: "model", "adapter", "mmproj"...
    license: str | None
    parameter_count: int
    quantization: str
    file_type: int | None
    context_length: int | None
    embedding_length: int | None
    block_count: int | None
    head_count: int | None
    head_count_kv: int | None
    vocab_size: int | None
    has_chat_template: bool
    # How its chat template writes tool calls, when Hearth reads that format ("hermes",
    # "llama3", "mistral"); "generic": Hearth's own instructions instead (tool_templates).
    tool_format: ToolFormat
    is_embedding: bool
    pooling_type: int | None
    file_size: int
    data_offset: int
    tensor_count: int
    tensor_bytes: int
    # Bytes of `blk.N.*` tensors, indexed by N; what a partial GPU offload moves per layer.
    layer_bytes: tuple[int, ...] = field(default=())
    # Everything outside the blocks (embeddings, output norm and head).
    non_layer_bytes: int = 0
    # token_embd stays on the CPU in llama.cpp even with every layer offloaded.
    token_embd_bytes: int = 0


class _Truncated(Exception):
    pass


class _Corrupt(Exception):
    pass


def read_gguf_info(path: Path, name: str | None = None) -> GGUFInfo:
    """Parse `path`'s GGUF header; raise InvalidModel with a specific code if it is unusable.

    `name` is what the person calls the file (an upload is checked under a temporary name,
    which must never reach them); the file's own name by default."""
    path = Path(path)
    label = name or path.name
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise InvalidModel(f"{label} is not a regular file", code="not_gguf")
        with path.open("rb") as fh:
            if size < 24:  # too short for the fixed header: mmap would also refuse an empty file
                head = fh.read(4)
                raise _Truncated if head == MAGIC else _not_gguf(label, head)
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                return _parse(buf, size, label)
    except FileNotFoundError:
        raise InvalidModel(f"{label} does not exist", code="not_gguf") from None
    except IsADirectoryError:
        raise InvalidModel(f"{label} is a folder, not a GGUF model file", code="not_gguf") from None
    except (_Truncated, struct.error):
        raise InvalidModel(
            f"{label} is truncated: its header ends before the metadata it announces "
            "(an interrupted download or copy?)",
            code="truncated",
        ) from None
    except _Corrupt as exc:
        raise InvalidModel(f"{label} is corrupt: {exc}", code="corrupt") from None
    except OSError as exc:
        raise InvalidModel(f"{label} cannot be read: {exc.strerror}", code="unreadable") from None


def _not_gguf(label: str, head: bytes) -> InvalidModel:
    shown = head[:4].decode("ascii", errors="replace")
    if not head:
        start = "it is empty"
    elif shown.isprintable():
        start = f'it starts with "{shown}", not "GGUF"'
    else:
        start = 'it does not start with "GGUF"'
    return InvalidModel(
        f"{label} is not a GGUF model file ({start}). Choose a .gguf file, the model format "
        "llama.cpp reads (Hugging Face lists them under GGUF).",
        code="not_gguf",
    )


def _parse(buf: mmap.mmap, size: int, label: str) -> GGUFInfo:
    if buf[:4] != MAGIC:
        raise _not_gguf(label, buf[:4])
    (version,) = _U32.unpack_from(buf, 4)
    if version not in SUPPORTED_VERSIONS:
        hint = " (a big-endian file?)" if version > 0xFFFF else ""
        raise InvalidModel(
            f"{label} is GGUF version {version}{hint}; only versions 2 and 3 are supported",
            code="unsupported_gguf_version",
        )
    (tensor_count,) = _U64.unpack_from(buf, 8)
    (kv_count,) = _U64.unpack_from(buf, 16)
    pos = 24
    meta: dict[str, Any] = {}
    for _ in range(kv_count):
        key, pos = _read_string(buf, pos)
        (vtype,) = _U32.unpack_from(buf, pos)
        meta[key], pos = _read_value(buf, pos + 4, vtype, size)

    alignment = meta.get("general.alignment", DEFAULT_ALIGNMENT)
    if not isinstance(alignment, int) or alignment <= 0 or alignment & (alignment - 1):
        raise _Corrupt(f"general.alignment {alignment!r} is not a power of two")

    tensors, pos = _read_tensor_table(buf, pos, tensor_count)
    data_offset = _align(pos, alignment)

    if tensor_count == 0 or meta.get("general.vocab_only"):
        raise InvalidModel(
            f"{label} holds only a tokenizer vocabulary (no weights), so it cannot be run",
            code="vocab_only",
        )
    data_end = data_offset + max(offset + nbytes for _, _, _, offset, nbytes in tensors)
    if size < data_end:
        raise InvalidModel(
            f"{label} is truncated: it is {size:,} bytes but its tensors end at byte "
            f"{data_end:,} (an interrupted download or copy?)",
            code="truncated",
        )
    return _summarise(meta, tensors, version=version, size=size, data_offset=data_offset)


def _read_string(buf: mmap.mmap, pos: int) -> tuple[str, int]:
    (n,) = _U64.unpack_from(buf, pos)
    start = pos + 8
    end = start + n
    if end > len(buf):
        raise _Truncated
    return buf[start:end].decode("utf-8", errors="replace"), end


def _read_value(buf: mmap.mmap, pos: int, vtype: int, size: int) -> tuple[Any, int]:
    scalar = _SCALARS.get(vtype)
    if scalar is not None:
        return scalar.unpack_from(buf, pos)[0], pos + scalar.size
    if vtype == _STRING:
        return _read_string(buf, pos)
    if vtype != _ARRAY:
        raise _Corrupt(f"unknown metadata value type {vtype} at byte {pos}")
    (etype,) = _U32.unpack_from(buf, pos)
    (count,) = _U64.unpack_from(buf, pos + 4)
    pos += 12
    elem = _SCALARS.get(etype)
    if elem is not None:
        end = pos + count * elem.size
        if end > size:
            raise _Truncated
        if count <= _SMALL_ARRAY:
            values = struct.unpack_from(f"<{count}{elem.format[-1]}", buf, pos)
            return values, end
        return ArrayInfo(etype, count), end
    if etype == _STRING:
        # The hot loop of the whole parser: a vocabulary is 30k-250k length-prefixed strings.
        unpack = _U64.unpack_from
        for _ in range(count):
            pos += 8 + unpack(buf, pos)[0]
        if pos > size:
            raise _Truncated
        return ArrayInfo(etype, count), pos
    for _ in range(count):  # arrays of arrays: rare, so the general path is fine
        _, pos = _read_value(buf, pos, etype, size)
    return ArrayInfo(etype, count), pos


Tensor = tuple[str, int, int, int, int]  # name, ggml type, elements, data offset, bytes


def _read_tensor_table(buf: mmap.mmap, pos: int, count: int) -> tuple[list[Tensor], int]:
    tensors: list[Tensor] = []
    for _ in range(count):
        name, pos = _read_string(buf, pos)
        (n_dims,) = _U32.unpack_from(buf, pos)
        pos += 4
        if n_dims > MAX_DIMS:
            raise _Corrupt(f"tensor {name!r} has {n_dims} dimensions (at most {MAX_DIMS})")
        dims = struct.unpack_from(f"<{n_dims}Q", buf, pos)
        pos += 8 * n_dims
        (ttype,) = _U32.unpack_from(buf, pos)
        (offset,) = _U64.unpack_from(buf, pos + 4)
        pos += 12
        known = TENSOR_TYPES.get(ttype)
        if known is None:
            raise InvalidModel(
                f"tensor {name!r} uses ggml type {ttype}, which this version of Hearth "
                "does not know (a newer quantisation?)",
                code="unsupported_tensor_type",
            )
        _, block, type_size = known
        elements = 1
        for d in dims:
            elements *= d
        tensors.append((name, ttype, elements, offset, elements // block * type_size))
    return tensors, pos


def _align(pos: int, alignment: int) -> int:
    return pos + (-pos) % alignment


def _summarise(
    meta: dict[str, Any], tensors: list[Tensor], *, version: int, size: int, data_offset: int
) -> GGUFInfo:
    def meta_str(key: str) -> str | None:
        value = meta.get(key)
        return value if isinstance(value, str) else None

    arch = meta_str("general.architecture") or ""

    def arch_int(key: str) -> int | None:
        value = meta.get(f"{arch}.{key}")
        if isinstance(value, tuple):  # per-layer values (e.g. OpenELM head counts)
            value = max(value, default=None)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    layers: dict[int, int] = {}
    non_layer = token_embd = params = 0
    elements_by_type: dict[int, int] = {}
    for name, ttype, elements, _, nbytes in tensors:
        params += elements
        elements_by_type[ttype] = elements_by_type.get(ttype, 0) + elements
        block = _block_index(name)
        if block is None:
            non_layer += nbytes
            if name.startswith("token_embd."):
                token_embd += nbytes
        else:
            layers[block] = layers.get(block, 0) + nbytes

    block_count = arch_int("block_count")
    n_layers = max(block_count or 0, max(layers, default=-1) + 1)
    file_type = meta.get("general.file_type")
    file_type = file_type if isinstance(file_type, int) else None
    tokens = meta.get("tokenizer.ggml.tokens")
    pooling = arch_int("pooling_type")
    template = meta_str("tokenizer.chat_template")
    return GGUFInfo(
        version=version,
        architecture=arch,
        name=meta_str("general.name"),
        model_type=meta_str("general.type") or "model",
        license=meta_str("general.license"),
        parameter_count=params,
        quantization=_quantization(file_type, elements_by_type),
        file_type=file_type,
        context_length=arch_int("context_length"),
        embedding_length=arch_int("embedding_length"),
        block_count=block_count,
        head_count=arch_int("attention.head_count"),
        head_count_kv=arch_int("attention.head_count_kv"),
        vocab_size=tokens.count if isinstance(tokens, ArrayInfo) else None,
        has_chat_template=bool(template and template.strip()),
        tool_format=detect(template).format,
        is_embedding=pooling is not None or arch in EMBEDDING_ARCHITECTURES,
        pooling_type=pooling,
        file_size=size,
        data_offset=data_offset,
        tensor_count=len(tensors),
        tensor_bytes=sum(t[4] for t in tensors),
        layer_bytes=tuple(layers.get(i, 0) for i in range(n_layers)),
        non_layer_bytes=non_layer,
        token_embd_bytes=token_embd,
    )


def _block_index(name: str) -> int | None:
    if not name.startswith("blk."):
        return None
    number = name[4:].split(".", 1)[0]
    return int(number) if number.isdigit() else None


def _quantization(file_type: int | None, elements_by_type: dict[int, int]) -> str:
    if file_type is not None and file_type in FILE_TYPES:
        return FILE_TYPES[file_type]
    # No (known) file type: name the tensor type holding most of the weights.
    dominant = max(elements_by_type, key=elements_by_type.__getitem__)
    return TENSOR_TYPES[dominant][0]
