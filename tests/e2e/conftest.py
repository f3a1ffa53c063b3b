"""Start the embedded stack exactly as `make run` does, on free ports, in a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    state = tmp_path_factory.mktemp("stack")
    ready = state / "ready.json"
    log_path = state / "stack.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(PYTHONUNBUFFERED="1", LOG_LEVEL="INFO")
    command = [
        sys.executable, "-m", "chalicelib.local", "run", "--port", "0",
        "--state-dir", str(state), "--seed", "alpha", "--seed", "beta",
        "--ready-file", str(ready),
    ]  # fmt: skip
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            _wait_ready(process, ready, log_path)
            info = json.loads(ready.read_text())
            info["log"] = log_path
            info["state_dir"] = Path(info["state_dir"])
            yield info
        finally:
            process.send_signal(signal.SIGINT)
            try:
                code = process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                raise AssertionError("the stack did not stop on Ctrl-C") from None
    assert code == 0, f"the stack exited with {code}:\n{log_path.read_text()[-3000:]}"
    assert "Stopped." in log_path.read_text()


def _wait_ready(process: subprocess.Popen, ready: Path, log_path: Path) -> None:
    deadline = time.monotonic() + 90
    while not ready.exists():
        if process.poll() is not None:
            raise AssertionError(f"the stack exited early:\n{log_path.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"the stack was not ready in 90s:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.1)
