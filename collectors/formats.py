"""Render an Outcome as JSON, SARIF 2.1.0, JUnit XML, Markdown or a plain-text table."""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable
from typing import Any

from collectors import __version__
from collectors.outcome import SEVERITIES, Outcome, severity_rank
from collectors.output import counts_line, skipped_lines, table, where

FORMATS = ("json", "sarif", "junit", "markdown", "table")
TOOL_NAME = "Pipeguard"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# GitHub code scanning reads `security-severity` (a number as a string) to rank alerts.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}
SARIF_LEVEL = {
    "critical": "error",
    "high": "error",
    "medium": "warning",
    "low": "note",
    "info": "note",
}
MARKDOWN_TOP = 10
MARKDOWN_SKIPPED = 500  # skipped files listed in Markdown (a job summary holds 1 MiB)


def render(fmt: str, outcome: Outcome) -> str:
    renderers: dict[str, Callable[[Outcome], str]] = {
        "json": render_json,
        "sarif": render_sarif,
        "junit": render_junit,
        "markdown": render_markdown,
        "table": render_table,
    }
    return renderers[fmt](outcome)


# --- rule metadata ----------------------------------------------------------------------------


def _rule_catalogue(outcome: Outcome) -> list[dict[str, Any]]:
    """Metadata of the rules for the artifact types seen, plus any rule the findings name.

    The collector ships with the rules, so the local registry describes them; a rule the service
    knows and this copy does not is described from its findings.
    """
    from chalicelib.engine.registry import all_rules

    types = {a["type"] for a in outcome.artifacts} | {
        f["artifact_type"] for f in outcome.findings if f.get("artifact_type")
    }
    catalogue: dict[str, dict[str, Any]] = {}
    for rule in all_rules():
        if rule.meta.artifact_type.value in types:
            catalogue[rule.meta.id] = rule.meta.as_dict()
    for finding in outcome.findings:
        catalogue.setdefault(
            finding["rule_id"],
            {
                "id": finding["rule_id"],
                "artifact_type": finding.get("artifact_type"),
                "title": finding["title"],
                "severity": finding["severity"],
                "description": finding["title"],
                "remediation": "",
                "references": [],
            },
        )
    return [catalogue[key] for key in sorted(catalogue)]


# --- JSON -----------------------------------------------------------------------------------


def render_json(outcome: Outcome) -> str:
    if outcome.mode == "service":
        findings = (outcome.scan or {}).get("findings")
        scan = {k: v for k, v in outcome.scan.items() if k != "findings"} if outcome.scan else None
        document = {
            "scan": scan,
            "findings": findings or [],
            "errors": outcome.errors,
            "notes": outcome.notes,
            "skipped": outcome.skipped,
        }
        return json.dumps(document, indent=2) + "\n"
    document = {
        "findings": [
            {
                "rule_id": f["rule_id"],
                "severity": f["severity"],
                "file": f["path"],
                "resource": f["resource"],
                "line": f["line"],
                "title": f["title"],
                "message": f["message"],
            }
            for f in outcome.findings
        ],
        "errors": outcome.errors,
        "notes": outcome.notes,
        "scanned": outcome.scanned,
        "skipped": outcome.skipped,
        "ignored": outcome.ignored,
        "excluded": outcome.excluded,
    }
    return _one_item_per_line(document)


def _one_item_per_line(document: dict[str, Any]) -> str:
    """JSON with one line per list item (a finding, an error): easy to read and to grep,
    and written by the C encoder, which `indent=` would bypass."""
    fields = []
    for key, value in document.items():
        name = json.dumps(key)
        if isinstance(value, list) and value:
            items = ",\n    ".join(json.dumps(item) for item in value)
            fields.append(f"  {name}: [\n    {items}\n  ]")
        else:
            fields.append(f"  {name}: {json.dumps(value)}")
    return "{\n" + ",\n".join(fields) + "\n}\n"


# --- SARIF ----------------------------------------------------------------------------------


def _camel(title: str) -> str:
    return "".join(word[:1].upper() + word[1:] for word in re.findall(r"[A-Za-z0-9]+", title))


