"""SARIF 2.1.0 logs written by other scanners (Trivy, Grype, Semgrep, CodeQL, checkov, ...).

The objects this project reads are validated by pydantic models that follow the OASIS 2.1.0
schema: types, enumerations, minimums, required properties, no `null`, and no property that
the schema does not define on that object. The rest of the log (code flows, graphs, fixes,
...) is not inspected. A log that fails says where: `runs[0].results[3].level: ...`.

References are resolved here, so that rules and the importer see plain values:
- a result's rule: `rule.index` or `ruleIndex` into the rules of the driver, or of the
  extension that `rule.toolComponent` names (CodeQL keeps its queries there), else the rule
  whose id is the result's `ruleId` (or its first `/` segment, for hierarchical ids);
- its message: `message.text`, else `message.id` in the rule's `messageStrings` or the
  component's `globalMessageStrings`, with `{0}`-style placeholders filled from `arguments`;
- its file: the first location's `artifactLocation` (or the `run.artifacts` entry its `index`
  names), `uri` joined to the relative bases its `uriBaseId` chain declares in
  `originalUriBaseIds`. An absolute base (a checkout folder on the scanning machine) is left
  out, so the file reads as the repository path; an absolute `uri` under such a base is made
  relative to it. Percent-escapes are decoded.

Limits (each a per-artifact parse error), so that a log is read in bounded time and memory:
`MAX_LOG_BYTES` of text, `MAX_RUNS` runs, `MAX_RESULTS` results, and `MAX_OBJECTS` entries
in the lists and maps that are validated (results, their locations, logical locations and
suppressions, tool components, rules and their message strings, artifacts, base ids,
invocations and their notifications). Whatever is not read (code flows, graphs, property
bags ...) costs only its JSON parse.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel

from chalicelib import jsonbody
from chalicelib.parsers import ParseError

__all__ = [
    "MAX_LOG_BYTES",
    "MAX_OBJECTS",
    "MAX_RESULTS",
    "MAX_RUNS",
    "SarifLog",
    "SarifResult",
    "SarifRun",
    "Suppression",
    "parse",
]

MAX_LOG_BYTES = 10 * 1024 * 1024
MAX_RESULTS = 5000
MAX_RUNS = 100
MAX_OBJECTS = 25_000
MAX_ERRORS_SHOWN = 5
_MAX_BASE_DEPTH = 16
_MAX_TEXT = 1000
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{(\d+)\}")


# --- the schema's subset, as pydantic models ---------------------------------------------------


def _integral(value: Any) -> Any:
    """JSON Schema counts 3.0 as an integer; pydantic's strict int does not."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Index = Annotated[int, BeforeValidator(_integral), Field(ge=-1)]
Line = Annotated[int, BeforeValidator(_integral), Field(ge=1)]
Level = Literal["none", "note", "warning", "error"]
PropertyBag = dict[str, Any]


class _Object(BaseModel):
    """A SARIF object: only the properties the 2.1.0 schema defines for it, none of them null."""

    model_config = ConfigDict(strict=True, extra="ignore", alias_generator=to_camel, frozen=True)
    sarif_name: ClassVar[str] = "object"
    sarif_properties: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _schema_properties(cls, data: Any) -> Any:
        if isinstance(data, dict):
            if not data.keys() <= cls.sarif_properties:
                key = next(k for k in data if k not in cls.sarif_properties)
                raise ValueError(
                    f"{str(key)[:60]!r} is not a property of a SARIF {cls.sarif_name} "
                    "(the 2.1.0 schema allows no others)"
                )
            if None in data.values():
                key = next(k for k, v in data.items() if v is None)
                raise ValueError(
                    f"{key!r} is null: SARIF 2.1.0 allows no null values (leave it out)"
                )
        return data


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


class MultiformatMessageString(_Object):
    sarif_name = "multiformatMessageString"
    sarif_properties = _names("text markdown properties")
    text: str
    markdown: str | None = None


