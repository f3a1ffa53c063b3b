"""One shape for the result of a run, offline or from the service, that every output renders.

Gating: the run fails when the service's verdict fails (service mode), when a finding is at or
above `--fail-on` (checked here, on the findings), or when an artifact could not be read or
parsed (offline; the service counts its parse errors in its verdict, and an artifact the
collector could not read, and so not send, fails the run here).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from collectors.ci import PipelineInfo

SEVERITIES = ("info", "low", "medium", "high", "critical")


def severity_rank(severity: str | None) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else 0


@dataclass
class Outcome:
    mode: str  # "offline" or "service"
    # normalised: rule_id, severity, title, message, path, resource, line, artifact_type,
    # suppression (the reason when the finding is suppressed or waived, else None), identity
    # (what tells an imported SARIF result apart from others of its rule and file, else None)
    findings: list[dict[str, Any]] = field(default_factory=list)
    # every artifact evaluated: path, type, error (None when it was evaluated)
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    # files that could not be read or parsed: file, message
    errors: list[dict[str, str]] = field(default_factory=list)
    # of those, the artifacts the collector could not read (service mode: never sent)
    unreadable: list[dict[str, str]] = field(default_factory=list)
    # candidates that were no artifact: file, reason
    skipped: list[dict[str, str]] = field(default_factory=list)
    # artifacts read with the Latin-1 fallback: file, message
    notes: list[dict[str, str]] = field(default_factory=list)
    fail_on: str | None = None  # the client-side threshold, if any
    scanned: int = 0
    ignored: int = 0  # files whose names are no artifact's (not read)
    excluded: int = 0
    info: PipelineInfo = field(default_factory=PipelineInfo)
    pipeline: str | None = None
    run_id: str | None = None
    commit: str | None = None
    scan: dict[str, Any] | None = None  # service mode: the scan as the API returned it
    api_url: str | None = None

    @property
    def server_verdict(self) -> str | None:
        return (self.scan or {}).get("verdict")

    @property
    def server_fail_on(self) -> str | None:
        return (self.scan or {}).get("fail_on")

    @property
    def blocking(self) -> list[dict[str, Any]]:
        """The findings at or above `--fail-on` (suppressed ones never block)."""
        if not self.fail_on:
            return []
        threshold = severity_rank(self.fail_on)
        return [
            f
            for f in self.findings
            if severity_rank(f["severity"]) >= threshold and not f.get("suppression")
        ]

    @property
    def reasons(self) -> list[str]:
        """Why the run fails (empty when it passes)."""
        why = []
        if self.server_verdict == "fail":
            why.append(
                f"the service's verdict is FAIL (the tenant's policy fails on "
                f"{self.server_fail_on or 'its threshold'} or above, and on unparseable artifacts)"
            )
        if self.blocking:
            count = len(self.blocking)
            why.append(f"{count} finding{'s' * (count != 1)} at or above --fail-on {self.fail_on}")
        if self.errors and self.mode == "offline":
            count = len(self.errors)
            why.append(f"{count} file{'s' * (count != 1)} could not be read or parsed")
        elif self.unreadable and self.mode == "service":
            count = len(self.unreadable)
            why.append(
                f"{count} artifact{'s' * (count != 1)} could not be read, so "
                f"{'they were' if count != 1 else 'it was'} not sent to the service"
            )
        return why

    @property
    def failed(self) -> bool:
        return bool(self.reasons)

    @property
    def verdict(self) -> str:
        return "fail" if self.failed else "pass"

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for f in self.findings if f["severity"] == s) for s in SEVERITIES}

    def sorted_findings(self) -> list[dict[str, Any]]:
        return sorted(
            self.findings,
            key=lambda f: (
                -severity_rank(f["severity"]),
                f["path"],
                f.get("line") or 0,
                f["rule_id"],
                f.get("resource") or "",
            ),
        )


def offline_finding(artifact_path: str, artifact_type: str, raw: Any) -> dict[str, Any]:
    """A finding of a local evaluation; its path is where in the artifact it is, when the
    artifact spans places (an AWS inventory: `aws://<account>/<region>`)."""
    return {
        "rule_id": raw.rule_id,
        "severity": raw.severity,
        "title": raw.title,
        "message": raw.message,
        "path": getattr(raw, "location", None) or artifact_path,
        "resource": raw.resource,
        **_place(artifact_type, raw),
        "line": raw.line,
        "artifact_type": artifact_type,
        "suppression": getattr(raw, "suppression", None),
        "identity": getattr(raw, "fingerprint", None),
    }


def _place(artifact_type: str, raw: Any) -> dict[str, str | None]:
    """The account, region and service of a finding on a live AWS resource."""
    if artifact_type != "aws_inventory":
        return {}
    from chalicelib.posture.place import place

    return place(getattr(raw, "location", None), raw.resource, raw.rule_id)._asdict()


def service_finding(finding: dict[str, Any]) -> dict[str, Any]:
    return {
        "rule_id": finding["rule_id"],
        "severity": finding["severity"],
        "title": finding.get("title") or finding["rule_id"],
        "message": finding.get("message") or finding.get("title") or "",
        "path": finding["path"],
        "resource": finding.get("resource"),
        **(
            {k: finding.get(k) for k in ("account", "region", "service")}
            if finding.get("artifact_type") == "aws_inventory"
            else {}
        ),
        "line": finding.get("line"),
        "artifact_type": finding.get("artifact_type"),
        "suppression": finding.get("suppression")
        or (finding.get("status") if finding.get("status") in ("suppressed", "waived") else None),
        # the service's id already holds an imported result's fingerprint
        "identity": finding.get("finding_id") if finding.get("artifact_type") == "sarif" else None,
    }
