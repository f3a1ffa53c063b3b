"""In-process moto playing a tenant's AWS account, with no pre-loaded AMIs or snapshots."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def account(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A boto3 session on an empty moto account (123456789012, us-east-1).

    AWS managed policies (a second of loading) exist only for tests marked
    `managed_policies`."""
    import boto3
    from moto import mock_aws

    # nothing of the caller's AWS setup (endpoints, profiles, retry settings) reaches moto
    leftovers = ("AWS_ENDPOINT_URL", "AWS_CONFIG", "AWS_SHARED", "AWS_RETRY", "AWS_MAX", "AWS_CA")
    for name in list(__import__("os").environ):
        if name.startswith(leftovers) or name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    managed = request.node.get_closest_marker("managed_policies") is not None
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true" if managed else "false")
    # moto's default AMI list brings ~1,400 snapshots "owned" by every account
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    with mock_aws():
        yield boto3.Session(region_name="us-east-1")


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto server in a process of its own, one per test module."""
    from tests.posture import server

    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with server.moto_server(log) as url:
        yield url


@pytest.fixture
def tenant(endpoint: str) -> Any:
    """The moto server, emptied: a session whose clients talk to it."""
    from tests.posture import server

    server.reset(endpoint)
    return server.session(endpoint)
