"""OpenAI's `tools` for models without a tool-calling template of their own (Hearth's
documented fallback, after llama-server's generic format): the tools are described in a system
message, a call is the whole answer as JSON `{"name": ..., "arguments": {...}}`, and when a call
is required (`tool_choice` "required" or one named function) a grammar built from the tools'
JSON schemas makes the answer exactly such a call. Pure, but for the grammar converter."""

from __future__ import annotations

import json
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

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


def call_schema(tools: list[Tool]) -> dict[str, Any]:
    """JSON schema of exactly one call to one of `tools`."""
    calls = [
        {
            "type": "object",
            "properties": {
                "name": {"const": t.function.name},
                "arguments": t.function.parameters or {"type": "object"},
            },
            "required": ["name", "arguments"],
            "additionalProperties": False,
        }
        for t in tools
    ]
    return calls[0] if len(calls) == 1 else {"anyOf": calls}


def call_grammar(tools: list[Tool]) -> str:
    from llama_cpp import llama_grammar

    try:
        return str(llama_grammar.json_schema_to_gbnf(json.dumps(call_schema(tools))))
    except Exception as exc:
        raise BadRequest(
            f"These tools' parameter schemas cannot be enforced: {exc or type(exc).__name__}.",
            code="unsupported_schema",
        ) from None


def parse_call(text: str, tools: list[Tool]) -> dict[str, Any] | None:
    """The answer as an OpenAI `tool_calls` entry when it is a call to one of `tools`."""
    stripped = text.strip()
    if not stripped.startswith("{"):
        return None
    try:
        data = json.loads(stripped)
    except ValueError:
        return None
    names = {t.function.name for t in tools}
    if not isinstance(data, dict) or data.get("name") not in names:
        return None
    arguments = data.get("arguments", {})
    return {
        "id": f"call_{uuid.uuid4().hex[:24]}",
        "type": "function",
        "function": {"name": data["name"], "arguments": json.dumps(arguments, ensure_ascii=False)},
    }


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
                "arguments": _arguments(c.get("function", {}).get("arguments")),
            }
            for c in tool_calls
        ]
        return "assistant", json.dumps(calls[0] if len(calls) == 1 else calls, ensure_ascii=False)
    return message_role, content


def _arguments(raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw
