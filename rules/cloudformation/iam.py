"""IAM policy rules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import LineDict, Template
from rules.cloudformation._helpers import as_list, policy_documents

_ANY_ACTION = frozenset({"*", "*:*"})


def _allows(tpl: Template, statement: dict) -> bool:
    effects = tpl.possible_values(statement.get("Effect"))
    return any(isinstance(e, str) and e.lower() == "allow" for e in effects)


def _has_wildcard(tpl: Template, value: Any, wildcards: frozenset[str]) -> bool:
    values = (v for item in as_list(value) for v in tpl.possible_values(item))
    return any(isinstance(v, str) and v.strip() in wildcards for v in values)


@rule(
    id="CF-IAM-001",
    artifact_type="cloudformation",
    title="IAM policy allows every action on every resource",
    severity="critical",
    description=(
        'A statement with `Effect: Allow`, `Action: "*"` and `Resource: "*"` grants full '
        "administrator rights. Whoever obtains the identity's credentials (a leaked key, a "
        "compromised function) controls the whole account."
    ),
    remediation=(
        "Grant only the actions and resources needed:\n"
        "```yaml\n- Effect: Allow\n  Action: [s3:GetObject, s3:PutObject]\n"
        "  Resource: !Sub '${DataBucket.Arn}/*'\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege",
    ),
)
def admin_policy(tpl: Template) -> Iterator[Hit]:
    for res in tpl.resources.values():
        for document, path in policy_documents(res):
            if not isinstance(document, dict):
                continue
            for statement in as_list(document.get("Statement")):
                if not isinstance(statement, dict) or not _allows(tpl, statement):
                    continue
                if _has_wildcard(tpl, statement.get("Action"), _ANY_ACTION) and _has_wildcard(
                    tpl, statement.get("Resource"), frozenset({"*"})
                ):
                    line = (
                        statement.lines.get("Action") if isinstance(statement, LineDict) else None
                    )
                    yield Hit(
                        "a statement allows Action '*' on Resource '*'",
                        line=line or res.prop_line(*path),
                        resource=res.logical_id,
                    )
