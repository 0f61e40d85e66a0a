"""Blur kernels from a short spec or a file: 2-D float32 arrays that sum to 1.

Parametric kernels:

- ``gaussian-1.6``: isotropic Gaussian, standard deviation 1.6 px, size ``2*ceil(3*std)+1``;
- ``gaussian-3.0-1.0-30``: anisotropic Gaussian, std 3.0 px along a direction 30 degrees
  counter-clockwise from the x axis, std 1.0 px across it;
- ``motion-15-45``: straight camera motion of 15 px at 45 degrees (counter-clockwise, the
  image's y axis pointing down), antialiased: each pixel weighs 1 - its distance to the
  path, as MATLAB's ``fspecial('motion')``; ``motion-15-0`` is a 1x15 box;
- ``uniform-9``: a 9x9 box.

Files (the path as typed, relative to the working folder):

- ``FILE.npy``; ``FILE.npz#NAME`` (or ``FILE.npz`` alone when it holds one array, or
  ``FILE.npz#N``, 1-based);
- ``FILE.png`` (any image restorekit reads; colour is averaged to gray), normalised to sum 1;
- ``FILE.mat#N`` / ``FILE.mat#NAME``: MATLAB v5 (scipy.io.loadmat) and v7.3 (HDF5, h5py).
  ``#N`` is the N-th kernel of the file, cell arrays counted in MATLAB's order, so that
  ``Levin09.mat#3`` is MATLAB's ``kernels{3}`` (also reachable as ``#kernels{3}``);
  ``#NAME`` names a variable that holds one kernel. HDF5 stores MATLAB's column-major
  arrays transposed; they are transposed back.

>>> load_kernel("gaussian-1.6").shape
(11, 11)
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from restorekit.errors import SpecError

_NUM = r"([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
_PATTERNS = {
    "gaussian": re.compile(rf"gaussian-{_NUM}"),
    "gaussian_aniso": re.compile(rf"gaussian-{_NUM}-{_NUM}-{_NUM}"),
    "motion": re.compile(rf"motion-{_NUM}-{_NUM}"),
    "uniform": re.compile(r"uniform-(\d+)"),
}
_FILE_SUFFIXES = (".npy", ".npz", ".png", ".mat")
_MAX_SIZE = 1025  # a kernel wider than this is a typo (gaussian-300), not a blur

KERNEL_HELP = (
    "gaussian-STD, gaussian-STD1-STD2-ANGLE, motion-LENGTH-ANGLE, uniform-SIZE, "
    "FILE.npy, FILE.npz#NAME, FILE.png or FILE.mat#N"
)


def load_kernel(spec: str) -> np.ndarray:
    """A kernel spec or file -> float32 2-D array that sums to 1. Raises :class:`SpecError`."""
    spec = spec.strip()
    if not spec:
        raise SpecError(f"empty kernel spec (expected {KERNEL_HELP})")
    parametric = _parametric(spec)
    kernel = parametric if parametric is not None else _from_file(spec)
    return normalize(kernel, spec)


def is_file_spec(spec: str) -> bool:
    """Whether ``spec`` names a kernel file (by its suffix) rather than a parametric kernel."""
    return Path(spec.split("#", 1)[0]).suffix.lower() in _FILE_SUFFIXES


def normalize(kernel: np.ndarray, name: str = "kernel") -> np.ndarray:
    """Check a kernel (2-D, finite, positive sum) and scale it to sum 1, as float32."""
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim > 2:
        k = k.squeeze()
    if k.ndim != 2 or k.size == 0:
        raise SpecError(f"{name}: a kernel must be a 2-D array, got shape {np.shape(kernel)}")
    if not np.isfinite(k).all():
        raise SpecError(f"{name}: kernel holds NaN or infinite values")
    total = k.sum()
    if not total > 0:
        raise SpecError(f"{name}: kernel sums to {total:g}; it must sum to a positive number")
    return np.ascontiguousarray(k / total, dtype=np.float32)


# ---------------------------------------------------------------------------------------
# parametric kernels


def _parametric(spec: str) -> np.ndarray | None:
    for kind, pattern in _PATTERNS.items():
        match = pattern.fullmatch(spec)
        if match:
            values = [float(v) for v in match.groups()]
            return {
                "gaussian": lambda std: gaussian_kernel(std, std, 0.0, spec),
                "gaussian_aniso": lambda s1, s2, angle: gaussian_kernel(s1, s2, angle, spec),
                "motion": lambda length, angle: motion_kernel(length, angle, spec),
                "uniform": lambda size: uniform_kernel(int(size), spec),
            }[kind](*values)
    if is_file_spec(spec):
        return None
    raise SpecError(f"unknown kernel {spec!r} (expected {KERNEL_HELP})")


def gaussian_kernel(std1: float, std2: float, angle: float = 0.0, name: str = "gaussian") -> np.ndarray:
    """Gaussian with std ``std1`` along ``angle`` degrees and ``std2`` across; size 2*ceil(3*max)+1."""
    if not (std1 > 0 and std2 > 0):
        raise SpecError(f"{name}: Gaussian standard deviations must be positive")
    radius = math.ceil(3 * max(std1, std2))
    _check_size(2 * radius + 1, name)
    y, x = np.mgrid[-radius : radius + 1, -radius : radius + 1].astype(np.float64)
    theta = math.radians(angle)
    # Coordinates along and across the direction; image y points down, angles turn counter-clockwise.
    u = x * math.cos(theta) - y * math.sin(theta)
    v = x * math.sin(theta) + y * math.cos(theta)
    k = np.exp(-0.5 * ((u / std1) ** 2 + (v / std2) ** 2))
    return k / k.sum()


def motion_kernel(length: float, angle: float, name: str = "motion") -> np.ndarray:
    """Linear motion of ``length`` px at ``angle`` degrees, antialiased.

    The path is the segment from -(length-1)/2 to +(length-1)/2 through the centre (pixel
    centres, as MATLAB's ``fspecial('motion')``); each pixel weighs ``max(0, 1 - d)`` with
    ``d`` its distance to the segment. So ``motion-15-0`` is a 1x15 box, ``motion-1-*`` the
    identity, and oblique paths spread smoothly over the pixels they cross.
    """
    if not length >= 1:
        raise SpecError(f"{name}: motion length must be at least 1 px")
    half = (length - 1) / 2
    theta = math.radians(angle)
    ux, uy = math.cos(theta), -math.sin(theta)  # unit direction; image y points down
    radius = math.ceil(half) + 1
    _check_size(2 * radius + 1, name)
    y, x = np.mgrid[-radius : radius + 1, -radius : radius + 1].astype(np.float64)
    along = np.clip(x * ux + y * uy, -half, half)  # the nearest point of the segment, as a position on it
    distance = np.hypot(x - along * ux, y - along * uy)
    k = np.clip(1.0 - distance, 0.0, None)
    return _trim(k / k.sum())


def uniform_kernel(size: int, name: str = "uniform") -> np.ndarray:
    """A ``size`` x ``size`` box."""
    if size < 1:
        raise SpecError(f"{name}: box size must be at least 1")
    _check_size(size, name)
    return np.full((size, size), 1.0 / (size * size))


def _trim(k: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Drop zero rows (and columns) in pairs, top with bottom, so that the centre stays the centre."""
    while k.shape[0] > 1 and np.abs(k[0]).max() < eps and np.abs(k[-1]).max() < eps:
        k = k[1:-1]
    while k.shape[1] > 1 and np.abs(k[:, 0]).max() < eps and np.abs(k[:, -1]).max() < eps:
        k = k[:, 1:-1]
    return k


def _check_size(size: int, name: str) -> None:
    if size > _MAX_SIZE:
        raise SpecError(f"{name}: kernel would be {size}x{size} px; at most {_MAX_SIZE} is allowed")


# ---------------------------------------------------------------------------------------
# kernel files


def _from_file(spec: str) -> np.ndarray:
    file, _, key = spec.partition("#")
    path = Path(file)
    if not path.is_file():
        raise SpecError(f"kernel file not found: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            if key:
                raise SpecError(f"{spec}: a .npy file holds one array; drop '#{key}'")
            return np.load(path, allow_pickle=False)
        if suffix == ".png":
            if key:
                raise SpecError(f"{spec}: a .png file holds one kernel; drop '#{key}'")
            return _from_image(path)
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as npz:
                entries = [(name, npz[name]) for name in npz.files]
        else:
            entries = _mat_entries(path)
    except SpecError:
        raise
    except Exception as exc:  # a corrupt file, whatever the reader raises
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "allow_pickle" in reason or "pickled" in reason:  # never suggest unpickling a file
            reason = f"not a NumPy {suffix} file of numbers"
        raise SpecError(f"cannot read kernel file {path} ({reason})") from exc
    return _pick(spec, path, key, entries)


def _pick(spec: str, path: Path, key: str, entries: list[tuple[str, np.ndarray]]) -> np.ndarray:
    """The entry named ``key``, or the ``key``-th (1-based), or the only one."""
    if not entries:
        raise SpecError(f"{path}: holds no kernel")
    names = [name for name, _ in entries]
    listing = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    if not key:
        if len(entries) == 1:
            return entries[0][1]
        raise SpecError(
            f"{path} holds {len(entries)} kernels; pick one with {path}#NAME or #1..#{len(entries)} ({listing})"
        )
    if key in names:
        return entries[names.index(key)][1]
    if key.isdigit():
        index = int(key)
        if 1 <= index <= len(entries):
            return entries[index - 1][1]
        raise SpecError(f"{spec}: index out of range; {path} holds kernels #1..#{len(entries)}")
    raise SpecError(f"{spec}: no kernel named {key!r} in {path} ({listing})")


def _from_image(path: Path) -> np.ndarray:
    from restorekit.errors import ImageReadError
    from restorekit.io import read_image

    try:
        image, _ = read_image(path)
    except ImageReadError as exc:
        raise SpecError(str(exc)) from exc
    return image.mean(axis=2) if image.ndim == 3 else image


def _mat_entries(path: Path) -> list[tuple[str, np.ndarray]]:
    """(name, 2-D array) for every numeric matrix in a .mat file, cell arrays flattened.

    A variable ``k`` that holds one matrix is named ``k``; the elements of a cell array
    ``kernels`` are named ``kernels{1}``, ``kernels{2}``... in MATLAB's column-major order.
    """
    import h5py

    # v7.3 files are HDF5 (after a 512-byte MATLAB header that HDF5 skips as a user block).
    return _mat73_entries(path) if h5py.is_hdf5(path) else _mat5_entries(path)


def _mat5_entries(path: Path) -> list[tuple[str, np.ndarray]]:
    import scipy.io

    entries: list[tuple[str, np.ndarray]] = []
    for name, value in scipy.io.loadmat(path).items():
        if name.startswith("__"):
            continue
        if isinstance(value, np.ndarray) and value.dtype == object:  # a cell array
            cells = [np.asarray(c) for c in value.flatten(order="F")]  # MATLAB's linear order
            entries.extend(_cell_entries(name, cells))
        elif _is_matrix(value):
            entries.append((name, value))
    return entries


def _mat73_entries(path: Path) -> list[tuple[str, np.ndarray]]:
    import h5py

    entries: list[tuple[str, np.ndarray]] = []
    with h5py.File(path, "r") as f:
        for name, item in f.items():
            if name.startswith("#") or not isinstance(item, h5py.Dataset):
                continue
            kind = item.attrs.get("MATLAB_class", b"")
            kind = kind.decode() if isinstance(kind, bytes) else str(kind)
            if kind == "cell":
                # HDF5 holds MATLAB's m x n array as n x m, so a C-order flatten is MATLAB's order.
                cells = [np.asarray(f[ref]).T for ref in item[()].flatten()]
                entries.extend(_cell_entries(name, cells))
            else:
                value = np.asarray(item[()])
                if _is_matrix(value):
                    entries.append((name, value.T))
    return entries


def _cell_entries(name: str, cells: list[np.ndarray]) -> list[tuple[str, np.ndarray]]:
    """A cell array's matrices, named ``name{i}`` by their MATLAB index (1-based)."""
    if len(cells) == 1:
        return [(name, cells[0])] if _is_matrix(cells[0]) else []
    return [(f"{name}{{{i}}}", c) for i, c in enumerate(cells, 1) if _is_matrix(c)]


def _is_matrix(value) -> bool:
    """A real numeric array with two dimensions larger than 0 (MATLAB's scalars are 1x1)."""
    return (
        isinstance(value, np.ndarray)
        and value.ndim == 2
        and value.size > 0
        and (np.issubdtype(value.dtype, np.floating) or np.issubdtype(value.dtype, np.integer))
        and value.dtype != np.bool_
    )
