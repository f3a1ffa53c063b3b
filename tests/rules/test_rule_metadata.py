"""Rule metadata is complete and consistent: it is the source of the rules reference."""

from __future__ import annotations

import re

import pytest

from chalicelib.engine.registry import Rule, all_rules
from chalicelib.models import ArtifactType, Severity

RULES = all_rules()
PREFIX = {
    ArtifactType.DOCKERFILE: "DF",
    ArtifactType.CLOUDFORMATION: "CF",
    ArtifactType.JUNIT: "JU",
    ArtifactType.SARIF: "SA",
    ArtifactType.IMAGE: "IMG",
    ArtifactType.AWS_INVENTORY: "AWS",
}
ID_FORMAT = re.compile(rf"^({'|'.join(PREFIX.values())})-[A-Z0-9]+-\d{{3}}$")
# A SARIF log's findings are its scanner's; the built-in rules only judge the runs it records.
FEW_RULES = {ArtifactType.SARIF}


def test_enough_rules_per_artifact_type() -> None:
    for artifact_type in ArtifactType:
        count = sum(1 for r in RULES if r.meta.artifact_type is artifact_type)
        assert count >= (1 if artifact_type in FEW_RULES else 6), (
            f"only {count} rules for {artifact_type.value}"
        )


def test_ids_are_unique() -> None:
    ids = [r.meta.id for r in RULES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("rule", RULES, ids=[r.meta.id for r in RULES])
def test_metadata_is_complete(rule: Rule) -> None:
    meta = rule.meta
    assert ID_FORMAT.match(meta.id), meta.id
    assert meta.id.startswith(PREFIX[meta.artifact_type] + "-")
    assert isinstance(meta.severity, Severity)
    assert meta.title.strip() and len(meta.title) <= 60 and not meta.title.endswith(".")
    assert len(meta.description.strip()) >= 60
    assert len(meta.remediation.strip()) >= 30
    assert meta.references and all(ref.startswith("https://") for ref in meta.references)
    assert callable(rule.check)


def test_titles_are_unique() -> None:
    titles = [r.meta.title.lower() for r in RULES]
    assert len(titles) == len(set(titles))


# checks that no CIS or FSBP control covers (the blind-spot report, public AMIs, snapshots)
_UNMAPPED = {"AWS-ACCESS-001", "AWS-EC2-004", "AWS-EC2-005"}
# drift from the tenant's own templates: the benchmarks judge settings, not their origin
_UNMAPPED_PREFIXES = ("AWS-DRIFT-",)


@pytest.mark.parametrize(
    "rule",
    [r for r in RULES if r.meta.artifact_type is ArtifactType.AWS_INVENTORY],
    ids=lambda r: r.meta.id,
)
def test_account_rules_name_the_controls_they_check(rule: Rule) -> None:
    named = {c.framework for c in rule.meta.controls}
    if rule.meta.id not in _UNMAPPED and not rule.meta.id.startswith(_UNMAPPED_PREFIXES):
        assert named & {"cis-aws-3.0", "fsbp"}, f"{rule.meta.id} names no CIS or FSBP control"
