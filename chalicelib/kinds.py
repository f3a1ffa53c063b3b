"""The vocabulary every layer shares: artifact types, severities, statuses (no dependencies,
so the engine and the offline scan import it without pydantic)."""

from __future__ import annotations

from enum import StrEnum


class ArtifactType(StrEnum):
    DOCKERFILE = "dockerfile"
    CLOUDFORMATION = "cloudformation"
    JUNIT = "junit"
    SARIF = "sarif"
    IMAGE = "image"
    AWS_INVENTORY = "aws_inventory"


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return SEVERITY_ORDER.index(self)


SEVERITY_ORDER = [Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]


class ScanStatus(StrEnum):
    COLLECTING = "collecting"
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
