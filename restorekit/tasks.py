"""The per-file work of ``denoise``, ``deblur`` and ``degrade`` as picklable values.

A task is a frozen dataclass of plain options (names, paths, numbers), so it can be sent to
another process or another machine (``--workers``, ``--engine ray``) and rebuilt there.
Anything heavy (a network, a kernel, a parsed spec) is loaded on first use and cached per
process: :func:`restorekit.infer.resolve_network` keeps loaded models, so each worker loads a
model once however many files it serves.

Every task has the same shape, which :func:`restorekit.files.run_files` relies on:

- ``check()``: refuse bad options in one line, before any output is planned;
- ``load() -> list[str]``: load what a bad name would break (a model), before any file is
  read; returns notes for the user;
- ``task(image, job, progress=None) -> image``: one image; ``progress(done, total)`` hears tiles;
- ``note(job) -> str``: what the per-file line adds, e.g. deblur's estimated noise level.
  It is asked in the process that did the work, right after it (the CLI's workers send it
  back with the result).

>>> task = DenoiseTask(sigma=25 / 255)                                   # doctest: +SKIP
>>> run_files(plan_outputs(["noisy/"], "clean/"), task, workers=2)      # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

import numpy as np

from restorekit.errors import RestorekitError
from restorekit.outputs import Job

Progress = Callable[[int, int], None]

# Notes a task leaves for note(job), in the process that did the work; popped when asked.
_NOTES: dict[tuple[Any, Job], str] = {}
_CHOICES: dict[tuple[Any, Job], list[dict]] = {}  # blind denoising's choice per page, for --verbose / --json


@dataclass(frozen=True)
class DenoiseTask:
    """``restorekit denoise``'s work: each image through :func:`restorekit.infer.denoise`.

    ``model`` None means the shipped model for each image's channels; ``sigma`` is on the
    [0, 1] scale (None: blind).
    """

    model: str | None = None
    sigma: float | None = None
    strength: float = 1.0
    tile: int | None = None
    overlap: int | None = None
    nan: str = "refuse"
    pd: int = 1
    ensemble: int = 1
    device: str | None = "cpu"
    verbose: bool = False  # the note is the blind choice as JSON (kind, level, method, sigma)

    def check(self) -> None:
        from restorekit.infer import plan_tiles

        plan_tiles(1 << 16, 1 << 16, 1, self.tile, self.overlap)  # a bad --tile/--overlap, in one line

    def load(self) -> list[str]:
        if self.model is None:  # the default depends on each image's channels
            return []
        from restorekit.infer import resolve_network

        net = resolve_network(self.model, device=self.device)
        if self.sigma is not None and not getattr(net, "conditioned", False):
            return [f"{self.model} is not noise-conditioned; --sigma is ignored"]
        return []

    def __call__(self, image: np.ndarray, job: Job, progress: Progress | None = None) -> np.ndarray:
        from restorekit.infer import denoise

        def explain(choice) -> None:  # blind with no model: what identification chose, per page
            _NOTES[self, job] = choice.reason
            _CHOICES.setdefault((self, job), []).append(choice.as_dict())

        # A named model is loaded once per process (resolve_network's cache); no model lets
        # denoise choose one (blind: by the identified noise; else the Gaussian model).
        return denoise(image, self.model, self.sigma, strength=self.strength, tile=self.tile,
                       overlap=self.overlap, nan=self.nan, pd=self.pd, ensemble=self.ensemble, device=self.device,
                       explain=explain, progress=progress)

    def note(self, job: Job) -> str:
        """The choice made in blind mode (one line), or "": with ``verbose``, as JSON."""
        choices = _CHOICES.pop((self, job), None)
        reason = _NOTES.pop((self, job), "")
        if self.verbose and choices:
            import json

            return json.dumps(choices[0] if len(choices) == 1 else choices)
        return reason


@dataclass(frozen=True)
class DeblurTask:
    """``restorekit deblur``'s work: ``kernel`` is a spec or file (``motion-15-45``, ``k.npz#levin3``).

    ``sigma`` None estimates each image's noise level; the note says which it was. ``nan``:
    ``refuse`` images with NaN / inf pixels, or ``fill`` them for the restoration and put
    them back (as ``denoise``).
    """

    kernel: str
    sigma: float | None = None
    method: str = "pnp"
    model: str | None = None
    iters: int | None = None
    circular: bool = False
    nan: str = "refuse"

    def check(self) -> None:
        from restorekit.arrays import NAN_POLICIES
        from restorekit.errors import SpecError

        if self.model is not None and self.method != "pnp":
            raise RestorekitError(f"--model is pnp's denoiser; --method {self.method} takes none")
        if self.iters is not None and self.method == "wiener":
            raise RestorekitError("--iters applies to pnp and rl; wiener is not iterative")
        if self.nan not in NAN_POLICIES:
            raise RestorekitError(f"--nan must be one of {', '.join(NAN_POLICIES)}, got {self.nan!r}")
        try:
            _kernel(self.kernel)
        except SpecError as exc:
            raise SpecError(f"--kernel: {exc}") from exc

    def load(self) -> list[str]:
        _restorer(self.method, self.model, self.iters)  # an unknown method, in one line
        return []

    def __call__(self, image: np.ndarray, job: Job, progress: Progress | None = None) -> np.ndarray:
        from restorekit.arrays import finite_image
        from restorekit.deblurring import deblur
        from restorekit.estimate import estimate_sigma

        # NaN / inf refused (or filled) before the estimate, which would fail on them
        level = self.sigma if self.sigma is not None else float(estimate_sigma(finite_image(image, self.nan)[0]))
        _NOTES[self, job] = (f"{self.method}, noise {level * 255:.2f} "
                             f"{'given' if self.sigma is not None else 'estimated'}")
        restorer = _restorer(self.method, self.model, self.iters)  # holds pnp's prior, loaded once
        prior = restorer.prior(1 if image.ndim == 2 else image.shape[2]) if self.method == "pnp" else None
        return deblur(image, _kernel(self.kernel), level, self.method, model=prior, iters=self.iters,
                      border="circular" if self.circular else "pad", nan=self.nan)

    def note(self, job: Job) -> str:
        return _NOTES.pop((self, job), "")


@dataclass(frozen=True)
class DegradeTask:
    """``restorekit degrade``'s work: ``spec`` in 0-255 units, seeded per file from ``seed``
    and the file's name (``protocol="random"``), or the papers' ``RandomState(0)`` per image."""

    spec: str
    seed: int = 0
    protocol: str = "random"

    def check(self) -> None:
        if self.protocol not in ("random", "paper"):
            raise RestorekitError(f"unknown protocol {self.protocol!r} (expected random or paper)")
        _degradation(self.spec, self.protocol)

    def load(self) -> list[str]:
        return []

    def __call__(self, clean: np.ndarray, job: Job, progress: Progress | None = None) -> np.ndarray:
        from restorekit.degradations import degrade, paper_degrade
        from restorekit.seeds import file_seed

        degradation = _degradation(self.spec, self.protocol)
        if self.protocol == "paper":
            if not np.isfinite(clean).all():  # as degrade refuses them
                raise RestorekitError(f"image has {int((~np.isfinite(clean)).sum())} non-finite pixel value(s) "
                                      "(NaN or inf); degrade needs finite pixels")
            return paper_degrade(clean, degradation)
        return degrade(clean, degradation, seed=file_seed(self.seed, job.source.name))

    def note(self, job: Job) -> str:
        spec = _degradation(self.spec, self.protocol).spec
        return f"{spec}, " + ("paper protocol" if self.protocol == "paper" else f"seed {self.seed}")


# Per-process caches: each worker builds these once, whatever number of files it serves.

@lru_cache(maxsize=8)
def _kernel(spec: str) -> np.ndarray:
    from restorekit.degradations import load_kernel

    return load_kernel(spec)


@lru_cache(maxsize=8)
def _restorer(method: str, model: str | None, iters: int | None):
    from restorekit.deblurring.methods import DeblurRestorer

    return DeblurRestorer(method, model=model, iters=iters)  # loads its prior on first use, once


@lru_cache(maxsize=8)
def _degradation(spec: str, protocol: str):
    from restorekit.degradations import parse_spec
    from restorekit.degradations.paper import check_paper_spec

    return check_paper_spec(spec) if protocol == "paper" else parse_spec(spec)
