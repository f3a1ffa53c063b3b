"""Rule parameters: defaults from the metadata, overrides from the caller."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from chalicelib.engine.registry import Hit, Rule, RuleMeta
from chalicelib.models import ArtifactType, Severity


def _rule(check: Any, takes_params: bool, params: dict | None = None) -> Rule:
    meta = RuleMeta(
        id="JU-TEST-999",
        artifact_type=ArtifactType.JUNIT,
        title="t",
        severity=Severity.LOW,
        description="d",
        remediation="r",
        params=MappingProxyType(params or {}),
    )
    return Rule(meta=meta, check=check, takes_params=takes_params)


def test_params_default_and_override() -> None:
    def check(model: list[int], params: dict[str, Any]) -> list[Hit]:
        return [Hit(f"{n} > {params['limit']}") for n in model if n > params["limit"]]

    rule = _rule(check, True, {"limit": 5})
    assert [h.message for h in rule.run([3, 7])] == ["7 > 5"]
    assert [h.message for h in rule.run([3, 7], {"limit": 2})] == ["3 > 2", "7 > 2"]
    assert rule.meta.as_dict()["params"] == {"limit": 5}


def test_checks_without_params_ignore_overrides() -> None:
    rule = _rule(lambda model: [Hit("x")], False)
    assert [h.message for h in rule.run(None, {"limit": 1})] == ["x"]
