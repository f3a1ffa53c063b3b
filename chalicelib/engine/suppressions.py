"""Inline suppressions: the author of an artifact accepts a rule's finding, with a reason.

CloudFormation, in a resource's (or the template's, for every resource) `Metadata`:

```yaml
Metadata:
  pipeguard:
    suppress:            # `suppressions` is accepted too
      - rule: CF-S3-001  # or a list of ids
        reason: access logs bucket, encrypted by the log delivery service
```

Dockerfile, a comment on the line(s) before an instruction, or in the comment block at the top
of the file (before the first instruction) for the whole file:

```dockerfile
# pipeguard:suppress DF-USER-001, DF-HEALTH-001 reason: build stage only
```

A suppression without a reason suppresses nothing and leaves a note. Suppressed findings are
still reported, with the reason (`reason_for`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.kinds import ArtifactType

__all__ = ["Suppression", "Suppressions", "collect"]

_COMMENT = re.compile(r"^\s*#\s*pipeguard:suppress\b(.*)$", re.IGNORECASE)
_REASON = re.compile(r"\breason\s*:", re.IGNORECASE)
_RULE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)+$")


@dataclass(frozen=True)
class Suppression:
    """Rule ids accepted for one resource / instruction line (both None: the whole file)."""

    rule_ids: frozenset[str]
    reason: str
    resource: str | None = None
    line: int | None = None

    def matches(self, rule_id: str, resource: str | None, line: int | None) -> bool:
        if rule_id.upper() not in self.rule_ids:
            return False
        if self.resource is not None:
            return resource == self.resource
        return self.line is None or line == self.line


@dataclass
class Suppressions:
    """The valid suppressions of one artifact, and notes about the ones that are not."""

    entries: list[Suppression] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def reason_for(self, rule_id: str, resource: str | None, line: int | None) -> str | None:
        """The reason a finding is suppressed, or None when it is not."""
        for entry in self.entries:
            if entry.matches(rule_id, resource, line):
                return entry.reason
        return None

    def check_rule_ids(self, known: Iterable[str]) -> None:
        """Add a note for each suppressed id that is not a rule of this artifact type."""
        known_ids = {rule_id.upper() for rule_id in known}
        unknown = sorted({i for entry in self.entries for i in entry.rule_ids} - known_ids)
        self.notes.extend(
            f"suppression of unknown rule {rule_id} has no effect" for rule_id in unknown
        )


def collect(artifact_type: ArtifactType, text: str, model: Any) -> Suppressions:
    """The suppressions declared in an artifact (its text and parsed model); never raises."""
    try:
        if artifact_type is ArtifactType.CLOUDFORMATION:
            return _cloudformation(model)
        if artifact_type is ArtifactType.DOCKERFILE:
            return _dockerfile(text, model)
    except Exception:  # defensive: a bad suppression must not cost the artifact its findings
        import logging  # only on failure: the import is not free at start-up

        logging.getLogger(__name__).exception("reading the suppressions failed")
        return Suppressions(notes=["the inline suppressions could not be read; none applied"])
    return Suppressions()


# -- CloudFormation --------------------------------------------------------------------------


def _cloudformation(template: Any) -> Suppressions:
    found = Suppressions()
    metadata = template.raw.get("Metadata") if isinstance(template.raw, dict) else None
    _read_metadata(found, metadata, None, "the template")
    for res in template.resources.values():
        _read_metadata(found, res.metadata, res.logical_id, f"resource {res.logical_id}")
    return found


def _read_metadata(found: Suppressions, metadata: Any, resource: str | None, where: str) -> None:
    section = metadata.get("pipeguard") if isinstance(metadata, dict) else None
    if not isinstance(section, dict):
        return
    line = getattr(metadata, "lines", {}).get("pipeguard")
    where = f"line {line}: {where}" if line else where
    items = section.get("suppress", section.get("suppressions"))
    if items is None:
        return
    for item in items if isinstance(items, list) else [items]:
        if not isinstance(item, dict):
            found.notes.append(
                f"{where}: a pipeguard suppression must be a mapping with `rule` and `reason`"
            )
            continue
        raw_ids = item.get("rule", item.get("rules"))
        ids = [raw_ids] if isinstance(raw_ids, str) else raw_ids
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            found.notes.append(f"{where}: a pipeguard suppression names no rule id")
            continue
        _add(found, ids, item.get("reason"), where, resource=resource)


# -- Dockerfile ------------------------------------------------------------------------------


def _dockerfile(text: str, dockerfile: Any) -> Suppressions:
    found = Suppressions()
    if "pipeguard" not in text.lower():  # no suppression comment can match
        return found
    starts = sorted(ins.line for ins in dockerfile.instructions)
    spans = [(ins.line, ins.end_line) for ins in dockerfile.instructions]
    first = starts[0] if starts else None
    following = iter(starts)
    target = next(following, None)
    for number, line in enumerate(text.splitlines(), start=1):
        match = _COMMENT.match(line)
        if not match or any(start <= number <= end for start, end in spans):
            continue  # comments inside an instruction (continuations, heredocs) are its text
        while target is not None and target < number:
            target = next(following, None)
        ids, reason = _split_comment(match.group(1))
        where = f"line {number}"
        if not ids:
            found.notes.append(f"{where}: `# pipeguard:suppress` names no rule id")
        elif first is None or number < first:
            _add(found, ids, reason, where)  # header comment: the whole file
        elif target is not None:
            _add(found, ids, reason, where, line=target)
    return found


def _split_comment(rest: str) -> tuple[list[str], str | None]:
    match = _REASON.search(rest)
    names, reason = (rest[: match.start()], rest[match.end() :]) if match else (rest, None)
    ids = [part for part in re.split(r"[\s,]+", names) if part]
    return ids, reason


# -- shared ----------------------------------------------------------------------------------


def _add(
    found: Suppressions,
    ids: list[str],
    reason: Any,
    where: str,
    *,
    resource: str | None = None,
    line: int | None = None,
) -> None:
    shown = ", ".join(ids)
    bad = [i for i in ids if not _RULE_ID.match(i.strip())]
    if bad:
        found.notes.append(f"{where}: {', '.join(bad)} is not a rule id; suppression ignored")
        return
    if not isinstance(reason, str) or not reason.strip():
        found.notes.append(
            f"{where}: the suppression of {shown} has no reason, so it is ignored "
            "(add `reason: ...`)"
        )
        return
    found.entries.append(
        Suppression(
            rule_ids=frozenset(i.strip().upper() for i in ids),
            reason=reason.strip(),
            resource=resource,
            line=line,
        )
    )
