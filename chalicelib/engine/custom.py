"""Tenant custom rules: declarative checks, validated on upload, bounded when they run.

A tenant uploads rules as data, never code. A rule matches items of one artifact type and
asserts a condition that must hold for each; it fires once per matched item for which the
condition is not known to hold. Shape of an upload (``parse_custom_rules``)::

    {"rules": [{
        "id": "X-ACME-001", "title": "Buckets carry a cost center", "severity": "medium",
        "artifact_type": "cloudformation", "description": "...", "remediation": "...",
        "match": {"resource_types": ["AWS::S3::*"]},
        "assert": {"path": "Properties.Tags", "op": "has_tag", "value": "CostCenter"}
    }]}

``match``, by artifact type (``required: true`` adds one hit when nothing matches):

- cloudformation: ``resource_types``, exact types or globs (``*``, ``?``); SAM resources are
  also seen as the types they expand to. Paths start at the resource: ``Properties.<...>``,
  ``Type``, ``LogicalId``, ``Condition``, ``DeletionPolicy``, ``UpdateReplacePolicy``,
  ``Metadata``, ``DependsOn``.
- dockerfile: ``target`` ``final_stage_base_image`` | ``base_images`` (every FROM naming an
  image; ``scratch`` and stage references are not images) with fields ``image``, ``name``,
  ``registry`` (``docker.io`` when none is written), ``repository``, ``tag``, ``digest``,
  ``platform``, ``alias``, ``stage``, ``user`` (the stage's last USER), ``is_final``; or
  ``instructions`` (``instruction``: a name or a list, ``final_stage_only``) with fields
  ``instruction``, ``value``, ``args``, ``flags``, ``exec_form``, ``arguments``, ``stage``,
  ``alias``, ``user`` (the USER in effect). Global ARG defaults are substituted in FROM.
- junit: ``target`` ``cases`` (fields ``name``, ``classname``, ``suite``, ``status``, ``time``,
  ``message``, ``flaky``, ``file``, ``key``) or ``suites`` (``name``, ``tests``, ``passed``,
  ``failures``, ``errors``, ``skipped``, ``time``, ``declared_tests``, ``depth``, ``parent``),
  optionally filtered by ``suites`` (globs on the suite name).
- image: no ``target``; the item is the image, with fields ``Config`` (the runtime config with
  its Docker/OCI key names: ``Config.User``, ``Config.ExposedPorts``, ``Config.Labels`` ...),
  ``Env`` (name -> value), ``RepoTags``, ``RepoDigests``, ``Created``, ``Size``, ``Os``,
  ``Architecture``, ``History`` (each entry's ``created_by``) and ``Source``.

``assert`` is ``{"all": [...]}``, ``{"any": [...]}``, ``{"not": {...}}`` or a leaf
``{"path", "op", "value", "where"}``. A path is dotted, with list indexes (``A.B[0].C`` or
``A.B.0.C``); an empty path is the item itself. Ops: ``exists`` (value true/false, default
true), ``equals``, ``not_equals``, ``in``, ``not_in`` (``"443"`` equals ``443``, ``"true"``
equals ``true``), ``regex`` (search; anchor it), ``gt``, ``gte``, ``lt``, ``lte`` (numbers or
numeric strings), ``contains`` (substring, list element or mapping key), ``has_tag`` (a list
of ``{Key, Value}`` or a tag map), ``any``/``all`` (``where`` is a condition over each item,
with paths relative to it; a mapping is a list of ``{Key, Value}``; ``all`` holds for a missing
or empty list). A property that is not set fails every op but ``exists: false``,
``not_equals``, ``not_in`` and ``all``.

Evaluation is three-valued. A CloudFormation intrinsic is resolved as far as the template
tells (``Template.possible_values_with_conditions``): the leaf holds only if it holds for every
value the template allows; a value known only at deploy time (or an unsubstituted build
argument) is unknown, and unknown never passes, also under ``not``: the rule fires and says the
value could not be resolved.

Regexes are compiled with RE2 (``google-re2``): matching is linear in the input, whatever the
pattern (``(a+)+$`` cannot backtrack); backreferences and lookaround are refused at upload, and
so are patterns compiling to more than ``MAX_REGEX_PROGRAM`` instructions. A text longer than
``MAX_REGEX_WORK`` / program size is not matched: the leaf is unknown and fails closed. Cost is
bounded by the limits below: an upload is refused beyond them, and ``evaluate_custom`` stops
after its budget of CPU time (of the evaluating thread, so load elsewhere does not change the
outcome), ``MAX_ITEMS_PER_CALL`` items or ``MAX_STEPS_PER_CALL`` steps; a rule it could not
finish is reported as a hit (fail closed) and in the notes.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, NamedTuple, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from chalicelib.engine.budget import CpuBudget
from chalicelib.engine.registry import Hit
from chalicelib.kinds import ArtifactType, Severity
from chalicelib.parsers.dockerfile import KNOWN_INSTRUCTIONS

__all__ = [
    "DEFAULT_BUDGET_MS",
    "MAX_DEPTH",
    "MAX_GLOBS",
    "MAX_ITEMS_PER_CALL",
    "MAX_LEAVES",
    "MAX_LIST_ITEMS",
    "MAX_PATH",
    "MAX_REGEX",
    "MAX_REGEX_PROGRAM",
    "MAX_REGEX_WORK",
    "MAX_RULES",
    "MAX_STEPS_PER_CALL",
    "MAX_STRING",
    "Condition",
    "CustomRule",
    "CustomRuleSet",
    "Match",
    "evaluate_custom",
    "parse_custom_rules",
]

log = logging.getLogger(__name__)

MAX_RULES = 100
"""Rules per tenant (per uploaded document)."""
MAX_DEPTH = 6
"""Nesting of a rule's condition: a lone leaf is 1; all/any/not and `where` add a level."""
MAX_LEAVES = 200
"""Leaf conditions per rule, `where` conditions included."""
MAX_LIST_ITEMS = 1000
"""Items of a list `value` (`in`, `not_in`)."""
MAX_STRING = 1000
"""Characters of a string `value`, a description or a remediation."""
MAX_TITLE = 200
MAX_REGEX = 500
"""Characters of a regex."""
MAX_REGEX_PROGRAM = 1000
"""Instructions of a compiled regex (large counted repetitions such as `(.*){1000}` blow it up)."""
MAX_REGEX_WORK = 10_000_000
"""Program size x text length of one match; a longer text is not matched: the leaf is unknown
(fails closed). RE2 is linear, but its fallback engine costs program size x text length."""
REGEX_MAX_MEM = 4 << 20
MAX_PATH = 200
MAX_GLOBS = 50
"""Globs in `resource_types` / `suites`."""
MAX_GLOB = 256
MAX_ITEMS_PER_CALL = 100_000
"""Matched items examined by one `evaluate_custom` call, all rules together."""
MAX_STEPS_PER_CALL = 1_000_000
"""Elementary steps (value lookups, tests, list items) of one call, all rules together."""
MAX_POSSIBILITIES = 64
"""Possible values of one path (CloudFormation branches); beyond, the value is unknown."""
DEFAULT_BUDGET_MS = 50.0
"""CPU milliseconds of one `evaluate_custom` call, all rules together."""

