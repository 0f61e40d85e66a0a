"""What the page asks for (:class:`Settings`), checked at upload, and the work a job does.

Everything here is plain library calls: ``restorekit.denoise`` / ``restorekit.deblur`` on the
image, ``restorekit.psnr`` / ``ssim`` against an optional clean reference, and
``restorekit.io.write_image`` for a result of the input's format and bit depth. No web
framework is imported, so that this module is tested without one.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from restorekit.errors import RestorekitError

TASKS = ("denoise", "deblur")
NOISE_MODES = ("auto", "gaussian", "real")
# The kernels the page offers by name (restorekit.degradations.kernels); others by spec or file.
KERNELS = (
    ("gaussian-1.0", "Gaussian, std 1.0 px"),
    ("gaussian-1.6", "Gaussian, std 1.6 px"),
    ("gaussian-2.5", "Gaussian, std 2.5 px"),
    ("motion-9-0", "Motion, 9 px horizontal"),
    ("motion-15-45", "Motion, 15 px at 45 degrees"),
    ("motion-21-90", "Motion, 21 px vertical"),
    ("uniform-5", "Box, 5x5"),
    ("uniform-9", "Box, 9x9"),
)
KERNEL_FILE_SUFFIXES = (".npy", ".npz", ".png", ".mat")
# Saved names inside a job's folder: the client's file name is never a path.
FILE_FIELDS = {"image": "input", "reference": "reference", "kernel_file": "kernel"}
_SUFFIX_OF_FORMAT = {"png": ".png", "jpeg": ".jpg", "tiff": ".tif", "bmp": ".bmp"}


@dataclass(frozen=True)
class Settings:
    """One job's request, checked: every value here is usable as is."""

    task: str = "denoise"  # denoise | deblur
    noise: str = "auto"  # auto | gaussian | real (denoise only)
    level: float | None = None  # Gaussian noise level on the 0-255 scale (noise == "gaussian")
    strength: float = 1.0  # 0..2, denoise only
    ensemble: int = 1  # flips/rotations averaged (1 or 8 from the page), denoise only
    kernel: str | None = None  # a parametric kernel spec (deblur, when no kernel file)
    kernel_entry: str = ""  # which kernel of an .npz / .mat file: a name or 1-based number


def parse_settings(fields: dict[str, str], has_kernel_file: bool) -> Settings:
    """The form's fields -> :class:`Settings`; a bad value raises a one-line RestorekitError."""
    task = fields.get("task", "denoise").strip()
    if task not in TASKS:
        raise RestorekitError(f"unknown task {task!r} (expected {' or '.join(TASKS)})")
    strength = _number(fields.get("strength", "1"), "strength", 0.0, 2.0)
    if task == "denoise":
        noise = fields.get("noise", "auto").strip()
        if noise not in NOISE_MODES:
            raise RestorekitError(f"unknown noise type {noise!r} (expected {', '.join(NOISE_MODES)})")
        level = _number(fields.get("level", ""), "noise level", 0.0, 255.0) if noise == "gaussian" else None
        from restorekit.infer.apply import check_ensemble

        text = fields.get("ensemble", "1").strip()
        ensemble = check_ensemble(int(text) if text.isdigit() else text)
        return Settings(task, noise, level, strength, ensemble=ensemble)

    entry = fields.get("kernel_entry", "").strip()
    if entry and not re.fullmatch(r"[A-Za-z0-9_.{}-]{1,64}", entry):
        raise RestorekitError("the kernel's entry must be a name or a number, such as levin3 or 3")
    if has_kernel_file:
        return Settings(task, strength=strength, kernel_entry=entry)
    spec = fields.get("kernel", "").strip()
    if not spec:
        raise RestorekitError("choose a blur kernel, or upload a kernel file")
    from restorekit.degradations.kernels import is_file_spec, load_kernel

    if is_file_spec(spec) or "#" in spec or "/" in spec or "\\" in spec:
        # The server never opens a path typed into the page: files come as uploads.
        raise RestorekitError(f"{spec!r}: upload a kernel file instead of naming one")
    load_kernel(spec)  # a bad spec fails now, with the library's message
    return Settings(task, strength=strength, kernel=spec)


def check_upload(settings: Settings, files: dict[str, tuple[str, Path]]) -> dict:
    """Read what was uploaded once, so that a bad file is refused now, not after the queue.

    Returns what the page shows about the image (size, channels, bit depth, format).
    """
    from restorekit.io import read_image

    if "image" not in files:
        raise RestorekitError("no image in the upload")
    name, path = files["image"]
    image, info = _read(path, name, read_image)
    if "reference" in files:
        ref_name, ref_path = files["reference"]
        reference, _ = _read(ref_path, ref_name, read_image)
        if reference.shape != image.shape:
            raise RestorekitError(f"the reference {ref_name} is {_shape(reference)} but the image is "
                                  f"{_shape(image)}; PSNR/SSIM need the same size and channels")
    if settings.task == "deblur":
        kernel = load_uploaded_kernel(settings, files)
        if kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]:
            raise RestorekitError(f"the kernel ({kernel.shape[1]}x{kernel.shape[0]}) is larger than the image")
    channels = 1 if image.ndim == 2 else image.shape[2]
    return {"width": int(image.shape[1]), "height": int(image.shape[0]), "channels": channels,
            "bits": int(np.dtype(info.dtype).itemsize * 8), "format": info.format,
            "alpha": info.alpha is not None}


