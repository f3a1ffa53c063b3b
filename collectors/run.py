"""What `submit` and `scan --offline` do: collect, evaluate (locally or by the service), gate,
write the reports. The argument parser itself is in `collectors.cli`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chalicelib.kinds import ArtifactType
from collectors.ci import PipelineInfo, detect, pipeline_name, sanitize_name, valid_commit
from collectors.outcome import SEVERITIES, Outcome, offline_finding, service_finding

EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_SERVICE = 0, 1, 2, 3
FORMATS = ("json", "sarif", "junit", "markdown", "table")
ARTIFACT_TYPES = tuple(kind.value for kind in ArtifactType)
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/@:+-]*$")
COMMIT_PATTERN = re.compile(r"^[A-Za-z0-9._/-]{0,100}$")

# The service's default limits (swagger/openapi.yaml, POST /v1/scans).
MAX_ARTIFACT_BYTES = 1024 * 1024  # inline; larger ones are uploaded first
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_REQUEST_BYTES = 5 * 1024 * 1024
MAX_ARTIFACTS = 100


class UsageError(Exception):
    """Something the caller must fix: exit 2."""


# --- arguments ------------------------------------------------------------------------------


def _type_option(value: str) -> tuple[str | None, str]:
    pattern, sep, kind = value.rpartition("=")
    kind = kind.strip().lower()
    if kind not in ARTIFACT_TYPES:
        raise argparse.ArgumentTypeError(
            f"unknown artifact type {kind!r} in {value!r} (choose from {', '.join(ARTIFACT_TYPES)})"
        )
    if sep and not pattern.strip():
        raise argparse.ArgumentTypeError(f"{value!r}: the path pattern before '=' is empty")
    return (pattern.strip() if sep else None), kind


def add_common_arguments(parser: argparse.ArgumentParser, *, fail_on_default: str | None) -> None:
    """Options that `scan --offline` and `submit` share."""
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files, folders or globs (quote globs: 'infra/**/*.yaml'); image archives "
        "(*.tar) are read as their manifest and config",
    )
    parser.add_argument(
        "--image",
        dest="images",
        action="append",
        default=[],
        metavar="NAME",
        help="also evaluate a local image's metadata (`docker image inspect NAME`; repeatable)",
    )
    add_report_arguments(parser, fail_on_default=fail_on_default)
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="PATTERN",
        help=".gitignore-style pattern of files to leave out of folders and globs (repeatable)",
    )
    parser.add_argument(
        "--ignore-file",
        default=None,
        metavar="PATH",
        help="file of exclude patterns (default: .pipeguardignore, if present)",
    )
    parser.add_argument(
        "--type",
        dest="types",
        action="append",
        default=[],
        type=_type_option,
        metavar="[PATTERN=]TYPE",
        help="force the artifact type, for all files or for those matching PATTERN (repeatable)",
    )
    add_metadata_arguments(parser)


def add_report_arguments(parser: argparse.ArgumentParser, *, fail_on_default: str | None) -> None:
    """Reports and gating: --format, --output, --fail-on, --soft-fail, --step-summary."""
    parser.add_argument(
        "--format",
        dest="formats",
        action="append",
        choices=FORMATS,
        default=None,
        help="output format, repeatable (default: table)",
    )
    parser.add_argument(
        "--output",
        dest="outputs",
        action="append",
        default=None,
        metavar="PATH",
        help="where to write each --format, in the same order ('-' is stdout)",
    )
    parser.add_argument(
        "--fail-on",
        choices=SEVERITIES,
        default=fail_on_default,
        help="fail when a finding is at or above this severity"
        + (f" (default: {fail_on_default})" if fail_on_default else " (default: the verdict)"),
    )
    parser.add_argument(
        "--soft-fail",
        action="store_true",
        help="exit 0 when the policy fails (reports still say FAIL); errors keep exit 2 and 3",
    )
    parser.add_argument(
        "--step-summary",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="in GitHub Actions, append the Markdown summary to $GITHUB_STEP_SUMMARY",
    )


def add_metadata_arguments(parser: argparse.ArgumentParser) -> None:
    meta = parser.add_argument_group("pipeline metadata (detected from the CI environment)")
    meta.add_argument("--pipeline", help="pipeline name (default: repository@branch)")
    meta.add_argument("--run-id", help="the run's id (default: the CI run, or a new one)")
    meta.add_argument("--commit")
    meta.add_argument("--branch")
    meta.add_argument("--repository", help="owner/name")


def add_submit_arguments(parser: argparse.ArgumentParser) -> None:
    add_service_arguments(parser)
    add_common_arguments(parser, fail_on_default=None)


def add_service_arguments(parser: argparse.ArgumentParser) -> None:
    """Where the service is and how long to wait for it."""
    parser.add_argument(
        "--api-url",
        default=os.environ.get("PIPEGUARD_API_URL"),
        help="the API's base URL (default: $PIPEGUARD_API_URL)",
    )
    parser.add_argument(
        "--api-key",
        default=os.environ.get("PIPEGUARD_API_KEY"),
        help="a key with the ingest and read scopes (default: $PIPEGUARD_API_KEY)",
    )
    parser.add_argument(
        "--wait",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="wait for the verdict (default); --no-wait exits 0 once the scan is accepted",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        help="seconds for the whole run: submitting, retries and waiting (default: 300)",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=4,
        help="retries of a request on 429, 5xx or a connection failure (default: 4)",
    )


def add_scan_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--offline",
        action="store_true",
        help="evaluate locally, with no service: the default and only mode of scan (accepted "
        "for clarity; use submit for the service)",
    )
    parser.add_argument(
        "--jobs",
        type=_jobs,
        default=None,
        help="processes evaluating the artifacts (default: one per CPU for large scans)",
    )
    add_common_arguments(parser, fail_on_default="high")


def _jobs(value: str) -> int:
    try:
        jobs = int(value)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"--jobs {value!r}: give a whole number of at least 1")
    return jobs


# --- shared steps ---------------------------------------------------------------------------


def _err(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def _destinations(args: argparse.Namespace) -> list[tuple[str, str]]:
    formats = args.formats or ["table"]
    outputs = args.outputs or []
    if not outputs:
        if len(formats) > 1:
            raise UsageError(
                f"{len(formats)} formats need an --output each, in the same order ('-' for stdout)"
            )
        outputs = ["-"]
    if len(outputs) != len(formats):
        raise UsageError(
            f"{len(formats)} --format and {len(outputs)} --output: give one --output per "
            "--format, in the same order ('-' for stdout)"
        )
    if outputs.count("-") > 1:
        raise UsageError("only one --format can go to stdout ('-')")
    return list(zip(formats, outputs, strict=True))


def _collect(args: argparse.Namespace) -> Any:
    from collectors.files import IGNORE_FILE, TypeOverrides, collect, load_excludes

    ignore_file = args.ignore_file or IGNORE_FILE
    if args.ignore_file and not Path(args.ignore_file).is_file():
        raise UsageError(f"--ignore-file {args.ignore_file}: no such file")
    if not args.paths and not args.images:
        raise UsageError("give at least one PATH or --image NAME")
    types = TypeOverrides((pattern, ArtifactType(kind)) for pattern, kind in args.types)
    collected = collect(args.paths, excludes=load_excludes(args.exclude, ignore_file), types=types)
    if args.images:
        from collectors.images import ImageSetupError, inspect_image

        try:
            collected.artifacts.extend(inspect_image(name) for name in args.images)
        except ImageSetupError as exc:
            raise UsageError(str(exc)) from None
        paths = [artifact.path for artifact in collected.artifacts]
        twice = sorted({path for path in paths if paths.count(path) > 1})
        if twice:
            raise UsageError(
                f"two artifacts would have the path {twice[0]}: give --image one tag of each "
                "repository per run"
            )
    if collected.missing:
        for path in collected.missing:
            _err(f"{path}: no such file or folder (nor any file matching it)")
        raise UsageError("nothing to scan at the paths above")
    return collected


def _metadata(args: argparse.Namespace) -> tuple[PipelineInfo, str | None, str | None, str | None]:
    """CI metadata with the flags on top; the pipeline, run id and commit to send."""
    info = detect(os.environ).merged(
        repository=args.repository, branch=args.branch, commit=args.commit, run_id=args.run_id
    )
    for flag, value, pattern in (
        ("--pipeline", args.pipeline, NAME_PATTERN),
        ("--run-id", args.run_id, NAME_PATTERN),
        ("--commit", args.commit, COMMIT_PATTERN),
    ):
        if value is not None and (not pattern.match(value) or len(value) > 200):
            raise UsageError(
                f"{flag} {value!r} is not valid: letters, digits and . _ / - "
                + ("@ : + " if flag != "--commit" else "")
                + "only, starting with a letter or digit"
            )
    pipeline = args.pipeline or pipeline_name(info)
    run_id = args.run_id or sanitize_name(info.run_id)
    commit = args.commit or valid_commit(info.commit)
    return info, pipeline, run_id, commit


def _emit(outcome: Outcome, args: argparse.Namespace, destinations: list[tuple[str, str]]) -> int:
    """Write every requested report; the table goes to stdout when nothing else does.

    Unreadable artifacts, decoding notes and skipped files are always shown: in the table when
    it is on stdout, else on stderr (stdout then holds a machine-readable report).
    """
    from collectors.formats import render
    from collectors.output import write_stdout

    table_on_stdout = all(path != "-" for _, path in destinations)
    if table_on_stdout:
        write_stdout(render("table", outcome))
    elif ("table", "-") not in destinations:
        _notices(outcome)
    status = EXIT_PASS
    for fmt, path in destinations:
        text = render(fmt, outcome)
        if path == "-":
            write_stdout(text)
            continue
        try:
            target = Path(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        except OSError as exc:
            _err(f"cannot write the {fmt} report to {path}: {exc.strerror or exc}")
            status = EXIT_USAGE
    if args.step_summary:
        _step_summary(outcome, destinations)
    return status


def _notices(outcome: Outcome) -> None:
    """Files that could not be read or parsed, decoding notes and skipped files, on stderr."""
    from collectors.output import skipped_lines

    lines = [f"pipeguard: error: {e['file']}: {e['message']}" for e in outcome.errors]
    lines += [f"pipeguard: note: {n['file']}: {n['message']}" for n in outcome.notes]
    lines += skipped_lines(outcome.skipped, "pipeguard: skipped ")
    if lines:
        print("\n".join(lines), file=sys.stderr)


def _step_summary(outcome: Outcome, destinations: list[tuple[str, str]]) -> None:
    """In GitHub Actions, add the Markdown summary to the job's summary page."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if os.environ.get("GITHUB_ACTIONS") != "true" or not summary:
        return
    target = Path(summary)
    if any(fmt == "markdown" and Path(path) == target for fmt, path in destinations):
        return  # already written there
    from collectors.formats import render_markdown

    try:
        with target.open("a", encoding="utf-8") as handle:
            handle.write(render_markdown(outcome) + "\n")
    except OSError as exc:
        print(f"warning: cannot append to $GITHUB_STEP_SUMMARY: {exc}", file=sys.stderr)


