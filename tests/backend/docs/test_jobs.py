"""The job line: one job at a time, events replayed to late readers, cancel queued or running."""

from __future__ import annotations

import asyncio

from hearth.docs.jobs import FileResult, IngestJob, JobQueue
from hearth.errors import HearthError


def run(coro):
    return asyncio.run(coro)


async def collect(job: IngestJob) -> list[str]:
    return [name async for name, _ in job.follow()]


def test_jobs_run_one_at_a_time_and_late_readers_see_everything():
    order: list[str] = []

    async def runner(job: IngestJob) -> None:
        order.append(f"start {job.paths[0]}")
        job.files_total = 1
        await asyncio.sleep(0.01)
        job.add_result(FileResult(job.paths[0], job.paths[0], "indexed", chunks=2, pages=1))
        order.append(f"end {job.paths[0]}")

    async def main():
        queue = JobQueue(runner)
        a = queue.submit(IngestJob("lib", "ingest", ["a"]))
        b = queue.submit(IngestJob("lib", "ingest", ["b"]))
        assert b.status == "queued"
        await asyncio.gather(a.task, b.task)
        return a, b

    a, b = run(main())
    assert order == ["start a", "end a", "start b", "end b"]
    assert a.status == b.status == "done"
    assert run(collect(b)) == ["queued", "started", "file", "progress", "done"]
    assert b.to_dict()["summary"]["indexed"] == 1 and b.pages_done == 1


def test_cancel_a_queued_job_and_a_running_one():
    async def main():
        gate = asyncio.Event()

        async def runner(job: IngestJob) -> None:
            gate.set()
            while not job.cancel_requested:
                await asyncio.sleep(0.005)

        queue = JobQueue(runner)
        running = queue.submit(IngestJob("lib", "ingest", ["a"]))
        waiting = queue.submit(IngestJob("lib", "ingest", ["b"]))
        await gate.wait()
        queue.cancel(waiting)
        queue.cancel(running)
        await asyncio.gather(running.task, waiting.task, return_exceptions=True)
        return running, waiting

    running, waiting = run(main())
    assert running.status == "cancelled" and running.started_at is not None
    assert waiting.status == "cancelled" and waiting.started_at is None


def test_a_failing_job_reports_its_reason():
    async def runner(job: IngestJob) -> None:
        raise HearthError("No embedding model is installed.", code="no_embedding_model")

    async def main():
        job = JobQueue(runner).submit(IngestJob("lib", "ingest", []))
        await job.task
        return job

    job = run(main())
    assert job.status == "failed"
    assert job.error == {
        "code": "no_embedding_model",
        "message": "No embedding model is installed.",
    }
