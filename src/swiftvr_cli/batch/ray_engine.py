"""The Ray engine: a pool of restore workers (one model each) across a Ray cluster.

The driver (this process) claims videos as workers need them (locks and
manifest, as the local engine does), cuts long ones into segments, hands
tasks to idle workers, shows overall progress, joins segments and writes
the manifest. Workers read inputs and write outputs in the shared folders,
so IN_DIR, OUT_DIR and the weights must be visible at the same paths on
every node, and swiftvr must be installed there. One worker per GPU
(``num_gpus`` of ``--num-gpus-per-worker``); without GPUs, one
single-threaded CPU worker per CPU.
"""

from __future__ import annotations

import collections
import logging
from dataclasses import dataclass, replace
from typing import Callable, Sequence

from ..model.loading import WeightsError
from ..pipeline.runner import RestoreSettings
from .claims import Claims, Outcome
from .discover import Job
from ..failures import classify
from .segments import DEFAULT_WARMUP_FRAMES
from .work import VideoWork, plan_video
from .worker import RestoreWorker, WorkItem, WorkResult, WorkerSpec


@dataclass(frozen=True)
class RayOptions:
    address: str | None = None  # None: start a local Ray; "auto": join the running cluster
    num_gpus_per_worker: float = 1.0
    workers: int | None = None  # at most this many workers (default: as many as the cluster fits)
    segment_seconds: float | None = None  # None: split only long videos (see segments.should_split); 0: never
    warmup_frames: int = DEFAULT_WARMUP_FRAMES


class RayUnavailable(Exception):
    """Ray is not installed."""


def import_ray():
    try:
        import ray
    except ImportError:
        raise RayUnavailable("--engine ray needs Ray: pip install 'swiftvr[ray]'") from None
    return ray


