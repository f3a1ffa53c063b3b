"""`ScanStore`: create-if-absent, each artifact's result recorded once, status transitions as
their conditions say, listings per pipeline page by page, tenant scoping."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib import ids
from chalicelib.stores.ports import NotWritten, Stores

NOW = "2026-12-03T10:00:00+00:00"


def _scan(tenant_id: str, n: int, pipeline: str = "web", **changes: Any) -> dict[str, Any]:
    received_at = f"2026-12-01T10:{n // 60:02d}:{n % 60:02d}.000000+00:00"
    return {
        "tenant_id": tenant_id,
        "scan_id": f"scn_{n:024x}",
        "pipeline": pipeline,
        "run_id": f"run-{n}",
        "commit": None,
        "status": "queued",
        "received_at": received_at,
        "updated_at": received_at,
        "artifacts": [{"index": 0, "path": "a.yaml"}, {"index": 1, "path": "b.yaml"}],
        "artifacts_total": 2,
        "artifacts_done": 0,
        "results": {},
        "fail_on": "high",
        "policy_version": 0,
        "pipeline_key": ids.pipeline_key(tenant_id, pipeline),
        "submitted_by": "key_x",
        "score": 0.5,
        **changes,
    }


def _result(n: int) -> dict[str, Any]:
    return {"counts": {"high": n, "low": 0}, "findings": n, "error": None}


def test_a_scan_reads_back_as_written_and_a_taken_id_is_refused(stores: Stores) -> None:
    scan = _scan("acme", 1)
    stores.scans.create(scan)
    with pytest.raises(NotWritten):
        stores.scans.create(_scan("acme", 1, run_id="other"))
    assert stores.scans.get("acme", scan["scan_id"]) == scan
    assert stores.scans.get("acme", _scan("acme", 2)["scan_id"]) is None


def test_each_artifact_result_is_recorded_once_however_often_it_is_delivered(
    stores: Stores,
) -> None:
    scan_id = _scan("acme", 1)["scan_id"]
    stores.scans.create(_scan("acme", 1))
    first = stores.scans.record_artifacts("acme", scan_id, {0: _result(1)}, NOW)
    assert (first["status"], first["artifacts_done"], first["updated_at"]) == ("running", 1, NOW)
    assert first["results"] == {"0": _result(1)}
    with pytest.raises(NotWritten):  # the same record delivered again
        stores.scans.record_artifacts("acme", scan_id, {0: _result(1)}, "later")
    with pytest.raises(NotWritten):  # a batch holding it writes none of its results
        stores.scans.record_artifacts("acme", scan_id, {0: _result(1), 1: _result(2)}, "later")
    assert stores.scans.get("acme", scan_id) == first
    both = stores.scans.record_artifacts("acme", scan_id, {1: _result(2)}, "2026-12-03T11:00")
    assert both["artifacts_done"] == 2
    assert both["results"] == {"0": _result(1), "1": _result(2)}
    assert stores.scans.get("acme", scan_id) == both


def test_several_results_are_recorded_in_one_write(stores: Stores) -> None:
    scan_id = _scan("acme", 1)["scan_id"]
    stores.scans.create(_scan("acme", 1))
    updated = stores.scans.record_artifacts("acme", scan_id, {1: _result(2), 0: _result(0)}, NOW)
    assert updated["artifacts_done"] == 2 and sorted(updated["results"]) == ["0", "1"]


def test_status_transitions_hold_only_from_the_states_they_name(stores: Stores) -> None:
    scan_id = _scan("acme", 1)["scan_id"]
    with pytest.raises(NotWritten):  # no such scan
        stores.scans.record_artifacts("acme", scan_id, {0: _result(1)}, NOW)
    for change in (
        lambda: stores.scans.complete("acme", scan_id, {"verdict": "pass"}),
        lambda: stores.scans.mark_failed("acme", scan_id, "queue down", NOW),
        lambda: stores.scans.requeue("acme", scan_id, NOW),
    ):
        with pytest.raises(NotWritten):
            change()
    assert stores.scans.get("acme", scan_id) is None

    stores.scans.create(_scan("acme", 1))
    with pytest.raises(NotWritten):  # only a failed scan is queued again
        stores.scans.requeue("acme", scan_id, NOW)
    stores.scans.mark_failed("acme", scan_id, "queue down", NOW)
    failed = stores.scans.get("acme", scan_id)
    assert (failed["status"], failed["failure"]) == ("failed", "queue down")
    with pytest.raises(NotWritten):  # a failed scan records nothing
        stores.scans.record_artifacts("acme", scan_id, {0: _result(1)}, NOW)
    stores.scans.requeue("acme", scan_id, "2026-12-03T10:05:00+00:00")
    requeued = stores.scans.get("acme", scan_id)
    assert requeued["status"] == "queued" and "failure" not in requeued
    assert requeued["updated_at"] == "2026-12-03T10:05:00+00:00"

    stores.scans.complete("acme", scan_id, {"verdict": "fail", "counts": {"high": 1}})
    with pytest.raises(NotWritten):  # completed once
        stores.scans.complete("acme", scan_id, {"verdict": "pass", "counts": {}})
    with pytest.raises(NotWritten):  # a complete scan records nothing more
        stores.scans.record_artifacts("acme", scan_id, {0: _result(1)}, NOW)
    done = stores.scans.get("acme", scan_id)
    assert (done["status"], done["verdict"], done["counts"]) == ("complete", "fail", {"high": 1})
    assert done["artifacts_done"] == 0


def test_a_pipeline_listing_pages_through_every_scan_newest_first(stores: Stores) -> None:
    for n in (4, 1, 6, 3, 7, 2, 5):
        stores.scans.create(_scan("acme", n))
    stores.scans.create(_scan("acme", 8, pipeline="api"))
    key = ids.pipeline_key("acme", "web")
    seen: list[str] = []
    after: str | None = None
    for _ in range(10):
        page, after = stores.scans.of_pipeline("acme", key, 3, after)
        assert len(page) <= 3
        seen.extend(s["run_id"] for s in page)
        if after is None:
            break
    assert seen == [f"run-{n}" for n in (7, 6, 5, 4, 3, 2, 1)]
    everything, more = stores.scans.of_pipeline("acme", key, 7)
    assert [s["run_id"] for s in everything] == seen and more is None
    first, after = stores.scans.of_pipeline("acme", key, 6)
    rest, more = stores.scans.of_pipeline("acme", key, 6, after)
    assert [s["run_id"] for s in first + rest] == seen and more is None
    assert stores.scans.of_pipeline("acme", ids.pipeline_key("acme", "none"), 5) == ([], None)


def test_scans_received_since(stores: Stores) -> None:
    for n in (1, 2, 3):
        stores.scans.create(_scan("acme", n))
    since = _scan("acme", 2)["received_at"]
    assert [s["run_id"] for s in stores.scans.received_since("acme", since)] == ["run-2", "run-3"]


def test_another_tenant_reads_or_changes_no_scan_even_with_its_ids(stores: Stores) -> None:
    scan = _scan("acme", 1)
    stores.scans.create(scan)
    scan_id, key = scan["scan_id"], scan["pipeline_key"]
    assert stores.scans.get("globex", scan_id) is None
    assert stores.scans.of_pipeline("globex", key, 10) == ([], None)
    assert stores.scans.received_since("globex", "2000-01-01") == []
    with pytest.raises(NotWritten):
        stores.scans.record_artifacts("globex", scan_id, {0: _result(1)}, NOW)
    with pytest.raises(NotWritten):
        stores.scans.complete("globex", scan_id, {"verdict": "pass"})
    with pytest.raises(NotWritten):
        stores.scans.mark_failed("globex", scan_id, "x", NOW)
    with pytest.raises(NotWritten):
        stores.scans.requeue("globex", scan_id, NOW)
    assert stores.scans.get("acme", scan_id) == scan
    # the same id in another tenant is another scan
    stores.scans.create(_scan("globex", 1, run_id="theirs"))
    assert stores.scans.get("acme", scan_id) == scan
    assert stores.scans.get("globex", scan_id)["run_id"] == "theirs"


def test_a_collecting_scan_gets_its_artifacts_once_and_only_while_collecting(
    stores: Stores,
) -> None:
    stores.scans.create(_scan("acme", 1, status="collecting", artifacts=[], artifacts_total=0))
    artifact = {"index": 0, "path": "aws/123456789012.json"}
    queued = stores.scans.collected("acme", _scan("acme", 1)["scan_id"], [artifact], NOW)
    assert (queued["status"], queued["artifacts"], queued["artifacts_total"]) == (
        "queued",
        [artifact],
        1,
    )
    with pytest.raises(NotWritten):  # a second delivery of the same job
        stores.scans.collected("acme", queued["scan_id"], [artifact], NOW)
    with pytest.raises(NotWritten):  # a scan that never was
        stores.scans.collected("acme", _scan("acme", 2)["scan_id"], [artifact], NOW)


def test_only_a_scan_whose_artifacts_never_reached_the_stream_is_failed_as_unstreamed(
    stores: Stores,
) -> None:
    collecting, queued, streamed, running = (_scan("acme", n) for n in (1, 2, 3, 4))
    stores.scans.create({**collecting, "status": "collecting"})
    stores.scans.create(queued)
    stores.scans.create(streamed)
    stores.scans.create({**running, "status": "running"})
    stores.scans.mark_streamed("acme", streamed["scan_id"])
    assert stores.scans.get("acme", streamed["scan_id"])["streamed"] is True

    for scan in (collecting, queued):
        stores.scans.fail_unstreamed("acme", scan["scan_id"], "lost", NOW)
        failed = stores.scans.get("acme", scan["scan_id"])
        assert (failed["status"], failed["failure"]) == ("failed", "lost")
    for scan in (streamed, running):
        with pytest.raises(NotWritten):
            stores.scans.fail_unstreamed("acme", scan["scan_id"], "lost", NOW)
        assert stores.scans.get("acme", scan["scan_id"])["status"] != "failed"
    with pytest.raises(NotWritten):
        stores.scans.mark_streamed("acme", _scan("acme", 9)["scan_id"])


def test_another_tenant_cannot_collect_stream_or_fail_a_scan(stores: Stores) -> None:
    stores.scans.create(_scan("acme", 1, status="collecting"))
    scan_id = _scan("acme", 1)["scan_id"]
    with pytest.raises(NotWritten):
        stores.scans.collected("globex", scan_id, [], NOW)
    with pytest.raises(NotWritten):
        stores.scans.mark_streamed("globex", scan_id)
    with pytest.raises(NotWritten):
        stores.scans.fail_unstreamed("globex", scan_id, "x", NOW)
    assert stores.scans.get("acme", scan_id)["status"] == "collecting"
    assert "streamed" not in stores.scans.get("acme", scan_id)
