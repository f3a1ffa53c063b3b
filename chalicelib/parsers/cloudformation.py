"""CloudFormation templates (YAML or JSON) with 1-based line numbers for resources and keys.

YAML short-form intrinsics (`!Ref`, `!Sub`, `!GetAtt a.b`, ...) become their long form
(`{"Ref": ...}`, `{"Fn::Sub": ...}`, `{"Fn::GetAtt": ["a", "b"]}`). Every mapping is a `LineDict`:
a dict whose `lines` maps each key to the line it is written on. Hostile YAML (alias bombs,
recursive aliases, deep nesting) is refused with a `ParseError`.

Values are resolved as far as the template (and the parameter values a caller supplies) tell:
`Ref` to a parameter, `Fn::FindInMap`, `Fn::Sub`, `Fn::Join`, `Fn::Select`, `Fn::Split`,
`Fn::Base64`, `Fn::Length`, conditions and `Fn::If`. A parameter is the value the caller
supplied; else, when it declares AllowedValues, any of them (the deployer may pick each; the
Default comes first); else its Default; else `UNRESOLVED`. A condition that cannot be decided
splits the value into one possibility per branch, each tagged with the assumption it rests on
(`Possible.when`). Everything known only at deploy time (`Fn::GetAtt`, a `Ref` to a resource,
`AWS::Region`, `AWS::AccountId`..., SSM parameter types) is `UNRESOLVED`.

`AWS::Serverless-2016-10-31` (SAM) resources can be seen through the CloudFormation types they
expand to: `Template.of_type("AWS::Lambda::Function", include_sam=True)`, see `SAM_VIEWS`.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
from collections.abc import Callable, Hashable, Iterable, Iterator, KeysView, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from chalicelib.parsers import ParseError

__all__ = [
    "MAX_COMBINATIONS",
    "NO_VALUE",
    "PSEUDO_PARAMETER_VALUES",
    "SAM_TRANSFORM",
    "SAM_VIEWS",
    "UNRESOLVED",
    "LineDict",
    "Possible",
    "Resource",
    "Template",
    "When",
    "describe_when",
    "is_intrinsic",
    "parse",
    "using_parameters",
]

MAX_ALIASES = 100
MAX_DEPTH = 64
MAX_EXPANDED_NODES = 200_000
MAX_COMBINATIONS = 64
"""More possible values than this for one expression (branch combinations) → `UNRESOLVED`."""
MAX_RESOLVE_DEPTH = 48
MAX_RESOLVE_STEPS = 20_000
"""Work budget of one resolution; beyond it the value is `UNRESOLVED`."""
PSEUDO_PARAMETERS = frozenset(
    {
        "AWS::AccountId",
        "AWS::NotificationARNs",
        "AWS::NoValue",
        "AWS::Partition",
        "AWS::Region",
        "AWS::StackId",
        "AWS::StackName",
        "AWS::URLSuffix",
    }
)
PSEUDO_PARAMETER_VALUES: Mapping[str, str] = {
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}
"""Placeholders for pseudo parameters (the commercial partition); a caller may supply others
(`parse(text, parameters={"AWS::Region": "eu-west-1"})`). The rest stay `UNRESOLVED`."""
SAM_TRANSFORM = "AWS::Serverless-2016-10-31"

When = frozenset[tuple[str, bool]]
"""The condition assumptions a possible value rests on: (condition name, assumed value) pairs."""
_ALWAYS: When = frozenset()


class _Marker:
    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


UNRESOLVED: Any = _Marker("UNRESOLVED")
"""A value computed by CloudFormation at deploy time that cannot be known from the template."""
NO_VALUE: Any = _Marker("NO_VALUE")
"""`{"Ref": "AWS::NoValue"}`: the property is removed."""

_CALLER_PARAMETERS: ContextVar[Mapping[str, Any] | None] = ContextVar(
    "pipeguard_cfn_parameters", default=None
)


@contextlib.contextmanager
def using_parameters(values: Mapping[str, Any] | None) -> Iterator[None]:
    """Within the block, `parse` (also via `chalicelib.parsers.parse`) uses these values.

    For callers that cannot pass `parameters=` (the engine): parameter name → value, as given
    to `aws cloudformation deploy --parameter-overrides`; pseudo parameters may be included.
    """
    token = _CALLER_PARAMETERS.set(dict(values) if values else None)
    try:
        yield
    finally:
        _CALLER_PARAMETERS.reset(token)


class Possible(NamedTuple):
    """One value an expression may take, and the condition assumptions it needs (`when`)."""

    value: Any
    when: When = _ALWAYS


def describe_when(when: When) -> str:
    """`when condition IsProd is false`, `when conditions A is true and B is false`, or ``."""
    if not when:
        return ""
    parts = [f"{name} is {'true' if flag else 'false'}" for name, flag in sorted(when)]
    noun = "condition" if len(parts) == 1 else "conditions"
    return f"when {noun} {' and '.join(parts)}"


class LineDict(dict):
    """A dict that remembers the 1-based line of each key (`lines[key]`), when known."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines: dict[Any, int] = {}

    @property
    def first_line(self) -> int | None:
        return min(self.lines.values()) if self.lines else None