class Message(_Object):
    sarif_name = "message"
    sarif_properties = _names("text markdown id arguments properties")
    text: str | None = None
    markdown: str | None = None
    id: str | None = None
    arguments: list[str] = []


class ToolComponentReference(_Object):
    sarif_name = "toolComponentReference"
    sarif_properties = _names("name index guid properties")
    name: str | None = None
    index: Index = -1
    guid: str | None = None


class ReportingDescriptorReference(_Object):
    sarif_name = "reportingDescriptorReference"
    sarif_properties = _names("id index guid toolComponent properties")
    id: str | None = None
    index: Index = -1
    tool_component: ToolComponentReference | None = None


class ReportingConfiguration(_Object):
    sarif_name = "reportingConfiguration"
    sarif_properties = _names("enabled level rank parameters properties")
    level: Level | None = None


class ReportingDescriptor(_Object):
    sarif_name = "reportingDescriptor"
    sarif_properties = _names(
        "id deprecatedIds guid deprecatedGuids name deprecatedNames shortDescription "
        "fullDescription messageStrings defaultConfiguration helpUri help relationships "
        "properties"
    )
    id: str
    name: str | None = None
    short_description: MultiformatMessageString | None = None
    full_description: MultiformatMessageString | None = None
    message_strings: dict[str, MultiformatMessageString] = {}
    default_configuration: ReportingConfiguration | None = None
    properties: PropertyBag = {}


class ToolComponent(_Object):
    sarif_name = "toolComponent"
    sarif_properties = _names(
        "guid name organization product productSuite shortDescription fullDescription "
        "fullName version semanticVersion dottedQuadFileVersion releaseDateUtc downloadUri "
        "informationUri globalMessageStrings notifications rules taxa locations language "
        "contents isComprehensive localizedDataSemanticVersion "
        "minimumRequiredLocalizedDataSemanticVersion associatedComponent translationMetadata "
        "supportedTaxonomies properties"
    )
    name: str
    guid: str | None = None
    version: str | None = None
    semantic_version: str | None = None
    global_message_strings: dict[str, MultiformatMessageString] = {}
    rules: list[ReportingDescriptor] = []


class Tool(_Object):
    sarif_name = "tool"
    sarif_properties = _names("driver extensions properties")
    driver: ToolComponent
    extensions: list[ToolComponent] = []


class ArtifactLocation(_Object):
    sarif_name = "artifactLocation"
    sarif_properties = _names("uri uriBaseId index description properties")
    uri: str | None = None
    uri_base_id: str | None = None
    index: Index = -1


class ArtifactContent(_Object):
    sarif_name = "artifactContent"
    sarif_properties = _names("text binary rendered properties")
    text: str | None = None


class Region(_Object):
    sarif_name = "region"
    sarif_properties = _names(
        "startLine startColumn endLine endColumn charOffset charLength byteOffset byteLength "
        "snippet message sourceLanguage properties"
    )
    start_line: Line | None = None
    snippet: ArtifactContent | None = None


class PhysicalLocation(_Object):
    sarif_name = "physicalLocation"
    sarif_properties = _names("address artifactLocation region contextRegion properties")
    artifact_location: ArtifactLocation | None = None
    region: Region | None = None


class LogicalLocation(_Object):
    sarif_name = "logicalLocation"
    sarif_properties = _names(
        "name index fullyQualifiedName decoratedName parentIndex kind properties"
    )
    name: str | None = None
    fully_qualified_name: str | None = None


class Location(_Object):
    sarif_name = "location"
    sarif_properties = _names(
        "id physicalLocation logicalLocations message annotations relationships properties"
    )
    physical_location: PhysicalLocation | None = None
    logical_locations: list[LogicalLocation] = []


class SuppressionObject(_Object):
    sarif_name = "suppression"
    sarif_properties = _names("guid kind status justification location properties")
    kind: Literal["inSource", "external"]
    status: Literal["accepted", "underReview", "rejected"] | None = None
    justification: str | None = None


