"""The SARIF parser: real scanners' logs, the 2.1.0 schema (with jsonschema as the judge),
references resolved, limits, and errors that say where the log is wrong."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from chalicelib.models import ArtifactType
from chalicelib.parsers import ParseError
from chalicelib.parsers import parse as parse_any
from chalicelib.parsers.detect import detect_type
from chalicelib.parsers.sarif import (
    MAX_LOG_BYTES,
    MAX_OBJECTS,
    MAX_RESULTS,
    MAX_RUNS,
    SarifLog,
    parse,
)
from tests.collectors.helpers import sarif_validator
from tests.sarif_tools import (
    COMMITTED,
    LOGS,
    at,
    dumps,
    minimal_log,
    pipeguard_sarif,
    result,
    ruff_sarif,
)


def _schema_errors(document: Any) -> list[str]:
    return [e.message for e in sarif_validator().iter_errors(document)]


def _rules(log: SarifLog) -> list[tuple[str | None, str | None, int | None]]:
    return [(r.rule_id, r.file, r.line) for r in log.results]


# --- logs of real scanners ------------------------------------------------------------------


@pytest.mark.parametrize("path", COMMITTED, ids=[p.name for p in COMMITTED])
def test_committed_logs_are_schema_valid_sarif_and_parse(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert _schema_errors(json.loads(text)) == []
    assert detect_type(path.name, text) is ArtifactType.SARIF
    log = parse(text)
    assert log.runs and all(r.message and r.rule_id for r in log.results)


def test_checkov_log() -> None:
    log = parse((LOGS / "checkov-run1.sarif").read_text())
    (run,) = log.runs
    assert (run.tool, run.version, run.execution_successful) == ("Checkov", "3.3.30", None)
    found = {(r.rule_id, r.file, r.line) for r in log.results}
    assert ("CKV_DOCKER_1", "Dockerfile", 5) in found
    assert ("CKV_AWS_27", "template.yaml", 7) in found
    assert len(found) == 12
    port = next(r for r in log.results if r.rule_id == "CKV_DOCKER_1")
    assert (port.level, port.title, port.snippet) == (
        "error",
        "Ensure port 22 is not exposed",
        "EXPOSE 22\n",
    )
    skipped = parse((LOGS / "checkov-run2.sarif").read_text())
    (logging,) = [r for r in skipped.results if r.rule_id == "CKV_AWS_18"]
    assert [(s.kind, s.status, s.justification) for s in logging.suppressions] == [
        ("inSource", "accepted", "Access logs of this bucket go to the organisation trail")
    ]


def test_semgrep_log_takes_level_and_score_from_the_rules() -> None:
    log = parse((LOGS / "semgrep-run1.sarif").read_text())
    (run,) = log.runs
    assert (run.tool, run.execution_successful, run.errors) == ("Semgrep OSS", True, ())
    by_rule = {r.rule_id: r for r in log.results}
    shell = by_rule["subprocess-shell-true"]
    assert (shell.level, shell.security_severity, shell.file, shell.line) == (
        "error",
        "8.1",
        "app.py",  # uriBaseId %SRCROOT% is not declared: the uri is the repository path
        6,
    )
    assert shell.fingerprints == {"matchBasedId/v1": "requires login"}
    assert by_rule["pickle-loads"].level == "warning"
    assert by_rule["hardcoded-password"].level == "note"


def test_hadolint_and_bandit_logs() -> None:
    hadolint = parse((LOGS / "hadolint.sarif").read_text())
    assert hadolint.runs[0].tool == "Hadolint"
    assert ("DL3007", "Dockerfile", 1) in _rules(hadolint)
    assert all(r.title is None for r in hadolint.results)  # hadolint lists no rules
    bandit = parse((LOGS / "bandit.sarif").read_text())
    shell = next(r for r in bandit.results if r.rule_id == "B602")
    assert (shell.level, shell.file, shell.line, shell.title) == (
        "error",
        "app.py",
        6,
        "subprocess_popen_with_shell_equals_true",
    )


def test_ruff_log_written_now(tmp_path: Path) -> None:
    (tmp_path / "job.py").write_text(
        "import os\nimport subprocess\nsubprocess.call('x', shell=True)\n"
    )
    text = ruff_sarif(tmp_path)
    assert _schema_errors(json.loads(text)) == []
    log = parse(text)
    assert log.runs[0].tool == "ruff"
    found = {(r.rule_id, r.line) for r in log.results}
    assert ("F401", 1) in found and ("S602", 3) in found
    # ruff writes absolute file URIs: the file is the path they name
    assert {r.file for r in log.results} == {str(tmp_path.resolve() / "job.py")}


def test_our_collectors_log_written_now(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM ubuntu:latest\nENV DB_PASSWORD=hunter2\n")
    (tmp_path / "notes.json").write_text('{"not": "an artifact"}\n')
    text = pipeguard_sarif(tmp_path, ".")
    assert _schema_errors(json.loads(text)) == []
    log = parse(text)
    (run,) = log.runs
    assert run.tool == "Pipeguard" and run.execution_successful is True
    assert ("DF-SECRET-001", "Dockerfile", 2) in _rules(log)
    assert all(r.partial_fingerprints for r in log.results)


# --- the schema's subset: we refuse what the schema refuses, and say where -------------------

VALID = minimal_log(
    [
        result(
            "R1",
            level="error",
            kind="fail",
            ruleIndex=0,
            locations=at("src/a.py", 3, startColumn=1, snippet={"text": "x = 1"}),
            partialFingerprints={"primaryLocationLineHash": "abc:1"},
            suppressions=[{"kind": "external", "status": "accepted", "justification": "ok"}],
            baselineState="new",
            properties={"security-severity": "7.5", "tags": ["security"]},
        )
    ],
    version="1.0",
    rules=[
        {
            "id": "R1",
            "shortDescription": {"text": "Rule one"},
            "defaultConfiguration": {"level": "warning"},
            "messageStrings": {"default": {"text": "found {0}"}},
        }
    ],
)
VALID["runs"][0]["invocations"] = [{"executionSuccessful": True}]


def _mutated(path: str, value: Any) -> dict[str, Any]:
    """VALID with the value at a dotted path (`runs.0.results.0.level`) replaced; `...`
    deletes it."""
    document = copy.deepcopy(VALID)
    *parents, last = path.split(".")
    node: Any = document
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key: Any = int(last) if isinstance(node, list) else last
    if value is ...:
        del node[key]
    else:
        node[key] = value
    return document


def test_the_valid_log_is_valid() -> None:
    assert _schema_errors(VALID) == []
    (found,) = parse(dumps(VALID)).results
    assert (found.rule_id, found.level, found.file, found.line, found.title) == (
        "R1",
        "error",
        "src/a.py",
        3,
        "Rule one",
    )


REFUSED = [
    ("version", "2.0.0", "version"),
    ("version", ..., "version"),
    ("runs", ..., "runs"),
    ("runs", {}, "runs"),
    ("runs.0.tool", ..., "runs[0].tool"),
    ("runs.0.tool.driver.name", ..., "runs[0].tool.driver.name"),
    ("runs.0.tool.driver.name", 7, "runs[0].tool.driver.name"),
    ("runs.0.tool.driver.rules.0.id", ..., "runs[0].tool.driver.rules[0].id"),
    ("runs.0.tool.driver.rules.0.defaultConfiguration.level", "fatal", "defaultConfiguration"),
    ("runs.0.tool.driver.rules.0.shortDescription", {"markdown": "x"}, "shortDescription.text"),
    ("runs.0.tool.driver.rules.0.properties", [], "rules[0].properties"),
    ("runs.0.results", "none", "runs[0].results"),
    ("runs.0.results.0.message", ..., "runs[0].results[0].message"),
    ("runs.0.results.0.message", "text", "runs[0].results[0].message"),
    ("runs.0.results.0.message.arguments", [1], "message.arguments[0]"),
    ("runs.0.results.0.level", "critical", "runs[0].results[0].level"),
    ("runs.0.results.0.kind", "bogus", "runs[0].results[0].kind"),
    ("runs.0.results.0.ruleId", 12, "runs[0].results[0].ruleId"),
    ("runs.0.results.0.ruleIndex", -2, "runs[0].results[0].ruleIndex"),
    ("runs.0.results.0.ruleIndex", "0", "runs[0].results[0].ruleIndex"),
    ("runs.0.results.0.ruleIndex", True, "runs[0].results[0].ruleIndex"),
    ("runs.0.results.0.ruleid", "R1", "'ruleid' is not a property of a SARIF result"),
    ("runs.0.results.0.baselineState", "gone", "baselineState"),
    ("runs.0.results.0.partialFingerprints", {"a": 1}, "partialFingerprints.a"),
    ("runs.0.results.0.suppressions.0.kind", ..., "suppressions[0].kind"),
    ("runs.0.results.0.suppressions.0.status", "maybe", "suppressions[0].status"),
    ("runs.0.results.0.locations", {}, "runs[0].results[0].locations"),
    ("runs.0.results.0.locations.0.physicalLocation.region.startLine", 0, "startLine"),
    ("runs.0.results.0.locations.0.physicalLocation.region.startLine", 2.5, "startLine"),
    ("runs.0.results.0.locations.0.physicalLocation.artifactLocation.uri", 3, "uri"),
    ("runs.0.results.0.locations.0.physicalLocation.artifactLocation.index", -5, "index"),
    ("runs.0.results.0.locations.0.physicalLocation.region.snippet", "x = 1", "snippet"),
    ("runs.0.invocations.0.executionSuccessful", ..., "executionSuccessful"),
    ("runs.0.invocations.0.executionSuccessful", "yes", "executionSuccessful"),
    ("runs.0.originalUriBaseIds", {"SRC": "file:///src/"}, "originalUriBaseIds.SRC"),
    ("runs.0.results.0.ruleId", None, "'ruleId' is null"),
]


@pytest.mark.parametrize(("path", "value", "where"), REFUSED, ids=[r[0] for r in REFUSED])
def test_we_refuse_what_the_schema_refuses(path: str, value: Any, where: str) -> None:
    document = _mutated(path, value)
    assert _schema_errors(document), "the mutation should make the log invalid"
    with pytest.raises(ParseError) as caught:
        parse(dumps(document))
    assert where in str(caught.value), str(caught.value)


ACCEPTED = [
    ("runs.0.results.0.ruleIndex", 0.0),  # JSON Schema's integers include 0.0
    ("runs.0.results.0.locations.0.physicalLocation.region.startLine", 3.0),
    ("runs.0.results.0.message", {"id": "default", "arguments": ["x"]}),
    ("runs.0.results.0.message", {}),  # this schema copy does not require text or id
    ("runs.0.results", []),
    ("runs.0.results", ...),  # not computed: a rule reports it, the parser reads it
    ("runs", []),
    ("runs.0.results.0.properties", {"security-severity": 9, "anything": {"goes": [1]}}),
    ("runs.0.results.0.codeFlows", [{"whatever": "is not read"}]),
    ("$schema", "https://json.schemastore.org/sarif-2.1.0.json"),
]


@pytest.mark.parametrize(("path", "value"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_we_accept_what_we_read_and_the_schema_allows(path: str, value: Any) -> None:
    document = _mutated(path, value)
    if path != "runs.0.results.0.codeFlows":  # codeFlows' items are checked by the schema only
        assert _schema_errors(document) == []
    parse(dumps(document))


def test_properties_we_do_not_read_are_left_to_the_schema() -> None:
    """The subset: a property the importer never reads is allowed by name but not typed."""
    document = _mutated("runs.0.tool.driver.fullName", 3)
    assert _schema_errors(document)
    assert parse(dumps(document)).runs[0].tool == "Demo"


def test_errors_are_few_and_name_their_place() -> None:
    document = minimal_log([result(level="fatal") for _ in range(9)])
    with pytest.raises(ParseError) as caught:
        parse(dumps(document))
    message = str(caught.value)
    assert message.startswith("the log is not valid SARIF 2.1.0: runs[0].results[0].level: ")
    assert "(it is 'fatal')" in message and message.endswith("(and 4 more)")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[]", "not a SARIF log"),
        ('{"version": "2.1.0", "runs": [', "not valid JSON"),
        ('{"version": "2.1.0", "runs": [], "x": NaN}', "not valid JSON"),
        ('{"version": "2.1.0", "runs": [' + "[" * 5000 + "]" * 5000 + "]}", "nested too deeply"),
        ('{"version": 2.1, "runs": []}', "only SARIF 2.1.0"),
        ('{"runs": []}', "version: Field required"),
    ],
)
def test_unreadable_logs(text: str, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        parse(text)


def test_empty_and_binary_are_refused_before_parsing() -> None:
    with pytest.raises(ParseError, match="empty"):
        parse_any(ArtifactType.SARIF, " \n")
    with pytest.raises(ParseError, match="binary"):
        parse_any(ArtifactType.SARIF, '{"version": "2.1.0"\x00}')


def test_size_limit() -> None:
    document = minimal_log([result(text="x" * 1000)])
    document["runs"][0]["properties"] = {"padding": "p" * MAX_LOG_BYTES}
    with pytest.raises(ParseError, match=f"larger than {MAX_LOG_BYTES} bytes"):
        parse(dumps(document))
    just_under = minimal_log()
    just_under["runs"][0]["properties"] = {"padding": "p" * (MAX_LOG_BYTES - 200)}
    assert parse(dumps(just_under)).runs[0].results == []


def test_results_limit() -> None:
    half = [result(f"R{i}") for i in range(MAX_RESULTS // 2 + 1)]
    document = minimal_log(half)
    document["runs"].append(copy.deepcopy(document["runs"][0]))
    with pytest.raises(ParseError, match=f"holds {len(half) * 2} results; at most {MAX_RESULTS}"):
        parse(dumps(document))
    full = minimal_log([result(f"R{i}") for i in range(MAX_RESULTS)])
    assert len(list(parse(dumps(full)).results)) == MAX_RESULTS


def test_runs_limit() -> None:
    """200,000 empty runs fit in 10 MiB and would take seconds to validate."""
    run = {"tool": {"driver": {"name": "x"}}, "results": []}
    assert len(parse(dumps({"version": "2.1.0", "runs": [run] * MAX_RUNS})).runs) == MAX_RUNS
    with pytest.raises(ParseError, match=f"holds {MAX_RUNS + 1} runs; at most {MAX_RUNS}"):
        parse(dumps({"version": "2.1.0", "runs": [run] * (MAX_RUNS + 1)}))


@pytest.mark.parametrize("where", ["locations", "messageStrings", "artifacts", "notifications"])
def test_objects_limit(where: str) -> None:
    many = MAX_OBJECTS
    document = minimal_log([result()], rules=[{"id": "R1"}])
    run = document["runs"][0]
    if where == "locations":
        run["results"][0]["locations"] = at("a.py", 1) * many
    elif where == "messageStrings":
        run["tool"]["driver"]["rules"][0]["messageStrings"] = {
            str(i): {"text": "t"} for i in range(many)
        }
    elif where == "artifacts":
        run["artifacts"] = [{"location": {"uri": "a.py"}}] * many
    else:
        note = {"level": "note", "message": {"text": "n"}}
        run["invocations"] = [
            {"executionSuccessful": True, "toolExecutionNotifications": [note] * many}
        ]
    with pytest.raises(ParseError, match=f"at most {MAX_OBJECTS} are read from one artifact"):
        parse(dumps(document))


def test_a_byte_order_mark_is_allowed() -> None:
    assert parse("\ufeff" + dumps(minimal_log())).runs[0].tool == "Demo"


# --- references -----------------------------------------------------------------------------


def test_rules_of_extensions_by_tool_component_codeql_style() -> None:
    document = minimal_log(
        [
            {
                "ruleId": "py/sql-injection",
                "rule": {"id": "py/sql-injection", "index": 1, "toolComponent": {"index": 0}},
                "message": {"text": "This query depends on a [user-provided value](1)."},
                "locations": at("app/db.py", 12),
            }
        ],
        semanticVersion="2.20.0",
    )
    document["runs"][0]["tool"]["extensions"] = [
        {
            "name": "codeql/python-queries",
            "rules": [
                {"id": "py/unused-import"},
                {
                    "id": "py/sql-injection",
                    "shortDescription": {"text": "SQL query built from user-controlled sources"},
                    "properties": {"security-severity": "8.8"},
                },
            ],
        }
    ]
    (found,) = parse(dumps(document)).results
    assert (found.rule_id, found.title, found.security_severity) == (
        "py/sql-injection",
        "SQL query built from user-controlled sources",
        "8.8",
    )
    assert found.level == "warning"  # SARIF's default level
    assert parse(dumps(document)).runs[0].version == "2.20.0"


def test_rule_found_by_id_and_by_the_first_segment_of_a_hierarchical_id() -> None:
    rules = [{"id": "CA2000", "name": "DisposeObjects"}, {"id": "CA1001", "name": "Other"}]
    document = minimal_log([result("CA1001"), result("CA2000/1")], rules=rules)
    assert [r.title for r in parse(dumps(document)).results] == ["Other", "DisposeObjects"]


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"ruleIndex": 3}, "runs[0].results[0].ruleIndex: 3 is out of range"),
        ({"rule": {"index": 2}}, "runs[0].results[0].rule.index: 2 is out of range"),
        ({"rule": {"toolComponent": {"index": 1}}}, "rule.toolComponent.index: 1 is out of range"),
        (
            {"locations": [{"physicalLocation": {"artifactLocation": {"index": 4}}}]},
            "artifactLocation.index: 4 is out of range (the run lists 0 artifacts)",
        ),
    ],
)
def test_broken_references_are_errors(fields: dict[str, Any], where: str) -> None:
    document = minimal_log([result(**fields)], rules=[{"id": "R1"}])
    assert _schema_errors(document) == []  # the schema cannot see these
    with pytest.raises(ParseError, match=re.escape(where)):
        parse(dumps(document))


def test_messages_from_message_strings_with_placeholders() -> None:
    rules = [{"id": "R1", "messageStrings": {"m": {"text": "{0} uses {1} {{literally}} {5}"}}}]
    message = {"id": "m", "arguments": ["app", "eval"]}
    document = minimal_log([{"ruleId": "R1", "message": message}], rules=rules)
    (found,) = parse(dumps(document)).results
    assert found.message == "app uses eval {literally} {5}"
    document["runs"][0]["tool"]["driver"]["rules"][0]["messageStrings"] = {}
    document["runs"][0]["tool"]["driver"]["globalMessageStrings"] = {"m": {"text": "global {0}"}}
    assert next(parse(dumps(document)).results).message == "global app"
    document["runs"][0]["results"][0]["message"] = {"id": "missing"}
    document["runs"][0]["tool"]["driver"]["rules"][0]["shortDescription"] = {"text": "Rule one"}
    assert next(parse(dumps(document)).results).message == "Rule one"


def test_long_messages_are_clipped() -> None:
    (found,) = parse(dumps(minimal_log([result(text="y" * 5000)]))).results
    assert len(found.message) == 1000 and found.message.endswith("…")


@pytest.mark.parametrize(
    ("location", "bases", "artifacts", "expected"),
    [
        ({"uri": "src/a.py"}, {}, [], "src/a.py"),
        ({"uri": "./src/my%20file.py"}, {}, [], "src/my file.py"),
        ({"uri": "a.py", "uriBaseId": "%SRCROOT%"}, {}, [], "a.py"),
        (
            {"uri": "a.py", "uriBaseId": "PKG"},
            {"PKG": {"uri": "pkg/", "uriBaseId": "ROOT"}, "ROOT": {"uri": "file:///work/repo/"}},
            [],
            "pkg/a.py",
        ),
        (
            {"uri": "file:///work/repo/src/a.py"},
            {"ROOT": {"uri": "file:///work/repo/"}},
            [],
            "src/a.py",
        ),
        ({"uri": "file:///home/ci/src/a.py"}, {}, [], "/home/ci/src/a.py"),
        ({"uri": "C:\\src\\a.py"}, {}, [], "C:/src/a.py"),
        ({"index": 0}, {}, [{"location": {"uri": "lib/b.py"}}], "lib/b.py"),
        ({"uri": "https://example.com/x.js"}, {}, [], "https://example.com/x.js"),
    ],
)
def test_files(
    location: dict[str, Any], bases: dict[str, Any], artifacts: list[Any], expected: str
) -> None:
    document = minimal_log(
        [result(locations=[{"physicalLocation": {"artifactLocation": location}}])]
    )
    if bases:
        document["runs"][0]["originalUriBaseIds"] = bases
    if artifacts:
        document["runs"][0]["artifacts"] = artifacts
    assert _schema_errors(document) == []
    (found,) = parse(dumps(document)).results
    assert found.file == expected


def test_a_loop_of_base_ids_is_an_error() -> None:
    document = minimal_log([result(locations=[{"physicalLocation": {"artifactLocation": {
        "uri": "a.py", "uriBaseId": "A"}}}])])  # fmt: skip
    document["runs"][0]["originalUriBaseIds"] = {
        "A": {"uri": "a/", "uriBaseId": "B"},
        "B": {"uri": "b/", "uriBaseId": "A"},
    }
    with pytest.raises(ParseError, match="runs\\[0\\].originalUriBaseIds: 'A' refers back"):
        parse(dumps(document))


def test_level_defaults() -> None:
    rules = [{"id": "R1", "defaultConfiguration": {"level": "note"}}, {"id": "R2"}]
    document = minimal_log(
        [result("R1"), result("R2"), result("R2", kind="review"), result("R1", level="error")],
        rules=rules,
    )
    assert [r.level for r in parse(dumps(document)).results] == [
        "note",
        "warning",
        "none",
        "error",
    ]


def test_runs_that_failed_or_erred() -> None:
    document = minimal_log()
    document["runs"][0]["invocations"] = [
        {"executionSuccessful": True},
        {
            "executionSuccessful": False,
            "toolExecutionNotifications": [
                {"level": "error", "message": {"text": "could not read a.py"}},
                {"level": "warning", "message": {"text": "slow"}},
            ],
            "toolConfigurationNotifications": [{"level": "error", "message": {"text": "bad rule"}}],
        },
    ]
    (run,) = parse(dumps(document)).runs
    assert run.execution_successful is False
    assert run.errors == ("could not read a.py", "bad rule")
