"""Which tool-call format a GGUF chat template teaches its model (docs/TOOLS.md). Pure.

Read once per model: when the library reads a GGUF's header (the Models page shows it) and when
a request with tools starts (hearth.api.tool_formats reads the answer in that format).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

ToolFormat = Literal["hermes", "llama3", "mistral", "generic"]

HERMES_OPEN, HERMES_CLOSE = "<tool_call>", "</tool_call>"
PYTHON_TAG = "<|python_tag|>"
MISTRAL_CALLS = "[TOOL_CALLS]"
_TOOLS_VARIABLE = re.compile(r"\btools\b")


@dataclass(frozen=True)
class Detection:
    """The format a chat template's tool section asks for, and why."""

    format: ToolFormat
    reason: str

    @property
    def native(self) -> bool:
        return self.format != "generic"


@functools.lru_cache(maxsize=16)  # one template per loaded model, asked on every request
def detect(template: str | None) -> Detection:
    """The tool-call format `template` (a GGUF tokenizer.chat_template) teaches its model."""
    if not template or not template.strip():
        return Detection("generic", "The model has no chat template.")
    if not _TOOLS_VARIABLE.search(template):
        return Detection("generic", "The model's chat template has no tool section.")
    if MISTRAL_CALLS in template:
        return Detection("mistral", "The chat template writes calls as [TOOL_CALLS] (Mistral).")
    if HERMES_OPEN in template:
        return Detection(
            "hermes", "The chat template writes calls in <tool_call> tags (Hermes, Qwen)."
        )
    if "<|start_header_id|>" in template and (PYTHON_TAG in template or '"parameters"' in template):
        return Detection(
            "llama3", 'The chat template writes calls as {"name", "parameters"} (Llama 3.1+).'
        )
    return Detection(
        "generic", "The chat template has a tool section, in a format Hearth does not read."
    )
