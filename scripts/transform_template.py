"""Turn the packaged SAM template into plain CloudFormation, offline (aws-sam-translator).

Usage: python scripts/transform_template.py dist/sam.yaml dist/template.json
Runs in the infrastructure lint venv (.venv-infra), which has aws-sam-translator and cfn-lint.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import yaml
from samtranslator.translator.transform import transform


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags as their long form."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


class _NoManagedPolicies:
    """The template names no SAM managed policies, so none need looking up."""

    def load(self) -> dict[str, str]:
        return {}


def main(source: str, target: str) -> None:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # pseudo parameters need one
    text = Path(source).read_text()
    template = yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://deployment-bucket/deployment.zip"
    plain = transform(template, {}, _NoManagedPolicies())
    Path(target).write_text(json.dumps(plain, indent=2, sort_keys=True))


if __name__ == "__main__":
    main(*sys.argv[1:3])
