"""A tenant's compliance report: each control of a framework as pass, fail or not assessed.

A control fails when a current finding (not fixed) of one of its rules counts against the
verdict (status new, open or reopened); waived and suppressed findings do not fail it but are
listed as evidence with their status. It passes when nothing fails and at least one of its
rules, enabled by the tenant's policy, judges an artifact type that the latest complete scan
of some pipeline evaluated. Otherwise it is not assessed: no rule maps to it, its rules are
disabled, or nothing of their artifact types was scanned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib import ids, lifecycle
from chalicelib.compliance.catalog import FRAMEWORKS, Framework
from chalicelib.compliance.coverage import covered_controls, rules_by_control
from chalicelib.errors import NotFound
from chalicelib.kinds import SEVERITY_ORDER

__all__ = [
    "MAX_EVIDENCE",
    "Observed",
    "framework_report",
    "observe",
    "overview",
    "require_framework",
]

MAX_EVIDENCE = 200
"""Evidence listed per control (most severe first); `evidence_count` says how many exist."""
_PAGE = 500
_EVIDENCE_FIELDS = ("pipeline", "path", "resource", "rule_id", "finding_id", "severity")
_RANK = {s.value: i for i, s in enumerate(SEVERITY_ORDER)}


@dataclass(frozen=True)
class Observed:
    """What the tenant's (or one pipeline's) latest scans show: current findings by rule, the
    artifact types evaluated, and the rules its policy disables."""

    pipeline: str | None
    findings_by_rule: dict[str, list[dict[str, Any]]]
    evaluated_types: frozenset[str]
    disabled_rules: frozenset[str]


def _metas() -> list[Any]:
    from chalicelib.engine.registry import all_rules

    return [r.meta for r in all_rules()]


def overview() -> dict[str, Any]:
    """Every framework with its share of automatable controls that the rules assess."""
    metas = _metas()
    listed = []
    for framework in FRAMEWORKS.values():
        covered = len(covered_controls(framework.id, metas))
        total = len(framework.controls)
        listed.append(
            {
                **_describe(framework),
                "controls_automatable": total,
                "controls_covered": covered,
                "coverage": round(covered / total, 4),
                "report_url": f"/v1/compliance/{framework.id}",
            }
        )
    return {"frameworks": listed}


def observe(tenant_id: str, pipeline: str | None = None) -> Observed:
    """Read the tenant's current findings and latest scans (one pipeline's when named)."""
    from chalicelib import policy
    from chalicelib.stores import findings, scans
    from chalicelib.stores.backend import stores

    if pipeline is not None:
        key = ids.pipeline_key(tenant_id, pipeline)
        history = scans.of_pipeline(tenant_id, key)
        if not history:
            raise NotFound(f"no scans of pipeline {pipeline!r} in this tenant")
        latest = [next((s for s in history if s.get("status") == "complete"), None)]
        items = findings.of_pipeline(tenant_id, key)
    else:
        latest = list(_latest_by_pipeline(scans.received_since(tenant_id, "")).values())
        items = []
        after: str | None = None
        while True:
            page, after = stores().findings.page(tenant_id, _PAGE, after)
            items += page
            if after is None:
                break
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        if item.get("tenant_id") != tenant_id or item.get("lifecycle") == "fixed":
            continue
        item["status"] = lifecycle.public_status(item, now)
        by_rule.setdefault(item["rule_id"], []).append(item)
    evaluated = {
        artifact["type"]
        for scan in latest
        if scan is not None
        for artifact in scan.get("artifacts", [])
        if scan.get("results", {}).get(str(artifact["index"]), {}).get("status") == "evaluated"
    }
    current = policy.load(tenant_id, policy.current_version(tenant_id))
    disabled = {m.id for m in _metas() if not current.is_enabled(m.id)}
    return Observed(pipeline, by_rule, frozenset(evaluated), frozenset(disabled))


def _latest_by_pipeline(all_scans: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for scan in all_scans:
        if scan.get("status") != "complete":
            continue
        seen = latest.get(scan["pipeline"])
        if seen is None or (scan["received_at"], scan["scan_id"]) > (
            seen["received_at"],
            seen["scan_id"],
        ):
            latest[scan["pipeline"]] = scan
    return latest


def framework_report(framework_id: str, observed: Observed) -> dict[str, Any]:
    """The framework's controls with status, rules and evidence, and the totals."""
    framework = require_framework(framework_id)
    mapped = rules_by_control(framework.id, _metas())
    controls = [_control(c.id, c.title, mapped.get(c.id, []), observed) for c in framework.controls]
    totals = dict.fromkeys(("pass", "fail", "not_assessed"), 0)
    for control in controls:
        totals[control["status"]] += 1
    failing = {e["finding_id"] for c in controls for e in c["evidence"] if e["counted"]}
    return {
        "framework": _describe(framework),
        "pipeline": observed.pipeline,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "totals": {"controls": len(controls), **totals, "failing_findings": len(failing)},
        "controls": controls,
    }


def require_framework(framework_id: str) -> Framework:
    """The catalog's framework; 404 naming the known ids when there is none."""
    framework = FRAMEWORKS.get(framework_id)
    if framework is None:
        raise NotFound(
            f"no compliance framework {framework_id!r}: use one of {', '.join(FRAMEWORKS)}"
        )
    return framework


def _control(control_id: str, title: str, metas: list[Any], observed: Observed) -> dict[str, Any]:
    evidence = []
    for meta in metas:
        for item in observed.findings_by_rule.get(meta.id, []):
            evidence.append(
                {
                    **{field: item.get(field) for field in _EVIDENCE_FIELDS},
                    "status": item["status"],
                    "counted": item["status"] in lifecycle.ACTIVE,
                    "message": item.get("message", ""),
                }
            )
    evidence.sort(key=lambda e: (not e["counted"], -_RANK[e["severity"]], e["finding_id"]))
    enabled = [m for m in metas if m.id not in observed.disabled_rules]
    if any(e["counted"] for e in evidence):
        status = "fail"
    elif any(m.artifact_type.value in observed.evaluated_types for m in enabled):
        status = "pass"
    else:
        status = "not_assessed"
    return {
        "control": control_id,
        "title": title,
        "status": status,
        "rules": [
            {
                "rule_id": m.id,
                "title": m.title,
                "artifact_type": m.artifact_type.value,
                "enabled": m.id not in observed.disabled_rules,
            }
            for m in metas
        ],
        "failing_count": sum(1 for e in evidence if e["counted"]),
        "evidence_count": len(evidence),
        "evidence": evidence[:MAX_EVIDENCE],
    }


def _describe(framework: Framework) -> dict[str, str]:
    return {
        "id": framework.id,
        "name": framework.name,
        "version": framework.version,
        "url": framework.url,
    }
