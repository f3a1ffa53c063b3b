"""AWS account inventories (`aws_inventory`): the JSON `collectors posture` writes.

The model is `chalicelib.posture.inventory.Inventory`. Besides the account-level rules
(`rules/aws`), an inventory is judged by the CloudFormation rules through a view: each
resource in its CloudFormation shape (`chalicelib.posture.shapes`).
"""

from __future__ import annotations

import re

from pydantic import ValidationError

from chalicelib import jsonbody
from chalicelib.kinds import ArtifactType
from chalicelib.parsers import ParseError, View
from chalicelib.posture.inventory import KIND, Inventory

__all__ = ["location", "locations", "parse", "views"]

_SHOWN_ERRORS = 5
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d+")


def parse(text: str) -> Inventory:
    """The inventory in `text`; ParseError says what is wrong, with the field's path."""
    try:
        document = jsonbody.loads(text)
    except RecursionError:
        raise ParseError("the inventory is nested too deeply to read") from None
    except ValueError as exc:
        raise ParseError(f"the inventory is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ParseError(f"the inventory is a JSON {type(document).__name__}, not an object")
    if document.get("kind") != KIND:
        raise ParseError(f'not an AWS inventory: "kind" must be "{KIND}"')
    try:
        return Inventory.model_validate(document)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in error['loc']) or 'the document'}: {error['msg']}"
            for error in exc.errors()[:_SHOWN_ERRORS]
        ]
        more = exc.error_count() - len(problems)
        tail = f" (and {more} more)" if more > 0 else ""
        raise ParseError("the inventory is invalid: " + "; ".join(problems) + tail) from None


def views(inventory: Inventory) -> list[View]:
    """The inventory as other artifact types' rules see it: its resources as a template."""
    from chalicelib.posture import shapes

    template, translate = shapes.as_template(inventory)
    return [View(ArtifactType.CLOUDFORMATION, template, translate)]


def location(inventory: Inventory, resource: str | None) -> str:
    """Where a finding on `resource` is: `aws://<account>/<region>` (`global` for IAM...)."""
    return inventory.location(inventory.region_of(resource or "") or _scope_of(resource))


def locations(inventory: Inventory) -> list[str]:
    """Every place the inventory's findings can be: the account's global scope, each region."""
    return [inventory.location(scope) for scope in ["global", *inventory.regions]]


def _scope_of(resource: str | None) -> str:
    """The region in an ARN or `<account>/<region>` id; `global` when it names none."""
    if not resource:
        return "global"
    if resource.startswith("arn:"):
        parts = resource.split(":")
        return parts[3] if len(parts) > 4 and parts[3] else "global"
    parts = resource.split("/")
    return parts[1] if len(parts) > 1 and _REGION.fullmatch(parts[1]) else "global"
