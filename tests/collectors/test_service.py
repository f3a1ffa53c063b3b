"""`submit` against a real local HTTP server: retries, back-off, failure modes, gating, waiting.

The server (tests/collectors/conftest.py) answers from a script; nothing in the client is mocked.
"""

from __future__ import annotations

import json
import os
import pty
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from collectors.cli import main
from tests.collectors.conftest import SCAN_ID, FakeApi, error_body, finding, scan
from tests.collectors.helpers import clean_env
from tests.conftest import REPO_ROOT

KEY = "pgk_" + "k" * 40


@pytest.fixture
def dockerfile(tmp_path: Path) -> Path:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM alpine:3.20\nUSER app\n")
    return path


def submit(api_url: str, *args: str) -> int:
    return main(
        ["submit", "--api-url", api_url, "--api-key", KEY, "--pipeline", "shop", "--run-id",
         "run-1", "--no-step-summary", *args]
    )  # fmt: skip


def test_429_with_retry_after_then_accepted(
    fake_api: FakeApi, dockerfile: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_api.script(
        "submit", (429, {"Retry-After": "1"}, error_body("too_many_requests", "slow down"))
    )
    started = time.monotonic()
    assert submit(fake_api.url, str(dockerfile)) == 0
    elapsed = time.monotonic() - started
    posts = fake_api.calls("submit")
    assert len(posts) == 2
    assert elapsed >= 1.0, "Retry-After was not honoured"
    assert posts[0]["body"] == posts[1]["body"]  # the same run: the service returns the same scan
    err = capsys.readouterr().err
    assert "HTTP 429" in err and "retrying in 1." in err


def test_503_then_success_on_submit_and_on_polling(fake_api: FakeApi, dockerfile: Path) -> None:
    fake_api.script("submit", (503, {}, error_body("service_unavailable", "try again")))
    fake_api.script("scan", (502, {}, b"<html>bad gateway</html>"), (200, {}, scan("running")))
    assert submit(fake_api.url, str(dockerfile)) == 0
    assert len(fake_api.calls("submit")) == 2
    assert len(fake_api.calls("scan")) == 3  # 502, running, complete
    assert len(fake_api.calls("report")) == 1


def test_5xx_that_persists_is_a_service_error(
    fake_api: FakeApi, dockerfile: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_api.defaults["submit"] = (500, {}, error_body("internal_error", "it broke"))
    assert submit(fake_api.url, "--retries", "2", str(dockerfile)) == 3
    assert len(fake_api.calls("submit")) == 3
    err = capsys.readouterr().err
    assert "the service failed (HTTP 500: it broke) (after 3 attempts)" in err


def test_connection_refused_is_exit_3(dockerfile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert submit(f"http://127.0.0.1:{port}", "--retries", "1", str(dockerfile)) == 3
    err = capsys.readouterr().err
    assert "cannot reach the service" in err and "connection refused" in err
    assert "after 2 attempts" in err


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (401, 3, "refused the API key"),
        (403, 3, "lacks a scope"),
        (409, 2, "already submitted with other artifacts"),
        (413, 2, "HTTP 413"),
        (422, 2, "check artifacts.0.type"),
    ],
)
def test_answers_that_are_not_retried(
    status: int,
    code: int,
    expected: str,
    fake_api: FakeApi,
    dockerfile: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    body = error_body("x", "check artifacts.0.type" if status == 422 else "no")
    fake_api.defaults["submit"] = (status, {}, body)
    assert submit(fake_api.url, str(dockerfile)) == code
    assert len(fake_api.calls("submit")) == 1
    assert expected in capsys.readouterr().err


def test_quota_that_persists(
    fake_api: FakeApi, dockerfile: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_api.defaults["submit"] = (429, {"Retry-After": "0"}, error_body("quota", "quota used up"))
    assert submit(fake_api.url, "--retries", "2", str(dockerfile)) == 3
    assert len(fake_api.calls("submit")) == 3
    assert "rate limit or quota exceeded (HTTP 429: quota used up)" in capsys.readouterr().err


def test_a_retry_after_beyond_the_timeout_gives_up_at_once(
    fake_api: FakeApi, dockerfile: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_api.defaults["submit"] = (429, {"Retry-After": "3600"}, error_body("quota", "later"))
    started = time.monotonic()
    assert submit(fake_api.url, "--timeout", "5", str(dockerfile)) == 3
    assert time.monotonic() - started < 3
    assert "HTTP 429" in capsys.readouterr().err


def test_waiting_past_the_timeout(
    fake_api: FakeApi, dockerfile: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_api.defaults["scan"] = (200, {}, scan("running"))
    started = time.monotonic()
    assert submit(fake_api.url, "--timeout", "1.5", str(dockerfile)) == 3
    assert time.monotonic() - started < 5
    err = capsys.readouterr().err
    assert "timed out" in err and SCAN_ID in err and "still running" in err


def test_no_wait_returns_after_202(
    fake_api: FakeApi, dockerfile: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_api.defaults["scan"] = (200, {}, scan("running"))
    assert submit(fake_api.url, "--no-wait", str(dockerfile)) == 0
    assert fake_api.calls("scan") == []
    assert SCAN_ID in capsys.readouterr().out
    assert submit(fake_api.url, "--no-wait", "--format", "json", str(dockerfile)) == 0
    assert json.loads(capsys.readouterr().out)["scan_id"] == SCAN_ID


def test_a_scan_the_service_could_not_queue(
    fake_api: FakeApi, dockerfile: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_api.defaults["scan"] = (200, {}, scan("failed", failure="stream unavailable"))
    assert submit(fake_api.url, str(dockerfile)) == 3
    assert "stream unavailable" in capsys.readouterr().err


def _report(verdict: str, *findings: dict) -> tuple[int, dict, dict]:
    return (200, {}, {**scan(verdict=verdict), "findings": list(findings)})


@pytest.mark.parametrize(
    ("verdict", "severities", "args", "code"),
    [
        ("pass", [], [], 0),
        ("pass", ["medium"], ["--fail-on", "medium"], 1),  # client-side gate
        ("pass", ["medium"], ["--fail-on", "high"], 0),
        ("fail", ["high"], [], 1),  # the tenant's verdict
        ("fail", ["high"], ["--fail-on", "critical"], 1),  # either gate fails the run
        ("fail", ["high"], ["--soft-fail"], 0),
        ("pass", ["low"], ["--fail-on", "low", "--soft-fail"], 0),
    ],
)
def test_gating(
    verdict: str,
    severities: list[str],
    args: list[str],
    code: int,
    fake_api: FakeApi,
    dockerfile: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake_api.defaults["report"] = _report(verdict, *(finding(severity=s) for s in severities))
    assert submit(fake_api.url, *args, str(dockerfile)) == code
    out = capsys.readouterr()
    failed = verdict == "fail" or (code == 1)
    if failed:
        assert "FAIL" in out.out
    if "--soft-fail" in args and (verdict == "fail" or severities):
        assert "--soft-fail" in out.err and "FAIL" in out.out


def test_progress_on_a_terminal_and_plain_lines_elsewhere(
    fake_api: FakeApi, dockerfile: Path
) -> None:
    fake_api.script("scan", (200, {}, scan("running")), (200, {}, scan("running")))
    command = [
        sys.executable, "-m", "collectors", "submit", "--api-url", fake_api.url, "--api-key",
        KEY, "--pipeline", "shop", "--run-id", "tty", str(dockerfile),
    ]  # fmt: skip
    env = clean_env({"PYTHONPATH": str(REPO_ROOT)})
    plain = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert plain.returncode == 0, plain.stderr
    assert "\r" not in plain.stderr and "\x1b" not in plain.stderr  # CI logs: plain lines
    lines = plain.stderr.splitlines()
    assert lines[0] == "pipeguard: submitting 1 artifact of shop …"
    assert lines[1].startswith(f"pipeguard: scan {SCAN_ID} accepted (queued): ")
    assert lines[1].endswith(f"/v1/scans/{SCAN_ID}")
    assert lines[-1].startswith(f"pipeguard: scan {SCAN_ID} complete 1/1 artifacts, ")
    assert len(lines) <= 4  # "running" at most once: the polls came within 5 s

    fake_api.script("scan", (200, {}, scan("running")), (200, {}, scan("running")))
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=follower, text=True
        )
        os.close(follower)
        seen = b""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(leader, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
            elif process.poll() is not None:
                break
        assert process.wait(timeout=30) == 0
    finally:
        os.close(leader)
    assert f"scan {SCAN_ID} running".encode() in seen
    assert b"artifacts" in seen
