"""One contract, every adapter: the `index` fixture runs each test on SQLite and on a real
OpenSearch 2.19 (the run's local node, or `OPENSEARCH_URL`).

Tenant ids, filter values and texts contain one another ("t1" and "t10", "api" and "api-v2"):
an adapter that matched substrings instead of exact values would give a wrong answer.
"""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.search.port import (
    FILTER_FIELDS,
    FindingQuery,
    InvalidCursor,
    SearchIndex,
    encode_cursor,
)

from .helpers import make_doc, without_tenant

T1, T10 = "t1", "t10"


def ids(index: SearchIndex, tenant_id: str, **query: Any) -> list[str]:
    """Finding ids of the first page (limit 500) of `query`."""
    page = index.search(tenant_id, FindingQuery(limit=500, **query))
    assert page.next_cursor is None
    return [doc["finding_id"] for doc in page.findings]


def fid(n: int) -> str:
    return f"fnd_{n:024x}"


def walk(index: SearchIndex, tenant_id: str, limit: int, **query: Any) -> list[list[str]]:
    """Every page of `query`, following cursors."""
    pages: list[list[str]] = []
    cursor = None
    while True:
        page = index.search(tenant_id, FindingQuery(limit=limit, cursor=cursor, **query))
        assert len(page.findings) <= limit
        pages.append([doc["finding_id"] for doc in page.findings])
        cursor = page.next_cursor
        if cursor is None:
            return pages
        assert len(pages) < 100, "pagination does not end"


def test_upsert_then_search_returns_whole_doc_without_tenant(index: SearchIndex) -> None:
    doc = make_doc(T1, 1, resource="AppBucket", commit=None, line=None, lines=[])
    index.upsert(T1, [doc])

    page = index.search(T1, FindingQuery())

    assert page.findings == [without_tenant(doc)]
    assert page.next_cursor is None


def test_search_of_empty_index(index: SearchIndex) -> None:
    assert index.search(T1, FindingQuery(q="anything")).findings == []


def test_upsert_is_idempotent_and_replaces(index: SearchIndex) -> None:
    index.upsert(T1, [make_doc(T1, 1)])
    index.upsert(T1, [make_doc(T1, 1)])
    index.upsert(T1, [make_doc(T1, 1, title="Renamed problem", status="fixed")])

    page = index.search(T1, FindingQuery())

    assert [d["finding_id"] for d in page.findings] == [fid(1)]
    assert page.findings[0]["title"] == "Renamed problem"
    assert page.findings[0]["status"] == "fixed"
    assert ids(index, T1, q="renamed") == [fid(1)]
    assert ids(index, T1, q="number") == []


def test_bulk_upsert_larger_than_one_request(index: SearchIndex) -> None:
    docs = [make_doc(T1, n, severity=("high", "low")[n % 2]) for n in range(1234)]
    index.upsert(T1, docs)
    index.upsert(T1, [make_doc(T1, n, severity="critical") for n in range(0, 1234, 100)])

    pages = walk(index, T1, limit=500)

    assert [len(page) for page in pages] == [500, 500, 234]
    assert [i for page in pages for i in page] == [fid(n) for n in range(1234)]
    assert ids(index, T1, severity="critical") == [fid(n) for n in range(0, 1234, 100)]


def test_a_very_long_word_is_indexed_and_found(index: SearchIndex) -> None:
    # e.g. a base64 blob in a test failure message: one token longer than a Lucene term may be
    blob = "QUJD" * 10_000
    docs = [make_doc(T1, 1, message=f"leaked {blob} here", title=blob), make_doc(T1, 2)]
    index.upsert(T1, docs)

    assert ids(index, T1) == [fid(1), fid(2)]
    assert ids(index, T1, q="leaked here") == [fid(1)]
    assert ids(index, T1, q="QUJDQUJD") == [fid(1)]


def test_upsert_of_nothing(index: SearchIndex) -> None:
    index.upsert(T1, [])
    assert ids(index, T1) == []


# Values that contain one another: a substring match instead of an exact one shows up.
FILTER_VALUES: dict[str, tuple[str, str, str]] = {
    "scan_id": ("scn_1", "scn_10", "scn 1"),
    "pipeline": ("api", "api-v2", "web api"),
    "severity": ("low", "high", "critical"),
    "rule_id": ("DF001", "DF0010", "CFN_DF001"),
    "artifact_type": ("junit", "dockerfile", "cloudformation"),
    "status": ("new", "fixed", "waived"),
    "account": ("123456789012", "1234567890123", "0123456789012"),
    "region": ("us-east-1", "eu-west-1", "global"),
    "service": ("s3", "s3control", "ec2"),
}


