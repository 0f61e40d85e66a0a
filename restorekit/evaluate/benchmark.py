"""Methods x images -> records: the one loop behind ``restorekit evaluate`` and the demo.

The protocol is the published one (../shared/data/README.md): the clean image is read as
8-bit, degraded once, every method restores the *same* noisy image, the output is clipped
and rounded to 8 bits, and PSNR (data range 255) and SSIM are measured against the 8-bit
clean image, then averaged over images (mean of per-image PSNRs).

16-bit inputs are rounded to 8 bits *before* degradation, so that the image a method sees
and the reference it is scored against are the same picture; the scores are therefore
8-bit scores for every input, comparable with the published tables.

>>> from restorekit.evaluate import evaluate, resolve_method          # doctest: +SKIP
>>> records = evaluate([resolve_method("bm3d")], list_images("Set12"),  # doctest: +SKIP
...                    "gaussian:25", protocol="paper")
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from restorekit.errors import RestorekitError, SpecError

NOISY = "noisy"  # name of the pseudo-method that scores the degraded input itself
PROTOCOLS = ("paper", "random", "pairs")  # pairs: real noisy images beside their clean references
REAL = "real"  # the noise label of paired real data
SIGMA_MODES = ("given", "blind")


@dataclass
class Example:
    """One image's pictures, kept for the comparison figure (never written to JSON/CSV)."""

    name: str
    clean: np.ndarray  # uint8, HxW or HxWx3
    image: np.ndarray  # uint8, the method's clipped and rounded output (or the noisy input)
    psnr: float


@dataclass
class Record:
    """The scores of one method on one dataset under one degradation.

    ``seconds`` is the mean restoration time per image (the method's call only: no reading,
    degrading or scoring); ``megapixels_per_s`` is total pixels over total time. The
    ``noisy`` pseudo-method scores the degraded input, with no time (``None``).
    """

    method: str
    dataset: str
    noise: str
    protocol: str
    images: int
    psnr: float
    ssim: float
    seconds: float | None
    megapixels_per_s: float | None
    sigma: str = "given"  # "given" (the spec's sigma was handed to the method) or "blind"
    seed: int | None = None  # None under the paper protocol, whose seed is fixed
    crop: int = 0
    names: list[str] = field(default_factory=list)
    psnrs: list[float] = field(default_factory=list)
    ssims: list[float] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    example: Example | None = field(default=None, repr=False, compare=False)

    def to_dict(self, per_image: bool = True) -> dict[str, Any]:
        """Plain JSON-able dict (the example pictures left out)."""
        out: dict[str, Any] = {
            "method": self.method,
            "dataset": self.dataset,
            "noise": self.noise,
            "protocol": self.protocol,
            "sigma": self.sigma,
            "seed": self.seed,
            "crop": self.crop,
            "images": self.images,
            "psnr": self.psnr,
            "ssim": self.ssim,
            "seconds": self.seconds,
            "megapixels_per_s": self.megapixels_per_s,
        }
        if per_image:
            out.update(names=list(self.names), psnrs=list(self.psnrs), ssims=list(self.ssims), times=list(self.times))
        return out


# --------------------------------------------------------------------------- methods


def resolve_method(name: str, *, ensemble: int = 1) -> Any:
    """A method name -> a Restorer; ``ensemble`` > 1 runs networks (and ``auto``) as a
    self-ensemble of that many flips/rotations.

    ``name`` is a deblurring method (``pnp``, ``pnp:PRIOR``, ``wiener``, ``rl:ITERATIONS``;
    they need a blur in the spec), or anything :func:`restorekit.infer.as_restorer` takes: a
    classical method (``bm3d``, ``nlm``, ...), ``model:NAME|PATH``, a shipped model name, a
    ``.safetensors``/``.pth`` file or a training run folder.
    """
    from restorekit.deblurring import METHODS as DEBLUR_METHODS, deblur_method
    from restorekit.infer import as_restorer

    name = name.strip()
    if name == NOISY:
        raise RestorekitError(f"{NOISY!r} is the degraded input, always reported; it is not a method")
    if name.partition(":")[0].strip() in DEBLUR_METHODS:
        return deblur_method(name)
    try:
        return as_restorer(name, ensemble=ensemble)
    except RestorekitError as exc:
        if name.startswith("model:") or not name:
            raise
        from restorekit.classical import list_methods

        raise RestorekitError(
            f"unknown method {name!r}: not a classical method ({', '.join(list_methods())}) "
            f"nor a model ({exc})"
        ) from None


