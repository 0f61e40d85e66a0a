"""``--workers N``: the file loop in N processes on this machine.

Each worker is a fresh process (forked from a "forkserver" that has imported torch, or
"spawn" where there is none: never a copy of this process's threads, locks or loaded
models) that receives the task once, sets torch to ``cores // N`` threads so that N workers
share the machine rather than oversubscribe it, and loads the model once
(:func:`restorekit.infer.resolve_network` caches it per process). Jobs go out one at a time
(``imap``, chunksize 1) and only ``(reason, note, warnings)`` comes back: images never cross
between processes, so memory stays that of N single-file runs whatever the number of files.
Results arrive in the jobs' order, so the per-file lines are those of one worker. Workers
write their outputs themselves, atomically.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any, Iterator

from restorekit.errors import ModelLoadError
from restorekit.files import Note, Outcome, Process, attempt_in_worker
from restorekit.outputs import Job

# The worker's task, set once by _start (one per process).
_WORK: tuple[Process, Note | None] | None = None


def cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def pool_outcomes(jobs: list[Job], process: Process, note: Note | None, workers: int) -> Iterator[Outcome]:
    """Yield ``(index, reason or None, note, None, warnings)`` per job, in order, from ``workers`` processes.

    ``process`` and ``note`` must pickle (a task of :mod:`restorekit.tasks`, or a function at
    module level). A :class:`ModelLoadError` in a worker stops the run here.
    """
    import multiprocessing

    threads = max(1, cores() // workers)
    if "forkserver" in multiprocessing.get_all_start_methods():
        # A server process imports torch once; each worker is a fork of it: seconds less per
        # worker than "spawn", and only that server's state is copied, not this process's.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["torch", "restorekit.parallel", "restorekit.tasks"])
    else:  # Windows
        context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=_start, initargs=(process, note, threads)) as pool:
        for index, (reason, text, fatal, caught) in enumerate(pool.imap(_one, jobs, chunksize=1)):
            if fatal:
                raise ModelLoadError(reason)
            yield index, reason, text, None, caught
        # leaving the block terminates the workers: also on an error or an interrupted run


def _start(process: Process, note: Note | None, threads: int) -> None:
    global _WORK
    import torch

    from restorekit.allocator import keep_freed_memory

    keep_freed_memory()  # a worker is a process of restorekit's own, as the command is
    torch.set_num_threads(threads)
    _WORK = (process, note)
    # Pool.terminate() sends SIGTERM: exit through Python, so that a file being written
    # removes its temporary file (restorekit.atomic) rather than leaving it behind.
    signal.signal(signal.SIGTERM, _exit)


def _exit(signum: int, frame: Any) -> None:
    sys.exit(128 + signum)


def _one(job: Job) -> tuple[str | None, str, bool, list]:
    """``(reason or None, note, fatal, warnings)`` for one job, in a worker."""
    process, note = _WORK
    return attempt_in_worker(job, process, note)
