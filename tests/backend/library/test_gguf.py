"""GGUF header parsing: the three real fixtures, and every way a file can be refused."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest
from hearth.errors import InvalidModel
from hearth.library.gguf import read_gguf_info

from tests.backend.gguf_edits import template_copy

TEMPLATES = Path(__file__).resolve().parents[1] / "chat_templates"


def refusal(path: Path) -> InvalidModel:
    with pytest.raises(InvalidModel) as caught:
        read_gguf_info(path)
    assert caught.value.status == 422
    return caught.value


def test_stories_is_a_small_llama_without_chat_template(stories_path):
    info = read_gguf_info(stories_path)
    assert info.architecture == "llama"
    assert info.has_chat_template is False
    assert info.context_length == 2048
    assert info.is_embedding is False
    assert info.quantization == "F32"  # no general.file_type: named after its tensors
    assert info.parameter_count == 292_800
    assert (info.block_count, info.head_count, info.head_count_kv) == (5, 8, 4)
    assert info.vocab_size == 512
    assert info.tensor_count == 48
    assert len(info.layer_bytes) == 5
    assert sum(info.layer_bytes) + info.non_layer_bytes == info.tensor_bytes
    assert info.data_offset + info.tensor_bytes == info.file_size == stories_path.stat().st_size


def test_smollm2_is_a_q4_1_chat_model(smollm_path):
    info = read_gguf_info(smollm_path)
    assert info.architecture == "llama"
    assert info.has_chat_template is True
    assert info.tool_format == "generic"  # ChatML without a tool section
    assert info.quantization == "Q4_1"
    assert info.context_length == 8192
    assert info.parameter_count == 134_515_008
    assert (info.embedding_length, info.block_count) == (576, 30)
    assert (info.head_count, info.head_count_kv) == (9, 3)
    assert info.vocab_size == 49_152
    assert info.license == "apache-2.0"
    assert info.is_embedding is False
    assert info.tensor_count == 272
    assert len(info.layer_bytes) == 30 and len(set(info.layer_bytes)) == 1
    # Tied embeddings: the token embedding is nearly all of the non-layer bytes.
    assert 0 < info.token_embd_bytes <= info.non_layer_bytes
    assert sum(info.layer_bytes) + info.non_layer_bytes == info.tensor_bytes


@pytest.mark.parametrize(
    ("template", "expected"),
    [("qwen2.5-instruct.jinja", "hermes"), ("llama-3.2-instruct.jinja", "llama3")],
)
def test_the_header_says_how_the_template_writes_tool_calls(
    smollm_path, tmp_path, template, expected
):
    # SmolLM2's file with another model's real chat template in its header.
    copy = template_copy(smollm_path, tmp_path / "tools.gguf", (TEMPLATES / template).read_text())
    assert read_gguf_info(copy).tool_format == expected


def test_weights_are_never_read(smollm_path, tmp_path):
    # A sparse copy: the real header, then a hole where the 98 MB of weights were. The reader
    # gives the same answer, so it never looked at them (and tests never time things).
    sparse = tmp_path / "sparse.gguf"
    info = read_gguf_info(smollm_path)
    with smollm_path.open("rb") as src, sparse.open("wb") as dst:
        dst.write(src.read(info.data_offset))
        dst.truncate(smollm_path.stat().st_size)
    assert read_gguf_info(sparse).tensor_bytes == info.tensor_bytes
    assert read_gguf_info(sparse).parameter_count == info.parameter_count


def test_minilm_is_a_bert_embedding_model(minilm_path):
    info = read_gguf_info(minilm_path)
    assert info.architecture == "bert"
    assert info.is_embedding is True
    assert info.pooling_type == 1
    assert info.quantization == "Q8_0"
    assert info.has_chat_template is False
    assert info.parameter_count == 22_565_376
    assert (info.context_length, info.embedding_length, info.block_count) == (512, 384, 6)


@pytest.mark.parametrize("keep", [10, 23, 5000, -100])
def test_a_cut_copy_is_truncated(stories_path, tmp_path, keep):
    data = stories_path.read_bytes()
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(data[:keep])
    error = refusal(cut)
    assert error.code == "truncated"
    assert "truncated" in error.message and "cut.gguf" in error.message


def test_missing_tensor_data_is_truncated_and_says_by_how_much(tiny_chat_bytes, tmp_path):
    path = tmp_path / "short.gguf"
    path.write_bytes(tiny_chat_bytes[:-1])
    error = refusal(path)
    assert error.code == "truncated"
    assert f"{len(tiny_chat_bytes):,}" in error.message


def test_random_bytes_are_not_gguf(tmp_path):
    path = tmp_path / "noise.gguf"
    path.write_bytes(os.urandom(4096))
    assert refusal(path).code == "not_gguf"


@pytest.mark.parametrize("make", ["empty", "folder", "missing", "tiny"])
def test_things_that_are_not_files_of_gguf_are_not_gguf(tmp_path, make):
    path = tmp_path / "x.gguf"
    if make == "empty":
        path.write_bytes(b"")
    elif make == "folder":
        path.mkdir()
    elif make == "tiny":
        path.write_bytes(b"PK\x03")
    assert refusal(path).code == "not_gguf"


def test_a_vocab_only_file_is_refused(make_gguf, tmp_path):
    path = tmp_path / "ggml-vocab-llama.gguf"
    kv = {"general.architecture": "llama", "tokenizer.ggml.tokens": ["<s>", "a", "b"]}
    path.write_bytes(make_gguf(kv, []))
    error = refusal(path)
    assert error.code == "vocab_only"
    assert "vocabulary" in error.message


def test_a_vocab_only_flag_is_refused_even_with_tensors(make_gguf, tmp_path):
    path = tmp_path / "flagged.gguf"
    path.write_bytes(
        make_gguf({"general.architecture": "llama", "general.vocab_only": True}, [("x", [4], 0)])
    )
    assert refusal(path).code == "vocab_only"


@pytest.mark.parametrize("version", [1, 4, 0x03000000])
def test_other_gguf_versions_are_unsupported(make_gguf, tmp_path, version):
    path = tmp_path / "v.gguf"
    path.write_bytes(make_gguf({"general.architecture": "llama"}, [("x", [4], 0)], version=version))
    error = refusal(path)
    assert error.code == "unsupported_gguf_version"
    assert str(version) in error.message


def test_version_2_is_read(make_gguf, tmp_path):
    path = tmp_path / "v2.gguf"
    path.write_bytes(make_gguf({"general.architecture": "llama"}, [("x", [4], 0)], version=2))
    assert read_gguf_info(path).version == 2


def test_an_unknown_tensor_type_is_named(make_gguf, tmp_path):
    data = bytearray(make_gguf({"general.architecture": "llama"}, [("x", [4], 0)]))
    # The tensor's type field sits right after its name and dimension; make it 99.
    at = data.index(b"\x01\x00\x00\x00" + struct.pack("<Q", 4)) + 12
    data[at : at + 4] = struct.pack("<I", 99)
    path = tmp_path / "odd.gguf"
    path.write_bytes(bytes(data))
    error = refusal(path)
    assert error.code == "unsupported_tensor_type"
    assert "99" in error.message


def test_an_unknown_metadata_type_is_corrupt(make_gguf, tmp_path):
    data = bytearray(make_gguf({"weird": 7}, [("x", [4], 0)]))
    at = data.index(b"weird") + len(b"weird")  # the value's type id follows the key
    data[at : at + 4] = struct.pack("<I", 42)
    path = tmp_path / "bad.gguf"
    path.write_bytes(bytes(data))
    error = refusal(path)
    assert error.code == "corrupt"
    assert "42" in error.message


def test_alignment_must_be_a_power_of_two(make_gguf, tmp_path):
    path = tmp_path / "align.gguf"
    path.write_bytes(make_gguf({"general.alignment": 24}, [("x", [4], 0)], alignment=24))
    assert refusal(path).code == "corrupt"


def test_a_custom_alignment_places_the_data(make_gguf, tmp_path):
    data = make_gguf(
        {"general.architecture": "llama", "general.alignment": 256},
        [("a", [3], 0), ("b", [5], 0)],
        alignment=256,
    )
    path = tmp_path / "aligned.gguf"
    path.write_bytes(data)
    info = read_gguf_info(path)
    assert info.data_offset % 256 == 0
    assert info.tensor_bytes == 32
    needed = info.data_offset + 256 + 5 * 4  # "b" starts at the second 256-byte boundary
    path.write_bytes(data[:needed])
    read_gguf_info(path)  # trailing padding is not required
    path.write_bytes(data[: needed - 1])
    assert refusal(path).code == "truncated"


def test_mixed_tensors_without_file_type_are_named_after_the_largest_share(make_gguf, tmp_path):
    path = tmp_path / "mixed.gguf"
    tensors = [("blk.0.w", [64, 64], 8), ("blk.0.norm", [64], 0), ("output.weight", [64, 2], 1)]
    path.write_bytes(make_gguf({"general.architecture": "llama"}, tensors))
    info = read_gguf_info(path)
    assert info.quantization == "Q8_0"
    assert info.file_type is None
    assert info.layer_bytes == (64 * 64 // 32 * 34 + 64 * 4,)
    assert info.non_layer_bytes == 64 * 2 * 2


def test_per_layer_head_counts_report_the_largest(make_gguf, tmp_path):
    path = tmp_path / "openelm.gguf"
    kv = {"general.architecture": "openelm", "openelm.attention.head_count": [4, 8, 12]}
    path.write_bytes(make_gguf(kv, [("x", [4], 0)]))
    assert read_gguf_info(path).head_count == 12


@pytest.mark.parametrize(
    ("kv", "embedding"),
    [
        ({"general.architecture": "nomic-bert"}, True),
        ({"general.architecture": "qwen3", "qwen3.pooling_type": 3}, True),
        ({"general.architecture": "qwen3"}, False),
    ],
)
def test_embedding_models_are_recognised(make_gguf, tmp_path, kv, embedding):
    path = tmp_path / "m.gguf"
    path.write_bytes(make_gguf(kv, [("x", [4], 0)]))
    assert read_gguf_info(path).is_embedding is embedding
