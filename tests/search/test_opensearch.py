"""The OpenSearch adapter: mapping, request bodies, client factory and import cost, and what
only a real cluster shows (the mapping it keeps, refresh, mapping updates, signed requests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

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


def test_adapter_sends_the_tenant_filter_and_scoped_ids(
    opensearch_client: Any, index_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bodies: list[dict[str, Any]] = []
    send = opensearch_client.search

    def recording_search(**kwargs: Any) -> Any:
        bodies.append(kwargs["body"])
        return send(**kwargs)

    monkeypatch.setattr(opensearch_client, "search", recording_search)
    index = OpenSearchIndex(opensearch_client, index_name)
    index.upsert("t1", [make_doc("t1", 1)])

    page = index.search("t1", FindingQuery(q="number", severity="high"))

    assert [doc["finding_id"] for doc in page.findings] == [make_doc("t1", 1)["finding_id"]]
    assert bodies[-1]["query"]["bool"]["filter"][0] == TENANT_FILTER
    assert opensearch_client.exists(
        index=index_name, id=doc_id("t1", make_doc("t1", 1)["finding_id"])
    )


@pytest.mark.parametrize("field", FACET_FIELDS)
def test_facet_fields_are_keywords(field: str) -> None:
    assert PROPERTIES[field]["type"] == "keyword"


def _recording(client: Any, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The search bodies the adapter sends through the real client, in order."""
    bodies: list[dict[str, Any]] = []
    search = client.search

    def recorded(*args: Any, **kwargs: Any) -> Any:
        bodies.append(kwargs["body"])
        return search(*args, **kwargs)

    monkeypatch.setattr(client, "search", recorded)
    return bodies


