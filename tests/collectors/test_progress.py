"""What `submit` shows while it waits: one rewritten line on a terminal, plain lines in CI."""

from __future__ import annotations

import io

from collectors.progress import Progress

SCAN = "scn_" + "c" * 24


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def state(status: str, done: int, total: int = 10) -> dict:
    return {"scan_id": SCAN, "status": status, "artifacts_done": done, "artifacts_total": total}


def test_plain_lines_at_most_every_5_s_and_on_change() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = Progress(stream, tty=False, clock=clock)
    progress.accepted({"scan_id": SCAN, "status": "queued"}, "http://api/v1/scans/x")
    for at, status, done in [
        (0.5, "queued", 0), (1.0, "running", 1),  # a change 1 s after the last line: waits
        (3.0, "running", 3), (6.0, "running", 3),  # 5 s since the last line: shown
        (8.0, "running", 3), (12.0, "running", 3),  # no change: nothing
        (30.0, "running", 4),  # a change
        (31.0, "running", 5), (36.5, "running", 5),
        (37.0, "complete", 10),  # the end is always shown
    ]:  # fmt: skip
        clock.now = 100.0 + at
        progress.scan(state(status, done))
    progress.done()
    assert stream.getvalue().splitlines() == [
        f"pipeguard: scan {SCAN} accepted (queued): http://api/v1/scans/x",
        f"pipeguard: scan {SCAN} running 3/10 artifacts, 6 s",
        f"pipeguard: scan {SCAN} running 4/10 artifacts, 30 s",
        f"pipeguard: scan {SCAN} running 5/10 artifacts, 36 s",
        f"pipeguard: scan {SCAN} complete 10/10 artifacts, 37 s",
    ]


def test_a_long_wait_without_change_still_says_so() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = Progress(stream, tty=False, clock=clock)
    for at in range(0, 125, 2):
        clock.now = 100.0 + at
        progress.scan(state("queued", 0))
    lines = stream.getvalue().splitlines()
    assert lines[0] == f"pipeguard: scan {SCAN} queued 0/10 artifacts, 0 s"
    assert lines[1:] == [
        f"pipeguard: scan {SCAN} still queued 0/10 artifacts, {s} s" for s in (30, 60, 90, 120)
    ]


def test_a_terminal_gets_one_line_rewritten() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = Progress(stream, tty=True, clock=clock)
    progress.accepted({"scan_id": SCAN, "status": "queued"}, "http://api/v1/scans/x")
    progress.scan(state("running", 2))
    clock.now += 1
    progress.scan(state("running", 4))
    progress.done()
    text = stream.getvalue()
    assert text.startswith(f"pipeguard: scan {SCAN} accepted (queued): http://api/v1/scans/x\n")
    assert text.count("\r\x1b[2K") == 3  # two updates of the same line, then cleared
    assert "[########------------] 4/10 artifacts" in text
    assert text.endswith("\r\x1b[2K")
