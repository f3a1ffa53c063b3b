"""`posture`: read the live AWS account into an inventory, then judge it offline or submit it.

The account is the one the usual boto3 credential chain reaches (`--profile`, `AWS_PROFILE`,
the environment, SSO, an instance or CI role); `AWS_ENDPOINT_URL` points every client
elsewhere (moto, in tests). The inventory is one artifact, `aws/<account>.json`, of type
`aws_inventory`: the same path on every run, so a finding is fixed when the next run no
longer sees it. Reports and exit codes are those of `scan` and `submit`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from collectors import run
from collectors.outcome import Outcome, offline_finding, service_finding

ARTIFACT_TYPE = "aws_inventory"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--region",
        dest="regions",
        action="append",
        default=[],
        metavar="REGION",
        help="a region to read (repeatable; 'all' for every region enabled in the account; "
        "default: the session's region)",
    )
    parser.add_argument(
        "--service",
        dest="services",
        action="append",
        default=[],
        metavar="SERVICE",
        help="read only this service (repeatable; default: every service, see collectors/README)",
    )
    parser.add_argument(
        "--stack",
        dest="stacks",
        action="append",
        default=[],
        metavar="NAME",
        help="a CloudFormation stack (name or ARN) whose template is compared with the live "
        "resources for drift (repeatable); resources no named stack manages are listed",
    )
    parser.add_argument("--profile", help="the AWS profile to use (default: $AWS_PROFILE)")
    parser.add_argument(
        "--offline",
        action="store_true",
        help="judge the inventory here, with no service (default: submit it)",
    )
    parser.add_argument(
        "--inventory-output",
        metavar="PATH",
        help="also write the collected inventory (JSON) there; `scan` can judge it later",
    )
    parser.add_argument(
        "--workers",
        type=_positive,
        default=8,
        help="services read at once (default: 8); at most 4 requests per region are in flight",
    )
    run.add_service_arguments(parser)
    run.add_report_arguments(parser, fail_on_default=None)
    run.add_metadata_arguments(parser)


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: give a whole number of at least 1")
    return number


def _fewer_malloc_arenas() -> None:
    """glibc gives threads malloc arenas of their own (up to 8 per core), and the reading
    threads' arenas keep what they freed: two arenas serve I/O-bound threads as well and
    take a sixth off the peak memory of a scan. Elsewhere than glibc, nothing changes."""
    import contextlib
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).mallopt(_M_ARENA_MAX, 2)


_M_ARENA_MAX = -8  # glibc's malloc.h


def posture(args: argparse.Namespace) -> int:
    try:
        destinations = run._destinations(args)
        if not args.offline:
            _check_service_options(args)
        info, pipeline, run_id, commit = run._metadata(args)
    except run.UsageError as exc:
        run._err(str(exc))
        return run.EXIT_USAGE
    if args.offline and args.fail_on is None:
        args.fail_on = "high"  # as `scan` does: offline there is no tenant verdict
    _fewer_malloc_arenas()  # before the reading threads start
    collected = _collect(args)
    if isinstance(collected, int):
        return collected
    account_id, text = collected
    path = f"aws/{account_id}.json"
    if args.inventory_output:
        try:
            Path(args.inventory_output).parent.mkdir(parents=True, exist_ok=True)
            Path(args.inventory_output).write_text(text, encoding="utf-8")
        except OSError as exc:
            run._err(f"cannot write the inventory to {args.inventory_output}: {exc}")
            return run.EXIT_USAGE
    base = {
        "info": info,
        "pipeline": pipeline or f"aws/{account_id}",
        "run_id": run_id,
        "commit": commit,
        "scanned": 1,
    }
    if args.offline:
        return _judge_here(args, destinations, path, text, base)
    return _submit(args, destinations, path, text, base)


def _check_service_options(args: argparse.Namespace) -> None:
    if not args.api_url:
        raise run.UsageError("no --api-url given (nor $PIPEGUARD_API_URL); or judge with --offline")
    if not args.api_url.startswith(("http://", "https://")):
        raise run.UsageError(f"--api-url {args.api_url!r} must start with https:// or http://")
    if not args.api_key:
        raise run.UsageError("no --api-key given (nor $PIPEGUARD_API_KEY)")
    if args.timeout <= 0 or args.retries < 0:
        raise run.UsageError("--timeout must be positive and --retries at least 0")


def _collect(args: argparse.Namespace) -> tuple[str, str] | int:
    """The account id and the inventory's JSON (the inventory itself is let go before it is
    judged), or the exit code of why it could not be collected."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound

    from chalicelib.posture.aws import Reader
    from chalicelib.posture.collect import SERVICES, collect

    unknown = sorted(set(args.services) - set(SERVICES))
    if unknown:
        run._err(f"unknown --service {', '.join(unknown)} (choose from {', '.join(SERVICES)})")
        return run.EXIT_USAGE
    started = time.monotonic()
    try:
        reader = Reader(profile=args.profile)
        regions = _regions(reader, args.regions)
        where = ", ".join(regions or [reader.default_region])
        print(f"pipeguard: reading the AWS account in {where} …", file=sys.stderr)
        inventory = collect(
            reader,
            regions=regions,
            services=args.services or None,
            workers=args.workers,
            stacks=args.stacks,
        )
    except ProfileNotFound as exc:
        run._err(f"{exc}: check --profile or $AWS_PROFILE")
        return run.EXIT_USAGE
    except NoCredentialsError:
        run._err(
            "no AWS credentials found: give the job a role (OIDC in CI), set --profile or "
            "$AWS_PROFILE, or the AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY variables"
        )
        return run.EXIT_USAGE
    except ClientError as exc:  # the caller's identity itself was refused
        run._err(f"AWS refused the credentials: {exc}")
        return run.EXIT_USAGE
    except BotoCoreError as exc:
        run._err(f"cannot reach AWS: {exc}")
        return run.EXIT_SERVICE
    seconds = time.monotonic() - started
    missing = len(inventory.not_assessed)
    print(
        f"pipeguard: account {inventory.account_id}: {len(inventory.resources)} resources, "
        f"{reader.total_calls} API calls, {seconds:.1f} s"
        + (f", {len(inventory.stacks)} stack(s)" if inventory.stacks is not None else "")
        + (f"; {missing} read(s) not assessed (see AWS-ACCESS-001)" if missing else ""),
        file=sys.stderr,
    )
    return inventory.account_id, inventory.model_dump_json()