class Result(_Object):
    sarif_name = "result"
    sarif_properties = _names(
        "ruleId ruleIndex rule kind level message analysisTarget locations guid "
        "correlationGuid occurrenceCount partialFingerprints fingerprints stacks codeFlows "
        "graphs graphTraversals relatedLocations suppressions baselineState rank attachments "
        "hostedViewerUri workItemUris provenance fixes taxa webRequest webResponse properties"
    )
    rule_id: str | None = None
    rule_index: Index = -1
    rule: ReportingDescriptorReference | None = None
    kind: Literal["notApplicable", "pass", "fail", "review", "open", "informational"] = "fail"
    level: Level | None = None
    message: Message
    locations: list[Location] = []
    partial_fingerprints: dict[str, str] = {}
    fingerprints: dict[str, str] = {}
    suppressions: list[SuppressionObject] = []
    baseline_state: Literal["new", "unchanged", "updated", "absent"] | None = None
    properties: PropertyBag = {}


class Notification(_Object):
    sarif_name = "notification"
    sarif_properties = _names(
        "locations message level threadId timeUtc exception descriptor associatedRule properties"
    )
    level: Level = "warning"
    message: Message


class Invocation(_Object):
    sarif_name = "invocation"
    sarif_properties = _names(
        "commandLine arguments responseFiles startTimeUtc endTimeUtc exitCode "
        "ruleConfigurationOverrides notificationConfigurationOverrides "
        "toolExecutionNotifications toolConfigurationNotifications exitCodeDescription "
        "exitSignalName exitSignalNumber processStartFailureMessage executionSuccessful "
        "machine account processId executableLocation workingDirectory environmentVariables "
        "stdin stdout stderr stdoutStderr properties"
    )
    execution_successful: bool
    tool_execution_notifications: list[Notification] = []
    tool_configuration_notifications: list[Notification] = []


class Artifact(_Object):
    sarif_name = "artifact"
    sarif_properties = _names(
        "description location parentIndex offset length roles mimeType contents encoding "
        "sourceLanguage hashes lastModifiedTimeUtc properties"
    )
    location: ArtifactLocation | None = None


class Run(_Object):
    sarif_name = "run"
    sarif_properties = _names(
        "tool invocations conversion language versionControlProvenance originalUriBaseIds "
        "artifacts logicalLocations graphs results automationDetails runAggregates "
        "baselineGuid redactionTokens defaultEncoding defaultSourceLanguage newlineSequences "
        "columnKind externalPropertyFileReferences threadFlowLocations taxonomies addresses "
        "translations policies webRequests webResponses specialLocations properties"
    )
    tool: Tool
    invocations: list[Invocation] = []
    original_uri_base_ids: dict[str, ArtifactLocation] = {}
    artifacts: list[Artifact] = []
    results: list[Result] | None = None


class Log(_Object):
    sarif_name = "log"
    sarif_properties = _names("$schema version runs inlineExternalProperties properties")
    schema_uri: str | None = Field(default=None, alias="$schema")
    version: Literal["2.1.0"]
    runs: list[Run]


# --- what rules and the importer read --------------------------------------------------------


@dataclass(frozen=True)
class Suppression:
    """One entry of a result's `suppressions`."""

    kind: str  # inSource or external
    status: str  # accepted (also when the log leaves it out), underReview or rejected
    justification: str | None


@dataclass(frozen=True)
class SarifResult:
    """One result with its references resolved; `where` is its place in the log."""

    where: str
    tool: str
    rule_id: str | None
    title: str | None  # the rule's short description or name
    kind: str
    level: str  # the result's level, else its rule's default, else SARIF's default
    security_severity: Any  # the result's `security-severity` property, else its rule's
    message: str
    file: str | None
    line: int | None
    snippet: str | None
    logical_location: str | None
    fingerprints: Mapping[str, str]
    partial_fingerprints: Mapping[str, str]
    baseline_state: str | None
    suppressions: tuple[Suppression, ...]


@dataclass(frozen=True)
class SarifRun:
    """One run: the tool, its results (None when the log has no `results`: not computed),
    whether every invocation succeeded (None without invocations) and its error
    notifications."""

    index: int
    tool: str
    version: str | None
    results: list[SarifResult] | None
    execution_successful: bool | None
    errors: tuple[str, ...]


