"""What OpenAI clients send beyond the messages: `response_format` (JSON, or a strict JSON
schema, enforced by a llama.cpp grammar so the answer always parses) and log-probabilities,
rendered in OpenAI's two shapes (chat's `content` list, completions' legacy columns)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hearth.engine.base import TokenLogprob
from hearth.engine.grammar import llama_grammar
from hearth.errors import BadRequest


class JsonSchemaFormat(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, strict=True)

    name: str = Field(default="answer", max_length=64)
    description: str | None = Field(default=None, max_length=4000)
    schema_: dict[str, Any] = Field(default_factory=dict, alias="schema")
    # Hearth always enforces the schema; `strict` is accepted for the clients that send it.
    strict: bool | None = None


class TextFormat(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    type: Literal["text"]


class JsonObjectFormat(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    type: Literal["json_object"]


class JsonSchemaResponse(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    type: Literal["json_schema"]
    json_schema: JsonSchemaFormat


ResponseFormat = Annotated[
    TextFormat | JsonObjectFormat | JsonSchemaResponse, Field(discriminator="type")
]


def grammar_for(
    response_format: TextFormat | JsonObjectFormat | JsonSchemaResponse | None,
) -> str | None:
    """The GBNF that holds an answer to the format; None for free text."""
    if response_format is None or isinstance(response_format, TextFormat):
        return None
    converter = llama_grammar()
    if isinstance(response_format, JsonObjectFormat):
        return str(converter.JSON_GBNF)
    schema = json.dumps(response_format.json_schema.schema_)
    try:
        return str(converter.json_schema_to_gbnf(schema))
    except Exception as exc:  # the converter raises what it likes for what it cannot do
        raise BadRequest(
            f"This JSON schema cannot be enforced: {exc or type(exc).__name__}.",
            code="unsupported_schema",
        ) from None


def chat_logprobs(tokens: Sequence[TokenLogprob]) -> dict[str, Any]:
    """Chat's shape: {"content": [{token, logprob, bytes, top_logprobs: [...]}, ...]}."""
    return {
        "content": [
            {
                "token": t.token,
                "logprob": t.logprob,
                "bytes": list(t.raw),
                "top_logprobs": [
                    {"token": text, "logprob": lp, "bytes": list(raw)} for text, raw, lp in t.top
                ],
            }
            for t in tokens
        ],
        "refusal": None,
    }


def completion_logprobs(tokens: Sequence[TokenLogprob], offset: int = 0) -> dict[str, Any]:
    """Completions' legacy columns; `offset` is where these tokens start in the whole text."""
    offsets, at = [], offset
    for t in tokens:
        offsets.append(at)
        at += len(t.token)
    return {
        "tokens": [t.token for t in tokens],
        "token_logprobs": [t.logprob for t in tokens],
        "top_logprobs": [{text: lp for text, _, lp in t.top} for t in tokens],
        "text_offset": offsets,
    }
