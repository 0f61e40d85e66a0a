"""scripts/plot_training.py reads training logs and plots validation against patches or CPU time."""

from __future__ import annotations

import sys

import pytest
from conftest import load_script

LOG = """step,patches,loss,lr,val_psnr,patches_per_s,elapsed_s,cpu_s
200,600,-28.8,0.0001,,13.1,45.7,45.4
1000,3000,-28.9,0.0001,28.78,13.0,240.0,220.0
2000,6000,-29.0,0.0001,28.81,13.0,480.0,450.0
"""


def test_curve_reads_only_validated_steps_on_either_axis(tmp_path):
    plot = load_script("plot_training")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "log.csv").write_text(LOG)
    assert plot.curve(tmp_path / "run") == [(3000.0, 28.78), (6000.0, 28.81)]
    assert plot.curve(tmp_path / "run", "cpu_s") == [(220.0, 28.78), (450.0, 28.81)]


def test_a_clock_that_restarted_at_a_resume_keeps_counting_up(tmp_path):
    plot = load_script("plot_training")
    restarted = LOG + "2200,6600,-29.0,0.0001,,13.0,40.0,45.0\n3000,9000,-29.1,0.0001,28.83,13.0,200.0,230.0\n"
    (tmp_path / "old.csv").write_text(restarted)
    assert plot.curve(tmp_path / "old.csv", "cpu_s") == [(220.0, 28.78), (450.0, 28.81), (680.0, 28.83)]
    assert plot.curve(tmp_path / "old.csv")[-1] == (9000.0, 28.83)  # patches never restart


def test_cpu_plot_prints_minutes_and_writes_the_figure(tmp_path, monkeypatch, capsys):
    plot = load_script("plot_training")
    (tmp_path / "stage.csv").write_text(LOG)
    out = tmp_path / "fig.png"
    monkeypatch.setattr(sys, "argv", ["plot_training.py", "--cpu", str(tmp_path / "stage.csv"), "-o", str(out)])
    plot.main()
    assert "stage: 4 min: 28.78, 8 min: 28.81" in capsys.readouterr().out
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_labels_name_the_curves_one_per_run(tmp_path, monkeypatch, capsys):
    plot = load_script("plot_training")
    (tmp_path / "a.csv").write_text(LOG)
    (tmp_path / "b.csv").write_text(LOG)
    argv = ["plot_training.py", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "-o", str(tmp_path / "f.png")]
    monkeypatch.setattr(sys, "argv", argv + ["--label", "grown", "--label", "same size, 2 blocks"])
    plot.main()
    out = capsys.readouterr().out
    assert "grown: 3k: 28.78" in out and "same size, 2 blocks: 3k" in out
    monkeypatch.setattr(sys, "argv", argv + ["--label", "only one"])
    with pytest.raises(SystemExit):
        plot.main()
    assert "1 --label for 2 runs" in capsys.readouterr().err
