"""The command line itself: a reader that stops early, `scan` without `--offline`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from collectors.cli import main
from tests.collectors.helpers import clean_env
from tests.conftest import REPO_ROOT


def _closed_early(*args: str, read: int) -> subprocess.CompletedProcess:
    """Run the collector with stdout on a real pipe whose reader takes `read` bytes and leaves
    (as `| head -c N` does); `read=0` closes the pipe before the collector writes at all."""
    reader, writer = os.pipe()
    if not read:
        os.close(reader)
    process = subprocess.Popen(
        [sys.executable, "-m", "collectors", *args],
        cwd=REPO_ROOT,
        env=clean_env({"PYTHONPATH": str(REPO_ROOT)}),
        stdout=writer,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(writer)
    if read:
        with os.fdopen(reader, "rb") as pipe:
            head = pipe.read(read)
        assert len(head) == read
    _, err = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, "", err)


@pytest.mark.parametrize("read", [0, 200])
def test_rules_into_a_pipe_closed_early_exits_quietly(read: int) -> None:
    result = _closed_early("rules", "--format", "json", read=read)  # ≈ 150 KB of JSON
    assert result.stderr == ""
    assert result.returncode == 0


def test_a_scan_into_a_pipe_closed_early_keeps_its_verdict(tmp_path: Path) -> None:
    result = _closed_early(
        "scan", "--format", "json", "--format", "sarif", "--output", "-", "--output",
        str(tmp_path / "scan.sarif"), "examples/", read=0,
    )  # fmt: skip
    assert "Traceback" not in result.stderr and "Broken pipe" not in result.stderr
    assert result.returncode == 1  # examples/ fails the policy: the closed pipe changes nothing
    assert json.loads((tmp_path / "scan.sarif").read_text())["runs"]  # other reports written


def test_scan_is_offline_without_the_flag(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO_ROOT)
    assert main(["scan", "--format", "json", "--no-step-summary", "examples/"]) == 1
    without = json.loads(capsys.readouterr().out)
    assert main(["scan", "--offline", "--format", "json", "--no-step-summary", "examples/"]) == 1
    assert json.loads(capsys.readouterr().out) == without
    assert without["scanned"] == 3 and without["findings"]


def test_scan_help_says_offline_is_the_default() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "collectors", "scan", "--help"],
        cwd=REPO_ROOT,
        env=clean_env({"PYTHONPATH": str(REPO_ROOT)}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert "the default and only mode" in " ".join(result.stdout.split())


def test_scan_under_a_profiler_keeps_the_profile(tmp_path: Path) -> None:
    """`python -m cProfile -m collectors scan`: the run ends normally, so the profiler (or a
    tracer such as coverage) still writes what it gathered."""
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM alpine:3.20\nUSER app\n")
    prof = tmp_path / "scan.prof"
    result = subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "collectors", "scan",
         "--offline", "--format", "json", "--no-step-summary", str(dockerfile)],
        cwd=REPO_ROOT,
        env=clean_env({"PYTHONPATH": str(REPO_ROOT)}),
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert json.loads(result.stdout)["scanned"] == 1
    assert prof.is_file() and prof.stat().st_size > 0


def test_scan_output_is_complete_when_the_process_leaves_early(tmp_path: Path) -> None:
    """Without a profiler the scan leaves without tearing the interpreter down: every byte of
    the report still reaches a pipe, and the exit code is the policy's."""
    for n in range(60):
        (tmp_path / f"d{n}").mkdir()
        (tmp_path / f"d{n}" / "Dockerfile").write_text("FROM alpine\n")
    result = subprocess.run(
        [sys.executable, "-m", "collectors", "scan", "--offline", "--format", "json",
         "--no-step-summary", str(tmp_path)],
        cwd=REPO_ROOT,
        env=clean_env({"PYTHONPATH": str(REPO_ROOT)}),
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    report = json.loads(result.stdout)
    assert result.returncode == 1  # DF-USER-001 is high, the default --fail-on
    assert report["scanned"] == 60 and len(report["findings"]) >= 60