@pytest.mark.parametrize("field", FILTER_FIELDS)
def test_each_filter_is_exact(index: SearchIndex, field: str) -> None:
    values = FILTER_VALUES[field]
    docs = [make_doc(T1, n, **{field: values[n % 3]}) for n in range(9)]
    index.upsert(T1, docs)

    for value in values:
        expected = sorted(d["finding_id"] for d in docs if d[field] == value)
        assert ids(index, T1, **{field: value}) == expected
    assert ids(index, T1, **{field: "absent"}) == []


def test_filters_combine_with_and(index: SearchIndex) -> None:
    docs = [
        make_doc(T1, 1, scan_id="scn_a", severity="high", rule_id="DF001"),
        make_doc(T1, 2, scan_id="scn_a", severity="low", rule_id="DF001"),
        make_doc(T1, 3, scan_id="scn_b", severity="high", rule_id="DF001"),
        make_doc(T1, 4, scan_id="scn_a", severity="high", rule_id="DF002", pipeline="web"),
    ]
    index.upsert(T1, docs)

    assert ids(index, T1, scan_id="scn_a", severity="high") == [fid(1), fid(4)]
    assert ids(index, T1, scan_id="scn_a", severity="high", rule_id="DF001") == [fid(1)]
    assert ids(index, T1, scan_id="scn_a", pipeline="web", artifact_type="dockerfile") == [fid(4)]
    assert ids(index, T1, scan_id="scn_b", severity="low") == []


TEXT_DOCS = [
    make_doc(
        T1,
        1,
        title="Container runs as root",
        message="Add a USER instruction",
        path="docker/Dockerfile",
    ),
    make_doc(
        T1,
        2,
        title="Bucket is public",
        message="Block public access on the bucket",
        path="infra/storage.yaml",
        resource="AppBucket",
        artifact_type="cloudformation",
        rule_id="CF002",
    ),
    make_doc(
        T1,
        3,
        title="Café naïve check",
        message="unicode ünïcödé text",
        path="svc/app.yaml",
        artifact_type="cloudformation",
        rule_id="CF003",
        severity="low",
    ),
    make_doc(
        T1,
        4,
        title='Quote " star * AND ( NEAR( operators',
        message="literal syntax",
        path="ops/weird.yaml",
        artifact_type="cloudformation",
        rule_id="CF004",
    ),
]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("root", [1]),  # title
        ("user", [1]),  # message, any case
        ("Bucket PUBLIC", [2]),  # every term must match
        ("bucket root", []),
        ("Dockerfile", [1]),  # path
        ("docker/Dockerfile", [1]),
        ("storage", [2]),
        ("buck", [2]),  # the last term is a prefix
        ("café", [3]),
        ("ünïcödé", [3]),
        ("AND (", [4]),  # operators are words, not syntax
        ("NEAR(", [4]),
        ("star*", [4]),
        ('"quote', [4]),
        ("zebra", []),
        ("", [1, 2, 3, 4]),  # no searchable word: no text filter
        ("   ", [1, 2, 3, 4]),
        ('"', [1, 2, 3, 4]),
        ("*", [1, 2, 3, 4]),
    ],
)
def test_free_text(index: SearchIndex, q: str, expected: list[int]) -> None:
    index.upsert(T1, TEXT_DOCS)
    assert ids(index, T1, q=q) == [fid(n) for n in expected]


@pytest.mark.parametrize(
    "q",
    [
        '"',
        '""',
        "'",
        "*",
        "AND (",
        "OR",
        "NOT",
        "NEAR(a b, 2)",
        "title:root",
        "^root",
        "a AND (b OR",
        ")(",
        "-root",
        "+root",
        "\\",
        "{}[]",
        "a\"b'c",
        "🔥 emoji",
        "日本語",
        "x" * 500,
        "\x00",
    ],
)
def test_hostile_text_never_fails(index: SearchIndex, q: str) -> None:
    index.upsert(T1, TEXT_DOCS)
    page = index.search(T1, FindingQuery(q=q, limit=10))
    assert {d["finding_id"] for d in page.findings} <= {d["finding_id"] for d in TEXT_DOCS}