Op = Literal[
    "exists",
    "equals",
    "not_equals",
    "in",
    "not_in",
    "regex",
    "gt",
    "gte",
    "lt",
    "lte",
    "contains",
    "has_tag",
    "any",
    "all",
]
DockerTarget = Literal["final_stage_base_image", "base_images", "instructions"]
JunitTarget = Literal["cases", "suites"]

_PATH = r"^[^.\[\]\s]+(\[\d{1,4}\])*(\.[^.\[\]\s]+(\[\d{1,4}\])*)*$"
_GLOB = r"^[A-Za-z0-9:_.*?/@ -]+$"
_IMAGE_FIELDS = frozenset(
    [
        "image",
        "name",
        "registry",
        "repository",
        "tag",
        "digest",
        "platform",
        "alias",
        "stage",
        "user",
        "is_final",
    ]
)
_TOP_FIELDS: dict[str, frozenset[str]] = {
    "cloudformation": frozenset(
        [
            "LogicalId",
            "Type",
            "Properties",
            "Condition",
            "DeletionPolicy",
            "UpdateReplacePolicy",
            "Metadata",
            "DependsOn",
        ]
    ),
    "final_stage_base_image": _IMAGE_FIELDS,
    "base_images": _IMAGE_FIELDS,
    "instructions": frozenset(
        [
            "instruction",
            "value",
            "args",
            "flags",
            "exec_form",
            "arguments",
            "stage",
            "alias",
            "user",
        ]
    ),
    "cases": frozenset(
        ["name", "classname", "suite", "status", "time", "message", "flaky", "file", "key"]
    ),
    "image": frozenset(
        [
            "Source",
            "Config",
            "Env",
            "RepoTags",
            "RepoDigests",
            "Created",
            "Size",
            "Os",
            "Architecture",
            "History",
        ]
    ),
    "suites": frozenset(
        [
            "name",
            "tests",
            "passed",
            "failures",
            "errors",
            "skipped",
            "time",
            "declared_tests",
            "depth",
            "parent",
        ]
    ),
}


# -- regexes and globs (RE2) -------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _compile_regex(pattern: str) -> Any:
    """`pattern` compiled by RE2 (linear-time matching); `ValueError` when RE2 refuses it."""
    import re2  # google-re2; imported on first use to keep cold starts short

    options = re2.Options()
    options.log_errors = False
    options.max_mem = REGEX_MAX_MEM
    options.never_capture = True  # only "does it match" is asked: lets RE2 use its DFA
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        raise ValueError(
            f"not a valid RE2 regex ({detail}); backreferences and lookaround are not "
            "supported, and the pattern must stay small"
        ) from None


def _glob_regex(globs: Iterable[str]) -> Any:
    parts = [
        "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in glob)
        for glob in globs
    ]
    return _compile_regex("^(?:" + "|".join(parts) + ")$")


class _Globs:
    """Names matched against globs, with the answers remembered (names repeat a lot)."""

    __slots__ = ("_regex", "_seen")

    def __init__(self, globs: Iterable[str]) -> None:
        self._regex = _glob_regex(globs)
        self._seen: dict[str, bool] = {}

    def __call__(self, name: str) -> bool:
        found = self._seen.get(name)
        if found is None:
            if len(self._seen) > 4096:
                self._seen.clear()
            found = self._seen[name] = self._regex.match(name) is not None
        return found


# -- the upload format (pydantic) --------------------------------------------------------------


