"""``--engine ray``: the file loop on a Ray cluster, one machine or many.

The planned jobs (source and target paths, never images) become a Ray Data dataset
(``from_items``); ``map_batches`` hands them to a pool of actors (:class:`FileWorker`), each of
which rebuilds the task once, loads the model once and runs its files through
:func:`restorekit.files.process_file`, exactly as a local run does. Each file gives back one
status row; the driver prints the same per-file lines and summary as a local run, in the
same order. The files must be at the same paths on every node (a shared file system) and
restorekit installed on each. Ray is an optional extra: ``pip install 'restorekit[ray]'``.

>>> from restorekit.tasks import DenoiseTask
>>> jobs = plan_outputs(["/data/noisy"], "/data/clean")                     # doctest: +SKIP
>>> failures = run_on_ray(jobs, DenoiseTask(sigma=25 / 255), address="auto")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path
from typing import Any, Iterator, Sequence

from restorekit.errors import ModelLoadError, RestorekitError
from restorekit.files import Note, Outcome, Process, Reporter, attempt_in_worker, run_files
from restorekit.outputs import Job

# Rows per block: one, so that any idle actor can take the next file (a file is seconds of
# work, a block's overhead milliseconds); past this many files, blocks hold several.
MAX_BLOCKS = 4096


def run_on_ray(jobs: Sequence[Job], task: Process, reporter: Reporter | None = None, *, address: str | None = None,
               workers: int | None = None) -> list[tuple[Job, str]]:
    """Run ``task`` (:mod:`restorekit.tasks`) over ``jobs`` on Ray; ``(job, reason)`` per failure.

    ``address``: a running cluster (``"auto"``, ``"HOST:6379"``, ``"ray://HOST:10001"``); None
    uses the Ray this process is connected to, else starts a local one for the run. ``workers``:
    actors (default: one per CPU of the cluster, one per GPU for a task on ``cuda``).
    """
    return run_files(jobs, task, reporter, engine="ray", address=address, workers=workers)


def ray_outcomes(jobs: list[Job], process: Process, note: Note | None, *, address: str | None = None,
                 workers: int | None = None) -> Iterator[Outcome]:
    """Yield ``(index, reason or None, note, None, warnings)`` per job, in the jobs' order (run_files' engine)."""
    ray = _import_ray()
    if not jobs:  # nothing left to do (--skip-existing): no cluster to start
        return
    started = not ray.is_initialized()
    if started:
        _check_reachable(address)
        try:
            ray.init(address=address, include_dashboard=False, logging_level="warning")
        except ConnectionError as exc:
            raise RestorekitError(f"--address {address}: no Ray cluster there ({str(exc).splitlines()[0]})") from None
    try:
        yield from _run(ray, jobs, process, note, workers)
    finally:
        if started:
            ray.shutdown()


def _run(ray, jobs: list[Job], process: Process, note: Note | None, workers: int | None) -> Iterator[Outcome]:
    gpu = str(getattr(process, "device", None) or "cpu").startswith("cuda")
    resources = ray.cluster_resources()
    size = min(len(jobs), workers or max(1, int(resources.get("GPU" if gpu else "CPU", 1))))
    items = [{"index": i, "source": str(job.source), "target": str(job.target),
              "source_abs": os.path.abspath(job.source), "target_abs": os.path.abspath(job.target)}
             for i, job in enumerate(jobs)]
    blocks = min(len(items), MAX_BLOCKS)
    try:
        ds = ray.data.from_items(items, override_num_blocks=blocks)
    except TypeError:  # Ray before 2.10
        ds = ray.data.from_items(items, parallelism=blocks)
    context = ds.context  # this dataset's own copy of Ray Data's settings
    context.execution_options.preserve_order = True  # the per-file lines in the jobs' order
    context.enable_progress_bars = False  # the CLI shows its own
    for name in ("print_on_execution_start", "enable_auto_log_stats"):  # no log lines between the files'
        if hasattr(context, name):
            setattr(context, name, False)
    ds = ds.map_batches(FileWorker, fn_constructor_args=(process, note, os.getcwd()), batch_size=1,
                        batch_format="numpy", compute=ray.data.ActorPoolStrategy(min_size=1, max_size=size),
                        num_cpus=0 if gpu else 1, num_gpus=1 if gpu else 0)
    with _quiet("ray.data"):
        for row in ds.iter_rows():
            if row["fatal"]:
                raise ModelLoadError(str(row["reason"]))
            caught = [tuple(pair) for pair in json.loads(str(row["warnings"]))]
            yield int(row["index"]), str(row["reason"]) or None, str(row["note"]), None, caught


@contextlib.contextmanager
def _quiet(name: str) -> Iterator[None]:
    """Only warnings from logger ``name`` while the block runs (Ray Data says "execution
    finished" at INFO whatever its settings); its level is restored after."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        from ray.util.debug import log_once

        log_once("ray_data_progress_manager_disabled")  # "Progress bars disabled": we asked for it
    except ImportError:
        pass
    try:
        yield
    finally:
        logger.setLevel(level)


class FileWorker:
    """A Ray actor: builds the task once, then writes each file of its batches; one status row per file.

    Paths are those the driver planned, relative to its folder, where that folder exists
    here (so the messages name files as a local run does); else absolute.
    """

    def __init__(self, process: Process, note: Note | None, cwd: str):
        import torch

        from restorekit.allocator import keep_freed_memory

        # An actor is a process of its own, with the one CPU Ray gave it: no oversubscription.
        torch.set_num_threads(1)
        keep_freed_memory()  # as the restorekit command does
        self.relative = os.path.isdir(cwd)
        if self.relative:
            os.chdir(cwd)
        self.process, self.note = process, note

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        rows: dict[str, list] = {"index": [], "reason": [], "note": [], "fatal": [], "warnings": []}
        keys = ("source", "target") if self.relative else ("source_abs", "target_abs")
        for index, source, target in zip(batch["index"], batch[keys[0]], batch[keys[1]]):
            job = Job(Path(str(source)), Path(str(target)))
            reason, text, fatal, caught = attempt_in_worker(job, self.process, self.note)
            rows["index"].append(int(index))
            rows["reason"].append(reason or "")
            rows["note"].append(text)
            rows["fatal"].append(fatal)
            rows["warnings"].append(json.dumps(caught))  # [[category, message], ...]: one string column
        return {"index": np.asarray(rows["index"], dtype=np.int64), "fatal": np.asarray(rows["fatal"], dtype=bool),
                **{key: np.asarray(rows[key], dtype=object) for key in ("reason", "note", "warnings")}}


def _check_reachable(address: str | None) -> None:
    """Refuse, in one line, a HOST:PORT (or ray://HOST:PORT) that nothing answers on: Ray
    itself would retry for minutes."""
    import socket

    if not address or address == "auto" or address.startswith("local"):
        return
    host, sep, port = address.split("://", 1)[-1].rpartition(":")
    if not sep or not port.isdigit():
        raise RestorekitError(f"--address {address}: expected auto, HOST:PORT or ray://HOST:PORT")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=10).close()
    except OSError as exc:
        raise RestorekitError(f"--address {address}: cannot reach it ({exc.strerror or exc})") from None


def _import_ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise RestorekitError("--engine ray needs Ray: pip install 'restorekit[ray]'") from None
    return ray