# --------------------------------------------------------------------------- degradation


def given_sigma(spec: str) -> float | None:
    """The noise level handed to methods in ``given`` mode: the spec's Gaussian sigma in
    [0, 1] where the spec has one fixed, positive Gaussian level (``gaussian:25``, or the
    noise after a blur, ``blur:k.npz#levin3+gaussian:2.55``), else None, i.e. blind: a range has
    no single level, and Poisson or salt-and-pepper noise is not described by one.
    """
    from restorekit.degradations import parse_spec

    levels = parse_spec(spec).noise_range  # (low, high) on the [0, 1] scale, None if not Gaussian
    if levels is None or levels[0] != levels[1] or levels[0] <= 0:
        return None
    return float(levels[0])


def default_protocol(spec: str) -> str:
    """``paper`` where the published protocol covers the spec (one fixed Gaussian sigma,
    optionally after a circular blur), else ``random``. Raises SpecError for a bad spec."""
    from restorekit.degradations import parse_spec
    from restorekit.degradations.paper import check_paper_spec

    parse_spec(spec)
    try:
        check_paper_spec(spec)
    except SpecError:
        return "random"
    return "paper"


def make_degrader(spec: str, protocol: str, seed: int = 0) -> Callable[[np.ndarray, str], np.ndarray]:
    """``(clean, file name) -> noisy`` for the protocol; the noisy image is not clipped.

    The random protocol seeds each file by :func:`restorekit.seeds.file_seed`, as
    ``restorekit degrade`` does: the same files and seed give the same noisy images.

    Raises RestorekitError at once for a bad spec or a spec the protocol does not cover,
    so that a command can check all its inputs before the first slow restoration.
    """
    if protocol not in PROTOCOLS[:2]:
        raise RestorekitError(f"unknown protocol {protocol!r}; choose from {', '.join(PROTOCOLS[:2])}")
    from restorekit.degradations import degrade, paper_degrade, parse_spec
    from restorekit.degradations.paper import check_paper_spec

    parse_spec(spec)
    if protocol == "paper":
        try:
            check_paper_spec(spec)
        except SpecError as exc:
            raise SpecError(f"{exc} (use the random protocol: --protocol random)") from None
        return lambda clean, name: paper_degrade(clean, spec)
    from restorekit.seeds import file_seed

    return lambda clean, name: degrade(clean, spec, seed=file_seed(seed, name))


# --------------------------------------------------------------------------- the loop


def _dataset_name(images: Sequence[Path]) -> str:
    parents = {Path(p).resolve().parent for p in images}
    return parents.pop().name if len(parents) == 1 else "images"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "x"


def pair_reader(noisy_dir: Path | str) -> Callable[[np.ndarray, str], np.ndarray]:
    """``(clean, file name) -> the real noisy image of that name in noisy_dir`` (paired data)."""
    from restorekit.io import read_image

    folder = Path(noisy_dir)

    def read(clean: np.ndarray, name: str) -> np.ndarray:
        noisy = read_image(folder / name)[0]
        if noisy.shape != clean.shape:
            raise RestorekitError(f"{folder / name} is {noisy.shape}, its clean reference {clean.shape}")
        return noisy

    return read


