"""Compliance reports built from findings in memory (no store), for the renderers' tests."""

from __future__ import annotations

from typing import Any

from chalicelib.compliance.report import Observed, framework_report

HOSTILE = '<img src=x onerror="alert(1)">'


def finding(rule_id: str, number: int, status: str = "open", **fields: Any) -> dict[str, Any]:
    return {
        "tenant_id": "acme",
        "finding_id": f"fnd_{number:024x}",
        "pipeline": "web",
        "path": "Dockerfile",
        "resource": None,
        "rule_id": rule_id,
        "severity": "high",
        "status": status,
        "lifecycle": "open",
        "message": "the container runs as root",
        **fields,
    }


def report(framework_id: str, findings: list[dict[str, Any]], **observed: Any) -> dict[str, Any]:
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for item in findings:
        by_rule.setdefault(item["rule_id"], []).append(item)
    return framework_report(
        framework_id,
        Observed(
            pipeline=observed.get("pipeline"),
            findings_by_rule=by_rule,
            evaluated_types=frozenset(observed.get("evaluated", ("dockerfile",))),
            disabled_rules=frozenset(observed.get("disabled", ())),
        ),
    )


def hostile_report(framework_id: str = "cis-docker-1.6") -> dict[str, Any]:
    """A report whose every value that comes from an artifact is markup or a formula."""
    return report(
        framework_id,
        [
            finding(
                "DF-USER-001",
                1,
                path=f"{HOSTILE}/Dockerfile",
                resource="<script>alert(2)</script>",
                message=f'=HYPERLINK("http://evil.example","x") {HOSTILE}',
            ),
            finding("DF-SECRET-001", 2, severity="critical", path="-cmd|' /C calc'!A0"),
            finding("DF-HEALTH-001", 3, status="waived", path="@SUM(1+1)"),
        ],
        pipeline="web",
    )
