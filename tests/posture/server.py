"""A moto server in a process of its own, standing in for a tenant's AWS account."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3

from chalicelib.posture.aws import keep_custom_host

# quiet, and gone when the test process goes (its stdin closes)
_MAIN = (
    "import logging, os, sys, threading; logging.getLogger('werkzeug').setLevel(logging.ERROR); "
    "threading.Thread(target=lambda: (sys.stdin.buffer.read(), os._exit(0)), daemon=True).start(); "
    "from moto.server import main; main(['-H', '127.0.0.1', '-p', sys.argv[1]])"
)
ENVIRONMENT = {"MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}  # else ~1,400 snapshots in every account
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@contextlib.contextmanager
def moto_server(log: Path, managed_policies: bool = False) -> Iterator[str]:
    """The endpoint URL of a fresh moto server (reset it with `reset(endpoint)`); AWS managed
    policies exist in it only with `managed_policies` (they take a second to load)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(ENVIRONMENT, PYTHONUNBUFFERED="1")
    env["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true" if managed_policies else "false"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-c", _MAIN, str(port)],
            stdin=subprocess.PIPE,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"moto exited:\n{log.read_text()[-2000:]}"
            try:
                with urllib.request.urlopen(endpoint + "/moto-api/", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "moto did not start in 60 s"
                time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdin:
            process.stdin.close()


def reset(endpoint: str) -> None:
    request = urllib.request.Request(endpoint + "/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=30):
        pass


def session(endpoint: str) -> boto3.Session:
    """A session whose clients all talk to the moto server."""
    made = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    original = made.client

    def client(service: str, *args: object, **kwargs: object) -> object:
        kwargs.setdefault("endpoint_url", endpoint)
        made_client = original(service, *args, **kwargs)
        if service == "s3control":  # the account id prefix the endpoint rules add
            keep_custom_host(made_client)
        return made_client

    made.client = client  # type: ignore[method-assign]
    return made
