"""Deployed search adapter: an OpenSearch index reached through an injected opensearch-py client.

`opensearchpy`, `boto3`/`botocore` and `requests_aws4auth` are imported inside functions only:
importing this module costs nothing at a Lambda cold start.

Isolation does not rest on the caller: every query carries `{"term": {"tenant_id": ...}}`, every
document's `_id` is scoped by its tenant (so tenants never overwrite or delete each other's
documents, even with equal finding ids), and hits are checked again on the client side against
the exact filter values (a no-op on a cluster with this module's mapping; it keeps a wrongly
mapped index, or a fake client whose `term` matches substrings, from leaking across tenants).
Facet counts come from terms aggregations, which no client can check again: they rest on the
keyword mapping of `tenant_id` and the facet fields, which every release of the index has had.
"""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from chalicelib.search.port import (
    FACET_SIZE,
    FILTER_FIELDS,
    FacetCount,
    FindingPage,
    FindingQuery,
    decode_cursor,
    encode_cursor,
    text_terms,
)

if TYPE_CHECKING:
    from opensearchpy import OpenSearch

# Exact-match fields (filters, sort key, identifiers): keyword.
KEYWORD_MAPPED = (
    "tenant_id",
    "finding_id",
    "scan_id",
    "pipeline",
    "run_id",
    "commit",
    "artifact_type",
    "severity",
    "status",
    "account",
    "region",
    "service",
)
# Candidates per shard of a facet's terms aggregation (OpenSearch's default: size * 1.5 + 10).
FACET_SHARD_SIZE = 500
# Fields searched by `q`. `path` and `resource` are text with a `.keyword` sub-field, `rule_id`
# (a filter, so keyword) is copied into `rule_id_text`.
QUERY_FIELDS = ("title", "message", "path", "resource", "rule_id_text")
_TEXT = {"type": "text", "analyzer": "finding_text"}

INDEX_BODY: dict[str, Any] = {
    "settings": {
        "analysis": {
            # Tokens are runs of letters and digits, lowercased and folded: the same words the
            # SQLite adapter's `unicode61 remove_diacritics 2` tokenizer sees.
            "tokenizer": {"finding_words": {"type": "pattern", "pattern": "[^\\p{L}\\p{N}]+"}},
            # A word longer than Lucene's term limit (32,766 bytes; e.g. a base64 blob in a
            # message) would make the whole document fail to index: words are cut to 1,000
            # characters (at most 4,000 bytes), the query's words alike.
            "filter": {"finding_word_length": {"type": "truncate", "length": 1000}},
            "analyzer": {
                "finding_text": {
                    "type": "custom",
                    "tokenizer": "finding_words",
                    "filter": ["lowercase", "asciifolding", "finding_word_length"],
                }
            },
        }
    },
    "mappings": {
        # Unknown fields are kept in _source (returned) but not indexed.
        "dynamic": False,
        "properties": {
            **{field: {"type": "keyword"} for field in KEYWORD_MAPPED},
            "rule_id": {"type": "keyword", "copy_to": "rule_id_text"},
            "rule_id_text": _TEXT,
            "title": _TEXT,
            "message": _TEXT,
            "path": {**_TEXT, "fields": {"keyword": {"type": "keyword", "ignore_above": 1024}}},
            "resource": {**_TEXT, "fields": {"keyword": {"type": "keyword", "ignore_above": 1024}}},
            "line": {"type": "integer"},
            "lines": {"type": "integer"},
            "first_seen": {"type": "date"},
            "last_seen": {"type": "date"},
        },
    },
}


def doc_id(tenant_id: str, finding_id: str) -> str:
    """The document `_id`: tenant-scoped, unambiguous (the tenant part never contains ':')."""
    return f"{quote(tenant_id, safe='')}:{finding_id}"


def _phrase(term: str, *, prefix: bool) -> dict[str, Any]:
    clause: dict[str, Any] = {"query": term, "fields": list(QUERY_FIELDS), "type": "phrase"}
    if prefix:
        clause.update(type="phrase_prefix", max_expansions=100)
    return {"multi_match": clause}


