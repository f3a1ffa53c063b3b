"""Pydantic models at the system's boundaries: API bodies, stream events, findings."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chalicelib.kinds import (  # noqa: F401 - the models' vocabulary, re-exported
    SEVERITY_ORDER,
    ArtifactType,
    ScanStatus,
    Severity,
    Verdict,
)

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/@:+-]*$"
MAX_PATH_BYTES = 1024
MAX_PARAMETER_NAME = 255
MAX_PARAMETER_VALUE = 4096
# CloudFormation's own limits: names of up to 255 characters, values of up to 4096
ParameterName = Annotated[str, Field(min_length=1, max_length=MAX_PARAMETER_NAME)]
ParameterValue = Annotated[str, Field(max_length=MAX_PARAMETER_VALUE)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class ArtifactIn(_Strict):
    """One artifact of a scan: its text inline, or the id of a presigned upload of it."""

    type: ArtifactType
    path: str = Field(min_length=1, max_length=1024, description="Path in the repository.")
    content: str | None = Field(default=None, description="The file's text (UTF-8).")
    upload_id: str | None = Field(
        default=None,
        pattern=r"^upl_[0-9a-f]{24}$",
        description="A file uploaded through POST /v1/uploads (for large artifacts).",
    )
    parameters: dict[ParameterName, ParameterValue] | None = Field(
        default=None,
        max_length=200,
        description="CloudFormation parameter values, as given to a deploy (templates only).",
    )

    @field_validator("path")
    @classmethod
    def _path_is_printable(cls, value: str) -> str:
        if any(ord(ch) < 32 for ch in value):
            raise ValueError("must not contain control characters")
        if len(value.encode("utf-8")) > MAX_PATH_BYTES:
            raise ValueError(f"must be at most {MAX_PATH_BYTES} bytes as UTF-8")
        return value

    @model_validator(mode="after")
    def _one_body(self) -> ArtifactIn:
        if (self.content is None) == (self.upload_id is None):
            raise ValueError("give either content or upload_id")
        return self


class UploadRequest(_Strict):
    """Body of `POST /v1/uploads`: a large artifact about to be uploaded."""

    path: str = Field(min_length=1, max_length=1024)
    size: int = Field(gt=0, description="The file's size in bytes.")


class ScanRequest(_Strict):
    """Body of `POST /v1/scans`: one pipeline run and its artifacts."""

    pipeline: str = Field(min_length=1, max_length=200, pattern=NAME_PATTERN)
    run_id: str = Field(min_length=1, max_length=200, pattern=NAME_PATTERN)
    commit: str | None = Field(default=None, max_length=100, pattern=r"^[A-Za-z0-9._/-]*$")
    artifacts: list[ArtifactIn] = Field(min_length=1)

    @field_validator("artifacts")
    @classmethod
    def _distinct_paths(cls, artifacts: list[ArtifactIn]) -> list[ArtifactIn]:
        seen: set[str] = set()
        for i, artifact in enumerate(artifacts):
            if artifact.path in seen:
                raise ValueError(f"item {i}: path {artifact.path!r} appears twice in the scan")
            seen.add(artifact.path)
        return artifacts


class ArtifactEvent(BaseModel):
    """The enriched artifact put on the scan stream: everything evaluation needs but the body."""

    model_config = ConfigDict(extra="ignore")

    tenant_id: str
    scan_id: str
    pipeline: str
    run_id: str
    commit: str | None
    received_at: str
    artifact_index: int
    artifact_count: int
    type: ArtifactType
    path: str
    sha256: str
    size: int
    body_key: str
    correlation_id: str | None = None
    policy_version: int = 0
    parameters: dict[str, str] | None = None


class Finding(BaseModel):
    """A stored finding: one rule violated by one resource of one artifact of a pipeline."""

    model_config = ConfigDict(extra="ignore")

    tenant_id: str
    finding_id: str
    scan_id: str
    pipeline: str
    run_id: str
    commit: str | None = None
    artifact_type: ArtifactType
    path: str
    rule_id: str
    title: str
    severity: Severity
    message: str
    resource: str | None = None
    account: str | None = None
    """The AWS account, region and service of a finding on a live resource (else None)."""
    region: str | None = None
    service: str | None = None
    line: int | None = None
    lines: list[int] = Field(default_factory=list)
    status: str = "open"
    lifecycle: str = "open"
    suppression: str | None = None
    waiver_id: str | None = None
    waiver_expires_at: str | None = None
    fixed_at: str | None = None
    fixed_in_scan: str | None = None
    first_seen: str
    last_seen: str

    def public(self) -> dict:
        """The finding as API clients see it (no tenant id)."""
        return self.model_dump(mode="json", exclude={"tenant_id"})
