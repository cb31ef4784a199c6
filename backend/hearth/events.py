"""The two ways Hearth streams long work to clients (SSE), written once.

- `EventLog`: every event kept, so a client that connects late, or reconnects, replays them all
  and then follows the live ones (chat runs, document ingests: each event is a step the UI draws).
- `SnapshotFeed`: whole-state snapshots, so a slow follower may skip stale ones without losing
  anything (downloads, runtime upgrades: only the latest state matters).

Both live on the event loop; publish from a worker thread through `loop.call_soon_threadsafe`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")

Event = tuple[str, dict[str, Any]]
Snapshot = dict[str, Any]


class Inbox(Generic[T]):
    """An unbounded queue with a single reader, on the event loop. Streamed answers pass each
    token through one or two of these; asyncio.Queue's bookkeeping (a count of unfinished
    tasks, an Event, a line of putters) cost the loop more per token than the hand-off itself."""

    def __init__(self) -> None:
        self._items: deque[T] = deque()
        self._waiter: asyncio.Future[None] | None = None

    def put(self, item: T) -> None:
        self._items.append(item)
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():  # done: its reader was cancelled
            waiter.set_result(None)

    async def get(self) -> T:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        return self._items.popleft()


class EventLog:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.closed = False
        self._followers: list[Inbox[Event | None]] = []

    def publish(self, name: str, data: dict[str, Any]) -> None:
        if self.closed:
            raise RuntimeError(f"event {name!r} published after the log was closed")
        self.events.append((name, data))
        for queue in self._followers:
            queue.put((name, data))

    def close(self) -> None:
        """The last event has been published: followers end after reading it."""
        self.closed = True
        for queue in self._followers:
            queue.put(None)

    async def follow(self) -> AsyncGenerator[Event, None]:
        """Every event so far, then the rest as they come, until the log is closed."""
        queue: Inbox[Event | None] = Inbox()
        for event in self.events:
            queue.put(event)
        if self.closed:
            queue.put(None)
        else:
            self._followers.append(queue)
        try:
            while (item := await queue.get()) is not None:
                yield item
        finally:
            if queue in self._followers:
                self._followers.remove(queue)


class SnapshotFeed:
    def __init__(self, backlog: int = 32) -> None:
        self._backlog = backlog
        self._followers: set[asyncio.Queue[Snapshot]] = set()

    def publish(self, snapshot: Snapshot) -> None:
        for queue in self._followers:
            if queue.full():
                queue.get_nowait()  # the oldest goes: the newest says all it said
            queue.put_nowait(snapshot)

    async def follow(
        self,
        first: Snapshot,
        last: Callable[[Snapshot], bool],
        mine: Callable[[Snapshot], bool] = lambda _: True,
    ) -> AsyncGenerator[Snapshot, None]:
        """`first` (the state when the client asked), then each newer snapshot that is `mine`,
        until one that is the `last`."""
        queue: asyncio.Queue[Snapshot] = asyncio.Queue(maxsize=self._backlog)
        self._followers.add(queue)
        try:
            snapshot = first
            yield snapshot
            while not last(snapshot):
                newer = await queue.get()
                if mine(newer):
                    snapshot = newer
                    yield snapshot
        finally:
            self._followers.discard(queue)
