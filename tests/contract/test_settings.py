"""`SettingStore`: a tenant's named documents."""

from __future__ import annotations

import pytest

from chalicelib.stores.ports import NotWritten, Stores

from .helpers import actions, entry

CHOSEN = {"emails": ["sec@acme.example"], "min_severity": "high", "daily_digest": True}


def test_a_document_is_replaced_and_repeats_change_nothing(stores: Stores) -> None:
    assert stores.settings.get("acme", "notifications") is None
    stores.settings.put("acme", "notifications", {"emails": []}, entry("acme", "first"))
    stores.settings.put("acme", "notifications", CHOSEN, entry("acme", "second"))
    stores.settings.put("acme", "notifications", CHOSEN, entry("acme", "repeat"))
    assert stores.settings.get("acme", "notifications") == CHOSEN
    assert stores.settings.tenants_with("notifications") == ["acme"]
    assert actions(stores, "acme") == ["repeat", "second", "first"]


def test_tenants_with_a_document_are_listed_by_id(stores: Stores) -> None:
    for tenant_id in ("initech", "acme", "globex"):
        stores.settings.put(tenant_id, "notifications", CHOSEN, entry(tenant_id))
    stores.settings.put("umbrella", "other", CHOSEN, entry("umbrella"))
    assert stores.settings.tenants_with("notifications") == ["acme", "globex", "initech"]
    assert stores.settings.tenants_with("nothing") == []


def test_a_refused_audit_entry_leaves_the_document_as_it_was(stores: Stores) -> None:
    taken = entry("acme", "first")
    stores.settings.put("acme", "notifications", {"emails": []}, taken)
    with pytest.raises(NotWritten):
        stores.settings.put("acme", "notifications", CHOSEN, taken)
    assert stores.settings.get("acme", "notifications") == {"emails": []}


def test_another_tenant_never_reads_or_replaces_a_tenants_document(stores: Stores) -> None:
    stores.settings.put("acme", "notifications", CHOSEN, entry("acme"))
    assert stores.settings.get("globex", "notifications") is None
    stores.settings.put("globex", "notifications", {"emails": []}, entry("globex"))
    assert stores.settings.get("acme", "notifications") == CHOSEN
    assert stores.settings.get("globex", "notifications") == {"emails": []}