def paired_images(root: Path | str) -> tuple[list[Path], Path]:
    """``root/clean/*`` (with a ``root/noisy/`` file of each name) -> (clean paths, noisy folder)."""
    from restorekit.io import list_images

    root = Path(root)
    clean_dir, noisy_dir = root / "clean", root / "noisy"
    if not clean_dir.is_dir() or not noisy_dir.is_dir():
        raise RestorekitError(f"--pairs {root}: expected the folders {clean_dir} and {noisy_dir}")
    clean = list_images([clean_dir])
    missing = [p.name for p in clean if not (noisy_dir / p.name).is_file()]
    if missing:
        raise RestorekitError(f"--pairs {root}: no noisy image for {', '.join(missing[:3])}"
                              + (f" and {len(missing) - 3} more" if len(missing) > 3 else ""))
    return clean, noisy_dir


def evaluate(
    methods: Sequence[Any],
    images: Sequence[Path | str],
    spec: str,
    *,
    noisy_dir: Path | str | None = None,
    protocol: str = "paper",
    seed: int = 0,
    sigma: str = "given",
    crop: int = 0,
    progress: Callable[..., None] | None = None,
    save_images: Path | str | None = None,
    dataset: str | None = None,
    example_index: int | None = 0,
) -> list[Record]:
    """Run every method on every image degraded by ``spec``; one Record per method.

    With ``noisy_dir`` (paired real data: ``spec`` is then a label, protocol ``pairs``),
    each clean image's noisy version is the file of the same name there, and every method
    works blind: a real noise has no given level.

    The first record is the ``noisy`` pseudo-method (the input's own scores), so the gain of
    each method is visible. ``progress()`` is called once per (image, method) restoration.
    ``save_images`` writes the 8-bit noisy and restored images that were scored, as
    ``DIR/<dataset>/<noise>/<method>/<image>.png``. ``example_index`` picks the image whose
    pictures are kept on each record for the comparison figure (None: keep none).
    """
    from restorekit.io import read_image
    from restorekit.metrics import psnr, quantize8, ssim

    if sigma not in SIGMA_MODES:
        raise RestorekitError(f"unknown sigma mode {sigma!r}; choose from {', '.join(SIGMA_MODES)}")
    if not methods:
        raise RestorekitError("no method to evaluate")
    if not images:
        raise RestorekitError("no image to evaluate on")
    names = [str(getattr(m, "name", None) or getattr(m, "__name__", "method")) for m in methods]
    if len(set(names)) != len(names) or NOISY in names:
        raise RestorekitError(f"method names must be distinct and not {NOISY!r}: {', '.join(names)}")

    from restorekit.degradations import parse_spec

    degradation = parse_spec("none" if noisy_dir is not None else spec)
    if noisy_dir is None:
        spec = degradation.spec  # canonical text ("gaussian:25.0" -> "gaussian:25") for the records
    else:
        protocol, sigma = "pairs", "blind"
    for name, method in zip(names, methods):
        if getattr(method, "needs_kernel", False) and degradation.kernel is None:
            raise RestorekitError(f"{name} deblurs: the noise spec needs a blur, e.g. "
                                  "blur:motion-15-45+gaussian:2.55")
    # A deblurring method is told the kernel and the edge handling the spec used.
    blur_args = ({} if degradation.kernel is None else
                 dict(kernel=degradation.kernel, circular=degradation.blur_mode == "circular"))
    images = [Path(p) for p in images]
    dataset = dataset or _dataset_name(images)
    noisy_of = make_degrader(spec, protocol, seed) if noisy_dir is None else pair_reader(noisy_dir)
    level = given_sigma(spec) if sigma == "given" else None
    out_root = Path(save_images) / _slug(dataset) / _slug(spec) if save_images is not None else None

    rows = {name: _Scores() for name in [NOISY, *names]}
    for index, path in enumerate(images):
        clean, info = read_image(path)
        _check_reference(path, clean, info)
        clean8 = quantize8(clean)  # HxW or HxWx3 uint8: the reference, as the papers read it
        clean = clean8.astype(np.float32) / 255.0
        noisy = np.asarray(noisy_of(clean, path.name), dtype=np.float32)  # unclipped
        keep = example_index is not None and index == min(example_index, len(images) - 1)

        candidates = [(NOISY, None, noisy)]
        for name, method in zip(names, methods):
            given = noisy.copy()  # a method that works in place must not change what the next one sees
            start = time.perf_counter()
            try:
                restored = method(given, level, **blur_args) if getattr(method, "needs_kernel", False) else method(given, level)
            except RestorekitError as exc:  # e.g. an image too small for the method: say which image
                said = str(exc) if str(exc).startswith(name) else f"{name}: {exc}"
                raise RestorekitError(f"{path}: {said}") from exc
            seconds = time.perf_counter() - start
            candidates.append((name, seconds, restored))
            if progress is not None:
                progress()

        for name, seconds, output in candidates:
            output = np.asarray(output)
            if output.shape != clean8.shape:
                raise RestorekitError(
                    f"{name} returned shape {output.shape} for {path.name} of shape {clean8.shape}"
                )
            out8 = quantize8(output)
            score_psnr = float(psnr(clean8, out8, data_range=255, crop=crop))
            score_ssim = float(ssim(clean8, out8, data_range=255, crop=crop))
            rows[name].add(path.stem, score_psnr, score_ssim, seconds, clean8.shape[0] * clean8.shape[1])
            if keep:
                rows[name].example = Example(path.stem, clean8, out8, score_psnr)
            if out_root is not None:
                _save(out_root / _slug(name) / f"{path.stem}.png", out8)

    common = dict(dataset=dataset, noise=spec, protocol=protocol, sigma=sigma,
                  seed=seed if protocol == "random" else None, crop=crop)
    return [rows[name].record(name, **common) for name in [NOISY, *names]]


