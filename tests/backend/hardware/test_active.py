"""The active-runtime reader and the upgrade state files."""

from __future__ import annotations

import importlib.util
import json
import sys

from hearth.runtime.active import read_active_runtime, read_upgrade_state


def test_reader_does_not_import_llama_cpp_at_import_time():
    # Importing the module must be free; only the call touches llama_cpp.
    import hearth.runtime.active  # noqa: F401

    assert "llama_cpp" not in sys.modules or importlib.util.find_spec("llama_cpp") is not None


def test_bundled_cpu_runtime():
    runtime = read_active_runtime()
    assert (runtime.id, runtime.kind) == ("cpu-bundled", "cpu")
    if importlib.util.find_spec("llama_cpp") is None:
        assert runtime.error and runtime.error.startswith("cannot import llama_cpp")
        assert runtime.supports_gpu_offload is False
    else:
        assert runtime.error is None, runtime.error
        assert runtime.llama_cpp_version
        assert runtime.llama_cpp_path and runtime.llama_cpp_path.endswith("__init__.py")
        assert isinstance(runtime.supports_gpu_offload, bool)


def test_upgrade_state(tmp_path):
    assert read_upgrade_state(tmp_path) == {
        "pending": None,
        "activation_pending": False,
        "last_revert": None,
        "last_job": None,
    }
    (tmp_path / "runtimes").mkdir()
    (tmp_path / "runtimes" / "pending.json").write_text(json.dumps({"attempts": 1}))
    assert read_upgrade_state(tmp_path)["pending"] == {"attempts": 1}
