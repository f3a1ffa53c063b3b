"""A tenant's policy (versioned), its waivers, and one pipeline's state."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from pydantic import ValidationError

from chalicelib import audit, ids, lifecycle, waivers
from chalicelib import policy as policies
from chalicelib.errors import Conflict, NotFound, ValidationFailed, from_pydantic
from chalicelib.models import SEVERITY_ORDER
from chalicelib.stores import findings, scans
from chalicelib.views.call import Call, Reply


def get_policy(call: Call) -> dict[str, Any]:
    version = policies.current_version(call.tenant_id)
    policy = policies.load(call.tenant_id, version)
    return {"version": version, **policy.model_dump(mode="json")}


def put_policy(call: Call) -> dict[str, Any]:
    document = call.json("the policy")
    try:
        policy = policies.Policy.model_validate(document)
    except ValidationError as exc:
        raise from_pydantic(exc, "the policy") from None
    try:
        policy.custom()
    except ValidationError as exc:
        error = from_pydantic(exc, "the custom rules")
        for detail in error.details:
            detail["field"] = "custom_rules." + detail["field"].removeprefix("rules.")
        error.message = "the policy is invalid: check " + ", ".join(
            d["field"] for d in error.details[:5]
        )
        raise error from None
    before = get_policy(call)
    try:
        version = policies.save(
            call.tenant_id, policy, before["version"], call.principal.key_id, _now()
        )
    except policies.PolicyConflict:
        raise Conflict(
            "the policy was changed at the same time: read it again, then retry"
        ) from None
    after = {"version": version, **policy.model_dump(mode="json")}
    audit.record(call.tenant_id, call.principal.key_id, "policy.update", "policy", before, after)
    return after


def create_waiver(call: Call) -> Reply:
    try:
        request = waivers.WaiverRequest.model_validate(call.json("the waiver"))
    except ValidationError as exc:
        raise from_pydantic(exc, "the waiver") from None
    if request.finding_id and findings.get(call.tenant_id, request.finding_id) is None:
        raise ValidationFailed(
            f"no finding {request.finding_id!r} in this tenant",
            [{"field": "finding_id", "message": "unknown finding"}],
        )
    waiver = waivers.create(call.tenant_id, request, call.principal.key_id, _now())
    audit.record(
        call.tenant_id, call.principal.key_id, "waiver.create", waiver["waiver_id"], None, waiver
    )
    return Reply(waiver, 201)


def list_waivers(call: Call) -> dict[str, Any]:
    now = _now()
    listed = waivers.all_of(call.tenant_id)
    for waiver in listed:
        if waiver["status"] == "active" and not waivers.is_active(waiver, now):
            waiver["status"] = "expired"
    return {"waivers": sorted(listed, key=lambda w: w["created_at"], reverse=True)}


def revoke_waiver(call: Call, waiver_id: str) -> dict[str, Any]:
    now = _now()
    before = (
        waivers.revoke(call.tenant_id, waiver_id, now) if waiver_id.startswith("wvr_") else None
    )
    if before is None:
        raise NotFound(f"no waiver {waiver_id!r} in this tenant")
    after = {**before, "status": "revoked", "revoked_at": now}
    audit.record(call.tenant_id, call.principal.key_id, "waiver.revoke", waiver_id, before, after)
    return after


def get_pipeline(call: Call, name: str) -> dict[str, Any]:
    """The pipeline's current findings (not fixed), its latest verdict and its scan history."""
    name = unquote(name)
    key = ids.pipeline_key(call.tenant_id, name)
    history = scans.of_pipeline(key)
    if not history:
        raise NotFound(f"no scans of pipeline {name!r} in this tenant")
    now = _now()
    current = []
    for item in findings.of_pipeline(key):
        if item.get("lifecycle") == "fixed":
            continue
        item["status"] = lifecycle.public_status(item, now)
        current.append(
            {
                k: v
                for k, v in item.items()
                if k not in ("tenant_id", "artifact_key", "pipeline_key")
            }
        )
    current.sort(
        key=lambda f: (-[s.value for s in SEVERITY_ORDER].index(f["severity"]), f["finding_id"])
    )
    latest = next((s for s in history if s.get("status") == "complete"), None)
    fields = (
        "scan_id",
        "run_id",
        "commit",
        "received_at",
        "status",
        "verdict",
        "counts",
        "policy_version",
    )
    return {
        "pipeline": name,
        "verdict": latest.get("verdict") if latest else None,
        "open_findings": [f for f in current if f["status"] not in lifecycle.NOT_COUNTED],
        "accepted_findings": [f for f in current if f["status"] in lifecycle.NOT_COUNTED],
        "history": [{f: s.get(f) for f in fields} for s in history],
    }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
