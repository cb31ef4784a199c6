"""First-come, first-served access to the model, telling each waiter its place in line.

Up to `capacity` holders share the model at once (the engine decodes their sequences together),
but only holders of the same `key` (the model they run on): a ticket for another model, or an
exclusive one (unloading), waits until the holders are gone. Nobody overtakes the head of the
line, so a model switch is never starved by a stream of requests for the loaded model.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

EXCLUSIVE = object()  # a key no other ticket shares: the queue to itself


@dataclass(eq=False)
class Ticket:
    key: object = None
    positions: asyncio.Queue[int] = field(default_factory=asyncio.Queue)
    granted: asyncio.Event = field(default_factory=asyncio.Event)


class FairQueue:
    """Position 1 is next in line."""

    def __init__(self, capacity: int = 1) -> None:
        self._capacity = max(1, capacity)
        self._holders: list[Ticket] = []
        self._waiting: list[Ticket] = []

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    @property
    def busy(self) -> bool:
        return bool(self._holders)

    @property
    def running(self) -> int:
        return len(self._holders)

    @property
    def capacity(self) -> int:
        return self._capacity

    def set_capacity(self, capacity: int) -> None:
        """How many may hold at once (the loaded engine's parallel sequences); call on the loop."""
        self._capacity = max(1, capacity)
        self._grant()

    def _fits(self, ticket: Ticket) -> bool:
        if not self._holders:
            return True
        if ticket.key is EXCLUSIVE or len(self._holders) >= self._capacity:
            return False
        return all(h.key == ticket.key for h in self._holders)

    async def wait_turn(self, ticket: Ticket) -> AsyncIterator[int]:
        """Yield this ticket's position while it waits; return once it holds a place.

        If the caller goes away while waiting (cancelled), the ticket leaves the line.
        """
        if not self._waiting and self._fits(ticket):
            self._holders.append(ticket)
            return
        self._waiting.append(ticket)
        self._announce()
        try:
            while not ticket.granted.is_set():
                getter = asyncio.ensure_future(ticket.positions.get())
                granted = asyncio.ensure_future(ticket.granted.wait())
                try:
                    done, _ = await asyncio.wait(
                        {getter, granted}, return_when=asyncio.FIRST_COMPLETED
                    )
                finally:
                    getter.cancel()
                    granted.cancel()
                if getter in done and not getter.cancelled():
                    yield getter.result()
        except BaseException:
            if ticket in self._waiting:
                self._waiting.remove(ticket)
                self._grant()  # the head may have been what held the others back
                self._announce()
            elif ticket.granted.is_set():
                self.release(ticket)  # granted as we were cancelled: pass the place on
            raise

    def release(self, ticket: Ticket) -> None:
        if ticket in self._holders:
            self._holders.remove(ticket)
        self._grant()

    def _grant(self) -> None:
        moved = False
        while self._waiting and self._fits(self._waiting[0]):
            nxt = self._waiting.pop(0)
            self._holders.append(nxt)
            nxt.granted.set()
            moved = True
        if moved:
            self._announce()

    def _announce(self) -> None:
        for i, ticket in enumerate(self._waiting, start=1):
            ticket.positions.put_nowait(i)
