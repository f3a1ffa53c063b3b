"""The AWS backend of the local stack (`make run-aws`): moto's server as the AWS endpoint, the
deployed resources created in it, and the event sources polled in the stack's process.

State lives in moto's memory, so each start is a clean slate; the search index in the state
directory is recreated to match.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

REGION = "us-east-1"

# moto's server, without a log line per request, that exits when its stdin closes: when the
# stack stops or dies (even by kill -9), moto goes with it.
_MOTO_MAIN = (
    "import logging, os, sys, threading; logging.getLogger('werkzeug').setLevel(logging.ERROR); "
    "threading.Thread(target=lambda: (sys.stdin.buffer.read(), os._exit(0)), daemon=True).start(); "
    "from moto.server import main; main(['-H', sys.argv[1], '-p', sys.argv[2]])"
)

# moto also plays tenants' accounts (other account ids, through AssumeRole): AWS managed
# policies exist, and no account starts with moto's ~1,400 default AMI snapshots.
_MOTO_ACCOUNTS = {"MOTO_IAM_LOAD_MANAGED_POLICIES": "true", "MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}

# The variables the resources are known by once created (tools need them too).
RESOURCE_KEYS = (
    "FINDINGS_STREAM_ARN",
    "ALERT_TOPIC_ARN",
    "DEAD_LETTER_QUEUE_URL",
    "ACCOUNT_SCAN_QUEUE_URL",
)


class MotoBackend:
    """moto's server in a process of its own, the resources in it, and the in-process runner."""

    def __init__(self, host: str, state_dir: Path) -> None:
        self.host = host
        self.state_dir = state_dir
        self.endpoint = ""
        self._process: Any = None
        self._resources: Any = None
        self._runner: Any = None

    def start(self) -> str:
        """Start moto, point this process's AWS clients at it, create the resources; returns
        the endpoint."""
        self.endpoint = self._start_moto()
        search_db = self.state_dir / "search.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{search_db}{suffix}").unlink(missing_ok=True)
        os.environ.update(
            PIPEGUARD_BACKEND="aws",
            AWS_ENDPOINT_URL=self.endpoint,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_SESSION_TOKEN="testing",
            AWS_DEFAULT_REGION=REGION,
            AWS_REGION=REGION,
            SEARCH_BACKEND="sqlite",
            SEARCH_SQLITE_PATH=str(search_db),
        )
        for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
            os.environ.pop(name, None)

        from chalicelib.local.resources import create_all
        from chalicelib.stores import clients

        clients.reset()
        self._resources = create_all(clients.settings())
        os.environ.update(
            FINDINGS_STREAM_ARN=self._resources.findings_stream_arn,
            ALERT_TOPIC_ARN=self._resources.alert_topic_arn,
            DEAD_LETTER_QUEUE_URL=self._resources.dead_letter_queue_url,
            ACCOUNT_SCAN_QUEUE_URL=self._resources.account_scan_queue_url,
        )
        clients.reset()
        return self.endpoint

    def start_runner(self, app_module: Any) -> None:
        """Poll the scan stream, the findings stream and the account-scan queue in threads."""
        from chalicelib.local.runner import (
            DynamoDBStreamSource,
            EventSourceRunner,
            KinesisSource,
            QueueOptions,
            QueueSource,
            SourceOptions,
        )
        from chalicelib.local.workers import lambda_context

        resources = self._resources
        sources = [
            KinesisSource(
                stream_name=os.environ.get("SCAN_STREAM", "pipeguard-scans"),
                region=REGION,
                name="evaluate_artifacts",
                arn=resources.scan_stream_arn,
                handler=app_module.evaluate_artifacts,
                options=SourceOptions(batch_size=50),
                dead_letter_queue_url=resources.dead_letter_queue_url,
                context_factory=lambda_context("evaluate_artifacts"),
            ),
            DynamoDBStreamSource(
                name="index_findings",
                arn=resources.findings_stream_arn,
                handler=app_module.index_findings,
                options=SourceOptions(batch_size=100),
                dead_letter_queue_url=resources.dead_letter_queue_url,
                context_factory=lambda_context("index_findings"),
            ),
        ]
        queues = [
            QueueSource(
                name="collect_account_scans",
                queue_url=resources.account_scan_queue_url,
                handler=app_module.collect_account_scans,
                options=QueueOptions(batch_size=1, wait_seconds=1),
                context_factory=lambda_context("collect_account_scans", 900_000),
                region=REGION,
            )
        ]
        self._runner = EventSourceRunner(sources, queues=queues)
        self._runner.start()

    def pids(self) -> list[int]:
        return [self._process.pid] if self._process is not None else []

    def stop(self) -> None:
        """Stop the runner (after its batches), then moto (safe to call twice)."""
        if self._runner is not None:
            self._runner.stop()
            self._runner = None
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process.stdin.close()
            self._process = None

    def _start_moto(self) -> str:
        """moto's server in a process of its own: it gets the second core, not our GIL."""
        with socket.socket() as probe:
            probe.bind((self.host, 0))
            port = probe.getsockname()[1]
        # A session of its own: Ctrl-C in a terminal reaches the stack, which stops moto last,
        # after the runner and the API have finished with it.
        with (self.state_dir / "moto.log").open("w") as log_file:
            self._process = subprocess.Popen(
                [sys.executable, "-c", _MOTO_MAIN, self.host, str(port)],
                stdin=subprocess.PIPE,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env={**_MOTO_ACCOUNTS, **os.environ, "PYTHONUNBUFFERED": "1"},
                start_new_session=True,
            )
        endpoint = f"http://{self.host}:{port}"
        deadline = time.monotonic() + 60
        while True:
            if self._process.poll() is not None:
                raise OSError(f"moto server exited: see {self.state_dir / 'moto.log'}")
            try:
                with urllib.request.urlopen(endpoint + "/moto-api/", timeout=2):
                    return endpoint
            except OSError:
                if time.monotonic() > deadline:
                    raise OSError("moto server did not start in 60 s") from None
                time.sleep(0.1)