def test_facets_of_a_first_page_ride_on_its_request(
    opensearch_client: Any, index_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = OpenSearchIndex(opensearch_client, index_name, refresh=True)
    index.upsert("t1", [make_doc("t1", n) for n in range(3)])
    bodies = _recording(opensearch_client, monkeypatch)

    page = index.search("t1", FindingQuery(facets="severity,status", limit=2))

    [body] = bodies
    assert body["aggs"]["severity"]["terms"] == {
        "field": "severity",
        "size": 50,
        "shard_size": 500,
        "order": [{"_count": "desc"}, {"_key": "asc"}],
    }
    assert set(body["aggs"]) == {"severity", "status"}
    assert page.facets is not None and set(page.facets) == {"severity", "status"}


def test_facets_after_a_cursor_are_counted_without_it(
    opensearch_client: Any, index_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = OpenSearchIndex(opensearch_client, index_name, refresh=True)
    index.upsert("t1", [make_doc("t1", n) for n in range(3)])
    bodies = _recording(opensearch_client, monkeypatch)

    index.search(
        "t1", FindingQuery(facets="rule_id", cursor=encode_cursor("fnd_0"), severity="high")
    )

    page_body, facets_body = bodies
    assert "aggs" not in page_body
    assert facets_body["size"] == 0 and set(facets_body["aggs"]) == {"rule_id"}
    filters = facets_body["query"]["bool"]["filter"]
    assert filters == [TENANT_FILTER, {"term": {"severity": "high"}}]


def test_facets_of_a_missing_index_are_empty(opensearch_client: Any, index_name: str) -> None:
    index = OpenSearchIndex(opensearch_client, index_name)
    page = index.search("t1", FindingQuery(facets="pipeline"))
    assert page.findings == [] and page.facets == {"pipeline": []}


def test_upsert_creates_the_index_with_the_mapping(opensearch_client: Any, index_name: str) -> None:
    OpenSearchIndex(opensearch_client, index_name).upsert("t1", [make_doc("t1", 1)])

    mapping = opensearch_client.indices.get_mapping(index=index_name)[index_name]["mappings"]

    assert mapping["dynamic"] == "false"
    assert mapping["properties"]["tenant_id"] == {"type": "keyword"}
    assert mapping["properties"]["title"] == {"type": "text", "analyzer": "finding_text"}
    assert set(mapping["properties"]) == set(PROPERTIES)


def test_writes_are_searchable_when_upsert_returns(opensearch_client: Any, index_name: str) -> None:
    index = OpenSearchIndex(opensearch_client, index_name)  # refresh="wait_for", as deployed
    index.upsert("t1", [make_doc("t1", 1)])
    assert len(index.search("t1", FindingQuery(q="number")).findings) == 1

    index.delete("t1", [make_doc("t1", 1)["finding_id"]])
    assert index.search("t1", FindingQuery()).findings == []


def test_missing_index_searches_and_clears_as_empty(
    opensearch_client: Any, index_name: str
) -> None:
    index = OpenSearchIndex(opensearch_client, index_name)

    assert index.search("t1", FindingQuery(q="anything")).findings == []
    index.clear()
    assert not opensearch_client.indices.exists(index=index_name)


def test_an_index_of_an_earlier_release_gets_the_new_fields(
    opensearch_client: Any, index_name: str
) -> None:
    old_fields = ("tenant_id", "finding_id", "scan_id", "severity", "title")
    opensearch_client.indices.create(
        index=index_name,
        body={
            "settings": INDEX_BODY["settings"],
            "mappings": {
                "dynamic": False,
                "properties": {field: PROPERTIES[field] for field in old_fields},
            },
        },
    )
    index = OpenSearchIndex(opensearch_client, index_name, refresh=True)

    index.upsert("t1", [make_doc("t1", 1, account="123456789012"), make_doc("t1", 2)])

    mapping = opensearch_client.indices.get_mapping(index=index_name)[index_name]["mappings"]
    assert set(mapping["properties"]) == set(PROPERTIES)
    page = index.search("t1", FindingQuery(account="123456789012", q="number"))
    assert [doc["finding_id"] for doc in page.findings] == [make_doc("t1", 1)["finding_id"]]


def test_index_created_concurrently_is_not_an_error(
    opensearch_client: Any, index_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    opensearch_client.indices.create(index=index_name, body=INDEX_BODY)
    # Another writer created it between this writer's exists() and create().
    monkeypatch.setattr(opensearch_client.indices, "exists", lambda **kwargs: False)

    OpenSearchIndex(opensearch_client, index_name).ensure_index()


def test_requests_to_the_cluster_are_sigv4_signed(opensearch_client: Any) -> None:
    from requests_aws4auth import AWS4Auth

    connection = opensearch_client.transport.get_connection()
    assert isinstance(connection.session.auth, AWS4Auth)
    sent: list[Any] = []
    connection.session.hooks["response"].append(lambda response, **_: sent.append(response))

    assert opensearch_client.ping()

    (response,) = sent
    assert response.status_code == 200
    headers = response.request.headers
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/us-east-1/es/aws4_request" in headers["Authorization"]
    assert headers["X-Amz-Security-Token"] == "token"


def test_doc_ids_are_unambiguous() -> None:
    assert doc_id("a:b", "c") != doc_id("a", "b:c")
    assert doc_id("t1", "fnd_1") == "t1:fnd_1"


def test_plain_http_endpoint_is_not_signed() -> None:
    client = client_from_endpoint("http://localhost:9200", "eu-west-1")
    connection = client.transport.get_connection()
    assert connection.host == "http://localhost:9200"
    assert connection.session.auth is None


def test_signing_can_be_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    from requests_aws4auth import AWS4Auth

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")

    signed = client_from_endpoint("http://localhost:9200", "eu-west-1", sign=True)
    unsigned = client_from_endpoint("search-x.eu-west-1.es.amazonaws.com", "eu-west-1", sign=False)

    assert isinstance(signed.transport.get_connection().session.auth, AWS4Auth)
    assert unsigned.transport.get_connection().session.auth is None


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
