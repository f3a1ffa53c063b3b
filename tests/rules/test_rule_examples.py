"""Every rule has passing and failing examples, and finds exactly what its examples expect."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.engine.registry import Rule, all_rules
from chalicelib.engine.runner import evaluate
from chalicelib.parsers.detect import detect_type

FIXTURES = Path(__file__).resolve().parent / "fixtures"
EXPECTED_SUFFIX = ".expected.json"
RULES = all_rules()


def _examples(rule: Rule, prefix: str) -> list[Path]:
    folder = FIXTURES / rule.meta.id
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.iterdir()
        if path.name.startswith(prefix) and not path.name.endswith(EXPECTED_SUFFIX)
    )


def _hits(rule: Rule, path: Path) -> list[tuple[str | None, int | None]]:
    text = path.read_text(encoding="utf-8")
    assert detect_type(path.name, text) is rule.meta.artifact_type, (
        f"{path.name} is not recognised as a {rule.meta.artifact_type.value} artifact"
    )
    report = evaluate(rule.meta.artifact_type, text, str(path))
    assert report.error is None, f"{path.name}: {report.error}"
    return sorted(
        ((f.resource, f.line) for f in report.findings if f.rule_id == rule.meta.id),
        key=repr,
    )


@pytest.mark.parametrize("rule", RULES, ids=[r.meta.id for r in RULES])
def test_rule_has_examples(rule: Rule) -> None:
    assert _examples(rule, "pass"), f"{rule.meta.id}: no pass* example in {FIXTURES}"
    assert _examples(rule, "fail"), f"{rule.meta.id}: no fail* example in {FIXTURES}"


@pytest.mark.parametrize("rule", RULES, ids=[r.meta.id for r in RULES])
def test_pass_examples_have_no_findings(rule: Rule) -> None:
    for path in _examples(rule, "pass"):
        assert _hits(rule, path) == [], f"{rule.meta.id} fires on {path.name}"


@pytest.mark.parametrize("rule", RULES, ids=[r.meta.id for r in RULES])
def test_fail_examples_give_exactly_the_expected_findings(rule: Rule) -> None:
    for path in _examples(rule, "fail"):
        sidecar = path.with_name(path.name + EXPECTED_SUFFIX)
        assert sidecar.is_file(), f"{path.name} has no {sidecar.name}"
        expected = sorted(
            ((item["resource"], item["line"]) for item in json.loads(sidecar.read_text())),
            key=repr,
        )
        assert expected, f"{sidecar.name} expects nothing: a fail example must fail"
        assert _hits(rule, path) == expected, f"{rule.meta.id} on {path.name}"


def test_every_fixture_folder_belongs_to_a_rule() -> None:
    ids = {r.meta.id for r in RULES}
    orphans = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir() and p.name not in ids)
    assert orphans == []


def test_every_sidecar_has_its_example() -> None:
    for sidecar in FIXTURES.glob(f"*/*{EXPECTED_SUFFIX}"):
        example = sidecar.with_name(sidecar.name[: -len(EXPECTED_SUFFIX)])
        assert example.is_file(), f"{sidecar} describes a missing file"
        assert example.name.startswith("fail"), f"{sidecar}: only fail* examples have sidecars"
