"""`AccountStore`: registration and deletion with their audit entries, pages by account id, the
sweep's due list and claim, scan outcomes that never overwrite a newer scan's, tenant scoping."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.stores.ports import NotWritten, Stores

from .helpers import actions, entry

NOON = "2026-12-01T12:00:00+00:00"
LATER = "2026-12-01T18:00:00+00:00"


def _account(n: int, **changes: Any) -> dict[str, Any]:
    account_id = f"{100000000000 + n}"
    return {
        "tenant_id": "acme",
        "account_id": account_id,
        "role_arn": f"arn:aws:iam::{account_id}:role/pipeguard-audit",
        "regions": ["eu-west-1", "us-east-1"],
        "schedule": "6h",
        "stacks": ["web"],
        "external_id": f"ext-{n}",
        "status": "pending",
        "status_message": None,
        "created_at": "2026-12-01T10:00:00+00:00",
        "created_by": "key_x",
        "last_scan_at": None,
        "last_scan_id": None,
        "next_scan_at": NOON,
        **changes,
    }


def _register(stores: Stores, tenant_id: str, n: int, **changes: Any) -> dict[str, Any]:
    record = _account(n, tenant_id=tenant_id, **changes)
    stores.accounts.create(tenant_id, record, entry(tenant_id, "account.register"))
    return record


def _everything(stores: Stores, tenant_id: str, limit: int) -> list[list[str]]:
    """Every page of the tenant's registrations (their account ids), following the cursors."""
    pages: list[list[str]] = []
    after: str | None = None
    while True:
        records, after = stores.accounts.page(tenant_id, limit, after)
        pages.append([r["account_id"] for r in records])
        if after is None:
            return pages


def test_a_registration_reads_back_with_its_audit_entry(stores: Stores) -> None:
    record = _register(stores, "acme", 1)
    assert stores.accounts.get("acme", record["account_id"]) == record
    assert stores.accounts.get("acme", _account(2)["account_id"]) is None
    assert stores.accounts.page("acme", 10) == ([record], None)
    assert actions(stores, "acme") == ["account.register"]


def test_an_account_registered_already_is_refused_and_nothing_is_written(stores: Stores) -> None:
    record = _register(stores, "acme", 1)
    with pytest.raises(NotWritten):
        stores.accounts.create("acme", _account(1, role_arn="other"), entry("acme", "again"))
    assert stores.accounts.get("acme", record["account_id"]) == record
    assert actions(stores, "acme") == ["account.register"]


def test_a_refused_audit_entry_leaves_no_registration(stores: Stores) -> None:
    taken = entry("acme", "notifications.update")
    stores.settings.put("acme", "notifications", {"emails": []}, taken)
    with pytest.raises(NotWritten):  # the entry's position is taken: the write is refused
        stores.accounts.create("acme", _account(1), taken)
    assert stores.accounts.get("acme", _account(1)["account_id"]) is None
    assert stores.accounts.page("acme", 10) == ([], None)
    assert actions(stores, "acme") == ["notifications.update"]


def test_pages_follow_account_ids_and_end_with_no_cursor(stores: Stores) -> None:
    for n in (5, 2, 7, 1, 3, 6, 4):
        _register(stores, "acme", n)
    _register(stores, "globex", 8)
    ids = [_account(n)["account_id"] for n in range(1, 8)]
    assert _everything(stores, "acme", 3) == [ids[0:3], ids[3:6], ids[6:7]]
    assert _everything(stores, "acme", 7) == [ids]  # exactly full: no empty page after it
    assert _everything(stores, "acme", 200) == [ids]
    records, after = stores.accounts.page("acme", 2, ids[4])  # after any account id
    assert ([r["account_id"] for r in records], after) == (ids[5:7], None)
    assert stores.accounts.page("acme", 2, "999999999999") == ([], None)
    assert stores.accounts.page("acme", 1)[0] == [_account(1)]


def test_a_deletion_removes_the_registration_with_its_audit_entry(stores: Stores) -> None:
    record = _register(stores, "acme", 1)
    kept = _register(stores, "acme", 2)
    stores.accounts.delete("acme", record["account_id"], entry("acme", "account.delete"))
    assert stores.accounts.get("acme", record["account_id"]) is None
    assert stores.accounts.page("acme", 10) == ([kept], None)
    with pytest.raises(NotWritten):  # gone already: neither a deletion nor an entry
        stores.accounts.delete("acme", record["account_id"], entry("acme", "again"))
    assert stores.accounts.due(NOON) == [kept]
    assert actions(stores, "acme") == ["account.delete", "account.register", "account.register"]


def test_a_refused_audit_entry_leaves_the_registration(stores: Stores) -> None:
    record = _register(stores, "acme", 1)
    taken = entry("acme", "notifications.update")
    stores.settings.put("acme", "notifications", {"emails": []}, taken)
    with pytest.raises(NotWritten):
        stores.accounts.delete("acme", record["account_id"], taken)
    assert stores.accounts.get("acme", record["account_id"]) == record


def _due(stores: Stores, now: str) -> list[tuple[str, str]]:
    return sorted((r["tenant_id"], r["account_id"]) for r in stores.accounts.due(now))


def test_the_due_list_holds_every_tenants_accounts_due_by_then(stores: Stores) -> None:
    early = _register(stores, "acme", 1, next_scan_at="2026-12-01T11:00:00+00:00")
    _register(stores, "acme", 2, next_scan_at=NOON)
    _register(stores, "acme", 3, next_scan_at=LATER)
    _register(stores, "globex", 1, next_scan_at=NOON)
    assert _due(stores, "2026-12-01T10:59:59+00:00") == []
    assert _due(stores, "2026-12-01T11:00:00+00:00") == [("acme", early["account_id"])]
    at_noon = [("acme", _account(1)["account_id"]), ("acme", _account(2)["account_id"])]
    assert _due(stores, NOON) == sorted([*at_noon, ("globex", _account(1)["account_id"])])
    assert len(_due(stores, LATER)) == 4
    assert stores.accounts.due("2026-12-01T11:30:00+00:00") == [early]  # whole records


