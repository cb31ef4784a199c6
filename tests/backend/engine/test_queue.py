"""The fair queue: order, positions, and leaving the line."""

import asyncio

from hearth.engine.queue import FairQueue, Ticket


async def take(queue, name, log, hold):
    ticket = Ticket()
    async for position in queue.wait_turn(ticket):
        log.append((name, "pos", position))
    log.append((name, "run"))
    await hold.wait()
    queue.release()
    log.append((name, "done"))


def test_first_come_first_served_with_positions():
    async def scenario():
        queue, log = FairQueue(), []
        holds = {n: asyncio.Event() for n in "abc"}
        tasks = []
        for name in "abc":
            tasks.append(asyncio.create_task(take(queue, name, log, holds[name])))
            await asyncio.sleep(0.01)
        assert queue.waiting == 2
        for name in "abc":
            holds[name].set()
            await asyncio.sleep(0.01)
        await asyncio.gather(*tasks)
        return log

    log = asyncio.run(scenario())
    runs = [entry[0] for entry in log if entry[1] == "run"]
    assert runs == ["a", "b", "c"]
    assert ("b", "pos", 1) in log and ("c", "pos", 2) in log
    assert ("c", "pos", 1) in log  # c moved up once a finished


def test_a_waiter_that_leaves_frees_its_place():
    async def scenario():
        queue, log = FairQueue(), []
        hold_a, hold_c = asyncio.Event(), asyncio.Event()
        a = asyncio.create_task(take(queue, "a", log, hold_a))
        await asyncio.sleep(0.01)
        b = asyncio.create_task(take(queue, "b", log, asyncio.Event()))
        await asyncio.sleep(0.01)
        c = asyncio.create_task(take(queue, "c", log, hold_c))
        await asyncio.sleep(0.01)
        b.cancel()
        await asyncio.sleep(0.01)
        hold_a.set()
        hold_c.set()
        await asyncio.gather(a, c)
        return log, queue

    log, queue = asyncio.run(scenario())
    assert ("c", "pos", 1) in log
    assert not any(e[0] == "b" and e[1] == "run" for e in log)
    assert not queue.busy and queue.waiting == 0
