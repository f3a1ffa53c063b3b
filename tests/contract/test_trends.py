"""`TrendStore` with the findings service's versions and histories: exact counts under
redelivery, reordering across shards and a crash mid-batch; the rebuild agrees with the live
counters; tenant isolation. Every test runs on both backends."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib import ids, trend_series, trends
from chalicelib.stores import findings
from chalicelib.stores.ports import Stores


def _at(day: int, hour: int = 10) -> str:
    return f"2026-11-{day:02d}T{hour:02d}:00:00.000+00:00"


class History:
    """Findings written through the findings service as scans would, and the change records
    (new images) their writes put on the stream, in write order."""

    def __init__(self, stores: Stores) -> None:
        self.stores = stores
        self.records: list[dict[str, Any]] = []
        self.items: dict[tuple[str, str], dict[str, Any]] = {}

    def write(
        self,
        tenant: str,
        n: int,
        pipeline: str,
        day: int,
        lifecycle: str,
        status: str | None = None,
        severity: str = "high",
    ) -> dict[str, Any]:
        finding_id = f"fnd_{tenant}_{pipeline}_{n:04d}"
        before = self.items.get((tenant, finding_id))
        item = {
            "tenant_id": tenant,
            "finding_id": finding_id,
            "artifact_key": ids.artifact_key(tenant, pipeline, "a.yaml"),
            "pipeline_key": ids.pipeline_key(tenant, pipeline),
            "scan_id": f"scn_{day}",
            "pipeline": pipeline,
            "rule_id": "CF-S3-001",
            "severity": severity,
            "lifecycle": lifecycle,
            "status": status or lifecycle,
            "first_seen": before["first_seen"] if before else _at(day),
            "last_seen": _at(day) if lifecycle != "fixed" else before["last_seen"],
            "fixed_at": _at(day, 16) if lifecycle == "fixed" else None,
        }
        findings.put_many([item])
        stored = self.stores.findings.get(tenant, finding_id)
        assert stored is not None
        self.items[(tenant, finding_id)] = stored
        self.records.append(stored)
        return stored


def _realistic(stores: Stores, tenant: str = "acme") -> History:
    """Several pipelines and days: new → fixed → reopened → waived, severities, a rewrite."""
    h = History(stores)
    h.write(tenant, 1, "web", 1, "new")
    h.write(tenant, 2, "web", 1, "new", severity="low")
    h.write(tenant, 3, "api", 1, "new", severity="critical")
    h.write(tenant, 1, "web", 1, "new")  # the same scan delivered again: no change
    h.write(tenant, 1, "web", 2, "open")  # seen again: no trend change, a new version
    h.write(tenant, 1, "web", 3, "fixed")
    h.write(tenant, 3, "api", 3, "fixed", severity="critical")
    h.write(tenant, 1, "web", 5, "reopened")
    h.write(tenant, 1, "web", 6, "reopened", status="waived")
    h.write(tenant, 2, "web", 6, "open", status="suppressed", severity="low")
    h.write(tenant, 4, "api", 6, "new", severity="medium")
    h.write(tenant, 1, "web", 8, "fixed")
    return h


EXPECTED_DAYS = {  # day → opened, fixed, reopened, waived, open total at the day's end
    "2026-11-01": (3, 0, 0, 0, 3),
    "2026-11-02": (0, 0, 0, 0, 3),
    "2026-11-03": (0, 2, 0, 0, 1),
    "2026-11-04": (0, 0, 0, 0, 1),
    "2026-11-05": (0, 0, 1, 0, 2),
    "2026-11-06": (1, 0, 0, 1, 1),
    "2026-11-07": (0, 0, 0, 0, 1),
    "2026-11-08": (0, 1, 0, 0, 1),
}


def _series(tenant: str = "acme", **params: str) -> dict[str, Any]:
    return trend_series.series(tenant, {"from": "2026-11-01", "to": "2026-11-08", **params})


def _days(answer: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    fields = ("opened", "fixed", "reopened", "waived", "open")
    return {b["start"]: tuple(b[f] for f in fields) for b in answer["series"]}


def test_findings_carry_a_version_and_their_trend_history(stores: Stores) -> None:
    h = History(stores)
    first = h.write("acme", 1, "web", 1, "new")
    assert (first["version"], len(first["history"])) == (1, 1)
    assert h.write("acme", 1, "web", 1, "new") == first  # unchanged: not written again
    seen = h.write("acme", 1, "web", 2, "open")
    assert (seen["version"], len(seen["history"])) == (2, 1)  # no trend transition
    fixed = h.write("acme", 1, "web", 3, "fixed")
    assert fixed["version"] == 3
    assert fixed["history"][-1] == {
        "v": 3,
        "at": _at(3, 16),
        "from": ["open", "high"],
        "to": ["fixed", "high"],
    }


def test_live_counters_follow_the_transitions(stores: Stores) -> None:
    h = _realistic(stores)
    trends.apply_images(h.records)
    answer = _series()
    assert _days(answer) == EXPECTED_DAYS
    assert answer["time_to_fix"] == {
        "critical": {"fixed": 1, "mean_seconds": 194400.0, "median_seconds": 194400.0},
        "high": {"fixed": 2, "mean_seconds": 410400.0, "median_seconds": 410400.0},
    }
    weekly = _series(bucket="week")  # 2026-11-01 is a Sunday: a one-day first week
    assert [(b["start"], b["end"], b["opened"], b["open"]) for b in weekly["series"]] == [
        ("2026-11-01", "2026-11-01", 3, 3),
        ("2026-11-02", "2026-11-08", 1, 1),
    ]
    critical = _series(severity="critical", pipeline="api")
    assert [b["fixed"] for b in critical["series"]] == [0, 0, 1, 0, 0, 0, 0, 0]
    assert list(critical["time_to_fix"]) == ["critical"]


def test_a_redelivered_batch_counts_once(stores: Stores) -> None:
    h = _realistic(stores)
    trends.apply_images(h.records)
    assert trends.apply_images(h.records) == 0
    trends.apply_images(h.records[3:7])  # a replay of part of the stream
    assert _days(_series()) == EXPECTED_DAYS


def test_records_of_different_shards_interleave_in_any_order(stores: Stores) -> None:
    h = _realistic(stores)
    by_finding: dict[str, list[dict[str, Any]]] = {}
    for record in h.records:
        by_finding.setdefault(record["finding_id"], []).append(record)
    # one shard per finding, in order within it; the shards' batches arrive back to front
    for shard in reversed(list(by_finding.values())):
        trends.apply_images(shard[:1])
    for shard in by_finding.values():
        trends.apply_images(shard)
    assert _days(_series()) == EXPECTED_DAYS


def test_a_record_missed_in_between_is_made_up_by_the_next(stores: Stores) -> None:
    h = _realistic(stores)
    skipped = [r for r in h.records if not (r["finding_id"].endswith("0001") and r["version"] == 3)]
    trends.apply_images(skipped)
    assert _days(_series()) == EXPECTED_DAYS


def test_a_crash_mid_batch_then_redelivery_counts_exactly(
    stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = _realistic(stores)
    store = type(stores.trends)
    applied = store.apply
    calls = {"n": 0}

    def crash_on_the_second_tenant_batch(self: Any, tenant_id: str, updates: list) -> int:
        calls["n"] += 1
        if calls["n"] == 2:
            applied(self, tenant_id, updates[: len(updates) // 2])  # part of it lands
            raise RuntimeError("the process died here")
        return applied(self, tenant_id, updates)

    monkeypatch.setattr(store, "apply", crash_on_the_second_tenant_batch)
    trends.apply_images(h.records[:4])
    with pytest.raises(RuntimeError):
        trends.apply_images(h.records)
    trends.apply_images(h.records)  # the whole batch delivered again
    assert _days(_series()) == EXPECTED_DAYS


def test_the_rebuild_agrees_with_the_live_counters(stores: Stores) -> None:
    h = _realistic(stores)
    trends.apply_images(h.records)
    live = _series()
    trends.apply_images(h.records[:2])
    stores.trends.replace("acme", [])  # counters lost
    assert _days(_series())["2026-11-01"] == (0, 0, 0, 0, 0)
    result = trends.rebuild()
    assert (result.tenants, result.findings) == (1, 4)
    assert _series() == live
    trends.apply_images(h.records)  # the stream replayed after the rebuild: nothing twice
    assert _series() == live
    later = h.write("acme", 4, "api", 9, "fixed", severity="medium")
    trends.apply_images([later])
    rebuilt_after = trend_series.series("acme", {"from": "2026-11-01", "to": "2026-11-09"})
    trends.rebuild("acme")
    assert trend_series.series("acme", {"from": "2026-11-01", "to": "2026-11-09"}) == (
        rebuilt_after
    )


def test_a_finding_stored_before_histories_counts_from_what_it_carries(stores: Stores) -> None:
    legacy = {
        "tenant_id": "acme",
        "finding_id": "fnd_legacy",
        "artifact_key": ids.artifact_key("acme", "web", "a.yaml"),
        "pipeline_key": ids.pipeline_key("acme", "web"),
        "pipeline": "web",
        "severity": "high",
        "lifecycle": "fixed",
        "status": "fixed",
        "first_seen": _at(1),
        "last_seen": _at(1),
        "fixed_at": _at(2),
    }
    stores.findings.put_many("acme", [legacy])  # as an older release wrote it
    trends.rebuild("acme")
    rebuilt = _days(_series())
    assert (rebuilt["2026-11-01"], rebuilt["2026-11-02"]) == ((1, 0, 0, 0, 1), (0, 1, 0, 0, 0))
    back = {**legacy, "lifecycle": "reopened", "status": "reopened", "last_seen": _at(4)}
    findings.put_many([{**back, "fixed_at": None}])
    trends.apply_images([stores.findings.get("acme", "fnd_legacy") or {}])
    assert _days(_series())["2026-11-04"] == (0, 0, 1, 0, 1)


def test_tenants_see_only_their_own_counts(stores: Stores) -> None:
    h = _realistic(stores)
    other = History(stores)
    other.write("globex", 1, "web", 1, "new", severity="critical")
    trends.apply_images(h.records + other.records)
    mine = _series("globex")
    assert _days(mine)["2026-11-01"] == (1, 0, 0, 0, 1)
    assert sum(b["opened"] for b in mine["series"]) == 1
    assert mine["time_to_fix"] == {}
    via_pipeline = _series("globex", pipeline="api")
    assert all(b["opened"] == b["open"] == 0 for b in via_pipeline["series"])
    nobody = _series("nobody")
    assert not any(b[f] for b in nobody["series"] for f in ("opened", "fixed", "open"))
    with pytest.raises(ValueError):
        stores.trends.apply("globex", [trends.Update.of(h.records[0])])
