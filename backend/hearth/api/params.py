"""Request values whose limits the OpenAPI schema states, so clients generated from
/openapi.json send only what the routes accept, and no value reaches SQLite out of its range.

A rule that plain JSON Schema keywords cannot carry Hearth's wording for is a checked string:
the schema clients see (a pattern) beside the check that enforces it, which refuses with 422
and the check's own sentence and code (see app.install_error_handlers)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Path, Query
from pydantic import AfterValidator, WithJsonSchema
from pydantic_core import PydanticCustomError
from starlette.convertors import Convertor, register_url_convertor

from hearth.errors import HearthError
from hearth.library.filenames import MAX_NAME_LENGTH, check_model_filename, check_plain_filename

# SQLite integers are signed 64-bit: a larger id or offset raises OverflowError in the driver.
SQLITE_MAX_INT = 2**63 - 1

RowId = Annotated[int, Path(ge=1, le=SQLITE_MAX_INT, description="A row id")]
Offset = Annotated[int, Query(ge=0, le=SQLITE_MAX_INT, description="Items to skip")]

# hearth.library.filenames' rules as a pattern: no path separator, no character Windows
# forbids, no control character, not starting with a dot or a space, not ending in a space or
# a dot. Reserved device names (NUL, COM1...) are refused by the check alone.
_NAME_START = r'[^.\s<>:"/\\|?*\x00-\x1f\x7f]'
_NAME_CHAR = r'[^<>:"/\\|?*\x00-\x1f\x7f]'
_NAME_END = r'[^.\s<>:"/\\|?*\x00-\x1f\x7f]'
PLAIN_FILENAME_PATTERN = rf"^{_NAME_START}({_NAME_CHAR}{{0,{MAX_NAME_LENGTH - 2}}}{_NAME_END})?$"
MODEL_FILENAME_PATTERN = (
    rf"^{_NAME_START}{_NAME_CHAR}{{0,{MAX_NAME_LENGTH - 6}}}\.[gG][gG][uU][fF]$"
)


def checked_str(check: Callable[[str], object], schema: dict[str, Any], description: str) -> Any:
    """A string type: `schema` for /openapi.json, and `check` (raising a HearthError) to
    enforce it, refusing with the check's own message and code."""

    def validate(value: str) -> str:
        try:
            check(value)
        except HearthError as exc:
            # No context: the message is already worded and may hold braces of its own.
            raise PydanticCustomError(exc.code, exc.message) from None
        return value

    return Annotated[
        str,
        AfterValidator(validate),
        WithJsonSchema({"type": "string", **schema, "description": description}),
    ]


def _nonblank(value: str) -> None:
    if not value.strip():
        raise HearthError("A name cannot be only spaces.", code="blank_name")


def name_text(max_length: int) -> Any:
    """A name someone typed: at least one character that is not a space."""
    return checked_str(
        _nonblank, {"minLength": 1, "maxLength": max_length, "pattern": r"\S"}, "A name"
    )


if TYPE_CHECKING:
    ModelFileName = str
    PlainFileName = str
else:
    ModelFileName = checked_str(
        check_model_filename,
        {"minLength": 6, "maxLength": MAX_NAME_LENGTH, "pattern": MODEL_FILENAME_PATTERN},
        "A model's file name in the models folder, e.g. SmolLM2-135M-Instruct.Q4_1.gguf",
    )
    PlainFileName = checked_str(
        check_plain_filename,
        {"minLength": 1, "maxLength": MAX_NAME_LENGTH, "pattern": PLAIN_FILENAME_PATTERN},
        "A plain file name, without folders",
    )


def absolute_path_pattern(os_name: str = os.name) -> str:
    """Absolute on this OS, or from the home folder (~). Pure."""
    if os_name == "nt":
        return r"^([A-Za-z]:[\\/]|\\\\|~([\\/]|$))"
    return r"^(/|~(/|$))"


def binary_body(media_type: str, description: str) -> dict[str, Any]:
    """`openapi_extra` for a route that streams its raw body (a file, not JSON or multipart):
    FastAPI cannot see a body it never parses, so the schema says it here."""
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {media_type: {"schema": {"type": "string", "format": "binary"}}},
        }
    }


class _GGUFName(Convertor[str]):
    """Path segments that can name a model, so /api/models/{model_id} does not also answer for
    /api/models/catalogue or /downloads (those get 405 or 404, not a refused model name)."""

    regex = r"[^/]+\.[gG][gG][uU][fF]"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


class _UpgradeJobId(Convertor[str]):
    """An upgrade job's id (12 hex digits), so /upgrade-gpu/{job_id} leaves /upgrade-gpu/pack
    to its own route."""

    regex = "[0-9a-f]{12}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


# OpenAI's Batch API ids as Hearth makes them (hearth.batches.results.new_id), and any other
# of the same form, which is then a 404 as OpenAI answers for an unknown id.
FILE_ID_PATTERN = r"^file-[A-Za-z0-9]{1,64}$"
BATCH_ID_PATTERN = r"^batch_[A-Za-z0-9]{1,64}$"
FileId = Annotated[str, Path(pattern=FILE_ID_PATTERN, description="A file's id, file-…")]
BatchId = Annotated[str, Path(pattern=BATCH_ID_PATTERN, description="A batch's id, batch_…")]

UPGRADE_JOB_ID_PATTERN = f"^{_UpgradeJobId.regex}$"
UpgradeJobId = Annotated[str, Path(pattern=UPGRADE_JOB_ID_PATTERN, description="An upgrade job")]

# Declarations, as a route's path is: Starlette compiles "{model_id:gguf}" when the route
# module is imported, so the convertors must be known by then.
register_url_convertor("gguf", _GGUFName())
register_url_convertor("upgrade_job", _UpgradeJobId())
