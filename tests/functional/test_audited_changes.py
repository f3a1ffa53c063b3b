"""Every administrative change is written together with its audit entry, or not at all.

The audit entry's write is made to fail (DynamoDB refuses any request that carries an audit
item); the change must then not be live either, and once the store works again the same
request succeeds and is audited.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from chalicelib.stores.clients import client
from tests.conftest import Api

WRITES = ("PutItem", "UpdateItem", "BatchWriteItem", "TransactWriteItems")


class _Refused:
    status_code = 400
    headers: dict[str, str] = {}  # noqa: RUF012 - botocore reads it


@contextmanager
def audit_writes_fail() -> Iterator[list[str]]:
    """DynamoDB refuses every write request that carries an audit entry; yields the refused
    operations' names."""
    refused: list[str] = []

    def refuse(params: dict[str, Any], model: Any, **_: Any) -> Any:
        if "AUDIT#" not in json.dumps(params, default=str):
            return None
        refused.append(model.name)
        error = {"Code": "ValidationException", "Message": "injected: the audit write failed"}
        return _Refused(), {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}}

    events = client("dynamodb").meta.events
    for operation in WRITES:
        events.register(f"before-call.dynamodb.{operation}", refuse, unique_id=f"no-{operation}")
    try:
        yield refused
    finally:
        for operation in WRITES:
            events.unregister(f"before-call.dynamodb.{operation}", unique_id=f"no-{operation}")


@dataclass
class Change:
    """One administrative write: the request, and what the caller can read about its effect."""

    request: Callable[[], requests.Response]
    state: Callable[[], Any]
    action: str
    success: int = 200


def _waiver() -> dict[str, Any]:
    return {
        "rule_id": "DF-USER-001",
        "justification": "root needed until the base image migration lands",
        "approver": "ciso@acme.example",
        "expires_at": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
    }


def _changes(api_url: str, tenant: Api, operator: Api) -> dict[str, Change]:
    waiver_id = tenant.post("/v1/waivers", json=_waiver()).json()["waiver_id"]
    spare = tenant.post("/v1/keys", json={"scopes": ["read"], "name": "spare"}).json()

    def delete(path: str) -> requests.Response:
        return tenant.session.delete(api_url + path, timeout=10)

    def put(path: str, body: dict[str, Any]) -> requests.Response:
        return tenant.session.put(api_url + path, json=body, timeout=10)

    def tenants() -> Any:
        return {
            t["tenant_id"]: t["status"] for t in operator.get("/v1/admin/tenants").json()["tenants"]
        }

    return {
        "policy": Change(
            lambda: put("/v1/policy", {"fail_on": "critical"}),
            lambda: tenant.get("/v1/policy").json(),
            "policy.update",
        ),
        "notifications": Change(
            lambda: put("/v1/notifications", {"emails": ["sec@acme.example"]}),
            lambda: tenant.get("/v1/notifications").json(),
            "notifications.update",
        ),
        "waiver.create": Change(
            lambda: tenant.post("/v1/waivers", json=_waiver()),
            lambda: tenant.get("/v1/waivers").json(),
            "waiver.create",
            201,
        ),
        "waiver.revoke": Change(
            lambda: delete(f"/v1/waivers/{waiver_id}"),
            lambda: tenant.get("/v1/waivers").json(),
            "waiver.revoke",
        ),
        "key.issue": Change(
            lambda: tenant.post("/v1/keys", json={"scopes": ["ingest"]}),
            lambda: tenant.get("/v1/keys").json(),
            "key.issue",
            201,
        ),
        "key.revoke": Change(
            lambda: delete(f"/v1/keys/{spare['key_id']}"),
            lambda: (
                tenant.get("/v1/keys").json(),
                Api(api_url, spare["api_key"]).get("/v1/policy").status_code,
            ),
            "key.revoke",
        ),
        "tenant.create": Change(
            lambda: operator.post("/v1/admin/tenants", json={"tenant_id": "initech"}),
            tenants,
            "tenant.create",
            201,
        ),
        "tenant.disable": Change(
            lambda: operator.post("/v1/admin/tenants/acme/disable"),
            tenants,
            "tenant.disabled",
        ),
    }


CHANGES = [
    "policy",
    "notifications",
    "waiver.create",
    "waiver.revoke",
    "key.issue",
    "key.revoke",
    "tenant.create",
    "tenant.disable",
]


@pytest.mark.parametrize("name", CHANGES)
def test_a_change_whose_audit_entry_cannot_be_written_is_not_made(
    api_url: str, keys: dict[str, str], operator_key: str, name: str
) -> None:
    tenant, operator = Api(api_url, keys["acme"]), Api(api_url, operator_key)
    change = _changes(api_url, tenant, operator)[name]
    tenant_id = "initech" if name == "tenant.create" else "acme"
    before, log = change.state(), _log(tenant_id)

    with audit_writes_fail() as refused:
        failed = change.request()
    assert refused, "the change wrote no audit entry at all"
    assert failed.status_code == 500, failed.text
    assert set(failed.json()) == {"error"} and "Traceback" not in failed.text
    assert change.state() == before, f"{name} is live although its audit entry was not written"
    assert _log(tenant_id) == log

    done = change.request()
    assert done.status_code == change.success, done.text
    assert change.state() != before
    assert _log(tenant_id)[0]["action"] == change.action


def _log(tenant_id: str) -> list[dict[str, Any]]:
    """The tenant's audit entries as stored, newest first."""
    from chalicelib import audit

    return audit.entries(tenant_id, 200)["entries"]
