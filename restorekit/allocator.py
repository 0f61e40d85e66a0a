"""Keep freed memory in the process: large tensors then cost no page faults when they come back.

glibc's malloc hands every block above a threshold (128 KiB, rising with use up to 32 MiB) to
the kernel with ``mmap`` and gives it back on free, so a network that makes a fresh 67 MB
activation per layer (DnCNN on a 512x512 image) has the kernel fault in and zero every page
of it, layer after layer: on two idle cores DnCNN-17 took 1.8x as long on a 512x512 image
(2.95 s against 1.68 s) and the shipped FastUNets 1.3x (``benchmarks/allocator.py``). Served
from the heap instead, and kept there up to :data:`KEEP` once freed, the next layer's tensor
reuses warm pages.

:func:`keep_freed_memory` is called where restorekit owns the process (the ``restorekit``
command, its worker processes and Ray actors, the demo, the benchmarks); a program that
imports restorekit may call it too. It changes nothing on other C libraries (macOS,
Windows, musl) and is safe to call twice; ``RESTOREKIT_KEEP_FREED=0`` in the environment
turns it off. Blocks the heap cannot hold still fall back to ``mmap``. The price is memory:
up to :data:`KEEP` of freed memory is held for reuse instead of returned at once, and a
fragmented heap peaks higher (``benchmarks/memory.py --auto``, run as is and under
``RESTOREKIT_KEEP_FREED=0``: docs/models.md, "Speed and memory").
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

KEEP = 1 << 28  # bytes of freed memory at the top of the heap kept for reuse (M_TRIM_THRESHOLD)
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4  # glibc's mallopt parameters (malloc.h)


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to serve large blocks from the heap and keep freed ones. True if done."""
    if not sys.platform.startswith("linux") or os.environ.get("RESTOREKIT_KEEP_FREED") == "0":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, KEEP))