def _bool_query(tenant_id: str, query: FindingQuery, after: str | None) -> dict[str, Any]:
    """`query`'s filters and text as a bool query (tenant filter always first); `after` seeks."""
    filters: list[dict[str, Any]] = [{"term": {"tenant_id": tenant_id}}]
    for field in FILTER_FIELDS:
        value = getattr(query, field)
        if value is not None:
            filters.append({"term": {field: value}})
    if after is not None:
        # Same seek as `search_after`, stated as a filter too (fake clients ignore search_after).
        filters.append({"range": {"finding_id": {"gt": after}}})
    bool_query: dict[str, Any] = {"filter": filters}
    terms = text_terms(query.q)
    if terms:
        # Every term must match (as a phrase, within one field); the last one as a prefix.
        must = [_phrase(term, prefix=False) for term in terms[:-1]]
        must.append(_phrase(terms[-1], prefix=True))
        bool_query["must"] = must
    return {"bool": bool_query}


def facet_aggs(fields: tuple[str, ...]) -> dict[str, Any]:
    """One terms aggregation per facet field: top values by count, then by value."""
    return {
        field: {
            "terms": {
                "field": field,
                "size": FACET_SIZE,
                # Each shard sends more candidates than it keeps, so the top values are exact
                # for fields with fewer distinct values than this (all but large rule sets).
                "shard_size": FACET_SHARD_SIZE,
                "order": [{"_count": "desc"}, {"_key": "asc"}],
            }
        }
        for field in fields
    }


def search_body(tenant_id: str, query: FindingQuery) -> dict[str, Any]:
    """The request body of one page of `query` for this tenant.

    Without a cursor the facets ride on the same request (aggregations see every match, not
    only the page's hits); after a cursor they need `facets_body`, which seeks nowhere.
    """
    after = decode_cursor(query.cursor) if query.cursor is not None else None
    body: dict[str, Any] = {
        "query": _bool_query(tenant_id, query, after),
        "sort": [{"finding_id": {"order": "asc"}}],
        "size": query.limit + 1,
        "track_total_hits": False,
    }
    if after is not None:
        body["search_after"] = [after]
    elif query.facet_fields:
        body["aggs"] = facet_aggs(query.facet_fields)
    return body


def facets_body(tenant_id: str, query: FindingQuery) -> dict[str, Any]:
    """Only the facet counts of `query` (no hits, no cursor): `size: 0`."""
    return {
        "query": _bool_query(tenant_id, query, None),
        "size": 0,
        "track_total_hits": False,
        "aggs": facet_aggs(query.facet_fields),
    }


def _facet_counts(response: dict[str, Any], fields: tuple[str, ...]) -> dict[str, list[FacetCount]]:
    aggregations = response.get("aggregations", {})
    return {
        field: [
            FacetCount(value=str(bucket["key"]), count=int(bucket["doc_count"]))
            for bucket in aggregations.get(field, {}).get("buckets", [])
        ]
        for field in fields
    }


def _matches(source: dict[str, Any], tenant_id: str, query: FindingQuery) -> bool:
    """Exact check of the keyword filters on a hit (defence in depth, see module docstring)."""
    if source.get("tenant_id") != tenant_id:
        return False
    return all(
        getattr(query, field) is None or source.get(field) == getattr(query, field)
        for field in FILTER_FIELDS
    )


