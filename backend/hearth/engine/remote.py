"""A second backend: any OpenAI-compatible server (vLLM, Ollama, llama-server, another Hearth)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import httpx

from hearth.engine.base import ChatMessage, EngineInfo, Event, Finish, Piece, SamplingParams
from hearth.errors import BadRequest, HearthError

# Without the remote tokenizer, count ~4 characters a token: enough to trim history sensibly.
CHARS_PER_TOKEN = 4


class RemoteError(HearthError):
    code = "remote_error"
    status = 502


class RemoteEngine:
    def __init__(self, model_id: str, base_url: str, api_key: str | None, n_ctx: int):
        self.model_id = model_id
        self.n_ctx = n_ctx
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=httpx.Timeout(30.0, read=600.0)
        )

    def count_chat_tokens(self, messages: Sequence[ChatMessage]) -> int:
        return sum(len(m.content) // CHARS_PER_TOKEN + 4 for m in messages)

    def stream_chat(
        self,
        messages: Sequence[ChatMessage],
        params: SamplingParams,
        cancel: threading.Event,
        tools: Sequence[dict[str, Any]] | None = None,  # never given: no template of its own here
    ) -> Iterator[Event]:
        body = {"messages": [m.as_dict() for m in messages], **self._params(params)}
        return self._stream("/chat/completions", body, cancel, lambda c: c["delta"].get("content"))

    def stream_complete(
        self, prompt: str, params: SamplingParams, cancel: threading.Event
    ) -> Iterator[Event]:
        body = {"prompt": prompt, **self._params(params)}
        return self._stream("/completions", body, cancel, lambda c: c.get("text"))

    def _params(self, p: SamplingParams) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model_id,
            "stream": True,
            "stream_options": {"include_usage": True},
            "temperature": p.temperature,
            "top_p": p.top_p,
            "max_tokens": p.max_tokens,
        }
        if p.seed is not None:
            body["seed"] = p.seed
        if p.stop:
            body["stop"] = p.stop
        if p.grammar:
            body["grammar"] = p.grammar  # llama-server takes llama.cpp's GBNF as it is
        if p.logprobs is not None:
            raise BadRequest(
                "Log-probabilities come from Hearth's own engine; the remote one does not "
                "report them.",
                code="logprobs_unsupported",
            )
        return body

    def _stream(self, path, body, cancel: threading.Event, text_of) -> Iterator[Event]:
        reason, produced = "length", 0
        usage: dict[str, Any] = {}
        try:
            with self._client.stream("POST", path, json=body) as response:
                if response.status_code >= 400:
                    response.read()
                    raise RemoteError(_error_text(response))
                for line in response.iter_lines():
                    if cancel.is_set():
                        reason = "stopped"
                        break
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    chunk = json.loads(data)
                    if "error" in chunk:
                        raise RemoteError(str(chunk["error"].get("message", chunk["error"])))
                    usage = chunk.get("usage") or usage
                    for choice in chunk.get("choices") or []:
                        text = text_of(choice)
                        if text:
                            produced += 1
                            yield Piece(text)
                        if choice.get("finish_reason"):
                            reason = "length" if choice["finish_reason"] == "length" else "stop"
        except httpx.HTTPError as exc:
            raise RemoteError(f"The remote server at {self.base_url} failed: {exc}") from exc
        yield Finish(
            reason,  # type: ignore[arg-type]
            int(usage.get("prompt_tokens") or 0),
            int(usage.get("completion_tokens") or produced),
        )

    def info(self) -> EngineInfo:
        return EngineInfo(
            backend="openai",
            model=self.model_id,
            n_ctx=self.n_ctx,
            details={"base_url": self.base_url},
        )

    def close(self) -> None:
        self._client.close()


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
        err = body.get("error") if isinstance(body, dict) else None
        if isinstance(err, dict):
            return f"Remote server: {err.get('message')}"
        if isinstance(body, dict) and "message" in body:
            return f"Remote server: {body['message']}"
    except ValueError:
        pass
    return f"Remote server answered HTTP {response.status_code}"