def is_intrinsic(value: Any) -> bool:
    """True for `{"Ref": ...}`, `{"Fn::...": ...}` and `{"Condition": ...}` single-key dicts."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    key = next(iter(value))
    return isinstance(key, str) and (key in ("Ref", "Condition") or key.startswith("Fn::"))


@dataclass
class Resource:
    """One entry of `Resources`; `line` is the line of its logical id.

    `condition` is the resource's `Condition:` name. `sam_type` is set on the CloudFormation
    view of a SAM resource (`of_type(..., include_sam=True)`): its `type` is then the expanded
    type and `properties` the mapped ones.
    """

    logical_id: str
    type: str
    properties: LineDict
    line: int | None
    metadata: dict[str, Any] = field(default_factory=dict)
    condition: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    sam_type: str | None = None

    def prop(self, *path: Any, default: Any = None) -> Any:
        """The value at `path` under Properties (dict keys / list indexes), or `default`."""
        current: Any = self.properties
        for key in path:
            if (isinstance(current, dict) and key in current) or (
                isinstance(current, list) and isinstance(key, int) and 0 <= key < len(current)
            ):
                current = current[key]
            else:
                return default
        return current

    @property
    def properties_line(self) -> int | None:
        """The line of the resource's `Properties` key (its own line when it has none): where
        a missing property belongs."""
        return getattr(self.raw, "lines", {}).get("Properties", self.line)

    def prop_line(self, *path: Any) -> int | None:
        """The line of the deepest key of `path` that exists (`properties_line` if none)."""
        line = self.properties_line
        current: Any = self.properties
        for key in path:
            if isinstance(current, dict) and key in current:
                line = getattr(current, "lines", {}).get(key, line)
                current = current[key]
            elif isinstance(current, list) and isinstance(key, int) and 0 <= key < len(current):
                current = current[key]
                if isinstance(current, LineDict) and current.first_line:
                    line = current.first_line
            else:
                break
        return line


@dataclass
class Template:
    """A parsed template; `resources` keyed by logical id, in document order.

    `supplied_parameters` are the values the caller gave for parameters (and pseudo
    parameters); they win over Defaults. Set them with `parse(..., parameters=)` or
    `with_parameters`, not by mutating the field (resolutions are cached).
    """

    resources: dict[str, Resource]
    parameters: dict[str, Any] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)
    mappings: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    transform: list[str] = field(default_factory=list)
    format_version: str | None = None
    description: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    supplied_parameters: dict[str, Any] = field(default_factory=dict)
    _cache: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def is_sam(self) -> bool:
        """True when the template declares the SAM transform."""
        return SAM_TRANSFORM in self.transform

    def with_parameters(self, values: Mapping[str, Any]) -> Template:
        """A copy of this template with `values` supplied for its parameters."""
        return replace(self, supplied_parameters={**self.supplied_parameters, **values})

    def of_type(
        self, *types: str, include_sam: bool = False, include_disabled: bool = False
    ) -> Iterator[Resource]:
        """The resources whose Type is one of `types`, in document order.

        Resources whose `Condition` is decidably false are not deployed and are skipped unless
        `include_disabled`. With `include_sam`, SAM resources also appear as the types they
        expand to (`SAM_VIEWS`: a `AWS::Serverless::Function` as `AWS::Lambda::Function`...),
        with mapped properties, their own logical id, line and metadata, and `sam_type` set;
        a SAM type asked for by name is yielded as written, not twice.
        """
        if include_sam and not self._has_sam():
            include_sam = False  # nothing expands: the plain lookup below answers
        if not include_sam and (include_disabled or not self.conditions) and len(types) == 1:
            return iter(self._by_type().get(types[0], ()))  # the common case: one lookup
        key = ("of_type", types, include_sam, include_disabled)
        cached = self._cache.get(key)  # every rule asks: answer each question once
        if cached is None or cached[0] != len(self.resources):
            pool: Iterable[Resource] = (
                self.resources.values()
                if include_disabled or not self.conditions  # no resource can be disabled
                else self._active()
            )
            if include_sam:
                found = list(self._with_sam(pool, types))
            else:
                found = [res for res in pool if res.type in types]
            cached = self._cache[key] = (len(self.resources), found)
        return iter(cached[1])

    def shared(self, key: str, build: Callable[[Template], Any]) -> Any:
        """`build(self)`, computed once per template for every rule that asks by `key`."""
        key = f"shared:{key}"
        if key not in self._cache:
            self._cache[key] = build(self)
        return self._cache[key]

    def declares_any(self, types: frozenset[str]) -> bool:
        """True when some resource is of one of `types`, or is a SAM resource expanding to one
        (conditions aside: a rule decides what a disabled resource means)."""
        present = self._cache.get("declared")
        if present is None:
            found = set(self._by_type())
            for sam_type in found & _SAM_TARGETS.keys():
                found.update(_SAM_TARGETS[sam_type])
            present = self._cache["declared"] = frozenset(found)
        return not present.isdisjoint(types)

    def types(self) -> KeysView[str]:
        """The resource types the template declares (as written, SAM types included)."""
        return self._by_type().keys()

    def _has_sam(self) -> bool:
        """True when some resource is a SAM type with a CloudFormation view (cached)."""
        found = self._cache.get("has_sam")
        if found is None:
            found = self._cache["has_sam"] = any(t in _SAM_TARGETS for t in self._by_type())
        return found

    def _by_type(self) -> dict[str, list[Resource]]:
        """Resources grouped by type, in document order (built once per template)."""
        index = self.__dict__.get("_type_index")
        if index is None:
            index = {}
            for res in self.resources.values():
                index.setdefault(res.type, []).append(res)
            self.__dict__["_type_index"] = index
        return index

    def all_resources(self, *, include_disabled: bool = False) -> Iterator[Resource]:
        """Every resource in document order, without those whose condition is decidably false."""
        return iter(self.resources.values() if include_disabled else self._active())

    def sam_expansion(self, res: Resource) -> list[Resource]:
        """The CloudFormation views of one SAM resource (empty for other resources)."""
        return [self._sam_view(res, target) for target in _SAM_TARGETS.get(res.type, ())]

    def condition_value(self, name: str, assume: Mapping[str, bool] | None = None) -> bool | None:
        """The value of a named condition: True/False, or None when it cannot be decided."""
        return self._resolver().condition_value(name, _when(assume))

    def possible_values(self, value: Any, _depth: int = 0) -> list[Any]:
        """The distinct values `value` may take at deploy time, as far as the template tells.

        Literals are themselves; intrinsics are resolved (see the module docstring): a
        parameter gives its AllowedValues (or Default), an undecidable `Fn::If` both branches,
        `Ref: AWS::NoValue` gives `NO_VALUE`; anything only known at deploy time, or an
        expression with more than `MAX_COMBINATIONS` possibilities, gives `UNRESOLVED`.
        """
        if not isinstance(value, dict):
            return [value]
        possible = self.possible_values_with_conditions(value)
        if len(possible) == 1:
            return [possible[0].value]
        return _distinct((p.value for p in possible), _typed)

    def possible_values_with_conditions(
        self, value: Any, assume: Mapping[str, bool] | None = None
    ) -> list[Possible]:
        """Like `possible_values`, each value with the condition assumptions it rests on.

        `assume` fixes conditions known to hold (e.g. `{res.condition: True}` for a property of
        a conditional resource); they are not repeated in the results' `when`.
        """
        if not isinstance(value, dict):
            return [Possible(value)]
        return self._resolver().resolve(value, _when(assume))

    def _active(self) -> list[Resource]:
        """The resources whose condition is not decidably false (cached)."""
        cached = self._cache.get("active")
        if cached is None or cached[0] != len(self.resources):
            active = [
                res
                for res in self.resources.values()
                if not res.condition or self.condition_value(res.condition) is not False
            ]
            cached = self._cache["active"] = (len(self.resources), active)
        return cached[1]

    def _with_sam(self, pool: Iterable[Resource], wanted: tuple[str, ...]) -> Iterator[Resource]:
        for res in pool:
            if res.type in wanted:
                yield res
            elif res.type in _SAM_TARGETS:
                for target in _SAM_TARGETS[res.type]:
                    if target in wanted:
                        yield self._sam_view(res, target)

    def _resolver(self) -> _Resolver:
        resolver = self._cache.get("resolver")
        if resolver is None:
            resolver = self._cache["resolver"] = _Resolver(self)
        return resolver

    def _sam_view(self, res: Resource, target: str) -> Resource:
        key = ("sam", res.logical_id, target)
        view = self._cache.get(key)
        if view is None:
            section = _SAM_GLOBALS.get(res.type, "")
            globals_ = _section(_section(self.raw, "Globals"), section)
            props = _sam_merge(globals_, res.properties) if globals_ else res.properties
            mapped = SAM_VIEWS[target][1](res, props)
            view = self._cache[key] = Resource(
                logical_id=res.logical_id,
                type=target,
                properties=mapped,
                line=res.line,
                metadata=res.metadata,
                condition=res.condition,
                raw=res.raw,
                sam_type=res.type,
            )
        return view


def parse(text: str, parameters: Mapping[str, Any] | None = None) -> Template:
    """Parse a template; anything unreadable raises `ParseError` (never another error).

    `parameters` are the values the caller supplies for template parameters (or pseudo
    parameters); without them, those set by `using_parameters` apply.
    """
    if parameters is None:
        parameters = _CALLER_PARAMETERS.get()
    try:
        template = _build(_load(text))
    except ParseError:
        raise
    except RecursionError as exc:
        raise ParseError("the template is nested too deeply to read") from exc
    except Exception as exc:  # defensive: a parser must only ever raise ParseError
        raise ParseError(f"the template could not be read: {exc}") from exc
    if parameters:
        template.supplied_parameters = dict(parameters)
    return template


# -- loading -------------------------------------------------------------------------------


class _Refused(Exception):
    """Hostile structure spotted while composing: not worth a fallback attempt."""


class _Guard:
    """Composer hooks that refuse alias bombs, recursive aliases and deep nesting."""

    _aliases: int
    _depth: int
    _sizes: dict[int, int]

    def _init_guard(self) -> None:
        self._aliases = 0
        self._depth = 0
        self._sizes = {}

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        if self.check_event(yaml.AliasEvent):  # type: ignore[attr-defined]
            mark = self.peek_event().start_mark  # type: ignore[attr-defined]
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _Refused(
                    f"line {mark.line + 1}: more than {MAX_ALIASES} YAML aliases; "
                    "refusing a document that may be an alias bomb"
                )
            node = super().compose_node(parent, index)  # type: ignore[misc]
            if not isinstance(node, ScalarNode) and id(node) not in self._sizes:
                raise _Refused(f"line {mark.line + 1}: a YAML alias refers to itself (recursive)")
            return node
        self._depth += 1
        if self._depth > MAX_DEPTH:
            mark = self.peek_event().start_mark  # type: ignore[attr-defined]
            raise _Refused(
                f"line {mark.line + 1}: the document is nested more than {MAX_DEPTH} levels deep"
            )
        node = super().compose_node(parent, index)  # type: ignore[misc]
        self._depth -= 1
        if not isinstance(node, ScalarNode):
            children = (
                node.value
                if isinstance(node, SequenceNode)
                else [item for pair in node.value for item in pair]
            )
            size = 1 + sum(self._sizes.get(id(child), 1) for child in children)
            if size > MAX_EXPANDED_NODES:
                raise _Refused(
                    f"line {node.start_mark.line + 1}: YAML aliases expand to more than "
                    f"{MAX_EXPANDED_NODES} values; refusing a likely alias bomb"
                )
            self._sizes[id(node)] = size
        return node


class _Loader(_Guard, yaml.SafeLoader):
    """SafeLoader with CloudFormation tags, line-aware mappings and alias/depth limits."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._init_guard()


