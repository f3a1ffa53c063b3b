"""A tenant's policy (versioned), its waivers, and one pipeline's state."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import unquote

from pydantic import Field, ValidationError

from chalicelib import audit, ids, lifecycle, waivers
from chalicelib import policy as policies
from chalicelib.errors import Conflict, NotFound, ValidationFailed, from_pydantic
from chalicelib.models import SEVERITY_ORDER
from chalicelib.paging import DIGITS_ONLY, NoQuery, PageQuery, page, parse_query
from chalicelib.stores import findings, scans
from chalicelib.views.call import Call, Reply


class PolicyQuery(NoQuery):
    """`GET /v1/policy`: the current version, or `version` (an earlier one)."""

    version: Annotated[int, Field(ge=0), DIGITS_ONLY] | None = None


def get_policy(call: Call) -> dict[str, Any]:
    wanted = parse_query(PolicyQuery, call.query)
    current = policies.current_version(call.tenant_id)
    if wanted.version is None or wanted.version == current:
        return _version(call.tenant_id, current)
    if wanted.version > current:
        raise NotFound(
            f"no policy version {wanted.version} in this tenant (the current one is {current})",
            [{"field": "version", "message": f"at most {current}"}],
        )
    return _version(call.tenant_id, wanted.version)


def _version(tenant_id: str, version: int) -> dict[str, Any]:
    policy = policies.load(tenant_id, version)
    return {"version": version, **policy.model_dump(mode="json")}


def put_policy(call: Call) -> dict[str, Any]:
    document = call.json("the policy")
    _within_size(document)
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
    before = _version(call.tenant_id, policies.current_version(call.tenant_id))
    after = {"version": before["version"] + 1, **policy.model_dump(mode="json")}
    actor = call.principal.key_id
    entry = audit.new_entry(call.tenant_id, actor, "policy.update", "policy", before, after)
    try:
        policies.save(call.tenant_id, policy, before["version"], actor, _now(), entry)
    except policies.PolicyConflict:
        raise Conflict(
            "the policy was changed at the same time: read it again, then retry"
        ) from None
    return after


def _within_size(document: dict[str, Any]) -> None:
    """422 naming the limit (and the largest field) when the policy, as sent, is too large to
    store (the stored version adds at most the defaults of the fields left out)."""
    size = policies.size_of(document)
    if size <= policies.MAX_POLICY_BYTES:
        return
    largest = max(document, key=lambda name: policies.size_of(document[name]))
    raise ValidationFailed(
        f"the policy is {size} bytes of JSON; a policy may be at most "
        f"{policies.MAX_POLICY_BYTES} bytes (256 KiB): shorten {largest}",
        [{"field": largest, "message": f"{policies.size_of(document[largest])} bytes"}],
    )


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
    return Reply(waivers.create(call.tenant_id, request, call.principal.key_id, _now()), 201)


def list_waivers(call: Call) -> dict[str, Any]:
    """The tenant's waivers, newest first, one page at a time."""
    query = parse_query(PageQuery, call.query)
    now = _now()
    listed, next_cursor = page(
        waivers.all_of(call.tenant_id),
        lambda w: f"{w['created_at']}#{w['waiver_id']}",
        query,
        "waivers",
        descending=True,
    )
    for waiver in listed:
        if waiver["status"] == "active" and not waivers.is_active(waiver, now):
            waiver["status"] = "expired"
    return {"waivers": listed, "next_cursor": next_cursor}


def revoke_waiver(call: Call, waiver_id: str) -> dict[str, Any]:
    revoked = (
        waivers.revoke(call.tenant_id, waiver_id, call.principal.key_id, _now())
        if waivers.WAIVER_ID.match(waiver_id)
        else None
    )
    if revoked is None:
        raise NotFound(f"no waiver {waiver_id!r} in this tenant")
    return revoked


def get_pipeline(call: Call, name: str) -> dict[str, Any]:
    """The pipeline's current findings (not fixed), its latest verdict and its scan history."""
    name = unquote(name)
    key = ids.pipeline_key(call.tenant_id, name)
    history = scans.of_pipeline(call.tenant_id, key)
    if not history:
        raise NotFound(f"no scans of pipeline {name!r} in this tenant")
    now = _now()
    current = []
    for item in findings.of_pipeline(call.tenant_id, key):
        if item.get("lifecycle") == "fixed":
            continue
        item["status"] = lifecycle.public_status(item, now)
        current.append(findings.public(item))
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
