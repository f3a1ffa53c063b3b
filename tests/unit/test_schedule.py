"""The embedded stack's timer for scheduled functions."""

from __future__ import annotations

import threading
import time

from chalicelib.local.schedule import Every


def test_every_calls_its_job_repeatedly_survives_errors_and_stops() -> None:
    calls: list[float] = []
    ran_three = threading.Event()

    def job() -> None:
        calls.append(time.monotonic())
        if len(calls) == 3:
            ran_three.set()
        if len(calls) == 1:
            raise RuntimeError("the next tick tries again")

    started = time.monotonic()
    timer = Every(0.05, job, "test-timer").start()
    assert ran_three.wait(5)
    timer.stop()
    count = len(calls)
    time.sleep(0.2)
    assert len(calls) == count  # stopped: no more calls
    assert calls[0] - started >= 0.05  # the first call after one interval
