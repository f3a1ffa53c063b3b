"""The tenancy routes over HTTP on each backend: the same requests, the same answers."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from chalicelib.stores.ports import Stores
from tests.conftest import Api

OPERATOR = "pgk_operator-" + "o" * 40


@pytest.fixture
def api_url(stores: Stores, monkeypatch: Any) -> Iterator[str]:
    from chalicelib.local.server import create_server
    from chalicelib.tenancy import hash_key

    monkeypatch.setenv("OPERATOR_KEY_SHA256", hash_key(OPERATOR))
    server = create_server(importlib.import_module("app").app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.url
    server.stop()


def _delete(api: Api, path: str) -> requests.Response:
    return api.session.delete(api.base + path, timeout=30)


def _put(api: Api, path: str, body: dict[str, Any]) -> requests.Response:
    return api.session.put(api.base + path, json=body, timeout=30)


def test_tenancy_routes_answer_alike(api_url: str) -> None:
    operator = Api(api_url, OPERATOR)
    created = {t: operator.post("/v1/admin/tenants", json={"tenant_id": t}) for t in ("a1", "b1")}
    assert {t: r.status_code for t, r in created.items()} == {"a1": 201, "b1": 201}
    assert operator.post("/v1/admin/tenants", json={"tenant_id": "a1"}).status_code == 409
    alpha = Api(api_url, created["a1"].json()["api_key"])
    beta = Api(api_url, created["b1"].json()["api_key"])

    assert _put(alpha, "/v1/policy", {"fail_on": "low"}).json()["version"] == 1
    assert _put(alpha, "/v1/policy", {"fail_on": "critical"}).json()["version"] == 2
    assert alpha.get("/v1/policy", params={"version": "1"}).json()["fail_on"] == "low"
    assert beta.get("/v1/policy").json()["version"] == 0
    assert beta.get("/v1/policy", params={"version": "1"}).status_code == 404
    assert _put(alpha, "/v1/notifications", {"emails": ["sec@a1.example"]}).status_code == 200
    assert beta.get("/v1/notifications").json()["emails"] == []

    waiver = {
        "rule_id": "DF-USER-001",
        "justification": "root needed for the migration",
        "approver": "ciso@a1.example",
        "expires_at": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
    }
    waiver_id = alpha.post("/v1/waivers", json=waiver).json()["waiver_id"]
    assert _delete(beta, f"/v1/waivers/{waiver_id}").status_code == 404
    assert beta.get("/v1/waivers").json()["waivers"] == []
    assert _delete(alpha, f"/v1/waivers/{waiver_id}").json()["status"] == "revoked"

    reader = alpha.post("/v1/keys", json={"scopes": ["read"]}).json()
    assert Api(api_url, reader["api_key"]).get("/v1/policy").status_code == 200
    assert _delete(beta, f"/v1/keys/{reader['key_id']}").status_code == 404
    assert _delete(alpha, f"/v1/keys/{reader['key_id']}").json()["status"] == "revoked"
    assert Api(api_url, reader["api_key"]).get("/v1/policy").status_code == 401

    walked, cursor = [], None
    while True:
        page = alpha.get(
            "/v1/audit", params={"limit": "2", **({"cursor": cursor} if cursor else {})}
        )
        assert page.status_code == 200, page.text
        walked += [e["action"] for e in page.json()["entries"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert walked == [
        "key.revoke",
        "key.issue",
        "waiver.revoke",
        "waiver.create",
        "notifications.update",
        "policy.update",
        "policy.update",
        "tenant.create",
    ]
    assert [e["action"] for e in beta.get("/v1/audit").json()["entries"]] == ["tenant.create"]
    bad = alpha.get("/v1/audit", params={"cursor": "bm90LWEtY3Vyc29y"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_request"

    assert operator.session.post(api_url + "/v1/admin/tenants/a1/disable", timeout=30).ok
    assert alpha.get("/v1/policy").status_code == 401
    listed = operator.get("/v1/admin/tenants").json()["tenants"]
    assert [(t["tenant_id"], t["status"]) for t in listed] == [("a1", "disabled"), ("b1", "active")]


def test_account_routes_answer_alike(api_url: str) -> None:
    operator = Api(api_url, OPERATOR)
    created = {t: operator.post("/v1/admin/tenants", json={"tenant_id": t}) for t in ("a2", "b2")}
    alpha = Api(api_url, created["a2"].json()["api_key"])
    beta = Api(api_url, created["b2"].json()["api_key"])
    ids = [f"20000000000{n}" for n in range(3)]
    for account_id in reversed(ids):
        role = f"arn:aws:iam::{account_id}:role/audit"
        registered = alpha.post("/v1/accounts", json={"account_id": account_id, "role_arn": role})
        assert registered.status_code == 201, registered.text
    again = alpha.post(
        "/v1/accounts", json={"account_id": ids[0], "role_arn": f"arn:aws:iam::{ids[0]}:role/x"}
    )
    assert again.status_code == 409
    theirs = beta.post(  # the same AWS account in another tenant: a registration of its own
        "/v1/accounts", json={"account_id": ids[0], "role_arn": f"arn:aws:iam::{ids[0]}:role/b"}
    )
    assert theirs.status_code == 201

    first = alpha.get("/v1/accounts", params={"limit": "2"}).json()
    assert [a["account_id"] for a in first["accounts"]] == ids[:2]
    rest = alpha.get("/v1/accounts", params={"limit": "2", "cursor": first["next_cursor"]}).json()
    assert ([a["account_id"] for a in rest["accounts"]], rest["next_cursor"]) == (ids[2:], None)
    mine = alpha.get(f"/v1/accounts/{ids[0]}").json()
    assert mine["role_arn"].endswith(":role/audit") and "tenant_id" not in mine
    assert beta.get(f"/v1/accounts/{ids[0]}").json()["external_id"] != mine["external_id"]
    assert beta.get(f"/v1/accounts/{ids[1]}").status_code == 404
    assert _delete(beta, f"/v1/accounts/{ids[1]}").status_code == 404

    assert _delete(alpha, f"/v1/accounts/{ids[0]}").status_code == 204
    assert _delete(alpha, f"/v1/accounts/{ids[0]}").status_code == 404
    assert alpha.get(f"/v1/accounts/{ids[0]}").status_code == 404
    assert beta.get(f"/v1/accounts/{ids[0]}").status_code == 200
    logged = [e["action"] for e in alpha.get("/v1/audit").json()["entries"]]
    assert logged[:4] == [
        "account.delete",
        "account.register",
        "account.register",
        "account.register",
    ]
    assert [e["action"] for e in beta.get("/v1/audit").json()["entries"]][0] == "account.register"
