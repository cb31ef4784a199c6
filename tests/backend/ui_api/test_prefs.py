"""The preferences store: bounds, atomic writes, a damaged file set aside, preference over env."""

from __future__ import annotations

import json

import pytest
from hearth.errors import BadRequest
from hearth.prefs import Preferences, PrefsStore, bounds, effective
from hearth.settings import Settings


def _settings(**env) -> Settings:
    return Settings.load(env_file=None, **env)


def test_defaults_when_no_file(tmp_path):
    store = PrefsStore(tmp_path)
    assert store.get() == Preferences()
    assert store.problem is None
    assert not store.path.exists()


def test_update_saves_and_a_new_store_reads_it(tmp_path):
    store = PrefsStore(tmp_path)
    store.update({"n_threads": 6, "n_ctx": 8192})
    store.update({"n_gpu_layers": -1})
    saved = json.loads(store.path.read_text())
    assert saved == {
        **Preferences().model_dump(),
        "n_threads": 6,
        "n_ctx": 8192,
        "n_gpu_layers": -1,
    }
    assert PrefsStore(tmp_path).get().n_ctx == 8192
    assert not list(tmp_path.glob("*.tmp"))


def test_ui_choices_round_trip_and_leave_the_load_fields_alone(tmp_path):
    # Web mode forgets localStorage with every new port; these must come back from the data dir.
    store = PrefsStore(tmp_path)
    store.update({"n_ctx": 2048})
    store.update({"theme": "dark", "onboarded": True})
    store.update({"sampling": {"temperature": 1.2, "max_tokens": 256}, "upgrade_seen": "job1"})
    again = PrefsStore(tmp_path).get()
    assert again.theme == "dark" and again.onboarded is True and again.upgrade_seen == "job1"
    assert again.sampling is not None and again.sampling.temperature == 1.2
    assert again.sampling.top_p is None  # unset: the UI's default applies
    assert again.n_ctx == 2048
    assert store.update({"theme": None}).theme is None


def test_null_clears_back_to_the_environment(tmp_path):
    store = PrefsStore(tmp_path)
    store.update({"n_ctx": 2048})
    assert store.update({"n_ctx": None}).n_ctx is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"n_threads": 0}, "n_threads"),
        ({"n_threads": 5000}, "n_threads"),
        ({"n_ctx": 100}, "n_ctx"),
        ({"n_gpu_layers": -2}, "n_gpu_layers"),
        ({"n_ctx": "big"}, "n_ctx"),
        ({"default_model": ""}, "default_model"),
        ({"colour": "red"}, "colour"),
        ({"theme": "blue"}, "theme"),
        ({"onboarded": "maybe"}, "onboarded"),
        ({"sampling": {"temperature": 3}}, "sampling.temperature"),
        ({"sampling": {"seed": 1}}, "sampling.seed"),
        ({"upgrade_seen": "x" * 201}, "upgrade_seen"),
    ],
)
def test_bad_values_are_refused_and_nothing_is_lost(tmp_path, change, field):
    store = PrefsStore(tmp_path)
    store.update({"n_threads": 4})
    with pytest.raises(BadRequest) as err:
        store.update(change)
    assert field in err.value.message
    assert PrefsStore(tmp_path).get().n_threads == 4


def test_a_damaged_file_is_set_aside_with_a_reason(tmp_path):
    (tmp_path / "preferences.json").write_text('{"n_ctx": 12}')
    store = PrefsStore(tmp_path)
    assert store.get() == Preferences()
    assert "preferences.json was invalid" in (store.problem or "")
    assert (tmp_path / "preferences.json.bad").read_text() == '{"n_ctx": 12}'
    store.update({"n_ctx": 4096})
    assert store.problem is None


@pytest.mark.parametrize(
    ("env", "prefs", "expected"),
    [
        ({}, {}, {"n_threads": None, "n_ctx": 4096, "n_gpu_layers": None}),
        ({"LLAMACPP_N_CTX": "2048"}, {}, {"n_ctx": 2048}),
        ({"LLAMACPP_N_CTX": "2048"}, {"n_ctx": 8192}, {"n_ctx": 8192}),
        ({"LLAMACPP_N_GPU_LAYERS": "10"}, {"n_gpu_layers": 0}, {"n_gpu_layers": 0}),
        ({"LLAMACPP_N_THREADS": "3"}, {}, {"n_threads": 3}),
        (
            {"HEARTH_DEFAULT_MODEL": "a.gguf"},
            {"default_model": "b.gguf"},
            {"default_model": "b.gguf"},
        ),
    ],
)
def test_preference_over_environment(monkeypatch, env, prefs, expected):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = effective(_settings(), Preferences(**prefs))
    for key, value in expected.items():
        assert getattr(result, key) == value
        assert result.sources[key] == ("preference" if key in prefs else "environment")


def test_bounds_match_the_model():
    b = bounds()
    assert b["n_ctx"]["minimum"] == 256 and b["n_threads"]["maximum"] == 1024
    assert b["n_gpu_layers"]["minimum"] == -1