@dataclass(frozen=True)
class SarifLog:
    runs: list[SarifRun]

    @property
    def results(self) -> Iterator[SarifResult]:
        for run in self.runs:
            yield from run.results or ()


def parse(text: str) -> SarifLog:
    """Validate and read a SARIF 2.1.0 log; anything wrong raises `ParseError`."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if len(text) > MAX_LOG_BYTES or len(text.encode("utf-8")) > MAX_LOG_BYTES:
        raise ParseError(
            f"the log is larger than {MAX_LOG_BYTES} bytes, the most one artifact may hold: "
            "split it (one log per tool or per folder) or leave out passing results"
        )
    try:
        document = jsonbody.loads(text)
    except RecursionError as exc:
        raise ParseError("the log is nested too deeply to read") from exc
    except ValueError as exc:
        raise ParseError(f"the log is not valid JSON: {exc}") from exc
    _check_outline(document)
    try:
        log = Log.model_validate(document)
    except ValidationError as exc:
        raise ParseError(_describe(exc)) from exc
    except RecursionError as exc:
        raise ParseError("the log is nested too deeply to read") from exc
    return SarifLog(runs=[_run(i, run) for i, run in enumerate(log.runs)])


def _check_outline(document: Any) -> None:
    """The checks worth making before validating the log: it is a 2.1.0 log, and its runs,
    results and the other objects that are validated are few enough to read in bounded time
    (a hostile log of 200,000 empty runs fits in 10 MiB)."""
    if not isinstance(document, dict):
        raise ParseError("the log is not a SARIF log: a JSON object with version and runs")
    version = document.get("version")
    if "version" in document and version != "2.1.0":
        raise ParseError(
            f"version: the log is SARIF {str(version)[:20]!r}; only SARIF 2.1.0 is accepted"
        )
    runs = document.get("runs")
    if not isinstance(runs, list):
        return
    if len(runs) > MAX_RUNS:
        raise ParseError(
            f"the log holds {len(runs)} runs; at most {MAX_RUNS} are read from one artifact: "
            "split it into one log per tool"
        )
    results = sum(len(_list(run, "results")) for run in runs)
    if results > MAX_RESULTS:
        raise ParseError(
            f"the log holds {results} results; at most {MAX_RESULTS} are read from one "
            "artifact: split it, or have the scanner leave out what it does not report"
        )
    objects = sum(_objects_of_run(run) for run in runs if isinstance(run, dict))
    if objects > MAX_OBJECTS:
        raise ParseError(
            f"the log lists {objects} results, locations, rules, artifacts, notifications and "
            f"messages; at most {MAX_OBJECTS} are read from one artifact: split it"
        )


def _list(node: Any, key: str) -> list[Any]:
    value = node.get(key) if isinstance(node, dict) else None
    return value if isinstance(value, list) else []


def _size(node: Any, key: str) -> int:
    value = node.get(key) if isinstance(node, dict) else None
    return len(value) if isinstance(value, list | dict) else 0


def _objects_of_run(run: dict[str, Any]) -> int:
    """How many entries the validated lists and maps of a run hold."""
    tool = run.get("tool")
    components = [tool.get("driver"), *_list(tool, "extensions")] if isinstance(tool, dict) else []
    count = _size(run, "originalUriBaseIds") + _size(run, "artifacts") + len(components)
    for component in components:
        rules = _list(component, "rules")
        count += _size(component, "globalMessageStrings") + len(rules)
        count += sum(_size(rule, "messageStrings") for rule in rules)
    for invocation in _list(run, "invocations"):
        count += 1 + _size(invocation, "toolExecutionNotifications")
        count += _size(invocation, "toolConfigurationNotifications")
    for result in _list(run, "results"):
        locations = _list(result, "locations")
        count += 1 + len(locations) + _size(result, "suppressions")
        count += sum(_size(location, "logicalLocations") for location in locations)
    return count


def _describe(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False)
    shown = [f"{_path(e['loc'])}: {_reason(e)}" for e in errors[:MAX_ERRORS_SHOWN]]
    more = len(errors) - len(shown)
    tail = f" (and {more} more)" if more > 0 else ""
    return "the log is not valid SARIF 2.1.0: " + "; ".join(shown) + tail


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "the log"


def _reason(error: Any) -> str:
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    value = error.get("input")
    if error.get("type") != "missing" and isinstance(value, str | int | float | bool):
        message += f" (it is {str(value)[:40]!r})" if isinstance(value, str) else f" ({value})"
    return message


# --- resolving references --------------------------------------------------------------------


@dataclass
class _RunContext:
    where: str
    run: Run

    def component(self, reference: ToolComponentReference | None, where: str) -> ToolComponent:
        """The tool component a rule reference names (the driver by default)."""
        tool = self.run.tool
        if reference is None:
            return tool.driver
        if reference.index >= 0:
            if reference.index >= len(tool.extensions):
                raise ParseError(
                    f"{where}.rule.toolComponent.index: {reference.index} is out of range "
                    f"(the tool has {len(tool.extensions)} extensions)"
                )
            return tool.extensions[reference.index]
        for component in (tool.driver, *tool.extensions):
            if reference.guid and component.guid == reference.guid:
                return component
            if reference.name and component.name == reference.name:
                return component
        return tool.driver


def _run(index: int, run: Run) -> SarifRun:
    context = _RunContext(f"runs[{index}]", run)
    tool = run.tool.driver.name.strip()
    results = (
        None
        if run.results is None
        else [_result(context, tool, i, result) for i, result in enumerate(run.results)]
    )
    errors = tuple(
        _text(note.message, None, run.tool.driver) or "(no message)"
        for invocation in run.invocations
        for note in (
            *invocation.tool_execution_notifications,
            *invocation.tool_configuration_notifications,
        )
        if note.level == "error"
    )
    return SarifRun(
        index=index,
        tool=tool,
        version=run.tool.driver.version or run.tool.driver.semantic_version,
        results=results,
        execution_successful=(
            all(i.execution_successful for i in run.invocations) if run.invocations else None
        ),
        errors=errors,
    )


def _result(context: _RunContext, tool: str, index: int, result: Result) -> SarifResult:
    where = f"{context.where}.results[{index}]"
    reference = result.rule
    component = context.component(reference.tool_component if reference else None, where)
    descriptor = _descriptor(component, result, where)
    rule_id = result.rule_id or (reference.id if reference else None)
    rule_id = rule_id or (descriptor.id if descriptor else None)
    level = result.level
    if level is None and descriptor and descriptor.default_configuration:
        level = descriptor.default_configuration.level
    if level is None:
        level = "warning" if result.kind == "fail" else "none"
    severity = result.properties.get("security-severity")
    if severity is None and descriptor is not None:
        severity = descriptor.properties.get("security-severity")
    title = None
    if descriptor is not None:
        title = (descriptor.short_description.text if descriptor.short_description else None) or (
            descriptor.name
        )
    location = result.locations[0] if result.locations else None
    physical = location.physical_location if location else None
    region = physical.region if physical else None
    logical = location.logical_locations[0] if location and location.logical_locations else None
    return SarifResult(
        where=where,
        tool=tool,
        rule_id=rule_id,
        title=_clip(title, 200),
        kind=result.kind,
        level=level,
        security_severity=severity,
        message=_text(result.message, descriptor, component) or title or rule_id or "",
        file=_file(context, physical.artifact_location if physical else None, where),
        line=region.start_line if region else None,
        snippet=region.snippet.text if region and region.snippet else None,
        logical_location=(logical.fully_qualified_name or logical.name) if logical else None,
        fingerprints=result.fingerprints,
        partial_fingerprints=result.partial_fingerprints,
        baseline_state=result.baseline_state,
        suppressions=tuple(
            Suppression(s.kind, s.status or "accepted", s.justification)
            for s in result.suppressions
        ),
    )


def _descriptor(component: ToolComponent, result: Result, where: str) -> ReportingDescriptor | None:
    """The rule of a result: by index first, else by id."""
    reference = result.rule
    index, field = (
        (reference.index, "rule.index")
        if reference is not None and reference.index >= 0
        else (result.rule_index, "ruleIndex")
    )
    if index >= 0:
        if index >= len(component.rules):
            raise ParseError(
                f"{where}.{field}: {index} is out of range ({component.name!r} declares "
                f"{len(component.rules)} rules)"
            )
        return component.rules[index]
    wanted = result.rule_id or (reference.id if reference else None)
    if not wanted:
        return None
    by_id = {rule.id: rule for rule in component.rules}
    return by_id.get(wanted) or by_id.get(wanted.split("/", 1)[0])


def _text(
    message: Message, descriptor: ReportingDescriptor | None, component: ToolComponent
) -> str | None:
    template = message.text
    if template is None and message.id:
        found = (descriptor.message_strings if descriptor else {}).get(message.id) or (
            component.global_message_strings.get(message.id)
        )
        template = found.text if found else None
    if template is None:
        template = message.markdown
    if template is None:
        return None
    arguments = message.arguments

    def fill(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        position = int(match.group(1))
        return arguments[position] if position < len(arguments) else token

    return _clip(_PLACEHOLDER.sub(fill, template).strip(), _MAX_TEXT)


def _clip(text: str | None, limit: int) -> str | None:
    if text is None:
        return None
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _file(context: _RunContext, location: ArtifactLocation | None, where: str) -> str | None:
    """The repository path (or absolute URI) of a result's file, None when it names none."""
    if location is None:
        return None
    run = context.run
    if location.uri is None and location.index >= 0:
        if location.index >= len(run.artifacts):
            raise ParseError(
                f"{where}.locations[0].physicalLocation.artifactLocation.index: "
                f"{location.index} is out of range (the run lists {len(run.artifacts)} artifacts)"
            )
        listed = run.artifacts[location.index].location
        location = listed if listed is not None and listed.uri is not None else location
    if location.uri is None:
        return None
    uri = location.uri.replace("\\", "/")
    if not _is_absolute(uri):
        uri = _relative_base(context, location.uri_base_id, where) + uri
    else:
        uri = _under_an_absolute_base(context, uri)
    if uri.startswith("file:"):
        uri = urllib.parse.urlsplit(uri).path or uri
    uri = urllib.parse.unquote(uri)
    while uri.startswith("./"):
        uri = uri[2:]
    return _clip(uri, 1024) or None


