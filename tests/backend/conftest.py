"""Backend fixtures: a models folder of real fixtures, and a real server process."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.backend.server_process import HearthProcess


@pytest.fixture
def models_folder(tmp_path: Path, stories_path: Path, smollm_path: Path) -> Path:
    """A models folder holding the two generation fixtures (symlinked, never copied)."""
    folder = tmp_path / "models"
    folder.mkdir()
    for source in (stories_path, smollm_path):
        (folder / source.name).symlink_to(source)
    return folder


@pytest.fixture
def hearth_server(tmp_path: Path, models_folder: Path):
    """A running backend with SmolLM2 and stories260K installed."""
    server = HearthProcess(tmp_path / "data", models_folder).start()
    yield server
    server.stop()


class FakeHearth:
    """The whole app in this process, on a real 127.0.0.1 port, over the scripted engine."""

    def __init__(self, data_dir: Path, factory):
        import secrets

        from hearth.server import Server
        from hearth.settings import Settings

        self.factory = factory
        self.token = secrets.token_urlsafe(24)
        settings = Settings.load(None, HEARTH_DATA_DIR=str(data_dir), HEARTH_PORT=0)
        self.server = Server(settings, self.token, factory=factory)
        self.url = self.server.url

    def __enter__(self) -> FakeHearth:
        self._thread = self.server.start_in_thread()
        if not self.server.wait_started(30):
            raise RuntimeError("the in-process server never started")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
        self._thread.join(30)

    def client(self, **kwargs):
        import httpx

        kwargs.setdefault("timeout", 30)
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.Client(base_url=self.url, headers=headers, **kwargs)


@pytest.fixture
def fake_factory():
    from tests.backend.fake_engine import FakeFactory

    return FakeFactory(models=("fake-chat", "fake-other"))


@pytest.fixture
def fake_hearth(tmp_path: Path, fake_factory):
    with FakeHearth(tmp_path / "data", fake_factory) as hearth:
        yield hearth
