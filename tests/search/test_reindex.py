"""The rebuild of the search index from DynamoDB (`chalicelib.maintenance.reindex`), on every
adapter: what the index lost comes back, what DynamoDB no longer holds goes, tenants stay apart."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib import maintenance
from chalicelib.search.port import FindingQuery, SearchIndex
from chalicelib.stores import dynamo
from chalicelib.stores.clients import client, settings

from .helpers import make_doc, without_tenant


def _store(docs: list[dict[str, Any]]) -> None:
    table = settings().findings_table
    for doc in docs:
        item = {**doc, "pipeline_key": f"{doc['tenant_id']}#{doc['pipeline']}"}
        client("dynamodb").put_item(TableName=table, Item=dynamo.serialize(item))


def _all(index: SearchIndex, tenant_id: str) -> list[dict[str, Any]]:
    return index.search(tenant_id, FindingQuery(limit=500)).findings


def test_reindex_makes_the_index_equal_dynamodb(
    aws: Any, index: SearchIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(maintenance, "get_index", lambda: index)
    stored = [make_doc("t1", n) for n in range(7)] + [make_doc("t10", n) for n in range(3)]
    _store(stored)
    index.upsert("t1", [make_doc("t1", 2, title="Outdated"), make_doc("t1", 40)])  # 40: gone

    result = maintenance.reindex("t1", batch=3)

    assert (result.tenants, result.indexed, result.removed) == (1, 7, 1)
    assert _all(index, "t1") == [without_tenant(doc) for doc in stored[:7]]
    assert _all(index, "t10") == []  # another tenant is not touched

    result = maintenance.reindex()

    assert (result.tenants, result.indexed, result.removed) == (2, 10, 0)
    assert _all(index, "t10") == [without_tenant(doc) for doc in stored[7:]]
