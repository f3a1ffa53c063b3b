"""Evaluate one artifact: parse it, run every rule for its type, collect findings."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from chalicelib.engine.registry import rules_for
from chalicelib.models import ArtifactType
from chalicelib.parsers import ParseError, parse

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RawFinding:
    """A rule hit in one artifact, before it is given an identity and stored."""

    rule_id: str
    severity: str
    title: str
    message: str
    resource: str | None
    line: int | None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class ArtifactReport:
    """The outcome of evaluating one artifact: its findings, or why it could not be read."""

    path: str
    artifact_type: ArtifactType
    findings: list[RawFinding] = field(default_factory=list)
    error: str | None = None


def evaluate(
    artifact_type: ArtifactType,
    text: str,
    path: str,
    rule_params: Mapping[str, Mapping[str, Any]] | None = None,
) -> ArtifactReport:
    """Run the rules for `artifact_type` over `text`; parse failures become `error`.

    `rule_params` maps a rule id to overrides of that rule's parameters.
    """
    report = ArtifactReport(path=path, artifact_type=artifact_type)
    try:
        model = parse(artifact_type, text, path)
    except ParseError as exc:
        report.error = str(exc)
        return report
    for rule in rules_for(artifact_type):
        try:
            hits = list(rule.run(model, (rule_params or {}).get(rule.meta.id)))
        except Exception:  # a broken rule must not take the artifact down with it
            log.exception("rule %s crashed on %s", rule.meta.id, path)
            report.error = f"rule {rule.meta.id} could not evaluate this artifact"
            continue
        for hit in hits:
            report.findings.append(
                RawFinding(
                    rule_id=rule.meta.id,
                    severity=rule.meta.severity.value,
                    title=rule.meta.title,
                    message=hit.message,
                    resource=hit.resource,
                    line=hit.line,
                )
            )
    report.findings.sort(key=lambda f: (f.line or 0, f.rule_id, f.resource or ""))
    return report
