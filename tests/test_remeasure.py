"""scripts/remeasure.py runs the figure-producing commands of a shipped model, each into a file."""

from __future__ import annotations

import sys

import pytest
from conftest import load_script


def test_commands_cover_each_page_figure_for_the_right_test_set():
    script = load_script("remeasure")
    gray, color = script.commands("gray"), script.commands("color")
    assert list(gray) == ["gray-given", "gray-blind", "gray-x2", "gray-x8", "gray-auto", "gray-nam25"]
    assert "--blind" in gray["gray-blind"] and "--blind" not in gray["gray-given"]
    assert all("../shared/data/test/BSD68" in cmd for name, cmd in gray.items() if name != "gray-nam25")
    assert all("../shared/data/test/CBSD68" in cmd for name, cmd in color.items() if name != "color-nam25")
    assert "--gray" in gray["gray-nam25"] and "--gray" not in color["color-nam25"]
    assert gray["gray-x8"][gray["gray-x8"].index("--ensemble") + 1] == "8"


def test_dry_run_prints_and_runs_nothing(tmp_path, monkeypatch, capsys):
    script = load_script("remeasure")
    monkeypatch.setattr(sys, "argv", ["remeasure.py", "gray", "--out", str(tmp_path / "m"), "--dry-run"])
    script.main()
    assert "gray-x2: " in capsys.readouterr().out and not (tmp_path / "m").exists()


def test_outputs_land_in_files_and_a_failure_stops_with_one_line(tmp_path, monkeypatch):
    script = load_script("remeasure")
    ok, bad = [sys.executable, "-c", "print('31.61')"], [sys.executable, "-c", "import sys; sys.exit(3)"]
    monkeypatch.setattr(script, "commands", lambda which: {"a": ok, "b": bad, "c": ok})
    monkeypatch.setattr(sys, "argv", ["remeasure.py", "gray", "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match=r"error: b failed \(exit 3\)"):
        script.main()
    assert (tmp_path / "a.txt").read_text() == "31.61\n" and not (tmp_path / "c.txt").exists()
