"""Adapters under test: every `SearchIndex` implementation runs the same contract suite.

SQLite (a temporary file) and a real OpenSearch 2.19: the run's single local node
(tests/opensearch_node.py, built by `make opensearch-node`), or the cluster at `OPENSEARCH_URL`
when set. Each OpenSearch test gets an index of its own, deleted afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.search.opensearch import OpenSearchIndex, client_from_endpoint
from chalicelib.search.port import SearchIndex
from chalicelib.search.sqlite import SqliteIndex
from tests import opensearch_node

REGION = "us-east-1"


@pytest.fixture(scope="session")
def opensearch_url() -> str:
    """The cluster of this run: `OPENSEARCH_URL`, or the local node (started on first use)."""
    return os.environ.get("OPENSEARCH_URL") or opensearch_node.node_url()


@pytest.fixture
def opensearch_client(opensearch_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The deployed client factory's client: SigV4-signed with credentials the node ignores."""
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "token")
    return client_from_endpoint(opensearch_url, REGION, sign=True)


@pytest.fixture
def index_name(opensearch_client: Any) -> Iterator[str]:
    """A fresh index name, deleted (with its documents) after the test."""
    name = f"pipeguard-test-{uuid.uuid4().hex[:12]}"
    yield name
    opensearch_client.indices.delete(index=name, ignore=[404])


def _sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchIndex]:
    index = SqliteIndex(str(tmp_path / "search.db"))
    yield index
    index.close()


def _opensearch(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchIndex]:
    client = request.getfixturevalue("opensearch_client")
    # refresh=True makes writes searchable at once, as "wait_for" (the default) does, without
    # waiting for the next periodic refresh.
    index = OpenSearchIndex(client, request.getfixturevalue("index_name"), refresh=True)
    index.ensure_index()
    yield index


ADAPTERS: dict[str, Callable[[pytest.FixtureRequest, Path], Iterator[SearchIndex]]] = {
    "sqlite": _sqlite,
    "opensearch": _opensearch,
}


@pytest.fixture(params=list(ADAPTERS))
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchIndex]:
    yield from ADAPTERS[request.param](request, tmp_path)


@pytest.fixture
def facet_index(index: SearchIndex) -> SearchIndex:
    """`index`, for the facet tests: every adapter counts terms exactly (SQLite by its
    covering index, OpenSearch by terms aggregations on keyword fields)."""
    return index
