"""The embedded stack's workers: the event-source runner and the schedule, in processes of
their own, so the API and the rule evaluation each get a core.

`python -m chalicelib.local worker --index I --count N` polls its share of the scan stream's
and the findings change log's shards (shard s belongs to worker s mod N); worker 0 also polls
the account-scan queue and runs the account sweep. A worker prints `ready` on stdout once it
polls; from then on its stdout (logs, metric documents) goes to its log, like its stderr. It
stops after its batches on SIGTERM and exits at once when its stdin closes: when the stack
stops or dies (even by kill -9), its workers go with it. What a killed worker had not
checkpointed is delivered again (at-least-once; the handlers are idempotent).
"""

from __future__ import annotations

import importlib
import logging
import os
import select
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

READY = "ready"
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


def lambda_context(function: str, max_runtime_ms: int = 60_000) -> Callable[[], Any]:
    """A factory of the Lambda context the deployed function `function` would get."""
    from chalice.local import LambdaContext

    name = f"pipeguard-dev-{function}"
    return lambda: LambdaContext(name, 512, max_runtime_ms=max_runtime_ms)


def worker_count() -> int:
    """How many worker processes the stack starts (`PIPEGUARD_WORKERS`, default 1)."""
    raw = os.environ.get("PIPEGUARD_WORKERS") or "1"
    try:
        count = int(raw)
    except ValueError:
        raise ValueError(f"PIPEGUARD_WORKERS must be a whole number, not {raw!r}") from None
    if not 1 <= count <= 16:
        raise ValueError(f"PIPEGUARD_WORKERS must be between 1 and 16, not {count}")
    return count


class WorkerProcesses:
    """The stack's worker processes: started and ready, or stopped."""

    def __init__(self, state_dir: Path, count: int) -> None:
        self.state_dir = state_dir
        self.count = count
        self._processes: list[subprocess.Popen] = []

    def start(self) -> None:
        """Start every worker and wait until each polls (OSError naming its log if not)."""
        for index in range(self.count):
            log_path = self.state_dir / f"worker-{index}.log"
            with log_path.open("a") as log_file:
                process = subprocess.Popen(
                    [sys.executable, "-m", "chalicelib.local", "worker",
                     "--index", str(index), "--count", str(self.count)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=log_file,
                    env={**os.environ, "PYTHONUNBUFFERED": "1"},
                    start_new_session=True,
                )  # fmt: skip
            self._processes.append(process)
        for index, process in enumerate(self._processes):
            self._wait_ready(process, self.state_dir / f"worker-{index}.log")

    def _wait_ready(self, process: subprocess.Popen, log_path: Path) -> None:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], READY_TIMEOUT)
        line = process.stdout.readline().decode(errors="replace").strip() if ready else ""
        if line != READY:
            raise OSError(f"a worker did not start (see {log_path})")

    def pids(self) -> list[int]:
        return [p.pid for p in self._processes]

    def stop(self) -> None:
        """Ask every worker to stop after its batches; kill one that takes too long."""
        for process in self._processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self._processes:
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                log.error("worker %d did not stop in %g s: killed", process.pid, STOP_TIMEOUT)
                process.kill()
                process.wait()
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    pipe.close()
        self._processes = []


def serve(index: int, count: int) -> int:
    """Run worker `index` of `count` until SIGTERM or until stdin closes."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    threading.Thread(
        target=lambda: (sys.stdin.buffer.read(), os._exit(0)), name="parent-watch", daemon=True
    ).start()

    from chalicelib.local.runner import EventSourceRunner
    from chalicelib.local.sqlite_streams import stream_sources

    app_module = importlib.import_module("app")
    shards = None if count == 1 else {s for s in range(stream_shards()) if s % count == index}
    queues: list[Any] = []
    sweeper = None
    if index == 0:
        from chalicelib.local.schedule import account_sweeper
        from chalicelib.local.sqlite_queues import queue_sources

        queues = queue_sources(app_module)
    runner = EventSourceRunner(
        stream_sources(app_module, shards), queues=queues, thread_per_shard=False
    )
    runner.start()
    delivery = None
    if index == 0:
        sweeper = account_sweeper()
        delivery = _alert_delivery(stop)
    print(READY, flush=True)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # nobody reads the pipe from now on
    while not stop.wait(0.5):
        pass
    if sweeper is not None:
        sweeper.stop()
    runner.stop(timeout=STOP_TIMEOUT - 5)
    if delivery is not None:
        delivery.join(5)
    return 0


def _alert_delivery(stop: threading.Event) -> threading.Thread | None:
    """Post the alert outbox to `PIPEGUARD_ALERT_WEBHOOK`, if one is set, until `stop`."""
    from chalicelib.alert_webhook import deliver_forever
    from chalicelib.config import settings
    from chalicelib.stores.backend import stores

    url = settings().alert_webhook
    if not url:
        return None
    thread = threading.Thread(
        target=deliver_forever, args=(stores().alerts, url, stop), name="alert-webhook", daemon=True
    )
    thread.start()
    return thread


def stream_shards() -> int:
    """The embedded stream's shard count."""
    from chalicelib.config import settings

    return settings().stream_shards
