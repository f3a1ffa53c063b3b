"""Guessing an artifact's type from its name and content."""

from __future__ import annotations

import pytest

from chalicelib.models import ArtifactType
from chalicelib.parsers.detect import detect_type, type_by_name

DF, CFN, JU = ArtifactType.DOCKERFILE, ArtifactType.CLOUDFORMATION, ArtifactType.JUNIT
SA = ArtifactType.SARIF
SARIF_SCHEMA_FIRST = '{"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "runs": []}'
SARIF_NO_SCHEMA = '{\n  "version": "2.1.0",\n  "runs": [{"tool": {"driver": {"name": "x"}}}]\n}'
# Bandit writes runs first and version and $schema last; past 64 KiB only the end shows them
SARIF_KEYS_LAST = (
    '{"runs": [{"results": ['
    + ", ".join(['{"message": {"text": "m"}}'] * 4000)
    + (']}], "version": "2.1.0"}')
)
TEMPLATE_YAML = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  T: {Type: AWS::SNS::Topic}\n"
RESOURCES_ONLY = "# comment\nResources:\n  T:\n    Type: AWS::SNS::Topic\n"
INDENTED = "# the whole document is indented\n Resources:\n  T:\n    Type: AWS::SNS::Topic\n"
TEMPLATE_JSON = '{\n  "Resources": {"T": {"Type": "AWS::SNS::Topic"}}\n}'
JUNIT = '<?xml version="1.0"?>\n<!-- generated -->\n<testsuites><testsuite/></testsuites>'
JUNIT_DTD = (
    '<?xml version="1.0"?>\n<!DOCTYPE testsuite [\n  <!ENTITY a "x">\n  <!ENTITY b "&a;&a;">\n]>\n'
    '<testsuite name="&b;"/>'
)
JUNIT_LONG_DTD = (  # the root element comes after a DTD of several KiB (an entity bomb)
    "<!DOCTYPE testsuites [\n"
    + "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10 if i else "lol"}">\n' for i in range(60))
    + "]>\n<testsuites><testsuite/></testsuites>"
)


