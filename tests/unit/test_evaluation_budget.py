"""The evaluation budget is CPU time of the evaluating thread: load on other threads or other
processes does not change the outcome, and an evaluation that is truly too expensive stops."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from chalicelib.engine.budget import CpuBudget
from chalicelib.engine.custom import evaluate_custom, parse_custom_rules
from chalicelib.engine.runner import evaluate, prepare
from chalicelib.kinds import ArtifactType
from chalicelib.parsers import parse

DOCKER = ArtifactType.DOCKERFILE
CFN = ArtifactType.CLOUDFORMATION


def busy_dockerfile(instructions: int) -> str:
    """A Dockerfile with many findings: rule evaluation dominates its cost, not parsing."""
    lines = ["FROM ubuntu:latest"]
    for i in range(instructions):
        lines += [
            f"RUN apt-get install -y pkg{i} && curl http://example.com/{i} | sh",
            f"ENV SECRET_{i}=x",
            f"ADD http://example.com/{i}.tgz /opt/",
            "USER root",
        ]
    return "\n".join(lines) + "\n"


def cpu_costs(call: Callable[[], Any], runs: int = 3) -> list[float]:
    """The CPU time (ms) of this thread for each of `runs` calls."""
    costs = []
    for _ in range(runs):
        started = time.thread_time()
        call()
        costs.append((time.thread_time() - started) * 1000)
    return costs


def cpu_cost(call: Callable[[], Any], runs: int = 3) -> float:
    """The least CPU time (ms) of this thread over `runs` calls."""
    return min(cpu_costs(call, runs))


def loaded_budget(call: Callable[[], Any]) -> float:
    """Twice the most CPU time `call` took under the current load: under load a thread does
    spend more CPU on the same work (its caches are evicted, handing over the interpreter costs
    system calls), but wall time grows far more, and that is what a budget must not count."""
    return 2 * max(cpu_costs(call, 2))


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    result = call()
    return result, (time.monotonic() - started) * 1000


@contextmanager
def gil_hog() -> Iterator[None]:
    """Another thread that holds the GIL in long C calls (big-integer products of about 60 ms):
    this thread then waits for the interpreter most of the time, on any machine."""
    stop = threading.Event()
    number = (1 << 1_000_000) - 12345

    def burn() -> None:
        while not stop.is_set():
            number * number  # noqa: B018 - the work is the point

    thread = threading.Thread(target=burn, daemon=True)
    thread.start()
    time.sleep(0.05)
    try:
        yield
    finally:
        stop.set()
        thread.join()


@contextmanager
def gc_paused() -> Iterator[None]:
    """No garbage collection meanwhile: its CPU time would count against the budget."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@contextmanager
def cpu_hog_processes(count: int) -> Iterator[None]:
    """`count` busy processes pinned, with this process, to one CPU: this process gets about a
    `count + 1`th of it."""
    original = os.sched_getaffinity(0)
    cpu = min(original)
    os.sched_setaffinity(0, {cpu})
    hogs: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(count):
            hog = subprocess.Popen([sys.executable, "-S", "-c", "while True: pass"])
            hogs.append(hog)
            os.sched_setaffinity(hog.pid, {cpu})
        time.sleep(0.2)  # past their start-up
        yield
    finally:
        for hog in hogs:
            hog.kill()
        for hog in hogs:
            hog.wait()
        os.sched_setaffinity(0, original)


def report_of(text: str, budget_ms: float) -> tuple[str | None, list[tuple]]:
    report = evaluate(DOCKER, text, "Dockerfile", budget_ms=budget_ms)
    return report.error, [(f.rule_id, f.line) for f in report.findings]


@pytest.fixture(scope="module")
def dockerfile() -> str:
    prepare([DOCKER])
    return busy_dockerfile(300)


def test_another_thread_hogging_the_interpreter_does_not_cut_evaluation_short(
    dockerfile: str,
) -> None:
    idle = report_of(dockerfile, budget_ms=60_000)
    assert idle[0] is None and len(idle[1]) > 600
    with gil_hog(), gc_paused():
        budget = loaded_budget(lambda: evaluate(DOCKER, dockerfile, "Dockerfile", budget_ms=60_000))
        loaded, wall_ms = timed(lambda: report_of(dockerfile, budget_ms=budget))
    assert loaded == idle
    assert wall_ms > budget, "the other thread did not slow this one down"


def test_other_processes_on_the_same_cpu_do_not_cut_evaluation_short(dockerfile: str) -> None:
    idle = report_of(dockerfile, budget_ms=60_000)
    with cpu_hog_processes(7), gc_paused():
        budget = loaded_budget(lambda: evaluate(DOCKER, dockerfile, "Dockerfile", budget_ms=60_000))
        loaded, wall_ms = timed(lambda: report_of(dockerfile, budget_ms=budget))
    assert loaded == idle
    assert wall_ms > budget, "the other processes did not slow this one down"


def test_an_evaluation_over_its_cpu_budget_is_stopped(dockerfile: str) -> None:
    full = cpu_cost(lambda: evaluate(DOCKER, dockerfile, "Dockerfile", budget_ms=60_000))
    # A full collection of a large test process costs more CPU than the budget.
    with gc_paused():
        started = time.thread_time()
        error, findings = report_of(dockerfile, budget_ms=full / 10)
        spent = (time.thread_time() - started) * 1000
    assert error is not None
    assert error.startswith(f"evaluation stopped after {full / 10:.0f} ms of CPU time, before")
    assert spent < full * 0.8


def test_custom_rules_are_bounded_by_cpu_time_too() -> None:
    template = "Resources:\n" + "".join(
        f"  Bucket{i}:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: acme-{i}\n"
        for i in range(200)
    )
    model = parse(CFN, template)
    rules = parse_custom_rules(
        [
            {
                "id": f"X-ACME-{i:03d}",
                "title": "Named buckets",
                "description": "Buckets are named after the team.",
                "severity": "high",
                "artifact_type": "cloudformation",
                "match": {"resource_types": ["AWS::S3::Bucket"]},
                "assert": {"path": "Properties.BucketName", "op": "regex", "value": "^acme-\\d+$"},
            }
            for i in range(10)
        ]
    )
    with gil_hog(), gc_paused():
        budget = loaded_budget(lambda: evaluate_custom(rules, CFN, model, budget_ms=60_000))
        (hits, notes), wall_ms = timed(lambda: evaluate_custom(rules, CFN, model, budget_ms=budget))
    assert (hits, notes) == ([], [])
    assert wall_ms > budget, "the other thread did not slow this one down"
    idle = cpu_cost(lambda: evaluate_custom(rules, CFN, model, budget_ms=60_000))
    hits, notes = evaluate_custom(rules, CFN, model, budget_ms=idle / 10)
    assert notes and "evaluation budget exceeded" in notes[0] and "CPU" in notes[0]


def test_the_budget_reads_the_cpu_clock_rarely_while_wall_time_is_within_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads = []
    real = time.thread_time_ns
    monkeypatch.setattr(time, "thread_time_ns", lambda: reads.append(1) or real())
    budget = CpuBudget(10_000)
    assert not any(budget.spent() for _ in range(10_000))
    assert len(reads) == 1  # at creation only
    spent = CpuBudget(0)
    assert spent.spent()
