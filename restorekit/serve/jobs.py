"""The job queue of ``restorekit serve``: one worker thread, one private folder per job.

Jobs run one at a time, in the order they were submitted, in a single thread: the models
already use every core for one image, and two images at once would only fight over them.
Each job owns a folder inside the queue's private root (``tempfile.mkdtemp``: mode 0700);
the folder goes when its result is downloaded, when the job has sat finished for ``ttl_s``
seconds, or when the queue closes (server shutdown), which removes the whole root.

Job ids come from :func:`secrets.token_urlsafe` and every lookup names the browser session
that asks: a job of another session is "not found", exactly like one that never existed.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from restorekit.errors import RestorekitError

log = logging.getLogger("restorekit.serve")

QUEUED, RUNNING, DONE, ERROR = "queued", "running", "done", "error"


class QueueFullError(RestorekitError):
    """Too many jobs are waiting (for this session or in all)."""


@dataclass(eq=False)
class Job:
    """One image to restore, and what became of it. Mutated only under the queue's lock."""

    id: str
    session: str
    folder: Path
    name: str  # the uploaded file's name, for display and the download's name only
    settings: Any  # restorekit.serve.process.Settings
    files: dict = field(default_factory=dict)  # upload field -> (client's name, saved path)
    created: float = field(default_factory=time.monotonic)
    state: str = QUEUED
    stage: str = "waiting"
    progress: float = 0.0  # 0..1, coarse: the stage's share of the work
    message: str = ""
    started: float | None = None
    finished: float | None = None
    result: dict = field(default_factory=dict)  # shown to the page: image facts, then metrics
    result_path: Path | None = None  # the restored file, once written

    def public(self, ahead: int = 0) -> dict:
        """What the page may see: no paths, no session."""
        now = time.monotonic()
        elapsed = (self.finished or now) - self.started if self.started else 0.0
        return {"id": self.id, "name": self.name, "state": self.state, "stage": self.stage,
                "progress": round(self.progress, 3), "message": self.message, "ahead": ahead,
                "elapsed_s": round(elapsed, 2), **self.result}


class JobQueue:
    """Jobs keyed by id, processed in order by one worker thread.

    ``process(job, report)`` does the work; ``report(stage, progress)`` updates the job the
    page polls. It raises :class:`RestorekitError` for a problem with the user's input (the
    message is shown as is); anything else is logged and shown as an internal error.
    """

    def __init__(self, process: Callable[[Job, Callable[[str, float], None]], None], *,
                 ttl_s: float = 1800.0, max_per_session: int = 50, max_jobs: int = 200):
        self._process = process
        self.ttl_s = ttl_s
        self.max_per_session = max_per_session
        self.max_jobs = max_jobs
        self.root = Path(tempfile.mkdtemp(prefix="restorekit-serve-"))  # mode 0700
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._todo: queue.Queue[Job | None] = queue.Queue()
        self._closed = False
        self._worker = threading.Thread(target=self._run, name="restorekit-serve-worker", daemon=True)
        self._worker.start()
        atexit.register(self.close)  # the root goes even if the server is not shut down cleanly

    # ---------------------------------------------------------------------------------
    # the page's side

    def new_folder(self) -> tuple[str, Path]:
        """A fresh job id and its private folder (mode 0700), for the upload to fill."""
        if self._closed:
            raise RestorekitError("the server is shutting down")
        job_id = secrets.token_urlsafe(24)
        folder = self.root / job_id
        folder.mkdir(mode=0o700)
        return job_id, folder

    def check_room(self, session: str) -> None:
        """Raise :class:`QueueFullError` when this session or the server has too many jobs."""
        self.sweep()
        with self._lock:
            mine = sum(1 for job in self._jobs.values() if job.session == session)
            total = len(self._jobs)
        if mine >= self.max_per_session:
            raise QueueFullError(f"this page holds {mine} images already; download or remove some first")
        if total >= self.max_jobs:
            raise QueueFullError("the server is busy with too many images; try again later")

    def submit(self, job: Job) -> None:
        with self._lock:
            if self._closed:
                raise RestorekitError("the server is shutting down")
            self._jobs[job.id] = job
        self._todo.put(job)

    def get(self, session: str, job_id: str) -> Job | None:
        """The job, if it exists and belongs to ``session``; else None (never a hint which)."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or not secrets.compare_digest(job.session, session):
            return None
        return job

    def status(self, job: Job) -> dict:
        with self._lock:
            ahead = sum(1 for other in self._jobs.values()
                        if other.state in (QUEUED, RUNNING) and other.created < job.created)
            return job.public(ahead if job.state == QUEUED else 0)

    def list(self, session: str) -> list[dict]:
        with self._lock:
            mine = [job for job in self._jobs.values() if job.session == session]
        return [self.status(job) for job in sorted(mine, key=lambda j: j.created)]

    def remove(self, job: Job) -> None:
        """Forget the job and delete its folder (a running job's folder goes when it ends)."""
        with self._lock:
            self._jobs.pop(job.id, None)
            running = job.state == RUNNING
        if not running:
            shutil.rmtree(job.folder, ignore_errors=True)

    def sweep(self) -> None:
        """Remove the jobs that finished more than ``ttl_s`` seconds ago."""
        now = time.monotonic()
        with self._lock:
            old = [job for job in self._jobs.values()
                   if job.finished is not None and now - job.finished > self.ttl_s]
        for job in old:
            self.remove(job)

    def close(self) -> None:
        """Stop the worker after its current job and delete every upload and result."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._jobs.clear()
        self._todo.put(None)
        if threading.current_thread() is not self._worker:
            self._worker.join(timeout=5)
        shutil.rmtree(self.root, ignore_errors=True)

    # ---------------------------------------------------------------------------------
    # the worker's side

    def _run(self) -> None:
        while True:
            try:
                job = self._todo.get(timeout=30)
            except queue.Empty:
                self.sweep()
                continue
            if job is None:
                return
            with self._lock:
                if job.id not in self._jobs:  # removed while queued
                    continue
                job.state, job.stage, job.started = RUNNING, "starting", time.monotonic()
            self._work(job)
            with self._lock:
                gone = job.id not in self._jobs
            if gone:  # removed while running: its folder could not go then
                shutil.rmtree(job.folder, ignore_errors=True)
            self.sweep()

    def _work(self, job: Job) -> None:
        def report(stage: str, progress: float) -> None:
            with self._lock:
                job.stage, job.progress = stage, max(0.0, min(1.0, progress))

        try:
            self._process(job, report)
        except RestorekitError as exc:
            self._finish(job, ERROR, _one_line(exc))
        except MemoryError:
            self._finish(job, ERROR, "not enough memory for this image")
        except Exception as exc:  # a bug, not the user's input: log it, show one line
            log.exception("job %s failed", job.id)
            self._finish(job, ERROR, f"internal error ({type(exc).__name__}); see the server's log")
        else:
            self._finish(job, DONE, "")

    def _finish(self, job: Job, state: str, message: str) -> None:
        with self._lock:
            job.state, job.message, job.finished = state, message, time.monotonic()
            job.stage = "done" if state == DONE else "failed"
            job.progress = 1.0


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def folder_is_private(path: Path) -> bool:
    """Whether ``path`` is a folder only its owner can enter (mode 0700 or stricter)."""
    return path.is_dir() and (os.stat(path).st_mode & 0o077) == 0