def _uri(path: str) -> str:
    return urllib.parse.quote(path.replace("\\", "/"), safe="/:@!$&'()*+,;=-._~")


def fingerprint(rule_id: str, path: str, resource: str | None, identity: str | None = None) -> str:
    """Stable across runs: the same rule on the same resource of the same file (and, for an
    imported SARIF result, the same identity its log gave it)."""
    parts = (rule_id, path.replace("\\", "/"), resource or "", *((identity,) if identity else ()))
    import hashlib  # SARIF reports only: loading OpenSSL costs every other run a few ms

    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:32]


def _location(f: dict[str, Any]) -> dict[str, Any]:
    """Where a finding is: its artifact and line; for a result imported from a SARIF log, the
    file the scanner reported (when it is a relative path) rather than the log."""
    uri, line = f["path"], f.get("line")
    imported = f.get("artifact_type") == "sarif"
    if imported:
        resource = f.get("resource") or ""
        relative = resource and not re.match(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:|/)", resource)
        uri, line = (resource, line) if relative else (uri, None)
    location: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": _uri(uri)}}}
    if line:
        location["physicalLocation"]["region"] = {"startLine": int(line)}
    if f.get("resource") and not imported:
        location["logicalLocations"] = [{"name": f["resource"], "kind": "resource"}]
    return location


def _sarif_rule(meta: dict[str, Any]) -> dict[str, Any]:
    severity = meta["severity"]
    descriptor: dict[str, Any] = {
        "id": meta["id"],
        "name": _camel(meta["title"]) or meta["id"],
        "shortDescription": {"text": meta["title"]},
        "fullDescription": {"text": meta.get("description") or meta["title"]},
        "defaultConfiguration": {"level": SARIF_LEVEL.get(severity, "warning")},
        "properties": {
            "security-severity": SECURITY_SEVERITY.get(severity, "5.5"),
            "severity": severity,
            "tags": ["security", "compliance"]
            + ([meta["artifact_type"]] if meta.get("artifact_type") else []),
            "precision": "high",
        },
    }
    remediation = meta.get("remediation") or ""
    if remediation:
        descriptor["help"] = {"text": remediation, "markdown": remediation}
    references = meta.get("references") or []
    if references:
        descriptor["helpUri"] = references[0]
    return descriptor


def _notification(level: str, kind: str, path: str, text: str) -> dict[str, Any]:
    """A tool execution notification about one file (unreadable, decoded, skipped)."""
    return {
        "level": level,
        "message": {"text": f"{path}: {text}"},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(path)}}}],
        "descriptor": {"id": kind},
    }


def render_sarif(outcome: Outcome) -> str:
    catalogue = _rule_catalogue(outcome)
    index = {meta["id"]: i for i, meta in enumerate(catalogue)}
    results = []
    for f in outcome.sorted_findings():
        location = _location(f)
        message = f["message"] or f["title"]
        if f.get("artifact_type") == "sarif":
            uri = location["physicalLocation"]["artifactLocation"]["uri"]
            if f.get("resource") and uri != _uri(f["resource"]):
                at = f"{f['resource']}:{f['line']}" if f.get("line") else f["resource"]
                message = f"{message} (at {at})"
        elif f.get("resource") and f["resource"] not in message:
            message = f"{message} (resource {f['resource']})"
        results.append(
            {
                "ruleId": f["rule_id"],
                "ruleIndex": index[f["rule_id"]],
                "level": SARIF_LEVEL.get(f["severity"], "warning"),
                "message": {"text": message},
                "locations": [location],
                "partialFingerprints": {
                    "pipeguardFinding/v1": fingerprint(
                        f["rule_id"], f["path"], f.get("resource"), f.get("identity")
                    )
                },
                "properties": {"severity": f["severity"]},
            }
        )
        if f.get("suppression"):
            kind = "external" if f["suppression"] in ("suppressed", "waived") else "inSource"
            results[-1]["suppressions"] = [{"kind": kind, "justification": f["suppression"]}]
    notifications = [
        _notification("error", "artifact-unreadable", e["file"], e["message"])
        for e in outcome.errors
    ]
    notifications += [
        _notification("warning", "artifact-decoded-latin1", n["file"], n["message"])
        for n in outcome.notes
    ]
    notifications += [
        _notification("note", "file-skipped", k["file"], f"skipped: {k['reason']}")
        for k in outcome.skipped
    ]
    driver: dict[str, Any] = {
        "name": TOOL_NAME,
        "version": __version__,
        "semanticVersion": __version__,
        "rules": [_sarif_rule(meta) for meta in catalogue],
    }
    if outcome.api_url:
        driver["informationUri"] = outcome.api_url
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
        "columnKind": "unicodeCodePoints",
        "results": results,
        "properties": {
            "verdict": outcome.verdict,
            "serviceVerdict": outcome.server_verdict,
            "failOn": outcome.fail_on,
            "pipeline": outcome.pipeline,
            "runId": outcome.run_id,
            "scanId": (outcome.scan or {}).get("scan_id"),
            "runUrl": outcome.info.run_url,
        },
    }
    if outcome.info.repository_url:
        provenance: dict[str, Any] = {"repositoryUri": outcome.info.repository_url}
        if outcome.commit:
            provenance["revisionId"] = outcome.commit
        if outcome.info.branch:
            provenance["branch"] = outcome.info.branch
        run["versionControlProvenance"] = [provenance]
    document = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(document, indent=2) + "\n"