_LOADERS: list[type] = [_Loader]
try:  # libyaml scans and parses ~10x faster; composing and constructing stay SafeLoader's
    from yaml._yaml import CParser

    class _FastLoader(_Guard, Composer, CParser, SafeConstructor, Resolver):  # type: ignore[misc]
        """The same loader with libyaml producing the events."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self._init_guard()

    _LOADERS.append(_FastLoader)
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    pass


def _construct_mapping(loader: Any, node: MappingNode, deep: bool = False) -> LineDict:
    loader.flatten_mapping(node)
    data = LineDict()
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(
                None, None, "found a mapping key that is not a plain value", key_node.start_mark
            )
        data[key] = loader.construct_object(value_node, deep=deep)
        data.lines[key] = key_node.start_mark.line + 1
    return data


def _construct_map(loader: Any, node: MappingNode) -> Iterator[LineDict]:
    data = LineDict()
    yield data
    built = _construct_mapping(loader, node)
    data.update(built)
    data.lines.update(built.lines)


def _construct_tag(loader: Any, suffix: str, node: Node) -> LineDict:
    if isinstance(node, ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = _construct_mapping(loader, node, deep=True)  # type: ignore[arg-type]
    if suffix == "GetAtt" and isinstance(value, str):
        logical_id, _, attribute = value.partition(".")
        value = [logical_id, attribute]
    key = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    result = LineDict({key: value})
    result.lines[key] = node.start_mark.line + 1
    return result


_TIMESTAMP = "tag:yaml.org,2002:timestamp"
for _cls in _LOADERS:  # dates stay strings (AWSTemplateFormatVersion: 2010-09-09)
    _cls.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    _cls.add_constructor("tag:yaml.org,2002:map", _construct_map)
    _cls.add_multi_constructor("!", _construct_tag)
_YamlLoader = _LOADERS[-1]


def _yaml_error(exc: yaml.YAMLError, text: str, kind: str) -> ParseError:
    if isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        return ParseError(
            f"line {line}: the file contains a character {kind} does not accept "
            f"(#x{exc.character:04x}); is it a binary file?"
        )
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        if exc.problem == "but found another document":
            return ParseError(
                f"line {mark.line + 1}: a second YAML document starts here; a CloudFormation "
                "template is a single document (split it into one file per template)"
            )
        detail = exc.problem or "syntax error"
        if exc.context:
            detail = f"{detail} ({exc.context})"
        where = f"line {mark.line + 1}, column {mark.column + 1}"
        return ParseError(f"invalid {kind} at {where}: {detail}")
    return ParseError(f"invalid {kind}: {exc}")


def _load_yaml(text: str) -> Any:
    loader = _YamlLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _load(text: str) -> Any:
    if text.startswith("\ufeff"):
        text = text[1:]
    if text.lstrip().startswith(("{", "[")):
        try:
            # JSON may indent with tabs (invalid YAML); JSON strings cannot hold raw tabs.
            return _load_yaml(text.replace("\t", " "))
        except _Refused as exc:
            raise ParseError(str(exc)) from exc
        except yaml.YAMLError:
            pass
        try:
            data = json.loads(text, object_pairs_hook=LineDict)
        except json.JSONDecodeError as exc:
            raise ParseError(
                f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from exc
        except RecursionError as exc:
            raise ParseError(f"the document is nested more than {MAX_DEPTH} levels deep") from exc
        _check_depth(data)
        return data
    try:
        return _load_yaml(text)
    except _Refused as exc:
        raise ParseError(str(exc)) from exc
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, text, "YAML") from exc


def _check_depth(data: Any) -> None:
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ParseError(f"the document is nested more than {MAX_DEPTH} levels deep")
        if isinstance(value, dict):
            stack.extend((child, depth + 1) for child in value.values())
        elif isinstance(value, list):
            stack.extend((child, depth + 1) for child in value)


# -- model -----------------------------------------------------------------------------------


def _section(data: dict, name: str) -> dict:
    value = data.get(name)
    return value if isinstance(value, dict) else {}


def _build(data: Any) -> Template:
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise ParseError(
            f"the document is {kind}, not a mapping: this is not a CloudFormation template"
        )
    resources = data.get("Resources")
    if resources is None:
        raise ParseError("no Resources section: this is not a CloudFormation template")
    if not isinstance(resources, dict):
        raise ParseError(
            f"the Resources section is a {type(resources).__name__}, not a mapping of logical "
            "ids to resources (a template processed by a macro must be expanded first)"
        )
    lines = getattr(resources, "lines", {})
    built: dict[str, Resource] = {}
    for logical_id, body in resources.items():
        line = lines.get(logical_id)
        where = f"line {line}: " if line else ""
        if not isinstance(body, dict):
            raise ParseError(f"{where}resource {logical_id!r} is not a mapping")
        rtype = body.get("Type")
        if not isinstance(rtype, str) or not rtype:
            raise ParseError(f"{where}resource {logical_id!r} has no Type")
        props = body.get("Properties")
        if not isinstance(props, dict):
            props = LineDict()
        elif not isinstance(props, LineDict):
            props = LineDict(props)
        metadata = body.get("Metadata")
        condition = body.get("Condition")
        built[str(logical_id)] = Resource(
            logical_id=str(logical_id),
            type=rtype,
            properties=props,
            line=line,
            metadata=metadata if isinstance(metadata, dict) else {},
            condition=condition if isinstance(condition, str) else None,
            raw=body,
        )
    transform = data.get("Transform")
    if isinstance(transform, str):
        transforms = [transform]
    elif isinstance(transform, list):
        transforms = [t for t in transform if isinstance(t, str)]
    else:
        transforms = []
    version = data.get("AWSTemplateFormatVersion")
    description = data.get("Description")
    return Template(
        resources=built,
        parameters=_section(data, "Parameters"),
        conditions=_section(data, "Conditions"),
        mappings=_section(data, "Mappings"),
        outputs=_section(data, "Outputs"),
        transform=transforms,
        format_version=str(version) if version is not None else None,
        description=description if isinstance(description, str) else None,
        raw=data,
    )


# -- resolution ------------------------------------------------------------------------------

_SUB_VARIABLE = re.compile(r"\$\{(!?)([^}]*)\}")
_Options = list[tuple[Any, When]]


class _Overflow(Exception):
    """Too many possibilities, or too much work: the value is UNRESOLVED."""


def _when(assume: Mapping[str, bool] | None) -> When:
    return frozenset(assume.items()) if assume else _ALWAYS


def _distinct(items: Iterable[Any], key: Callable[[Any], Any]) -> list[Any]:
    """`items` without repeats of `key(item)` (`True` and `1`, `"1"` and `1` stay apart)."""
    seen: set[Any] = set()
    unhashable: list[Any] = []
    out = []
    for item in items:
        marker = key(item)
        try:
            if marker in seen:
                continue
            seen.add(marker)
        except TypeError:  # lists and dicts: compare one by one (rare, and few)
            if marker in unhashable:
                continue
            unhashable.append(marker)
        out.append(item)
    return out


def _typed(value: Any) -> Any:
    return (type(value), value)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float))  # bool is an int


def _text(value: Any) -> str:
    """A scalar as CloudFormation turns it into a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _comparable(value: Any) -> Any:
    if _is_scalar(value):
        return _text(value)
    if isinstance(value, list):
        return tuple(_comparable(item) for item in value)
    return value


