"""The embedded stack: every arrow of the deployed architecture, on one machine, no AWS account."""

from __future__ import annotations

import importlib
import json
import logging
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalicelib.local import statedir
from chalicelib.local.statedir import StateLock

if TYPE_CHECKING:
    from chalicelib.local.server import ApiServer

log = logging.getLogger(__name__)

REGION = "us-east-1"
# What a tool needs to talk to the running stack's AWS endpoint and index (see chalicelib.ops).
ENVIRONMENT_KEYS = (
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "SEARCH_BACKEND",
    "SEARCH_SQLITE_PATH",
    "RATE_LIMIT_PER_SECOND",
    "RATE_LIMIT_BURST",
)


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


class PortUnavailable(OSError):
    """The API port is taken (or cannot be bound)."""


@dataclass
class StackInfo:
    """Where the running stack answers, and the API keys of the tenants it seeded."""

    api_url: str
    aws_endpoint: str
    state_dir: str
    api_keys: dict[str, str] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    operator_key: str = ""


class EmbeddedStack:
    """moto server (its own process) + resources + Chalice local API + event-source runner +
    SQLite index.

    State lives in moto's memory, so each start is a clean slate; the SQLite index in
    `state_dir` is recreated to match. A stack holds a lock on `state_dir` and its API port
    before it changes anything there (see `start`).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 8000,
        state_dir: str | Path = ".local",
        seed_tenants: tuple[str, ...] = ("demo",),
    ) -> None:
        self.host = host
        self.port = port
        self.state_dir = Path(state_dir).resolve()
        self.seed_tenants = seed_tenants
        self.info: StackInfo | None = None
        self._moto: Any = None
        self._server: ApiServer | None = None
        self._server_thread: threading.Thread | None = None
        self._runner: Any = None
        self._sweeper: Any = None
        self._lock = StateLock(self.state_dir)

    def start(self) -> StackInfo:
        """Start every part; returns once the API answers.

        First the lock on `state_dir` (StateDirBusy if another stack holds it), then the API
        port (OSError if taken); only then are keys, index and logs in `state_dir` written.
        Whatever fails, what was started is stopped again.
        """
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        statedir.prepare(self.state_dir)
        self._lock.acquire()
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> StackInfo:
        from chalicelib.local.server import ApiServer

        try:
            self._server = ApiServer(self.host, self.port)
        except OSError as exc:
            raise PortUnavailable(f"{self.host}:{self.port}: {exc.strerror or exc}") from exc
        endpoint = self._start_moto()
        self._configure_environment(endpoint)

        from chalicelib.local.resources import create_all
        from chalicelib.search.factory import reset_index
        from chalicelib.stores import clients

        clients.reset()
        resources = create_all(clients.settings())
        os.environ.update(
            FINDINGS_STREAM_ARN=resources.findings_stream_arn,
            ALERT_TOPIC_ARN=resources.alert_topic_arn,
            DEAD_LETTER_QUEUE_URL=resources.dead_letter_queue_url,
            ACCOUNT_SCAN_QUEUE_URL=resources.account_scan_queue_url,
        )
        clients.reset()
        reset_index()

        operator_key = self._operator_key()
        app_module = importlib.import_module("app")
        keys = self._seed()
        api_url = self._serve_api(app_module.app)
        self._start_runner(app_module, resources)
        from chalicelib.local.schedule import account_sweeper

        self._sweeper = account_sweeper()
        wired = ENVIRONMENT_KEYS + (
            "FINDINGS_STREAM_ARN",
            "ALERT_TOPIC_ARN",
            "DEAD_LETTER_QUEUE_URL",
            "ACCOUNT_SCAN_QUEUE_URL",
        )
        environment = {k: os.environ[k] for k in wired if k in os.environ}
        self.info = StackInfo(
            api_url, endpoint, str(self.state_dir), keys, environment, operator_key
        )
        self.write_ready_file(self.state_dir / "stack.json")
        return self.info

    def stop(self) -> None:
        """Stop the API server (after the request it is serving), the account sweep (after
        its scan), the runner (after its batches), then moto; release the state directory
        (safe to call twice)."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._sweeper is not None:
            self._sweeper.stop()
            self._sweeper = None
        if self._runner is not None:
            self._runner.stop()
            self._runner = None
        if self._moto is not None:
            self._moto.terminate()
            try:
                self._moto.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._moto.kill()
                self._moto.wait()
            self._moto.stdin.close()
            self._moto = None
        self._lock.release()

    def __enter__(self) -> StackInfo:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def write_ready_file(self, path: str | Path) -> None:
        """Write the stack's addresses and seeded keys as JSON (for tools and tests), 0600."""
        assert self.info is not None
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        statedir.write_private(target, json.dumps(asdict(self.info), indent=2))

    def _start_moto(self) -> str:
        """moto's server in a process of its own: it gets the second core, not our GIL."""
        with socket.socket() as probe:
            probe.bind((self.host, 0))
            port = probe.getsockname()[1]
        # A session of its own: Ctrl-C in a terminal reaches the stack, which stops moto last,
        # after the runner and the API have finished with it.
        with (self.state_dir / "moto.log").open("w") as log_file:
            self._moto = subprocess.Popen(
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
            if self._moto.poll() is not None:
                raise OSError(f"moto server exited: see {self.state_dir / 'moto.log'}")
            try:
                with urllib.request.urlopen(endpoint + "/moto-api/", timeout=2):
                    return endpoint
            except OSError:
                if time.monotonic() > deadline:
                    raise OSError("moto server did not start in 60 s") from None
                time.sleep(0.1)

    def _configure_environment(self, endpoint: str) -> None:
        search_db = self.state_dir / "search.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{search_db}{suffix}").unlink(missing_ok=True)
        os.environ.update(
            AWS_ENDPOINT_URL=endpoint,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_SESSION_TOKEN="testing",
            AWS_DEFAULT_REGION=REGION,
            AWS_REGION=REGION,
            SEARCH_BACKEND="sqlite",
            SEARCH_SQLITE_PATH=str(search_db),
        )
        # Quiet by default on a terminal: warnings only, no metric documents on stdout.
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
        # What API Gateway's usage plans do when deployed: per-tenant throttling.
        os.environ.setdefault("RATE_LIMIT_PER_SECOND", "100")
        os.environ.setdefault("RATE_LIMIT_BURST", "200")
        for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
            os.environ.pop(name, None)

    def _operator_key(self) -> str:
        """A fresh operator key for this run; its hash is the configuration, like deployed."""
        from chalicelib.tenancy import KEY_PREFIX, hash_key

        key = KEY_PREFIX + secrets.token_urlsafe(32)
        os.environ["OPERATOR_KEY_SHA256"] = hash_key(key)
        self._write_secret(self.state_dir / "admin-api-key", key)
        return key

    def _write_secret(self, path: Path, value: str) -> None:
        statedir.write_private(path, value + "\n")

    def _seed(self) -> dict[str, str]:
        from chalicelib.tenancy import create_tenant

        keys = {}
        for tenant in self.seed_tenants:
            keys[tenant] = create_tenant(tenant)
            self._write_secret(self.state_dir / f"{tenant}-api-key", keys[tenant])
        return keys

    def _serve_api(self, app: Any) -> str:
        assert self._server is not None
        self._server.attach(app)
        self._server_thread = threading.Thread(
            target=self._server.serve_forever, name="api-server", daemon=True
        )
        self._server_thread.start()
        return f"http://{self.host}:{self._server.server_address[1]}"

    def _start_runner(self, app_module: Any, resources: Any) -> None:
        from chalice.local import LambdaContext

        from chalicelib.local.runner import (
            DynamoDBStreamSource,
            EventSourceRunner,
            KinesisSource,
            QueueOptions,
            QueueSource,
            SourceOptions,
        )

        def context(name: str) -> Any:
            return lambda: LambdaContext(name, 512, max_runtime_ms=60_000)

        sources = [
            KinesisSource(
                stream_name=os.environ.get("SCAN_STREAM", "pipeguard-scans"),
                region=REGION,
                name="evaluate_artifacts",
                arn=resources.scan_stream_arn,
                handler=app_module.evaluate_artifacts,
                options=SourceOptions(batch_size=50),
                dead_letter_queue_url=resources.dead_letter_queue_url,
                context_factory=context("pipeguard-dev-evaluate_artifacts"),
            ),
            DynamoDBStreamSource(
                name="index_findings",
                arn=resources.findings_stream_arn,
                handler=app_module.index_findings,
                options=SourceOptions(batch_size=100),
                dead_letter_queue_url=resources.dead_letter_queue_url,
                context_factory=context("pipeguard-dev-index_findings"),
            ),
        ]
        queues = [
            QueueSource(
                name="collect_account_scans",
                queue_url=resources.account_scan_queue_url,
                handler=app_module.collect_account_scans,
                options=QueueOptions(batch_size=1, wait_seconds=1),
                context_factory=lambda: LambdaContext(
                    "pipeguard-dev-collect_account_scans", 512, max_runtime_ms=900_000
                ),
                region=REGION,
            )
        ]
        self._runner = EventSourceRunner(sources, queues=queues)
        self._runner.start()
