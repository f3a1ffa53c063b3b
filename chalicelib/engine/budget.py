"""An evaluation budget in CPU time of the evaluating thread, so that load elsewhere (other
threads, other processes, a busy host) never changes whether an artifact is fully evaluated.

Reading the thread's CPU clock is a system call (about 1 µs on Linux), while the monotonic clock
is read in user space (about 0.1 µs). A thread cannot spend more CPU time than the wall time that
passes, so the budget reads the monotonic clock and consults the CPU clock only once wall time
alone could have used up what is left: on an idle machine the CPU clock is read once per budget,
under load a few times more.
"""

from __future__ import annotations

import time

__all__ = ["CpuBudget"]


class CpuBudget:
    """`milliseconds` of CPU time of the calling thread, counted from creation."""

    __slots__ = ("milliseconds", "_limit_ns", "_start_ns", "_next_check")

    def __init__(self, milliseconds: float) -> None:
        self.milliseconds = milliseconds
        self._limit_ns = max(0, int(milliseconds * 1_000_000))
        self._start_ns = time.thread_time_ns()
        self._next_check = time.monotonic_ns() + self._limit_ns

    def spent(self) -> bool:
        """True once the thread has used the budget's CPU time (checked cheaply)."""
        now = time.monotonic_ns()
        if now < self._next_check:
            return False
        left = self._limit_ns - (time.thread_time_ns() - self._start_ns)
        if left <= 0:
            return True
        self._next_check = now + left
        return False

    def used_ms(self) -> float:
        """CPU milliseconds used so far (one read of the thread's CPU clock)."""
        return (time.thread_time_ns() - self._start_ns) / 1_000_000
