"""A worker's stdout carries only its `ready` line: logs and metric documents written later go
to its log file, never to the pipe the stack stops reading (a full pipe would stall it)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.e2e.conftest import running_stack


def test_workers_write_to_their_log_file_not_to_the_ready_pipe(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with running_stack(state, tmp_path / "stack.log", env={"PIPEGUARD_WORKERS": "2"}) as (
        info,
        _,
    ):
        assert len(info["children"]) == 2
        for index, pid in enumerate(info["children"]):
            target = os.readlink(f"/proc/{pid}/fd/1")
            assert not target.startswith("pipe:"), f"worker {index} stdout is {target}"
            assert Path(target) == state / f"worker-{index}.log"