def test_a_claim_moves_the_next_scan_once(stores: Stores) -> None:
    record = _register(stores, "acme", 1)
    account_id = record["account_id"]
    stores.accounts.claim("acme", account_id, NOON, LATER)
    assert stores.accounts.get("acme", account_id) == {**record, "next_scan_at": LATER}
    assert _due(stores, NOON) == []
    assert _due(stores, LATER) == [("acme", account_id)]
    with pytest.raises(NotWritten):  # read before the first claim: it is not due any more
        stores.accounts.claim("acme", account_id, NOON, "2026-12-01T18:00:01+00:00")
    assert stores.accounts.get("acme", account_id)["next_scan_at"] == LATER
    with pytest.raises(NotWritten):  # no such registration: nothing is made
        stores.accounts.claim("acme", _account(2)["account_id"], NOON, LATER)
    assert stores.accounts.get("acme", _account(2)["account_id"]) is None


def test_two_overlapping_sweeps_claim_an_account_once(stores: Stores) -> None:
    for n in range(1, 6):
        _register(stores, "acme", n)
    first, second = stores.accounts.due(NOON), stores.accounts.due(NOON)  # both read it due
    claimed: dict[str, list[str]] = {"first": [], "second": []}
    # their claims interleave: each account goes to whichever sweep claims it first
    for n, (a, b) in enumerate(zip(first, second, strict=True)):
        order = [("first", a), ("second", b)] if n % 2 else [("second", b), ("first", a)]
        for sweep, record in order:
            try:
                stores.accounts.claim("acme", record["account_id"], record["next_scan_at"], LATER)
            except NotWritten:
                continue
            claimed[sweep].append(record["account_id"])
    assert len(claimed["first"]) == 2 and len(claimed["second"]) == 3
    everyone = sorted(r["account_id"] for r in first)
    assert sorted(claimed["first"] + claimed["second"]) == everyone  # each once, by either
    assert _due(stores, NOON) == []


def test_a_scan_outcome_never_overwrites_a_newer_scans(stores: Stores) -> None:
    record = _register(stores, "acme", 1)
    account_id = record["account_id"]
    started = {"last_scan_at": NOON, "last_scan_id": "scn_old", "next_scan_at": LATER}
    stores.accounts.record_scan("acme", account_id, started)
    stores.accounts.record_scan(
        "acme", account_id, {"last_scan_id": "scn_new", "next_scan_at": "2026-12-02T00:00:00+00:00"}
    )
    with pytest.raises(NotWritten):  # the older scan ends after the newer one started
        stores.accounts.record_scan(
            "acme",
            account_id,
            {"status": "scan_failed", "status_message": "old"},
            if_last_scan="scn_old",
        )
    newer = {**record, **started, "last_scan_id": "scn_new"}
    newer["next_scan_at"] = "2026-12-02T00:00:00+00:00"
    assert stores.accounts.get("acme", account_id) == newer
    stores.accounts.record_scan(
        "acme", account_id, {"status": "ok", "status_message": None}, if_last_scan="scn_new"
    )
    assert stores.accounts.get("acme", account_id) == {**newer, "status": "ok"}
    assert _due(stores, LATER) == []  # the next scan moved with the outcome's changes
    assert _due(stores, "2026-12-02T00:00:00+00:00") == [("acme", account_id)]
    with pytest.raises(NotWritten):  # no such registration: nothing is made
        stores.accounts.record_scan("acme", _account(2)["account_id"], {"status": "ok"})
    assert stores.accounts.get("acme", _account(2)["account_id"]) is None


def test_another_tenant_never_reads_scans_or_deletes_an_account_even_with_its_id(
    stores: Stores,
) -> None:
    record = _register(stores, "acme", 1)
    account_id = record["account_id"]
    assert stores.accounts.get("globex", account_id) is None
    assert stores.accounts.page("globex", 10) == ([], None)
    with pytest.raises(NotWritten):
        stores.accounts.delete("globex", account_id, entry("globex", "account.delete"))
    with pytest.raises(NotWritten):
        stores.accounts.claim("globex", account_id, NOON, LATER)
    with pytest.raises(NotWritten):
        stores.accounts.record_scan("globex", account_id, {"status": "ok"})
    assert stores.accounts.get("acme", account_id) == record
    assert _due(stores, NOON) == [("acme", account_id)]
    assert actions(stores, "globex") == []


def test_the_same_aws_account_in_two_tenants_is_two_registrations(stores: Stores) -> None:
    mine = _register(stores, "acme", 1)
    theirs = _register(stores, "globex", 1, external_id="ext-globex", schedule="30m")
    account_id = mine["account_id"]
    assert stores.accounts.get("acme", account_id) == mine
    assert stores.accounts.get("globex", account_id) == theirs
    assert _due(stores, NOON) == [("acme", account_id), ("globex", account_id)]
    stores.accounts.claim("globex", account_id, NOON, LATER)
    stores.accounts.record_scan("globex", account_id, {"status": "ok"})
    assert stores.accounts.get("acme", account_id) == mine
    stores.accounts.delete("globex", account_id, entry("globex", "account.delete"))
    assert stores.accounts.get("globex", account_id) is None
    assert stores.accounts.get("acme", account_id) == mine
    assert actions(stores, "acme") == ["account.register"]
    assert actions(stores, "globex") == ["account.delete", "account.register"]
