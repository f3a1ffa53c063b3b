"""What could not be assessed: every read the collection could not make, with the checks it
leaves unanswered. Reported as a finding so that no report passes a blind spot silently."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit
from chalicelib.posture.inventory import Inventory, NotAssessed
from chalicelib.posture.shapes import FACT_RULES, MAPPINGS, SECTION_RULES
from chalicelib.posture.stacks import FEED
from rules.aws._helpers import GLOBAL, NEEDS, account_rule

_DOC = "https://docs.aws.amazon.com/aws-managed-policy/latest/reference/SecurityAudit.html"
_SHOWN = 8


def checks_needing(feeds: list[str]) -> list[str]:
    """The rules that read any of `feeds` (facts or resource types)."""
    wanted = set(feeds)
    found = {rule_id for rule_id, needs in NEEDS.items() if wanted.intersection(needs)}
    found |= {rule_id for fact in wanted for rule_id in FACT_RULES.get(fact, ())}
    return sorted(found)


def _section_checks(inventory: Inventory, entries: list[NotAssessed]) -> list[str]:
    """The CloudFormation rules voided on resources whose section the entries could not read."""
    found: set[str] = set()
    by_arn = {e.resource: e.operation for e in entries if e.resource}
    for res in inventory.resources:
        operation = by_arn.get(res.arn)
        if operation is None:
            continue
        known = SECTION_RULES.get(res.type, {})
        for section, action in res.not_assessed.items():
            if action == operation:
                found.update(known.get(section, ()))
    return sorted(found)


def _describe(inventory: Inventory, entries: list[NotAssessed]) -> str:
    first = entries[0]
    feeds = sorted({feed for entry in entries for feed in entry.feeds})
    checks = sorted(set(checks_needing(feeds)) | set(_section_checks(inventory, entries)))
    types = sorted(f for f in feeds if f in MAPPINGS)  # judged in their CloudFormation shape
    parts = [f"not assessed: {first.reason} {first.operation}"]
    resources = [e.resource for e in entries if e.resource]
    if resources:
        more = f" and {len(resources) - 1} more" if len(resources) > 1 else ""
        parts.append(f"on {resources[0]}{more}")
    told = []
    if checks:
        shown = ", ".join(checks[:_SHOWN]) + (", ..." if len(checks) > _SHOWN else "")
        told.append(f"checks {shown}")
    if types:
        told.append("the CloudFormation rules on " + ", ".join(types))
    if FEED in feeds:
        told.append("the drift checks (AWS-DRIFT-*) of that stack")
    if resources and not told:
        told.append("the checks that read this part of the resource")
    message = " ".join(parts)
    if told:
        message += "; not assessed: " + " and ".join(told)
    if first.message:
        message += f" ({first.message[:200]})"
    return message


@account_rule(
    id="AWS-ACCESS-001",
    needs=(),
    title="Posture checks not assessed",
    severity="medium",
    description=(
        "The collection could not read part of the account: the role lacks a permission, the "
        "service is not enabled in the region, or the endpoint does not offer the call. The "
        "checks that depend on that read were not assessed: they neither pass nor fail, and "
        "this finding names them so that a blind spot is never mistaken for a clean result."
    ),
    remediation=(
        "Grant the collection role the AWS managed SecurityAudit policy (read-only), or the "
        "missing action named in the message, and collect again. Waive this finding for a "
        "service you deliberately leave out."
    ),
    references=(_DOC,),
)
def not_assessed(inventory: Inventory) -> Iterator[Hit]:
    groups: dict[tuple[str, str, str], list[NotAssessed]] = {}
    for entry in inventory.not_assessed:
        groups.setdefault((entry.region, entry.operation, entry.reason), []).append(entry)
    for (region, operation, _), entries in groups.items():
        scope = inventory.account_id if region == GLOBAL else f"{inventory.account_id}/{region}"
        yield Hit(_describe(inventory, entries), resource=f"{scope}/{operation}")
