"""Starting, stopping and sharing a machine with the embedded stack: nothing from outside (a
second `make run`, Ctrl-C, kill -9, another user) breaks or exposes a running stack."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shlex
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import REPO_ROOT, scan_body
from tests.e2e.conftest import running_stack, stack_command, stack_environment

pytestmark = pytest.mark.e2e

DOCUMENTS = ("README.md", "docs/operations.md")


@pytest.fixture(scope="module")
def victim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A stack of its own, started with umask 0, its state in `<tmp>/.local` as `make run`
    would have it; its log is outside the state dir."""
    root = tmp_path_factory.mktemp("victim")
    with running_stack(root / ".local", root / "stack.log", umask=0) as (info, process):
        info["pid"] = process.pid
        info["root"] = root
        yield info


def _snapshot(state: Path) -> dict[str, str]:
    """What the files holding keys and addresses contain, and when they were last written."""
    return {
        path.name: f"{hashlib.sha256(path.read_bytes()).hexdigest()} {path.stat().st_mtime_ns}"
        for path in sorted(state.iterdir())
        if path.name.endswith("-api-key") or path.name == "stack.json"
    }


def _start_again(state: Path, port: int | str) -> subprocess.CompletedProcess:
    return subprocess.run(
        stack_command(state, port=port),
        cwd=REPO_ROOT,
        env=stack_environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _assert_still_serving(info: dict[str, Any]) -> None:
    for tenant in ("alpha", "beta"):
        key = (info["state_dir"] / f"{tenant}-api-key").read_text().strip()
        assert key == info["api_keys"][tenant]
        response = requests.get(
            info["api_url"] + "/v1/findings", headers={"Authorization": f"Bearer {key}"}, timeout=10
        )
        assert response.status_code == 200, response.text
    operator = (info["state_dir"] / "admin-api-key").read_text().strip()
    assert operator == info["operator_key"]
    response = requests.get(
        info["api_url"] + "/v1/admin/tenants",
        headers={"Authorization": f"Bearer {operator}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text


def test_a_second_stack_changes_nothing_of_a_running_one(
    victim: dict[str, Any], tmp_path: Path
) -> None:
    state, port = victim["state_dir"], _port(victim["api_url"])
    _assert_still_serving(victim)
    assert (state / "search.db").exists()
    before = _snapshot(state)

    for other_port in (port, 0):  # same state dir: same port, or any port
        second = _start_again(state, other_port)
        assert second.returncode == 2, second.stderr
        assert f"in use by the stack with pid {victim['pid']}" in second.stderr
        assert str(state) in second.stderr
        assert "Traceback" not in second.stderr
        assert _snapshot(state) == before
        assert (state / "search.db").exists()

    elsewhere = tmp_path / "elsewhere"
    third = _start_again(elsewhere, port)  # another state dir, the same port
    assert third.returncode == 2, third.stderr
    assert f"could not listen on 127.0.0.1:{port}" in third.stderr
    assert "PORT=8001" in third.stderr
    assert _snapshot(state) == before
    assert [p.name for p in elsewhere.iterdir()] == ["stack.lock"]  # no keys, no index

    _assert_still_serving(victim)


def test_files_holding_secrets_are_private_whatever_the_umask(victim: dict[str, Any]) -> None:
    state = victim["state_dir"]
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    secrets = [state / "stack.json", victim["ready"]]
    secrets += [state / f"{name}-api-key" for name in ("admin", "alpha", "beta")]
    for path in secrets:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for path in state.iterdir():  # the index and logs too: tenants' findings are in them
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
    assert victim["operator_key"] in (state / "stack.json").read_text()


def _documented_operator_commands() -> list[tuple[str, list[str]]]:
    """Every `python -m chalicelib.ops ...` line of the documents' shell blocks, as written."""
    commands = []
    for document in DOCUMENTS:
        text = (REPO_ROOT / document).read_text()
        for block in re.findall(r"^```(?:sh|bash|console)\n(.*?)^```", text, re.M | re.S):
            for line in block.splitlines():
                words = shlex.split(line, comments=True) if "chalicelib.ops" in line else []
                if words[1:3] == ["-m", "chalicelib.ops"]:
                    commands.append((document, words))
    return commands


def test_documented_operator_commands_work_as_written(
    victim: dict[str, Any], tmp_path: Path
) -> None:
    commands = _documented_operator_commands()
    assert {document for document, _ in commands} == set(DOCUMENTS)
    assert any("--local" in words for _, words in commands)
    stack_env = json.loads((victim["state_dir"] / "stack.json").read_text())["environment"]
    for document, words in commands:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env["PYTHONPATH"] = str(REPO_ROOT)
        local = any(w == "--local" or w.startswith("--state-dir") for w in words)
        if "backup" in words:  # a new folder each time, never the documented one on this host
            words = [*words[:-1], str(tmp_path / f"backup-{len(list(tmp_path.iterdir()))}")]
        if not local:  # the deployed form: the functions' environment, here the stack's
            env.update(stack_env)
        done = subprocess.run(
            [sys.executable, *words[1:]],
            cwd=victim["root"],  # where `.local` is the stack's state dir, as after make run
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        shown = f"{document}: {shlex.join(words)}"
        command = next(w for w in words[3:] if not w.startswith("-"))
        if command == "restore":  # documented for a stopped stack: it refuses a running one
            assert done.returncode == 2, f"{shown}\n{done.stderr}"
            assert "is in use by the stack with pid" in done.stderr, shown
            continue
        if command == "backup" and not (victim["state_dir"] / "pipeguard.db").exists():
            assert done.returncode == 2, f"{shown}\n{done.stderr}"  # the stack keeps no state
            assert "holds no embedded database" in done.stderr, shown
            continue
        assert done.returncode == 0, f"{shown}\n{done.stderr}"
        assert command in json.loads(done.stdout.strip().splitlines()[-1]), shown


def test_local_operator_commands_find_the_stack_in_pipeguard_home(
    victim: dict[str, Any], tmp_path: Path
) -> None:
    """A stack started with `PIPEGUARD_HOME=DIR make run` keeps its state in DIR: `--local`
    finds it there, from any working directory, as the documents write the command."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(PYTHONPATH=str(REPO_ROOT), PIPEGUARD_HOME=str(victim["state_dir"]))
    done = subprocess.run(
        [sys.executable, "-m", "chalicelib.ops", "--local", "reindex"],
        cwd=tmp_path,  # no .local here
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "reindex" in json.loads(done.stdout.strip().splitlines()[-1])


def test_operator_commands_need_a_running_stack(tmp_path: Path) -> None:
    (tmp_path / "stack.json").write_text(json.dumps({"environment": {}}))  # left by a stop
    for args in (["--local", str(tmp_path)], ["--state-dir", str(tmp_path)]):
        done = subprocess.run(
            [sys.executable, "-m", "chalicelib.ops", *args, "reindex"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2
        assert f"no embedded stack is running on {tmp_path}" in done.stderr
        assert "Traceback" not in done.stderr


def _refused(endpoint: str) -> bool:
    host, port = endpoint.removeprefix("http://").split(":")
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
    except OSError:
        return True
    return False


def _submit_until(stop: threading.Event, info: dict[str, Any]) -> None:
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {info['api_keys']['alpha']}"
    run = 0
    while not stop.is_set():
        run += 1
        artifacts = [
            {"type": "dockerfile", "path": f"svc{i}/Dockerfile", "content": "FROM ubuntu\n"}
            for i in range(10)
        ]
        with contextlib.suppress(requests.RequestException):
            api.post(
                info["api_url"] + "/v1/scans",
                json=scan_body(run_id=f"load-{run}", artifacts=artifacts),
                timeout=10,
            )


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    with contextlib.suppress(ChildProcessError):  # a zombie of ours counts as gone
        return os.waitpid(pid, os.WNOHANG)[0] == pid
    return False


def _wait_gone(pids: list[int], what: str) -> None:
    deadline = time.monotonic() + 10
    while not all(_gone(pid) for pid in pids):
        assert time.monotonic() < deadline, f"{what} outlived the stack"
        time.sleep(0.2)


BACKENDS = {"embedded": (), "aws": ("--backend", "aws")}


@pytest.mark.parametrize("backend", BACKENDS)
def test_ctrl_c_in_a_terminal_stops_cleanly_under_load(tmp_path: Path, backend: str) -> None:
    log_path = tmp_path / "stack.log"
    # A terminal's Ctrl-C signals the whole foreground process group.
    with running_stack(
        tmp_path / "state", log_path, *BACKENDS[backend], start_new_session=True
    ) as (info, process):
        assert info["children"], "the stack names its processes"
        stop = threading.Event()
        loader = threading.Thread(target=_submit_until, args=(stop, info), daemon=True)
        loader.start()
        time.sleep(2)
        os.killpg(process.pid, signal.SIGINT)
        code = process.wait(timeout=30)
        stop.set()
        loader.join(15)
    log = log_path.read_text()
    assert code == 0, log[-3000:]
    assert "Stopped." in log
    assert "Traceback" not in log, log[-3000:]
    assert '"level":"ERROR"' not in log, log[-3000:]
    _wait_gone(info["children"], "a worker or moto")
    if backend == "aws":
        assert _refused(info["aws_endpoint"]), "moto outlived the stack"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_killed_stack_takes_its_processes_with_it_and_frees_its_state_dir(
    tmp_path: Path, backend: str
) -> None:
    state = tmp_path / "state"
    with running_stack(state, tmp_path / "stack.log", *BACKENDS[backend]) as (info, process):
        assert info["children"] and not any(_gone(pid) for pid in info["children"])
        process.kill()
        process.wait(timeout=10)
        _wait_gone(info["children"], "a worker or moto")
    from chalicelib.local.statedir import holder

    assert holder(state) is None  # the lock died with the stack: the folder is free
