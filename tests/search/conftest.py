"""Adapters under test: every `SearchIndex` implementation runs the same contract suite.

SQLite (a temporary file) and OpenSearch through openmock's fake client always run; a real
OpenSearch cluster joins when `OPENSEARCH_URL` is set (e.g. `http://localhost:9200`).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from chalicelib.search.opensearch import OpenSearchIndex, client_from_endpoint
from chalicelib.search.port import SearchIndex
from chalicelib.search.sqlite import SqliteIndex


def _sqlite(tmp_path: Path) -> Iterator[SearchIndex]:
    index = SqliteIndex(str(tmp_path / "search.db"))
    yield index
    index.close()


def _openmock(tmp_path: Path) -> Iterator[SearchIndex]:
    from openmock import FakeOpenSearch

    index = OpenSearchIndex(FakeOpenSearch(), "pipeguard-findings-test")
    index.ensure_index()
    yield index


def _cluster(tmp_path: Path) -> Iterator[SearchIndex]:
    client = client_from_endpoint(os.environ["OPENSEARCH_URL"], "us-east-1")
    name = f"pipeguard-test-{uuid.uuid4().hex[:12]}"
    index = OpenSearchIndex(client, name)
    index.ensure_index()
    yield index
    client.indices.delete(index=name, ignore=[404])


ADAPTERS: dict[str, Callable[[Path], Iterator[SearchIndex]]] = {
    "sqlite": _sqlite,
    "openmock": _openmock,
}
if os.environ.get("OPENSEARCH_URL"):
    ADAPTERS["opensearch"] = _cluster


@pytest.fixture(params=list(ADAPTERS))
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchIndex]:
    yield from ADAPTERS[request.param](tmp_path)


# Adapters whose backend counts facets (terms aggregations) exactly. openmock's fake client does
# not: it ignores `size` and `order` and its `term` matches substrings, so its counts mix
# tenants. A real OpenSearch, entered as "opensearch", counts exactly.
COUNTS_FACETS = {"sqlite", "opensearch"}


@pytest.fixture(params=[name for name in ADAPTERS if name in COUNTS_FACETS])
def facet_index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchIndex]:
    """`index`, on the adapters that count facets."""
    yield from ADAPTERS[request.param](tmp_path)
