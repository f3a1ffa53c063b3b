"""Registered AWS accounts over HTTP: validation, 201/409/404, paging, isolation, the sweep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import Api

ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/pipeguard-audit"


def body(**changes: Any) -> dict[str, Any]:
    return {"account_id": ACCOUNT, "role_arn": ROLE, **changes}


def test_registering_an_account_answers_its_external_id_and_defaults(
    api_url: str, keys: dict[str, str]
) -> None:
    acme = Api(api_url, keys["acme"])
    created = acme.post("/v1/accounts", json=body())
    assert created.status_code == 201, created.text
    record = created.json()
    assert created.headers["Location"] == f"/v1/accounts/{ACCOUNT}"
    assert record["account_id"] == ACCOUNT and record["role_arn"] == ROLE
    assert record["regions"] == ["us-east-1"] and record["schedule"] == "6h"
    assert record["status"] == "pending" and record["status_message"] is None
    assert len(record["external_id"]) >= 40
    assert record["last_scan_at"] is None and record["last_scan_id"] is None
    assert record["next_scan_at"] == record["created_at"]  # the first scan is due at once
    assert "tenant_id" not in record and "created_by" not in record

    assert acme.get(f"/v1/accounts/{ACCOUNT}").json() == record
    again = acme.post("/v1/accounts", json=body(schedule="1d"))
    assert again.status_code == 409, again.text
    assert again.json()["error"]["code"] == "conflict"
    assert acme.get(f"/v1/accounts/{ACCOUNT}").json() == record  # unchanged by the conflict

    # the same AWS account in another tenant: its own registration, its own external id
    globex = Api(api_url, keys["globex"])
    theirs = globex.post("/v1/accounts", json=body(regions=["eu-west-1", "us-east-1"]))
    assert theirs.status_code == 201, theirs.text
    assert theirs.json()["external_id"] != record["external_id"]
    assert theirs.json()["regions"] == ["eu-west-1", "us-east-1"]


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"account_id": "12345"}, "account_id", "should match pattern"),
        ({"account_id": 111122223333}, "account_id", "valid string"),
        ({"role_arn": "arn:aws:iam::111122223333:user/bob"}, "role_arn", "IAM role ARN"),
        ({"role_arn": "arn:aws:iam::999988887777:role/x"}, "role_arn", "role of account 9999"),
        ({"regions": ["mars-north-1"]}, "regions", "unknown region(s) 'mars-north-1'"),
        ({"regions": []}, "regions", "at least 1 item"),
        ({"schedule": "10m"}, "schedule", "at least 15m and at most 7d"),
        ({"schedule": "8d"}, "schedule", "at least 15m and at most 7d"),
        ({"schedule": "6 hours"}, "schedule", "e.g. 30m, 6h or 1d"),
        ({"stacks": ["web", "9lives"]}, "stacks", "not a stack name or stack id: '9lives'"),
        ({"stacks": ["a" * 129]}, "stacks", "not a stack name or stack id"),
        ({"stack": ["web"]}, "stack", "Extra inputs are not permitted"),
    ],
)
def test_each_bad_field_is_a_422_that_names_it(
    api_url: str, keys: dict[str, str], changes: dict[str, Any], field: str, says: str
) -> None:
    response = Api(api_url, keys["acme"]).post("/v1/accounts", json=body(**changes))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    [detail] = error["details"]
    assert detail["field"] == field, detail
    assert says in detail["message"], detail


def test_schedule_bounds_are_accepted(api_url: str, keys: dict[str, str]) -> None:
    acme = Api(api_url, keys["acme"])
    for i, schedule in enumerate(("15m", "7d", "168h")):
        account = f"11112222000{i}"
        created = acme.post(
            "/v1/accounts",
            json={"account_id": account, "role_arn": f"arn:aws:iam::{account}:role/a/b/audit",
                  "schedule": schedule},
        )  # fmt: skip
        assert created.status_code == 201, created.text
    assert acme.post("/v1/accounts", data=b"{", headers={"Content-Type": "application/json"}
                     ).status_code == 400  # fmt: skip


def test_listing_pages_and_deleting(api_url: str, keys: dict[str, str]) -> None:
    from chalicelib.paging import encode_cursor

    acme = Api(api_url, keys["acme"])
    ids = [f"10000000000{i}" for i in range(5)]
    for account in reversed(ids):
        role = f"arn:aws:iam::{account}:role/audit"
        assert acme.post("/v1/accounts", json=body(account_id=account, role_arn=role)).ok
    seen, cursor = [], None
    while True:
        page = acme.get(
            "/v1/accounts", params={"limit": "2", **({"cursor": cursor} if cursor else {})}
        )
        assert page.status_code == 200, page.text
        seen += [a["account_id"] for a in page.json()["accounts"]]
        cursor = page.json()["next_cursor"]
        if not cursor:
            break
    assert seen == ids
    assert acme.get("/v1/accounts", params={"limit": "0"}).status_code == 422
    assert acme.get("/v1/accounts", params={"cursor": "bogus"}).status_code == 400
    for position in ("x" * 1500, "10000000000", "1000000000010"):  # not an account id
        refused = acme.get("/v1/accounts", params={"cursor": encode_cursor("accounts", position)})
        assert refused.status_code == 400, refused.text
        assert "pass next_cursor" in refused.json()["error"]["message"]

    gone = acme.session.delete(f"{api_url}/v1/accounts/{ids[0]}", timeout=30)
    assert gone.status_code == 204 and gone.content == b""
    assert acme.get(f"/v1/accounts/{ids[0]}").status_code == 404
    again = acme.session.delete(f"{api_url}/v1/accounts/{ids[0]}", timeout=30)
    assert again.status_code == 404 and again.json()["error"]["code"] == "not_found"
    assert acme.get("/v1/accounts/not-an-account").status_code == 404
    assert [a["account_id"] for a in acme.get("/v1/accounts").json()["accounts"]] == ids[1:]
    log = acme.get("/v1/audit", params={"limit": "2"}).json()["entries"]
    assert [(e["action"], e["target"]) for e in log] == [
        ("account.delete", ids[0]), ("account.register", ids[0]),
    ]  # fmt: skip
    assert log[0]["after"] is None and log[0]["before"]["role_arn"].endswith(":role/audit")


def test_another_tenant_cannot_read_delete_or_scan_an_account(
    api_url: str, keys: dict[str, str]
) -> None:
    acme, globex = Api(api_url, keys["acme"]), Api(api_url, keys["globex"])
    record = acme.post("/v1/accounts", json=body()).json()
    assert globex.get(f"/v1/accounts/{ACCOUNT}").status_code == 404
    assert globex.session.delete(f"{api_url}/v1/accounts/{ACCOUNT}", timeout=30).status_code == 404
    scan = globex.post(
        f"/v1/accounts/{ACCOUNT}/scans", headers={"Content-Type": "application/json"}
    )
    assert scan.status_code == 404, scan.text
    listed = globex.get("/v1/accounts").json()
    assert listed == {"accounts": [], "next_cursor": None}
    assert acme.get(f"/v1/accounts/{ACCOUNT}").json() == record  # untouched


def test_read_keys_list_but_only_admin_keys_register(api_url: str, aws: Any) -> None:
    from chalicelib.tenancy import create_tenant, issue_key

    create_tenant("initech")
    reader = Api(api_url, issue_key("initech", ["read"], "ro"))
    refused = reader.post("/v1/accounts", json=body())
    assert refused.status_code == 403 and "'admin' scope" in refused.json()["error"]["message"]
    assert reader.get("/v1/accounts").status_code == 200


def _register(record: dict[str, Any]) -> None:
    from chalicelib import audit
    from chalicelib.stores.backend import stores

    entry = audit.new_entry(record["tenant_id"], "key_x", "account.register", record["account_id"])
    stores().accounts.create(record["tenant_id"], record, entry)


def test_the_sweep_scans_only_due_accounts_once(keys: dict[str, str]) -> None:
    from chalicelib import account_scans, accounts
    from chalicelib.stores.backend import stores

    store = stores().accounts
    start = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    for tenant, account, schedule in (
        ("acme", "100000000001", "1h"),
        ("acme", "100000000002", "6h"),
        ("globex", "100000000001", "30m"),
    ):
        request = accounts.AccountRequest(
            account_id=account, role_arn=f"arn:aws:iam::{account}:role/a", schedule=schedule
        )
        _register(accounts.new_record(tenant, request, "key_x", start))
    scanned: list[tuple[str, str, datetime]] = []

    def scan(record: dict[str, Any], actor: str, moment: datetime) -> dict[str, Any]:
        assert actor == account_scans.SCHEDULER
        scanned.append((record["tenant_id"], record["account_id"], moment))
        return {}

    def sweep_at(moment: datetime) -> list[tuple[str, str]]:
        scanned.clear()
        summary = account_scans.sweep(clock=lambda: moment, scan=scan)
        assert summary == {"due": len(scanned), "queued": len(scanned)}
        return sorted((t, a) for t, a, _ in scanned)

    assert sweep_at(start - timedelta(seconds=1)) == []
    everyone = [("acme", "100000000001"), ("acme", "100000000002"), ("globex", "100000000001")]
    assert sweep_at(start) == everyone
    assert sweep_at(start + timedelta(minutes=29)) == []  # claimed: next one in each interval
    assert sweep_at(start + timedelta(minutes=30)) == [("globex", "100000000001")]
    assert sweep_at(start + timedelta(hours=1)) == [
        ("acme", "100000000001"), ("globex", "100000000001"),
    ]  # fmt: skip
    assert store.get("acme", "100000000002")["next_scan_at"] == "2026-12-01T18:00:00+00:00"
    assert sweep_at(start + timedelta(hours=6)) == everyone


def test_a_failing_account_does_not_stop_the_sweep(keys: dict[str, str]) -> None:
    from chalicelib import account_scans, accounts

    start = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    for account in ("100000000001", "100000000002"):
        request = accounts.AccountRequest(
            account_id=account, role_arn=f"arn:aws:iam::{account}:role/a"
        )
        _register(accounts.new_record("acme", request, "key_x", start))
    seen: list[str] = []

    def scan(record: dict[str, Any], actor: str, moment: datetime) -> dict[str, Any]:
        seen.append(record["account_id"])
        if record["account_id"] == "100000000001":
            raise RuntimeError("boom")
        return {}

    assert account_scans.sweep(clock=lambda: start, scan=scan) == {"due": 2, "queued": 1}
    assert seen == ["100000000001", "100000000002"]


def test_the_sweep_leaves_a_disabled_tenants_accounts_alone(keys: dict[str, str]) -> None:
    from chalicelib import account_scans, accounts, tenancy

    start = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    for tenant in ("acme", "globex"):
        request = accounts.AccountRequest(account_id=ACCOUNT, role_arn=ROLE)
        _register(accounts.new_record(tenant, request, "key_x", start))
    tenancy.set_status("globex", "disabled", actor="operator")
    seen: list[str] = []

    def scan(record: dict[str, Any], actor: str, moment: datetime) -> dict[str, Any]:
        seen.append(record["tenant_id"])
        return {}

    assert account_scans.sweep(clock=lambda: start, scan=scan) == {"due": 2, "queued": 1}
    assert seen == ["acme"]
    tenancy.set_status("globex", "active", actor="operator")
    assert account_scans.sweep(clock=lambda: start, scan=scan) == {"due": 1, "queued": 1}
    assert seen == ["acme", "globex"]


def test_overlapping_sweeps_queue_one_job_per_due_account(
    keys: dict[str, str], aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json
    import threading

    import boto3

    from chalicelib import account_scans, accounts
    from chalicelib.stores import scans
    from chalicelib.stores.backend import stores

    store = stores().accounts

    start = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    due = [("acme", "100000000001"), ("acme", "100000000002"), ("globex", "100000000001")]
    for tenant, account in due:
        request = accounts.AccountRequest(
            account_id=account, role_arn=f"arn:aws:iam::{account}:role/a"
        )
        _register(accounts.new_record(tenant, request, "key_x", start))
    # both sweeps have read the due accounts before either claims one
    both_read = threading.Barrier(2, timeout=30)
    read = store.due

    def due_then_wait(now: str) -> list[dict[str, Any]]:
        found = read(now)
        both_read.wait()
        return found

    # moto in-process does not make two concurrent conditional updates atomic (DynamoDB
    # does); the claims run one after the other, each on the stale read
    one_claim = threading.Lock()
    claim = store.claim

    def claim_alone(*args: Any) -> None:
        with one_claim:
            claim(*args)

    monkeypatch.setattr(store, "due", due_then_wait)
    monkeypatch.setattr(store, "claim", claim_alone)
    summaries: list[dict[str, int]] = []
    sweeps = [
        threading.Thread(target=lambda: summaries.append(account_scans.sweep(clock=lambda: start)))
        for _ in range(2)
    ]
    for sweep in sweeps:
        sweep.start()
    for sweep in sweeps:
        sweep.join(60)
    assert sorted(s["due"] for s in summaries) == [3, 3]
    assert sum(s["queued"] for s in summaries) == 3

    sqs = boto3.client("sqs", region_name="us-east-1")
    messages = sqs.receive_message(QueueUrl=aws.account_scan_queue_url, MaxNumberOfMessages=10)
    jobs = [json.loads(m["Body"]) for m in messages.get("Messages", [])]
    assert sorted((j["tenant_id"], j["account_id"]) for j in jobs) == due
    for job in jobs:
        assert job["actor"] == account_scans.SCHEDULER
        record = store.get(job["tenant_id"], job["account_id"])
        assert record["last_scan_id"] == job["scan_id"]
        assert record["next_scan_at"] == "2026-12-01T18:00:00+00:00"
        assert scans.get(job["tenant_id"], job["scan_id"])["status"] == "collecting"
    made = {t: len(scans.received_since(t, "2026-01-01")) for t in ("acme", "globex")}
    assert made == {"acme": 2, "globex": 1}  # one scan per due account, none twice


def test_a_bad_account_body_names_every_field_an_account_may_hold(
    api_url: str, keys: dict[str, str]
) -> None:
    acme = Api(api_url, keys["acme"])
    fields = "account_id, role_arn, regions, schedule, stacks"
    not_an_object = acme.post("/v1/accounts", json=["web"])
    assert not_an_object.status_code == 422, not_an_object.text
    assert f"the account ({fields}) must be a JSON object" in not_an_object.text
    unknown = acme.post("/v1/accounts", json=body(stack=["web"]))
    assert unknown.status_code == 422, unknown.text
    message = unknown.json()["error"]["message"]
    assert message == f"the account ({fields}) is invalid: check stack"