def _regions(reader: Any, wanted: list[str]) -> list[str] | None:
    """The regions asked for; `all` is every region enabled in the account."""
    if "all" not in wanted:
        return list(dict.fromkeys(wanted)) or None
    described = reader.client("ec2").describe_regions(
        Filters=[{"Name": "opt-in-status", "Values": ["opt-in-not-required", "opted-in"]}]
    )
    every = sorted(r["RegionName"] for r in described.get("Regions") or [])
    return list(dict.fromkeys([*every, *(r for r in wanted if r != "all")]))


def _judge_here(
    args: argparse.Namespace,
    destinations: list[tuple[str, str]],
    path: str,
    text: str,
    base: dict[str, Any],
) -> int:
    from chalicelib.engine.runner import evaluate
    from chalicelib.kinds import ArtifactType

    report = evaluate(ArtifactType.AWS_INVENTORY, text, path)
    errors = [{"file": path, "message": report.error}] if report.error else []
    outcome = Outcome(
        mode="offline",
        fail_on=args.fail_on,
        findings=[offline_finding(f.location or path, ARTIFACT_TYPE, f) for f in report.findings],
        artifacts=run.artifact_entries(path, ARTIFACT_TYPE, report),
        errors=errors,
        **base,
    )
    return run._exit_code(outcome, args, run._emit(outcome, args, destinations))


def _submit(
    args: argparse.Namespace,
    destinations: list[tuple[str, str]],
    path: str,
    text: str,
    base: dict[str, Any],
) -> int:
    size = len(text.encode("utf-8"))
    if size > run.MAX_UPLOAD_BYTES:
        run._err(
            f"the inventory is {size} bytes, over the service's limit of {run.MAX_UPLOAD_BYTES}: "
            "collect fewer regions (--region) or services (--service) per run, each run with "
            "its own --pipeline"
        )
        return run.EXIT_USAGE
    run_id = args.run_id or (  # a CI run's own id is taken by the run's build artifacts
        f"{base['run_id']}.posture" if base["run_id"] else f"posture-{int(time.time() * 1000)}"
    )
    base = {**base, "run_id": run_id}
    scan_request: dict[str, Any] = {
        "pipeline": base["pipeline"],
        "run_id": run_id,
        "commit": base["commit"],
        "artifacts": [],
    }
    uploads = []
    if size > run.MAX_ARTIFACT_BYTES:  # over the inline limit: through a presigned upload
        uploads.append((ARTIFACT_TYPE, path, text))
    else:
        scan_request["artifacts"].append({"type": ARTIFACT_TYPE, "path": path, "content": text})

    def outcome_of(scan: dict[str, Any] | None) -> Outcome:
        artifacts = (scan or {}).get("artifacts") or []
        errors = [{"file": a["path"], "message": a["error"]} for a in artifacts if a.get("error")]
        return Outcome(
            mode="service",
            fail_on=args.fail_on,
            findings=[service_finding(f) for f in (scan or {}).get("findings") or []],
            artifacts=[
                {"path": a["path"], "type": a["type"], "error": a.get("error")} for a in artifacts
            ],
            errors=errors,
            scan=scan,
            api_url=args.api_url,
            **base,
        )

    return run.send(args, scan_request, uploads, outcome_of, destinations)
