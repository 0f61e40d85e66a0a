"""One seed derivation for every random draw restorekit makes.

Every stream is ``numpy.random.SeedSequence`` of the user's seed and a tuple of keys that
say what the stream is for: ``("file", "baboon.png")`` for the noise added to that file by
``restorekit degrade`` and by ``restorekit evaluate --protocol random`` (so both make the
same noisy image from the same file and seed), ``("train", step, rank)`` for a training
batch, ``("val", name)`` for a validation image. SeedSequence hashes the whole tuple, so
neighbouring seeds, steps or files give unrelated streams (``seed + index`` would make
file 1 of seed 0 equal file 0 of seed 1). The paper protocol keeps its own fixed rule
(``np.random.seed(0)`` per image, :mod:`restorekit.degradations.paper`).

>>> derive_seed(0, "file", "a.png") == derive_seed(0, "file", "a.png")
True
>>> derive_seed(0, "file", "a.png") != derive_seed(1, "file", "a.png")
True
"""

from __future__ import annotations

import hashlib

import numpy as np

from restorekit.errors import RestorekitError

SCHEME = "seedseq-v1"  # recorded in checkpoints: a run resumes only under the scheme it began with
Key = int | str


def _words(seed: int, keys: tuple[Key, ...]) -> list[int]:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise RestorekitError(f"seed must be a non-negative whole number, got {seed!r}")
    words = [int(seed) & 0xFFFFFFFF, int(seed) >> 32]
    for key in keys:
        if isinstance(key, str):  # a stable hash (Python's hash() changes between processes)
            digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
            words += [1, int.from_bytes(digest[:4], "little"), int.from_bytes(digest[4:], "little")]
        elif isinstance(key, (int, np.integer)) and not isinstance(key, bool) and key >= 0:
            words += [0, int(key) & 0xFFFFFFFF, int(key) >> 32]
        else:
            raise RestorekitError(f"seed keys are non-negative integers or strings, got {key!r}")
    return words


def seed_sequence(seed: int, *keys: Key) -> np.random.SeedSequence:
    return np.random.SeedSequence(_words(seed, keys))


def derive_seed(seed: int, *keys: Key) -> int:
    """A 63-bit integer seed for the stream ``(seed, *keys)``."""
    return int(seed_sequence(seed, *keys).generate_state(1, np.uint64)[0] >> 1)


def numpy_rng(seed: int, *keys: Key) -> np.random.Generator:
    return np.random.default_rng(seed_sequence(seed, *keys))


def torch_generator(seed: int, *keys: Key, device: str = "cpu"):
    import torch

    return torch.Generator(device=device).manual_seed(derive_seed(seed, *keys))


def file_seed(seed: int, name: str) -> int:
    """The seed of the noise added to the file called ``name`` (``degrade`` and ``evaluate`` alike)."""
    return derive_seed(seed, "file", name)
