"""The services on each backend: what the routes do, end to end through the ports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.stores.ports import Stores


def test_tenants_keys_and_authentication(stores: Stores) -> None:
    from chalicelib import tenancy

    api_key = tenancy.create_tenant("acme")
    with pytest.raises(tenancy.TenantExists):
        tenancy.create_tenant("acme", exist_ok=False)
    principal = tenancy.authenticate(f"Bearer {api_key}")
    assert principal is not None and principal.tenant_id == "acme"
    reader = tenancy.issue_key("acme", ["read"], "ci", actor=principal.key_id)
    reader_id = tenancy.key_id_of(tenancy.hash_key(reader))
    assert tenancy.authenticate(f"Bearer {reader}").scopes == frozenset({"read"})

    tenancy.create_tenant("globex")
    assert tenancy.revoke_key("globex", reader_id, "key_g", "2026-12-04") is None
    assert tenancy.authenticate(f"Bearer {reader}") is not None
    revoked = tenancy.revoke_key("acme", reader_id, principal.key_id, "2026-12-04")
    assert revoked is not None and revoked["status"] == "revoked"
    assert tenancy.authenticate(f"Bearer {reader}") is None

    assert tenancy.set_status("acme", "disabled", "operator")["status"] == "disabled"
    assert tenancy.authenticate(f"Bearer {api_key}") is None
    assert [t["status"] for t in tenancy.list_tenants()] == ["disabled", "active"]
    assert all("key_hash" not in k for k in tenancy.list_keys("acme"))
    assert tenancy.set_status("nobody", "disabled", "operator") is None


def test_policy_versions_and_their_audit_entries(stores: Stores) -> None:
    from chalicelib import audit, policy

    chosen = policy.Policy.model_validate({"fail_on": "low", "disabled_rules": ["CF-S3-001"]})
    assert policy.current_version("acme") == 0
    now = "2026-12-04T10:00:00+00:00"
    saved = audit.new_entry("acme", "key_x", "policy.update", "policy", {"version": 0}, {})
    assert policy.save("acme", chosen, 0, "key_x", now, saved) == 1
    stale = audit.new_entry("acme", "key_x", "policy.update", "policy", {"version": 0}, {})
    with pytest.raises(policy.PolicyConflict):
        policy.save("acme", policy.DEFAULT_POLICY, 0, "key_x", now, stale)
    policy.forget_cached()
    assert policy.load("acme", 1) == chosen
    with pytest.raises(LookupError):
        policy.load("globex", 1)
    assert [e["action"] for e in audit.entries("acme")["entries"]] == ["policy.update"]


def test_waivers_and_notification_settings(stores: Stores) -> None:
    from chalicelib import notifications, waivers

    request = waivers.WaiverRequest(
        rule_id="DF-USER-001",
        justification="root needed for now",
        approver="ciso@acme.example",
        expires_at=datetime.now(UTC) + timedelta(days=3),
    )
    created = waivers.create("acme", request, "key_x", "2026-12-04T10:00:00+00:00")
    assert waivers.all_of("acme") == [created]
    assert waivers.revoke("globex", created["waiver_id"], "key_g", "now") is None
    revoked = waivers.revoke("acme", created["waiver_id"], "key_x", "2026-12-04T11:00:00")
    assert revoked is not None and waivers.get("acme", created["waiver_id"]) == revoked

    notifications.put("acme", {"emails": ["sec@acme.example"]}, "key_x")
    assert notifications.get("acme").emails == ["sec@acme.example"]
    assert notifications.get("globex").emails == []


def _submitted(monkeypatch: pytest.MonkeyPatch, tenant_id: str, run_id: str) -> list[bytes]:
    """Submit a scan of two Dockerfiles as `tenant_id`: the scan records it puts on the stream
    (taken as they are put: the stream is no part of these ports)."""
    from chalicelib import ingest, tenancy
    from chalicelib.models import ScanRequest

    records: list[bytes] = []
    monkeypatch.setattr(ingest.stream, "put_records", lambda r: records.extend(d for _, d in r))
    principal = tenancy.authenticate(f"Bearer {tenancy.create_tenant(tenant_id)}")
    assert principal is not None
    request = ScanRequest.model_validate(
        {
            "pipeline": "web",
            "run_id": run_id,
            "artifacts": [
                {"type": "dockerfile", "path": "Dockerfile", "content": "FROM ubuntu\nUSER root\n"},
                {"type": "dockerfile", "path": "api/Dockerfile", "content": "FROM debian:latest\n"},
            ],
        }
    )
    ingest.submit_scan(principal, request)
    return records


def test_a_scan_evaluated_twice_counts_each_artifact_and_finding_once(
    stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib import evaluate, ids, queries

    records = _submitted(monkeypatch, "acme", "run-1")
    scan_id = ids.scan_id("acme", "web", "run-1")
    assert evaluate.process_batch(records[:1]) is None
    assert evaluate.process_batch(records[:1]) is None  # redelivered
    running = stores.scans.get("acme", scan_id)
    assert (running["status"], running["artifacts_done"]) == ("running", 1)
    assert evaluate.process_batch(records) is None  # the first again, with the second
    assert evaluate.process_batch(records) is None
    scan = stores.scans.get("acme", scan_id)
    assert (scan["status"], scan["artifacts_done"]) == ("complete", 2)
    stored, more = stores.findings.page("acme", 100)
    assert more is None and stored
    assert len({f["finding_id"] for f in stored}) == len(stored)
    assert {f["lifecycle"] for f in stored} == {"new"}
    report = queries.get_scan_report("acme", scan_id)
    assert sorted(f["finding_id"] for f in report["findings"]) == sorted(
        f["finding_id"] for f in stored
    )
    # the same pipeline, run and files in another tenant are that tenant's own
    assert stores.findings.page("globex", 100) == ([], None)
    theirs = _submitted(monkeypatch, "globex", "run-1")
    assert evaluate.process_batch(theirs) is None
    assert len(stores.findings.page("globex", 100)[0]) == len(stored)
    assert stores.findings.page("acme", 100)[0] == stored


def test_reindex_rebuilds_the_search_index_from_the_findings_store(
    stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib import evaluate, maintenance
    from chalicelib.search.factory import get_index
    from chalicelib.search.port import FindingQuery

    assert evaluate.process_batch(_submitted(monkeypatch, "acme", "run-1")) is None
    stored = {f["finding_id"] for f in stores.findings.page("acme", 100)[0]}
    index = get_index()
    index.upsert("acme", [{"tenant_id": "acme", "finding_id": "fnd_stale", "severity": "low"}])
    result = maintenance.reindex(batch=1)
    assert (result.tenants, result.indexed, result.removed) == (1, len(stored), 1)
    found = index.search("acme", FindingQuery(limit=500)).findings
    assert {f["finding_id"] for f in found} == stored


def test_an_uploaded_file_is_read_back_through_the_blob_store(
    stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib import uploads
    from chalicelib.config import settings
    from chalicelib.errors import PayloadTooLarge, ValidationFailed

    upload_id = "upl_" + "a" * 24
    with pytest.raises(ValidationFailed, match="has no file"):
        uploads.fetch("acme", upload_id, "artifacts.0.upload_id")
    stores.blobs.put("acme", uploads.upload_key("acme", upload_id), b"FROM ubuntu\n")
    assert uploads.fetch("acme", upload_id, "artifacts.0.upload_id") == b"FROM ubuntu\n"
    with pytest.raises(ValidationFailed):  # another tenant's upload id names nothing of its own
        uploads.fetch("globex", upload_id, "artifacts.0.upload_id")
    monkeypatch.setenv("MAX_UPLOAD_BYTES", "4")
    settings.cache_clear()
    with pytest.raises(PayloadTooLarge):
        uploads.fetch("acme", upload_id, "artifacts.0.upload_id")
