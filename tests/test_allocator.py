"""restorekit.allocator: large blocks come from the heap and stay there once freed."""

from __future__ import annotations

import subprocess
import sys

import pytest

# In a fresh interpreter (the setting is process-wide): where a 100 MB block lives while in
# use (mmap'd bytes, hblkhd) and how much freed memory malloc holds after it is gone (fordblks).
PROBE = """
import ctypes, sys
import numpy as np
from restorekit.allocator import keep_freed_memory
class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
done = keep_freed_memory() if sys.argv[1] == "keep" else None
block = np.ones(100 * 2**20, dtype=np.uint8)
mapped = libc.mallinfo2().hblkhd
del block
print(done, mapped, libc.mallinfo2().fordblks)
"""


def _probe(mode: str) -> tuple[str, int, int]:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True)
    done, mapped, kept = out.stdout.split()
    return done, int(mapped), int(kept)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_large_blocks_are_kept_for_reuse_instead_of_given_back():
    try:
        _, mapped, kept = _probe("default")
    except subprocess.CalledProcessError:
        pytest.skip("no glibc mallinfo2 here")
    assert mapped >= 100 * 2**20 and kept < 100 * 2**20  # the default: mmap'd, given back on free
    done, mapped, kept = _probe("keep")
    assert done == "True"
    assert mapped < 2**20 and kept >= 100 * 2**20


def test_the_restorekit_command_sets_it(monkeypatch):
    from restorekit.cli import main as cli

    calls = []
    monkeypatch.setattr(cli, "keep_freed_memory", lambda: calls.append(1))
    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert calls == [1]
