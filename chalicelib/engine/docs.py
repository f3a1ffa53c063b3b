"""The rules reference (docs/rules.md), rendered from the rules' metadata.

Regenerate the file with `.venv/bin/python -m collectors rules --format markdown > docs/rules.md`;
tests/rules/test_docs.py fails when it is stale.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from chalicelib.kinds import ArtifactType

__all__ = ["REGENERATE_COMMAND", "render_markdown"]

REGENERATE_COMMAND = ".venv/bin/python -m collectors rules --format markdown > docs/rules.md"
_TYPE_TITLES = {
    ArtifactType.DOCKERFILE: "Dockerfile",
    ArtifactType.CLOUDFORMATION: "CloudFormation",
    ArtifactType.JUNIT: "JUnit",
    ArtifactType.SARIF: "SARIF",
    ArtifactType.IMAGE: "Container image",
    ArtifactType.AWS_INVENTORY: "AWS account",
}
_TYPE_NOTES = {
    ArtifactType.SARIF: (
        "These rules judge the scanner runs a log records. The results in the log become "
        "findings of their own rules, `sarif:<tool>/<rule>` (e.g. `sarif:trivy/CVE-2024-3094`), "
        "with the scanner's severity: see the README's *Results of other scanners*."
    ),
}
# references into a CIS benchmark carry the control as fragment: .../benchmark/docker#4.1
_CIS = re.compile(r"^https://www\.cisecurity\.org/benchmark/([A-Za-z0-9_-]+)#(.+)$")
_CIS_NAMES = {"docker": "Docker", "amazon_web_services": "AWS Foundations"}


def render_markdown(rules: Iterable[Any]) -> str:
    """The rules reference as Markdown: a table per artifact type, then a section per rule.

    `rules` are registry `Rule`s (or their `RuleMeta`); the output only depends on their
    metadata, ordered by artifact type then id, so it is stable from one run to the next.
    """
    metas = sorted((getattr(item, "meta", item) for item in rules), key=lambda m: m.id)
    by_type = {t: [m for m in metas if m.artifact_type is t] for t in ArtifactType}
    counts = ", ".join(f"{len(found)} {_TYPE_TITLES[t]}" for t, found in by_type.items())
    lines = [
        "# Rules reference",
        "",
        "<!-- Generated from the rules' metadata; do not edit by hand. Regenerate with:",
        f"     {REGENERATE_COMMAND} -->",
        "",
        "Generated from the rules' metadata (`@rule(...)` in `rules/`). Regenerate with:",
        "",
        "```sh",
        REGENERATE_COMMAND,
        "```",
        "",
        f"{len(metas)} rules: {counts}. Severities are the defaults (a tenant may override "
        "them per rule); rules with parameters list their defaults, which evaluation can "
        "override per rule (`rule_params`).",
        "",
        *_coverage(metas),
    ]
    for artifact_type, found in by_type.items():
        if not found:
            continue
        lines += [f"## {_TYPE_TITLES[artifact_type]} ({len(found)} rules)", ""]
        if artifact_type in _TYPE_NOTES:
            lines += [_TYPE_NOTES[artifact_type], ""]
        lines += ["| ID | Title | Severity |", "|---|---|---|"]
        lines += [
            f"| [{m.id}](#{_anchor(m.id)}) | {_cell(m.title)} | {m.severity.value} |" for m in found
        ]
        lines.append("")
        for meta in found:
            lines += _section(meta)
    return "\n".join(lines).rstrip("\n") + "\n"


def _section(meta: Any) -> list[str]:
    lines = [
        f'<a id="{_anchor(meta.id)}"></a>',
        "",
        f"### {meta.id}: {meta.title}",
        "",
        f"Severity: **{meta.severity.value}** · artifact: {meta.artifact_type.value}",
        "",
        *_applies_to(meta),
        *_paragraphs(meta.description),
        "**Remediation**",
        "",
        *_paragraphs(meta.remediation),
    ]
    if meta.controls:
        lines += ["**Controls**: " + " · ".join(_control(c) for c in meta.controls), ""]
    if meta.params:
        lines += ["**Parameters** (defaults)", "", "| Name | Default |", "|---|---|"]
        lines += [
            f"| `{name}` | `{json.dumps(value, sort_keys=True)}` |"
            for name, value in sorted(meta.params.items())
        ]
        lines.append("")
    if meta.references:
        lines += ["**References**", ""]
        lines += [f"- {_reference(ref)}" for ref in meta.references]
        lines.append("")
    return lines


def _applies_to(meta: Any) -> list[str]:
    types = sorted(getattr(meta, "resource_types", ()))
    if not types:
        return []
    return ["Resource types: " + ", ".join(f"`{t}`" for t in types), ""]


def _paragraphs(text: str) -> list[str]:
    """Each line of `text` as its own paragraph (single newlines would be joined)."""
    out: list[str] = []
    for line in text.strip().splitlines():
        if line.strip():
            out += [line.rstrip(), ""]
    return out


def _reference(ref: str) -> str:
    match = _CIS.match(ref)
    if match:
        name = _CIS_NAMES.get(match.group(1), match.group(1))
        return f"[CIS {name} Benchmark {match.group(2)}]({ref})"
    return f"<{ref}>"


_SHORT_NAMES = {
    "cis-aws-3.0": "CIS AWS Foundations v3.0.0",
    "cis-docker-1.6": "CIS Docker v1.6.0",
    "fsbp": "AWS FSBP",
    "nist-800-53-r5": "NIST SP 800-53 r5",
    "pci-dss-4.0": "PCI DSS v4.0",
}


def _control(control: Any) -> str:
    """`Control("cis-aws-3.0", "1.4")` → `CIS AWS Foundations v3.0.0 1.4`."""
    return f"{_SHORT_NAMES[control.framework]} {control.control}"


def _coverage(metas: list[Any]) -> list[str]:
    """The compliance coverage table: controls our rules assess / automatable controls."""
    from chalicelib.compliance.catalog import FRAMEWORKS
    from chalicelib.compliance.coverage import covered_controls

    lines = [
        "## Compliance coverage",
        "",
        "Rules name the framework controls they check (**Controls** in each rule's section). "
        "A framework's automatable controls are those a machine can decide from what Pipeguard "
        "sees (templates, Dockerfiles and image configurations, the live AWS inventory); "
        "organisational and procedural controls are not listed. Coverage is the share of "
        "those controls that at least one rule assesses (`GET /v1/compliance`).",
        "",
        "| Framework | Version | Controls covered | Automatable | Coverage | Not covered |",
        "|---|---|---|---|---|---|",
    ]
    for framework in FRAMEWORKS.values():
        covered = covered_controls(framework.id, metas)
        missing = [c.id for c in framework.controls if c.id not in covered]
        total = len(framework.controls)
        lines.append(
            f"| {framework.name} (`{framework.id}`) | {framework.version} | {len(covered)} | "
            f"{total} | {round(100 * len(covered) / total)}% | {', '.join(missing) or '-'} |"
        )
    return [*lines, ""]


def _anchor(rule_id: str) -> str:
    return rule_id.lower()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
