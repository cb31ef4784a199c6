from pathlib import Path

import pytest
from hearth.errors import ConfigError
from hearth.settings import Settings


def test_defaults_follow_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("HEARTH_DATA_DIR", str(tmp_path))
    settings = Settings.load(env_file=None)
    assert settings.models_dir == tmp_path / "models"
    assert settings.port == 0
    assert settings.gpu_detection_cache is True
    assert settings.gpu_detection_timeout == 5.0
    assert settings.auto_upgrade_gpu is False


def test_every_documented_name_is_read(tmp_path, monkeypatch):
    env = {
        "HEARTH_DATA_DIR": str(tmp_path),
        "HEARTH_MODELS_DIR": str(tmp_path / "elsewhere"),
        "HEARTH_PORT": "51234",
        "HEARTH_TOKEN": "x" * 32,
        "LLAMACPP_N_GPU_LAYERS": "-1",
        "LLAMACPP_N_THREADS": "3",
        "LLAMACPP_N_CTX": "8192",
        "LLAMACPP_VERBOSE": "true",
        "AUTO_UPGRADE_GPU": "1",
        "GPU_DETECTION_CACHE": "false",
        "GPU_DETECTION_TIMEOUT": "2.5",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    s = Settings.load(env_file=None)
    assert (s.models_dir, s.port, s.token) == (tmp_path / "elsewhere", 51234, "x" * 32)
    assert (s.n_gpu_layers, s.n_threads, s.n_ctx, s.verbose) == (-1, 3, 8192, True)
    assert (s.auto_upgrade_gpu, s.gpu_detection_cache, s.gpu_detection_timeout) == (
        True,
        False,
        2.5,
    )


def test_dotenv_file_is_read_and_environment_wins(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text("LLAMACPP_N_CTX=1024\nLLAMACPP_N_THREADS=2\n")
    monkeypatch.setenv("LLAMACPP_N_THREADS", "4")
    s = Settings.load(env_file=env_file)
    assert s.n_ctx == 1024
    assert s.n_threads == 4


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HEARTH_PORT", "70000"),
        ("HEARTH_PORT", "eighty"),
        ("LLAMACPP_N_CTX", "12"),
        ("LLAMACPP_N_GPU_LAYERS", "-5"),
        ("LLAMACPP_N_THREADS", "0"),
        ("AUTO_UPGRADE_GPU", "perhaps"),
        ("GPU_DETECTION_TIMEOUT", "-1"),
        ("HEARTH_TOKEN", "short"),
        ("HEARTH_ENGINE", "magic"),
        ("HEARTH_REMOTE_URL", "ftp://x"),
    ],
)
def test_a_bad_value_names_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as err:
        Settings.load(env_file=None)
    assert name in err.value.message
    assert value in err.value.message


def test_bad_setting_stops_the_cli_with_the_name(monkeypatch, capsys):
    from hearth.cli import main

    monkeypatch.setenv("HEARTH_PORT", "-3")
    assert main(["serve"]) == 2
    assert "HEARTH_PORT" in capsys.readouterr().err


def test_allowed_origins_is_a_comma_list(monkeypatch):
    monkeypatch.setenv("HEARTH_ALLOWED_ORIGINS", "http://localhost:5173/, http://127.0.0.1:5173")
    s = Settings.load(env_file=None)
    assert s.allowed_origins == ["http://localhost:5173", "http://127.0.0.1:5173"]


def test_data_dir_default_is_per_user(monkeypatch):
    monkeypatch.delenv("HEARTH_DATA_DIR")
    assert "Hearth" in Path(Settings.load(env_file=None).data_dir).parts[-1]


def test_a_carried_starter_folder_may_be_written_from_home(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("HEARTH_STARTER_DIR=~/starter\n")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("HEARTH_STARTER_DIR", raising=False)
    assert Settings.load(env_file=tmp_path / ".env").starter_dir == tmp_path / "starter"
