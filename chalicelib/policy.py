"""A tenant's policy: which rules run, how severe they are, and what makes a scan fail.

Policies are versioned and a version never changes once written, so a scan records the version
it is judged by and evaluation can cache it.
"""

from __future__ import annotations

import json
import math
import threading
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from chalicelib.engine import imported
from chalicelib.models import SEVERITY_ORDER, ArtifactType, Severity, Verdict
from chalicelib.stores.ports import AuditEntry

MAX_LIST = 500
MAX_POLICY_BYTES = 256 * 1024
"""A policy's size as compact UTF-8 JSON: bounded so that a version is one DynamoDB item."""


class Policy(BaseModel):
    """`PUT /v1/policy`. Every field is optional; the defaults are the built-in policy."""

    model_config = ConfigDict(extra="forbid")

    custom_rules: list[dict[str, Any]] = Field(default_factory=list, max_length=100)
    fail_on: Severity = Severity.HIGH
    fail_on_parse_error: bool = True
    disabled_rules: list[str] = Field(default_factory=list, max_length=MAX_LIST)
    severity_overrides: dict[str, Severity] = Field(default_factory=dict)
    rule_params: dict[str, dict[str, Any]] = Field(default_factory=dict)
    required_artifact_types: list[ArtifactType] = Field(default_factory=list)
    _custom: list[Any] | None = PrivateAttr(default=None)

    def custom(self) -> list[Any]:
        """The custom rules, validated (once per policy object)."""
        if self._custom is None:
            if self.custom_rules:
                from chalicelib.engine.custom import parse_custom_rules

                self._custom = parse_custom_rules(self.custom_rules)
            else:
                self._custom = []
        return self._custom

    @field_validator("disabled_rules")
    @classmethod
    def _rules_or_packs(cls, entries: list[str], info: ValidationInfo) -> list[str]:
        rules, packs = _known()
        custom = _custom_ids(info)
        for i, entry in enumerate(entries):
            if imported.is_imported(entry) or entry == "sarif":
                if not imported.valid_reference(entry, packs=True):
                    raise ValueError(f"item {i}: {entry[:80]!r} is no {_IMPORTED_FORMS}")
                continue
            if entry not in rules and entry not in packs and entry not in custom:
                raise ValueError(
                    f"item {i}: {entry!r} is neither a rule id nor a pack (CF, CF-S3, sarif:<tool>)"
                )
        return entries

    @field_validator("severity_overrides")
    @classmethod
    def _overridden_rules(cls, overrides: dict[str, Severity], info: ValidationInfo) -> dict:
        rules, _ = _known()
        custom = _custom_ids(info)
        for rule_id in overrides:
            if imported.is_imported(rule_id):
                if not imported.valid_reference(rule_id, packs=True):
                    raise ValueError(f"{rule_id[:80]!r} is no sarif:<tool> or sarif:<tool>/<rule>")
                continue
            if rule_id not in rules and rule_id not in custom:
                raise ValueError(f"no rule {rule_id!r}")
        return overrides

    @field_validator("rule_params")
    @classmethod
    def _declared_params(cls, given: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        rules, _ = _known()
        for rule_id, params in given.items():
            rule = rules.get(rule_id)
            if rule is None:
                raise ValueError(f"no rule {rule_id!r}")
            for name, value in params.items():
                if name not in rule.meta.params:
                    known = ", ".join(rule.meta.params) or "none"
                    raise ValueError(f"{rule_id}: no parameter {name!r} (it has: {known})")
                _check_param(f"{rule_id}.{name}", rule.meta.params[name], value)
        return given

    def is_enabled(self, rule_id: str) -> bool:
        """False when the rule, or a pack it belongs to (`CF`, `CF-S3`; `sarif:<tool>`,
        `sarif` for imported results), is disabled."""
        if imported.is_imported(rule_id):
            return not any(imported.covers(entry, rule_id) for entry in self.disabled_rules)
        return not any(
            rule_id == entry or rule_id.startswith(entry + "-") for entry in self.disabled_rules
        )

    def severity_of(self, rule_id: str, default: str) -> str:
        """The tenant's override of the rule, else (imported results) of its tool, else the
        rule's own severity."""
        override = self.severity_overrides.get(rule_id)
        if override is None and imported.is_imported(rule_id):
            override = self.severity_overrides.get(imported.tool_of(rule_id) or "")
        return override.value if override else default


_IMPORTED_FORMS = "sarif, sarif:<tool> or sarif:<tool>/<rule> (tool: a-z 0-9 . _ -)"


def _known() -> tuple[dict[str, Any], set[str]]:
    from chalicelib.engine.registry import all_rules

    rules = {r.meta.id: r for r in all_rules()}
    packs = {rid.rsplit("-", 1)[0] for rid in rules} | {rid.split("-", 1)[0] for rid in rules}
    return rules, packs


def _custom_ids(info: ValidationInfo) -> set[str]:
    return {str(c.get("id")) for c in info.data.get("custom_rules", []) if isinstance(c, dict)}


def _check_param(where: str, default: Any, value: Any) -> None:
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int | float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        try:
            ok = ok and math.isfinite(value)
        except OverflowError:  # an integer beyond any float
            ok = False
    elif isinstance(default, list | tuple):
        ok = isinstance(value, list) and len(value) <= MAX_LIST
        ok = ok and all(isinstance(v, str) and len(v) <= 200 for v in value)
    elif isinstance(default, str):
        ok = isinstance(value, str) and len(value) <= 1000
    else:
        ok = False
    if not ok:
        raise ValueError(f"{where}: expected a value like {default!r}")


DEFAULT_POLICY = Policy.model_construct()


def parse(document: Any) -> Policy:
    """Validate a policy document; raises pydantic's ValidationError naming the field."""
    policy = Policy.model_validate(document)
    policy.custom()  # raises ValidationError naming the custom rule's field at fault
    return policy


def empty_counts() -> dict[str, int]:
    return {s.value: 0 for s in SEVERITY_ORDER}


def verdict(counts: dict[str, int], parse_errors: int, policy: Policy = DEFAULT_POLICY) -> Verdict:
    """Fail when any finding is at or above `fail_on`, or (by default) an artifact is unreadable."""
    if parse_errors and policy.fail_on_parse_error:
        return Verdict.FAIL
    blocking = SEVERITY_ORDER[policy.fail_on.rank :]
    return Verdict.FAIL if any(counts.get(s.value, 0) for s in blocking) else Verdict.PASS


# --- storage: versions are immutable, so each process caches what it has read ---------------

_cache: dict[tuple[str, int], Policy] = {}
_cache_lock = threading.Lock()


def forget_cached() -> None:
    """Drop cached policies (tests that start a fresh store reuse tenant ids)."""
    with _cache_lock:
        _cache.clear()


def current_version(tenant_id: str) -> int:
    from chalicelib.stores.backend import stores

    return stores().policies.current_version(tenant_id)


def load(tenant_id: str, version: int) -> Policy:
    """The tenant's policy at `version` (0 is the built-in default); `LookupError` if none."""
    if version == 0:
        return DEFAULT_POLICY
    key = (tenant_id, version)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    from chalicelib.stores.backend import stores

    document = stores().policies.version(tenant_id, version)
    if document is None:
        raise LookupError(f"policy version {version} of {tenant_id} does not exist")
    policy = Policy.model_validate(document)
    with _cache_lock:
        _cache[key] = policy
    return policy


def save(
    tenant_id: str,
    policy: Policy,
    expected_version: int,
    actor: str,
    now: str,
    audit: AuditEntry,
) -> int:
    """Write the next version and point to it, with its audit entry, in one transaction;
    raises `PolicyConflict` if another change wrote first."""
    from chalicelib.stores.backend import stores
    from chalicelib.stores.ports import NotWritten, PolicyVersion

    version = expected_version + 1
    stored = PolicyVersion(
        version=version,
        updated_at=now,
        updated_by=actor,
        # one JSON string: its size is exactly what `size_of` bounds, whatever the nesting
        document=_compact(policy.model_dump(mode="json")),
    )
    try:
        stores().policies.save(tenant_id, stored, expected_version, audit)
    except NotWritten:
        raise PolicyConflict(version) from None
    return version


def size_of(document: Any) -> int:
    """Bytes of a policy document as compact UTF-8 JSON (what `MAX_POLICY_BYTES` bounds)."""
    return len(_compact(document).encode("utf-8"))


def _compact(document: Any) -> str:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


class PolicyConflict(Exception):
    """Another change wrote this policy version first."""


__all__ = [
    "DEFAULT_POLICY",
    "MAX_POLICY_BYTES",
    "Policy",
    "PolicyConflict",
    "ValidationError",
    "parse",
    "verdict",
]
