"""What `submit` shows on stderr while it works and waits for the verdict.

On a terminal, one status line is rewritten in place. Elsewhere (a CI log), plain lines: one
when the scan is accepted, then one when the scan's progress changes, at most every 5 s, one
every 30 s while nothing changes, and always the last state.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

PLAIN_EVERY = 5.0  # seconds between two lines about a changing scan
PLAIN_QUIET = 30.0  # seconds without a line while nothing changes
_FINAL = ("complete", "failed")


class Progress:
    def __init__(
        self,
        stream: TextIO | None = None,
        tty: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.clock = clock
        self.started = clock()
        self._shown = False  # a terminal line is on screen
        self._last_at: float | None = None  # when the last plain line was written
        self._last_state: tuple[Any, ...] | None = None

    def note(self, text: str) -> None:
        """A step of the run (submitting, uploading)."""
        if self.tty:
            self._rewrite(f"pipeguard: {text}")
        else:
            self._line(f"pipeguard: {text}")

    def accepted(self, accepted: dict[str, Any], status_url: str) -> None:
        """The service took the scan: a line that stays, in both modes."""
        self.done()
        self._line(
            f"pipeguard: scan {accepted.get('scan_id', '?')} accepted "
            f"({accepted.get('status', '?')}): {status_url}"
        )

    def scan(self, scan: dict[str, Any]) -> None:
        """The scan's state from one poll."""
        done, total = scan.get("artifacts_done", 0), scan.get("artifacts_total", 0)
        status = scan.get("status", "?")
        elapsed = int(self.clock() - self.started)
        what = f"pipeguard: scan {scan.get('scan_id', '?')}"
        if self.tty:
            width = 20
            filled = int(width * done / total) if total else 0
            bar = "#" * filled + "-" * (width - filled)
            self._rewrite(f"{what} {status:<8} [{bar}] {done}/{total} artifacts  {elapsed:4d} s")
            return
        state = (status, done, total)
        since = None if self._last_at is None else self.clock() - self._last_at
        if state != self._last_state:
            if status in _FINAL or since is None or since >= PLAIN_EVERY:
                self._line(f"{what} {status} {done}/{total} artifacts, {elapsed} s")
                self._last_state = state
        elif since is not None and since >= PLAIN_QUIET:
            self._line(f"{what} still {status} {done}/{total} artifacts, {elapsed} s")

    def _line(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()
        self._last_at = self.clock()

    def _rewrite(self, line: str) -> None:
        self.stream.write("\r\x1b[2K" + line)
        self.stream.flush()
        self._shown = True

    def done(self) -> None:
        """Clear the terminal line (before other output)."""
        if self._shown:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self._shown = False
