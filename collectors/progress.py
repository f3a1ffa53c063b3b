"""A one-line progress display on stderr while waiting for the verdict (TTY only)."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


class Progress:
    """Rewrites one status line on a terminal; says nothing when stderr is not one."""

    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.started = time.monotonic()
        self._shown = False

    def scan(self, scan: dict[str, Any]) -> None:
        if not self.enabled:
            return
        done, total = scan.get("artifacts_done", 0), scan.get("artifacts_total", 0)
        width = 20
        filled = int(width * done / total) if total else 0
        bar = "#" * filled + "-" * (width - filled)
        elapsed = time.monotonic() - self.started
        self._write(
            f"pipeguard: scan {scan.get('scan_id', '?')} {scan.get('status', '?'):<8} "
            f"[{bar}] {done}/{total} artifacts  {elapsed:4.0f} s"
        )

    def note(self, text: str) -> None:
        if self.enabled:
            self._write(f"pipeguard: {text}")

    def _write(self, line: str) -> None:
        self.stream.write("\r\x1b[2K" + line)
        self.stream.flush()
        self._shown = True

    def done(self) -> None:
        if self._shown:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self._shown = False