def _scalar(value: Any, what: str) -> Any:
    """`value` if it is a string, a finite number or a boolean within limits."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        try:
            finite = math.isfinite(float(value))
        except OverflowError:
            finite = False
        if not finite:
            raise ValueError(f"{what} must be a finite number")
        return value
    if isinstance(value, str):
        if len(value) > MAX_STRING:
            raise ValueError(f"{what} is longer than {MAX_STRING} characters")
        return value
    raise ValueError(f"{what} must be a string, a number or a boolean")


def _check_value(op: str, value: Any) -> Any:
    """The value of a leaf, checked against what its op takes."""
    if op == "exists":
        if value is None or isinstance(value, bool):
            return True if value is None else value
        raise ValueError("exists takes true, false or no value")
    if op in ("any", "all"):
        if value is not None:
            raise ValueError(f"{op} takes no value: put the item condition in 'where'")
        return None
    if value is None:
        raise ValueError(f"{op} needs a value")
    if op in ("in", "not_in"):
        if not isinstance(value, list):
            raise ValueError(f"{op} takes a list of values")
        if not value:
            raise ValueError(f"{op} needs at least one value")
        if len(value) > MAX_LIST_ITEMS:
            raise ValueError(f"{op} takes at most {MAX_LIST_ITEMS} values, not {len(value)}")
        return [_scalar(item, f"item {index}") for index, item in enumerate(value)]
    if op == "regex":
        if not isinstance(value, str):
            raise ValueError("regex takes a string")
        if len(value) > MAX_REGEX:
            raise ValueError(f"the regex is longer than {MAX_REGEX} characters")
        size = _compile_regex(value).programsize
        if size > MAX_REGEX_PROGRAM:
            raise ValueError(
                f"the regex compiles to {size} instructions, more than {MAX_REGEX_PROGRAM}: "
                "use smaller counted repetitions"
            )
        return value
    if op in ("gt", "gte", "lt", "lte"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{op} takes a number")
        return _scalar(value, "the value")
    if op == "has_tag":
        if not isinstance(value, str) or not value or len(value) > 256:
            raise ValueError("has_tag takes a tag key (1 to 256 characters)")
        return value
    return _scalar(value, "the value")  # equals, not_equals, contains


class Condition(BaseModel):
    """`{"all": [...]}`, `{"any": [...]}`, `{"not": {...}}` or a leaf `{path, op, value, where}`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    kind: SkipJsonSchema[str] = Field(default="leaf", exclude=True, repr=False)
    """Set from the keys present (never read from the input)."""
    all_: list[Condition] | None = Field(default=None, alias="all", min_length=1)
    any_: list[Condition] | None = Field(default=None, alias="any", min_length=1)
    not_: Condition | None = Field(default=None, alias="not")
    path: str | None = Field(default=None, max_length=MAX_PATH, pattern=_PATH)
    op: Op | None = Field(default=None, validate_default=True)
    value: Any = Field(default=None, validate_default=True)
    where: Condition | None = Field(default=None, validate_default=True)

    @model_validator(mode="before")
    @classmethod
    def _set_kind(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        forms = [
            name
            for name in ("all", "any", "not")
            if data.get(name) is not None or data.get(f"{name}_") is not None
        ]
        if len(forms) > 1:
            raise ValueError(
                f"a condition is one of all/any/not or a leaf, not {' and '.join(forms)} "
                "together: nest them"
            )
        return {**data, "kind": forms[0] if forms else "leaf"}

    @field_validator("path")
    @classmethod
    def _path_on_leaf(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if value is not None and kind != "leaf":
            raise ValueError(f"a path belongs in a leaf, not next to {kind!r}")
        return value

    @field_validator("op")
    @classmethod
    def _op_on_leaf(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if kind == "leaf" and value is None:
            raise ValueError("a leaf condition needs an op (or use all/any/not)")
        if kind != "leaf" and value is not None:
            raise ValueError(f"an op belongs in a leaf, not next to {kind!r}")
        return value

    @field_validator("value", mode="before")
    @classmethod
    def _value_fits_op(cls, value: Any, info: ValidationInfo) -> Any:
        kind, op = info.data.get("kind"), info.data.get("op")
        if kind != "leaf":
            if value is not None:
                raise ValueError(f"a value belongs in a leaf, not next to {kind!r}")
            return None
        return value if op is None else _check_value(op, value)

    @field_validator("where")
    @classmethod
    def _where_with_quantifier(cls, value: Condition | None, info: ValidationInfo) -> Any:
        op = info.data.get("op")
        if info.data.get("kind") != "leaf" or op is None:
            if value is not None and info.data.get("kind") != "leaf":
                raise ValueError("where belongs in a leaf with op any or all")
            return value
        if op in ("any", "all") and value is None:
            raise ValueError(f"op {op} needs a where condition over the list's items")
        if op not in ("any", "all") and value is not None:
            raise ValueError("where only goes with op any or all")
        return value

    def leaves(self, loc: str = "assert") -> Iterator[tuple[str, Condition, bool]]:
        """(location, leaf, inside a `where`) of every leaf, depth first."""
        stack: list[tuple[str, Condition, bool]] = [(loc, self, False)]
        while stack:
            where, node, nested = stack.pop()
            if node.kind == "leaf":
                yield where, node, nested
                if node.where is not None:
                    stack.append((f"{where}.where", node.where, True))
            elif node.not_ is not None:
                stack.append((f"{where}.not", node.not_, nested))
            else:
                children = node.all_ if node.kind == "all" else node.any_
                stack.extend(
                    (f"{where}.{node.kind}.{i}", child, nested)
                    for i, child in reversed(list(enumerate(children or [])))
                )


class Match(BaseModel):
    """What a rule applies to; which fields are allowed depends on the rule's artifact type."""

    model_config = ConfigDict(extra="forbid")

    for_type: SkipJsonSchema[str | None] = Field(default=None, exclude=True, repr=False)
    """The rule's artifact type, set by `CustomRule` (never read from the input)."""
    resource_types: list[str] | None = Field(
        default=None, min_length=1, max_length=MAX_GLOBS, validate_default=True
    )
    target: DockerTarget | JunitTarget | None = Field(default=None, validate_default=True)
    instruction: str | list[str] | None = None
    final_stage_only: bool = False
    suites: list[str] | None = Field(default=None, min_length=1, max_length=MAX_GLOBS)
    required: bool = False
    """Fire once when nothing in the artifact matches."""

    @field_validator("resource_types")
    @classmethod
    def _types_for_cloudformation(cls, value: list[str] | None, info: ValidationInfo) -> Any:
        is_cfn = info.data.get("for_type") == ArtifactType.CLOUDFORMATION.value
        if is_cfn and value is None:
            raise ValueError("a cloudformation rule needs resource_types")
        if value is not None and not is_cfn:
            raise ValueError("resource_types only applies to cloudformation rules")
        for index, glob in enumerate(value or []):
            if len(glob) > MAX_GLOB or not re.fullmatch(_GLOB, glob):
                raise ValueError(
                    f"item {index}: a resource type or glob (letters, digits, ':', '*', '?') "
                    f"of at most {MAX_GLOB} characters"
                )
        return value

    @field_validator("target")
    @classmethod
    def _target_fits_type(cls, value: str | None, info: ValidationInfo) -> Any:
        allowed = {
            ArtifactType.DOCKERFILE.value: get_args(DockerTarget),
            ArtifactType.JUNIT.value: get_args(JunitTarget),
        }.get(info.data.get("for_type"))
        if allowed is None:
            if value is not None:
                raise ValueError(f"target does not apply to {info.data.get('for_type')} rules")
            return value
        if value not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}")
        return value

    @field_validator("instruction")
    @classmethod
    def _instructions_known(cls, value: str | list[str] | None, info: ValidationInfo) -> Any:
        if value is None:
            return None
        if info.data.get("target") != "instructions":
            raise ValueError("instruction only goes with target 'instructions'")
        names = [value] if isinstance(value, str) else value
        if not names or len(names) > len(KNOWN_INSTRUCTIONS):
            raise ValueError("name one or more Dockerfile instructions")
        unknown = [name for name in names if name.upper() not in KNOWN_INSTRUCTIONS]
        if unknown:
            raise ValueError(f"unknown Dockerfile instruction {unknown[0][:40]!r}")
        return [name.upper() for name in names]

    @field_validator("final_stage_only")
    @classmethod
    def _final_only_for_instructions(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("target") != "instructions":
            raise ValueError("final_stage_only only goes with target 'instructions'")
        return value

    @field_validator("suites")
    @classmethod
    def _suites_for_junit(cls, value: list[str] | None, info: ValidationInfo) -> Any:
        if value is None:
            return None
        if info.data.get("for_type") != ArtifactType.JUNIT.value:
            raise ValueError("suites only applies to junit rules")
        for index, glob in enumerate(value):
            if not glob or len(glob) > MAX_GLOB:
                raise ValueError(f"item {index}: a suite name or glob of 1 to {MAX_GLOB} chars")
        return value


def _shape(raw: Any) -> tuple[int, int]:
    """(depth, leaves) of a raw condition, counted without recursion and stopping early."""
    depth = leaves = seen = 0
    stack = [(raw, 1)]
    while stack:
        node, level = stack.pop()
        if not isinstance(node, dict):
            continue
        depth = max(depth, level)
        seen += 1
        if depth > MAX_DEPTH:
            break
        if seen > MAX_LEAVES * MAX_DEPTH:  # more nodes than the limits allow
            return depth, MAX_LEAVES + 1
        children: list[Any] = []
        for key in ("all", "any", "all_", "any_"):
            if isinstance(node.get(key), list):
                children.extend(node[key][: MAX_LEAVES + 1])
        children.extend(node[key] for key in ("not", "not_", "where") if key in node)
        if node.get("op") is not None or all(
            node.get(key) is None for key in ("all", "any", "not", "all_", "any_", "not_")
        ):
            leaves += 1
            if leaves > MAX_LEAVES:
                break
        stack.extend((child, level + 1) for child in children)
    return depth, leaves


class CustomRule(BaseModel):
    """One tenant rule: metadata, what it matches, and what must hold for each match."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str = Field(pattern=r"^X-[A-Z0-9]{1,12}-\d{3}$", description="e.g. X-ACME-001")
    title: str = Field(min_length=1, max_length=MAX_TITLE)
    severity: Severity
    artifact_type: ArtifactType
    description: str = Field(min_length=1, max_length=MAX_STRING)
    remediation: str | None = Field(default=None, max_length=MAX_STRING)
    match: Match
    condition: Condition = Field(alias="assert")
    _compiled: _Compiled = PrivateAttr()

    @field_validator("artifact_type")
    @classmethod
    def _judged_directly(cls, value: ArtifactType) -> ArtifactType:
        if value is ArtifactType.AWS_INVENTORY:
            raise ValueError(
                "an AWS account's resources are judged in their CloudFormation shape: "
                "write a cloudformation rule: it judges live resources too"
            )
        return value

    @model_validator(mode="before")
    @classmethod
    def _tell_match_the_type(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("match"), dict):
            kind = data.get("artifact_type")
            for_type = kind.value if isinstance(kind, ArtifactType) else kind
            data = {**data, "match": {**data["match"], "for_type": for_type}}
        return data

    @field_validator("artifact_type")
    @classmethod
    def _has_rules(cls, value: ArtifactType) -> ArtifactType:
        if value is ArtifactType.SARIF:
            raise ValueError(
                "custom rules do not apply to sarif logs: their findings are the scanner's "
                "(disable, re-rate or waive them as sarif:<tool>/<rule>)"
            )
        return value

    @field_validator("condition", mode="before")
    @classmethod
    def _bounded(cls, value: Any) -> Any:
        depth, leaves = _shape(value)
        if depth > MAX_DEPTH:
            raise ValueError(f"the condition is nested more than {MAX_DEPTH} levels deep")
        if leaves > MAX_LEAVES:
            raise ValueError(f"the condition has more than {MAX_LEAVES} leaf conditions")
        return value

    @model_validator(mode="after")
    def _paths_exist(self) -> CustomRule:
        scope = (
            "cloudformation"
            if self.artifact_type is ArtifactType.CLOUDFORMATION
            else self.match.target or ""
        )
        if self.artifact_type is ArtifactType.IMAGE:
            scope = "image"
        fields = _TOP_FIELDS.get(scope)
        for loc, leaf, nested in self.condition.leaves():
            if nested or fields is None:
                continue
            first = _segments(leaf.path or "")[:1]
            if not first:
                raise ValueError(f"{loc}.path: a path is needed here ({_fields_hint(scope)})")
            if str(first[0]) not in fields:
                raise ValueError(
                    f"{loc}.path: {str(first[0])[:40]!r} is not a field of "
                    f"{_scope_name(scope)} ({_fields_hint(scope)})"
                )
        self._compiled = _compile_rule(self)
        return self


class CustomRuleSet(BaseModel):
    """A tenant's uploaded rules: at most `MAX_RULES`, ids unique."""

    model_config = ConfigDict(extra="forbid")

    rules: list[CustomRule] = Field(max_length=MAX_RULES)

    @field_validator("rules", mode="before")
    @classmethod
    def _not_too_many(cls, value: Any) -> Any:
        if isinstance(value, list) and len(value) > MAX_RULES:
            raise ValueError(f"at most {MAX_RULES} rules, not {len(value)}")
        return value

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, value: list[CustomRule]) -> list[CustomRule]:
        first: dict[str, int] = {}
        for index, item in enumerate(value):
            if item.id in first:
                raise ValueError(f"rule id {item.id} is used by rules {first[item.id]} and {index}")
            first[item.id] = index
        return value


def parse_custom_rules(document: Any) -> list[CustomRule]:
    """Validate an upload (`{"rules": [...]}` or the bare list); raises `ValidationError`
    whose locations name the field (`rules.2.assert.all.0.op`)."""
    if isinstance(document, list):
        document = {"rules": document}
    return CustomRuleSet.model_validate(document).rules


def _scope_name(scope: str) -> str:
    if scope == "cloudformation":
        return "a resource"
    if scope == "image":
        return "the image"
    return {"cases": "a test case", "suites": "a suite", "instructions": "an instruction"}.get(
        scope, "a base image"
    )


def _fields_hint(scope: str) -> str:
    return "use one of " + ", ".join(sorted(_TOP_FIELDS[scope]))


def _segments(path: str) -> tuple[str | int, ...]:
    """`A.B[0].C` -> ("A", "B", 0, "C"); an empty path is ()."""
    out: list[str | int] = []
    for part in path.split(".") if path else ():
        name, _, rest = part.partition("[")
        out.append(name)
        if rest:
            out.extend(int(index) for index in rest.rstrip("]").split("]["))
    return tuple(out)


# -- compiled form ----------------------------------------------------------------------------


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


_MISSING: Any = _Missing()
_NO_WHEN: frozenset[tuple[str, bool]] = frozenset()
_BOOL, _NUM, _STR = 1, 2, 4
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


class _Unknown:
    """A value that cannot be known from the artifact; `origin` says where it comes from."""

    __slots__ = ("origin", "present")

    def __init__(self, origin: str, present: bool = True) -> None:
        self.origin = origin
        self.present = present


@dataclass(frozen=True, slots=True, eq=False)
class _Leaf:
    path: str
    segments: tuple[str | int, ...]
    op: str
    value: Any
    keys: frozenset[tuple[int, Any]] = frozenset()
    kinds: int = 0
    number: float = 0.0
    regex: Any = None
    regex_size: int = 0
    where: _Node | None = None


@dataclass(frozen=True, slots=True, eq=False)
class _Group:
    kind: str  # "all" | "any"
    children: tuple[_Node, ...]


@dataclass(frozen=True, slots=True, eq=False)
class _Not:
    child: _Node


_Node = _Leaf | _Group | _Not


@dataclass(frozen=True, slots=True, eq=False)
class _Compiled:
    condition: _Node
    types: _Globs | None
    suites: _Globs | None


def _float(value: int | float) -> float:
    try:
        return float(value)
    except OverflowError:  # an integer beyond float's range
        return math.inf if value > 0 else -math.inf


def _key(value: Any) -> tuple[int, Any] | None:
    if isinstance(value, bool):
        return (_BOOL, value)
    if isinstance(value, int | float):
        return (_NUM, _float(value))
    if isinstance(value, str):
        return (_STR, value)
    return None


def _compile_node(node: Condition) -> _Node:
    if node.kind == "not":
        return _Not(_compile_node(node.not_))  # type: ignore[arg-type]
    if node.kind in ("all", "any"):
        children = node.all_ if node.kind == "all" else node.any_
        return _Group(node.kind, tuple(_compile_node(child) for child in children or ()))
    op, value, path = node.op or "", node.value, node.path or ""
    if op == "has_tag":  # any item whose Key equals the tag key
        tag = _Leaf("Key", ("Key",), "equals", value, frozenset({(_STR, value)}), _STR)
        return _Leaf(path, _segments(path), op, value, where=tag)
    keys = [_key(item) for item in (value if op in ("in", "not_in") else [value])]
    known = frozenset(key for key in keys if key is not None)
    return _Leaf(
        path=path,
        segments=_segments(path),
        op=op,
        value=value,
        keys=known if op in ("equals", "not_equals", "in", "not_in") else frozenset(),
        kinds=_BOOL * any(k[0] == _BOOL for k in known)
        | _NUM * any(k[0] == _NUM for k in known)
        | _STR * any(k[0] == _STR for k in known),
        number=float(value) if op in ("gt", "gte", "lt", "lte") else 0.0,
        regex=_compile_regex(value) if op == "regex" else None,
        regex_size=_compile_regex(value).programsize if op == "regex" else 0,
        where=_compile_node(node.where) if node.where is not None else None,
    )


def _compile_rule(rule: CustomRule) -> _Compiled:
    return _Compiled(
        condition=_compile_node(rule.condition),
        types=_Globs(rule.match.resource_types) if rule.match.resource_types else None,
        suites=_Globs(rule.match.suites) if rule.match.suites else None,
    )


# -- cost ---------------------------------------------------------------------------------------


class _Stop(Exception):
    """The call ran out of budget; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Meter:
    __slots__ = ("budget", "items", "steps")

    def __init__(self, budget_ms: float) -> None:
        self.budget = CpuBudget(budget_ms)
        self.steps = 0
        self.items = 0

    def step(self) -> None:
        self.steps += 1
        if self.steps & 127 == 0:
            if self.steps > MAX_STEPS_PER_CALL:
                raise _Stop(f"step limit exceeded ({MAX_STEPS_PER_CALL} steps)")
            self.check_time()

    def item(self) -> None:
        self.items += 1
        if self.items > MAX_ITEMS_PER_CALL:
            raise _Stop(f"item limit exceeded ({MAX_ITEMS_PER_CALL} items)")
        self.check_time()

    def check_time(self) -> None:
        if self.budget.spent():
            raise _Stop(f"evaluation budget exceeded ({self.budget.milliseconds:g} ms of CPU time)")


# -- evaluation ---------------------------------------------------------------------------------

Expand = Callable[[Any, frozenset], list[tuple[Any, frozenset]]]
"""Resolves a CloudFormation intrinsic into its possible (value, condition assumptions)."""


class _Item(NamedTuple):
    root: Any
    line: int | None
    resource: str | None
    expand: Expand | None


class _Out(NamedTuple):
    """An outcome: True, False or None (unknown), the best line, and what decided it."""

    state: bool | None
    line: int | None
    why: tuple


class _Ctx:
    __slots__ = ("expand", "meter")

    def __init__(self, meter: _Meter, expand: Expand | None) -> None:
        self.meter = meter
        self.expand = expand

    def options(self, value: Any, when: frozenset) -> Iterable[tuple[Any, frozenset]]:
        """The possible values of `value` (itself unless it is an intrinsic)."""
        if self.expand is not None and _intrinsic(value):
            return self.expand(value, when)
        return ((value, when),)


def _intrinsic(value: Any) -> bool:
    if not isinstance(value, dict) or len(value) != 1:
        return False
    key = next(iter(value))
    return isinstance(key, str) and (key in ("Ref", "Condition") or key.startswith("Fn::"))


def _child(value: Any, seg: str | int, at: int | None) -> tuple[Any, int | None]:
    """`value[seg]` and its line; `_MISSING` when there is none."""
    if isinstance(value, dict):
        key: Any = seg if seg in value or not isinstance(seg, int) else str(seg)
        if key not in value:
            return _MISSING, at
        lines = getattr(value, "lines", None)
        return value[key], (lines.get(key, at) if lines else at)
    if isinstance(value, list):
        index = seg if isinstance(seg, int) else int(seg) if seg.isdigit() else -1
        if not 0 <= index < len(value):
            return _MISSING, at
        item = value[index]
        first = getattr(item, "first_line", None) if isinstance(item, dict) else None
        return item, first or at
    if isinstance(value, _Unknown):
        return (value if not value.present else _Unknown(value.origin, False)), at
    return _MISSING, at


def _walk(ctx: _Ctx, root: Any, line: int | None, segments: tuple[str | int, ...]) -> list:
    """The (value, line, when) possibilities at `segments` under `root`, intrinsics resolved."""
    ctx.meter.step()
    value, at = root, line
    for index, seg in enumerate(segments):  # fast path: no intrinsic on the way
        if ctx.expand is not None and _intrinsic(value):
            return _walk_possibilities(ctx, value, at, segments[index:])
        value, at = _child(value, seg, at)
    if ctx.expand is not None and _intrinsic(value):
        return _walk_possibilities(ctx, value, at, ())
    return [(value, at, _NO_WHEN)]


def _walk_possibilities(
    ctx: _Ctx, root: Any, line: int | None, segments: tuple[str | int, ...]
) -> list:
    """`_walk` through values that may take several values (resolved intrinsics)."""
    step = ctx.meter.step
    found: list[tuple[Any, int | None, frozenset]] = [(root, line, _NO_WHEN)]
    for seg in (*segments, None):
        nxt: list[tuple[Any, int | None, frozenset]] = []
        for value, at, when in found:
            for current, assumed in ctx.options(value, when):
                step()
                if seg is None:
                    nxt.append((current, at, assumed))
                else:
                    nxt.append((*_child(current, seg, at), assumed))
        if len(nxt) > MAX_POSSIBILITIES:
            nxt = [(_Unknown("too many possible values"), nxt[0][1], _NO_WHEN)]
        found = nxt
    return found


def _render(prefix: Any) -> str:
    """A list item's name, built only for messages: `Properties.Ingress[1]`."""
    if not prefix:
        return ""
    parent, path, key = prefix
    base = _join(parent, path)
    return f"{base}[{key}]" if isinstance(key, int) else f"{base}.{key}"


def _join(prefix: Any, path: str) -> str:
    base = _render(prefix)
    if not path:
        return base or "the value"
    return f"{base}.{path}" if base else path


def _eval(node: _Node, ctx: _Ctx, root: Any, line: int | None, prefix: Any) -> _Out:
    if type(node) is _Leaf:
        return _eval_leaf(node, ctx, root, line, prefix)
    if type(node) is _Not:
        out = _eval(node.child, ctx, root, line, prefix)
        return _Out(None if out.state is None else not out.state, out.line, ("not", out))
    outs: list[_Out] = []
    decisive = node.kind == "any"  # the state that settles the group
    for child in node.children:
        out = _eval(child, ctx, root, line, prefix)
        outs.append(out)
        if out.state is decisive:
            return _Out(decisive, out.line, (node.kind, [out]))
    state = None if any(out.state is None for out in outs) else not decisive
    first = next((out for out in outs if out.state is not True), outs[0])
    return _Out(state, first.line, (node.kind, outs))


def _eval_leaf(leaf: _Leaf, ctx: _Ctx, root: Any, line: int | None, prefix: Any) -> _Out:
    found = _walk(ctx, root, line, leaf.segments)
    if len(found) == 1:  # the common case: one value
        value, at, when = found[0]
        state, inner = _test(leaf, ctx, value, at, prefix)
        if inner is not None and inner.line is not None:
            at = inner.line
        return _Out(state, at, ("leaf", leaf, prefix, value, when, inner))
    all_true = all_false = True
    bad = good = None
    for value, at, when in found:
        ctx.meter.step()
        state, inner = _test(leaf, ctx, value, at, prefix)
        why = ("leaf", leaf, prefix, value, when, inner)
        if inner is not None and inner.line is not None:
            at = inner.line  # the list item that decided
        if state is not True:
            all_true = False
            if bad is None or (state is False and bad.state is None):
                bad = _Out(state, at, why)
        else:
            good = good or _Out(True, at, why)
        if state is not False:
            all_false = False
    if all_true:
        return good  # type: ignore[return-value]
    assert bad is not None
    if all_false or bad.state is None:
        return bad
    return _Out(None, bad.line, ("mixed", bad, good))  # holds for some values only


def _test(leaf: _Leaf, ctx: _Ctx, value: Any, line: int | None, prefix: Any) -> tuple:
    """(state, inner outcome) of one possible value."""
    op = leaf.op
    if isinstance(value, _Unknown):
        if op == "exists" and value.present:
            return leaf.value is True, None
        return None, None
    missing = value is _MISSING or value is None
    if op == "exists":
        return (not missing) is leaf.value, None
    if op in ("not_equals", "not_in"):
        return (True if missing else not _same(leaf, value)), None
    if op == "all" and missing:
        return True, None
    if missing:
        return False, None
    if op in ("equals", "in"):
        return _same(leaf, value), None
    if op == "regex":
        text = _text(value)
        if text is None:
            return False, None
        work = len(text) * leaf.regex_size
        if work > MAX_REGEX_WORK:
            return None, None  # too long to match within bounds: unknown, fails closed
        found = leaf.regex.search(text) is not None
        if work > 100_000:
            ctx.meter.check_time()
        return found, None
    if op in ("gt", "gte", "lt", "lte"):
        number = _number(value)
        if number is None:
            return False, None
        limit = leaf.number
        ok = {
            "gt": number > limit,
            "gte": number >= limit,
            "lt": number < limit,
            "lte": number <= limit,
        }[op]
        return ok, None
    if op == "contains":
        return _contains(leaf, ctx, value), None
    return _quantify(leaf, ctx, value, line, prefix)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _float(value)
    if isinstance(value, str) and len(value) <= 64 and _NUMBER.fullmatch(value.strip()):
        number = float(value)
        return number if math.isfinite(number) else None
    return None


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return None


def _same(leaf: _Leaf, value: Any) -> bool:
    """`value` equals the leaf's value (or one of them), across YAML's spellings."""
    keys, kinds = leaf.keys, leaf.kinds
    key = _key(value)
    if key is None:
        return False
    if key in keys:
        return True
    if kinds & _STR and key[0] != _STR and (_STR, _text(value)) in keys:
        return True
    if isinstance(value, str):
        if kinds & _NUM:
            number = _number(value)
            if number is not None and (_NUM, number) in keys:
                return True
        if kinds & _BOOL:
            lowered = value.strip().lower()
            if lowered in ("true", "false") and (_BOOL, lowered == "true") in keys:
                return True
    return False


def _contains(leaf: _Leaf, ctx: _Ctx, value: Any) -> bool | None:
    wanted = leaf.value
    if isinstance(value, str):
        text = _text(wanted)
        return text is not None and text in value
    if isinstance(value, list):
        single = _Leaf("", (), "equals", wanted, frozenset({_key(wanted)}), _kind_bits(wanted))
        unknown = False
        for element in value:
            for current, _ in ctx.options(element, _NO_WHEN):
                ctx.meter.step()
                if isinstance(current, _Unknown):
                    unknown = True
                elif _same(single, current):
                    return True
        return None if unknown else False
    if isinstance(value, dict):
        return _text(wanted) in value
    return False


def _kind_bits(value: Any) -> int:
    key = _key(value)
    return key[0] if key else 0


def _items(value: Any, line: int | None) -> Iterator[tuple[Any, int | None, Any]]:
    """The items of a list (or of a mapping, as `{Key, Value}` pairs), line and index/key."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            first = getattr(item, "first_line", None) if isinstance(item, dict) else None
            yield item, first or line, index
    else:
        lines = getattr(value, "lines", None) or {}
        for key, item in value.items():
            yield {"Key": key, "Value": item}, lines.get(key, line), key


def _quantify(leaf: _Leaf, ctx: _Ctx, value: Any, line: int | None, prefix: Any) -> tuple:
    """`any`, `all`, `has_tag`: the where condition over each item of the list."""
    if not isinstance(value, list | dict):
        return False, None
    if leaf.op == "has_tag":
        found = _has_tag(value, leaf.value, ctx)
        if found is not None:
            return found, None
    want_all = leaf.op == "all"
    where = leaf.where
    assert where is not None
    first = unknown = None
    for root, at, key in _items(value, line):
        ctx.meter.step()
        out = _eval(where, ctx, root, at, (prefix, leaf.path, key))
        if out.state is (not want_all):
            return (not want_all), out
        if out.state is None and unknown is None:
            unknown = out
        first = first or out
    if unknown is not None:
        return None, unknown
    return want_all, first


def _has_tag(value: list | dict, key: str, ctx: _Ctx) -> bool | None:
    """Whether the tags hold `key`, when that needs no intrinsic resolved (else None)."""
    if isinstance(value, dict):
        return key in value
    ctx.meter.step()
    for item in value:
        if not isinstance(item, dict) or (ctx.expand is not None and _intrinsic(item)):
            return None
        found = item.get("Key")
        if not isinstance(found, str):
            return None
        if found == key:
            return True
    return False


# -- messages -----------------------------------------------------------------------------------


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value if len(value) <= 80 else value[:77] + "...")
    if isinstance(value, list):
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value)


def _values(values: list[Any], limit: int = 5) -> str:
    shown = ", ".join(_show(item) for item in values[:limit])
    more = f", ... ({len(values)} values)" if len(values) > limit else ""
    return f"[{shown}{more}]"


_EXPECTED: dict[str, Callable[[Any], str]] = {
    "exists": lambda value: "set",
    "equals": lambda value: f"equal to {_show(value)}",
    "not_equals": lambda value: f"different from {_show(value)}",
    "in": lambda value: f"one of {_values(value)}",
    "not_in": lambda value: f"none of {_values(value)}",
    "regex": lambda value: f"matching /{str(value)[:80]}/",
    "gt": lambda value: f"greater than {value!r}",
    "gte": lambda value: f"at least {value!r}",
    "lt": lambda value: f"less than {value!r}",
    "lte": lambda value: f"at most {value!r}",
    "contains": lambda value: f"containing {_show(value)}",
    "has_tag": lambda value: f"tagged {_show(value)}",
    "any": lambda value: "a list with an item that satisfies the condition",
    "all": lambda value: "a list whose items all satisfy the condition",
}


def _expected(leaf: _Leaf) -> str:
    return _EXPECTED[leaf.op](leaf.value)


def _when_text(when: frozenset) -> str:
    if not when:
        return ""
    parts = [f"{name} is {'true' if flag else 'false'}" for name, flag in sorted(when)]
    noun = "condition" if len(parts) == 1 else "conditions"
    return f" (when {noun} {' and '.join(parts)})"


def _message(out: _Out, negated: bool = False) -> str:
    """Why `out` is not what the rule needs (`negated`: under a `not`, so it held)."""
    kind = out.why[0]
    if kind == "not":
        return _message(out.why[1], not negated)
    if kind == "mixed":  # the value for which the leaf fails (or, negated, holds)
        return _message(out.why[2] if negated else out.why[1], negated)
    if kind in ("all", "any"):
        outs: list[_Out] = out.why[1]
        if out.state is None:  # an unknown child explains it
            child = next((o for o in outs if o.state is None), outs[0])
            return _message(child, negated)
        if (kind == "all") != negated:  # one failing child explains it
            child = next((o for o in outs if o.state is not (not negated)), outs[0])
            rest = sum(1 for o in outs if o.state is not (not negated)) - 1
            more = f" (and {rest} more)" if rest > 0 else ""
            return _message(child, negated) + more
        shown = "; ".join(_message(o, negated) for o in outs[:3])
        label = "all of these hold, which the rule forbids" if negated else "none of these holds"
        return f"{label}: {shown}"
    _, leaf, prefix, value, when, inner = out.why
    display = _join(prefix, leaf.path)
    suffix = _when_text(when)
    op = leaf.op
    if isinstance(value, _Unknown) and not (op == "exists" and value.present):
        if value.present:
            return (
                f"{display} comes from {value.origin}: it could not be resolved, so the rule "
                f"fails closed{suffix}"
            )
        return (
            f"{display} could not be resolved (a value on its path comes from {value.origin}), "
            f"so the rule fails closed{suffix}"
        )
    if inner is not None and inner.state is None:
        return _message(inner, False)
    missing = value is _MISSING or value is None
    if op == "regex" and out.state is None and isinstance(value, str):
        return (
            f"{display} is too long ({len(value)} characters) to be matched against "
            f"/{str(leaf.value)[:80]}/ within the limits, so the rule fails closed{suffix}"
        )
    if op == "exists":
        must = "must" if leaf.value is not negated else "must not"
        return f"{display} is {'not set' if missing else 'set'} but {must} be set{suffix}"
    if missing:
        if negated:
            return f"{display} is not set, which the rule forbids{suffix}"
        return f"{display} is not set but must be {_expected(leaf)}{suffix}"
    if op == "has_tag" and not negated:
        return f"{display} has no tag {leaf.value!r}{suffix}"
    if op in ("any", "all") and isinstance(value, list | dict):
        if op == "all" and negated:
            return f"every item of {display} satisfies the condition, which the rule forbids"
        if op == "any" and not negated and not value:
            return f"{display} is empty but must have an item that satisfies the condition"
        if inner is not None and op == "all":
            return _message(inner, False) + suffix
        if inner is not None and op == "any" and negated:
            return f"{display} has an item the rule forbids: {_message(inner, True)}{suffix}"
        if op == "any" and not negated:
            detail = f": {_message(inner, False)}" if inner is not None and len(value) == 1 else ""
            return f"no item of {display} satisfies the condition{detail}{suffix}"
    shown = f"{display} is {_show(value)}"
    if negated:
        return f"{shown} but must not be {_expected(leaf)}{suffix}"
    return f"{shown} but must be {_expected(leaf)}{suffix}"


# -- items per artifact type --------------------------------------------------------------------


def _cfn_items(tpl: Any, compiled: _Compiled, cache: dict) -> Iterator[_Item]:
    """The matched resources in document order; SAM ones also as the types they expand to."""
    matches = compiled.types
    assert matches is not None
    index = cache.get("index")
    if index is None:
        by_type: dict[str, list[tuple[int, Any]]] = {}
        sam: list[tuple[int, Any]] = []
        for pos, res in enumerate(tpl.all_resources()):
            by_type.setdefault(res.type, []).append((pos, res))
            if res.type.startswith("AWS::Serverless::"):
                sam.append((pos, res))
        index = cache["index"] = (by_type, sam)
    by_type, sam = index
    selected = [entry for rtype, group in by_type.items() if matches(rtype) for entry in group]
    for pos, res in sam:
        if not matches(res.type):
            selected.extend((pos, view) for view in tpl.sam_expansion(res) if matches(view.type))
    selected.sort(key=lambda entry: entry[0])
    for _, res in selected:
        yield _cfn_item(tpl, res, cache)


def _cfn_item(tpl: Any, res: Any, cache: dict) -> _Item:
    key = (res.logical_id, res.type)
    item = cache.get(key)
    if item is None:
        from chalicelib.parsers.cloudformation import LineDict

        root = LineDict(res.raw if isinstance(res.raw, dict) else {})
        # Properties has no line of its own: a missing property is reported on the resource
        root.lines = {k: v for k, v in getattr(res.raw, "lines", {}).items() if k != "Properties"}
        root["Properties"] = res.properties
        root["Type"] = res.type
        root["LogicalId"] = res.logical_id
        item = cache[key] = _Item(root, res.line, res.logical_id, _cfn_expander(tpl, res))
    return item


def _cfn_expander(tpl: Any, res: Any) -> Expand:
    from chalicelib.parsers.cloudformation import NO_VALUE, UNRESOLVED, is_intrinsic

    base = {res.condition: True} if res.condition else {}

    def expand(value: Any, when: frozenset) -> Iterable[tuple[Any, frozenset]]:
        if not (isinstance(value, dict) and is_intrinsic(value)):
            return ((value, when),)
        assume = {**base, **dict(when)}
        out = []
        for possible in tpl.possible_values_with_conditions(value, assume):
            current = possible.value
            if current is UNRESOLVED:
                current = _Unknown(_describe_intrinsic(tpl, value))
            elif current is NO_VALUE:
                current = _MISSING
            out.append((current, when | possible.when))
        return out

    return expand


def _describe_intrinsic(tpl: Any, value: dict) -> str:
    ((key, arg),) = value.items()
    if key == "Ref" and isinstance(arg, str):
        if arg in tpl.parameters:
            return f"parameter {arg}, whose value is known only at deploy time"
        if arg.startswith("AWS::"):
            return f"{arg}, known only at deploy time"
        return f"a Ref to {arg}, known only at deploy time"
    if key == "Fn::GetAtt":
        name = ".".join(map(str, arg)) if isinstance(arg, list) else str(arg)
        return f"Fn::GetAtt {name}, known only at deploy time"
    return f"{key}, which the template does not resolve"


_VAR = re.compile(r"\$\{([A-Za-z_]\w*)(?::?([-+])([^}]*))?\}|\$([A-Za-z_]\w*)")


def _global_args(df: Any) -> dict[str, str]:
    values: dict[str, str] = {}
    for ins in df.global_args:
        for word in ins.value.split():
            name, eq, default = word.partition("=")
            if eq:
                values[name] = default.strip("'\"")
    return values


def _substitute(text: str, values: dict[str, str]) -> tuple[str, list[str]]:
    """`text` with `$VAR`/`${VAR}`/`${VAR:-word}` replaced; the names left unresolved."""
    unresolved: list[str] = []

    def repl(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(4)
        op, word = match.group(2), match.group(3) or ""
        value = values.get(name)
        if op == "+":
            return word if value else ""
        if value:
            return value
        if op == "-":
            return word
        unresolved.append(name)
        return match.group(0)

    return (_VAR.sub(repl, text) if "$" in text else text), unresolved


def _image_fields(image: str, unresolved: list[str]) -> dict[str, Any]:
    if unresolved:
        names = ", ".join(dict.fromkeys(unresolved))
        origin = f"build argument {names}, which has no default in the Dockerfile"
        unknown = _Unknown(origin)
        return dict.fromkeys(("image", "name", "registry", "repository", "tag", "digest"), unknown)
    name, _, digest = image.partition("@")
    slash, colon = name.rfind("/"), name.rfind(":")
    tag = None
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        registry, repository = first.lower(), rest
    else:
        registry, repository = "docker.io", name if sep else f"library/{name}"
    return {
        "image": image,
        "name": name,
        "registry": registry,
        "repository": repository,
        "tag": tag or None,
        "digest": digest or None,
    }


def _stage_users(df: Any) -> tuple[list[str | None], dict[int, str | None]]:
    """The USER each stage ends with, and the USER in effect at each instruction (by id)."""
    final: list[str | None] = []
    at: dict[int, str | None] = {}
    for stage in df.stages:
        user = final[stage.from_stage] if stage.from_stage is not None else None
        for ins in stage.instructions:
            at[id(ins)] = user
            if ins.cmd == "USER" and ins.value.split():
                user = ins.value.split()[0]
        final.append(user)
    return final, at


def _docker_items(df: Any, rule: CustomRule) -> Iterator[_Item]:
    match = rule.match
    users, user_at = _stage_users(df)
    last = len(df.stages) - 1
    if match.target == "instructions":
        wanted = set(match.instruction or ())
        aliases = {stage.index: stage.alias for stage in df.stages}
        for ins in df.instructions:
            if (wanted and ins.cmd not in wanted) or (match.final_stage_only and ins.stage != last):
                continue
            root = {
                "instruction": ins.cmd,
                "value": ins.value,
                "args": ins.args,
                "flags": dict(ins.flags),
                "exec_form": ins.is_exec_form,
                "arguments": list(ins.json_args) if ins.json_args is not None else None,
                "stage": ins.stage,
                "alias": aliases.get(ins.stage),
                "user": user_at.get(id(ins)),
            }
            yield _Item(root, ins.line, None, None)
        return
    args = _global_args(df) if df.global_args else {}
    if match.target == "final_stage_base_image":
        origin = df.stages[-1]
        seen = set()
        while origin.from_stage is not None and origin.index not in seen:
            seen.add(origin.index)
            origin = df.stages[origin.from_stage]
        stages = [(origin, df.stages[-1])]
    else:
        stages = [(stage, stage) for stage in df.stages if stage.from_stage is None]
    for origin, stage in stages:
        image, unresolved = _substitute(origin.base_image, args)
        if not unresolved and image.lower() == "scratch":
            continue
        root = _image_fields(image, unresolved)
        root.update(
            platform=origin.platform,
            alias=stage.alias,
            stage=stage.index,
            user=users[stage.index],
            is_final=stage.index == last,
        )
        yield _Item(root, origin.line, None, None)


def _junit_items(report: Any, rule: CustomRule, compiled: _Compiled) -> Iterator[_Item]:
    wanted = compiled.suites
    if rule.match.target == "cases":
        for case in report.cases:
            if wanted is not None and not wanted(case.suite):
                continue
            root = {
                "name": case.name,
                "classname": case.classname,
                "suite": case.suite,
                "status": case.status,
                "time": case.time,
                "message": case.message,
                "flaky": case.flaky,
                "file": case.source_file,
                "key": case.key,
            }
            yield _Item(root, case.line, case.key, None)
        return
    for suite in report.suites:
        if wanted is not None and not wanted(suite.name):
            continue
        counted = suite.counted
        tests = counted.tests or 0
        failed = (counted.failures or 0) + (counted.errors or 0) + (counted.skipped or 0)
        root = {
            "name": suite.name,
            "tests": tests,
            "passed": tests - failed,
            "failures": counted.failures,
            "errors": counted.errors,
            "skipped": counted.skipped,
            "time": suite.time,
            "declared_tests": suite.declared.tests,
            "depth": suite.depth,
            "parent": suite.parent,
        }
        yield _Item(root, suite.line, suite.name, None)


def _nothing_matched(rule: CustomRule) -> str:
    match = rule.match
    if match.resource_types:
        return f"no resource of type {', '.join(match.resource_types)} in the template"
    if match.target == "instructions":
        names = "/".join(match.instruction or ()) or "any"
        return f"no {names} instruction in the Dockerfile"
    if match.target in ("final_stage_base_image", "base_images"):
        return "no base image in the Dockerfile"
    suites = ", ".join(match.suites or ())
    if match.target == "suites":
        return f"no suite matching {suites} in the report" if suites else "no suite in the report"
    where = f" in a suite matching {suites}" if suites else ""
    return f"no test case{where} in the report"


# -- entry point --------------------------------------------------------------------------------


def evaluate_custom(
    rules: list[CustomRule],
    artifact_type: ArtifactType | str,
    model: Any,
    budget_ms: float = DEFAULT_BUDGET_MS,
) -> tuple[list[tuple[CustomRule, Hit]], list[str]]:
    """Run the rules of `artifact_type` (others are ignored) on a parsed artifact.

    Returns one (rule, hit) per matched item whose condition is not known to hold, in rule id
    order, and notes. The call stops after `budget_ms` of CPU time (checked between items and
    every few steps) or the item/step limits: the rule it was running and those not yet run
    each get a hit saying so (fail closed) and a note (`custom rule X-ACME-001 stopped: ...`).
    """
    kind = ArtifactType(artifact_type)
    meter = _Meter(budget_ms)
    hits: list[tuple[CustomRule, Hit]] = []
    notes: list[str] = []
    stopped: str | None = None
    cache: dict = {}
    for rule in sorted((r for r in rules if r.artifact_type is kind), key=lambda r: r.id):
        if stopped is not None:
            notes.append(f"custom rule {rule.id} not evaluated: {stopped}")
            hits.append((rule, Hit(f"the rule was not evaluated ({stopped}); {_UNCHECKED}")))
            continue
        compiled: _Compiled = rule._compiled
        matched = 0
        try:
            for item in _items_for(kind, model, rule, compiled, cache):
                meter.item()
                matched += 1
                out = _eval(compiled.condition, _Ctx(meter, item.expand), item.root, item.line, "")
                if out.state is not True:
                    hit = Hit(_message(out), line=out.line or item.line, resource=item.resource)
                    hits.append((rule, hit))
        except _Stop as stop:
            stopped = stop.reason
            notes.append(f"custom rule {rule.id} stopped: {stopped}")
            hits.append((rule, Hit(f"evaluation stopped ({stopped}); {_UNCHECKED}")))
            continue
        except Exception:  # a tenant's rule must not take the artifact down
            log.exception("custom rule %s crashed", rule.id)
            notes.append(f"custom rule {rule.id} could not evaluate this artifact")
            hits.append((rule, Hit(f"the rule could not evaluate this artifact; {_UNCHECKED}")))
            continue
        if matched == 0 and rule.match.required:
            hits.append((rule, Hit(_nothing_matched(rule))))
    return hits, notes


_UNCHECKED = "it is not known to hold"


def _items_for(
    kind: ArtifactType, model: Any, rule: CustomRule, compiled: _Compiled, cache: dict
) -> Iterator[_Item]:
    if kind is ArtifactType.CLOUDFORMATION:
        return _cfn_items(model, compiled, cache)
    if kind is ArtifactType.DOCKERFILE:
        return _docker_items(model, rule)
    if kind is ArtifactType.IMAGE:
        return iter([_Item(model.as_item(), model.config_line, None, None)])
    return _junit_items(model, rule, compiled)