@pytest.mark.parametrize(
    ("path", "text", "expected"),
    [
        ("Dockerfile", None, DF),
        ("services/api/Dockerfile", "not even read", DF),
        ("dockerfile", None, DF),
        ("Dockerfile.prod", None, DF),
        ("Dockerfile-alpine", None, DF),
        ("build/api.Dockerfile", None, DF),
        ("worker.dockerfile", None, DF),
        ("Containerfile", None, DF),
        ("C:\\repo\\Dockerfile", None, DF),
        ("infra/stack.yaml", TEMPLATE_YAML, CFN),
        ("infra/stack.yml", RESOURCES_ONLY, CFN),
        ("infra/stack.json", TEMPLATE_JSON, CFN),
        ("infra/stack.yaml", INDENTED, CFN),
        ("serverless.yml", "service: api\nresources:\n  Resources:\n    B: {Type: x}\n", None),
        ("infra/stack.template", TEMPLATE_YAML, CFN),
        ("infra/stack.template", None, CFN),
        ("infra/stack.yaml", None, None),
        (".github/workflows/ci.yml", "on: push\njobs:\n  build:\n    runs-on: ubuntu\n", None),
        ("k8s/deploy.yaml", "kind: Deployment\nspec:\n  template:\n    Resources: x\n", None),
        ("package.json", '{"name": "app", "version": "1.0.0"}', None),
        ("reports/junit.xml", JUNIT, JU),
        ("TEST-com.example.FooTest.xml", "<testsuite name='x'/>", JU),
        ("pom.xml", "<?xml version='1.0'?><project><modelVersion/></project>", None),
        ("reports/junit.xml", None, JU),  # the name says JUnit: the content need not
        ("reports/unit.junit.xml", "<html/>", JU),
        ("reports/junit_api.xml", None, JU),
        ("reports/api-junit.xml", None, None),  # the content decides
        ("non-junit.xml", "<suites/>", None),
        ("target/TEST-Foo.xml", "", JU),
        ("reports/results.xml", None, None),
        ("reports/results.xml", JUNIT_DTD, JU),
        ("reports/results.xml", JUNIT_LONG_DTD, JU),
        ("conf/test-config.xml", None, None),
        ("README.md", "# Hello", None),
        ("reports/trivy.sarif", None, SA),
        ("reports/semgrep.SARIF", "not even read", SA),
        ("reports/codeql.sarif.json", None, SA),
        ("reports/scan.json", SARIF_SCHEMA_FIRST, SA),
        ("reports/scan.json", SARIF_NO_SCHEMA, SA),
        ("reports/bandit.json", SARIF_KEYS_LAST, SA),
        ("reports/scan.json", '{"version": "2.1.0", "name": "app"}', None),
        ("reports/scan.json", None, None),
    ],
)
def test_by_name(path: str, text: str | None, expected: ArtifactType | None) -> None:
    assert detect_type(path, text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# syntax=docker/dockerfile:1\nARG V=1\nFROM alpine:3.20\nRUN true\n", DF),
        ("from alpine\n", DF),
        ("FROMAGE\n", None),
        ("echo hello\nFROM alpine\n", None),
        (TEMPLATE_YAML, CFN),
        (TEMPLATE_JSON, CFN),
        (JUNIT, JU),
        (JUNIT_DTD, JU),
        ("<!DOCTYPE html [<!ENTITY a 'x'>]><html/>", None),
        ("<html><body/></html>", None),
        ("\x00\x01\x02", None),
        ("", None),
        (SARIF_SCHEMA_FIRST, SA),
        (SARIF_KEYS_LAST, SA),
        ('{"$schema": "http://json.schemastore.org/sarif-2.1.0", "version": "2.0.0"}', SA),
        ('{"version": "2.1.0"}', None),
    ],
)
def test_by_content(text: str, expected: ArtifactType | None) -> None:
    assert detect_type("artifact", text) is expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("Dockerfile", DF),
        ("svc/api.Dockerfile", DF),
        ("reports/junit.xml", JU),
        ("reports/unit.junit.xml", JU),
        ("TEST-com.example.FooTest.xml", JU),
        ("infra/stack.template", None),  # `.env.template` and the like: the content decides
        ("infra/stack.yaml", None),
        ("reports/results.xml", None),
        ("test-config.xml", None),
        ("out/results.sarif", SA),
        ("out/results.sarif.json", SA),
        ("out/results.json", None),
    ],
)
def test_type_by_name(path: str, expected: ArtifactType | None) -> None:
    assert type_by_name(path) is expected


IMG = ArtifactType.IMAGE
INSPECT = '[\n  {\n    "Id": "sha256:1",\n    "RepoTags": ["a:1"],\n    "Config": {}\n  }\n]'
OCI = '{"architecture":"amd64","config":{"User":"1"},"rootfs":{"type":"layers","diff_ids":[]}}'
ARCHIVE = (
    '{\n  "pipeguard_image_archive": {\n    "format": "docker-archive"\n  },\n  "config": {}\n}'
)


@pytest.mark.parametrize(
    ("path", "text", "expected"),
    [
        ("images/api.image.json", None, IMG),
        ("images/API.IMAGE.JSON", "anything", IMG),
        ("inspect.json", INSPECT, IMG),
        ("config.json", OCI, IMG),
        ("summary.json", ARCHIVE, IMG),
        ("inspect", INSPECT, IMG),
        ("package.json", '{"name": "app", "config": {"port": 8080}}', None),
        ("stack.json", TEMPLATE_JSON, CFN),
        ("inspect.yaml", INSPECT, None),  # YAML files are templates or nothing
    ],
)
def test_image_metadata(path: str, text: str | None, expected: ArtifactType | None) -> None:
    assert detect_type(path, text) is expected
