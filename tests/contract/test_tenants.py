"""`TenantStore`: the same behaviour on DynamoDB and SQLite."""

from __future__ import annotations

import pytest

from chalicelib.stores.ports import NotWritten, Stores

from .helpers import actions, entry, key, tenant


def _create(stores: Stores, tenant_id: str, n: int = 1, exist_ok: bool = False) -> str:
    key_hash, record = key(tenant_id, n)
    stores.tenants.create(
        tenant(tenant_id), key_hash, record, entry(tenant_id, "tenant.create"), exist_ok
    )
    return key_hash


def test_a_tenant_and_its_first_key_read_back(stores: Stores) -> None:
    key_hash, record = key("acme", 1)
    stored = tenant("acme", usage_key="usage-secret")
    stores.tenants.create(stored, key_hash, record, entry("acme", "tenant.create"), False)

    assert stores.tenants.get("acme") == stored
    assert stores.tenants.all() == [tenant("acme")]  # never the usage plan key
    assert stores.tenants.key_by_hash(key_hash) == record
    assert stores.tenants.keys("acme") == [record]  # never the hash
    assert stores.tenants.key("acme", record["key_id"]) == {**record, "key_hash": key_hash}
    assert actions(stores, "acme") == ["tenant.create"]
    assert stores.tenants.get("globex") is None
    assert stores.tenants.key_by_hash("0" * 64) is None


def test_create_if_absent_refuses_a_taken_id_and_writes_nothing(stores: Stores) -> None:
    _create(stores, "acme", 1)
    key_hash, record = key("acme", 2)
    with pytest.raises(NotWritten):
        stores.tenants.create(
            tenant("acme", name="Other"), key_hash, record, entry("acme", "again"), False
        )
    assert stores.tenants.get("acme") == tenant("acme")
    assert stores.tenants.key_by_hash(key_hash) is None
    assert len(stores.tenants.keys("acme")) == 1
    assert actions(stores, "acme") == ["tenant.create"]


def test_create_with_exist_ok_replaces_the_tenant_and_adds_the_key(stores: Stores) -> None:
    _create(stores, "acme", 1)
    stores.tenants.set_status("acme", "disabled", "active", entry("acme", "tenant.disabled"))
    _create(stores, "acme", 2, exist_ok=True)
    _create(stores, "acme", 3, exist_ok=True)
    assert stores.tenants.get("acme") == tenant("acme")
    assert [t["tenant_id"] for t in stores.tenants.all()] == ["acme"]
    assert len(stores.tenants.keys("acme")) == 3


def test_tenants_list_by_id(stores: Stores) -> None:
    for tenant_id in ("initech", "acme", "globex"):
        _create(stores, tenant_id)
    assert [t["tenant_id"] for t in stores.tenants.all()] == ["acme", "globex", "initech"]


def test_a_status_change_holds_only_if_the_status_is_as_seen(stores: Stores) -> None:
    _create(stores, "acme")
    stores.tenants.set_status("acme", "disabled", "active", entry("acme", "tenant.disabled"))
    assert stores.tenants.get("acme") == tenant("acme", status="disabled")
    with pytest.raises(NotWritten):  # stale: it is disabled now
        stores.tenants.set_status("acme", "disabled", "active", entry("acme", "stale"))
    with pytest.raises(NotWritten):  # no such tenant
        stores.tenants.set_status("nobody", "disabled", "active", entry("nobody", "x"))
    assert stores.tenants.get("nobody") is None
    assert actions(stores, "acme") == ["tenant.disabled", "tenant.create"]
    assert actions(stores, "nobody") == []


def test_a_key_hash_is_stored_once(stores: Stores) -> None:
    _create(stores, "acme", 1)
    key_hash, record = key("acme", 2)
    stores.tenants.add_key(key_hash, record, entry("acme", "key.issue"))
    with pytest.raises(NotWritten):
        stores.tenants.add_key(key_hash, {**record, "name": "again"}, entry("acme", "again"))
    assert stores.tenants.key_by_hash(key_hash) == record
    assert [k["key_id"] for k in stores.tenants.keys("acme")] == sorted(
        [key("acme", 1)[1]["key_id"], record["key_id"]]
    )
    assert actions(stores, "acme") == ["key.issue", "tenant.create"]


def test_a_revoked_key_reads_revoked_everywhere(stores: Stores) -> None:
    key_hash = _create(stores, "acme")
    key_id = key("acme", 1)[1]["key_id"]
    now = "2026-12-02T10:00:00+00:00"
    stores.tenants.revoke_key("acme", key_id, now, entry("acme", "key.revoke"))
    stores.tenants.revoke_key("acme", key_id, now, entry("acme", "key.revoke"))  # a repeat
    revoked = {**key("acme", 1)[1], "status": "revoked", "revoked_at": now}
    assert stores.tenants.key_by_hash(key_hash) == revoked
    assert stores.tenants.keys("acme") == [revoked]
    assert stores.tenants.key("acme", key_id) == {**revoked, "key_hash": key_hash}


def test_another_tenant_never_reads_or_revokes_a_key_even_with_its_id(stores: Stores) -> None:
    key_hash = _create(stores, "acme")
    _create(stores, "globex")
    key_id = key("acme", 1)[1]["key_id"]

    assert stores.tenants.key("globex", key_id) is None
    assert key_id not in [k["key_id"] for k in stores.tenants.keys("globex")]
    with pytest.raises(NotWritten):
        stores.tenants.revoke_key("globex", key_id, "2026-12-02", entry("globex", "key.revoke"))
    assert stores.tenants.key_by_hash(key_hash)["status"] == "active"
    assert actions(stores, "globex") == ["tenant.create"]
    assert actions(stores, "acme") == ["tenant.create"]


def test_a_refused_audit_entry_leaves_no_tenant_and_no_key(stores: Stores) -> None:
    taken = entry("initech", "notifications.update")
    stores.settings.put("initech", "notifications", {"emails": []}, taken)
    other_hash, other = key("initech", 1)
    with pytest.raises(NotWritten):  # the entry's position is taken: the write is refused
        stores.tenants.create(tenant("initech"), other_hash, other, taken, False)
    assert stores.tenants.get("initech") is None
    assert stores.tenants.key_by_hash(other_hash) is None
    assert stores.tenants.keys("initech") == []
    assert actions(stores, "initech") == ["notifications.update"]