def _is_absolute(uri: str) -> bool:
    return bool(re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", uri)) or uri.startswith("/")


def _relative_base(context: _RunContext, base_id: str | None, where: str) -> str:
    """The relative prefix a `uriBaseId` chain gives; an absolute base contributes nothing."""
    prefix = ""
    seen: set[str] = set()
    while base_id is not None:
        if base_id in seen or len(seen) >= _MAX_BASE_DEPTH:
            raise ParseError(
                f"{context.where}.originalUriBaseIds: {base_id!r} refers back to itself "
                f"(through {', '.join(sorted(seen))}), so {where}'s file cannot be resolved"
            )
        seen.add(base_id)
        base = context.run.original_uri_base_ids.get(base_id)
        if base is None or base.uri is None:
            break  # an undeclared base (%SRCROOT%): the uri is relative to the checkout
        base_uri = base.uri.replace("\\", "/")
        if _is_absolute(base_uri):
            break
        prefix = base_uri.rstrip("/") + "/" + prefix if base_uri.strip("/") else prefix
        base_id = base.uri_base_id
    return prefix


def _under_an_absolute_base(context: _RunContext, uri: str) -> str:
    """An absolute uri inside one of the run's absolute bases, made relative to it."""
    for base in context.run.original_uri_base_ids.values():
        root = (base.uri or "").replace("\\", "/")
        if root and _is_absolute(root):
            root = root if root.endswith("/") else root + "/"
            if uri.startswith(root):
                return uri[len(root) :]
    return uri
