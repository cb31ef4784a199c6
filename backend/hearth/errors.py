"""A small exception hierarchy; the API maps it to one JSON error shape in one place."""

from __future__ import annotations


class HearthError(Exception):
    """Base error: a stable machine-readable `code`, a human `message` and an HTTP status."""

    code = "internal_error"
    status = 500

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class BadRequest(HearthError):
    code = "bad_request"
    status = 400


class NotFound(HearthError):
    code = "not_found"
    status = 404


class Conflict(HearthError):
    code = "conflict"
    status = 409


class InvalidModel(HearthError):
    """A file that is not a usable GGUF (not GGUF, truncated, vocab-only...)."""

    code = "invalid_model"
    status = 422


class ModelLoadError(HearthError):
    code = "model_load_failed"
    status = 500


class GenerationFailed(HearthError):
    """Something unexpected inside the engine ended an answer (the reason is logged)."""

    code = "generation_failed"


class DownloadError(HearthError):
    code = "download_failed"
    status = 502


class ConfigError(HearthError):
    """A bad setting; startup stops with a message naming the variable."""

    code = "config_error"
    status = 500
