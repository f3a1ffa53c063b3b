"""Findings imported from other scanners' SARIF 2.1.0 logs.

Rule ids: `sarif:<tool>/<rule>`, the tool being the run's `tool.driver.name` in lower case
with every run of characters other than `a-z 0-9 . _ -` turned into one `-` ("Semgrep OSS" →
`semgrep-oss`), the rule the result's rule id as the tool wrote it (`CKV_AWS_18`,
`py/sql-injection`), whitespace turned into `-`. Built-in ids are `DF-…`, `CF-…`, `JU-…`,
`SA-…` and custom ones `X-…`: none contains `:`, so the two can never collide. A result with
no rule id at all is `sarif:<tool>/no-rule`.

Severity: the result's `security-severity` property, else its rule's (a CVSS-like score, as
GitHub code scanning reads it): ≥ 9 critical, ≥ 7 high, ≥ 4 medium, > 0 low, 0 info. Without
a usable score, the level: error → high, warning → medium, note → low, none → info.

Identity (what makes the same issue in the next run the same finding): the rule, the file,
and the first of
1. the result's `fingerprints`, else its `partialFingerprints` — a key whose value results
   of other rules or files share (Semgrep OSS writes `"requires login"` for every result) is
   no identity and is left out for the whole run;
2. the first line of the region's snippet, without a trailing `#` or `//` comment and with
   whitespace collapsed (checkov's snippet is the whole resource: its first line, the
   resource's name, stays when the resource is edited; `# nosemgrep` added to a line leaves
   it the same line);
3. the logical location (`fullyQualifiedName`, else `name`);
4. nothing more: the rule's results in that file are one finding listing every line.
Lines alone never identify a result, so a finding survives code moving above it.

Not imported: results of kind `pass` or `notApplicable`, and results whose `baselineState` is
`absent` (the tool says they are gone since its baseline: the finding is then fixed).
Suppressions in the log: a result with a suppression that is accepted (or has no status), and
none under review or rejected, is suppressed when the suppression gives a justification (the
finding's reason); without one it counts, as an inline suppression without a reason does.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from chalicelib.kinds import Severity

__all__ = [
    "PREFIX",
    "covers",
    "import_findings",
    "is_imported",
    "rule_id_of",
    "severity_of",
    "tool_key",
    "tool_of",
    "valid_reference",
]

PREFIX = "sarif:"
NO_RULE = "no-rule"
MAX_RULE_PART = 200
LEVEL_SEVERITY = {
    "error": Severity.HIGH,
    "warning": Severity.MEDIUM,
    "note": Severity.LOW,
    "none": Severity.INFO,
}
SKIPPED_KINDS = frozenset({"pass", "notApplicable"})
_NOT_TOOL = re.compile(r"[^a-z0-9._-]+")
_SPACE = re.compile(r"\s+")
# a comment added to a flagged line (`# nosemgrep`, `// NOSONAR`) leaves it the same line
_TRAILING_COMMENT = re.compile(r"\s+(?:#|//).*$")
_TOOL = r"[a-z0-9._-]{1,64}"
_REFERENCE = re.compile(rf"sarif(?::{_TOOL}(?:/[^\s\x00-\x1f]{{1,{MAX_RULE_PART}}})?)?")


def tool_key(name: str) -> str:
    """The tool part of an imported rule id: "Semgrep OSS" → "semgrep-oss"."""
    key = _NOT_TOOL.sub("-", name.strip().lower()).strip("-")[:64].strip("-")
    return key or "unknown"


def rule_id_of(tool: str, rule: str | None) -> str:
    """`sarif:<tool>/<rule>` for a tool's name and a result's rule id (as the tool wrote it)."""
    part = _SPACE.sub("-", (rule or "").strip()) or NO_RULE
    if len(part) > MAX_RULE_PART:  # keep distinct ids distinct
        digest = hashlib.sha256(part.encode("utf-8")).hexdigest()[:12]
        part = part[: MAX_RULE_PART - 13] + "~" + digest
    return f"{PREFIX}{tool_key(tool)}/{part}"


def is_imported(rule_id: str) -> bool:
    return rule_id.startswith(PREFIX)


def tool_of(rule_id: str) -> str | None:
    """`sarif:<tool>` of an imported rule id, else None."""
    if not is_imported(rule_id):
        return None
    return rule_id.split("/", 1)[0]


def valid_reference(entry: str, *, packs: bool) -> bool:
    """Whether a policy or waiver may name `entry`: an imported rule id, or (with `packs`)
    `sarif:<tool>` for all of a tool's results or `sarif` for every imported result."""
    if not _REFERENCE.fullmatch(entry):
        return False
    return packs or "/" in entry