def test_free_text_with_filters(index: SearchIndex) -> None:
    index.upsert(T1, TEXT_DOCS)
    assert ids(index, T1, q="yaml", severity="high") == [fid(2), fid(4)]
    assert ids(index, T1, q="yaml", artifact_type="dockerfile") == []


def test_pagination_walks_every_doc_once_in_order(index: SearchIndex) -> None:
    docs = [make_doc(T1, n) for n in (7, 3, 22, 1, 15, 9, 12, 4, 18, 2, 20, 5, 11)]
    index.upsert(T1, docs)

    pages = walk(index, T1, limit=4)

    assert [len(page) for page in pages] == [4, 4, 4, 1]
    assert [i for page in pages for i in page] == sorted(d["finding_id"] for d in docs)


def test_pagination_ends_without_cursor_on_an_exact_boundary(index: SearchIndex) -> None:
    index.upsert(T1, [make_doc(T1, n) for n in range(6)])
    assert [len(page) for page in walk(index, T1, limit=3)] == [3, 3]


def test_pagination_with_filters_and_text(index: SearchIndex) -> None:
    docs = [make_doc(T1, n, severity="high" if n % 2 else "low") for n in range(20)]
    index.upsert(T1, docs)

    pages = walk(index, T1, limit=3, severity="high", q="finding")

    expected = sorted(d["finding_id"] for d in docs if d["severity"] == "high")
    assert [i for page in pages for i in page] == expected


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not a cursor",
        "%%%",
        "abc",
        "Zm5kXzE",
        "AAAA",
        encode_cursor("x")[:-2] + "!!",
        "a" * 5000,
    ],
)
def test_invalid_cursor(index: SearchIndex, cursor: str) -> None:
    index.upsert(T1, [make_doc(T1, 1)])
    with pytest.raises(InvalidCursor, match="invalid cursor"):
        index.search(T1, FindingQuery(cursor=cursor))


def test_invalid_cursor_is_a_value_error() -> None:
    assert issubclass(InvalidCursor, ValueError)
    assert str(InvalidCursor()) == "invalid cursor"


def test_delete(index: SearchIndex) -> None:
    index.upsert(T1, [make_doc(T1, n) for n in range(4)])

    index.delete(T1, [fid(1), fid(3), fid(99)])  # an absent id is ignored
    index.delete(T1, [])

    assert ids(index, T1) == [fid(0), fid(2)]
    assert ids(index, T1, q="number") == [fid(0), fid(2)]


def test_tenants_with_the_same_finding_ids_are_isolated(index: SearchIndex) -> None:
    index.upsert(T1, [make_doc(T1, n, title=f"One alpha {n}") for n in range(5)])
    index.upsert(T10, [make_doc(T10, n, title=f"Ten beta {n}") for n in range(3, 8)])

    one = index.search(T1, FindingQuery(limit=500)).findings
    ten = index.search(T10, FindingQuery(limit=500)).findings

    assert [d["finding_id"] for d in one] == [fid(n) for n in range(5)]
    assert all(d["title"].startswith("One alpha") for d in one)
    assert [d["finding_id"] for d in ten] == [fid(n) for n in range(3, 8)]
    assert all(d["title"].startswith("Ten beta") for d in ten)
    assert ids(index, T1, q="beta") == []
    assert ids(index, T10, q="alpha") == []
    assert ids(index, T1, scan_id="scn_1", q="alpha") == [fid(n) for n in range(5)]
    assert ids(index, "t") == []
    assert ids(index, "t1 t10") == []


def test_the_same_aws_account_in_two_tenants_stays_apart(index: SearchIndex) -> None:
    where = {"account": "123456789012", "region": "us-east-1", "service": "ec2"}
    index.upsert(T1, [make_doc(T1, n, **where) for n in range(3)])
    index.upsert(T10, [make_doc(T10, n, **where) for n in range(2, 4)])

    for field, value in where.items():
        assert ids(index, T1, **{field: value}) == [fid(n) for n in range(3)]
        assert ids(index, T10, **{field: value}) == [fid(n) for n in range(2, 4)]
    assert ids(index, "t", account="123456789012") == []


