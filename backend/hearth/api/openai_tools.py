"""OpenAI's `tools`: the request's shapes, and Hearth's documented fallback for models whose
chat template has no tool format of its own (after llama-server's generic format): the tools are
described in a system message, a call is the whole answer as JSON `{"name": ..., "arguments":
{...}}`. When a call is required (`tool_choice` "required" or one named function) a grammar built
from the tools' JSON schemas makes the answer exactly one call, in the fallback's shape or in a
native format's (tool_formats). Pure, but for the grammar converter."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hearth.api.tool_formats import SHAPES, Answer, CallShape, ToolFormat, template_arguments
from hearth.engine.grammar import llama_grammar
from hearth.errors import BadRequest

MAX_TOOLS = 64


class FunctionSpec(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str | None = Field(default=None, max_length=4000)
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class Tool(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    type: Literal["function"] = "function"
    function: FunctionSpec


class NamedFunction(BaseModel):
    model_config = ConfigDict(strict=True)

    name: str = Field(min_length=1, max_length=64)


class NamedToolChoice(BaseModel):
    model_config = ConfigDict(strict=True)

    type: Literal["function"] = "function"
    function: NamedFunction


ToolChoice = Literal["none", "auto", "required"] | NamedToolChoice


def offered(tools: list[Tool], choice: ToolChoice | None) -> list[Tool]:
    """The tools the model may call: none for "none", the named one for a named choice."""
    if not tools or choice == "none":
        return []
    if isinstance(choice, NamedToolChoice):
        named = [t for t in tools if t.function.name == choice.function.name]
        if not named:
            raise BadRequest(
                f"tool_choice names {choice.function.name!r}, which is not among the tools.",
                code="invalid_request",
            )
        return named
    return tools


def must_call(tools: list[Tool], choice: ToolChoice | None) -> bool:
    return bool(tools) and (choice == "required" or isinstance(choice, NamedToolChoice))


def system_text(tools: list[Tool], required: bool) -> str:
    """The tools, described for the model in its system message."""
    specs = [
        {
            "name": t.function.name,
            "description": t.function.description or "",
            "parameters": t.function.parameters,
        }
        for t in tools
    ]
    when = "You must call one of them." if required else "Call one only when it helps."
    return (
        "You can call these tools. " + when + " To call a tool, answer with only this JSON and "
        'nothing else: {"name": "<tool name>", "arguments": {<the arguments>}}\n'
        "Tools:\n" + json.dumps(specs, ensure_ascii=False)
    )


def call_schema(tools: list[Tool], arguments_key: str = "arguments") -> dict[str, Any]:
    """JSON schema of exactly one call to one of `tools`."""
    calls = [
        {
            "type": "object",
            "properties": {
                "name": {"const": t.function.name},
                arguments_key: t.function.parameters or {"type": "object"},
            },
            "required": ["name", arguments_key],
            "additionalProperties": False,
        }
        for t in tools
    ]
    return calls[0] if len(calls) == 1 else {"anyOf": calls}


def call_grammar(tools: list[Tool], shape: CallShape = SHAPES["generic"]) -> str:
    """The GBNF of exactly one call to one of `tools`, written in `shape`."""
    schema = call_schema(tools, shape.arguments_key)
    if shape.in_list:
        schema = {"type": "array", "items": schema, "minItems": 1, "maxItems": 1}
    try:
        grammar = str(llama_grammar().json_schema_to_gbnf(json.dumps(schema)))
    except Exception as exc:
        raise BadRequest(
            f"These tools' parameter schemas cannot be enforced: {exc or type(exc).__name__}.",
            code="unsupported_schema",
        ) from None
    if not (shape.before or shape.after):
        return grammar
    # The converter names its top rule "root" and no other rule refers to it; the call becomes a
    # rule of its own between the format's literal text.
    renamed = re.sub(r"(?m)^root ::=", "tool-call ::=", grammar)
    parts = [_literal(shape.before), "tool-call", _literal(shape.after)]
    return "root ::= " + " ".join(p for p in parts if p) + "\n" + renamed


def _literal(text: str) -> str:
    return json.dumps(text) if text else ""  # a GBNF string literal escapes as JSON does


def new_call_id(fmt: ToolFormat) -> str:
    """An id for a call the model made; Mistral's templates take back only nine letters/digits."""
    if fmt == "mistral":
        return uuid.uuid4().hex[:9]
    return f"call_{uuid.uuid4().hex[:24]}"


def openai_calls(answer: Answer, fmt: ToolFormat) -> list[dict[str, Any]]:
    """The calls as OpenAI's `tool_calls` entries."""
    return [
        {
            "id": call.id or new_call_id(fmt),
            "type": "function",
            "function": {"name": call.name, "arguments": call.arguments},
        }
        for call in answer.calls
    ]


def history_text(
    message_role: str, content: str, tool_calls: list[dict] | None, name: str | None
) -> tuple[str, str]:
    """A past tool call or tool result as a (role, text) a plain chat template can show."""
    if message_role == "tool":
        return "user", f"Result of the tool {name or ''}: {content}".replace("  ", " ")
    if tool_calls:
        calls = [
            {
                "name": c.get("function", {}).get("name"),
                "arguments": template_arguments(c.get("function", {}).get("arguments")),
            }
            for c in tool_calls
        ]
        return "assistant", json.dumps(calls[0] if len(calls) == 1 else calls, ensure_ascii=False)
    return message_role, content