def covers(entry: str, rule_id: str) -> bool:
    """Whether a `disabled_rules` entry (`sarif`, `sarif:<tool>` or a full id) covers an
    imported rule id."""
    if entry == rule_id:
        return True
    if entry == "sarif":
        return is_imported(rule_id)
    return ":" in entry and "/" not in entry and rule_id.startswith(entry + "/")


def severity_of(security_severity: Any, level: str) -> Severity:
    """The documented mapping: the score when there is a usable one, else the level."""
    score = _score(security_severity)
    if score is None:
        return LEVEL_SEVERITY.get(level, Severity.MEDIUM)
    if score >= 9:
        return Severity.CRITICAL
    if score >= 7:
        return Severity.HIGH
    if score >= 4:
        return Severity.MEDIUM
    if score > 0:
        return Severity.LOW
    return Severity.INFO


def _score(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        score = float(value)
    except ValueError:
        return None
    return score if math.isfinite(score) and 0 <= score <= 10 else None


def import_findings(
    log: Any, enabled: Callable[[str], bool] | None = None
) -> tuple[list[Any], list[str]]:
    """The findings of a parsed log (`chalicelib.parsers.sarif.SarifLog`) and notes about
    what was left out; `enabled` says which rule ids are imported (default: all)."""
    from chalicelib.engine.runner import RawFinding

    findings: list[RawFinding] = []
    notes: list[str] = []
    skipped: Counter[str] = Counter()
    unjustified = 0
    for run in log.runs:
        untrusted = _shared_fingerprints(run.results or ())
        if untrusted:
            keys = ", ".join(sorted(untrusted))
            notes.append(
                f"runs[{run.index}] ({run.tool}): fingerprint {keys} has the same value on "
                "results of different rules or files, so it identifies nothing and is not used"
            )
        for result in run.results or ():
            if result.kind in SKIPPED_KINDS:
                skipped[f"of kind {result.kind}"] += 1
                continue
            if result.baseline_state == "absent":
                skipped["absent since the baseline"] += 1
                continue
            rule_id = rule_id_of(run.tool, result.rule_id)
            if enabled is not None and not enabled(rule_id):
                continue
            suppression = _suppression(result.suppressions)
            if suppression == "":
                unjustified += 1
            findings.append(
                RawFinding(
                    rule_id=rule_id,
                    severity=severity_of(result.security_severity, result.level).value,
                    title=_one_line(result.title or result.rule_id or f"{run.tool} result"),
                    message=result.message or result.title or rule_id,
                    resource=result.file,
                    line=result.line,
                    suppression=suppression or None,
                    fingerprint=_identity(result, untrusted),
                )
            )
    notes += [f"{n} result(s) {why} not imported" for why, n in sorted(skipped.items())]
    if unjustified:
        notes.append(
            f"{unjustified} result(s) suppressed in the log without a justification count as "
            "findings: give the suppression a justification, or waive them"
        )
    return findings, notes


def _suppression(entries: Iterable[Any]) -> str | None:
    """The justification of an accepted suppression; "" when it has none; None when the
    result is not suppressed."""
    entries = list(entries)
    if not entries or any(e.status in ("underReview", "rejected") for e in entries):
        return None
    reasons = [e.justification.strip() for e in entries if (e.justification or "").strip()]
    return reasons[0] if reasons else ""


def _shared_fingerprints(results: Iterable[Any]) -> set[str]:
    """Fingerprint keys (`fingerprints/…`, `partialFingerprints/…`) whose value results of
    different rules or files share: such a value identifies nothing."""
    owners: dict[tuple[str, str], set[tuple[str | None, str | None]]] = {}
    for result in results:
        for kind, values in (
            ("fingerprints", result.fingerprints),
            ("partialFingerprints", result.partial_fingerprints),
        ):
            for key, value in values.items():
                owners.setdefault((f"{kind}/{key}", value), set()).add(
                    (result.rule_id, result.file)
                )
    return {key for (key, _), found in owners.items() if len(found) > 1}


def _identity(result: Any, untrusted: set[str]) -> str | None:
    """A digest of what identifies the result beyond its rule and file, if anything."""
    for kind, values in (
        ("fingerprints", result.fingerprints),
        ("partialFingerprints", result.partial_fingerprints),
    ):
        usable = sorted(
            f"{key}={value}" for key, value in values.items() if f"{kind}/{key}" not in untrusted
        )
        if usable:
            return _digest(kind, *usable)
    first = next((line for line in (result.snippet or "").splitlines() if line.strip()), "")
    first = _TRAILING_COMMENT.sub("", first).strip()
    if first:
        return _digest("snippet", _SPACE.sub(" ", first))
    if result.logical_location:
        return _digest("logical", result.logical_location)
    return None


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def _one_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else text
    return line[:200]