def _as_index(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class _Resolver:
    """Evaluates intrinsics and conditions of one template (see `Template.possible_values`).

    Every evaluation returns options: (value, assumptions) pairs. Sub-expressions are evaluated
    once each and their options combined, dropping contradictory assumptions; any list of more
    than `MAX_COMBINATIONS` options, or more than `MAX_RESOLVE_STEPS` steps, raises `_Overflow`.
    """

    def __init__(self, tpl: Template) -> None:
        self.parameters = tpl.parameters
        self.supplied = tpl.supplied_parameters
        self.mappings = tpl.mappings
        self.conditions = tpl.conditions
        self.decided: dict[str, bool | None] = {}  # conditions without assumptions
        self.memo: dict[tuple[str, When], bool | None] = {}
        self.steps = 0
        self.handlers: dict[str, Callable[[Any, When, int], _Options]] = {
            "Ref": self._ref,
            "Condition": self._condition_value,
            "Fn::If": self._if,
            "Fn::Sub": self._sub,
            "Fn::Join": self._join,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
            "Fn::FindInMap": self._find_in_map,
            "Fn::Base64": self._base64,
            "Fn::Length": self._length,
        }

    # entry points

    def resolve(self, value: Any, assume: When) -> list[Possible]:
        self.steps, self.memo = 0, {}
        try:
            options = self._eval(value, assume, 0)
        except _Overflow:
            return [Possible(UNRESOLVED)]
        if len(options) == 1:
            item, when = options[0]
            return [Possible(item, when - assume if assume else when)]
        results = (Possible(item, when - assume if assume else when) for item, when in options)
        return _distinct(results, lambda p: (type(p.value), p.value, p.when))

    def condition_value(self, name: str, assume: When) -> bool | None:
        self.steps, self.memo = 0, {}
        try:
            return self._condition(name, assume, frozenset())
        except _Overflow:
            return None

    # values

    def _eval(self, value: Any, when: When, depth: int) -> _Options:
        self.steps += 1
        if self.steps > MAX_RESOLVE_STEPS:
            raise _Overflow
        if not isinstance(value, dict) or len(value) != 1:
            return [(value, when)]
        ((key, arg),) = value.items()
        handler = self.handlers.get(key) if isinstance(key, str) else None
        if handler is None:
            return [(UNRESOLVED if is_intrinsic(value) else value, when)]
        if depth > MAX_RESOLVE_DEPTH:
            return [(UNRESOLVED, when)]
        options = handler(arg, when, depth + 1)
        if len(options) > MAX_COMBINATIONS and key != "Ref":  # a Ref lists AllowedValues
            raise _Overflow
        return options

    def _product(self, items: list[Any], when: When, depth: int) -> list[tuple[list[Any], When]]:
        """Every combination of the items' options whose assumptions agree."""
        combos: list[tuple[list[Any], When]] = [([], when)]
        for item in items:
            options = self._eval(item, when, depth)
            if len(options) == 1 and options[0][1] is when:
                value = options[0][0]
                combos = [([*acc, value], w) for acc, w in combos]
                continue
            merged = []
            for acc, w in combos:
                for value, w2 in options:
                    both = self._merge(w, w2)
                    if both is not None:
                        merged.append(([*acc, value], both))
            if len(merged) > MAX_COMBINATIONS:
                raise _Overflow
            combos = merged
        return combos

    def _list(self, value: Any, when: When, depth: int) -> _Options:
        """Options for a list argument: a literal list (NoValue items dropped) or an intrinsic."""
        if isinstance(value, list):
            return [
                ([v for v in items if v is not NO_VALUE], w)
                for items, w in self._product(value, when, depth)
            ]
        return [
            (items if isinstance(items, list) else UNRESOLVED, w)
            for items, w in self._eval(value, when, depth)
        ]

    def _ref(self, name: Any, when: When, depth: int) -> _Options:
        if not isinstance(name, str):
            return [(UNRESOLVED, when)]
        if name == "AWS::NoValue":
            return [(NO_VALUE, when)]
        declared = self.parameters.get(name)
        if not isinstance(declared, dict):
            if name in PSEUDO_PARAMETERS:
                value = self.supplied.get(name, PSEUDO_PARAMETER_VALUES.get(name, UNRESOLVED))
                return [(value, when)]
            return [(UNRESOLVED, when)]  # a resource (physical id) or an unknown name
        kind = str(declared.get("Type", ""))
        if kind.startswith("AWS::SSM::Parameter::Value"):
            return [(UNRESOLVED, when)]  # the value is read from SSM at deploy time
        allowed = declared.get("AllowedValues")
        if name in self.supplied:
            values = [self.supplied[name]]
        elif isinstance(allowed, list) and allowed:  # the deployer may pick any of them
            default = declared.get("Default", _MISSING)
            values = [default] if default is not _MISSING else []
            values += [
                v for v in allowed if default is _MISSING or _comparable(v) != _comparable(default)
            ]
        elif "Default" in declared:
            values = [declared["Default"]]
        else:
            values = [UNRESOLVED]
        if kind == "CommaDelimitedList" or kind.startswith("List<"):
            values = [
                [p.strip() for p in v.split(",")] if isinstance(v, str) else v for v in values
            ]
        return [(v, when) for v in values]

    def _if(self, arg: Any, when: When, depth: int) -> _Options:
        if not (isinstance(arg, list) and len(arg) == 3 and isinstance(arg[0], str)):
            return [(UNRESOLVED, when)]
        name = arg[0]
        decided = self._condition(name, when, frozenset())
        if decided is not None:
            return self._eval(arg[1] if decided else arg[2], when, depth)
        options: _Options = []
        for flag, branch in ((True, arg[1]), (False, arg[2])):
            assumed = self._assume(when, name, flag)
            if assumed is not None:
                options.extend(self._eval(branch, assumed, depth))
        return options or [(UNRESOLVED, when)]

    def _condition_value(self, name: Any, when: When, depth: int) -> _Options:
        decided = self._condition(name, when, frozenset()) if isinstance(name, str) else None
        if decided is not None:
            return [(decided, when)]
        if not isinstance(name, str) or name not in self.conditions:
            return [(UNRESOLVED, when)]
        options: _Options = []
        for flag in (True, False):
            assumed = self._assume(when, name, flag)
            if assumed is not None:
                options.append((flag, assumed))
        return options or [(UNRESOLVED, when)]

    def _sub(self, arg: Any, when: When, depth: int) -> _Options:
        if isinstance(arg, str):
            text, variables = arg, {}
        elif (
            isinstance(arg, list)
            and len(arg) == 2
            and isinstance(arg[0], str)
            and isinstance(arg[1], dict)
        ):
            text, variables = arg[0], arg[1]
        else:
            return [(UNRESOLVED, when)]
        names: list[str] = []
        for match in _SUB_VARIABLE.finditer(text):
            if not match.group(1) and match.group(2) not in names:
                names.append(match.group(2))
        if not names:
            return [(_SUB_VARIABLE.sub(lambda m: "${" + m.group(2) + "}", text), when)]
        exprs = [
            variables[name]
            if name in variables
            else {"Fn::GetAtt": name.split(".", 1)}
            if "." in name
            else {"Ref": name}
            for name in names
        ]
        options: _Options = []
        for values, w in self._product(exprs, when, depth):
            if not all(_is_scalar(v) for v in values):
                options.append((UNRESOLVED, w))
                continue
            lookup = dict(zip(names, map(_text, values), strict=True))
            options.append(
                (
                    _SUB_VARIABLE.sub(
                        lambda m, lookup=lookup: (
                            "${" + m.group(2) + "}" if m.group(1) else lookup[m.group(2)]
                        ),
                        text,
                    ),
                    w,
                )
            )
        return options

    def _join(self, arg: Any, when: When, depth: int) -> _Options:
        if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str)):
            return [(UNRESOLVED, when)]
        delimiter = arg[0]
        return [
            (
                delimiter.join(map(_text, items))
                if isinstance(items, list) and all(_is_scalar(v) for v in items)
                else UNRESOLVED,
                w,
            )
            for items, w in self._list(arg[1], when, depth)
        ]

    def _select(self, arg: Any, when: When, depth: int) -> _Options:
        if not (isinstance(arg, list) and len(arg) == 2):
            return [(UNRESOLVED, when)]
        options: _Options = []
        for index, w in self._eval(arg[0], when, depth):
            at = _as_index(index)
            source = arg[1]
            if at is None or at < 0:
                options.append((UNRESOLVED, w))
            elif isinstance(source, list):  # only the selected item is resolved
                options.extend(
                    self._eval(source[at], w, depth) if at < len(source) else [(UNRESOLVED, w)]
                )
            else:
                options.extend(
                    (items[at] if isinstance(items, list) and at < len(items) else UNRESOLVED, w2)
                    for items, w2 in self._eval(source, w, depth)
                )
        return options

    def _split(self, arg: Any, when: When, depth: int) -> _Options:
        if not (isinstance(arg, list) and len(arg) == 2):
            return [(UNRESOLVED, when)]
        return [
            (
                source.split(delimiter)
                if isinstance(delimiter, str) and delimiter and isinstance(source, str)
                else UNRESOLVED,
                w,
            )
            for (delimiter, source), w in self._product(arg, when, depth)
        ]

    def _find_in_map(self, arg: Any, when: When, depth: int) -> _Options:
        if not (isinstance(arg, list) and len(arg) in (3, 4)):
            return [(UNRESOLVED, when)]
        default: Any = _MISSING
        if len(arg) == 4:  # AWS::LanguageExtensions: [map, key, key, {DefaultValue: ...}]
            if not (isinstance(arg[3], dict) and "DefaultValue" in arg[3]):
                return [(UNRESOLVED, when)]
            default = arg[3]["DefaultValue"]
        options: _Options = []
        for keys, w in self._product(arg[:3], when, depth):
            found: Any = self.mappings
            for key in keys:
                found = _lookup(found, key)
            if found is not _MISSING:
                options.append((found, w))
            elif default is not _MISSING:
                options.extend(self._eval(default, w, depth))
            else:
                options.append((UNRESOLVED, w))
        return options

    def _base64(self, arg: Any, when: When, depth: int) -> _Options:
        return [
            (base64.b64encode(v.encode()).decode() if isinstance(v, str) else UNRESOLVED, w)
            for v, w in self._eval(arg, when, depth)
        ]

    def _length(self, arg: Any, when: When, depth: int) -> _Options:
        return [
            (len(items) if isinstance(items, list) else UNRESOLVED, w)
            for items, w in self._list(arg, when, depth)
        ]

    # conditions

    def _condition(self, name: str, when: When, stack: frozenset[str]) -> bool | None:
        if (name, True) in when:
            return True
        if (name, False) in when:
            return False
        if name in stack or name not in self.conditions:
            return None  # unknown or circular
        if name not in self.decided:
            saved, memo = self.steps, self.memo
            self.steps, self.memo = 0, {}
            try:
                self.decided[name] = self._expression(
                    self.conditions[name], _ALWAYS, stack | {name}
                )
            except _Overflow:
                self.decided[name] = None
            finally:
                self.steps, self.memo = saved, memo
        decided = self.decided[name]
        if decided is not None or not when:
            return decided
        key = (name, when)
        if key not in self.memo:
            self.memo[key] = self._expression(self.conditions[name], when, stack | {name})
        return self.memo[key]

    def _expression(self, expr: Any, when: When, stack: frozenset[str]) -> bool | None:
        self.steps += 1
        if self.steps > MAX_RESOLVE_STEPS:
            raise _Overflow
        if isinstance(expr, bool):
            return expr
        if not isinstance(expr, dict) or len(expr) != 1:
            return None
        ((key, arg),) = expr.items()
        if key == "Condition":
            return self._condition(arg, when, stack) if isinstance(arg, str) else None
        if key == "Fn::Equals":
            return self._equals(arg, when)
        if not isinstance(arg, list) or not arg:
            return None
        if key == "Fn::Not":
            value = self._expression(arg[0], when, stack) if len(arg) == 1 else None
            return None if value is None else not value
        if key in ("Fn::And", "Fn::Or"):
            decisive = key == "Fn::Or"  # the value that settles the whole expression
            values = [self._expression(item, when, stack) for item in arg]
            if decisive in values:
                return decisive
            return None if None in values else not decisive
        return None

    def _equals(self, arg: Any, when: When) -> bool | None:
        if not (isinstance(arg, list) and len(arg) == 2):
            return None
        try:
            pairs = self._product(arg, when, 0)
        except _Overflow:
            if self.steps > MAX_RESOLVE_STEPS:
                raise
            return None
        results = set()
        for (left, right), _ in pairs:
            if any(v is UNRESOLVED or v is NO_VALUE for v in (left, right)):
                return None
            results.add(_comparable(left) == _comparable(right))
        return results.pop() if len(results) == 1 else None

    def _assume(self, when: When, name: str, flag: bool) -> When | None:
        """`when` plus `name = flag`, or None when that contradicts what `when` implies."""
        assumed = when | {(name, flag)}
        return assumed if self._consistent(assumed) else None

    def _merge(self, left: When, right: When) -> When | None:
        if right <= left:
            return left
        if left <= right:
            return right
        both = left | right
        if any((name, not flag) in both for name, flag in both):
            return None
        return both if self._consistent(both) else None

    def _consistent(self, when: When) -> bool:
        """No assumed condition's definition evaluates, under `when`, to the opposite value."""
        for name, flag in when:
            definition = self.conditions.get(name)
            value = self._expression(definition, when - {(name, flag)}, frozenset({name}))
            if value is not None and value != flag:
                return False
        return True