def test_pages_never_mix_tenants(index: SearchIndex) -> None:
    index.upsert(T1, [make_doc(T1, n) for n in range(0, 30, 2)])
    index.upsert(T10, [make_doc(T10, n) for n in range(1, 30, 2)])

    pages = walk(index, T1, limit=4)

    assert [i for page in pages for i in page] == [fid(n) for n in range(0, 30, 2)]
    # A cursor taken from another tenant's page only moves the position.
    ten_page = index.search(T10, FindingQuery(limit=2))
    assert ten_page.next_cursor is not None
    after = index.search(T1, FindingQuery(limit=500, cursor=ten_page.next_cursor))
    assert [d["finding_id"] for d in after.findings] == [fid(n) for n in range(4, 30, 2)]


def test_upsert_rejects_another_tenants_doc_and_writes_nothing(index: SearchIndex) -> None:
    with pytest.raises(ValueError):
        index.upsert(T1, [make_doc(T1, 1), make_doc(T10, 2)])
    with pytest.raises(ValueError):
        index.upsert(T1, [{k: v for k, v in make_doc(T1, 3).items() if k != "tenant_id"}])

    assert ids(index, T1) == []
    assert ids(index, T10) == []


def test_delete_by_another_tenant_leaves_the_doc(index: SearchIndex) -> None:
    index.upsert(T1, [make_doc(T1, 1), make_doc(T1, 2)])
    index.upsert(T10, [make_doc(T10, 2)])

    index.delete(T10, [fid(1), fid(2)])

    assert ids(index, T1) == [fid(1), fid(2)]
    assert ids(index, T10) == []


def test_clear(index: SearchIndex) -> None:
    index.upsert(T1, [make_doc(T1, n) for n in range(3)])
    index.upsert(T10, [make_doc(T10, n) for n in range(3)])

    index.clear()

    assert ids(index, T1) == []
    assert ids(index, T10, q="number") == []
    index.upsert(T1, [make_doc(T1, 1)])
    assert ids(index, T1, q="number") == [fid(1)]


# --- facets ----------------------------------------------------------------------------------


def counts(page: Any) -> dict[str, list[tuple[str, int]]]:
    return {field: [(c.value, c.count) for c in values] for field, values in page.facets.items()}


def _facet_world(index: SearchIndex) -> None:
    """T1: 6 docs over two pipelines and three severities; T10: look-alike values, more docs."""
    index.upsert(
        T1,
        [
            make_doc(T1, 1, pipeline="api", severity="high", rule_id="DF001", title="Root user"),
            make_doc(T1, 2, pipeline="api", severity="high", rule_id="DF002", title="Root shell"),
            make_doc(T1, 3, pipeline="api", severity="low", rule_id="DF001", status="fixed"),
            make_doc(T1, 4, pipeline="web", severity="critical", rule_id="DF001"),
            make_doc(T1, 5, pipeline="web", severity="low", rule_id="CF010", title="Root key"),
            make_doc(T1, 6, pipeline="web", severity="low", rule_id="CF010", artifact_type="cfn"),
        ],
    )
    index.upsert(
        T10,
        [
            make_doc(T10, n, pipeline="api-x", severity="high", rule_id="DF001", title="Root")
            for n in range(1, 12)
        ],
    )


ALL_FACETS = "severity,rule_id,pipeline,artifact_type,status"


def test_facets_count_every_match_of_the_tenant(facet_index: SearchIndex) -> None:
    _facet_world(facet_index)

    page = facet_index.search(T1, FindingQuery(facets=ALL_FACETS))

    assert counts(page) == {
        "severity": [("low", 3), ("high", 2), ("critical", 1)],
        "rule_id": [("DF001", 3), ("CF010", 2), ("DF002", 1)],
        "pipeline": [("api", 3), ("web", 3)],
        "artifact_type": [("dockerfile", 5), ("cfn", 1)],
        "status": [("open", 5), ("fixed", 1)],
    }
    assert len(page.findings) == 6


def test_facets_follow_filters_and_full_text(facet_index: SearchIndex) -> None:
    _facet_world(facet_index)

    by_pipeline = facet_index.search(T1, FindingQuery(pipeline="web", facets="severity,rule_id"))
    assert counts(by_pipeline) == {
        "severity": [("low", 2), ("critical", 1)],
        "rule_id": [("CF010", 2), ("DF001", 1)],
    }
    by_text = facet_index.search(T1, FindingQuery(q="root", facets="pipeline,severity"))
    assert counts(by_text) == {
        "pipeline": [("api", 2), ("web", 1)],
        "severity": [("high", 2), ("low", 1)],
    }
    both = facet_index.search(T1, FindingQuery(q="root", severity="high", facets="rule_id"))
    assert counts(both) == {"rule_id": [("DF001", 1), ("DF002", 1)]}


