"""Forked evaluation gives exactly what a sequential run gives, whatever happens to workers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from collectors.parallel import MIN_PER_WORKER, map_ordered, worker_count

ROOT = Path(__file__).resolve().parents[2]


def _square(n: int) -> int:
    return n * n


@pytest.mark.parametrize("workers", [1, 2, 3, 5])
def test_results_keep_the_input_order(workers: int) -> None:
    items = list(range(101))
    assert map_ordered(_square, items, workers=workers) == [n * n for n in items]


def test_more_workers_than_items_and_no_items() -> None:
    assert map_ordered(_square, [3, 4], workers=8) == [9, 16]
    assert map_ordered(_square, [], workers=4) == []


def test_a_failing_worker_leaves_its_share_to_the_parent() -> None:
    parent = os.getpid()

    def only_in_the_parent(n: int) -> int:
        if os.getpid() != parent:
            os._exit(3)  # the worker dies without a word
        return n + 1

    assert map_ordered(only_in_the_parent, list(range(20)), workers=3) == list(range(1, 21))


def test_an_error_raised_by_the_function_reaches_the_caller() -> None:
    def broken(n: int) -> int:
        if n == 7:
            raise ValueError("seven")
        return n

    with pytest.raises(ValueError, match="seven"):
        map_ordered(broken, list(range(10)), workers=2)


def test_small_scans_stay_in_one_process() -> None:
    assert worker_count(MIN_PER_WORKER - 1, cpus=8) == 1
    assert worker_count(MIN_PER_WORKER * 2, cpus=8) == 2
    assert worker_count(MIN_PER_WORKER * 100, cpus=2) == 2


def _scan(folder: Path, *extra: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "collectors", "scan", "--offline", "--format", "json", *extra]
        + [str(folder)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


def test_a_parallel_scan_reports_what_a_sequential_one_does(tmp_path: Path) -> None:
    for n in range(120):
        folder = tmp_path / f"svc{n:03d}"
        folder.mkdir()
        user = "" if n % 3 else "USER app\n"
        (folder / "Dockerfile").write_text(
            f"FROM python:3.{n % 12}\nRUN curl -s https://example.com/i.sh | sh\n{user}"
        )
    sequential = _scan(tmp_path, "--jobs", "1")
    parallel = _scan(tmp_path, "--jobs", "3")
    assert sequential["scanned"] == 120
    assert len(sequential["findings"]) > 120
    assert parallel == sequential


def test_jobs_must_be_a_positive_number(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "collectors", "scan", "--offline", "--jobs", "0", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 2
    assert "--jobs '0'" in proc.stderr