def _exit_code(outcome: Outcome, args: argparse.Namespace, written: int) -> int:
    if written != EXIT_PASS:
        return written
    if not outcome.failed:
        return EXIT_PASS
    if args.soft_fail:
        print("note: the policy failed; exiting 0 because of --soft-fail", file=sys.stderr)
        return EXIT_PASS
    return EXIT_FAIL


# --- scan --offline -------------------------------------------------------------------------


def scan_offline(args: argparse.Namespace) -> int:
    """`scan` (with or without `--offline`: it has no other mode)."""
    try:
        destinations = _destinations(args)
        info, pipeline, run_id, commit = _metadata(args)
        collected = _collect(args)
    except UsageError as exc:
        _err(str(exc))
        return EXIT_USAGE
    from chalicelib.engine.runner import prepare

    outcome = Outcome(
        mode="offline",
        fail_on=args.fail_on,
        scanned=len(collected.artifacts),
        skipped=collected.skipped,
        ignored=collected.ignored,
        excluded=collected.excluded,
        notes=collected.notes,
        unreadable=collected.unreadable,
        info=info,
        pipeline=pipeline,
        run_id=run_id,
        commit=commit,
        errors=collected.errors + collected.unreadable,
    )
    from collectors.parallel import map_ordered

    prepare({artifact.type for artifact in collected.artifacts})
    reports = map_ordered(_evaluate_artifact, collected.artifacts, workers=args.jobs)
    for artifact, report in zip(collected.artifacts, reports, strict=True):
        outcome.artifacts.extend(artifact_entries(artifact.path, artifact.type.value, report))
        if report.error:
            outcome.errors.append({"file": artifact.path, "message": report.error})
        outcome.findings.extend(
            offline_finding(artifact.path, artifact.type.value, f) for f in report.findings
        )
    return _exit_code(outcome, args, _emit(outcome, args, destinations))


