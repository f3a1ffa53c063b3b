"""`WaiverStore`: create-if-absent, revocation as seen, tenant scoping."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.stores.ports import NotWritten, Stores

from .helpers import actions, entry

NOW = "2026-12-03T10:00:00+00:00"


def _waiver(n: int, **changes: Any) -> dict[str, Any]:
    return {
        "waiver_id": f"wvr_{n:020x}",
        "finding_id": None,
        "rule_id": "DF-USER-001",
        "pipeline": "web",
        "path": None,
        "resource": None,
        "justification": "root needed until the migration",
        "approver": "ciso@acme.example",
        "expires_at": "2027-01-01T00:00:00+00:00",
        "status": "active",
        "created_by": "key_x",
        "created_at": "2026-12-01T10:00:00+00:00",
        **changes,
    }


def test_waivers_read_back_by_id(stores: Stores) -> None:
    for n in (3, 1, 2):
        stores.waivers.create("acme", _waiver(n), entry("acme", "waiver.create"))
    assert stores.waivers.get("acme", _waiver(2)["waiver_id"]) == _waiver(2)
    assert stores.waivers.all("acme") == [_waiver(1), _waiver(2), _waiver(3)]
    assert stores.waivers.get("acme", _waiver(4)["waiver_id"]) is None


def test_a_taken_waiver_id_is_refused_and_writes_nothing(stores: Stores) -> None:
    stores.waivers.create("acme", _waiver(1), entry("acme", "waiver.create"))
    with pytest.raises(NotWritten):
        stores.waivers.create("acme", _waiver(1, approver="other"), entry("acme", "again"))
    assert stores.waivers.all("acme") == [_waiver(1)]
    assert actions(stores, "acme") == ["waiver.create"]


def test_a_revocation_holds_only_if_the_status_is_as_seen(stores: Stores) -> None:
    waiver_id = _waiver(1)["waiver_id"]
    stores.waivers.create("acme", _waiver(1), entry("acme", "waiver.create"))
    stores.waivers.revoke("acme", waiver_id, "active", NOW, entry("acme", "waiver.revoke"))
    revoked = _waiver(1, status="revoked", revoked_at=NOW)
    assert stores.waivers.get("acme", waiver_id) == revoked
    with pytest.raises(NotWritten):  # a repeat: it is not active any more
        stores.waivers.revoke("acme", waiver_id, "active", "later", entry("acme", "again"))
    with pytest.raises(NotWritten):  # no such waiver
        stores.waivers.revoke("acme", _waiver(9)["waiver_id"], "active", NOW, entry("acme", "x"))
    assert stores.waivers.get("acme", waiver_id) == revoked
    assert stores.waivers.get("acme", _waiver(9)["waiver_id"]) is None
    assert actions(stores, "acme") == ["waiver.revoke", "waiver.create"]


def test_another_tenant_never_reads_or_revokes_a_waiver_even_with_its_id(stores: Stores) -> None:
    waiver_id = _waiver(1)["waiver_id"]
    stores.waivers.create("acme", _waiver(1), entry("acme", "waiver.create"))
    assert stores.waivers.get("globex", waiver_id) is None
    assert stores.waivers.all("globex") == []
    with pytest.raises(NotWritten):
        stores.waivers.revoke("globex", waiver_id, "active", NOW, entry("globex", "revoke"))
    # the same id in another tenant is another waiver
    stores.waivers.create("globex", _waiver(1, rule_id="CF-S3-001"), entry("globex", "create"))
    assert stores.waivers.get("acme", waiver_id) == _waiver(1)
    assert stores.waivers.get("globex", waiver_id)["rule_id"] == "CF-S3-001"
    assert actions(stores, "globex") == ["create"]