def worker_resources(cluster: dict, options: RayOptions, spec: WorkerSpec) -> tuple[dict, int, WorkerSpec]:
    """Actor options, how many workers fit, and the spec adjusted (CPU workers get 1 thread each)."""
    gpus = float(cluster.get("GPU", 0))
    if spec.device != "cpu" and options.num_gpus_per_worker > 0 and gpus >= options.num_gpus_per_worker:
        return {"num_gpus": options.num_gpus_per_worker, "num_cpus": 1}, int(gpus // options.num_gpus_per_worker), spec
    if spec.device == "cuda":
        raise ValueError(f"--device cuda: the Ray cluster has {gpus:g} GPUs, a worker needs {options.num_gpus_per_worker:g}")
    cpus = max(1, int(cluster.get("CPU", 1)))
    return {"num_cpus": 1}, cpus, replace(spec, device="cpu", threads=spec.threads or 1)


class _Feed:
    """Claims and plans videos as workers need them, so a huge tree never holds thousands of locks."""

    def __init__(self, jobs: Sequence[Job], claims: Claims, settings: RestoreSettings, options: RayOptions,
                 on_outcome: Callable[[Outcome], None]) -> None:  # fmt: skip
        self._jobs = iter(jobs)
        self._claims, self._settings, self._options, self._on_outcome = claims, settings, options, on_outcome
        self.outcomes: list[Outcome] = []
        self.work: dict[str, VideoWork] = {}  # claimed and not finished
        self.tasks: collections.deque[WorkItem] = collections.deque()
        self.exhausted = False
        self.planned_frames = 0

    def report(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        self._on_outcome(outcome)

    def fill(self, target: int) -> None:
        """Claim videos until ``target`` tasks wait or every job was looked at."""
        while len(self.tasks) < target and not self.exhausted:
            job = next(self._jobs, None)
            if job is None:
                self.exhausted = True
                return
            claimed = self._claims.claim(job)
            if isinstance(claimed, Outcome):
                self.report(claimed)
                continue
            try:
                # a fill mask goes with whole videos (pipeline.runner restores spans without one)
                split = self._options.segment_seconds if not self._settings.mask else 0
                video = plan_video(claimed, self._claims.out_dir, self._settings.clip_len, split, self._options.warmup_frames)
            except Exception as error:  # noqa: BLE001 - an unreadable input fails alone
                failure = classify(error)
                self.report(self._claims.finish_failed(claimed, failure.message, failure.kind))
                continue
            except BaseException:
                self._claims.abort(claimed, "interrupted")
                raise
            self.work[job.rel] = video
            self.tasks.extend(video.tasks)
            self.planned_frames += sum(t.frames for t in video.tasks)

    def finish(self, result: WorkResult) -> None:
        video = self.work[result.key]
        if video.add(result):
            del self.work[result.key]
            self.report(video.finish(self._claims))

    def abort_open(self, reason: str) -> None:
        for video in self.work.values():
            if video.claim.lock.held:
                self._claims.abort(video.claim, reason)
        self.work.clear()


def run_ray(
    jobs: Sequence[Job],
    claims: Claims,
    spec: WorkerSpec,
    settings: RestoreSettings,
    options: RayOptions,
    on_outcome: Callable[[Outcome], None] = lambda outcome: None,
    progress=None,  # a FrameProgress-like object with .update(done, total)
    log: Callable[[str], None] = lambda line: None,
) -> list[Outcome]:
    ray = import_ray()
    settings = replace(settings, overwrite=True)  # a claimed video's old output is never 'done' (see claims)
    feed = _Feed(jobs, claims, settings, options, on_outcome)
    try:
        feed.fill(1)  # Ray is only started when there is work
        if feed.tasks:
            started_ray = not ray.is_initialized()
            if started_ray:
                # worker logs stay in Ray's log folder: stdout may carry the --json summary
                ray.init(address=options.address, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
            try:
                _dispatch(ray, feed, spec, settings, options, progress, log)
            finally:
                if started_ray:
                    ray.shutdown()
    except BaseException as error:
        feed.abort_open("interrupted" if isinstance(error, KeyboardInterrupt) else classify(error).message)
        raise
    return feed.outcomes


def _dispatch(ray, feed: _Feed, spec: WorkerSpec, settings: RestoreSettings, options: RayOptions, progress,
              log: Callable[[str], None]) -> None:  # fmt: skip
    resources, fits, spec = worker_resources(ray.cluster_resources(), options, spec)
    limit = max(1, min(fits, options.workers or fits))
    feed.fill(2 * limit)
    Worker = ray.remote(RestoreWorker)

    def start() -> object:
        return Worker.options(**resources).remote(spec, settings)

    actors = [start() for _ in range(min(limit, len(feed.tasks)))]
    try:
        states = ray.get([a.ready.remote() for a in actors])
        failed = next((s["error"] for s in states if s["error"]), None)
        if failed is not None:
            name, message = failed
            raise (WeightsError if name == "WeightsError" else RuntimeError)(message)
        log(f"ray: {len(actors)} workers on {', '.join(sorted({s['device'] for s in states}))}")
        done = 0
        idle, running = list(actors), {}
        while True:
            feed.fill(2 * limit)
            while idle and feed.tasks:
                actor, task = idle.pop(), feed.tasks.popleft()
                running[actor.run.remote(task)] = (actor, task)
            if not running:
                return
            [ref], _ = ray.wait(list(running), num_returns=1)
            actor, task = running.pop(ref)
            try:
                result: WorkResult = ray.get(ref)
            except ray.exceptions.RayError as error:  # the worker process died (e.g. killed for memory)
                result = _lost(task, error)
                ray.kill(actor)
                actor = start()
                actors.append(actor)
            idle.append(actor)
            done += task.frames
            if progress is not None:
                progress.update(done, feed.planned_frames if feed.exhausted else None)
            feed.finish(result)
    finally:
        for actor in actors:
            ray.kill(actor)


def _lost(task: WorkItem, error: Exception) -> WorkResult:
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return WorkResult(task.key, task.segment, error=f"worker lost: {first_line}", error_kind="internal")