def artifact_entries(path: str, kind: str, report: Any) -> list[dict[str, Any]]:
    """The artifact as reports list it: once, or once per place it spans (an inventory's
    account and regions, which its findings name), so no report claims a pass for a place
    whose findings it files elsewhere."""
    if report.locations and not report.error:
        return [{"path": place, "type": kind, "error": None} for place in report.locations]
    return [{"path": path, "type": kind, "error": report.error}]


def _evaluate_artifact(artifact: Any) -> Any:
    from chalicelib.engine.runner import evaluate

    return evaluate(artifact.type, artifact.text, artifact.path)


# --- submit ---------------------------------------------------------------------------------


def _check_limits(artifacts: list[Any], body: dict[str, Any]) -> None:
    problems = []
    oversize = [a for a in artifacts if a.size > MAX_UPLOAD_BYTES]
    if oversize:
        problems.append(
            f"{len(oversize)} artifact(s) over the service's limit of {MAX_UPLOAD_BYTES} bytes "
            "each (larger than 1 MiB go through an upload, but not beyond that):"
        )
        problems += [f"  {a.path}: {a.size} bytes" for a in oversize]
    if len(artifacts) > MAX_ARTIFACTS:
        problems.append(
            f"{len(artifacts)} artifacts, over the service's limit of {MAX_ARTIFACTS} per scan: "
            "submit fewer paths, narrow them with --exclude, or split the pipeline into "
            "several --pipeline names"
        )
    if not oversize:
        size = len(json.dumps(body).encode("utf-8"))
        if size > MAX_REQUEST_BYTES:
            problems.append(
                f"the scan request would be {size} bytes, over the service's limit of "
                f"{MAX_REQUEST_BYTES}: submit fewer or smaller artifacts; the largest are:"
            )
            largest = sorted(artifacts, key=lambda a: a.size, reverse=True)[:5]
            problems += [f"  {a.path}: {a.size} bytes" for a in largest]
    if problems:
        raise UsageError("the scan is too large for the service:\n" + "\n".join(problems))


