"""`PolicyStore`: versions, the current-version pointer and the audit entry, one transaction."""

from __future__ import annotations

import json

import pytest

from chalicelib.stores.ports import NotWritten, PolicyVersion, Stores

from .helpers import actions, entry


def _version(version: int, fail_on: str = "high") -> PolicyVersion:
    document = json.dumps({"fail_on": fail_on, "disabled_rules": ["CF-S3-001"]})
    return PolicyVersion(version, f"2026-12-0{version}T10:00:00+00:00", "key_x", document)


def test_a_tenant_without_a_policy_is_at_version_zero(stores: Stores) -> None:
    assert stores.policies.current_version("acme") == 0
    assert stores.policies.version("acme", 1) is None


def test_versions_are_saved_in_order_and_each_reads_back(stores: Stores) -> None:
    stores.policies.save("acme", _version(1, "low"), 0, entry("acme", "policy.update"))
    stores.policies.save("acme", _version(2, "critical"), 1, entry("acme", "policy.update"))
    assert stores.policies.current_version("acme") == 2
    assert stores.policies.version("acme", 1) == {
        "fail_on": "low",
        "disabled_rules": ["CF-S3-001"],
    }
    assert stores.policies.version("acme", 2)["fail_on"] == "critical"
    assert actions(stores, "acme") == ["policy.update", "policy.update"]


@pytest.mark.parametrize("current", [0, 1, 2])
def test_a_change_based_on_a_stale_version_writes_nothing(stores: Stores, current: int) -> None:
    for version in range(1, current + 1):
        stores.policies.save("acme", _version(version), version - 1, entry("acme", "saved"))
    stale = max(current - 1, 0)
    if current == 0:
        stale = 1  # a pointer that is not there yet
    with pytest.raises(NotWritten):
        stores.policies.save("acme", _version(stale + 1, "info"), stale, entry("acme", "stale"))
    assert stores.policies.current_version("acme") == current
    for version in range(1, current + 1):
        assert stores.policies.version("acme", version)["fail_on"] == "high"
    if current == 0:
        assert stores.policies.version("acme", 2) is None
    assert actions(stores, "acme") == ["saved"] * current


def test_a_repeated_first_save_is_refused_and_keeps_the_first(stores: Stores) -> None:
    stores.policies.save("acme", _version(1, "low"), 0, entry("acme", "policy.update"))
    with pytest.raises(NotWritten):
        stores.policies.save("acme", _version(1, "info"), 0, entry("acme", "policy.update"))
    assert stores.policies.version("acme", 1)["fail_on"] == "low"
    assert actions(stores, "acme") == ["policy.update"]


def test_a_refused_audit_entry_leaves_neither_the_version_nor_the_pointer(
    stores: Stores,
) -> None:
    """The failure comes between the two writes: the version is written first, then its audit
    entry is refused (its position is taken); neither may remain."""
    stores.policies.save("acme", _version(1, "low"), 0, entry("acme", "policy.update"))
    taken = entry("acme", "notifications.update")
    stores.settings.put("acme", "notifications", {"emails": []}, taken)
    before = actions(stores, "acme")
    with pytest.raises(NotWritten):
        stores.policies.save("acme", _version(2, "critical"), 1, taken)
    assert stores.policies.current_version("acme") == 1
    assert stores.policies.version("acme", 2) is None
    assert actions(stores, "acme") == before
    # the same change with its own entry then goes through
    stores.policies.save("acme", _version(2, "critical"), 1, entry("acme", "policy.update"))
    assert stores.policies.current_version("acme") == 2


def test_another_tenant_never_reads_or_moves_a_tenants_policy(stores: Stores) -> None:
    stores.policies.save("acme", _version(1, "low"), 0, entry("acme", "policy.update"))
    stores.policies.save("acme", _version(2, "low"), 1, entry("acme", "policy.update"))
    assert stores.policies.current_version("globex") == 0
    assert stores.policies.version("globex", 1) is None
    with pytest.raises(NotWritten):  # globex has no version 2 to move on from
        stores.policies.save("globex", _version(3, "info"), 2, entry("globex", "policy.update"))
    stores.policies.save("globex", _version(1, "info"), 0, entry("globex", "policy.update"))
    assert stores.policies.current_version("acme") == 2
    assert stores.policies.version("acme", 1)["fail_on"] == "low"
    assert stores.policies.version("globex", 1)["fail_on"] == "info"
