"""kill -9 in the middle of writing leaves a readable file with every committed message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hearth.store.conversations import ConversationStore
from hearth.store.db import close_database, open_database

BACKEND = Path(__file__).resolve().parents[3] / "backend"

# The child prints a message id only after add_message returned, i.e. after COMMIT.
WRITER = """
import sys
from pathlib import Path
from hearth.store.conversations import ConversationStore
from hearth.store.db import open_database

store = ConversationStore(open_database(Path(sys.argv[1])))
chat = store.create(title="crash")
print("chat", chat.id, flush=True)
i = 0
while True:
    role = "user" if i % 2 == 0 else "assistant"
    message = store.add_message(chat.id, role, f"message {i} " + "x" * (i % 500))
    print(message.id, i, flush=True)
    i += 1
"""

COMMITTED_BEFORE_KILL = 150


def test_sigkill_mid_write_keeps_every_committed_message(db_path: Path):
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(BACKEND), os.environ.get("PYTHONPATH", "")]),
    }
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert child.stdout is not None
        chat_line = child.stdout.readline()
        assert chat_line.startswith("chat "), child.stderr.read() if child.stderr else ""
        chat_id = chat_line.split()[1]
        committed: dict[int, int] = {}
        while len(committed) < COMMITTED_BEFORE_KILL:
            line = child.stdout.readline()
            assert line, "writer exited early"
            message_id, i = map(int, line.split())
            committed[message_id] = i
    finally:
        child.kill()  # SIGKILL on POSIX, TerminateProcess on Windows: no cleanup runs
        rest, _ = child.communicate(timeout=30)
    # Lines still in the pipe were printed after their commit too.
    for line in rest.splitlines():
        if line.strip():
            message_id, i = map(int, line.split())
            committed[message_id] = i

    engine = open_database(db_path)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        stored = {m.id: m.content for m in ConversationStore(engine).messages(chat_id)}
    finally:
        close_database(engine)
    for message_id, i in committed.items():
        assert stored[message_id].startswith(f"message {i} ")
    # Nothing half-written: at most the one message in flight was committed unreported.
    assert len(stored) - len(committed) in (0, 1)
