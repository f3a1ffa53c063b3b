"""Scheduled functions of the embedded stack: what EventBridge rules call when deployed, run
on a timer thread (the due-account sweep, every `PIPEGUARD_SWEEP_SECONDS`, default 60)."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class Every:
    """Call `job` every `seconds` on a daemon thread, first after one interval; `stop` waits
    for a call in progress."""

    def __init__(self, seconds: float, job: Callable[[], Any], name: str) -> None:
        self.seconds = seconds
        self.job = job
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> Every:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.seconds):
            try:
                self.job()
            except Exception:  # the next tick tries again, like a scheduled Lambda
                log.exception("scheduled job %s failed", self._thread.name)

    def stop(self, timeout: float = 120) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)


def account_sweeper() -> Every:
    """The due-account sweep (`scan_due_accounts` when deployed), started."""
    from chalicelib.account_scans import sweep

    seconds = float(os.environ.get("PIPEGUARD_SWEEP_SECONDS") or 60)
    return Every(seconds, sweep, "account-sweep").start()