class OpenSearchIndex:
    """`SearchIndex` over one OpenSearch index, through an injected opensearch-py client."""

    def __init__(self, client: Any, index: str, *, refresh: bool | str = "wait_for") -> None:
        self.client = client
        self.index = index
        # Writes wait until searchable by default: the API reads its own writes.
        self.refresh = refresh
        self._ready = False
        self._lock = threading.Lock()

    def ensure_index(self) -> None:
        """Create the index with its explicit mapping, or add new fields to an existing one."""
        from opensearchpy.exceptions import RequestError

        with self._lock:
            if self._ready:
                return
            if not self.client.indices.exists(index=self.index):
                try:
                    self.client.indices.create(index=self.index, body=INDEX_BODY)
                except RequestError as exc:  # created concurrently by another writer
                    if exc.error != "resource_already_exists_exception":
                        raise
            else:  # an index made by an earlier release gets the fields added since (additive)
                self.client.indices.put_mapping(
                    index=self.index, body={"properties": INDEX_BODY["mappings"]["properties"]}
                )
            self._ready = True

    def grouped(self) -> contextlib.AbstractContextManager[None]:
        """Each write is a bulk request of its own (OpenSearch has no transactions)."""
        return contextlib.nullcontext()

    def upsert(self, tenant_id: str, docs: list[dict[str, Any]]) -> None:
        """Index (create or replace) documents in bulk; every doc must be this tenant's."""
        for doc in docs:
            if doc.get("tenant_id") != tenant_id:
                raise ValueError(f"document tenant {doc.get('tenant_id')!r} is not {tenant_id!r}")
            if not doc.get("finding_id"):
                raise ValueError("document without finding_id")
        if not docs:
            return
        from opensearchpy import helpers

        self.ensure_index()
        actions = [
            {
                "_op_type": "index",
                "_index": self.index,
                "_id": doc_id(tenant_id, doc["finding_id"]),
                "_source": doc,
            }
            for doc in docs
        ]
        helpers.bulk(self.client, actions, refresh=self.refresh)

    def delete(self, tenant_id: str, finding_ids: list[str]) -> None:
        """Delete this tenant's documents by id in bulk; absent ids (404) are ignored."""
        if not finding_ids:
            return
        from opensearchpy import helpers

        self.ensure_index()  # a bulk delete may auto-create a missing index without our mapping
        actions = [
            {"_op_type": "delete", "_index": self.index, "_id": doc_id(tenant_id, finding_id)}
            for finding_id in finding_ids
        ]
        helpers.bulk(self.client, actions, ignore_status=(404,), refresh=self.refresh)

    def search(self, tenant_id: str, query: FindingQuery) -> FindingPage:
        """One page of this tenant's matching documents, by ascending finding id."""
        from opensearchpy.exceptions import NotFoundError

        fields = query.facet_fields
        body = search_body(tenant_id, query)
        try:
            response = self.client.search(index=self.index, body=body)
            if fields and "aggs" not in body:
                counted = self.client.search(index=self.index, body=facets_body(tenant_id, query))
            else:
                counted = response
        except NotFoundError:  # nothing indexed yet
            return FindingPage(findings=[], facets={field: [] for field in fields} or None)
        facets = _facet_counts(counted, fields) if fields else None
        hits = response["hits"]["hits"]
        page = hits[: query.limit]
        findings = [
            {key: value for key, value in hit["_source"].items() if key != "tenant_id"}
            for hit in page
            if _matches(hit["_source"], tenant_id, query)
        ]
        # The cursor follows the last hit seen, kept or not, so no document is skipped.
        next_cursor = None
        if len(hits) > query.limit:
            next_cursor = encode_cursor(page[-1]["_source"]["finding_id"])
        return FindingPage(findings=findings, next_cursor=next_cursor, facets=facets)

    def clear(self) -> None:
        """Delete every document (the index and its mapping stay)."""
        from opensearchpy.exceptions import NotFoundError

        with contextlib.suppress(NotFoundError):  # no index, no documents
            self.client.delete_by_query(
                index=self.index,
                body={"query": {"match_all": {}}},
                conflicts="proceed",
                refresh=True,
            )


def client_from_endpoint(endpoint: str, region: str, *, sign: bool | None = None) -> OpenSearch:
    """An OpenSearch client for `endpoint`: SigV4-signed (botocore credential chain) over HTTPS.

    A plain `http://` endpoint is a local cluster: no signing (user:password in the URL is
    sent as basic auth). A host without scheme means HTTPS. `*.aoss.amazonaws.com` hosts are
    signed for OpenSearch Serverless, others for the `es` service. `sign` overrides the
    choice (the tests sign requests to a local plain-HTTP node, which ignores the signature).
    """
    from opensearchpy import OpenSearch, RequestsHttpConnection

    url = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ValueError(f"invalid OpenSearch endpoint {endpoint!r}")
    https = url.scheme == "https"
    options: dict[str, Any] = {
        "hosts": [{"host": url.hostname, "port": url.port or (443 if https else 80)}],
        "use_ssl": https,
        "verify_certs": https,
        "connection_class": RequestsHttpConnection,
        "timeout": 10,
        "max_retries": 2,
        "retry_on_timeout": True,
    }
    if url.path.strip("/"):
        options["url_prefix"] = url.path.strip("/")
    if https if sign is None else sign:
        import botocore.session
        from requests_aws4auth import AWS4Auth

        credentials = botocore.session.Session().get_credentials()
        if credentials is None:
            raise RuntimeError("no AWS credentials found to sign OpenSearch requests")
        service = "aoss" if url.hostname.endswith(".aoss.amazonaws.com") else "es"
        options["http_auth"] = AWS4Auth(
            region=region, service=service, refreshable_credentials=credentials
        )
    elif url.username:
        options["http_auth"] = (url.username, url.password or "")
    return OpenSearch(**options)