def test_facets_ignore_the_cursor(facet_index: SearchIndex) -> None:
    _facet_world(facet_index)
    query = {"severity": "low", "facets": "pipeline,status", "limit": 1}

    first = facet_index.search(T1, FindingQuery(**query))
    second = facet_index.search(T1, FindingQuery(**query, cursor=first.next_cursor))

    expected = {"pipeline": [("web", 2), ("api", 1)], "status": [("open", 2), ("fixed", 1)]}
    assert counts(first) == counts(second) == expected
    assert [d["finding_id"] for d in first.findings + second.findings] == [fid(3), fid(5)]


def test_facets_never_count_another_tenants_docs(facet_index: SearchIndex) -> None:
    _facet_world(facet_index)

    ten = facet_index.search(T10, FindingQuery(facets="pipeline,rule_id"))
    one = facet_index.search(T1, FindingQuery(facets="pipeline", q="root", severity="high"))

    assert counts(ten) == {"pipeline": [("api-x", 11)], "rule_id": [("DF001", 11)]}
    assert counts(one) == {"pipeline": [("api", 2)]}
    assert counts(facet_index.search("t", FindingQuery(facets="pipeline"))) == {"pipeline": []}


def test_facets_of_nothing_are_empty_lists(facet_index: SearchIndex) -> None:
    empty = facet_index.search(T1, FindingQuery(facets="severity,status"))
    assert counts(empty) == {"severity": [], "status": []}
    _facet_world(facet_index)
    none = facet_index.search(T1, FindingQuery(q="nowhere", facets="severity"))
    assert counts(none) == {"severity": []} and none.findings == []


def test_facets_keep_the_top_50_by_count_then_value(facet_index: SearchIndex) -> None:
    # rule R00..R59: R00-R09 twice each, the others once; ties break by value
    docs = [make_doc(T1, n, rule_id=f"R{n % 60:02d}") for n in range(70)]
    facet_index.upsert(T1, docs)

    page = facet_index.search(T1, FindingQuery(facets="rule_id", limit=1))

    expected = [(f"R{n:02d}", 2) for n in range(10)] + [(f"R{n:02d}", 1) for n in range(10, 50)]
    assert counts(page) == {"rule_id": expected}


def test_facets_only_when_asked(index: SearchIndex) -> None:
    index.upsert(T1, [make_doc(T1, 1)])
    assert index.search(T1, FindingQuery()).facets is None
    assert index.search(T1, FindingQuery(facets=" , ")).facets is None


def test_facet_names_dedupe_and_refuse_unknown_ones() -> None:
    assert FindingQuery(facets="status, severity,,status").facet_fields == ("status", "severity")
    with pytest.raises(ValueError, match="severity, rule_id, pipeline, artifact_type, status"):
        FindingQuery(facets="severity,owner")


def test_facets_under_filters_outside_the_facet_fields(facet_index: SearchIndex) -> None:
    facet_index.upsert(
        T1,
        [
            make_doc(T1, 1, scan_id="scn_a", service="ec2", severity="low"),
            make_doc(T1, 2, scan_id="scn_a", service="s3"),
            make_doc(T1, 3, scan_id="scn_b", service="ec2"),
        ],
    )

    by_scan = facet_index.search(T1, FindingQuery(scan_id="scn_a", facets="severity"))
    by_service = facet_index.search(T1, FindingQuery(service="ec2", q="number", facets="severity"))

    assert counts(by_scan) == {"severity": [("high", 1), ("low", 1)]}
    assert counts(by_service) == {"severity": [("high", 1), ("low", 1)]}


def test_grouped_writes_of_several_tenants_are_all_applied(index: SearchIndex) -> None:
    with index.grouped():
        index.upsert(T1, [make_doc(T1, 1), make_doc(T1, 2)])
        index.upsert(T10, [make_doc(T10, 3)])
        index.delete(T1, [fid(2)])
    assert ids(index, T1) == [fid(1)]
    assert ids(index, T10) == [fid(3)]
