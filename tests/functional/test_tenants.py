"""Tenants, keys and the audit log: the operator creates tenants, tenant admins manage keys."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, scan_body


def test_operator_creates_lists_disables_and_enables_tenants(
    api_url: str, operator_key: str, keys: dict[str, str]
) -> None:
    operator = Api(api_url, operator_key)
    created = operator.post("/v1/admin/tenants", json={"tenant_id": "initech", "name": "Initech"})
    assert created.status_code == 201, created.text
    key = created.json()["api_key"]
    assert created.json()["tenant_id"] == "initech"
    initech = Api(api_url, key)
    assert initech.post("/v1/scans", json=scan_body()).status_code == 202

    again = operator.post("/v1/admin/tenants", json={"tenant_id": "initech"})
    assert again.status_code == 409
    bad = operator.post("/v1/admin/tenants", json={"tenant_id": "Not_Valid"})
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "tenant_id"

    listed = operator.get("/v1/admin/tenants").json()["tenants"]
    assert {t["tenant_id"] for t in listed} >= {"acme", "globex", "initech"}
    assert all(set(t) == {"tenant_id", "name", "status", "created_at"} for t in listed)

    assert operator.post("/v1/admin/tenants/initech/disable").json()["status"] == "disabled"
    refused = initech.get("/v1/findings")
    assert refused.status_code == 401
    assert operator.post("/v1/admin/tenants/initech/enable").json()["status"] == "active"
    assert initech.get("/v1/findings").status_code == 200
    assert operator.post("/v1/admin/tenants/nobody/disable").status_code == 404

    # the operator administers tenants but reads no tenant's data...
    assert operator.get("/v1/findings").status_code == 403
    assert operator.post("/v1/scans", json=scan_body()).status_code == 403
    # ...and no tenant key can act as the operator
    assert Api(api_url, keys["acme"]).get("/v1/admin/tenants").status_code == 403

    log = initech.get("/v1/audit").json()["entries"]
    assert [e["action"] for e in log] == ["tenant.active", "tenant.disabled", "tenant.create"]
    assert log[1]["actor"] == "operator"
    assert log[1]["before"]["status"] == "active" and log[1]["after"]["status"] == "disabled"


def test_tenant_admin_issues_lists_and_revokes_keys(
    api_url: str, keys: dict[str, str], aws: Any
) -> None:
    admin = Api(api_url, keys["acme"])
    issued = admin.post("/v1/keys", json={"scopes": ["ingest"], "name": "ci"})
    assert issued.status_code == 201, issued.text
    body = issued.json()
    ci = Api(api_url, body["api_key"])
    assert ci.post("/v1/scans", json=scan_body()).status_code == 202
    assert ci.get("/v1/findings").status_code == 403

    listed = admin.get("/v1/keys").json()["keys"]
    mine = next(k for k in listed if k["key_id"] == body["key_id"])
    assert mine["scopes"] == ["ingest"] and mine["status"] == "active"
    assert body["api_key"] not in str(listed)
    assert all("key_hash" not in k and "…" in k["shown"] for k in listed)

    assert (
        admin.session.delete(api_url + f"/v1/keys/{body['key_id']}", timeout=10).json()["status"]
        == "revoked"
    )
    assert ci.post("/v1/scans", json=scan_body(run_id="r2")).status_code == 401

    other = Api(api_url, keys["globex"])
    globex_key = other.post("/v1/keys", json={"scopes": ["read"]}).json()
    stolen = admin.session.delete(api_url + f"/v1/keys/{globex_key['key_id']}", timeout=10)
    assert stolen.status_code == 404
    assert Api(api_url, globex_key["api_key"]).get("/v1/findings").status_code == 200

    own_id = next(k["key_id"] for k in listed if k["key_id"] != body["key_id"])
    assert admin.session.delete(api_url + f"/v1/keys/{own_id}", timeout=10).status_code == 422
    assert admin.post("/v1/keys", json={"scopes": ["root"]}).status_code == 422

    log = admin.get("/v1/audit", params={"limit": 1}).json()
    assert log["entries"][0]["action"] == "key.revoke"
    assert log["next_cursor"]
    older = admin.get("/v1/audit", params={"cursor": log["next_cursor"]}).json()["entries"]
    assert older[0]["action"] == "key.issue"
    assert body["api_key"] not in str(older)
    assert {e["action"] for e in other.get("/v1/audit").json()["entries"]} == {
        "tenant.create",
        "key.issue",
    }


def test_deployed_tenants_get_their_own_usage_plan_key(
    api_url: str, operator_key: str, app_module: Any, monkeypatch: Any
) -> None:
    from chalicelib.stores.clients import client

    gateway = client("apigateway")
    plan = gateway.create_usage_plan(name="tenants", throttle={"rateLimit": 5, "burstLimit": 10})
    monkeypatch.setenv("TENANT_USAGE_PLAN", "tenants")
    created = Api(api_url, operator_key).post("/v1/admin/tenants", json={"tenant_id": "hooli"})
    assert created.status_code == 201
    keys = gateway.get_usage_plan_keys(usagePlanId=plan["id"])["items"]
    assert [k["name"] for k in keys] == ["pipeguard-tenant-hooli"]

    event = {
        "type": "TOKEN",
        "authorizationToken": "Bearer " + created.json()["api_key"],
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:api/dev/GET/v1/findings",
    }
    answer = app_module.tenant_key(event, None)
    assert answer["usageIdentifierKey"] == keys[0]["value"]
    assert answer["context"]["tenant_id"] == "hooli"
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"


def test_operator_reindexes_a_tenant_or_everyone(
    api_url: str, operator_key: str, keys: dict[str, str], pipeline: Any
) -> None:
    from chalicelib.search.factory import get_index

    acme = Api(api_url, keys["acme"])
    assert acme.post("/v1/scans", json=scan_body()).status_code == 202
    pipeline.drain()
    stored = len(acme.get("/v1/findings").json()["findings"])
    get_index().clear()  # the index lost everything
    assert acme.get("/v1/findings").json()["findings"] == []

    operator = Api(api_url, operator_key)
    assert operator.post("/v1/admin/reindex", json={"tenant_id": "nobody"}).status_code == 404
    assert operator.post("/v1/admin/reindex", json={"tenant_id": "Bad!"}).status_code == 422
    assert acme.post("/v1/admin/reindex", json={}).status_code == 403
    rebuilt = operator.post("/v1/admin/reindex", json={"tenant_id": "acme"}).json()
    assert rebuilt == {"tenants": 1, "indexed": stored, "removed": 0}
    assert len(acme.get("/v1/findings").json()["findings"]) == stored
    assert operator.post("/v1/admin/reindex", json={}).json()["indexed"] == stored
