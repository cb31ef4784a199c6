"""The fair queue: order, positions, leaving the line, and sharing it among parallel holders."""

import asyncio

from hearth.engine.queue import EXCLUSIVE, FairQueue, Ticket


async def take(queue, name, log, hold, key=None):
    ticket = Ticket(key)
    async for position in queue.wait_turn(ticket):
        log.append((name, "pos", position))
    log.append((name, "run"))
    await hold.wait()
    queue.release(ticket)
    log.append((name, "done"))


def _runs(log):
    return [entry[0] for entry in log if entry[1] == "run"]


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


def test_up_to_capacity_run_together_and_the_rest_wait_with_positions():
    async def scenario():
        queue, log = FairQueue(capacity=2), []
        holds = {n: asyncio.Event() for n in "abcd"}
        tasks = [asyncio.create_task(take(queue, n, log, holds[n], "m")) for n in "abcd"]
        await asyncio.sleep(0.01)
        assert _runs(log) == ["a", "b"] and queue.running == 2 and queue.waiting == 2
        assert ("c", "pos", 1) in log and ("d", "pos", 2) in log
        holds["b"].set()
        await asyncio.sleep(0.01)
        assert _runs(log) == ["a", "b", "c"]  # b's place went to the head of the line
        assert ("d", "pos", 1) in log
        for hold in holds.values():
            hold.set()
        await asyncio.gather(*tasks)
        assert not queue.busy

    asyncio.run(scenario())


def test_another_model_waits_for_the_holders_and_nobody_overtakes_it():
    async def scenario():
        queue, log = FairQueue(capacity=4), []
        holds = {n: asyncio.Event() for n in "abc"}
        a = asyncio.create_task(take(queue, "a", log, holds["a"], "m1"))
        await asyncio.sleep(0.01)
        b = asyncio.create_task(take(queue, "b", log, holds["b"], "m2"))
        await asyncio.sleep(0.01)
        # c runs on the loaded model and there is room, but b (a switch) is ahead of it.
        c = asyncio.create_task(take(queue, "c", log, holds["c"], "m1"))
        await asyncio.sleep(0.01)
        assert _runs(log) == ["a"]
        holds["a"].set()
        await asyncio.sleep(0.01)
        assert _runs(log) == ["a", "b"]
        holds["b"].set()
        holds["c"].set()
        await asyncio.gather(a, b, c)
        assert _runs(log) == ["a", "b", "c"]

    asyncio.run(scenario())


def test_an_exclusive_ticket_holds_the_queue_alone_and_capacity_can_grow():
    async def scenario():
        queue, log = FairQueue(capacity=1), []
        holds = {n: asyncio.Event() for n in "xyz"}
        x = asyncio.create_task(take(queue, "x", log, holds["x"], EXCLUSIVE))
        await asyncio.sleep(0.01)
        y = asyncio.create_task(take(queue, "y", log, holds["y"], "m"))
        z = asyncio.create_task(take(queue, "z", log, holds["z"], "m"))
        await asyncio.sleep(0.01)
        holds["x"].set()
        await asyncio.sleep(0.01)
        assert _runs(log) == ["x", "y"]  # capacity 1: z still waits
        queue.set_capacity(2)  # a parallel engine was loaded
        await asyncio.sleep(0.01)
        assert _runs(log) == ["x", "y", "z"]
        holds["y"].set()
        holds["z"].set()
        await asyncio.gather(x, y, z)

    asyncio.run(scenario())