def load_uploaded_kernel(settings: Settings, files: dict[str, tuple[str, Path]]) -> np.ndarray:
    from restorekit.degradations.kernels import load_kernel

    if "kernel_file" not in files:
        return load_kernel(settings.kernel)
    name, path = files["kernel_file"]
    if path.suffix not in KERNEL_FILE_SUFFIXES:
        raise RestorekitError(f"{name}: a kernel file must be {', '.join(KERNEL_FILE_SUFFIXES)}")
    spec = str(path) + (f"#{settings.kernel_entry}" if settings.kernel_entry else "")
    try:
        return load_kernel(spec)
    except RestorekitError as exc:  # name the user's file, not our private folder
        raise RestorekitError(str(exc).replace(str(path), name)) from None


def process(job, report) -> None:
    """The worker's task for one job: restore, measure, write the result and two previews.

    ``job.files`` maps the upload's fields to (client's name, saved path); the result goes
    to ``job.folder`` and what the page shows to ``job.result``.
    """
    import restorekit as rk
    from restorekit.io import read_image, write_image

    settings: Settings = job.settings
    files = job.files
    report("reading", 0.05)
    image, info = _read(files["image"][1], files["image"][0], read_image)  # float32, HxW or HxWx3
    notes = []
    if settings.task == "denoise":
        report("denoising", 0.15)
        sigma = settings.level / 255 if settings.noise == "gaussian" else None
        model = None  # automatic: the noise identified, then the model and level chosen
        if settings.noise == "real":
            from restorekit.infer.auto import real_model

            model = real_model(1 if image.ndim == 2 or image.shape[2] < 3 else 3)  # alpha is not a channel here
            notes.append(f"real photo: {model}, its level found by its own residual" if model else
                         "real photo: no real-noise model installed; automatic choice")
        restored = _denoise(image, sigma, settings.strength, model=model, ensemble=settings.ensemble,
                            progress=lambda done, total: report("denoising", 0.15 + 0.65 * done / max(total, 1)))
    else:
        report("deblurring", 0.15)
        kernel = load_uploaded_kernel(settings, files)
        restored = rk.deblur(image, kernel)  # plug-and-play, noise level estimated
    restored = np.clip(restored, 0, 1).astype(np.float32, copy=False)

    metrics = {}
    if "reference" in files:
        report("measuring", 0.8)
        reference, _ = _read(files["reference"][1], files["reference"][0], read_image)
        metrics = {"psnr_before": _finite(rk.psnr(reference, image)), "psnr_after": _finite(rk.psnr(reference, restored))}
        if min(image.shape[:2]) >= 7:
            metrics.update(ssim_before=rk.ssim(reference, image), ssim_after=rk.ssim(reference, restored))

    report("saving", 0.9)
    result = job.folder / ("result" + _SUFFIX_OF_FORMAT[info.format])
    write_image(result, restored, info)  # the input's format, bit depth and alpha
    write_image(job.folder / "before.png", image, dtype=np.uint8)  # what the browser shows
    write_image(job.folder / "after.png", restored, dtype=np.uint8)
    job.result_path = result
    job.result = {**job.result, "metrics": metrics, "notes": notes, "download_name": download_name(job.name, info.format)}


def _denoise(image: np.ndarray, sigma: float | None, strength: float, progress=None,
             model: str | None = None, ensemble: int = 1) -> np.ndarray:
    """The one call into the library's denoiser: ``model`` (None: the automatic choice, or the
    shipped default model when ``sigma`` is given), tiled above 2 megapixels by the library
    itself, ``progress(done, total)`` over those tiles, ``ensemble`` flips/rotations averaged."""
    import restorekit as rk

    return rk.denoise(image, model=model, sigma=sigma, strength=strength, progress=progress, ensemble=ensemble)


def download_name(name: str, fmt: str) -> str:
    """``photo.jpeg`` -> ``photo-restored.jpeg``: the input's stem, a suffix of its format."""
    path = Path(name)
    suffix = path.suffix.lower()
    same_format = {"jpeg": (".jpg", ".jpeg"), "tiff": (".tif", ".tiff")}.get(fmt, (_SUFFIX_OF_FORMAT[fmt],))
    stem = re.sub(r"[^\w.-]+", "_", path.stem if suffix else path.name).strip("._") or "image"
    return f"{stem[:100]}-restored{suffix if suffix in same_format else _SUFFIX_OF_FORMAT[fmt]}"


def _read(path: Path, name: str, read_image):
    """``read_image`` with the user's file name in its message instead of our private path."""
    try:
        return read_image(path)
    except RestorekitError as exc:
        message = str(exc).replace(str(path), name)
        raise RestorekitError(message if message.startswith(name) else f"{name}: {message}") from None


def _number(text: str, what: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise RestorekitError(f"the {what} must be a number, got {text[:20]!r}") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise RestorekitError(f"the {what} must be between {low:g} and {high:g}, got {value:g}")
    return value


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None  # identical images: no PSNR to show


def _shape(image: np.ndarray) -> str:
    channels = "gray" if image.ndim == 2 else f"{image.shape[2]} channels"
    return f"{image.shape[1]}x{image.shape[0]} ({channels})"
