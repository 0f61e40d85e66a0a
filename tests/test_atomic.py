"""Atomic writes: the usual file mode, no process-wide state touched, nothing half-written."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from restorekit import atomic
from restorekit.atomic import atomic_path, atomic_write


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_files_get_the_mode_open_would_give(tmp_path):
    path = atomic_write(tmp_path / "a.txt", "hello")
    assert path.read_text() == "hello"
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~_current_umask()


def test_the_umask_is_read_at_import_under_another_umask(tmp_path):
    code = ("import os, stat; os.umask(0o027)\n"
            "from restorekit.atomic import atomic_write\n"
            f"p = atomic_write({str(tmp_path / 'b.txt')!r}, b'x')\n"
            "print(oct(stat.S_IMODE(p.stat().st_mode)), oct(os.umask(0)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["0o640", "0o27"]


def test_writes_never_touch_the_umask(tmp_path, monkeypatch):
    before = _current_umask()

    def forbidden(mask):
        raise AssertionError("atomic_write changed the process umask")

    monkeypatch.setattr(os, "umask", forbidden)
    atomic_write(tmp_path / "c.bin", b"\x00\x01")
    with atomic_path(tmp_path / "d.txt") as tmp:
        tmp.write_text("d")
    monkeypatch.undo()
    assert _current_umask() == before


def test_the_fallback_reads_the_same_umask(monkeypatch):
    # Without /proc (macOS, Windows) the umask is read with os.umask, restored at once.
    before = _current_umask()

    def no_proc(*args, **kwargs):
        raise OSError("no /proc here")

    monkeypatch.setattr(atomic, "open", no_proc, raising=False)
    assert atomic._read_umask() == before == atomic._UMASK
    assert _current_umask() == before


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path):
    path = atomic_write(tmp_path / "e.txt", "old")
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["e.txt"]
