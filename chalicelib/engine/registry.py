"""The rule registry: rules declare their metadata with the `@rule` decorator.

Built-in rules live in the top-level `rules` package and are imported on first use, so that
importing the app (a Lambda cold start) does not pay for them.
"""

from __future__ import annotations

import importlib
import inspect
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from chalicelib.engine.controls import Control
from chalicelib.kinds import ArtifactType, Severity


@dataclass(frozen=True)
class RuleMeta:
    """What a rule is about; the single source of the rules reference."""

    id: str
    artifact_type: ArtifactType
    title: str
    severity: Severity
    description: str
    remediation: str
    references: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    resource_types: frozenset[str] = frozenset()
    """The CloudFormation resource types the rule reports on (empty: it looks at the whole
    template): the engine skips the rule for a template that declares none of them."""
    controls: tuple[Control, ...] = ()
    """The framework controls the rule checks (ids in `chalicelib.compliance.catalog`)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "artifact_type": self.artifact_type.value,
            "title": self.title,
            "severity": self.severity.value,
            "description": self.description,
            "remediation": self.remediation,
            "references": list(self.references),
            "params": dict(self.params),
            "controls": [control.as_dict() for control in self.controls],
        }


@dataclass(frozen=True)
class Hit:
    """One place where a rule is violated."""

    message: str
    line: int | None = None
    resource: str | None = None


CheckFn = Callable[..., Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    """A rule: its metadata and its check, `check(model)` or `check(model, params)`."""

    meta: RuleMeta
    check: CheckFn = field(compare=False)
    takes_params: bool = field(default=False, compare=False)

    def run(self, model: Any, overrides: Mapping[str, Any] | None = None) -> Iterable[Hit]:
        """The rule's hits on `model`, with its parameters (defaults updated by `overrides`)."""
        if not self.takes_params:
            return self.check(model)
        return self.check(model, {**self.meta.params, **(overrides or {})})


_REGISTRY: dict[str, Rule] = {}
_load_lock = threading.Lock()


def rule(
    *,
    id: str,  # noqa: A002 - the metadata field is called id
    artifact_type: ArtifactType | str,
    title: str,
    severity: Severity | str,
    description: str,
    remediation: str,
    references: Iterable[str] = (),
    params: Mapping[str, Any] | None = None,
    resource_types: Iterable[str] = (),
    controls: Iterable[Control | str] = (),
) -> Callable[[CheckFn], CheckFn]:
    """Register the decorated function as the check of a rule with this metadata.

    `params` are the rule's tunable settings with their defaults (e.g. a threshold); a check
    that takes a second argument receives them, updated by the caller's overrides.
    `resource_types` (CloudFormation) are the types whose resources the rule can report on.
    `controls` are the framework controls it checks, as `Control`s or `"<framework> <id>"`.
    """
    meta = RuleMeta(
        id=id,
        artifact_type=ArtifactType(artifact_type),
        title=title,
        severity=Severity(severity),
        description=description,
        remediation=remediation,
        references=tuple(references),
        params=MappingProxyType(dict(params or {})),
        resource_types=frozenset(resource_types),
        controls=tuple(c if isinstance(c, Control) else Control.parse(c) for c in controls),
    )

    def register(check: CheckFn) -> CheckFn:
        existing = _REGISTRY.get(id)
        if existing is not None and existing.check is not check:
            raise ValueError(f"rule id {id!r} is registered twice")
        takes_params = _arity(check) >= 2
        if meta.params and not takes_params:
            raise TypeError(f"rule {id} declares params, so its check must accept (model, params)")
        _REGISTRY[id] = Rule(meta=meta, check=check, takes_params=takes_params)
        return check

    return register


def _arity(check: CheckFn) -> int:
    """How many parameters `check` declares (`inspect.signature` only where the code object
    does not say it plainly: it costs every start-up a few ms over hundreds of rules)."""
    code = getattr(check, "__code__", None)
    if not inspect.isfunction(check) or code is None or hasattr(check, "__wrapped__"):
        return len(inspect.signature(check).parameters)
    var_args = bool(code.co_flags & inspect.CO_VARARGS) + bool(
        code.co_flags & inspect.CO_VARKEYWORDS
    )
    return code.co_argcount + code.co_kwonlyargcount + var_args


_PACKS = {kind: f"rules.{kind.value}" for kind in ArtifactType}
"""The built-in pack of each artifact type (a package under `rules/`)."""
_PACKS[ArtifactType.AWS_INVENTORY] = "rules.aws"  # account-level checks of live accounts
_loaded_packs: set[ArtifactType] = set()


def load_builtin_rules(artifact_type: ArtifactType | None = None) -> None:
    """Import the built-in rule pack of `artifact_type` (every pack when None) once; the
    packs register their rules as they are imported."""
    wanted = list(ArtifactType) if artifact_type is None else [artifact_type]
    if _loaded_packs.issuperset(wanted):
        return
    with _load_lock:
        for kind in wanted:
            if kind not in _loaded_packs:
                importlib.import_module(_PACKS[kind])
                _loaded_packs.add(kind)


def all_rules() -> list[Rule]:
    """Every registered rule, ordered by id."""
    load_builtin_rules()
    return sorted(_REGISTRY.values(), key=lambda r: r.meta.id)


_by_type: dict[tuple[ArtifactType, int], list[Rule]] = {}


def rules_for(artifact_type: ArtifactType) -> list[Rule]:
    """The rules that apply to one artifact type, ordered by id (cached per registry size)."""
    load_builtin_rules(artifact_type)
    key = (artifact_type, len(_REGISTRY))
    cached = _by_type.get(key)
    if cached is None:
        cached = sorted(
            (r for r in _REGISTRY.values() if r.meta.artifact_type is artifact_type),
            key=lambda r: r.meta.id,
        )
        _by_type[key] = cached
    return cached


def get_rule(rule_id: str) -> Rule | None:
    load_builtin_rules()
    return _REGISTRY.get(rule_id)
