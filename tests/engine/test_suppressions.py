"""Inline suppressions: parsing, and findings that stay visible with their reason."""

from __future__ import annotations

from chalicelib.engine.runner import RawFinding, evaluate
from chalicelib.engine.suppressions import Suppression, collect
from chalicelib.models import ArtifactType
from chalicelib.parsers import parse

CFN = ArtifactType.CLOUDFORMATION
DOCKER = ArtifactType.DOCKERFILE

TEMPLATE = """\
Resources:
  Logs:
    Type: AWS::S3::Bucket
    Metadata:
      pipeguard:
        suppress:
          - rule: CF-S3-001
            reason: encrypted by the log delivery service
          - rule: [CF-S3-002, cf-s3-003]
            reason: "  legacy, tracked in SEC-12  "
  Data:
    Type: AWS::S3::Bucket
    Metadata:
      pipeguard:
        suppressions:
          - rule: CF-S3-001
            reason: ""
          - rule: CF-S3-002
  Other:
    Type: AWS::S3::Bucket
"""


def _by_rule(findings: list[RawFinding], resource: str | None = None) -> dict[str, str | None]:
    return {f.rule_id: f.suppression for f in findings if f.resource == resource}


def test_cloudformation_metadata_is_read() -> None:
    found = collect(CFN, TEMPLATE, parse(CFN, TEMPLATE))
    assert found.entries == [
        Suppression(frozenset({"CF-S3-001"}), "encrypted by the log delivery service", "Logs"),
        Suppression(frozenset({"CF-S3-002", "CF-S3-003"}), "legacy, tracked in SEC-12", "Logs"),
    ]
    assert found.reason_for("CF-S3-002", "Logs", 3) == "legacy, tracked in SEC-12"
    assert found.reason_for("CF-S3-002", "Other", 3) is None
    assert found.reason_for("CF-S3-004", "Logs", 3) is None
    assert len(found.notes) == 2
    assert all("has no reason, so it is ignored" in note for note in found.notes)
    assert found.notes[0].startswith("line 14: resource Data")


def test_suppressed_findings_are_returned_with_their_reason() -> None:
    report = evaluate(CFN, TEMPLATE, "template.yaml")
    logs = _by_rule(report.findings, "Logs")
    assert logs["CF-S3-001"] == "encrypted by the log delivery service"
    assert logs["CF-S3-002"] == "legacy, tracked in SEC-12"
    # without a reason nothing is suppressed, and the report says why
    assert set(_by_rule(report.findings, "Data").values()) == {None}
    assert {"CF-S3-001", "CF-S3-002"} <= set(_by_rule(report.findings, "Data"))
    assert set(_by_rule(report.findings, "Other").values()) == {None}
    assert len(report.notes) == 2 and "CF-S3-001" in report.notes[0]
    suppressed = next(f for f in report.findings if f.suppression)
    assert suppressed.as_dict()["suppression"] == suppressed.suppression


def test_template_level_metadata_suppresses_every_resource() -> None:
    text = (
        "Metadata:\n  pipeguard:\n    suppress:\n"
        "      - {rule: CF-S3-001, reason: sandbox account}\n"
        "      - {rule: CF-NOPE-999, reason: typo}\n"
        "Resources:\n  A: {Type: AWS::S3::Bucket}\n  B: {Type: AWS::S3::Bucket}\n"
    )
    report = evaluate(CFN, text, "t.yaml")
    encryption = [f for f in report.findings if f.rule_id == "CF-S3-001"]
    assert [f.resource for f in encryption] == ["A", "B"]
    assert {f.suppression for f in encryption} == {"sandbox account"}
    assert {f.suppression for f in report.findings if f.rule_id != "CF-S3-001"} == {None}
    assert report.notes == ["suppression of unknown rule CF-NOPE-999 has no effect"]


def test_malformed_cloudformation_suppressions_are_noted() -> None:
    text = (
        "Resources:\n  A:\n    Type: AWS::S3::Bucket\n"
        "    Metadata: {pipeguard: {suppress: [CF-S3-001, {reason: why}, {rule: 'not an id', "
        "reason: x}]}}\n"
    )
    found = collect(CFN, text, parse(CFN, text))
    assert found.entries == []
    assert len(found.notes) == 3


DOCKERFILE = """\
# syntax=docker/dockerfile:1
# pipeguard:suppress DF-HEALTH-001 reason: health is checked by the orchestrator
FROM python:3.12.4-slim AS build
WORKDIR /app

# pipeguard:suppress DF-ADD-001, DF-RUN-001 reason: local archive, extracted on purpose
ADD requirements.txt .
# pipeguard:suppress DF-ADD-001
ADD src/ /app/
RUN <<EOF
# pipeguard:suppress DF-USER-001 reason: inside a heredoc, not a Dockerfile comment
echo hi
EOF
# pipeguard:suppress DF-USER-001 reason: runs as root only in the build stage
FROM python:3.12.4-slim
CMD ["python", "-m", "app"]
"""


def test_dockerfile_comments_are_read() -> None:
    found = collect(DOCKER, DOCKERFILE, parse(DOCKER, DOCKERFILE))
    assert found.entries == [
        Suppression(frozenset({"DF-HEALTH-001"}), "health is checked by the orchestrator"),
        Suppression(
            frozenset({"DF-ADD-001", "DF-RUN-001"}),
            "local archive, extracted on purpose",
            line=7,
        ),
        Suppression(frozenset({"DF-USER-001"}), "runs as root only in the build stage", line=15),
    ]
    assert found.notes == [
        "line 8: the suppression of DF-ADD-001 has no reason, so it is ignored (add `reason: ...`)"
    ]


def test_dockerfile_findings_are_suppressed_per_line_and_per_file() -> None:
    report = evaluate(DOCKER, DOCKERFILE, "Dockerfile")
    by_line = {(f.rule_id, f.line): f.suppression for f in report.findings}
    assert by_line[("DF-ADD-001", 7)] == "local archive, extracted on purpose"
    assert by_line[("DF-ADD-001", 9)] is None  # its comment has no reason
    assert by_line[("DF-USER-001", 15)] == "runs as root only in the build stage"
    health = [f for f in report.findings if f.rule_id == "DF-HEALTH-001"]
    assert health and {f.suppression for f in health} == {"health is checked by the orchestrator"}
    assert len(report.notes) == 1


def test_unsuppressed_artifacts_are_untouched() -> None:
    text = "FROM python:3.12.4-slim\nADD a.txt /a\n"
    report = evaluate(DOCKER, text, "Dockerfile")
    assert report.findings and {f.suppression for f in report.findings} == {None}
    assert report.notes == []
    assert collect(ArtifactType.JUNIT, "<testsuite/>", None).entries == []
