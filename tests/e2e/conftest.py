"""Start the stack exactly as `make run` (the embedded default) or `make run-aws` (the AWS
adapters on moto) do, on free ports, in a subprocess."""

from __future__ import annotations

import contextlib
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
from tests.posture import server


def stack_command(state: Path, *args: str, port: int | str = 0) -> list[str]:
    """`python -m chalicelib.local run` on `state` and `port` (0: a free one)."""
    return [
        sys.executable, "-m", "chalicelib.local", "run", "--port", str(port),
        "--state-dir", str(state), *args,
    ]  # fmt: skip


def stack_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(PYTHONUNBUFFERED="1", LOG_LEVEL="INFO")
    # Accounts are scanned when a test asks (POST /v1/accounts/{id}/scans), so that a tenant's
    # data does not change under a test; test_stack runs the sweep on its own stack.
    env.setdefault("PIPEGUARD_SWEEP_SECONDS", "86400")
    return env


@contextlib.contextmanager
def running_stack(
    state: Path, log_path: Path, *args: str, env: dict[str, str] | None = None, **popen: Any
) -> Iterator[tuple[dict[str, Any], subprocess.Popen]]:
    """A stack on `state` seeded with alpha and beta; its ready file's content and process.
    Stopped with Ctrl-C (SIGINT) at the end unless the test stopped it."""
    ready = log_path.parent / f"{log_path.stem}-ready.json"
    command = stack_command(
        state, "--seed", "alpha", "--seed", "beta", "--ready-file", str(ready), *args
    )
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env={**stack_environment(), **(env or {})}, stdout=log,
            stderr=subprocess.STDOUT, **popen,
        )  # fmt: skip
        try:
            _wait_ready(process, ready, log_path)
            info = json.loads(ready.read_text())
            info.update(log=log_path, state_dir=Path(info["state_dir"]), ready=ready)
            yield info, process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                raise AssertionError("the stack did not stop on Ctrl-C") from None


def tenant_aws_environment(endpoint: str) -> dict[str, str]:
    """What an embedded stack needs to reach tenants' accounts played by moto at `endpoint`."""
    return {
        "PIPEGUARD_TENANT_AWS_ENDPOINT_URL": endpoint,
        **server.CREDENTIALS,
        "AWS_SESSION_TOKEN": "testing",
    }


@pytest.fixture(scope="session")
def tenant_aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto server playing the tenants' AWS accounts for the embedded stack."""
    log = tmp_path_factory.mktemp("tenant-aws") / "moto.log"
    with server.moto_server(log, managed_policies=True) as endpoint:
        yield endpoint


@contextlib.contextmanager
def _session_stack(state: Path, *args: str, env: dict[str, str]) -> Iterator[dict[str, Any]]:
    with running_stack(state, state / "stack.log", *args, env=env) as (info, process):
        yield info
    log_text = info["log"].read_text()
    assert process.returncode == 0, f"the stack exited with {process.returncode}:\n{log_text}"
    assert "Stopped." in log_text


@pytest.fixture(scope="session")
def embedded_stack(
    tmp_path_factory: pytest.TempPathFactory, tenant_aws: str
) -> Iterator[dict[str, Any]]:
    """The embedded default (`make run`); moto plays the tenants' accounts."""
    state = tmp_path_factory.mktemp("stack")
    with _session_stack(state, env=tenant_aws_environment(tenant_aws)) as info:
        yield info


@pytest.fixture(scope="session")
def stack(embedded_stack: dict[str, Any]) -> dict[str, Any]:
    """The stack the e2e tests run on: the embedded default."""
    return embedded_stack


@pytest.fixture(scope="session")
def aws_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The AWS adapters against moto's server (`make run-aws`)."""
    state = tmp_path_factory.mktemp("aws-stack")
    with _session_stack(state, "--backend", "aws", env={}) as info:
        yield info


@pytest.fixture(params=["embedded", "aws"])
def either_stack(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The core flows run on both backends: the embedded default and the AWS adapters."""
    name = "embedded_stack" if request.param == "embedded" else "aws_stack"
    return request.getfixturevalue(name)


def _wait_ready(process: subprocess.Popen, ready: Path, log_path: Path) -> None:
    deadline = time.monotonic() + 90
    while not ready.exists():
        if process.poll() is not None:
            raise AssertionError(f"the stack exited early:\n{log_path.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"the stack was not ready in 90s:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.1)
