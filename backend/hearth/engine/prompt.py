"""Turn chat messages into a prompt with the model's own GGUF chat template."""

from __future__ import annotations

from collections.abc import Sequence

from hearth.engine.base import ChatMessage

# A model without a template (base models like stories260K) still gets a readable transcript.
PLAIN_STOPS = ["\nuser:", "\nUser:"]


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

    def render(self, messages: Sequence[ChatMessage]) -> tuple[str, list[str], bool]:
        """Return (prompt, stop strings, whether the prompt already holds BOS/special tokens)."""
        dicts = [m.as_dict() for m in messages]
        if self._formatter is not None:
            result = self._formatter(messages=dicts)  # type: ignore[arg-type]
            stops = [s for s in (result.stop or []) if isinstance(s, str)]
            return result.prompt, stops, bool(result.added_special)
        lines = [f"{m.role}: {m.content}" for m in messages]
        return "\n".join([*lines, "assistant:"]), list(PLAIN_STOPS), False
