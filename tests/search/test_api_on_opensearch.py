"""The deployed wiring on a real OpenSearch: `SEARCH_BACKEND=opensearch`, the stream consumer
indexes what a scan found, `GET /v1/findings` searches it per tenant, and the operator's reindex
rebuilds it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api, scan_body


def test_findings_flow_through_opensearch(
    api_url: str,
    keys: dict[str, str],
    operator_key: str,
    pipeline: Any,
    opensearch_url: str,
    index_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chalicelib.search.factory import get_index, reset_index
    from chalicelib.search.opensearch import OpenSearchIndex
    from chalicelib.stores import clients

    monkeypatch.setenv("SEARCH_BACKEND", "opensearch")
    monkeypatch.setenv("OPENSEARCH_ENDPOINT", opensearch_url)
    monkeypatch.setenv("OPENSEARCH_INDEX", index_name)
    clients.reset()
    reset_index()
    acme, globex = Api(api_url, keys["acme"]), Api(api_url, keys["globex"])

    assert acme.post("/v1/scans", json=scan_body()).status_code == 202
    pipeline.drain()

    index = get_index()
    assert isinstance(index, OpenSearchIndex) and index.index == index_name
    found = acme.get("/v1/findings").json()["findings"]
    assert found and {f["pipeline"] for f in found} == {"web"}
    high = acme.get("/v1/findings", params={"severity": "high"}).json()["findings"]
    assert {f["finding_id"] for f in high} == {
        f["finding_id"] for f in found if f["severity"] == "high"
    }
    word = found[0]["title"].split()[0]
    texted = acme.get("/v1/findings", params={"q": word}).json()["findings"]
    assert found[0]["finding_id"] in {f["finding_id"] for f in texted}
    assert globex.get("/v1/findings").json()["findings"] == []

    index.clear()
    assert acme.get("/v1/findings").json()["findings"] == []
    rebuilt = Api(api_url, operator_key).post("/v1/admin/reindex", json={"tenant_id": "acme"})
    assert rebuilt.json() == {"tenants": 1, "indexed": len(found), "removed": 0}
    assert acme.get("/v1/findings").json()["findings"] == found
