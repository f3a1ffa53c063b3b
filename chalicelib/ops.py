"""`python -m chalicelib.ops reindex|redrive`: operator commands (deployed or local).

Deployed, they use the environment's AWS credentials and the same variables as the functions
(FINDINGS_TABLE, DEAD_LETTER_QUEUE_URL, OPENSEARCH_ENDPOINT...). With `--local`, they talk to
the running embedded stack (its address is in `.local/stack.json`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path


def _use_local_stack(state_dir: str) -> None:
    info_file = Path(state_dir) / "stack.json"
    if not info_file.is_file():
        raise SystemExit(
            f"error: no running stack described in {info_file}: start it with make run"
        )
    os.environ.update(json.loads(info_file.read_text())["environment"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.ops", description=__doc__)
    parser.add_argument(
        "--local",
        metavar="STATE_DIR",
        nargs="?",
        const=".local",
        default=None,
        help="act on the embedded stack (default state dir: .local)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    reindex_p = sub.add_parser("reindex", help="rebuild the search index from DynamoDB")
    reindex_p.add_argument("--tenant", help="only this tenant (default: every tenant)")
    redrive_p = sub.add_parser("redrive", help="replay the dead-letter queue")
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
    args = parser.parse_args(argv)
    if args.local:
        _use_local_stack(args.local)

    from chalicelib import maintenance, tenancy

    if args.command == "reindex":
        result: dict = asdict(maintenance.reindex(args.tenant))
    elif args.command == "redrive":
        result = asdict(maintenance.redrive(args.max))
    elif args.command == "create-tenant":
        try:
            key = tenancy.create_tenant(args.tenant_id, args.name)
        except ValueError as exc:
            parser.error(str(exc))
        result = {"tenant_id": args.tenant_id, "api_key": key}
    else:
        from chalicelib.stores.tenants import get_tenant

        if get_tenant(args.tenant_id) is None:
            parser.error(f"no tenant {args.tenant_id!r}: create it first")
        key = tenancy.issue_key(args.tenant_id, args.scope or list(tenancy.SCOPES))
        result = {"tenant_id": args.tenant_id, "api_key": key}
    print(json.dumps({args.command: result}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
