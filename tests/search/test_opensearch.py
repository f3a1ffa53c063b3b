"""Unit tests of the OpenSearch adapter: mapping, request bodies, client factory, import cost."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from openmock import FakeOpenSearch

from chalicelib.search.opensearch import (
    INDEX_BODY,
    OpenSearchIndex,
    client_from_endpoint,
    doc_id,
    search_body,
)
from chalicelib.search.port import FACET_FIELDS, FILTER_FIELDS, FindingQuery, encode_cursor

from .helpers import make_doc

PROPERTIES = INDEX_BODY["mappings"]["properties"]
TENANT_FILTER = {"term": {"tenant_id": "t1"}}


@pytest.mark.parametrize("field", ["tenant_id", "finding_id", *FILTER_FIELDS])
def test_filter_fields_are_keywords(field: str) -> None:
    assert PROPERTIES[field]["type"] == "keyword"


def test_text_and_typed_fields() -> None:
    assert PROPERTIES["title"]["type"] == PROPERTIES["message"]["type"] == "text"
    for field in ("path", "resource"):
        assert PROPERTIES[field]["type"] == "text"
        assert PROPERTIES[field]["fields"]["keyword"]["type"] == "keyword"
    assert PROPERTIES["rule_id"]["copy_to"] == "rule_id_text"
    assert PROPERTIES["line"]["type"] == "integer"
    assert PROPERTIES["first_seen"]["type"] == PROPERTIES["last_seen"]["type"] == "date"
    assert INDEX_BODY["mappings"]["dynamic"] is False


@pytest.mark.parametrize(
    "query",
    [
        FindingQuery(),
        FindingQuery(q="root AND ("),
        FindingQuery(
            scan_id="s", pipeline="p", severity="high", rule_id="r", artifact_type="junit"
        ),
        FindingQuery(cursor=encode_cursor("fnd_1"), limit=7),
    ],
)
def test_search_body_always_filters_on_the_tenant(query: FindingQuery) -> None:
    body = search_body("t1", query)
    assert body["query"]["bool"]["filter"][0] == TENANT_FILTER
    assert body["sort"] == [{"finding_id": {"order": "asc"}}]
    assert body["size"] == query.limit + 1


def test_search_body_filters_text_and_cursor() -> None:
    body = search_body(
        "t1", FindingQuery(severity="high", q='docker/Dockerfile "root', cursor=encode_cursor("f9"))
    )
    bool_query = body["query"]["bool"]
    assert {"term": {"severity": "high"}} in bool_query["filter"]
    assert {"range": {"finding_id": {"gt": "f9"}}} in bool_query["filter"]
    assert body["search_after"] == ["f9"]
    phrases = [clause["multi_match"] for clause in bool_query["must"]]
    assert [(p["query"], p["type"]) for p in phrases] == [
        ("docker Dockerfile", "phrase"),
        ("root", "phrase_prefix"),
    ]
    assert "must" not in search_body("t1", FindingQuery(q=' * " '))["query"]["bool"]


class RecordingClient(FakeOpenSearch):
    """The fake client, remembering every search body it was sent."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[dict[str, Any]] = []

    def search(self, body: Any = None, index: Any = None, **kwargs: Any) -> Any:
        self.bodies.append(body)
        return super().search(body=body, index=index, **kwargs)


def test_adapter_sends_the_tenant_filter_and_scoped_ids() -> None:
    client = RecordingClient()
    index = OpenSearchIndex(client, "findings")
    index.upsert("t1", [make_doc("t1", 1)])

    index.search("t1", FindingQuery(q="number", severity="high"))

    assert client.bodies[-1]["query"]["bool"]["filter"][0] == TENANT_FILTER
    assert client.exists(index="findings", id=doc_id("t1", make_doc("t1", 1)["finding_id"]))


@pytest.mark.parametrize("field", FACET_FIELDS)
def test_facet_fields_are_keywords(field: str) -> None:
    assert PROPERTIES[field]["type"] == "keyword"


def test_facets_of_a_first_page_ride_on_its_request() -> None:
    client = RecordingClient()
    index = OpenSearchIndex(client, "findings")
    index.upsert("t1", [make_doc("t1", n) for n in range(3)])

    page = index.search("t1", FindingQuery(facets="severity,status", limit=2))

    [body] = client.bodies
    assert body["aggs"]["severity"]["terms"] == {
        "field": "severity",
        "size": 50,
        "shard_size": 500,
        "order": [{"_count": "desc"}, {"_key": "asc"}],
    }
    assert set(body["aggs"]) == {"severity", "status"}
    assert page.facets is not None and set(page.facets) == {"severity", "status"}


def test_facets_after_a_cursor_are_counted_without_it() -> None:
    client = RecordingClient()
    index = OpenSearchIndex(client, "findings")
    index.upsert("t1", [make_doc("t1", n) for n in range(3)])

    index.search(
        "t1", FindingQuery(facets="rule_id", cursor=encode_cursor("fnd_0"), severity="high")
    )

    page_body, facets_body = client.bodies
    assert "aggs" not in page_body
    assert facets_body["size"] == 0 and set(facets_body["aggs"]) == {"rule_id"}
    filters = facets_body["query"]["bool"]["filter"]
    assert filters == [TENANT_FILTER, {"term": {"severity": "high"}}]


def test_facets_of_a_missing_index_are_empty() -> None:
    index = OpenSearchIndex(FakeOpenSearch(), "nothing-yet")
    page = index.search("t1", FindingQuery(facets="pipeline"))
    assert page.findings == [] and page.facets == {"pipeline": []}


def test_upsert_creates_the_index_with_the_mapping() -> None:
    client = FakeOpenSearch()
    OpenSearchIndex(client, "findings").upsert("t1", [make_doc("t1", 1)])
    mapping = client.indices.get_mapping(index="findings")["findings"]["mappings"]
    assert mapping["properties"]["tenant_id"] == {"type": "keyword"}


def test_doc_ids_are_unambiguous() -> None:
    assert doc_id("a:b", "c") != doc_id("a", "b:c")
    assert doc_id("t1", "fnd_1") == "t1:fnd_1"


def test_plain_http_endpoint_is_not_signed() -> None:
    client = client_from_endpoint("http://localhost:9200", "eu-west-1")
    connection = client.transport.get_connection()
    assert connection.host == "http://localhost:9200"
    assert connection.session.auth is None


def test_https_endpoint_is_signed_with_sigv4(monkeypatch: pytest.MonkeyPatch) -> None:
    from opensearchpy import RequestsHttpConnection
    from requests_aws4auth import AWS4Auth

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "token")

    client = client_from_endpoint("search-x.eu-west-1.es.amazonaws.com", "eu-west-1")

    connection = client.transport.get_connection()
    assert isinstance(connection, RequestsHttpConnection)
    assert connection.host == "https://search-x.eu-west-1.es.amazonaws.com:443"
    auth = connection.session.auth
    assert isinstance(auth, AWS4Auth)
    assert (auth.region, auth.service) == ("eu-west-1", "es")
    assert client.transport.kwargs["verify_certs"] is True


def test_invalid_endpoint() -> None:
    with pytest.raises(ValueError):
        client_from_endpoint("ftp://example.com", "eu-west-1")
    with pytest.raises(ValueError):
        client_from_endpoint("", "eu-west-1")


def test_importing_the_adapters_does_not_import_opensearchpy() -> None:
    code = (
        "import sys, chalicelib.search.opensearch, chalicelib.search.sqlite, "
        "chalicelib.search.factory\n"
        "heavy = [m for m in ('opensearchpy', 'boto3', 'botocore', 'requests_aws4auth') "
        "if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)
