"""The local stack: every arrow of the deployed architecture, on one machine, no AWS account.

Two backends behind the same API:
- `embedded` (the default, `make run`): the stores on SQLite and files in the state directory
  (`chalicelib.stores.embedded`), so tenants, keys, policies, scans and findings survive
  restarts and kill -9; the event sources and the schedule run in worker processes
  (`chalicelib.local.workers`).
- `aws` (`make run-aws`): the AWS adapters against moto's server over the real wire protocol,
  state in moto's memory (`chalicelib.local.moto_backend`).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import secrets
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalicelib.local import statedir
from chalicelib.local.statedir import StateLock

if TYPE_CHECKING:
    from chalicelib.local.server import ApiServer

log = logging.getLogger(__name__)

BACKENDS = ("embedded", "aws")
# What a tool needs to act on the running stack's stores and index (see chalicelib.ops).
ENVIRONMENT_KEYS = (
    "PIPEGUARD_BACKEND",
    "PIPEGUARD_HOME",
    "PIPEGUARD_PUBLIC_URL",
    "PIPEGUARD_TENANT_AWS_ENDPOINT_URL",
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
    backend: str = "embedded"
    children: list[int] = field(default_factory=list)
    """Process ids of the stack's own processes (workers, or moto): they end with it."""


class EmbeddedStack:
    """API server + stores + event sources + search index, on `backend` (one of BACKENDS).

    A stack holds a lock on `state_dir` and its API port before it changes anything there
    (see `start`).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 8000,
        state_dir: str | Path = ".local",
        seed_tenants: tuple[str, ...] = ("demo",),
        backend: str = "embedded",
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"backend {backend!r}: expected one of {', '.join(BACKENDS)}")
        self.host = host
        self.port = port
        self.state_dir = Path(state_dir).resolve()
        self.seed_tenants = seed_tenants
        self.backend = backend
        self.info: StackInfo | None = None
        self._server: ApiServer | None = None
        self._server_thread: threading.Thread | None = None
        self._moto: Any = None
        self._workers: Any = None
        self._sweeper: Any = None
        self._lock = StateLock(self.state_dir)

    def start(self) -> StackInfo:
        """Start every part; returns once the API answers and the workers poll.

        First the lock on `state_dir` (StateDirBusy if another stack holds it), then the API
        port (PortUnavailable if taken); only then are keys, index and logs in `state_dir`
        written. Whatever fails, what was started is stopped again.
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
        _quiet_defaults()
        # where upload forms are posted (the embedded backend's stand-in for S3)
        os.environ["PIPEGUARD_PUBLIC_URL"] = self._server.url
        if self.backend == "aws":
            from chalicelib.local.moto_backend import MotoBackend

            self._moto = MotoBackend(self.host, self.state_dir)
            endpoint = self._moto.start()
        else:
            endpoint = self._configure_embedded()
        from chalicelib.search.factory import reset_index
        from chalicelib.stores import backend, clients

        clients.reset()
        backend.reset()
        reset_index()

        operator_key = self._operator_key()
        app_module = importlib.import_module("app")
        keys = self._seed()
        self._start_workers(app_module)
        api_url = self._serve_api(app_module.app)
        from chalicelib.local.moto_backend import RESOURCE_KEYS

        wired = ENVIRONMENT_KEYS + RESOURCE_KEYS
        environment = {k: os.environ[k] for k in wired if k in os.environ}
        children = (self._moto or self._workers).pids()
        self.info = StackInfo(
            api_url,
            endpoint,
            str(self.state_dir),
            keys,
            environment,
            operator_key,
            self.backend,
            children,
        )
        self.write_ready_file(self.state_dir / "stack.json")
        return self.info

    def _configure_embedded(self) -> str:
        """Point the stores and the index at the state directory; returns the AWS endpoint
        that account scans reach tenants' accounts through ('' for AWS itself)."""
        os.environ.update(
            PIPEGUARD_BACKEND="embedded",
            PIPEGUARD_HOME=str(self.state_dir),
            SEARCH_BACKEND="sqlite",
            SEARCH_SQLITE_PATH=str(self.state_dir / "search.db"),
        )
        from chalicelib.stores import backend, clients

        clients.reset()
        backend.reset()
        backend.stores().tenants.get("demo")  # opens and migrates the database, or refuses it now
        return os.environ.get("PIPEGUARD_TENANT_AWS_ENDPOINT_URL") or os.environ.get(
            "AWS_ENDPOINT_URL", ""
        )

    def _start_workers(self, app_module: Any) -> None:
        if self._moto is not None:
            self._moto.start_runner(app_module)
            from chalicelib.local.schedule import account_sweeper

            self._sweeper = account_sweeper()
            return
        from chalicelib.local.workers import WorkerProcesses, worker_count

        self._workers = WorkerProcesses(self.state_dir, worker_count())
        self._workers.start()

    def stop(self) -> None:
        """Stop the API server (after the request it is serving), the workers and the sweep
        (after their batches), then moto; release the state directory (safe to call twice)."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._sweeper is not None:
            self._sweeper.stop()
            self._sweeper = None
        if self._workers is not None:
            self._workers.stop()
            self._workers = None
        if self._moto is not None:
            self._moto.stop()
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

    def _operator_key(self) -> str:
        """The operator key (kept in `admin-api-key` across restarts); its hash is the
        configuration, like deployed."""
        from chalicelib.tenancy import KEY_PREFIX, hash_key

        path = self.state_dir / "admin-api-key"
        key = _read_key(path)
        if key is None:
            key = KEY_PREFIX + secrets.token_urlsafe(32)
            statedir.write_private(path, key + "\n")
        os.environ["OPERATOR_KEY_SHA256"] = hash_key(key)
        return key

    def _seed(self) -> dict[str, str]:
        """Create the seed tenants that do not exist yet; an existing one keeps its key (read
        back from its key file, if that is still there)."""
        from chalicelib.tenancy import TenantExists, create_tenant

        keys = {}
        for tenant in self.seed_tenants:
            path = self.state_dir / f"{tenant}-api-key"
            try:
                keys[tenant] = create_tenant(tenant, exist_ok=False)
            except TenantExists:
                key = _read_key(path)
                if key is not None:
                    keys[tenant] = key
                continue
            statedir.write_private(path, keys[tenant] + "\n")
        return keys

    def _serve_api(self, app: Any) -> str:
        assert self._server is not None
        self._server.attach(app)
        self._server_thread = threading.Thread(
            target=self._server.serve_forever, name="api-server", daemon=True
        )
        self._server_thread.start()
        return f"http://{self.host}:{self._server.server_address[1]}"


def _read_key(path: Path) -> str | None:
    from chalicelib.tenancy import KEY_PREFIX

    try:
        key = path.read_text().strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return key if key.startswith(KEY_PREFIX) else None


def _quiet_defaults() -> None:
    """Quiet by default on a terminal: warnings only, no metric documents on stdout; and what
    API Gateway's usage plans do when deployed: per-tenant throttling."""
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("RATE_LIMIT_PER_SECOND", "100")
    os.environ.setdefault("RATE_LIMIT_BURST", "200")