class _Missing:
    pass


_MISSING: Any = _Missing()


def _lookup(mapping: Any, key: Any) -> Any:
    """`mapping[key]`, matching keys as text (YAML reads `123456789012:` as a number)."""
    if not isinstance(mapping, dict) or not _is_scalar(key):
        return _MISSING
    if key in mapping and not isinstance(key, bool):
        return mapping[key]
    text = _text(key)
    for candidate, value in mapping.items():
        if _is_scalar(candidate) and _text(candidate) == text:
            return value
    return _MISSING


# -- SAM ---------------------------------------------------------------------------------------


def _copy(source: Mapping[Any, Any], keys: Iterator[Any] | list[Any] | None = None) -> LineDict:
    """A LineDict with `keys` (all by default) of `source`, keeping their lines."""
    lines = getattr(source, "lines", {})
    out = LineDict()
    for key in source if keys is None else keys:
        if key in source:
            out[key] = source[key]
            if key in lines:
                out.lines[key] = lines[key]
    return out


def _put(out: LineDict, key: str, value: Any, source: Mapping[Any, Any], from_key: Any) -> None:
    """Set `out[key]`, on the line of `source[from_key]` when known."""
    out[key] = value
    line = getattr(source, "lines", {}).get(from_key)
    if line is not None:
        out.lines[key] = line