def describe_failure(failure: Any, api_url: str) -> tuple[str, int]:
    """A message for people and the exit code, for a request the service did not answer."""
    status, message = failure.status, failure.message
    tries = f" (after {failure.attempts} attempts)" if failure.attempts > 1 else ""
    details = "; ".join(
        f"{d.get('field')}: {d.get('message')}" for d in failure.details if isinstance(d, dict)
    )
    if details:
        message += f" [{details}]"
    if status == 0:
        return (
            f"cannot reach the service at {api_url}: {message}{tries}. Check --api-url and "
            "that the service is up.",
            EXIT_SERVICE,
        )
    if status < 0:
        return f"cannot talk to the service at {api_url}: {message}", EXIT_SERVICE
    if status == 401:
        return (
            f"the service refused the API key (HTTP 401: {message}). Check --api-key or "
            "$PIPEGUARD_API_KEY: the key may be wrong, revoked, or its tenant suspended.",
            EXIT_SERVICE,
        )
    if status == 403:
        return (
            f"the API key lacks a scope (HTTP 403: {message}). The collector needs a key with "
            "the 'ingest' scope to submit and the 'read' scope to wait for the verdict.",
            EXIT_SERVICE,
        )
    if status == 429:
        return (
            f"rate limit or quota exceeded (HTTP 429: {message}){tries}. Try again later, or "
            "ask for a higher quota.",
            EXIT_SERVICE,
        )
    if status >= 500:
        return f"the service failed (HTTP {status}: {message}){tries}.", EXIT_SERVICE
    if status == 409:
        return (
            f"HTTP 409: {message}. This pipeline run was already submitted with other "
            "artifacts: give each collector step its own --pipeline or --run-id.",
            EXIT_USAGE,
        )
    if status == 404:
        return f"not found (HTTP 404: {message}). Check --api-url.", EXIT_SERVICE
    return f"the service refused the scan request (HTTP {status}: {message}).", EXIT_USAGE


