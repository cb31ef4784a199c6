"""UpgradeJobs: the one upgrade job at a time, from variant (or pack) to switched runtime.

resolving -> checking_disk -> downloading -> verifying -> unpacking -> probing -> switching ->
restart_requested; then, after the respawn, activation.py ends it done, or failed and reverted.
Any failure before the switch leaves the running runtime untouched and no half folder behind.
The job is kept in `runtimes/last_job.json` at every stage, so the process after the respawn
(and the UI reconnecting to it) knows how the upgrade ended.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import httpx

from hearth.errors import Conflict, HearthError, NotFound
from hearth.net.diskspace import DiskUsage
from hearth.net.download import Downloader, DownloadStopped, Progress
from hearth.net.rate import RateMeter
from hearth.runtime import installed, probe, staging
from hearth.runtime.staging import StageError, Target
from hearth.runtime.switch import Pointer, StateFiles
from hearth.runtime.upgrade_job import TERMINAL, JobConfig, JobFeed, UpgradeJob

log = logging.getLogger(__name__)

# After these the job cannot be cancelled: the switch is being written or already is.
_NO_CANCEL = frozenset({"switching", "restart_requested"})
_CANCEL_GRACE = 3.0
_RESTART_DELAY = 0.3  # lets the last SSE event reach the client before the process exits


class UpgradeJobs:
    def __init__(self, config: JobConfig, *, downloader: Downloader | None = None):
        self.config = config
        self.root = Path(config.data_dir) / "runtimes"
        self.files = StateFiles(self.root)
        self._owns_client = downloader is None
        self._downloader = downloader or Downloader(
            client=httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=15.0))
        )
        if config.disk_usage is not None:
            self._downloader.disk_usage = config.disk_usage
        self._downloader.reserve = config.reserve
        self._job: UpgradeJob | None = None
        self.feed = JobFeed(self.files)

    # -- queries ---------------------------------------------------------------------------

    def current(self) -> dict[str, Any] | None:
        """The running or last job; after a respawn, the last one as the files tell it."""
        if self._job is not None:
            return self._job.to_dict()
        return self.files.last_job()

    def get(self, job_id: str) -> dict[str, Any]:
        job = self.current()
        if job is None or job.get("id") != job_id:
            raise NotFound(f"No upgrade job {job_id!r}", code="job_not_found")
        return job

    def running(self) -> bool:
        return self._job is not None and self._job.state not in TERMINAL

    def busy(self) -> dict[str, Any] | None:
        """The job a new one must wait for: one running here, or the one whose runtime this
        process is proving after its respawn."""
        if self.running():
            assert self._job is not None
            return self._job.to_dict()
        job = self.files.last_job()
        if job and job.get("state") == "running" and self.files.marker() is not None:
            return job
        return None

    def subscribe(self, job_id: str) -> AsyncGenerator[dict[str, Any], None]:
        """Snapshots: the current one, then one per change, until it ends or restarts us."""
        return self.feed.follow(self.get(job_id))

    # -- commands --------------------------------------------------------------------------

    def recover(self) -> None:
        """At startup: clear a crash's leftovers and close a job that a dead process left open."""
        self.files.remove_temp_files()
        removed = installed.remove_leftovers(self.root)
        if removed:
            log.info("removed upgrade leftovers: %s", ", ".join(removed))
        job = self.files.last_job()
        if job is None or job.get("state") != "running" or job.get("stage") == "restart_requested":
            return
        stage = job.get("stage")
        code = "switch_interrupted" if stage == "switching" else "interrupted"
        job.update(
            state="failed",
            stage="failed",
            error={
                "code": code,
                "message": f"Hearth stopped during the upgrade ({stage}); the CPU runtime is "
                "still in use. Start the upgrade again.",
            },
            updated_at=time.time(),
        )
        self.files.write_job(job)

    async def start(self, variant_id: str | None = None) -> tuple[dict[str, Any], bool]:
        """Start an upgrade (the recommended variant when None); (job, created). A running job
        is returned as it is."""
        busy = self.busy()
        if busy is not None:
            return busy, False
        if variant_id is None:
            variant_id, why = await asyncio.to_thread(self.config.recommended)
            if variant_id is None:
                raise Conflict(f"No runtime upgrade is recommended: {why}", code="no_upgrade")
        target = self._target(variant_id)
        job = UpgradeJob(id=uuid.uuid4().hex[:12], source="download")
        self._begin(job, target, self._run_download(job, target))
        return job.to_dict(), True

    async def start_pack(
        self, pack: Path, *, owned: bool, name: str | None = None
    ) -> tuple[dict[str, Any], bool]:
        """Install from a runtime pack (a zip of the artifacts plus a manifest). `owned`: the
        file is an upload of ours, deleted when the job ends; `name`, the person's name for it."""
        busy = self.busy()
        if busy is not None:
            if owned:
                _discard_upload(pack)
            return busy, False
        try:
            contents = await asyncio.to_thread(staging.read_pack, pack, name)
            target = self._target(contents.variant_id)
        except HearthError:
            if owned:
                _discard_upload(pack)
            raise
        job = UpgradeJob(id=uuid.uuid4().hex[:12], source="pack")
        self._begin(job, target, self._run_pack(job, target, pack, contents, owned))
        return job.to_dict(), True

    async def cancel(self, job_id: str) -> dict[str, Any]:
        job = self._job
        if job is None or job.id != job_id:
            return self.get(job_id)  # a finished job from before a respawn, or NotFound
        if job.state in TERMINAL:
            return job.to_dict()
        if job.stage in _NO_CANCEL:
            raise Conflict(
                "The runtime is already being switched; it can no longer be cancelled.",
                code="too_late_to_cancel",
            )
        job.stop = True
        job.control.cancel()
        task = job.task
        if task is not None and not task.done():
            # Every step polls `stop`; a transfer stalled on the network needs the hard way.
            await asyncio.wait([task], timeout=_CANCEL_GRACE)
            if not task.done():
                task.cancel()
                await asyncio.wait([task])
        return job.to_dict()

    async def wait(self) -> dict[str, Any] | None:
        """Until the running job ends or requests the restart (the CLI uses this)."""
        if self._job is not None and self._job.task is not None:
            await asyncio.wait([self._job.task])
        return self.current()

    async def aclose(self) -> None:
        job = self._job
        if job is not None and job.task is not None and not job.task.done():
            if job.stage in _NO_CANCEL:
                await asyncio.wait([job.task])  # a switch is never left half-written
            else:
                await self.cancel(job.id)
        if self._owns_client:
            await self._downloader.client.aclose()

    # -- the pipeline ----------------------------------------------------------------------

    def _target(self, variant_id: str) -> Target:
        try:
            registry = self.config.registry()
        except HearthError as exc:
            raise StageError(exc.message, code="registry_invalid", status=500) from exc
        python, platform = self.config.host_tags()
        return staging.choose_target(registry, variant_id, python, platform)

    def _begin(self, job: UpgradeJob, target: Target, work) -> None:
        job.variant, job.kind = target.variant.id, target.variant.kind
        job.bytes_total = target.download_bytes
        self._job = job
        self.feed.loop = asyncio.get_running_loop()
        self.feed.publish(job, persist=True)
        job.task = asyncio.create_task(self._guard(job, work), name=f"upgrade-{job.id}")

    async def _guard(self, job: UpgradeJob, work) -> None:
        staged = staging.staging_dir(self.root, job.id)
        try:
            await work
        except asyncio.CancelledError:
            self.feed.end(job, "cancelled", None)
            if not job.stop:  # shutdown rather than a cancel: let it through
                raise
        except DownloadStopped:
            self.feed.end(job, "cancelled", None)
        except HearthError as exc:
            log.warning("upgrade %s failed (%s): %s", job.id, exc.code, exc.message)
            if exc.code == "cancelled":
                self.feed.end(job, "cancelled", None)
            else:
                self.feed.end(job, "failed", exc.to_dict())
        except Exception as exc:
            log.exception("upgrade %s crashed", job.id)
            self.feed.end(
                job, "failed", {"code": "internal_error", "message": f"Upgrade failed: {exc}"}
            )
        finally:
            await asyncio.to_thread(staging.clear_folder, staged)
            if job.state in TERMINAL:
                self._clear_downloads(job)

    async def _run_download(self, job: UpgradeJob, target: Target) -> None:
        model = await self._resolve(job, target)
        reused = self._reusable(target)
        if reused is None:
            await self._check_space(job, target)
            files = await self._download(job, target)
            reused = await self._unpack(job, target, files, source="download")
        await self._probe_and_switch(job, target, reused, model)

    async def _check_space(self, job: UpgradeJob, target: Target) -> None:
        """Room for the download and its unpacked copy, before either is written."""
        self.feed.stage(job, "checking_disk", "Checking free disk space")
        await asyncio.to_thread(
            staging.check_space,
            self.root,
            target.download_bytes * staging.UNPACK_FACTOR,
            self._disk_usage,
            self.config.reserve,
        )

    async def _run_pack(self, job, target, pack: Path, contents, owned: bool) -> None:
        try:
            model = await self._resolve(job, target)
            await self._check_space(job, target)
            files = await self._extract_pack(job, target, pack, contents)
            runtime = await self._unpack(job, target, files, source="pack")
        finally:
            if owned:
                _discard_upload(pack)
        await self._probe_and_switch(job, target, runtime, model)

    async def _resolve(self, job: UpgradeJob, target: Target) -> Path:
        self.feed.stage(job, "resolving", f"Preparing {target.variant.description or job.variant}")
        model = await asyncio.to_thread(self.config.probe_model)
        if model is None:
            raise StageError(
                "No chat model is installed; the upgrade needs one to prove the new runtime "
                "works. Install the starter model first.",
                code="no_model",
            )
        return model

    def _reusable(self, target: Target) -> installed.InstalledRuntime | None:
        """An installed folder of exactly these artifacts: probe it again, download nothing."""
        pins = {(a.role, a.sha256) for a in target.build.artifacts}
        for runtime in installed.list_installed(self.root):
            if runtime.variant == target.variant.id and pins == {
                (a.get("role"), a.get("sha256")) for a in runtime.artifacts
            }:
                return runtime
        return None

    async def _download(self, job: UpgradeJob, target: Target) -> list[Path]:
        self.feed.stage(job, "downloading", "Downloading the runtime")
        folder = self._downloads(job)
        done_before = 0
        files = []
        for artifact in target.build.artifacts:
            dest = folder / staging.artifact_filename(artifact)

            def progress(p: Progress, base: int = done_before, name: str = dest.name) -> None:
                job.bytes_done = base + p.done
                job.rate = p.rate
                stage = "verifying" if p.phase == "verifying" else "downloading"
                if stage != job.stage:
                    verb = "Verifying" if stage == "verifying" else "Downloading"
                    self.feed.stage(job, stage, f"{verb} {name}")
                else:
                    self.feed.publish(job)

            if job.stage != "downloading":
                self.feed.stage(job, "downloading", f"Downloading {dest.name}")
            else:
                job.message = f"Downloading {dest.name}"
            result = await self._downloader.fetch(
                artifact.url or "",
                dest,
                sha256=artifact.sha256,
                size=artifact.size,
                on_progress=progress,
                control=job.control,
            )
            if result.size != artifact.size:
                dest.unlink(missing_ok=True)
                raise StageError(
                    f"{dest.name} is {result.size} bytes; the registry pins {artifact.size}.",
                    code="hash_mismatch",
                )
            done_before += result.size
            files.append(dest)
        job.bytes_done = done_before
        return files

    async def _extract_pack(self, job, target: Target, pack: Path, contents) -> list[Path]:
        self.feed.stage(job, "downloading", f"Copying the runtime out of {pack.name}")
        folder = self._downloads(job)
        meter = RateMeter()
        meter.reset(time.monotonic(), 0)
        files = []
        last = [0.0]

        def on_bytes(n: int) -> None:
            job.bytes_done += n
            now = time.monotonic()
            if now - last[0] > 0.25:
                last[0] = now
                job.rate = meter.update(now, job.bytes_done)
                self.feed.publish_threadsafe(job)

        for artifact in target.build.artifacts:
            name = staging.artifact_filename(artifact)
            member = contents.members.get(name)
            if member is None:
                raise StageError(
                    f"The pack does not contain {name}, which {target.variant.id} needs.",
                    code="bad_pack",
                )
            dest = folder / name
            await asyncio.to_thread(
                staging.extract_artifact,
                pack,
                member,
                dest,
                artifact,
                on_bytes=on_bytes,
                should_stop=lambda: job.stop,
            )
            files.append(dest)
        self.feed.stage(job, "verifying", "Verified every artifact against the registry")
        return files

    async def _unpack(
        self, job: UpgradeJob, target: Target, files: list[Path], *, source: str
    ) -> installed.InstalledRuntime:
        self.feed.stage(job, "unpacking", "Unpacking the runtime")
        size = await asyncio.to_thread(staging.unpacked_size, files)
        await asyncio.to_thread(
            staging.check_space, self.root, size, self._disk_usage, self.config.reserve
        )
        staged = staging.staging_dir(self.root, job.id)
        job.bytes_done, job.bytes_total = 0, size

        last = [0.0]

        def on_bytes(n: int) -> None:
            job.bytes_done += n
            now = time.monotonic()
            if now - last[0] > 0.25:
                last[0] = now
                self.feed.publish_threadsafe(job)

        def work() -> installed.InstalledRuntime:
            staged.mkdir(parents=True, exist_ok=True)
            for wheel in files:
                staging.unpack_wheel(wheel, staged, on_bytes=on_bytes, should_stop=lambda: job.stop)
            staging.check_llama_package(staged)
            return staging.put_in_place(staged, self.root, target, source=source)

        runtime = await asyncio.to_thread(work)
        self._clear_downloads(job)
        job.runtime = runtime.folder
        self.feed.publish(job, persist=True)
        return runtime

    async def _probe_and_switch(
        self, job: UpgradeJob, target: Target, runtime: installed.InstalledRuntime, model: Path
    ) -> None:
        variant = target.variant
        label = f"The CUDA {variant.cuda} runtime" if variant.cuda else f"The {variant.id} runtime"
        job.runtime = runtime.folder
        self.feed.stage(job, "probing", f"Testing {target.variant.id} with {model.name}")
        try:
            verdict = await self._measure(job, target, runtime, model, label)
        except asyncio.CancelledError:
            self._drop_runtime(runtime)
            raise
        await asyncio.to_thread(
            installed.record_probe, runtime, {**verdict.to_json(), "model": model.name}
        )
        job.result = verdict.result
        if not verdict.ok:
            self._drop_runtime(runtime)
            raise StageError(verdict.message, code=verdict.code or "probe_failed")

        self.feed.stage(job, "switching", verdict.message)
        pointer = Pointer(runtime.folder, target.variant.id, target.variant.kind)
        await asyncio.to_thread(self.files.commit_switch, pointer, job.id)
        self.feed.stage(
            job,
            "restart_requested",
            f"Switched to {target.variant.id}; restarting to load it",
        )
        if self.config.restart is not None:
            asyncio.get_running_loop().call_later(_RESTART_DELAY, self.config.restart)

    async def _measure(
        self,
        job: UpgradeJob,
        target: Target,
        runtime: installed.InstalledRuntime,
        model: Path,
        label: str,
    ) -> probe.Verdict:
        expect_gpu = target.variant.kind != "cpu"
        new = await probe.run_child(
            runtime.path,
            model,
            expect_gpu=expect_gpu,
            gpu_layers=-1 if expect_gpu else 0,
            timeout=self.config.probe_timeout,
            threads=self.config.threads,
            should_stop=lambda: job.stop,
        )
        baseline = None
        if new.ok:
            job.message = "Measuring the CPU runtime for comparison"
            self.feed.publish(job)
            baseline = await probe.run_child(
                None,
                model,
                expect_gpu=False,
                gpu_layers=0,
                timeout=self.config.probe_timeout,
                threads=self.config.threads,
                should_stop=lambda: job.stop,
            )
        if job.stop or new.code == "cancelled" or (baseline and baseline.code == "cancelled"):
            self._drop_runtime(runtime)
            raise StageError("Cancelled during the probe.", code="cancelled", status=409)
        return probe.judge(
            label=label,
            kind=target.variant.kind,
            min_speedup=target.variant.min_speedup,
            new=new,
            baseline=baseline,
        )

    def _drop_runtime(self, runtime: installed.InstalledRuntime) -> None:
        if self.files.pointer().folder != runtime.folder:
            installed.remove_tree(runtime.path)

    # -- bookkeeping -----------------------------------------------------------------------

    @property
    def _disk_usage(self) -> DiskUsage:
        return self._downloader.disk_usage

    def _downloads(self, job: UpgradeJob) -> Path:
        return self.root / installed.DOWNLOADS / (job.variant or "unknown")

    def _clear_downloads(self, job: UpgradeJob) -> None:
        """Finished wheels go once unpacked or once the job ends; `.part` files stay only for
        a network failure, which a later job resumes."""
        folder = self._downloads(job)
        if not folder.is_dir():
            return
        keep_parts = job.error is not None and job.error.get("code") in (
            "network_error",
            "http_error",
        )
        for file in folder.iterdir():
            if not (keep_parts and file.name.endswith(".part")):
                file.unlink(missing_ok=True)
        for empty in (folder, folder.parent):
            if empty.is_dir() and not any(empty.iterdir()):
                empty.rmdir()


def _discard_upload(pack: Path) -> None:
    pack.unlink(missing_ok=True)
    folder = pack.parent
    if folder.name == installed.UPLOADS and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