def _nested(source: Mapping[Any, Any], from_key: Any, **values: Any) -> LineDict:
    """A small mapping derived from `source[from_key]`, each key on that key's line."""
    out = LineDict(values)
    line = getattr(source, "lines", {}).get(from_key)
    if line is not None:
        out.lines.update(dict.fromkeys(values, line))
    return out


def _sam_merge(base: Any, override: Any) -> Any:
    """SAM `Globals` semantics: maps merge (the resource wins), lists add up, scalars override."""
    if (
        isinstance(base, dict)
        and isinstance(override, dict)
        and not is_intrinsic(base)
        and not is_intrinsic(override)
    ):
        out = _copy(base)
        lines = getattr(override, "lines", {})
        for key, value in override.items():
            out[key] = _sam_merge(base[key], value) if key in base else value
            if key in lines:
                out.lines[key] = lines[key]
        return out
    if isinstance(base, list) and isinstance(override, list):
        return base + override
    return override


def _tag_list(tags: Any) -> Any:
    """SAM tags are a map; CloudFormation's are a list of {Key, Value}."""
    if not isinstance(tags, dict) or is_intrinsic(tags):
        return tags
    lines = getattr(tags, "lines", {})
    out = []
    for key, value in tags.items():
        item = LineDict(Key=key, Value=value)
        if key in lines:
            item.lines.update(Key=lines[key], Value=lines[key])
        out.append(item)
    return out


