"""What a deleted library can leave outside SQLite (a chromadb collection, a folder of stored
uploads) when the process stops between the row's delete and theirs. Pure: the service lists
what is there and removes what this names."""

from __future__ import annotations

import re
from collections.abc import Iterable

# DocLibrary ids are uuid4().hex: anything else in those places is not ours to remove.
_LIBRARY_ID = re.compile(r"[0-9a-f]{32}")


def leftover_ids(present: Iterable[str], known: set[str]) -> list[str]:
    """Of the library ids found on disk, those no library row has any more, sorted."""
    return sorted({name for name in present if _LIBRARY_ID.fullmatch(name) and name not in known})
