"""`FindingStore`: one finding per id however often it is written, grouped reads, paging
through a tenant's findings, tenant scoping."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib import ids
from chalicelib.stores.ports import Stores


def _finding(tenant_id: str, n: int, path: str = "a.yaml", **changes: Any) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "finding_id": f"fnd_{n:024x}",
        "artifact_key": ids.artifact_key(tenant_id, "web", path),
        "pipeline_key": ids.pipeline_key(tenant_id, "web"),
        "scan_id": "scn_1",
        "pipeline": "web",
        "path": path,
        "rule_id": "CF-S3-001",
        "severity": "high",
        "line": n,
        "lines": [n, n + 2],
        "lifecycle": "new",
        "first_seen": "2026-12-01T10:00:00+00:00",
        "last_seen": "2026-12-01T10:00:00+00:00",
        "fixed_at": None,
        "confidence": 0.75,
        **changes,
    }


def test_findings_read_back_as_written(stores: Stores) -> None:
    written = [_finding("acme", n) for n in (3, 1, 2)]
    stores.findings.put_many("acme", written)
    assert stores.findings.get("acme", written[0]["finding_id"]) == written[0]
    assert stores.findings.get("acme", _finding("acme", 9)["finding_id"]) is None
    wanted = [f["finding_id"] for f in written[:2]] + [_finding("acme", 9)["finding_id"]]
    assert stores.findings.get_many("acme", wanted * 2) == {f["finding_id"]: f for f in written[:2]}


def test_a_finding_written_again_is_one_finding_in_its_latest_state(stores: Stores) -> None:
    first = _finding("acme", 1)
    stores.findings.put_many("acme", [first])
    stores.findings.put_many("acme", [first])  # the batch delivered again
    assert stores.findings.page("acme", 10) == ([first], None)
    seen_again = _finding("acme", 1, lifecycle="open", last_seen="2026-12-02T10:00:00+00:00")
    stores.findings.put_many("acme", [seen_again])
    stores.findings.put_many("acme", [seen_again])
    assert stores.findings.page("acme", 10) == ([seen_again], None)
    assert stores.findings.of_pipeline("acme", first["pipeline_key"]) == [seen_again]
    assert stores.findings.tenants() == ["acme"]


def test_findings_by_artifact_and_by_pipeline(stores: Stores) -> None:
    a = [_finding("acme", n, "a.yaml") for n in (1, 2)]
    b = [_finding("acme", n, "b.yaml") for n in (3,)]
    stores.findings.put_many("acme", b + a)
    by_a = stores.findings.of_artifact("acme", ids.artifact_key("acme", "web", "a.yaml"))
    assert by_a == {f["finding_id"]: f for f in a}
    assert stores.findings.of_pipeline("acme", ids.pipeline_key("acme", "web")) == a + b
    assert stores.findings.of_pipeline("acme", ids.pipeline_key("acme", "api")) == []
    # a finding that moved to another file is found under its new artifact only
    moved = _finding("acme", 2, "b.yaml")
    stores.findings.put_many("acme", [moved])
    by_a = stores.findings.of_artifact("acme", ids.artifact_key("acme", "web", "a.yaml"))
    assert list(by_a) == [a[0]["finding_id"]]


@pytest.mark.parametrize("limit", [1, 3, 7])
def test_paging_returns_each_finding_once_in_id_order(stores: Stores, limit: int) -> None:
    written = [_finding("acme", n) for n in (5, 2, 7, 1, 4, 6, 3)]
    stores.findings.put_many("acme", written)
    stores.findings.put_many("globex", [_finding("globex", 8)])
    seen: list[str] = []
    after: str | None = None
    for _ in range(10):
        page, after = stores.findings.page("acme", limit, after)
        assert 0 < len(page) <= limit
        seen.extend(f["finding_id"] for f in page)
        if after is None:
            break
    assert seen == sorted(f["finding_id"] for f in written)
    assert stores.findings.tenants() == ["acme", "globex"]


def test_another_tenant_reads_or_writes_no_finding_even_with_its_ids(stores: Stores) -> None:
    mine = _finding("acme", 1)
    stores.findings.put_many("acme", [mine])
    fid = mine["finding_id"]
    assert stores.findings.get("globex", fid) is None
    assert stores.findings.get_many("globex", [fid]) == {}
    assert stores.findings.of_artifact("globex", mine["artifact_key"]) == {}
    assert stores.findings.of_pipeline("globex", mine["pipeline_key"]) == []
    assert stores.findings.page("globex", 10) == ([], None)
    with pytest.raises(ValueError):  # written as globex's, it is still acme's finding
        stores.findings.put_many("globex", [_finding("acme", 1, severity="low")])
    with pytest.raises(ValueError):  # nor is a finding of globex written into acme's
        stores.findings.put_many("acme", [mine, _finding("globex", 1)])
    assert stores.findings.page("acme", 10) == ([mine], None)
    assert stores.findings.tenants() == ["acme"]
    # the same id in another tenant is another finding
    theirs = _finding("globex", 1, severity="low")
    stores.findings.put_many("globex", [theirs])
    assert stores.findings.get("acme", fid) == mine
    assert stores.findings.get("globex", fid) == theirs
