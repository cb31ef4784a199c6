"""Who may call what: every route's role, in this one table (tested against every route).

`admin` may do everything, `user` what an assistant program needs (chat, completions,
embeddings, batches, conversations, documents), `read` what a dashboard needs (models, status,
metrics). Hearth's own UI, holding the per-launch token, is admin. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from hearth.api.openapi_doc import template_regex

Role = Literal["read", "user", "admin"]
ROLES: tuple[Role, ...] = ("read", "user", "admin")
_RANK = {role: i for i, role in enumerate(ROLES)}

# None: no credential at all (the shell's health poll, web mode's sign-in exchange).
PUBLIC = None

ROUTE_ROLES: dict[tuple[str, str], Role | None] = {
    ("GET", "/health"): PUBLIC,
    ("POST", "/api/session"): PUBLIC,
    # read: what is there and how it runs
    ("GET", "/api/status"): "read",
    ("GET", "/api/models"): "read",
    ("GET", "/api/models/{model_id}"): "read",
    ("GET", "/api/models/catalogue"): "read",
    ("GET", "/api/capabilities"): "read",
    ("GET", "/api/metrics/stream"): "read",
    ("GET", "/api/metrics/answers"): "read",
    ("GET", "/v1/models"): "read",
    # user: answers, and the person's own conversations and documents
    ("POST", "/v1/chat/completions"): "user",
    ("POST", "/v1/completions"): "user",
    ("POST", "/v1/embeddings"): "user",
    ("POST", "/v1/files"): "user",
    ("GET", "/v1/files"): "user",
    ("GET", "/v1/files/{file_id}"): "user",
    ("GET", "/v1/files/{file_id}/content"): "user",
    ("DELETE", "/v1/files/{file_id}"): "user",
    ("POST", "/v1/batches"): "user",
    ("GET", "/v1/batches"): "user",
    ("GET", "/v1/batches/{batch_id}"): "user",
    ("POST", "/v1/batches/{batch_id}/cancel"): "user",
    ("GET", "/api/conversations"): "user",
    ("POST", "/api/conversations"): "user",
    ("GET", "/api/conversations/{conversation_id}"): "user",
    ("PATCH", "/api/conversations/{conversation_id}"): "user",
    ("DELETE", "/api/conversations/{conversation_id}"): "user",
    ("GET", "/api/conversations/{conversation_id}/export"): "user",
    ("GET", "/api/conversations/{conversation_id}/messages"): "user",
    ("POST", "/api/conversations/{conversation_id}/messages"): "user",
    ("POST", "/api/conversations/{conversation_id}/regenerate"): "user",
    ("POST", "/api/conversations/{conversation_id}/messages/{message_id}/edit"): "user",
    ("POST", "/api/conversations/{conversation_id}/messages/{message_id}/select"): "user",
    ("POST", "/api/conversations/{conversation_id}/stop"): "user",
    ("GET", "/api/conversations/{conversation_id}/stream"): "user",
    ("GET", "/api/conversations/{conversation_id}/libraries"): "user",
    ("PUT", "/api/conversations/{conversation_id}/libraries"): "user",
    ("GET", "/api/conversations/{conversation_id}/attachments"): "user",
    ("POST", "/api/documents/attach"): "user",
    ("GET", "/api/documents/status"): "user",
    ("POST", "/api/documents/upload"): "user",
    ("GET", "/api/libraries"): "user",
    ("POST", "/api/libraries"): "user",
    ("GET", "/api/libraries/{library_id}"): "user",
    ("PATCH", "/api/libraries/{library_id}"): "user",
    ("DELETE", "/api/libraries/{library_id}"): "user",
    ("GET", "/api/libraries/{library_id}/documents"): "user",
    ("DELETE", "/api/libraries/{library_id}/documents/{document_id}"): "user",
    ("GET", "/api/libraries/{library_id}/chunks/{chunk_id}"): "user",
    ("POST", "/api/libraries/{library_id}/ingest"): "user",
    ("POST", "/api/libraries/{library_id}/reindex"): "user",
    ("GET", "/api/libraries/{library_id}/jobs"): "user",
    ("GET", "/api/libraries/{library_id}/jobs/{job_id}"): "user",
    ("GET", "/api/libraries/{library_id}/jobs/{job_id}/events"): "user",
    ("POST", "/api/libraries/{library_id}/jobs/{job_id}/cancel"): "user",
    ("POST", "/api/libraries/{library_id}/search"): "user",
    ("POST", "/api/libraries/{library_id}/ask"): "user",
    # admin: what installs, deletes or changes how Hearth runs for everyone
    ("POST", "/api/engine/load"): "admin",
    ("POST", "/api/engine/unload"): "admin",
    ("POST", "/api/models/import"): "admin",
    ("POST", "/api/models/upload"): "admin",
    ("DELETE", "/api/models/{model_id}"): "admin",
    ("GET", "/api/models/downloads"): "admin",
    ("POST", "/api/models/downloads"): "admin",
    ("GET", "/api/models/downloads/{job_id}"): "admin",
    ("DELETE", "/api/models/downloads/{job_id}"): "admin",
    ("GET", "/api/models/downloads/{job_id}/events"): "admin",
    ("POST", "/api/models/downloads/{job_id}/pause"): "admin",
    ("POST", "/api/models/downloads/{job_id}/resume"): "admin",
    ("POST", "/api/capabilities/refresh"): "admin",
    ("GET", "/api/preferences"): "admin",
    ("PUT", "/api/preferences"): "admin",
    ("GET", "/api/preferences/offload"): "admin",
    ("GET", "/api/admin/upgrade-gpu"): "admin",
    ("POST", "/api/admin/upgrade-gpu"): "admin",
    ("POST", "/api/admin/upgrade-gpu/pack"): "admin",
    ("GET", "/api/admin/upgrade-gpu/{job_id}"): "admin",
    ("DELETE", "/api/admin/upgrade-gpu/{job_id}"): "admin",
    ("GET", "/api/admin/upgrade-gpu/{job_id}/events"): "admin",
    ("GET", "/api/admin/runtimes"): "admin",
    ("DELETE", "/api/admin/runtimes/{runtime_id}"): "admin",
    ("POST", "/api/admin/runtime/rollback"): "admin",
    ("GET", "/api/admin/keys"): "admin",
    ("POST", "/api/admin/keys"): "admin",
    ("PATCH", "/api/admin/keys/{key_id}"): "admin",
    ("DELETE", "/api/admin/keys/{key_id}"): "admin",
    ("GET", "/api/admin/audit"): "admin",
    ("GET", "/api/admin/api-server"): "admin",
    ("PUT", "/api/admin/api-server"): "admin",
}


def allows(role: Role, needed: Role | None) -> bool:
    return needed is None or _RANK[role] >= _RANK[needed]


@dataclass(frozen=True)
class _Rule:
    method: str
    template: str
    pattern: re.Pattern[str]
    role: Role | None
    literal: int  # characters outside {params}: the more, the more specific


class RouteRoles:
    """The table compiled for lookups by concrete path."""

    def __init__(self, table: dict[tuple[str, str], Role | None] = ROUTE_ROLES):
        rules = [_compile(m, t, r) for (m, t), r in table.items()]
        # /api/models/catalogue before /api/models/{model_id}, as the router itself decides.
        self._rules = sorted(rules, key=lambda r: -r.literal)

    def match(self, method: str, path: str) -> tuple[str, Role | None] | None:
        """(route template, role needed) for a request; None for a path no route serves,
        which then needs admin (an unknown API path is refused, never opened)."""
        for rule in self._rules:
            if rule.method == method and rule.pattern.fullmatch(path):
                return rule.template, rule.role
        return None

    def needed(self, method: str, path: str) -> Role | None:
        found = self.match(method, path)
        return "admin" if found is None else found[1]


def _compile(method: str, template: str, role: Role | None) -> _Rule:
    literal = len(re.sub(r"\{[^}/]+\}", "", template))
    return _Rule(method, template, template_regex(template), role, literal)
