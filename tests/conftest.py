"""Shared fixtures: in-process moto with the app's resources, a real local HTTP server, tenants."""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

REPO_ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


def pytest_configure(config: pytest.Config) -> None:
    from tests import opensearch_node

    opensearch_node.configure(config)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    from tests import opensearch_node

    line = opensearch_node.summary(config)
    if line:
        terminalreporter.write_line(line)


def pytest_unconfigure(config: pytest.Config) -> None:
    from tests import opensearch_node

    opensearch_node.unconfigure(config)


@pytest.fixture
def aws(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto (in-process) with every resource the app uses; clients and index reset around it."""
    from moto import mock_aws

    from chalicelib.local.resources import create_all
    from chalicelib.search.factory import reset_index
    from chalicelib.stores import clients

    for name in (
        "AWS_ENDPOINT_URL", "AWS_PROFILE", "ALERT_TOPIC_ARN", "DEAD_LETTER_QUEUE_URL",
        "ACCOUNT_SCAN_QUEUE_URL",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    # botocore addresses DynamoDB Streams by account-id endpoints that in-process moto does not
    # intercept; the classic regional endpoint is equivalent.
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    monkeypatch.setenv("SEARCH_BACKEND", "sqlite")
    monkeypatch.setenv("SEARCH_SQLITE_PATH", str(tmp_path / "search.db"))
    from chalicelib.policy import forget_cached

    forget_cached()
    with mock_aws():
        clients.reset()
        reset_index()
        resources = create_all(clients.settings())
        monkeypatch.setenv("FINDINGS_STREAM_ARN", resources.findings_stream_arn)
        monkeypatch.setenv("ALERT_TOPIC_ARN", resources.alert_topic_arn)
        monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", resources.dead_letter_queue_url)
        monkeypatch.setenv("ACCOUNT_SCAN_QUEUE_URL", resources.account_scan_queue_url)
        clients.reset()
        yield resources
        clients.reset()
        reset_index()


@pytest.fixture
def app_module(aws: Any) -> Any:
    return importlib.import_module("app")


@dataclass
class Pipeline:
    """The event-source runner's sources, polled synchronously by the test: moto's streams
    and queue, or, once a test switched to `PIPEGUARD_BACKEND=embedded`, the embedded
    database's."""

    sources: list[Any]
    app_module: Any = None
    _embedded: list[Any] | None = None

    def active(self) -> list[Any]:
        from chalicelib.config import settings

        if settings().backend != "embedded":
            return self.sources
        if self._embedded is None:
            from chalicelib.local.sqlite_queues import JobQueueOptions, queue_sources
            from chalicelib.local.sqlite_streams import stream_sources

            self._embedded = [
                *stream_sources(self.app_module),
                *queue_sources(self.app_module, JobQueueOptions(retry_after=0)),
            ]
        return self._embedded

    def forget(self) -> None:
        """Drop the embedded sources (and so their hold on the database file)."""
        self._embedded = None

    def drain(self, timeout: float = 20.0) -> None:
        """Poll until every source is idle (nothing fetched, nothing waiting for a retry)."""
        deadline = time.monotonic() + timeout
        idle_passes = 0
        sources = self.active()
        while idle_passes < 2:
            assert time.monotonic() < deadline, "the pipeline did not settle in time"
            moved = sum(source.poll() for source in sources)
            waiting = sum(source.pending() for source in sources)
            idle_passes = idle_passes + 1 if not moved and not waiting else 0
            if waiting and not moved:
                time.sleep(0.01)


@pytest.fixture
def pipeline(aws: Any, app_module: Any) -> Pipeline:
    from chalice.local import LambdaContext

    from chalicelib.local.runner import (
        DynamoDBStreamSource,
        KinesisSource,
        QueueOptions,
        QueueSource,
        SourceOptions,
    )

    def context() -> Any:
        return LambdaContext("test", 512, max_runtime_ms=60_000)

    options = SourceOptions(batch_size=50, retry_delay=0.001)
    sources = [
        KinesisSource(
            stream_name="pipeguard-scans",
            region="us-east-1",
            name="evaluate_artifacts",
            arn=aws.scan_stream_arn,
            handler=app_module.evaluate_artifacts,
            options=options,
            dead_letter_queue_url=aws.dead_letter_queue_url,
            context_factory=context,
        ),
        DynamoDBStreamSource(
            name="index_findings",
            arn=aws.findings_stream_arn,
            handler=app_module.index_findings,
            options=options,
            dead_letter_queue_url=aws.dead_letter_queue_url,
            context_factory=context,
        ),
    ]
    for source in sources:
        source.discover(force=True)
    jobs = QueueSource(
        name="collect_account_scans",
        queue_url=aws.account_scan_queue_url,
        handler=app_module.collect_account_scans,
        options=QueueOptions(retry_after=0),
        context_factory=context,
    )
    return Pipeline([*sources, jobs], app_module)


@pytest.fixture
def api_url(aws: Any, app_module: Any) -> Iterator[str]:
    """The app behind the real local HTTP server (with the gateway's responses), on a free port."""
    import threading

    from chalicelib.local.server import create_server

    server = create_server(app_module.app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.url
    server.stop()


@pytest.fixture
def operator_key(aws: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """The operator's key, configured by its hash as in a deployment."""
    from chalicelib.tenancy import KEY_PREFIX, hash_key

    key = KEY_PREFIX + "operator-" + "o" * 40
    monkeypatch.setenv("OPERATOR_KEY_SHA256", hash_key(key))
    return key


@pytest.fixture
def keys(aws: Any) -> dict[str, str]:
    """API keys (all scopes) of two tenants, acme and globex."""
    from chalicelib.tenancy import create_tenant

    return {name: create_tenant(name) for name in ("acme", "globex")}


class Api:
    """A tiny HTTP client bound to one API key."""

    def __init__(self, base: str, key: str | None) -> None:
        self.base = base
        self.session = requests.Session()
        if key:
            self.session.headers["Authorization"] = f"Bearer {key}"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.base + path, timeout=30, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.post(self.base + path, timeout=30, **kwargs)


def scan_body(
    pipeline: str = "web", run_id: str = "run-1", artifacts: list[dict] | None = None
) -> dict:
    return {
        "pipeline": pipeline,
        "run_id": run_id,
        "commit": "a1b2c3d",
        "artifacts": artifacts
        or [{"type": "dockerfile", "path": "Dockerfile", "content": ROOT_DOCKERFILE}],
    }


ROOT_DOCKERFILE = 'FROM ubuntu:latest\nRUN apt-get update\nCMD ["bash"]\n'