def submit(args: argparse.Namespace) -> int:
    try:
        destinations = _destinations(args)
        if not args.api_url:
            raise UsageError("no --api-url given (nor $PIPEGUARD_API_URL)")
        if not args.api_url.startswith(("http://", "https://")):
            raise UsageError(f"--api-url {args.api_url!r} must start with https:// or http://")
        if not args.api_key:
            raise UsageError("no --api-key given (nor $PIPEGUARD_API_KEY)")
        if args.timeout <= 0 or args.retries < 0:
            raise UsageError("--timeout must be positive and --retries at least 0")
        info, pipeline, run_id, commit = _metadata(args)
        if not pipeline:
            raise UsageError(
                "no --pipeline given and none detected (outside CI, or no repository name in "
                "the environment): pass --pipeline NAME"
            )
        collected = _collect(args)
        for error in collected.errors:
            _err(f"{error['file']}: {error['message']}")
        if collected.errors:
            raise UsageError("the files above cannot be submitted")
        if not collected.artifacts and not collected.unreadable:
            raise UsageError("no artifacts found in the given paths")
        run_id = run_id or f"local-{int(time.time() * 1000)}"
        scan_request = {
            "pipeline": pipeline,
            "run_id": run_id,
            "commit": commit,
            "artifacts": [
                {"type": a.type.value, "path": a.path, "content": a.text}
                for a in collected.artifacts
                if a.size <= MAX_ARTIFACT_BYTES
            ],
        }
        large = [a for a in collected.artifacts if a.size > MAX_ARTIFACT_BYTES]
        _check_limits(collected.artifacts, scan_request)
    except UsageError as exc:
        _err(str(exc))
        return EXIT_USAGE

    def outcome_of(scan: dict[str, Any] | None) -> Outcome:
        artifacts = (scan or {}).get("artifacts") or []
        service_errors = [
            {"file": a["path"], "message": a["error"]} for a in artifacts if a.get("error")
        ]
        return Outcome(
            mode="service",
            fail_on=args.fail_on,
            findings=[service_finding(f) for f in (scan or {}).get("findings") or []],
            artifacts=[
                {"path": a["path"], "type": a["type"], "error": a.get("error")} for a in artifacts
            ],
            errors=service_errors + collected.unreadable,
            unreadable=collected.unreadable,
            skipped=collected.skipped,
            notes=collected.notes,
            scanned=len(collected.artifacts),
            ignored=collected.ignored,
            excluded=collected.excluded,
            info=info,
            pipeline=pipeline,
            run_id=run_id,
            commit=commit,
            scan=scan,
            api_url=args.api_url,
        )

    if not collected.artifacts:  # only unreadable ones: nothing the service could be sent
        unsent = outcome_of(None)
        return _exit_code(unsent, args, _emit(unsent, args, destinations))

    uploads = [(a.type.value, a.path, a.text) for a in large]
    return send(args, scan_request, uploads, outcome_of, destinations, collected.unreadable)


