"""A stored file and a batch as OpenAI's API shows them. Pure."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Literal

Status = Literal[
    "validating",
    "in_progress",
    "finalizing",
    "completed",
    "failed",
    "cancelling",
    "cancelled",
    "expired",
]
# Where a batch no longer changes.
DONE: tuple[Status, ...] = ("completed", "failed", "cancelled", "expired")
Purpose = Literal["batch", "batch_output"]

COMPLETION_WINDOW_S = {"24h": 24 * 3600}


@dataclass(frozen=True)
class FileRecord:
    id: str
    filename: str
    purpose: str
    bytes: int
    created_at: int

    def to_openai(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": self.bytes,
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "expires_at": None,
            "status_details": None,
        }


@dataclass(frozen=True)
class Counts:
    total: int = 0
    completed: int = 0
    failed: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"total": self.total, "completed": self.completed, "failed": self.failed}


@dataclass(frozen=True)
class Batch:
    id: str
    input_file_id: str
    endpoint: str
    completion_window: str
    status: Status
    errors: dict[str, Any] | None
    metadata: dict[str, str] | None
    output_file_id: str | None
    error_file_id: str | None
    created_at: int
    in_progress_at: int | None
    expires_at: int
    finalizing_at: int | None
    completed_at: int | None
    failed_at: int | None
    expired_at: int | None
    cancelling_at: int | None
    cancelled_at: int | None
    counts: Counts = Counts()

    def to_openai(self) -> dict[str, Any]:
        shown = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "counts"}
        return {**shown, "object": "batch", "request_counts": self.counts.to_dict()}


# The batch table's columns, in Batch's order (counts come from the lines).
BATCH_COLUMNS = tuple(f.name for f in fields(Batch) if f.name != "counts")
