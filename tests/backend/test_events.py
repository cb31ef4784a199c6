"""The event log (replay, then live) and the snapshot feed (latest state, a slow reader skips)."""

from __future__ import annotations

import asyncio

import pytest
from hearth.events import EventLog, Inbox, SnapshotFeed


def run(coro):
    return asyncio.run(coro)


async def _collect(stream):
    return [item async for item in stream]


def test_a_late_follower_replays_everything_then_follows_live():
    async def scenario():
        log = EventLog()
        log.publish("start", {"n": 0})
        early = asyncio.create_task(_collect(log.follow()))
        await asyncio.sleep(0)
        log.publish("delta", {"n": 1})
        late = asyncio.create_task(_collect(log.follow()))
        await asyncio.sleep(0)
        log.publish("done", {"n": 2})
        log.close()
        after = await _collect(log.follow())  # connects once it is over
        return await early, await late, after

    early, late, after = run(scenario())
    expected = [("start", {"n": 0}), ("delta", {"n": 1}), ("done", {"n": 2})]
    assert early == late == after == expected


def test_a_follower_that_leaves_is_forgotten_and_nothing_follows_a_close():
    async def scenario():
        log = EventLog()
        stream = log.follow()
        log.publish("start", {})
        assert await anext(stream) == ("start", {})
        await stream.aclose()
        log.publish("delta", {})  # no follower left to feed
        log.close()
        with pytest.raises(RuntimeError, match="after the log was closed"):
            log.publish("late", {})
        return log.events

    assert run(scenario()) == [("start", {}), ("delta", {})]


def test_a_slow_snapshot_reader_skips_stale_states_but_never_the_last():
    async def scenario():
        feed = SnapshotFeed(backlog=2)
        stream = feed.follow({"id": "a", "n": 0}, last=lambda s: s["n"] == 9)
        assert await anext(stream) == {"id": "a", "n": 0}  # now it is following
        for n in range(1, 10):
            feed.publish({"id": "a", "n": n})
        return [s["n"] async for s in stream]

    assert run(scenario()) == [8, 9]


def test_a_snapshot_reader_sees_only_its_own_job_and_ends_on_its_own_last():
    async def scenario():
        feed = SnapshotFeed()
        stream = feed.follow(
            {"id": "a", "end": False}, last=lambda s: s["end"], mine=lambda s: s["id"] == "a"
        )
        assert (await anext(stream))["id"] == "a"
        feed.publish({"id": "b", "end": True})  # another job ending ends nothing here
        feed.publish({"id": "a", "end": False})
        feed.publish({"id": "a", "end": True})
        return [(s["id"], s["end"]) async for s in stream]

    assert run(scenario()) == [("a", False), ("a", True)]


def test_an_inbox_gives_its_items_in_order_to_a_reader_that_waits_or_comes_late():
    async def scenario():
        inbox: Inbox[int] = Inbox()
        inbox.put(1)
        waiting = asyncio.create_task(_take(inbox, 3))
        await asyncio.sleep(0)
        inbox.put(2)
        await asyncio.sleep(0)
        inbox.put(3)
        return await waiting

    assert run(scenario()) == [1, 2, 3]


def test_a_cancelled_inbox_read_loses_nothing():
    async def scenario():
        inbox: Inbox[str] = Inbox()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(inbox.get(), 0.01)  # the reader gave up while waiting
        inbox.put("kept")
        return await asyncio.wait_for(inbox.get(), 1)

    assert run(scenario()) == "kept"


async def _take(inbox: Inbox, n: int) -> list:
    return [await inbox.get() for _ in range(n)]
