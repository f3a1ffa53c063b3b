"""Checks of the collector's reports, shared by the offline and end-to-end tests."""

from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path
from typing import Any

import jsonschema
from defusedxml import ElementTree

CI_PREFIXES = (
    "GITHUB_", "GITLAB_", "CI_", "CIRCLE", "BITBUCKET_", "JENKINS_", "BUILD_", "SYSTEM_",
    "GIT_", "CHANGE_", "PIPEGUARD_",
)  # fmt: skip
CI_NAMES = ("CI", "TF_BUILD", "BRANCH_NAME", "JOB_NAME", "BUILD_NUMBER", "BUILD_URL")


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The current environment without any CI system's variables (plus `extra`)."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(CI_PREFIXES) and k not in CI_NAMES
    }
    env.update(extra or {})
    return env


def _shared() -> Path:
    """The team's shared folder (schemas, corpus): beside the checkout, or further up."""
    here = Path(__file__).resolve()
    for folder in here.parents[3:]:
        if (folder / "shared" / "schemas").is_dir():
            return folder / "shared"
    return here.parents[2].parent / "shared"


SHARED = _shared()
SARIF_SCHEMA = SHARED / "schemas" / "sarif-schema-2.1.0.json"
CORPUS = SHARED / "corpus"


@functools.cache
def sarif_validator() -> jsonschema.Draft7Validator:
    """The SARIF 2.1.0 schema as a validator of whole logs.

    The shared copy keeps the log's own schema in `definitions/Root` and has no top-level
    `properties`: validated as it is, it accepts any JSON whatever. The validator starts at
    `Root` (or at the top, for a copy that has it there)."""
    assert SARIF_SCHEMA.is_file(), f"the SARIF schema is missing: {SARIF_SCHEMA}"
    schema = json.loads(SARIF_SCHEMA.read_text())
    if "properties" not in schema and "Root" in schema.get("definitions", {}):
        schema = {**schema, "$ref": "#/definitions/Root"}
    return jsonschema.Draft7Validator(schema)


def check_sarif(text: str) -> dict[str, Any]:
    """Valid SARIF 2.1.0, in the form GitHub code scanning takes; returns the document."""
    document = json.loads(text)
    sarif_validator().validate(document)
    assert document["version"] == "2.1.0" and document["$schema"]
    (run,) = document["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "Pipeguard" and driver["rules"]
    ids = [rule["id"] for rule in driver["rules"]]
    assert len(ids) == len(set(ids))
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert re.fullmatch(r"\d+\.\d", rule["properties"]["security-severity"])
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
    for result in run["results"]:
        assert ids[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note")
        assert result["message"]["text"]
        (location,) = result["locations"]
        uri = location["physicalLocation"]["artifactLocation"]["uri"]
        assert "\\" not in uri and not uri.startswith(("/", "file:"))
        region = location["physicalLocation"].get("region")
        assert region is None or region["startLine"] >= 1
        assert re.fullmatch(r"[0-9a-f]{32}", result["partialFingerprints"]["pipeguardFinding/v1"])
    return document


def check_junit(text: str) -> Any:
    """Well-formed JUnit XML whose counts add up; returns the root element."""
    root = ElementTree.fromstring(text.encode())
    assert root.tag == "testsuites"
    total = {"tests": 0, "failures": 0, "errors": 0}
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        counts = {
            "tests": len(cases),
            "failures": sum(1 for c in cases if c.find("failure") is not None),
            "errors": sum(1 for c in cases if c.find("error") is not None),
        }
        for key, value in counts.items():
            assert int(suite.get(key)) == value, (suite.get("name"), key)
            total[key] += value
    for key, value in total.items():
        assert int(root.get(key)) == value
    return root


def failing_cases(root: Any) -> dict[str, set[str]]:
    """Artifact path → the rule ids of its failing test cases."""
    return {
        suite.get("name"): {
            case.get("name").split(": ", 1)[0]
            for case in suite.findall("testcase")
            if case.find("failure") is not None
        }
        for suite in root.findall("testsuite")
    }
