"""Turn chat messages into a prompt with the model's own GGUF chat template."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hearth.engine.base import ChatMessage
from hearth.errors import BadRequest

# A model without a template (base models like stories260K) still gets a readable transcript.
PLAIN_STOPS = ["\nuser:", "\nUser:"]


class TemplateRefused(BadRequest):
    code = "template_error"


class ChatTemplate:
    def __init__(self, template: str | None, bos_token: str, eos_token: str):
        self.source = template
        self._formatter = None
        if template:
            # Imported here: llama_cpp is heavy and must not load at import time.
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            self._formatter = Jinja2ChatFormatter(
                template=template, bos_token=bos_token, eos_token=eos_token
            )

    @property
    def has_template(self) -> bool:
        return self._formatter is not None

    def render(
        self, messages: Sequence[ChatMessage], tools: Sequence[dict[str, Any]] | None = None
    ) -> tuple[str, list[str], bool]:
        """Return (prompt, stop strings, whether the prompt already holds BOS/special tokens).
        `tools` go to the template's own tool section (only a template that has one is given
        any: hearth.api.tool_formats)."""
        dicts = [m.as_dict() for m in messages]
        if self._formatter is not None:
            extra = {"tools": list(tools)} if tools else {}
            try:
                result = self._formatter(messages=dicts, **extra)  # type: ignore[arg-type]
            except ValueError as exc:
                # The template's raise_exception: messages it cannot write (Llama 3's template
                # takes one call per turn, Mistral's only strictly alternating turns...).
                raise TemplateRefused(f"The model's chat template refused: {exc}") from None
            stops = [s for s in (result.stop or []) if isinstance(s, str)]
            return result.prompt, stops, bool(result.added_special)
        lines = [f"{m.role}: {m.content}" for m in messages]
        return "\n".join([*lines, "assistant:"]), list(PLAIN_STOPS), False
