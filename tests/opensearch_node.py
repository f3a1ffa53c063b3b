"""One real single-node OpenSearch 2.19 per test run, built by `make opensearch-node`.

The process that configures pytest first (the xdist controller, or the only process with
`-n 0`) owns a state folder, named to its workers through the environment. The first test that
needs the node starts it under a file lock in that folder; later tests and the other workers
reuse its URL. The owner stops it at the end of the run; the node also exits by itself when the
owner's process ends (killed or crashed).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
BUILD_DIR = REPO_ROOT / "tools" / "opensearch-node" / "target"
LAUNCHER = "dev.pipeguard.search.LocalNode"
HEAP = "512m"
START_TIMEOUT = 180.0
STATE_ENV = "PIPEGUARD_OPENSEARCH_STATE"
OWNER_ENV = "PIPEGUARD_OPENSEARCH_OWNER"
_owned = pytest.StashKey[Path]()


class NodeUnavailable(RuntimeError):
    """The node cannot be started: Java or the build is missing, or it failed to start."""


def configure(config: pytest.Config) -> None:
    """Claim the state folder unless a parent process (the xdist controller) already has."""
    if os.environ.get(STATE_ENV):
        return
    state = Path(tempfile.mkdtemp(prefix="pipeguard-opensearch-"))
    os.environ[STATE_ENV] = str(state)
    os.environ[OWNER_ENV] = str(os.getpid())
    config.stash[_owned] = state


def summary(config: pytest.Config) -> str | None:
    """In the owning process: how long the node took to start, if one was started."""
    state = config.stash.get(_owned, None)
    if state is None or not (state / "start-seconds").exists():
        return None
    seconds = (state / "start-seconds").read_text()
    return f"OpenSearch test node: {(state / 'url').read_text().strip()}, started in {seconds} s"


def unconfigure(config: pytest.Config) -> None:
    """In the owning process: stop the node if one was started and remove its data."""
    state = config.stash.get(_owned, None)
    if state is None:
        return
    pid_file = state / "pid"
    if pid_file.exists():
        _stop(int(pid_file.read_text()))
    shutil.rmtree(state, ignore_errors=True)
    os.environ.pop(STATE_ENV, None)
    os.environ.pop(OWNER_ENV, None)


def _stop(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        _reap(pid)
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)


def _reap(pid: int) -> None:
    """Collect the node's exit status when this process is its parent (else a no-op)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _classpath() -> str:
    jars = sorted(BUILD_DIR.glob("opensearch-node-*.jar"))
    lib = BUILD_DIR / "lib"
    if not jars or not lib.is_dir():
        raise NodeUnavailable(
            f"the OpenSearch test node is not built ({BUILD_DIR} is missing): run "
            "`make opensearch-node` (needs Java 17 and Maven), or set OPENSEARCH_URL to a cluster"
        )
    return os.pathsep.join([str(jars[-1]), str(lib / "*")])


def _alive(pid: int) -> bool:
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def node_url() -> str:
    """The URL of the run's node (`http://127.0.0.1:PORT`), started on first use."""
    state = Path(os.environ.get(STATE_ENV) or "")
    if not os.environ.get(STATE_ENV) or not state.is_dir():
        raise NodeUnavailable("tests/opensearch_node.configure() did not run (tests/conftest.py)")
    url_file, pid_file = state / "url", state / "pid"
    with open(state / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if url_file.exists() and pid_file.exists() and _alive(int(pid_file.read_text())):
            return url_file.read_text().strip()
        return _start(state, url_file, pid_file)


def _start(state: Path, url_file: Path, pid_file: Path) -> str:
    java = shutil.which("java")
    if java is None:
        raise NodeUnavailable(
            "java is not on PATH: the OpenSearch test node needs Java 17 "
            "(apt-get install openjdk-17-jdk-headless), or set OPENSEARCH_URL to a cluster"
        )
    classpath = _classpath()
    data = state / "node"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir()
    url_file.unlink(missing_ok=True)
    log_path = state / "node.log"
    command = [
        java,
        f"-Xms{HEAP}",
        f"-Xmx{HEAP}",
        "-XX:+UseSerialGC",
        "-Djava.awt.headless=true",
        "-Dlog4j2.disable.jmx=true",
        "-cp",
        classpath,
        LAUNCHER,
        str(data),
        str(url_file),
        os.environ.get(OWNER_ENV, str(os.getpid())),
    ]
    started = time.monotonic()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
        )
    pid_file.write_text(str(process.pid))
    while not url_file.exists():
        if process.poll() is not None or time.monotonic() - started > START_TIMEOUT:
            if process.poll() is None:
                process.kill()
            tail = log_path.read_text(errors="replace")[-3000:]
            raise NodeUnavailable(
                f"the OpenSearch test node did not start (exit {process.poll()}); "
                f"its log {log_path} ends with:\n{tail}"
            )
        time.sleep(0.1)
    (state / "start-seconds").write_text(f"{time.monotonic() - started:.2f}")
    return url_file.read_text().strip()
