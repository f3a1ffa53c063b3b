"""Detective services, region by region: GuardDuty and Security Hub."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chalicelib.engine.registry import Hit
from chalicelib.posture.inventory import Inventory
from rules.aws._helpers import CIS, FSBP, account_rule, in_regions, where

_GD_DOC = "https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_settingup.html"
_HUB_DOC = "https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-enable.html"


def _enabled(detectors: Any) -> list[dict[str, Any]]:
    return [d for d in detectors or [] if isinstance(d, dict) and d.get("Status") == "ENABLED"]


@account_rule(
    id="AWS-GD-001",
    controls=("fsbp GuardDuty.1", "nist-800-53-r5 SI-4", "pci-dss-4.0 11.5.1"),
    needs=("guardduty.detectors",),
    title="GuardDuty not enabled in the region",
    severity="high",
    description=(
        "GuardDuty watches CloudTrail, VPC flow logs and DNS queries for compromised "
        "credentials, crypto-mining and reconnaissance. In a region without an enabled "
        "detector, such activity raises no finding at all."
    ),
    remediation="`aws guardduty create-detector --enable` in each region (or organization-wide).",
    references=(f"{FSBP}/guardduty-controls.html#guardduty-1", _GD_DOC),
)
def guardduty_off(inventory: Inventory) -> Iterator[Hit]:
    for region, detectors in in_regions(inventory, "guardduty.detectors"):
        if not _enabled(detectors):
            state = "is suspended" if detectors else "does not exist"
            yield Hit(
                f"the GuardDuty detector of {region} {state}", resource=where(inventory, region)
            )


def _s3_protected(detector: dict[str, Any]) -> bool:
    for feature in detector.get("Features") or []:
        if isinstance(feature, dict) and feature.get("Name") == "S3_DATA_EVENTS":
            return feature.get("Status") == "ENABLED"
    sources = detector.get("DataSources") or {}
    return (sources.get("S3Logs") or {}).get("Status") == "ENABLED"


@account_rule(
    id="AWS-GD-002",
    controls=("fsbp GuardDuty.10", "nist-800-53-r5 SI-4", "pci-dss-4.0 11.5.1"),
    needs=("guardduty.detectors",),
    title="GuardDuty S3 Protection off",
    severity="medium",
    description=(
        "Without S3 Protection, GuardDuty does not analyse S3 data events: mass downloads, "
        "access from Tor or unusual callers reading buckets go unnoticed."
    ),
    remediation="Enable the S3_DATA_EVENTS feature (S3 Protection) on each detector.",
    references=(f"{FSBP}/guardduty-controls.html#guardduty-10", _GD_DOC),
)
def guardduty_s3_off(inventory: Inventory) -> Iterator[Hit]:
    for region, detectors in in_regions(inventory, "guardduty.detectors"):
        for detector in _enabled(detectors):
            if not _s3_protected(detector):
                yield Hit(
                    f"detector {detector.get('DetectorId')} in {region} does not protect S3",
                    resource=where(inventory, region),
                )


@account_rule(
    id="AWS-HUB-001",
    controls=("cis-aws-3.0 4.16",),
    needs=("securityhub.hub",),
    title="Security Hub not enabled in the region",
    severity="medium",
    description=(
        "Security Hub gathers the findings of GuardDuty, Inspector, Macie and its own "
        "control checks in one place. Without it in a region, nobody sees that region's "
        "findings side by side, or its configuration drifting from best practice."
    ),
    remediation="`aws securityhub enable-security-hub` in each region (or organization-wide).",
    references=(_HUB_DOC, CIS),
)
def security_hub_off(inventory: Inventory) -> Iterator[Hit]:
    for region, hub in in_regions(inventory, "securityhub.hub"):
        if not hub:
            yield Hit(f"Security Hub is not enabled in {region}", resource=where(inventory, region))