def _rename(props: LineDict, out: LineDict, renames: Mapping[str, str]) -> None:
    for old, new in renames.items():
        if old in props:
            out.pop(old, None)
            _put(out, new, props[old], props, old)


def _function_view(res: Resource, props: LineDict) -> LineDict:
    """`AWS::Serverless::Function` → `AWS::Lambda::Function` (SAM-only keys such as Policies,
    Events, FunctionUrlConfig are kept as they are)."""
    out = _copy(props)
    for key in ("InlineCode", "CodeUri", "ImageUri", "Tracing", "DeadLetterQueue"):
        out.pop(key, None)
    if "InlineCode" in props:
        _put(
            out,
            "Code",
            _nested(props, "InlineCode", ZipFile=props["InlineCode"]),
            props,
            "InlineCode",
        )
    elif "ImageUri" in props:
        _put(out, "Code", _nested(props, "ImageUri", ImageUri=props["ImageUri"]), props, "ImageUri")
    elif "CodeUri" in props:
        uri = props["CodeUri"]
        if isinstance(uri, str) and uri.startswith("s3://"):
            bucket, _, key = uri[5:].partition("/")
            _put(
                out, "Code", _nested(props, "CodeUri", S3Bucket=bucket, S3Key=key), props, "CodeUri"
            )
        elif isinstance(uri, dict) and not is_intrinsic(uri):
            code = _copy(uri, ["Bucket", "Key", "Version"])
            _rename(uri, code, {"Bucket": "S3Bucket", "Key": "S3Key", "Version": "S3ObjectVersion"})
            _put(out, "Code", code, props, "CodeUri")
    if "Tracing" in props:
        _put(
            out, "TracingConfig", _nested(props, "Tracing", Mode=props["Tracing"]), props, "Tracing"
        )
    dlq = props.get("DeadLetterQueue")
    if isinstance(dlq, dict) and "TargetArn" in dlq:
        config = _copy(dlq, ["TargetArn"])
        _put(out, "DeadLetterConfig", config, props, "DeadLetterQueue")
    if "Tags" in props:
        _put(out, "Tags", _tag_list(props["Tags"]), props, "Tags")
    if "Role" not in props:  # SAM creates `<Id>Role` from Policies
        out["Role"] = {"Fn::GetAtt": [f"{res.logical_id}Role", "Arn"]}
    return out


