"""Which names may become model files: a table of accepted and refused names."""

from __future__ import annotations

import pytest
from hearth.errors import BadRequest
from hearth.library.filenames import check_model_filename


@pytest.mark.parametrize(
    "name",
    [
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        "model.GGUF",
        "qwen2.5-0.5b-instruct-q4_k_m.gguf",
        "with space.gguf",
        "ünïcödé.gguf",
    ],
)
def test_plain_gguf_names_are_accepted(name):
    assert check_model_filename(name) == name


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("../evil.gguf", "path separator"),
        ("..\\evil.gguf", "path separator"),
        ("/etc/passwd.gguf", "path separator"),
        ("C:evil.gguf", "path separator"),
        ("model.bin", "end in .gguf"),
        ("model.gguf.part", "end in .gguf"),
        (".gguf", "dot"),
        (".hidden.gguf", "dot"),
        ("tab\there.gguf", "control character"),
        (" lead.gguf", "space"),
        ("NUL.gguf", "reserves"),
        ("com1.Q4.gguf", "reserves"),
        ("a" * 300 + ".gguf", "longer"),
        ("what?.gguf", "path separator"),
    ],
)
def test_unsafe_names_are_refused_with_a_reason(name, why):
    with pytest.raises(BadRequest) as caught:
        check_model_filename(name)
    assert caught.value.code == "bad_filename"
    assert why in caught.value.message
