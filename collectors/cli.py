"""`python -m collectors`: submit artifacts to the service, or scan them offline.

Exit codes: 0 pass; 1 the policy failed (the service's verdict, a finding at or above
--fail-on, or an artifact that could not be read); 2 usage or setup error (a package of
collectors/requirements.txt missing); 3 service or network error.
--soft-fail turns 1 into 0; 2 and 3 stay. See collectors/README.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from collectors import run

EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_SERVICE = 0, 1, 2, 3
SEVERITIES = ("info", "low", "medium", "high", "critical")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # usage errors exit 2, as documented
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _prog() -> str:
    """`pipeguard-collector` when run as the console script, else `python -m collectors`."""
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return name if name.startswith("pipeguard") else "python -m collectors"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=_prog(), description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    scan = sub.add_parser(
        "scan", help="scan files, folders or globs locally, with no service (--offline)"
    )
    run.add_scan_arguments(scan)

    submit = sub.add_parser("submit", help="submit a pipeline run to the service and wait")
    run.add_submit_arguments(submit)

    posture = sub.add_parser(
        "posture",
        help="read the live AWS account, then submit the inventory (or judge it with --offline)",
    )
    from collectors.posture import add_arguments as add_posture_arguments

    add_posture_arguments(posture)

    rules = sub.add_parser("rules", help="list the built-in rules (or print docs/rules.md)")
    rules.add_argument("--format", choices=("json", "table", "markdown"), default="table")
    return parser


def main(argv: list[str] | None = None) -> int:
    from collectors.dependencies import POSTURE_REQUIREMENTS, MissingDependency, check, package_of

    args = build_parser().parse_args(argv)
    try:
        check(POSTURE_REQUIREMENTS if args.command == "posture" else None)
        if args.command == "posture":
            from collectors.posture import posture

            return posture(args)
        if args.command == "scan":
            return scan_offline(args)
        if args.command == "submit":
            return submit(args)
        return list_rules(args)
    except MissingDependency as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ImportError as exc:  # found, yet it cannot be imported (a broken install)
        package = package_of(exc)
        if package is None:
            raise
        print(f"error: {MissingDependency([package])} ({exc})", file=sys.stderr)
        return EXIT_USAGE


def scan_offline(args: argparse.Namespace) -> int:
    return run.scan_offline(args)


def submit(args: argparse.Namespace) -> int:
    return run.submit(args)


def _controls(controls: list[dict[str, str]]) -> str:
    """`  [cis-aws-3.0 1.4, fsbp IAM.4]`, or nothing for a rule that maps to no control."""
    if not controls:
        return ""
    return "  [" + ", ".join(f"{c['framework']} {c['control']}" for c in controls) + "]"


def list_rules(args: argparse.Namespace) -> int:
    from chalicelib.engine.registry import all_rules
    from collectors.output import write_stdout

    if args.format == "markdown":
        from chalicelib.engine.docs import render_markdown

        write_stdout(render_markdown(all_rules()))
        return EXIT_PASS
    metas = [r.meta.as_dict() for r in all_rules()]
    if args.format == "json":
        write_stdout(json.dumps(metas, indent=2) + "\n")
    else:
        write_stdout(
            "".join(
                f"{m['id']:<14} {m['severity']:<9} {m['artifact_type']:<15} {m['title']}"
                + _controls(m["controls"])
                + "\n"
                for m in metas
            )
        )
    return EXIT_PASS