# --- JUnit XML ------------------------------------------------------------------------------


def render_junit(outcome: Outcome) -> str:
    """A test suite per artifact; a test case per rule that applies to it (failing on hits)."""
    from chalicelib.engine.registry import all_rules

    by_type: dict[str, list[tuple[str, str]]] = {}
    for rule in all_rules():
        by_type.setdefault(rule.meta.artifact_type.value, []).append(
            (rule.meta.id, rule.meta.title)
        )
    hits: dict[str, dict[str, list[dict[str, Any]]]] = {}
    titles: dict[str, str] = {}
    for f in outcome.findings:
        titles.setdefault(f["rule_id"], f["title"])
        if not f.get("suppression"):  # a suppressed finding does not fail its test case
            hits.setdefault(f["path"], {}).setdefault(f["rule_id"], []).append(f)

    import xml.etree.ElementTree as ET  # noqa: N817 - only the JUnit report needs it

    root = ET.Element("testsuites", name=TOOL_NAME)
    totals = {"tests": 0, "failures": 0, "errors": 0}
    suites: list[tuple[str, str | None, str | None]] = [
        (a["path"], a["type"], a.get("error")) for a in outcome.artifacts
    ]
    listed = {path for path, _, _ in suites}
    suites += [(e["file"], None, e["message"]) for e in outcome.errors if e["file"] not in listed]
    notes = {n["file"]: n["message"] for n in outcome.notes}
    totals["skipped"] = 0
    for path, artifact_type, error in suites:
        suite = ET.SubElement(root, "testsuite", name=path)
        counts = {"tests": 0, "failures": 0, "errors": 0}
        if artifact_type:
            props = ET.SubElement(suite, "properties")
            ET.SubElement(props, "property", name="artifact_type", value=artifact_type)
        if error:
            case = ET.SubElement(
                suite, "testcase", name="artifact can be parsed", classname=path, file=path
            )
            ET.SubElement(case, "error", type="ParseError", message=error).text = error
            counts["tests"] += 1
            counts["errors"] += 1
        else:
            rules = dict(by_type.get(artifact_type or "", []))
            for rule_id in hits.get(path, {}):
                rules.setdefault(rule_id, titles[rule_id])
            for rule_id in sorted(rules):
                case = ET.SubElement(
                    suite,
                    "testcase",
                    name=f"{rule_id}: {rules[rule_id]}",
                    classname=path,
                    file=path,
                )
                counts["tests"] += 1
                found = hits.get(path, {}).get(rule_id)
                if found:
                    counts["failures"] += 1
                    worst = max(found, key=lambda f: severity_rank(f["severity"]))["severity"]
                    lines = [_finding_line(f) for f in found]
                    failure = ET.SubElement(
                        case,
                        "failure",
                        type=worst,
                        message=f"{len(found)} finding(s), {worst}: {found[0]['message']}",
                    )
                    failure.text = "\n".join(lines)
        if path in notes:
            ET.SubElement(suite, "system-out").text = f"note: {notes[path]}"
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("skipped", "0")
    if outcome.skipped:
        _junit_skipped(root, outcome.skipped)
        totals["tests"] += 1
        totals["skipped"] += 1
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _junit_skipped(root: Any, skipped: list[dict[str, str]]) -> None:
    """One skipped test case for the files that were no artifact, each listed with its reason."""
    import xml.etree.ElementTree as ET  # noqa: N817

    count = len(skipped)
    suite = ET.SubElement(
        root, "testsuite", name="skipped files", tests="1", failures="0", errors="0", skipped="1"
    )
    case = ET.SubElement(
        suite, "testcase", name=f"{count} file{'s' * (count != 1)} skipped", classname=TOOL_NAME
    )
    ET.SubElement(case, "skipped", message=f"{count} files are no artifact (see system-out)")
    ET.SubElement(suite, "system-out").text = "\n".join(
        f"{s['file']}: {s['reason']}" for s in skipped
    )