def send(
    args: argparse.Namespace,
    scan_request: dict[str, Any],
    uploads: list[tuple[str, str, str]],
    outcome_of: Any,
    destinations: list[tuple[str, str]],
    unreadable: Sequence[dict[str, str]] = (),
) -> int:
    """Upload the large artifacts (type, path, text), submit the scan, wait for the verdict
    (unless --no-wait) and write the reports of `outcome_of(scan)`; the exit code."""
    from collectors.client import ApiFailure, Client, RetryPolicy, WaitTimeout
    from collectors.output import write_stdout
    from collectors.progress import Progress

    progress = Progress()

    def on_retry(failure: ApiFailure, delay: float, attempt: int, attempts: int) -> None:
        progress.done()
        what = "no answer" if failure.status == 0 else f"HTTP {failure.status}"
        print(
            f"pipeguard: {what} ({failure.message}); retrying in {delay:.1f} s "
            f"(attempt {attempt} of {attempts})",
            file=sys.stderr,
        )

    client = Client(
        args.api_url,
        args.api_key,
        retry=RetryPolicy(attempts=args.retries + 1),
        deadline=time.monotonic() + args.timeout,
        on_retry=on_retry,
    )
    try:
        for kind, path, text in uploads:
            data = text.encode("utf-8")
            progress.note(f"uploading {path} ({len(data)} bytes) …")
            upload_id = client.upload(path, data)
            scan_request["artifacts"].append({"type": kind, "path": path, "upload_id": upload_id})
        count = len(scan_request["artifacts"])
        pipeline, run_id = scan_request["pipeline"], scan_request["run_id"]
        progress.note(f"submitting {count} artifact{'s' * (count != 1)} of {pipeline} …")
        accepted = client.submit_scan(scan_request)
        status_url = f"{args.api_url.rstrip('/')}{accepted['status_url']}"
        if not args.wait:
            progress.done()
            if "json" in (args.formats or []):
                write_stdout(json.dumps(accepted, indent=2) + "\n")
            else:
                write_stdout(
                    f"Scan {accepted['scan_id']} of {pipeline} run {run_id} is "
                    f"{accepted['status']}: {status_url}\n"
                )
            unsent = outcome_of(None)  # no reports: what was not sent goes to stderr
            _notices(unsent)
            if unreadable:  # the service's verdict cannot cover them
                _err("the artifacts above could not be read and were not sent: the run fails")
                return _exit_code(unsent, args, EXIT_PASS)
            return EXIT_PASS
        progress.accepted(accepted, status_url)
        scan = client.wait_for_scan(accepted["scan_id"], on_progress=progress.scan)
        if scan["status"] == "complete":
            scan = client.report(accepted["scan_id"])
    except ApiFailure as failure:
        progress.done()
        message, code = describe_failure(failure, args.api_url)
        _err(message)
        return code
    except WaitTimeout as exc:
        progress.done()
        _err(
            f"timed out: {exc} (--timeout {args.timeout:g}). The verdict is not known; the scan "
            "goes on in the service: raise --timeout, or look it up later."
        )
        return EXIT_SERVICE
    progress.done()
    if scan["status"] == "failed":
        _err(
            f"the service could not evaluate scan {scan['scan_id']}: "
            f"{scan.get('failure') or 'no reason given'}"
        )
        return EXIT_SERVICE
    outcome = outcome_of(scan)
    return _exit_code(outcome, args, _emit(outcome, args, destinations))
