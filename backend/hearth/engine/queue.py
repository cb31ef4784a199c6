"""First-come, first-served access to the model, telling each waiter its place in line."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field


@dataclass(eq=False)
class Ticket:
    positions: asyncio.Queue[int] = field(default_factory=asyncio.Queue)
    granted: asyncio.Event = field(default_factory=asyncio.Event)


class FairQueue:
    """One holder at a time; the rest wait in order. Position 1 is next in line."""

    def __init__(self) -> None:
        self._held = False
        self._waiting: list[Ticket] = []

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    @property
    def busy(self) -> bool:
        return self._held

    async def wait_turn(self, ticket: Ticket) -> AsyncIterator[int]:
        """Yield this ticket's position while it waits; return once it holds the queue.

        If the caller goes away while waiting (cancelled), the ticket leaves the line.
        """
        if not self._held and not self._waiting:
            self._held = True
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
                self._announce()
            elif ticket.granted.is_set():
                self.release()  # granted as we were cancelled: pass the turn on
            raise

    def release(self) -> None:
        if self._waiting:
            nxt = self._waiting.pop(0)
            nxt.granted.set()  # the queue stays held, now by `nxt`
            self._announce()
        else:
            self._held = False

    def _announce(self) -> None:
        for i, ticket in enumerate(self._waiting, start=1):
            ticket.positions.put_nowait(i)