def _finding_line(f: dict[str, Any]) -> str:
    return f"[{f['severity']}] {where(f)}: {f['message']}"


# --- Markdown -------------------------------------------------------------------------------


def _message(f: dict[str, Any]) -> str:
    text = _cell(f["message"])
    return text + (f" _(suppressed: {_cell(f['suppression'])})_" if f.get("suppression") else "")


def _cell(text: Any) -> str:
    value = "" if text is None else str(text)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return value.replace("|", "\\|").replace("\r", " ").replace("\n", " ").strip()


def _code(text: str) -> str:
    return "`" + text.replace("`", "'").replace("\n", " ") + "`"


def _where(f: dict[str, Any]) -> str:
    if f.get("artifact_type") == "sarif" and f.get("resource"):
        line = f":{f['line']}" if f.get("line") else ""
        return f"{_code(f['resource'] + line)} ({_cell(f['path'])})"
    found = _code(f["path"] + (f":{f['line']}" if f.get("line") else ""))
    if f.get("resource"):
        found += f" ({_cell(f['resource'])})"
    return found


def render_markdown(outcome: Outcome) -> str:
    passed = not outcome.failed
    icon = "✅" if passed else "❌"
    lines = [f"## {icon} Pipeguard: {'PASS' if passed else 'FAIL'}", ""]
    facts = []
    if outcome.pipeline:
        facts.append(f"pipeline {_code(outcome.pipeline)}")
    if outcome.run_id:
        facts.append(f"run {_code(outcome.run_id)}")
    if outcome.commit:
        facts.append(f"commit {_code(outcome.commit[:12])}")
    if outcome.info.pull_request:
        facts.append(f"pull request #{_cell(outcome.info.pull_request)}")
    if outcome.info.run_url:
        facts.append(f"[CI run]({outcome.info.run_url})")
    if outcome.scan and outcome.scan.get("scan_id"):
        facts.append(f"scan {_code(outcome.scan['scan_id'])}")
    if outcome.mode == "offline":
        facts.append("offline scan")
    if facts:
        lines += [" · ".join(facts), ""]
    if outcome.reasons:
        lines.append("**Fails because:**")
        lines += [f"- {reason}" for reason in outcome.reasons]
    else:
        threshold = outcome.fail_on or outcome.server_fail_on
        lines.append(
            "No finding blocks this run"
            + (f" (fails on {threshold} or above)." if threshold else ".")
        )
    lines.append("")
    counts = outcome.counts()
    lines += ["| Severity | Findings |", "|---|---:|"]
    lines += [f"| {s.capitalize()} | {counts[s]} |" for s in reversed(SEVERITIES)]
    lines += [f"| **Total** | **{len(outcome.findings)}** |", ""]
    summary = f"{outcome.scanned} artifact{'s' * (outcome.scanned != 1)} scanned"
    if outcome.errors:
        summary += f", {len(outcome.errors)} could not be read or parsed"
    if outcome.skipped:
        summary += f", {len(outcome.skipped)} files skipped (no artifact; listed below)"
    if outcome.ignored:
        summary += f", {outcome.ignored} other files not read (no artifact's name)"
    lines += [summary + ".", ""]
    ordered = outcome.sorted_findings()
    if ordered:
        shown = ordered[:MARKDOWN_TOP]
        title = "Top findings" if len(ordered) > len(shown) else "Findings"
        lines += [f"### {title}", "", "| Severity | Rule | Where | Message |", "|---|---|---|---|"]
        lines += [
            f"| {f['severity'].upper()} | {_code(f['rule_id'])} | {_where(f)} | {_message(f)} |"
            for f in shown
        ]
        lines.append("")
        lines += [
            f"<details><summary>All {len(ordered)} findings by file</summary>",
            "",
        ]
        paths = sorted({f["path"] for f in ordered})
        for path in paths:
            lines += [
                f"#### {_code(path)}",
                "",
                "| Severity | Rule | Line | Resource | Title | Message |",
                "|---|---|---:|---|---|---|",
            ]
            lines += [
                f"| {f['severity'].upper()} | {_code(f['rule_id'])} | {f.get('line') or ''} | "
                f"{_cell(f.get('resource'))} | {_cell(f['title'])} | {_message(f)} |"
                for f in ordered
                if f["path"] == path
            ]
            lines.append("")
        lines += ["</details>", ""]
    if outcome.errors:
        lines += [
            f"<details><summary>{len(outcome.errors)} files could not be read or parsed</summary>",
            "",
        ]
        lines += [f"- {_code(e['file'])}: {_cell(e['message'])}" for e in outcome.errors]
        lines += ["", "</details>", ""]
    if outcome.notes:
        lines += ["**Notes:**", ""]
        lines += [f"- {_code(n['file'])}: {_cell(n['message'])}" for n in outcome.notes]
        lines.append("")
    if outcome.skipped:
        count = len(outcome.skipped)
        lines += [f"<details><summary>{count} files skipped (no artifact)</summary>", ""]
        lines += [
            f"- {_code(k['file'])}: {_cell(k['reason'])}"
            for k in outcome.skipped[:MARKDOWN_SKIPPED]
        ]
        if count > MARKDOWN_SKIPPED:
            lines.append(f"- … and {count - MARKDOWN_SKIPPED} more (the JSON report lists all)")
        lines += ["", "</details>", ""]
    return "\n".join(lines)


