"""`python -m collectors`: submit artifacts to the service, or scan them offline.

Exit codes: 0 pass; 1 the policy failed (a finding at or above the threshold, or an artifact
that could not be read); 2 usage error; 3 service or network error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from collectors.files import collect

EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_SERVICE = 0, 1, 2, 3
SEVERITIES = ("info", "low", "medium", "high", "critical")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # usage errors exit 2, as documented
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m collectors", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    scan = sub.add_parser("scan", help="scan files or folders")
    scan.add_argument("--offline", action="store_true", help="evaluate locally, no service")
    scan.add_argument("--format", choices=("json", "table"), default="table")
    scan.add_argument("--fail-on", choices=SEVERITIES, default="high")
    scan.add_argument("paths", nargs="+", metavar="PATH")

    submit = sub.add_parser("submit", help="submit a pipeline run to the service and wait")
    submit.add_argument("--api-url", required=True)
    submit.add_argument("--api-key", required=True)
    submit.add_argument("--pipeline", required=True)
    submit.add_argument("--run-id", default=None, help="default: a new id per invocation")
    submit.add_argument("--commit", default=None)
    submit.add_argument("--timeout", type=float, default=300.0, help="seconds to wait")
    submit.add_argument("--format", choices=("json", "table"), default="table")
    submit.add_argument("paths", nargs="+", metavar="PATH")

    rules = sub.add_parser("rules", help="list the built-in rules")
    rules.add_argument("--format", choices=("json", "table"), default="table")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "scan":
        return scan_offline(args)
    if args.command == "submit":
        return submit(args)
    return list_rules(args)


def scan_offline(args: argparse.Namespace) -> int:
    from chalicelib.engine.runner import evaluate
    from collectors.output import counts_line, table

    if not args.offline:
        print(
            "error: scan runs offline only (add --offline); use submit for the service",
            file=sys.stderr,
        )
        return EXIT_USAGE
    collected = collect(args.paths)
    if collected.missing:
        for path in collected.missing:
            print(f"error: {path}: no such file or folder", file=sys.stderr)
        return EXIT_USAGE
    findings: list[dict[str, Any]] = []
    errors = list(collected.errors)
    for artifact in collected.artifacts:
        report = evaluate(artifact.type, artifact.text, artifact.path)
        if report.error:
            errors.append({"file": artifact.path, "message": report.error})
        findings.extend(
            {
                "rule_id": f.rule_id,
                "severity": f.severity,
                "file": artifact.path,
                "resource": f.resource,
                "line": f.line,
                "title": f.title,
                "message": f.message,
            }
            for f in report.findings
        )
    blocking = SEVERITIES.index(args.fail_on)
    failed = bool(errors) or any(SEVERITIES.index(f["severity"]) >= blocking for f in findings)
    if args.format == "json":
        document = {
            "findings": findings,
            "errors": errors,
            "scanned": len(collected.artifacts),
            "skipped": collected.skipped,
        }
        print(json.dumps(document, indent=2))
    else:
        counts = {s: sum(1 for f in findings if f["severity"] == s) for s in SEVERITIES}
        print(table(findings))
        for error in errors:
            print(f"error: {error['file']}: {error['message']}")
        print(
            f"\n{len(collected.artifacts)} artifacts scanned, {collected.skipped} skipped: "
            f"{counts_line(counts)}"
        )
    return EXIT_FAIL if failed else EXIT_PASS


def submit(args: argparse.Namespace) -> int:
    from collectors.client import ApiFailure, Client
    from collectors.output import counts_line, table

    collected = collect(args.paths)
    for path in collected.missing:
        print(f"error: {path}: no such file or folder", file=sys.stderr)
    for error in collected.errors:
        print(f"error: {error['file']}: {error['message']}", file=sys.stderr)
    if collected.errors or collected.missing:
        return EXIT_USAGE
    if not collected.artifacts:
        print("error: no artifacts found in the given paths", file=sys.stderr)
        return EXIT_USAGE
    client = Client(args.api_url, args.api_key)
    scan_request = {
        "pipeline": args.pipeline,
        "run_id": args.run_id or f"local-{int(time.time() * 1000)}",
        "commit": args.commit,
        "artifacts": [
            {"type": a.type.value, "path": a.path, "content": a.text} for a in collected.artifacts
        ],
    }
    try:
        accepted = client.submit_scan(scan_request)
        scan = client.wait_for_scan(accepted["scan_id"], timeout=args.timeout)
        if scan["status"] == "complete":
            scan = client.report(accepted["scan_id"])
        findings = scan.pop("findings", [])
    except ApiFailure as exc:
        where = "service unreachable" if exc.status == 0 else f"HTTP {exc.status}"
        print(f"error: {where}: {exc.message}", file=sys.stderr)
        return (
            EXIT_USAGE
            if 400 <= exc.status < 500 and exc.status not in (401, 403, 429)
            else EXIT_SERVICE
        )
    except TimeoutError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_SERVICE
    if args.format == "json":
        print(json.dumps({"scan": scan, "findings": findings}, indent=2))
    else:
        print(table(findings))
        for artifact in scan.get("artifacts", []):
            if artifact.get("error"):
                print(f"error: {artifact['path']}: {artifact['error']}")
        verdict = (scan.get("verdict") or scan["status"]).upper()
        print(
            f"\nScan {scan['scan_id']} of {args.pipeline}: {verdict} "
            f"({counts_line(scan.get('counts') or {})}; fails on {scan.get('fail_on')} or above)"
        )
    if scan["status"] == "failed":
        return EXIT_SERVICE
    return EXIT_FAIL if scan.get("verdict") == "fail" else EXIT_PASS


def list_rules(args: argparse.Namespace) -> int:
    from chalicelib.engine.registry import all_rules

    metas = [r.meta.as_dict() for r in all_rules()]
    if args.format == "json":
        print(json.dumps(metas, indent=2))
    else:
        for m in metas:
            print(f"{m['id']:<14} {m['severity']:<9} {m['artifact_type']:<15} {m['title']}")
    return EXIT_PASS
