"""Guessing an artifact's type from its name and content."""

from __future__ import annotations

import pytest

from chalicelib.models import ArtifactType
from chalicelib.parsers.detect import detect_type

DF, CFN, JU = ArtifactType.DOCKERFILE, ArtifactType.CLOUDFORMATION, ArtifactType.JUNIT
TEMPLATE_YAML = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  T: {Type: AWS::SNS::Topic}\n"
RESOURCES_ONLY = "# comment\nResources:\n  T:\n    Type: AWS::SNS::Topic\n"
INDENTED = "# the whole document is indented\n Resources:\n  T:\n    Type: AWS::SNS::Topic\n"
TEMPLATE_JSON = '{\n  "Resources": {"T": {"Type": "AWS::SNS::Topic"}}\n}'
JUNIT = '<?xml version="1.0"?>\n<!-- generated -->\n<testsuites><testsuite/></testsuites>'


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
        ("reports/junit.xml", None, None),
        ("README.md", "# Hello", None),
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
        ("<html><body/></html>", None),
        ("\x00\x01\x02", None),
        ("", None),
    ],
)
def test_by_content(text: str, expected: ArtifactType | None) -> None:
    assert detect_type("artifact", text) is expected