# --- table ----------------------------------------------------------------------------------


def render_table(outcome: Outcome) -> str:
    rows = [{**f, "file": f["path"]} for f in outcome.findings]
    out = [table(rows)]
    out += [f"error: {e['file']}: {e['message']}" for e in outcome.errors]
    out += [f"note: {n['file']}: {n['message']}" for n in outcome.notes]
    out += skipped_lines(outcome.skipped, "skipped: ")
    counts = counts_line(outcome.counts())
    files = f"{outcome.scanned} artifacts scanned, {len(outcome.skipped)} skipped"
    if outcome.mode == "service" and outcome.scan is None:
        out.append(
            f"\n{files}: nothing was sent to the service\nVerdict: {outcome.verdict.upper()}"
        )
    elif outcome.mode == "service":
        scan = outcome.scan
        verdict = outcome.verdict.upper()
        server = (scan.get("verdict") or scan.get("status") or "unknown").upper()
        out.append(
            f"\n{files}."
            f"\nScan {scan.get('scan_id')} of {outcome.pipeline}: {verdict} ({counts}; the "
            f"service's verdict is {server}, failing on {scan.get('fail_on')} or above"
            + (f"; --fail-on {outcome.fail_on}" if outcome.fail_on else "")
            + ")"
        )
    else:
        out.append(
            f"\n{files}: {counts}"
            f"\nVerdict: {outcome.verdict.upper()} (fails on {outcome.fail_on} or above)"
        )
    for reason in outcome.reasons:
        out.append(f"  - {reason}")
    return "\n".join(out) + "\n"
