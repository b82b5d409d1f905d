"""Downloads of whole models (one GGUF, or every part of a split one), queued in the background.

``fetch_choice`` is the one way bytes arrive, shared by the app's queue and the command
line. ``DownloadManager`` runs one download at a time on its own thread: others wait in the
queue; each can be paused, resumed or cancelled, and progress goes out as
``download_progress`` events. Partial files survive a restart (their sidecars say what they
are), so the manager lists them as paused downloads the user can resume.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from localwork.errors import DownloadError, InvalidRequest, LocalWorkError, NotFound
from localwork.events import EventBus
from localwork.models.hubfiles import GgufChoice, HubFile

if TYPE_CHECKING:
    from localwork.models.hub import HubClient
from localwork.models.fetch import (
    SIDECAR_SUFFIX,
    TransferInterrupted,
    TransferPolicy,
    TransferSpec,
    discard_partial,
    ensure_space,
    partial_bytes,
    read_sidecar,
    transfer,
)

log = logging.getLogger(__name__)

State = Literal["queued", "downloading", "paused", "done", "failed", "cancelled"]
Progress = Callable[[int], None]
_PUBLISH_EVERY = 0.25  # seconds between progress events: smooth bars, little chatter
_SPEED_WINDOW = 3.0  # seconds of samples behind the speed figure


def destination(models_dir: Path, repo_id: str, file: HubFile) -> Path:
    """Where a repo file lives under the models folder.

    Raises:
        InvalidRequest: the Hub's file name would leave the models folder.
    """
    target = (models_dir / repo_id / file.path).resolve()
    if not target.is_relative_to(models_dir.resolve()) or ".." in Path(file.path).parts:
        raise InvalidRequest(f"Refusing the file name {file.path!r}: it leaves the models folder.")
    return target


def model_id_for(choice_repo: str, choice_name: str) -> str:
    return f"local/{choice_repo}/{choice_name}"


def remaining_bytes(choice: GgufChoice, models_dir: Path) -> int:
    """Bytes still to fetch: verified files count as done, partial files by what they hold."""
    left = 0
    for file in choice.files:
        dest = destination(models_dir, choice.repo_id, file)
        left += 0 if dest.is_file() else file.size - partial_bytes(dest)
    return left


def fetch_choice(
    choice: GgufChoice,
    hub: HubClient,
    models_dir: Path,
    policy: TransferPolicy,
    on_progress: Progress = lambda _done: None,
    check: Callable[[], None] = lambda: None,
) -> Path:
    """Download every file of a choice; returns the first file's path once all are verified.

    Raises:
        DiskFull: not enough free space for what is left to fetch (checked before starting).
        DownloadCorrupt, DownloadError, HubAuthRequired, HubNotFound: see ``transfer``.
    """
    targets = [(file, destination(models_dir, choice.repo_id, file)) for file in choice.files]
    ensure_space(models_dir, remaining_bytes(choice, models_dir))
    finished = 0
    meta = {
        "repo_id": choice.repo_id,
        "revision": choice.revision,
        "choice": choice.name,
        "files": [[file.path, file.size, file.sha256] for file in choice.files],
    }
    for file, dest in targets:
        if not dest.is_file():  # parts of a set verified earlier are kept
            spec = TransferSpec(
                url=hub.file_url(choice, file),
                dest=dest,
                size=file.size,
                sha256=file.sha256,
                headers=hub.headers(),
                meta=meta,
            )

            def progressed(done: int, base: int = finished) -> None:
                on_progress(base + done)

            transfer(spec, policy, progressed, check)
        finished += file.size
        on_progress(finished)
    return targets[0][1]


@dataclass
class DownloadJob:
    choice: GgufChoice
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    state: State = "queued"
    done: int = 0
    speed: float = 0.0
    error: dict[str, str] | None = None
    request: str | None = None  # "pause" or "cancel", asked from another thread
    samples: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=64))

    def to_dict(self) -> dict[str, Any]:
        total = self.choice.size
        eta = (total - self.done) / self.speed if self.speed > 0 else None
        return {
            "id": self.id,
            **self.choice.to_dict(),
            "model_id": model_id_for(self.choice.repo_id, self.choice.name),
            "state": self.state,
            "done_bytes": self.done,
            "total_bytes": total,
            "speed": round(self.speed),
            "eta_seconds": round(eta) if eta is not None else None,
            "error": self.error,
        }

    def record(self, done: int) -> None:
        now = time.monotonic()
        self.done = done
        self.samples.append((now, done))
        while self.samples and now - self.samples[0][0] > _SPEED_WINDOW:
            self.samples.popleft()
        first_time, first_done = self.samples[0]
        self.speed = (done - first_done) / (now - first_time) if now > first_time else 0.0


class DownloadManager:
    def __init__(
        self,
        models_dir: Path,
        events: EventBus,
        hub: Callable[[], HubClient],
        policy: TransferPolicy | None = None,
    ) -> None:
        self._models_dir = models_dir
        self._events = events
        self._hub = hub  # a factory: the token may change in settings between downloads
        self._policy = policy or TransferPolicy()
        self._jobs: dict[str, DownloadJob] = {}
        self._queue: deque[str] = deque()
        self._wake = threading.Condition()
        self._closing = False
        self._recover()
        self._thread = threading.Thread(target=self._work, name="downloads", daemon=True)
        self._thread.start()

    # --- requests from the bridge -----------------------------------------------------------
    def start(self, repo_id: str, filename: str) -> dict[str, Any]:
        """Queue a download; Hub errors (404, gated, offline) are raised at once.

        Raises:
            HubNotFound, HubAuthRequired, HubOffline, DiskFull, InvalidRequest.
        """
        choice = self._hub().choice(repo_id, filename)
        ensure_space(self._models_dir, remaining_bytes(choice, self._models_dir))
        with self._wake:
            for job in self._jobs.values():
                if job.choice.name == choice.name and job.choice.repo_id == choice.repo_id:
                    if job.state in ("queued", "downloading"):
                        return job.to_dict()
                    del self._jobs[job.id]
                    break
            job = DownloadJob(choice)
            self._jobs[job.id] = job
        self._enqueue(job)
        return job.to_dict()

    def pause(self, job_id: str) -> dict[str, Any]:
        with self._wake:
            job = self._job(job_id)
            if job.state == "downloading":
                job.request = "pause"
            elif job.state == "queued":
                self._queue.remove(job.id)
                job.state = "paused"
        self._publish(job)
        return job.to_dict()

    def resume(self, job_id: str) -> dict[str, Any]:
        with self._wake:
            job = self._job(job_id)
            if job.state not in ("paused", "failed"):
                return job.to_dict()
        self._enqueue(job)
        return job.to_dict()

    def cancel(self, job_id: str) -> dict[str, Any]:
        """Stop a download and delete its partial files (verified parts of a set stay)."""
        with self._wake:
            job = self._job(job_id)
            if job.state == "downloading":
                job.request = "cancel"
                return job.to_dict()
            if job.state == "queued":
                self._queue.remove(job.id)
            if job.state != "done":
                job.state = "cancelled"
        self._discard(job)
        self._publish(job)
        return job.to_dict()

    def list(self) -> list[dict[str, Any]]:
        with self._wake:
            return [job.to_dict() for job in self._jobs.values()]

    def close(self) -> None:
        """Stop the worker; a running transfer keeps its partial file for the next start."""
        with self._wake:
            self._closing = True
            self._wake.notify_all()
        self._thread.join(timeout=10)

    # --- the worker -------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            with self._wake:
                self._wake.wait_for(lambda: self._closing or self._queue)
                if self._closing:
                    return
                job = self._jobs[self._queue.popleft()]
                job.state, job.request, job.error = "downloading", None, None
                job.samples.clear()
            self._publish(job)
            self._run(job)
            self._publish(job)

    def _run(self, job: DownloadJob) -> None:
        last = [0.0]

        def progress(done: int) -> None:
            job.record(done)
            if time.monotonic() - last[0] >= _PUBLISH_EVERY:
                last[0] = time.monotonic()
                self._publish(job)

        def check() -> None:
            if self._closing:
                raise TransferInterrupted("shutdown")
            if job.request:
                raise TransferInterrupted(job.request)

        try:
            fetch_choice(job.choice, self._hub(), self._models_dir, self._policy, progress, check)
        except TransferInterrupted as stop:
            job.state = "cancelled" if stop.reason == "cancel" else "paused"
            if stop.reason == "cancel":
                self._discard(job)
            return
        except LocalWorkError as error:
            job.state, job.error = "failed", error.to_dict()
            return
        except Exception as error:  # the queue must outlive any one download
            log.exception("download %s failed", job.choice.name)
            job.state = "failed"
            job.error = DownloadError(f"The download failed unexpectedly: {error}").to_dict()
            return
        job.state, job.speed = "done", 0.0
        self._events.publish("models_changed")

    # --- helpers ----------------------------------------------------------------------------
    def _job(self, job_id: str) -> DownloadJob:
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(f"There is no download {job_id!r}.")
        return job

    def _enqueue(self, job: DownloadJob) -> None:
        with self._wake:
            job.state, job.error = "queued", None
            self._queue.append(job.id)
            self._wake.notify_all()
        self._publish(job)

    def _discard(self, job: DownloadJob) -> None:
        for file in job.choice.files:
            discard_partial(destination(self._models_dir, job.choice.repo_id, file))

    def _publish(self, job: DownloadJob) -> None:
        self._events.publish("download_progress", download=job.to_dict())

    def _recover(self) -> None:
        """Partial downloads left by an earlier run come back as paused jobs."""
        if not self._models_dir.is_dir():
            return
        seen: set[tuple[str, str]] = set()
        for sidecar in sorted(self._models_dir.rglob(f"*{SIDECAR_SUFFIX}")):
            meta = read_sidecar(sidecar) or {}
            try:
                files = tuple(HubFile(str(p), int(s), sha) for p, s, sha in meta["files"])
                choice = GgufChoice(str(meta["repo_id"]), str(meta["revision"]), files)
            except (KeyError, TypeError, ValueError):
                continue  # not ours, or from an older layout: left alone
            if (choice.repo_id, choice.name) in seen:
                continue
            seen.add((choice.repo_id, choice.name))
            job = DownloadJob(choice, state="paused")
            job.done = choice.size - remaining_bytes(choice, self._models_dir)
            self._jobs[job.id] = job
