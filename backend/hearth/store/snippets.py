"""Search results' snippets: for each conversation found, a short piece of the message that matched,
with the matching words marked, so the sidebar can show why it was found.

With FTS5 the index picks the best-ranked message and cuts the piece (`snippet()`); without it the
LIKE fallback takes the newest matching message and `around` cuts the piece. Both give the same
shape: a list of parts, each {"text", "match"}, never markup, so no message text is ever HTML.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

# Start and end of a match inside snippet()'s output: control characters that message text
# practically never holds, unlike any printable marker.
OPEN, CLOSE = "\x02", "\x03"
ELLIPSIS = "…"
FTS_TOKENS = 12  # snippet() counts words, not characters
LIKE_CONTEXT = 40  # characters kept on each side of a LIKE match

Part = dict[str, Any]

_FTS_SQL = text(
    # snippet() cannot run under a window function, so the best message of each conversation is
    # chosen first (by FTS rank, then newest) and only those are cut.
    "WITH ranked AS ("
    " SELECT m.id AS id, row_number() OVER ("
    "  PARTITION BY m.conversation_id ORDER BY message_fts.rank, m.id DESC) AS n"
    " FROM message_fts JOIN message AS m ON m.id = message_fts.rowid"
    " WHERE message_fts MATCH :q AND m.conversation_id IN :ids)"
    " SELECT m.conversation_id, snippet(message_fts, 0, :open, :close, :ellipsis, :tokens)"
    " FROM message_fts JOIN message AS m ON m.id = message_fts.rowid"
    " WHERE message_fts MATCH :q AND message_fts.rowid IN (SELECT id FROM ranked WHERE n = 1)"
).bindparams(bindparam("ids", expanding=True))

_LIKE_SQL = text(
    "SELECT conversation_id, content FROM message"
    " WHERE conversation_id IN :ids AND content LIKE :pattern ESCAPE '\\'"
    " ORDER BY id DESC"
).bindparams(bindparam("ids", expanding=True))


def fts_snippets(conn: Connection, ids: Sequence[str], match: str) -> dict[str, list[Part]]:
    """The best-matching message's snippet per conversation; `match` is an FTS5 expression."""
    if not ids:
        return {}
    rows = conn.execute(
        _FTS_SQL,
        {
            "q": match,
            "ids": list(ids),
            "open": OPEN,
            "close": CLOSE,
            "ellipsis": ELLIPSIS,
            "tokens": FTS_TOKENS,
        },
    )
    return {conversation_id: parts_from_marked(marked) for conversation_id, marked in rows}


def like_snippets(conn: Connection, ids: Sequence[str], query: str) -> dict[str, list[Part]]:
    """The newest message containing `query` per conversation (LIKE: wildcards escaped)."""
    if not ids:
        return {}
    pattern = "%" + re.sub(r"([\\%_])", r"\\\1", query) + "%"
    out: dict[str, list[Part]] = {}
    for conversation_id, content in conn.execute(_LIKE_SQL, {"ids": list(ids), "pattern": pattern}):
        if conversation_id not in out:
            parts = around(content, query)
            if parts:
                out[conversation_id] = parts
    return out


def parts_from_marked(marked: str) -> list[Part]:
    """snippet()'s text with OPEN/CLOSE around matches, as parts (pure)."""
    parts: list[Part] = []
    for i, piece in enumerate(re.split(f"[{OPEN}{CLOSE}]", marked)):
        # Pieces alternate: outside, match, outside, ... (split keeps empty ones in place).
        flat = re.sub(r"\s+", " ", piece)
        if flat:
            parts.append({"text": flat, "match": i % 2 == 1})
    return parts


def around(content: str, query: str, context: int = LIKE_CONTEXT) -> list[Part]:
    """The first occurrence of `query` in `content` (any case) with `context` characters each
    side, cut at spaces where it can be (pure); [] when it does not occur."""
    found = re.search(re.escape(query), content, re.IGNORECASE)
    if found is None:
        return []
    start, end = found.span()
    left = max(0, start - context)
    right = min(len(content), end + context)
    # Whole words: move the cut to the nearest space inside the window.
    if left > 0 and (space := content.find(" ", left, start)) != -1:
        left = space + 1
    if right < len(content) and (space := content.rfind(" ", end, right)) != -1:
        right = space
    before = (ELLIPSIS if left > 0 else "") + content[left:start]
    after = content[end:right] + (ELLIPSIS if right < len(content) else "")
    marked = f"{before}{OPEN}{content[start:end]}{CLOSE}{after}"
    return parts_from_marked(marked)
