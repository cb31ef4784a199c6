"""The UI's choices (theme, onboarding done, sampling) over /api/preferences: they outlive the
backend, so a relaunch on another port (a new web-mode origin, an empty localStorage) gets them."""

from __future__ import annotations

from tests.backend.api.sse_client import chat
from tests.backend.conftest import FakeHearth


def test_ui_choices_survive_a_relaunch_on_another_port(tmp_path, fake_factory):
    data = tmp_path / "data"
    with FakeHearth(data, fake_factory) as first, first.client() as client:
        conv = client.post("/api/conversations", json={"model": "fake-chat"}).json()
        fake_factory.enqueue("Hi")
        chat(client, conv["id"], "Hello")
        assert client.get("/api/status").json()["engine"]["loaded"] is not None

        saved = client.put(
            "/api/preferences",
            json={"theme": "dark", "onboarded": True, "sampling": {"temperature": 0.2}},
        )
        assert saved.status_code == 200, saved.text
        # A theme is not a reason to reload the model.
        assert saved.json()["unloaded"] is False
        assert client.get("/api/status").json()["engine"]["loaded"] is not None
        first_url = first.url

    with FakeHearth(data, fake_factory) as second, second.client() as client:
        assert second.url != first_url
        prefs = client.get("/api/preferences").json()["preferences"]
    assert prefs["theme"] == "dark" and prefs["onboarded"] is True
    assert prefs["sampling"] == {
        "temperature": 0.2,
        "max_tokens": None,
        "top_p": None,
        "repeat_penalty": None,
    }


def test_a_bad_ui_choice_is_refused_with_the_field_named(fake_hearth):
    with fake_hearth.client() as client:
        r = client.put("/api/preferences", json={"theme": "sepia"})
        assert r.status_code == 422 and "theme" in r.json()["message"]
        assert client.get("/api/preferences").json()["preferences"]["theme"] is None
