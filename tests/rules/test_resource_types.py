"""A CloudFormation rule that declares `resource_types` reports on resources of those types
only, so the engine may skip it for templates without them: checked on every example and
every template of the shared corpus, rule by rule, without the engine's shortcut."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chalicelib.engine.registry import rules_for
from chalicelib.engine.runner import evaluate
from chalicelib.models import ArtifactType
from chalicelib.parsers import ParseError, parse
from chalicelib.parsers.cloudformation import SAM_VIEWS, Template

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "rules" / "fixtures"
CORPUS = ROOT.parent / "shared" / "corpus" / "cloudformation"
CFN = ArtifactType.CLOUDFORMATION
RULES = rules_for(CFN)
TYPE_NAME = re.compile(r"^[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+$")
SAM_TYPES = {sam_type for sam_type, _ in SAM_VIEWS.values()}


def _templates() -> list[Path]:
    examples = [p for p in FIXTURES.glob("CF-*/*") if not p.name.endswith(".expected.json")]
    corpus = [p for p in CORPUS.rglob("*") if p.suffix in (".yaml", ".yml", ".json", ".template")]
    return sorted(examples + corpus)


def _parsed() -> list[tuple[str, Template]]:
    models = []
    for path in _templates():
        try:
            model = parse(CFN, path.read_text(encoding="utf-8", errors="replace"), str(path))
        except ParseError:
            continue
        models.append((str(path.relative_to(ROOT.parent)), model))
    return models


MODELS = _parsed()


def test_declared_types_are_type_names() -> None:
    for rule in RULES:
        for name in rule.meta.resource_types:
            assert TYPE_NAME.match(name), f"{rule.meta.id}: {name!r} is not a resource type"


@pytest.mark.parametrize(
    "rule", [r for r in RULES if r.meta.resource_types], ids=lambda r: r.meta.id
)
def test_rule_reports_only_on_its_declared_types(rule) -> None:
    assert len(MODELS) > 500, "the examples and the corpus should give hundreds of templates"
    declared = rule.meta.resource_types
    for path, model in MODELS:
        hits = list(rule.run(model, None))
        if not model.declares_any(declared):
            assert hits == [], f"{rule.meta.id} reports on {path}, which has none of its types"
        for hit in hits:
            if hit.resource in model.resources:
                kind = model.resources[hit.resource].type
                assert kind in declared or kind in SAM_TYPES, (
                    f"{rule.meta.id} reports {hit.resource} ({kind}) in {path}"
                )


def test_engine_skips_rules_a_template_cannot_concern() -> None:
    text = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"
    sns_only = {r.meta.id for r in RULES if "AWS::SNS::Topic" in r.meta.resource_types}
    report = evaluate(CFN, text, "topic.yaml")
    assert {f.rule_id for f in report.findings} <= sns_only | {
        r.meta.id for r in RULES if not r.meta.resource_types
    }
    assert "CF-SNS-001" in {f.rule_id for f in report.findings}
