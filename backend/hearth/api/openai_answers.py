"""OpenAI's request shapes and the whole (non-streamed) answer to each, without an HTTP request:
the /v1 routes answer with these, and so does a batch's runner (hearth.batches.runner), so a
line of a batch is answered exactly as the same body sent to the route would be."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hearth.api.openai_extras import (
    ResponseFormat,
    chat_logprobs,
    completion_logprobs,
    grammar_for,
)
from hearth.api.openai_tools import (
    MAX_TOOLS,
    Tool,
    ToolChoice,
    call_grammar,
    history_text,
    must_call,
    offered,
    openai_calls,
    system_text,
)
from hearth.api.tool_formats import (
    SHAPES,
    Answer,
    ToolFormat,
    parse,
    template_arguments,
    template_call_id,
)
from hearth.engine.base import ChatEngine, ChatMessage, Event, Finish, SamplingParams
from hearth.engine.generation import Generation
from hearth.engine.manager import ModelManager
from hearth.errors import BadRequest
from hearth.jsonvalues import INTEGRAL
from hearth.library.tool_templates import detect
from hearth.settings import Settings

log = logging.getLogger(__name__)


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    model: str | None = Field(default=None, max_length=512)
    temperature: float = Field(default=1.0, ge=0.0, le=2.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    max_tokens: Annotated[int, Field(ge=1, le=32768), INTEGRAL] | None = None
    max_completion_tokens: Annotated[int, Field(ge=1, le=32768), INTEGRAL] | None = None
    seed: Annotated[int, Field(ge=0, le=2**32 - 1), INTEGRAL] | None = None
    frequency_penalty: float = Field(default=0.0, ge=-2.0, le=2.0)
    presence_penalty: float = Field(default=0.0, ge=-2.0, le=2.0)
    # Not OpenAI's, but llama.cpp clients send it; default as in Ollama and LM Studio.
    repeat_penalty: float = Field(default=1.1, ge=0.5, le=2.0)
    stop: str | list[str] | None = None
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    n: Annotated[int, Field(ge=1, le=1), INTEGRAL] = 1
    response_format: ResponseFormat | None = None

    def token_logprobs(self) -> int | None:
        """How many alternatives each token's log-probability comes with; None: not asked."""
        return None

    def sampling(self) -> SamplingParams:
        stop = [self.stop] if isinstance(self.stop, str) else list(self.stop or [])
        return SamplingParams(
            temperature=self.temperature,
            top_p=self.top_p,
            top_k=0,  # OpenAI semantics: only temperature and top_p shape the distribution
            min_p=0.0,
            max_tokens=self.max_completion_tokens or self.max_tokens or 1024,
            seed=self.seed,
            stop=stop,
            repeat_penalty=self.repeat_penalty,
            frequency_penalty=self.frequency_penalty,
            presence_penalty=self.presence_penalty,
            grammar=grammar_for(self.response_format),
            logprobs=self.token_logprobs(),
        )

    @property
    def include_usage(self) -> bool:
        return bool((self.stream_options or {}).get("include_usage"))


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None
    tool_calls: list[dict[str, Any]] | None = Field(default=None, max_length=MAX_TOOLS)
    tool_call_id: str | None = Field(default=None, max_length=200)
    name: str | None = Field(default=None, max_length=64)

    def chat_message(self) -> ChatMessage:
        """As a template without a tool format sees it: calls and results in words (the
        fallback, openai_tools)."""
        role, text = history_text(self._role(), self.text(), self.tool_calls, self.name)
        return ChatMessage(role, text)  # type: ignore[arg-type]

    def native_message(self, fmt: ToolFormat, names: dict[str, str]) -> ChatMessage:
        """As a template with a tool format of its own sees it: an assistant's calls and a tool's
        result as such. `names`: earlier calls' tools by call id, for the templates that name
        a result's tool (Hermes 2 Pro's), as OpenAI clients send only the id."""
        if self.role == "assistant" and self.tool_calls:
            calls = []
            for raw in self.tool_calls:
                function = raw.get("function") or {}
                ident = raw.get("id") if isinstance(raw.get("id"), str) else None
                if ident and isinstance(function.get("name"), str):
                    names[ident] = function["name"]
                call: dict[str, Any] = {
                    "type": "function",
                    "function": {
                        "name": function.get("name"),
                        "arguments": template_arguments(function.get("arguments")),
                    },
                }
                if ident:
                    call["id"] = template_call_id(fmt, ident)
                calls.append(call)
            return ChatMessage("assistant", self.text(), tool_calls=tuple(calls))
        if self.role == "tool":
            ident = self.tool_call_id
            name = self.name or (names.get(ident) if ident else None)
            return ChatMessage(
                "tool", self.text(), tool_call_id=template_call_id(fmt, ident), name=name
            )
        return ChatMessage(self._role(), self.text())  # type: ignore[arg-type]

    def _role(self) -> str:
        return "system" if self.role == "developer" else self.role

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(p.get("text", "") for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatCompletionRequest(_Request):
    messages: list[_Message] = Field(min_length=1)
    logprobs: bool = False
    top_logprobs: Annotated[int, Field(ge=0, le=20), INTEGRAL] | None = None
    tools: list[Tool] = Field(default_factory=list, max_length=MAX_TOOLS)
    tool_choice: ToolChoice | None = None

    def token_logprobs(self) -> int | None:
        return (self.top_logprobs or 0) if self.logprobs else None


class CompletionRequest(_Request):
    # OpenAI takes several prompts at once; Hearth answers one, said here for generated clients.
    prompt: str | Annotated[list[str], Field(min_length=1, max_length=1)]
    # Completions' legacy form: the number of alternatives per token (OpenAI allows up to 5).
    logprobs: Annotated[int, Field(ge=0, le=5), INTEGRAL] | None = None

    def token_logprobs(self) -> int | None:
        return self.logprobs

    def text(self) -> str:
        return self.prompt if isinstance(self.prompt, str) else self.prompt[0]


_Text = Annotated[str, Field(min_length=1)]


class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    model: str | None = None
    input: _Text | Annotated[list[_Text], Field(min_length=1, max_length=2048)]


def model_for(models: ModelManager, name: str | None) -> str | None:
    """A known model by name; an unknown name (e.g. "gpt-4o-mini") means the default model."""
    if not name:
        return None
    return models.factory.known(name)


def finish_reason(reason: str) -> str:
    return "length" if reason == "length" else "stop"


def usage(finish: Finish) -> dict[str, int]:
    return {
        "prompt_tokens": finish.prompt_tokens,
        "completion_tokens": finish.completion_tokens,
        "total_tokens": finish.prompt_tokens + finish.completion_tokens,
    }


@dataclass
class ChatSetup:
    """What the engine is given for a chat request, streamed or not. How tools reach the model
    is decided once the engine is known (`start`): a model whose chat template writes tool calls
    in a format Hearth reads (tool_formats) is given the tools, past calls and results through
    that template, any other the fallback's words (openai_tools)."""

    body: ChatCompletionRequest
    system_prompt: str | None  # Hearth's default, for a request that brings none
    fallback: list[ChatMessage]  # the messages for a model without a tool format
    params: SamplingParams  # with the fallback's call grammar when a call is required
    tools: list[Tool]  # those offered: none for tool_choice "none"
    required: bool
    format: ToolFormat = "generic"  # the format the answer is read in, once started

    def start(self, engine: ChatEngine, cancel: threading.Event) -> Iterator[Event]:
        """The engine's stream for this request (the job a Generation runs)."""
        # Only a GGUF model has a chat template of its own; remote and scripted engines do not.
        template = getattr(engine, "template", None)
        detection = detect(getattr(template, "source", None))
        if not detection.native:
            return engine.stream_chat(self.fallback, self.params, cancel)
        self.format = detection.format
        log.debug("tools for %s: %s", engine.model_id, detection.reason)
        names: dict[str, str] = {}
        messages = [m.native_message(self.format, names) for m in self.body.messages]
        params = self.params
        if self.required:
            grammar = call_grammar(self.tools, SHAPES[self.format])
            params = params.model_copy(update={"grammar": grammar})
        specs = [t.model_dump(exclude_none=True) for t in self.tools]
        return engine.stream_chat(
            _with_system(messages, self.system_prompt), params, cancel, tools=specs or None
        )

    def read(self, text: str) -> Answer | None:
        """The answer as calls to the tools offered; None when it is text."""
        if not self.tools:
            return None
        return parse(self.format, text, {t.function.name for t in self.tools})

    def calls(self, answer: Answer) -> list[dict[str, Any]]:
        return openai_calls(answer, self.format)


def chat_setup(body: ChatCompletionRequest, settings: Settings) -> ChatSetup:
    """The request checked before it waits in line: the tools offered, and a required call
    that a response_format would also shape refused."""
    messages = _with_system([m.chat_message() for m in body.messages], settings.system_prompt)
    params = body.sampling()
    tools = offered(body.tools, body.tool_choice)
    required = bool(tools) and must_call(body.tools, body.tool_choice)
    if tools:
        messages = _with_tools(messages, system_text(tools, required))
        if required:
            if params.grammar is not None:
                raise BadRequest(
                    "A required tool call and a response_format cannot both shape one answer.",
                    code="invalid_request",
                )
            # Built now, for any model: a schema the grammar cannot hold is refused at once.
            params = params.model_copy(update={"grammar": call_grammar(tools)})
    return ChatSetup(body, settings.system_prompt, messages, params, tools, required)


def _with_system(messages: list[ChatMessage], default: str | None) -> list[ChatMessage]:
    if default and all(m.role != "system" for m in messages):
        return [ChatMessage("system", default), *messages]
    return messages


def _with_tools(messages: list[ChatMessage], tools_text: str) -> list[ChatMessage]:
    """The tools' description in the system message (the first one, or a new one)."""
    if messages and messages[0].role == "system":
        return [ChatMessage("system", f"{messages[0].content}\n\n{tools_text}"), *messages[1:]]
    return [ChatMessage("system", tools_text), *messages]


async def chat_answer(
    body: ChatCompletionRequest,
    models: ModelManager,
    settings: Settings,
    cancel: threading.Event,
) -> dict[str, Any]:
    """The whole chat.completion; `cancel` stops it (the answer so far is then returned)."""
    setup = chat_setup(body, settings)
    params = setup.params
    generation = Generation(models, model_for(models, body.model), setup.start, cancel)
    ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    await generation.run()
    text = generation.text
    answer = setup.read(text)
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if answer is not None:
        before = text[: answer.start].strip()
        message = {"role": "assistant", "content": before or None}
        message["tool_calls"] = setup.calls(answer)
    return {
        "id": ident,
        "object": "chat.completion",
        "created": created,
        "model": generation.model_id or body.model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": chat_logprobs(generation.logprobs)
                if params.logprobs is not None
                else None,
                "finish_reason": "tool_calls"
                if answer is not None
                else finish_reason(generation.finish.reason),
            }
        ],
        "usage": usage(generation.finish),
    }


