"""The local API server on a real `hearth serve`: a program set up once with the fixed port and
a user key keeps working across restarts; a busy port and an unconfirmed LAN are refused."""

from __future__ import annotations

import socket

import openai
import pytest

from tests.backend.server_process import HearthProcess


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_one_client_setup_works_across_restarts(tmp_path, models_folder):
    port = _free_port()
    first = HearthProcess(tmp_path / "data", models_folder).start()
    try:
        with first.client() as ui:
            secret = ui.post("/api/admin/keys", json={"name": "editor", "role": "user"}).json()
            r = ui.put("/api/admin/api-server", json={"enabled": True, "port": port})
            assert r.status_code == 200, r.text
            status = r.json()
            assert status["listening"] and status["base_url"] == f"http://127.0.0.1:{port}/v1"
            # Program's setup, done once: the fixed address and the key.
            program = openai.OpenAI(base_url=status["base_url"], api_key=secret["secret"])
            reply = program.completions.create(
                model="stories260K.gguf", prompt="Once upon a time", max_tokens=4
            )
            assert reply.usage.completion_tokens >= 1
            # Admin work with a user key is refused on the API port too.
            with pytest.raises(openai.PermissionDeniedError):
                program.post(
                    "/../api/admin/keys", cast_to=object, body={"name": "x", "role": "admin"}
                )
    finally:
        assert first.stop() == 0
    second = HearthProcess(tmp_path / "data", models_folder).start()
    try:
        assert second.port != port  # the UI's own port is new; the API's is not
        reply = program.completions.create(
            model="stories260K.gguf", prompt="Once upon a time", max_tokens=4
        )
        assert reply.usage.completion_tokens >= 1
        with second.client() as ui:
            key_id = ui.get("/api/admin/keys").json()["keys"][0]["id"]
            ui.delete(f"/api/admin/keys/{key_id}")
        with pytest.raises(openai.AuthenticationError):
            program.completions.create(model="stories260K.gguf", prompt="Once", max_tokens=2)
    finally:
        second.stop()


@pytest.mark.slow
def test_a_busy_port_and_an_unconfirmed_lan_are_refused_in_words(tmp_path):
    server = HearthProcess(tmp_path / "data").start()
    try:
        with socket.socket() as taken, server.client() as ui:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            busy = taken.getsockname()[1]
            r = ui.put("/api/admin/api-server", json={"enabled": True, "port": busy})
            assert (r.status_code, r.json()["code"]) == (409, "port_unavailable")
            assert f"Port {busy} is in use" in r.json()["message"]
            assert ui.get("/api/admin/api-server").json()["listening"] is False
            r = ui.put(
                "/api/admin/api-server", json={"enabled": True, "port": _free_port(), "lan": True}
            )
            assert (r.status_code, r.json()["code"]) == (400, "confirm_lan")
            off = ui.put("/api/admin/api-server", json={"enabled": False, "port": busy})
            assert off.json()["listening"] is False and off.json()["error"] is None
    finally:
        server.stop()
