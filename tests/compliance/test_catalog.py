"""The framework catalog and the rules' controls agree: every control a rule names exists."""

from __future__ import annotations

import re

import pytest

from chalicelib.compliance.catalog import FRAMEWORKS
from chalicelib.compliance.coverage import covered_controls, rules_by_control
from chalicelib.engine.controls import FRAMEWORK_IDS, Control
from chalicelib.engine.registry import all_rules, rule
from chalicelib.models import ArtifactType

RULES = all_rules()
# the shape of each framework's control ids
ID_SHAPES = {
    "cis-aws-3.0": r"\d+(\.\d+)+",
    "cis-docker-1.6": r"4\.\d+",
    "fsbp": r"[A-Z][A-Za-z0-9]+\.\d+",
    "nist-800-53-r5": r"[A-Z]{2}-\d+(\(\d+\))?",
    "pci-dss-4.0": r"\d+(\.\d+){1,3}",
}


def test_catalog_has_exactly_the_five_frameworks() -> None:
    assert tuple(FRAMEWORKS) == FRAMEWORK_IDS
    for framework_id, framework in FRAMEWORKS.items():
        assert framework.id == framework_id
        assert framework.name and framework.version and framework.url.startswith("https://")
        assert framework.controls, framework_id


@pytest.mark.parametrize("framework_id", FRAMEWORK_IDS)
def test_catalog_controls_are_unique_well_formed_and_titled(framework_id: str) -> None:
    controls = FRAMEWORKS[framework_id].controls
    ids = [c.id for c in controls]
    assert len(ids) == len(set(ids)), "a control is listed twice"
    for control in controls:
        assert re.fullmatch(ID_SHAPES[framework_id], control.id), control.id
        assert 10 <= len(control.title) <= 90 and not control.title.endswith("."), control


@pytest.mark.parametrize("rule", [r for r in RULES if r.meta.controls], ids=lambda r: r.meta.id)
def test_every_control_a_rule_names_is_in_the_catalog(rule: object) -> None:
    meta = rule.meta  # type: ignore[attr-defined]
    assert len(set(meta.controls)) == len(meta.controls), "a control is named twice"
    for control in meta.controls:
        assert control.framework in FRAMEWORKS, control
        assert FRAMEWORKS[control.framework].control(control.control), (
            f"{meta.id} names {control.framework} {control.control}, not in the catalog"
        )


def test_dockerfile_rules_map_only_to_section_4_of_the_docker_benchmark() -> None:
    for r in RULES:
        for control in r.meta.controls:
            if control.framework == "cis-docker-1.6":
                assert r.meta.artifact_type in (ArtifactType.DOCKERFILE, ArtifactType.IMAGE)
                assert control.control.startswith("4."), r.meta.id


def test_the_well_known_mappings_are_there() -> None:
    def has(rule_id: str, text: str) -> bool:
        meta = next(r.meta for r in RULES if r.meta.id == rule_id)
        return Control.parse(text) in meta.controls

    assert has("DF-USER-001", "cis-docker-1.6 4.1")
    assert has("DF-HEALTH-001", "cis-docker-1.6 4.6")
    assert has("DF-PKG-015", "cis-docker-1.6 4.7")
    assert has("DF-ADD-001", "cis-docker-1.6 4.9")
    assert has("DF-SECRET-001", "cis-docker-1.6 4.10")
    assert has("AWS-IAM-001", "cis-aws-3.0 1.4")
    assert has("CF-S3-006", "fsbp S3.5")
    assert has("CF-RDS-001", "nist-800-53-r5 SC-28")
    assert has("CF-RDS-001", "pci-dss-4.0 3.5.1")


def test_junit_and_sarif_rules_map_to_nothing() -> None:
    for r in RULES:
        if r.meta.artifact_type in (ArtifactType.JUNIT, ArtifactType.SARIF):
            assert not r.meta.controls, r.meta.id


def test_every_framework_has_rules_behind_most_of_its_catalog() -> None:
    metas = [r.meta for r in RULES]
    for framework_id, framework in FRAMEWORKS.items():
        covered = covered_controls(framework_id, metas)
        assert covered <= {c.id for c in framework.controls}
        assert len(covered) >= len(framework.controls) // 2, framework_id
        assert set(rules_by_control(framework_id, metas)) == covered


def test_a_control_of_an_unknown_framework_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown framework 'sox'"):
        Control.parse("sox 404")
    with pytest.raises(ValueError, match="one word"):
        Control("fsbp", "")
    with pytest.raises(ValueError, match="unknown framework"):
        rule(
            id="CF-TEST-999",
            artifact_type="cloudformation",
            title="t",
            severity="low",
            description="d",
            remediation="r",
            controls=("CIS-AWS-3.0 1.4",),
        )


def test_as_dict_lists_controls() -> None:
    meta = next(r.meta for r in RULES if r.meta.id == "AWS-IAM-001")
    assert {"framework": "cis-aws-3.0", "control": "1.4"} in meta.as_dict()["controls"]
    assert "compliance" not in meta.as_dict()
