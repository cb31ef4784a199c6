"""The command line, run as a person would: real processes, real models."""

import json
import os
import subprocess
import sys

from tests.backend.server_process import REPO


def hearth(*args, env=None, input=None, timeout=120):
    full_env = {**os.environ, "PYTHONPATH": str(REPO / "backend"), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "hearth", *args],
        env=full_env,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_chat_streams_an_answer_and_keeps_the_conversation(tmp_path, models_folder):
    env = {"HEARTH_DATA_DIR": str(tmp_path / "data"), "HEARTH_MODELS_DIR": str(models_folder)}
    args = ["chat", "--model", "stories260K.gguf", "--temperature", "0", "--max-tokens", "12"]
    one = hearth(*args, "-m", "Once upon a time", env=env)
    assert one.returncode == 0, one.stderr
    # stories260K is no chat model: any words will do, the stats line proves the stream ended.
    assert len(one.stdout.split()) >= 2
    assert "12 tokens" in one.stderr and "tok/s" in one.stderr
    # The interactive loop: a line in, an answer out, /quit leaves.
    repl = hearth(*args, env=env, input="Once upon a time\n/quit\n")
    assert repl.returncode == 0, repl.stderr
    assert "you> " in repl.stdout and one.stdout in repl.stdout  # greedy: the same words
    # Both conversations were saved in the data dir's SQLite file.
    import sqlite3

    db = sqlite3.connect(tmp_path / "data" / "hearth.sqlite3")
    assert db.execute("SELECT count(*) FROM conversation").fetchone()[0] == 2
    db.close()


def test_models_list_and_import(tmp_path, stories_path):
    env = {"HEARTH_DATA_DIR": str(tmp_path / "data")}
    empty = hearth("models", env=env)
    assert "No models" in empty.stdout
    imported = hearth("models", "import", str(stories_path), env=env)
    assert imported.returncode == 0, imported.stderr
    listed = hearth("models", "list", env=env)
    assert "stories260K.gguf" in listed.stdout and "llama" in listed.stdout
    bad = tmp_path / "notes.gguf"
    bad.write_bytes(b"not a model at all")
    refused = hearth("models", "import", str(bad), env=env)
    assert refused.returncode == 1 and "GGUF" in refused.stderr


def test_detect_json_reports_no_gpu_with_reasons(tmp_path):
    env = {"HEARTH_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = hearth("detect", "--json", env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["recommendation"]["reason"]
    assert "avx2" in json.dumps(report["hardware"]).lower()


def test_serve_refuses_a_bad_setting_by_name(tmp_path):
    result = hearth("serve", env={"HEARTH_DATA_DIR": str(tmp_path), "LLAMACPP_N_CTX": "tiny"})
    assert result.returncode == 2
    assert "LLAMACPP_N_CTX" in result.stderr


def test_keys_and_the_api_server_from_the_terminal(tmp_path):
    env = {"HEARTH_DATA_DIR": str(tmp_path)}
    made = hearth("keys", "create", "--name", "editor", "--role", "read", env=env)
    assert made.returncode == 0, made.stderr
    secret = next(w for w in made.stdout.split() if w.startswith("hk_"))
    listed = hearth("keys", env=env).stdout
    assert "editor" in listed and "read" in listed and secret not in listed
    assert "revoked" in hearth("keys", "revoke", "1", env=env).stdout
    refused = hearth("api-server", "on", "--port", "8611", "--lan", env=env)
    assert refused.returncode == 2 and "--yes" in refused.stdout
    on = hearth("api-server", "on", "--port", "8611", env=env)
    assert "http://127.0.0.1:8611/v1 (this computer only)" in on.stdout
    assert json.loads((tmp_path / "api-server.json").read_text())["enabled"] is True
    assert "off" in hearth("api-server", "off", env=env).stdout


def test_the_command_line_loads_no_server_module_until_a_command_needs_one():
    # `hearth probe-runtime` runs a new runtime before Hearth trusts it; a test runtime that
    # breaks "inside the server" tells the two apart by uvicorn being loaded.
    code = "import sys, hearth.cli as c; c.build_parser(); print('uvicorn' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(REPO / "backend")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.strip() == "False", done.stderr