async def completion_answer(
    body: CompletionRequest, models: ModelManager, cancel: threading.Event
) -> dict[str, Any]:
    """The whole text_completion; `cancel` stops it (the answer so far is then returned)."""
    prompt = body.text()
    params = body.sampling()
    generation = Generation(
        models,
        model_for(models, body.model),
        lambda e, c: e.stream_complete(prompt, params, c),
        cancel,
    )
    ident, created = f"cmpl-{uuid.uuid4().hex}", int(time.time())
    finish = (await generation.run()).finish
    tokens = generation.logprobs if params.logprobs is not None else None
    logprobs = completion_logprobs(tokens, 0) if tokens is not None else None
    return {
        "id": ident,
        "object": "text_completion",
        "created": created,
        "model": generation.model_id or body.model,
        "choices": [
            {
                "index": 0,
                "text": generation.text,
                "logprobs": logprobs,
                "finish_reason": finish_reason(finish.reason),
            }
        ],
        "usage": usage(finish),
    }


async def embedding_answer(body: EmbeddingRequest, models: ModelManager) -> dict[str, Any]:
    texts = [body.input] if isinstance(body.input, str) else list(body.input)
    model, vectors, n_tokens = await models.embed(body.model, texts)
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)
        ],
        "model": model,
        "usage": {"prompt_tokens": n_tokens, "total_tokens": n_tokens},
    }