def _rest_stage_view(res: Resource, props: LineDict) -> LineDict:
    """`AWS::Serverless::Api` → its `AWS::ApiGateway::Stage`."""
    keys = [
        "StageName",
        "TracingEnabled",
        "MethodSettings",
        "AccessLogSetting",
        "CacheClusterEnabled",
        "CacheClusterSize",
        "CanarySetting",
        "Variables",
    ]
    out = _copy(props, keys)
    out["RestApiId"] = {"Ref": res.logical_id}
    if "Tags" in props:
        _put(out, "Tags", _tag_list(props["Tags"]), props, "Tags")
    return out


def _endpoint_configuration(value: Any) -> Any:
    if isinstance(value, str):
        return {"Types": [value]}
    if isinstance(value, dict) and not is_intrinsic(value):
        out = _copy(value, [])
        if "Type" in value:
            _put(out, "Types", [value["Type"]], value, "Type")
        if "VPCEndpointIds" in value:
            _put(out, "VpcEndpointIds", value["VPCEndpointIds"], value, "VPCEndpointIds")
        return out
    return value


def _rest_api_view(res: Resource, props: LineDict) -> LineDict:
    """`AWS::Serverless::Api` → its `AWS::ApiGateway::RestApi` (Auth, Cors, Domain kept)."""
    keys = [
        "Name",
        "Description",
        "BinaryMediaTypes",
        "MinimumCompressionSize",
        "DisableExecuteApiEndpoint",
        "ApiKeySourceType",
        "Mode",
        "FailOnWarnings",
        "Auth",
        "Cors",
        "Domain",
    ]
    out = _copy(props, keys)
    _rename(props, out, {"DefinitionBody": "Body", "DefinitionUri": "BodyS3Location"})
    if "EndpointConfiguration" in props:
        value = _endpoint_configuration(props["EndpointConfiguration"])
        _put(out, "EndpointConfiguration", value, props, "EndpointConfiguration")
    if "Tags" in props:
        _put(out, "Tags", _tag_list(props["Tags"]), props, "Tags")
    return out


def _http_stage_view(res: Resource, props: LineDict) -> LineDict:
    """`AWS::Serverless::HttpApi` → its `AWS::ApiGatewayV2::Stage`."""
    keys = ["StageName", "AccessLogSettings", "DefaultRouteSettings", "RouteSettings"]
    out = _copy(props, [*keys, "StageVariables"])
    out.setdefault("StageName", "$default")
    out["ApiId"] = {"Ref": res.logical_id}
    out["AutoDeploy"] = True
    if "Tags" in props:
        _put(out, "Tags", props["Tags"], props, "Tags")
    return out


def _http_api_view(res: Resource, props: LineDict) -> LineDict:
    """`AWS::Serverless::HttpApi` → its `AWS::ApiGatewayV2::Api` (Auth, Domain kept)."""
    keys = [
        "Name",
        "Description",
        "CorsConfiguration",
        "DisableExecuteApiEndpoint",
        "FailOnWarnings",
        "Tags",
        "Auth",
        "Domain",
    ]
    out = _copy(props, keys)
    _rename(props, out, {"DefinitionBody": "Body", "DefinitionUri": "BodyS3Location"})
    out["ProtocolType"] = "HTTP"
    return out


_ATTRIBUTE_TYPES = {"String": "S", "Number": "N", "Binary": "B"}


def _table_view(res: Resource, props: LineDict) -> LineDict:
    """`AWS::Serverless::SimpleTable` → `AWS::DynamoDB::Table`."""
    out = _copy(props)
    out.pop("PrimaryKey", None)
    key = props.get("PrimaryKey")
    if isinstance(key, dict) and not is_intrinsic(key):
        name, kind = key.get("Name", "id"), key.get("Type", "String")
    else:
        name, kind = "id", "String"
    kind = _ATTRIBUTE_TYPES.get(kind, kind) if isinstance(kind, str) else kind
    line_key = "PrimaryKey" if "PrimaryKey" in props else None
    _put(
        out,
        "KeySchema",
        [_nested(props, line_key, AttributeName=name, KeyType="HASH")],
        props,
        line_key,
    )
    definition = _nested(props, line_key, AttributeName=name, AttributeType=kind)
    _put(out, "AttributeDefinitions", [definition], props, line_key)
    if "ProvisionedThroughput" not in props:
        out["BillingMode"] = "PAY_PER_REQUEST"
    if "Tags" in props:
        _put(out, "Tags", _tag_list(props["Tags"]), props, "Tags")
    return out


SAM_VIEWS: Mapping[str, tuple[str, Callable[[Resource, LineDict], LineDict]]] = {
    "AWS::Lambda::Function": ("AWS::Serverless::Function", _function_view),
    "AWS::ApiGateway::RestApi": ("AWS::Serverless::Api", _rest_api_view),
    "AWS::ApiGateway::Stage": ("AWS::Serverless::Api", _rest_stage_view),
    "AWS::ApiGatewayV2::Api": ("AWS::Serverless::HttpApi", _http_api_view),
    "AWS::ApiGatewayV2::Stage": ("AWS::Serverless::HttpApi", _http_stage_view),
    "AWS::DynamoDB::Table": ("AWS::Serverless::SimpleTable", _table_view),
}
"""CloudFormation type → (the SAM type seen as it, property mapping). `Globals` apply first."""
_SAM_TARGETS: dict[str, tuple[str, ...]] = {}
for _target, (_sam_type, _) in SAM_VIEWS.items():
    _SAM_TARGETS[_sam_type] = (*_SAM_TARGETS.get(_sam_type, ()), _target)
_SAM_GLOBALS = {
    "AWS::Serverless::Function": "Function",
    "AWS::Serverless::Api": "Api",
    "AWS::Serverless::HttpApi": "HttpApi",
    "AWS::Serverless::SimpleTable": "SimpleTable",
}
