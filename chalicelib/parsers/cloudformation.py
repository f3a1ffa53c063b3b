"""CloudFormation templates (YAML or JSON) with 1-based line numbers for resources and keys.

YAML short-form intrinsics (`!Ref`, `!Sub`, `!GetAtt a.b`, ...) become their long form
(`{"Ref": ...}`, `{"Fn::Sub": ...}`, `{"Fn::GetAtt": ["a", "b"]}`). Every mapping is a `LineDict`:
a dict whose `lines` maps each key to the line it is written on. Hostile YAML (alias bombs,
recursive aliases, deep nesting) is refused with a `ParseError`.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from chalicelib.parsers import ParseError

__all__ = [
    "NO_VALUE",
    "UNRESOLVED",
    "LineDict",
    "Resource",
    "Template",
    "is_intrinsic",
    "parse",
]

MAX_ALIASES = 100
MAX_DEPTH = 64
MAX_EXPANDED_NODES = 200_000
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


class _Marker:
    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


UNRESOLVED: Any = _Marker("UNRESOLVED")
"""A value computed by CloudFormation at deploy time that cannot be known from the template."""
NO_VALUE: Any = _Marker("NO_VALUE")
"""`{"Ref": "AWS::NoValue"}`: the property is removed."""


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
    """One entry of `Resources`; `line` is the line of its logical id."""

    logical_id: str
    type: str
    properties: LineDict
    line: int | None
    metadata: dict[str, Any] = field(default_factory=dict)
    condition: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

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

    def prop_line(self, *path: Any) -> int | None:
        """The line of the deepest key of `path` that exists (the resource's line if none)."""
        line = self.line
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
    """A parsed template; `resources` keyed by logical id, in document order."""

    resources: dict[str, Resource]
    parameters: dict[str, Any] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)
    mappings: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    transform: list[str] = field(default_factory=list)
    format_version: str | None = None
    description: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    def of_type(self, *types: str) -> Iterator[Resource]:
        """The resources whose Type is one of `types`."""
        return (res for res in self.resources.values() if res.type in types)

    def possible_values(self, value: Any, _depth: int = 0) -> list[Any]:
        """The values `value` may take at deploy time, as far as the template alone tells.

        Literals are themselves; a `Ref` to a parameter gives its Default (or its AllowedValues
        when there is no Default); `Fn::If` gives both branches; `Ref: AWS::NoValue` gives
        `NO_VALUE`; anything else (other intrinsics, pseudo parameters) gives `UNRESOLVED`.
        """
        if _depth > 16:
            return [UNRESOLVED]
        if not is_intrinsic(value):
            return [value]
        ((key, arg),) = value.items()
        if key == "Ref":
            if arg == "AWS::NoValue":
                return [NO_VALUE]
            param = self.parameters.get(arg) if isinstance(arg, str) else None
            if isinstance(param, dict):
                if "Default" in param:
                    return [param["Default"]]
                allowed = param.get("AllowedValues")
                if isinstance(allowed, list) and allowed:
                    return list(allowed)
            return [UNRESOLVED]
        if key == "Fn::If" and isinstance(arg, list) and len(arg) == 3:
            return self.possible_values(arg[1], _depth + 1) + self.possible_values(
                arg[2], _depth + 1
            )
        return [UNRESOLVED]


def parse(text: str) -> Template:
    """Parse a template; anything unreadable raises `ParseError` (never another error)."""
    try:
        return _build(_load(text))
    except ParseError:
        raise
    except RecursionError as exc:
        raise ParseError("the template is nested too deeply to read") from exc
    except Exception as exc:  # defensive: a parser must only ever raise ParseError
        raise ParseError(f"the template could not be read: {exc}") from exc


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
