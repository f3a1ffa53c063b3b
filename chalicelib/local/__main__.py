"""`python -m chalicelib.local run|demo|worker`: the local stack from the command line."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from chalicelib.local.stack import EmbeddedStack, PortUnavailable, StackInfo
from chalicelib.local.statedir import StateDirBusy
from chalicelib.stores.embedded.database import DatabaseRefused

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _banner(info: StackInfo, tenant: str) -> str:
    key_file = Path(info.state_dir) / f"{tenant}-api-key"
    try:
        shown = os.path.relpath(key_file)
    except ValueError:
        shown = str(key_file)
    url = info.api_url
    operator_file = os.path.relpath(Path(info.state_dir) / "admin-api-key")
    if info.backend == "aws":
        where = f"  AWS endpoint   {info.aws_endpoint}  (moto server: forgotten when stopped)"
    else:
        state = os.path.relpath(info.state_dir)
        where = f"  State          {state}  (SQLite: kept across restarts)"
    return f"""
Pipeguard stack is running.
  API            {url}
{where}
  Tenant         {tenant}
  API key        {info.api_keys[tenant]}
                 (also in {shown})
  Operator key   in {operator_file}  (for /v1/admin/*: creating tenants)

Try it (a Dockerfile that runs as root from ubuntu:latest):
  KEY=$(cat {shown})
  curl -s -X POST {url}/v1/scans -H "Authorization: Bearer $KEY" \\
    -H 'Content-Type: application/json' \\
    -d '{{"pipeline": "demo", "run_id": "run-1", "artifacts": [{{"type": "dockerfile",
         "path": "Dockerfile", "content": "FROM ubuntu:latest\\nRUN apt-get update\\n"}}]}}'
  curl -s "{url}/v1/findings?pipeline=demo" -H "Authorization: Bearer $KEY"

Or submit the example pipeline with the collector:
  .venv/bin/python -m collectors submit --api-url {url} --api-key "$KEY" \\
    --pipeline demo examples/

Press Ctrl-C to stop.
"""


def _wait_for_signal() -> None:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass


def _start(stack: EmbeddedStack) -> StackInfo | None:
    """Start the stack, or say on stderr why it cannot start (None)."""
    try:
        return stack.start()
    except StateDirBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
    except PortUnavailable as exc:
        print(f"error: could not listen on {exc}", file=sys.stderr)
        print(
            "hint: another process uses the port; set PORT=8001 (make run PORT=8001)",
            file=sys.stderr,
        )
    except (OSError, ValueError) as exc:
        print(f"error: could not start the stack: {exc}", file=sys.stderr)
    except DatabaseRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
    return None


def run(args: argparse.Namespace) -> int:
    stack = EmbeddedStack(
        host=args.host,
        port=args.port,
        state_dir=args.state_dir,
        seed_tenants=tuple(args.seed),
        backend=args.backend,
    )
    info = _start(stack)
    if info is None:
        return 2
    try:
        if args.ready_file:
            stack.write_ready_file(args.ready_file)
        if args.seed[0] in info.api_keys:
            print(_banner(info, args.seed[0]), flush=True)
        else:
            print(f"Pipeguard stack is running at {info.api_url} on {info.state_dir}.", flush=True)
        _wait_for_signal()
        print("\nStopping…", flush=True)
    finally:
        stack.stop()
    print("Stopped.", flush=True)
    return 0


def demo(args: argparse.Namespace) -> int:
    from collectors.cli import main as collector

    stack = EmbeddedStack(host=args.host, port=0, state_dir=args.state_dir)
    info = _start(stack)
    if info is None:
        return 2
    try:
        print(f"Embedded stack up at {info.api_url}; submitting {EXAMPLES.name}/ …\n", flush=True)
        code = collector(
            [
                "submit",
                "--api-url",
                info.api_url,
                "--api-key",
                info.api_keys["demo"],
                "--pipeline",
                "demo-app",
                "--commit",
                "0000000",
                os.path.relpath(EXAMPLES),
            ]
        )
    finally:
        stack.stop()
    print(f"\nCollector exit code: {code} (1 means the verdict failed the policy).")
    return 0 if code in (0, 1) else code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.local", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", help="start the stack in the foreground")
    run_p.add_argument("--host", default="127.0.0.1")
    run_p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    run_p.add_argument(
        "--state-dir",
        help="where state lives (default: $PIPEGUARD_HOME, else .local; .local-aws with aws)",
    )
    run_p.add_argument(
        "--backend",
        choices=("embedded", "aws"),
        default="embedded",
        help="embedded: SQLite in the state dir, kept (default); aws: the AWS adapters on moto",
    )
    run_p.add_argument(
        "--seed", action="append", default=None, help="tenant to create (repeatable; default demo)"
    )
    run_p.add_argument("--ready-file", help="write the stack's URLs and keys here once up")
    demo_p = sub.add_parser("demo", help="start, scan examples/ with the collector, stop")
    demo_p.add_argument("--host", default="127.0.0.1")
    demo_p.add_argument("--state-dir", default=".local/demo")
    worker_p = sub.add_parser("worker", help="(started by run) poll the event sources")
    worker_p.add_argument("--index", type=int, default=0)
    worker_p.add_argument("--count", type=int, default=1)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "WARNING"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Whatever the stack writes (keys, index, logs) is for its user only.
    os.umask(0o077)
    if args.command == "worker":
        from chalicelib.local.workers import serve

        return serve(args.index, args.count)
    if args.command == "run":
        args.seed = args.seed or ["demo"]
        args.state_dir = args.state_dir or (
            ".local-aws" if args.backend == "aws" else os.environ.get("PIPEGUARD_HOME") or ".local"
        )
        return run(args)
    return demo(args)


if __name__ == "__main__":
    sys.exit(main())
