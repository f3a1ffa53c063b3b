"""`python -m chalicelib.ops reindex|redrive|create-tenant|issue-key|backup|restore|alerts|
deliver-alerts|rebuild-trends`: operator commands.

Deployed, they use the environment's AWS credentials and the same variables as the functions
(FINDINGS_TABLE, DEAD_LETTER_QUEUE_URL, ACCOUNT_SCAN_QUEUE_URL, OPENSEARCH_ENDPOINT...). With
`--local`, they talk to the embedded stack running on `$PIPEGUARD_HOME`, else `.local` (as
`make run` chooses it; `--state-dir DIR` names another folder), which describes itself in
`stack.json` there. `backup PATH` and `restore PATH` act on that state folder itself (`--local`
only): a backup while the stack runs, a restore while it is stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

COMMANDS = (
    "reindex",
    "redrive",
    "create-tenant",
    "issue-key",
    "backup",
    "restore",
    "alerts",
    "deliver-alerts",
    "rebuild-trends",
)
DEFAULT_STATE_DIR = ".local"


def _default_state_dir() -> str:
    """The folder `make run` keeps its state in: `$PIPEGUARD_HOME`, else `.local`."""
    return os.environ.get("PIPEGUARD_HOME") or DEFAULT_STATE_DIR


def _use_local_stack(parser: argparse.ArgumentParser, state_dir: str) -> None:
    from chalicelib.local.statedir import holder

    info_file = Path(state_dir) / "stack.json"
    if holder(Path(state_dir)) is None or not info_file.is_file():
        parser.exit(
            2,
            f"error: no embedded stack is running on {state_dir}: start it with make run "
            "(or name its folder with --state-dir)\n",
        )
    os.environ.update(json.loads(info_file.read_text())["environment"])


def _state_folder_command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """`backup` or `restore` of the state folder: progress on stderr, the manifest on stdout."""
    from chalicelib.local import backup

    if not (args.local or args.state_dir):
        parser.exit(
            2,
            f"error: {args.command} works on the embedded stack's state folder: add --local "
            f"(and --state-dir DIR for another folder than {_default_state_dir()})\n",
        )
    state_dir = Path(args.state_dir or _default_state_dir())
    progress = backup.Progress(lambda line: print(line, file=sys.stderr, flush=True))
    try:
        if args.command == "backup":
            result = backup.backup(state_dir, Path(args.path), progress)
        else:
            result = backup.restore(Path(args.path), state_dir, progress)
    except backup.BackupRefused as exc:
        parser.exit(2, f"error: {exc}\n")
    except OSError as exc:
        parser.exit(2, f"error: {args.command} failed, nothing was changed: {exc}\n")
    print(json.dumps({args.command: result}))
    return 0


def _legacy_local(argv: list[str]) -> list[str]:
    """Before the command, `--local DIR` and `--local=DIR` mean `--local --state-dir DIR`; a
    command name after `--local` is always the command."""
    out: list[str] = []
    for i, arg in enumerate(argv):
        if arg in COMMANDS:
            return out + argv[i:]
        if arg.startswith("--local="):
            out += ["--local", "--state-dir", arg.split("=", 1)[1]]
        elif out[-1:] == ["--local"] and not arg.startswith("-"):
            out += ["--state-dir", arg]
        else:
            out.append(arg)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.ops", description=__doc__)
    parser.add_argument(
        "--local", action="store_true", help="act on the embedded stack started by make run"
    )
    parser.add_argument(
        "--state-dir",
        metavar="DIR",
        help="the embedded stack's state folder (implies --local; default: $PIPEGUARD_HOME, "
        f"else {DEFAULT_STATE_DIR})",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    reindex_p = sub.add_parser("reindex", help="rebuild the search index from DynamoDB")
    reindex_p.add_argument("--tenant", help="only this tenant (default: every tenant)")
    trends_p = sub.add_parser(
        "rebuild-trends", help="recompute the trend counters from the findings table"
    )
    trends_p.add_argument("--tenant", help="only this tenant (default: every tenant)")
    redrive_p = sub.add_parser(
        "redrive",
        help="replay the dead-letter queue; scan again the accounts whose scan jobs were given up",
    )
    redrive_p.add_argument("--max", type=int, default=1000, help="messages at most")
    tenant_p = sub.add_parser("create-tenant", help="create a tenant; prints its first API key")
    tenant_p.add_argument("tenant_id", help="2-63 lowercase letters, digits or dashes")
    tenant_p.add_argument("--name", help="display name (default: the id)")
    key_p = sub.add_parser("issue-key", help="issue another API key to a tenant")
    key_p.add_argument("tenant_id")
    key_p.add_argument(
        "--scope",
        action="append",
        choices=("ingest", "read", "admin"),
        help="repeatable; default: all scopes",
    )
    backup_p = sub.add_parser(
        "backup", help="copy the embedded stack's state folder to PATH (while it runs)"
    )
    backup_p.add_argument("path", metavar="PATH", help="a new folder for the backup")
    restore_p = sub.add_parser(
        "restore", help="replace the embedded stack's state folder by the backup PATH (stopped)"
    )
    restore_p.add_argument("path", metavar="PATH", help="a folder written by backup")
    alerts_p = sub.add_parser(
        "alerts", help="the embedded backend's alert outbox, newest first, with delivery state"
    )
    alerts_p.add_argument("--pending", action="store_true", help="only undelivered alerts")
    alerts_p.add_argument("--limit", type=int, default=50, help="alerts at most")
    deliver_p = sub.add_parser(
        "deliver-alerts", help="post the due alerts of the outbox to the webhook once"
    )
    deliver_p.add_argument("--url", help="the webhook (default: PIPEGUARD_ALERT_WEBHOOK)")
    args = parser.parse_args(_legacy_local(sys.argv[1:] if argv is None else argv))
    if args.command in ("backup", "restore"):
        return _state_folder_command(parser, args)
    if args.local or args.state_dir:
        _use_local_stack(parser, args.state_dir or _default_state_dir())

    from chalicelib import maintenance, tenancy

    if args.command == "reindex":
        result: dict = asdict(maintenance.reindex(args.tenant))
    elif args.command == "rebuild-trends":
        from chalicelib import trends

        result = asdict(trends.rebuild(args.tenant))
    elif args.command == "redrive":
        from chalicelib import account_scan_redrive
        from chalicelib.stores.backend import stores
        from chalicelib.stores.jobs import QueueUnavailable

        try:
            stores().jobs.dead_letter_queue()
        except QueueUnavailable as exc:
            parser.exit(
                2,
                f"error: {exc}: set ACCOUNT_SCAN_QUEUE_URL (stack output AccountScanQueueUrl)\n",
            )
        result = asdict(maintenance.redrive(args.max))
        result["account_scans"] = asdict(account_scan_redrive.redrive(args.max))
    elif args.command in ("alerts", "deliver-alerts"):
        result = _alerts(parser, args)
    elif args.command == "create-tenant":
        try:
            key = tenancy.create_tenant(args.tenant_id, args.name)
        except ValueError as exc:
            parser.error(str(exc))
        result = {"tenant_id": args.tenant_id, "api_key": key}
    else:
        if tenancy.get_tenant(args.tenant_id) is None:
            parser.error(f"no tenant {args.tenant_id!r}: create it first")
        key = tenancy.issue_key(args.tenant_id, args.scope or list(tenancy.SCOPES))
        result = {"tenant_id": args.tenant_id, "api_key": key}
    print(json.dumps({args.command: result}))
    return 0


def _alerts(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict:
    from chalicelib.config import settings
    from chalicelib.stores.backend import stores
    from chalicelib.stores.embedded.outbox import SqliteAlertOutbox

    outbox = stores().alerts
    if not isinstance(outbox, SqliteAlertOutbox):
        parser.exit(
            2,
            "error: alerts go to the SNS topic on the AWS backend: subscribe to ALERT_TOPIC_ARN "
            "(or use --local for the embedded stack's outbox)\n",
        )
    if args.command == "alerts":
        if args.limit < 1:
            parser.error("--limit must be at least 1")
        return {"alerts": [a.to_json() for a in outbox.recent(args.limit, args.pending)]}
    from chalicelib import alert_webhook

    url = args.url or settings().alert_webhook
    if not url.startswith(("http://", "https://")):
        parser.error("name the webhook with --url or PIPEGUARD_ALERT_WEBHOOK (http:// or https://)")
    return asdict(alert_webhook.deliver_due(outbox, url))


if __name__ == "__main__":
    sys.exit(main())