def _check_reference(path: Path, clean: np.ndarray, info) -> None:
    """Scores are 8-bit scores of single images: refuse, in one line, what they would misstate."""
    if not np.isfinite(clean).all():  # quantize8 would make NaN 0 and score it as if it were black
        raise RestorekitError(f"{path}: the clean image has {int((~np.isfinite(clean)).sum())} non-finite "
                              "pixel value(s) (NaN or inf); a reference must be finite")
    if getattr(info, "pages", 1) > 1:
        raise RestorekitError(f"{path} holds {info.pages} pages; evaluate scores single images (split the stack)")
    low, high = float(clean.min()), float(clean.max())
    if low < -1e-6 or high > 1 + 1e-6:  # float data in its own units (HDR, scientific)
        raise RestorekitError(f"{path}: values from {low:g} to {high:g}; evaluate scores images in [0, 1] at 8 bits")


def _save(path: Path, image8: np.ndarray) -> None:
    from restorekit.io import write_image

    path.parent.mkdir(parents=True, exist_ok=True)
    write_image(path, image8)  # uint8 in, 8-bit PNG out: the very pixels that were scored


@dataclass
class _Scores:
    """Per-image scores of one method, accumulated over the loop."""

    names: list[str] = field(default_factory=list)
    psnrs: list[float] = field(default_factory=list)
    ssims: list[float] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    pixels: int = 0
    example: Example | None = None

    def add(self, name: str, psnr: float, ssim: float, seconds: float | None, pixels: int) -> None:
        self.names.append(name)
        self.psnrs.append(psnr)
        self.ssims.append(ssim)
        if seconds is not None:
            self.times.append(seconds)
        self.pixels += pixels

    def record(self, method: str, **common) -> Record:
        total = sum(self.times)
        timed = bool(self.times)
        return Record(
            method=method,
            images=len(self.names),
            psnr=float(np.mean(self.psnrs)),
            ssim=float(np.mean(self.ssims)),
            seconds=total / len(self.times) if timed else None,
            megapixels_per_s=(self.pixels / 1e6 / total if total > 0 else None) if timed else None,
            names=self.names,
            psnrs=self.psnrs,
            ssims=self.ssims,
            times=self.times,
            example=self.example,
            **common,
        )
