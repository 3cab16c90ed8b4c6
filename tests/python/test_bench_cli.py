"""`python -m npfast bench` in its tiny mode: the report and plots are written and every
section either ran or said why it was skipped."""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from npfast._bench.limits import BandwidthNow, bandwidth_now
from npfast._bench.report import SECTIONS
from npfast._bench.section import NOISE, Limit, pct

# Under pytest-xdist (`make test` runs `pytest -n 2 --dist loadgroup`) this module's tests go to
# one worker, so that the module-scoped report (the tiny report, the longest setup of the run)
# is made once, not once per worker.
pytestmark = pytest.mark.xdist_group("bench_cli")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    proc = subprocess.run([sys.executable, "-m", "npfast", "bench", "--tiny", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc.stdout


def test_report_written(report):
    out, stdout = report
    md = (out / "report.md").read_text()
    assert md.startswith("# npfast benchmark report")
    assert "report:" in stdout


def test_every_section_ran_or_said_why(report):
    import importlib

    out, _ = report
    md = (out / "report.md").read_text()
    for name in SECTIONS:
        title = importlib.import_module(f"npfast._bench.{name}").TITLE
        assert f"## {title}" in md, name
        body = md.split(f"## {title}", 1)[1].split("\n## ", 1)[0]
        assert "| " in body or "Skipped: " in body, f"{name} has neither a table nor a reason"
        assert "failed:" not in body, f"{name} failed: {body[:500]}"
        # An optional anchor may be missing; an npfast function may not.
        assert "is not built" not in body, f"{name} lacks an npfast function: {body[:500]}"


def test_limits_measured(report):
    out, _ = report
    md = (out / "report.md").read_text()
    assert "peak fp32" in md and "GFLOP/s" in md and "first touch" in md
    # Measured at the start and at the end; the report uses the best and says what is above it.
    assert "| limit | start | end | used (best) | how |" in md
    assert "above 100% of the measured peak or bandwidth" in md
    # The cache edge the cliff checks use is measured, with the copy curve behind it.
    assert "Cache edge (measured): copies of up to" in md and "256 MiB" in md


def test_share_is_rendered_against_the_final_limit_and_marked_above_it():
    limit = Limit(100.0)
    cell = pct(150.0, limit)
    assert str(cell) == f"150% {NOISE}"
    limit.raise_to(50.0)  # a worse measurement does not lower the limit
    assert str(cell) == f"150% {NOISE}"
    limit.raise_to(200.0)
    assert str(cell) == "75%"
    assert pct(0.0, limit) == "-" and pct(1.0, None) == "-"
    assert str(pct(50.0, 100.0)) == "50%"
    # A rate counted in operations the code did not run (Winograd) is not noise above 100%.
    winograd = pct(150.0, 100.0, "Winograd")
    assert str(winograd) == "150% (Winograd)" and not winograd.over


def test_plots_written(report):
    pytest.importorskip("matplotlib")
    out, _ = report
    pngs = list(pathlib.Path(out).glob("*.png"))
    assert pngs, "no plot written"
    for p in pngs:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"({p.name})" in (out / "report.md").read_text()


def test_only_and_unknown_section(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "npfast", "bench", "--tiny", "--only", "nope",
                           "--out", str(tmp_path / "new")], capture_output=True, text=True)
    assert proc.returncode == 2 and "unknown section" in proc.stderr
    assert not (tmp_path / "new").exists()  # refused before the folder is made (probe22d)
    proc = subprocess.run([sys.executable, "-m", "npfast", "bench", "--tiny", "--only", "astype",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    md = (tmp_path / "report.md").read_text()
    assert "astype" in md and "conv-sweep" not in md


@pytest.mark.parametrize("args, says", [
    (["bench", "--threads", "1,,2"], "not a comma-separated list"),
    (["bench", "--threads", ","], "not a comma-separated list"),
    (["bench", "--threads", "2000"], "between 1 and 1024"),
    (["bench", "--threads", "0"], "between 1 and 1024"),
    (["bench", "--out", "FILE"], "--out: cannot write into the folder"),
    (["bench", "--out", ""], "--out: cannot write into the folder"),
    # probe22d: a folder that exists but takes no files failed after the whole report.
    (["bench", "--only", "limits", "--out", "/proc"], "--out: cannot write into the folder"),
])
def test_bad_arguments_exit_2_without_a_traceback(tmp_path, args, says):
    f = tmp_path / "a_file"
    f.write_text("")
    args = [str(f) if a == "FILE" else a for a in args]
    proc = subprocess.run([sys.executable, "-m", "npfast", *args], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and says in proc.stderr and "Traceback" not in proc.stderr


def test_plot_problems_are_said_and_config_into_a_closed_pipe():
    """probe22d: a plot that could not be written failed its whole section; matplotlib missing
    left the plots out without a word; `config | head -1` ended in a BrokenPipeError."""
    from npfast._bench import plots
    plots.PROBLEMS.clear()
    try:
        assert plots.line_plot("/proc/no/such.png", "t", "x", "y", {"npfast": ([1, 2], [1, 2])}) \
            is None
        assert "plot such.png not written" in " ".join(plots.PROBLEMS.values())
    finally:
        plots.PROBLEMS.clear()
    proc = subprocess.run(f"{sys.executable} -m npfast config | head -1", shell=True,
                          capture_output=True, text=True, timeout=120)
    assert proc.stdout.startswith("version") and "Traceback" not in proc.stderr


def test_help_names_the_sections_and_config_reports_a_bad_isa():
    proc = subprocess.run([sys.executable, "-m", "npfast", "bench", "--help"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "conv-sweep" in proc.stdout and "interference" in proc.stdout
    env = dict(os.environ, NPFAST_ISA="bogus")
    proc = subprocess.run([sys.executable, "-m", "npfast", "config"], capture_output=True,
                          text=True, timeout=120, env=env)
    assert proc.returncode == 2 and "NPFAST_ISA" in proc.stderr and "Traceback" not in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "npfast", "bench", "--only", "limits"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 2 and "NPFAST_ISA" in proc.stderr and "Traceback" not in proc.stderr


def test_scaling_and_interference_sections(report):
    out, _ = report
    md = (out / "report.md").read_text()
    scaling = md.split("## scaling:", 1)[1].split("\n## ", 1)[0]
    # Every case at 1 thread and at the next count, beside its anchor, and the cliff verdict.
    assert "| conv 3x3" in scaling and "fwd+bwd" in scaling and "| matmul" in scaling
    assert "No cliff" in scaling or "Cliffs" in scaling
    interference = md.split("## interference:", 1)[1].split("\n## ", 1)[0]
    assert "after the user's np.dot" in interference and "after a bigger np.dot" in interference
    assert "| alone |" in interference
    assert "helpers asleep" in interference


def test_threads_option_reaches_the_scaling_section(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "npfast", "bench", "--tiny", "--only", "scaling",
                           "--threads", "1,3", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    scaling = (tmp_path / "report.md").read_text().split("## scaling:", 1)[1]
    assert "| 3" in scaling and "| 2 |" not in scaling


def test_bandwidth_now_scales_the_limit_down_by_the_copy_never_up():
    bw, probe = Limit(80e9), Limit(100e9)
    now = BandwidthNow(bw, probe, 50e9)  # the same bytes copied at half the probe's rate
    assert float(now) == 40e9 and now.slowed == 2.0
    assert str(pct(30e9, now)) == "75%"
    assert float(BandwidthNow(bw, probe, 300e9)) == 80e9  # an in-cache copy: the limit
    probe.raise_to(200e9)  # the report's end measured a faster copy: rendered against it
    assert float(now) == 20e9
    assert not BandwidthNow(None, probe, 1e9) and not BandwidthNow(bw, probe, 0.0)
    # From a copy's samples: its fastest round, as the probe keeps its best; no copy, no probe
    # or no limit: the limit itself.
    assert float(bandwidth_now(bw, probe, 100, [4e-9, 2e-9, 8e-9])) == 80e9 * 50 / 200
    assert bandwidth_now(bw, None, 100, [1e-9]) is bw and bandwidth_now(bw, probe, 100, []) is bw


def test_ndimage_section(report):
    out, _ = report
    md = (out / "report.md").read_text()
    body = md.split("## ndimage:", 1)[1].split("\n## ", 1)[0]
    # Every filter at every tiny size, npfast beside SciPy (and OpenCV where installed), the
    # 3-D row and the cliff verdict.
    for label in ("gaussian_filter sigma 2", "uniform_filter 5", "sobel", "minimum_filter 5",
                  "maximum_filter 5", "gaussian_filter sigma 2 uint8", "uniform_filter 5 uint8",
                  "sobel uint8", "median_filter 3 float32", "median_filter 5 float32",
                  "median_filter 3 uint8", "median_filter 7 uint8", "median_filter 9 float32",
                  "gaussian_filter sigma 2 (3-D)"):
        assert f"| {label} |" in body, label
    assert "vs SciPy" in body and "vs OpenCV" in body
    # The same rounds' copy beside every memory-bound row, none beside a median's.
    cells = {line.split("|")[1].strip(): line.split("|")[-2].strip()
             for line in body.splitlines() if line.startswith("| ") and " ns" in line}
    assert cells["sobel"].endswith(" ns") and cells["median_filter 3 float32"] == "-"
    assert cells["sobel uint8"] == "-"
    assert "No cliff" in body or "Cliffs" in body
    assert "8, 16 cubed" in body  # the volume sweep of the memory-bound filters


def test_ndimage_cliffs_name_the_shape():
    """_cliffs flags a size slower per pixel than 1.3x the best smaller one, named as the sweep
    names its shapes (squares, or cubes for the volume sweep)."""
    import time

    from npfast._bench.ndimage import _cliffs

    inputs = {n: np.zeros((n, n, n), np.float32) for n in (4, 8)}

    def slow_at_8(x):  # 16x the per-voxel time at 8^3 (512 voxels) of 4^3's (64 voxels)
        time.sleep(1e-3 if x.shape[0] == 4 else 128e-3)

    found = _cliffs("f (3-D)", slow_at_8, inputs, 1, None, None, None,
                    side=lambda n: f"{n}^3")
    assert len(found) == 1 and found[0].startswith("f (3-D) at 8^3:") and "at 4^3" in found[0]
    assert _cliffs("g", lambda x: None, {4: inputs[4]}, 1, None, None, None) == []
