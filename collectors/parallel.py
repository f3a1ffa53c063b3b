"""Evaluate many artifacts on every core: forked workers share the loaded rules.

A folder scan of hundreds of files is CPU-bound, so on a machine with several cores the
artifacts are dealt round-robin to forked worker processes (the parent takes one share
itself). Each worker sends its reports back through a pipe; results come out in the order of
the input, exactly as a sequential run would give them. Where `fork` is not available, with
one core, or for a handful of files, everything runs in this process; a worker that fails
leaves its share to the parent, so the outcome never depends on the workers.
"""

from __future__ import annotations

import gc
import os
import pickle
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MIN_PER_WORKER = 48
"""Fewer artifacts than this per worker are not worth a fork."""
MAX_WORKERS = 8


def worker_count(items: int, cpus: int | None = None) -> int:
    """How many processes (the parent included) to spread `items` over."""
    if not hasattr(os, "fork"):
        return 1
    if cpus is None:  # the CPUs this process may run on, where the platform tells
        affinity = getattr(os, "sched_getaffinity", None)
        cpus = len(affinity(0)) if affinity else (os.cpu_count() or 1)
    return max(1, min(cpus, MAX_WORKERS, items // MIN_PER_WORKER))


def map_ordered(func: Callable[[T], R], items: Sequence[T], workers: int | None = None) -> list[R]:
    """`[func(item) for item in items]`, computed by `workers` processes (forked; by default
    `worker_count`)."""
    count = worker_count(len(items)) if workers is None else min(max(1, workers), len(items))
    if count <= 1 or not hasattr(os, "fork"):
        return [func(item) for item in items]
    children: list[tuple[int, int, int]] = []  # (share, pid, read end of its pipe)
    # what exists now (loaded rules, read artifacts) lives until the scan ends: keep it out of
    # the collector's passes, so neither side walks it, nor copies its pages by touching them
    gc.freeze()
    for share in range(1, count):
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: compute its share, send it, leave without cleanup
            os.close(read_fd)
            status = 0
            try:
                payload = pickle.dumps(
                    [func(item) for item in items[share::count]], pickle.HIGHEST_PROTOCOL
                )
                with os.fdopen(write_fd, "wb") as out:
                    out.write(payload)
            except BaseException:  # noqa: BLE001 - the parent redoes the share
                status = 1
            os._exit(status)
        os.close(write_fd)
        children.append((share, pid, read_fd))
    results: list[Any] = [None] * len(items)
    results[0::count] = [func(item) for item in items[0::count]]
    for share, pid, read_fd in children:
        with os.fdopen(read_fd, "rb") as source:
            data = source.read()
        _, status = os.waitpid(pid, 0)
        part = _unpickle(data) if status == 0 else None
        expected = len(range(share, len(items), count))
        if part is None or len(part) != expected:
            part = [func(item) for item in items[share::count]]
        results[share::count] = part
    return results


def _unpickle(data: bytes) -> list[Any] | None:
    try:
        part = pickle.loads(data)  # noqa: S301 - written by our own forked child
    except Exception:  # noqa: BLE001 - a broken share is recomputed
        return None
    return part if isinstance(part, list) else None
