"""Posture scan benchmark: our `collectors posture` and Prowler on the same moto account.

Starts a moto server in this process (threaded, behind a WSGI layer that counts every HTTP
request by service), seeds it with `bench.posture_seed` (over a thousand resources, half of
them insecure in a known way), then runs, one after the other and as whole processes:

- `python -m collectors posture --offline --format json` (collect + evaluate), and
- `prowler aws --region us-east-1` (json-ocsf output), from bench/.venv-prowler,

both with `AWS_ENDPOINT_URL` pointing at the server and fake credentials. It records wall time,
peak RSS and the API requests the server received from each, compares the failing resources of
both tools with what was seeded, writes bench/results/posture-*.json and, with `--write-docs`,
the "Posture scan" section of docs/benchmarks.md and "AWS account posture" of docs/parity.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from bench.common import DOCS, REPO, RESULTS, machine_info, measure, python
from bench.doc_blocks import markers

PROWLER_VENV = REPO / "bench" / ".venv-prowler"
PROWLER = PROWLER_VENV / "bin" / "prowler"
REGION = "us-east-1"
MOTO_ENV = {
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",  # else ~1,400 snapshots in every account
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",  # AWS managed policies exist, as in a real account
}
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
}
BEGIN, END = markers("posture")
_SCOPE = re.compile(r"Credential=[^/]+/\d+/[^/]+/([^/]+)/aws4_request")


# -- the counted moto server ----------------------------------------------------------------------


class Counting:
    """WSGI middleware: counts the requests of the current phase, by signing service."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.phase = "setup"
        self.counts: dict[str, Counter[str]] = defaultdict(Counter)
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if not environ.get("PATH_INFO", "").startswith("/moto-api"):
            found = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
            service = found.group(1) if found else "unsigned"
            with self._lock:
                self.counts[self.phase][service] += 1
        return self.app(environ, start_response)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server() -> tuple[str, Counting, Any]:
    """A threaded moto server on a free port; its URL, its counter and its stopper."""
    os.environ.update(MOTO_ENV)  # read when moto's backends load
    import logging

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from moto.server import ThreadedMotoServer
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    counting = Counting(DomainDispatcherApplication(create_backend_app))
    port = _free_port()
    server = make_server(
        "127.0.0.1", port, counting, threaded=True, request_handler=MotoRequestHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    assert ThreadedMotoServer  # the same server ThreadedMotoServer runs, with the counter in front

    def stop() -> None:
        server.shutdown()
        thread.join()

    return f"http://127.0.0.1:{port}", counting, stop


def client_env(endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(CREDENTIALS, AWS_ENDPOINT_URL=endpoint, PYTHONPATH=str(REPO))
    return env


# -- the runs -------------------------------------------------------------------------------------


def run_ours(endpoint: str, counting: Counting, work: Path) -> dict[str, Any]:
    report, inventory = work / "ours.json", work / "inventory.json"
    cmd = [
        python(), "-m", "collectors", "posture", "--offline", "--region", REGION,
        "--format", "json", "--output", str(report), "--inventory-output", str(inventory),
    ]  # fmt: skip
    counting.phase = "ours"
    stats = measure(cmd, stderr=work / "ours.stderr", env=client_env(endpoint))
    counting.phase = "idle"
    document = json.loads(report.read_text()) if report.is_file() else {}
    resources = _inventory_resources(inventory)
    return {
        "command": "python -m collectors posture --offline --region us-east-1 --format json",
        "stats": stats.as_dict(),
        "calls": dict(counting.counts["ours"]),
        "resources_collected": len(resources),
        "resource_types": dict(Counter(r.get("type", "?") for r in resources)),
        "failing": [
            {"check": f["rule_id"], "resource": str(f.get("resource") or "")}
            for f in document.get("findings", [])
        ],
        "errors": document.get("errors", []),
    }


def _inventory_resources(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    data = json.loads(path.read_text())
    body = data.get("inventory", data)
    resources = body.get("resources", [])
    return resources if isinstance(resources, list) else []


def prowler_version() -> str:
    if not PROWLER.exists():
        return "not installed"
    import subprocess

    done = subprocess.run([str(PROWLER), "--version"], capture_output=True, text=True, timeout=300)
    text = (done.stdout + done.stderr).strip().splitlines()
    return text[-1] if text else "unknown"


def run_prowler(endpoint: str, counting: Counting, work: Path, timeout: int) -> dict[str, Any]:
    if not PROWLER.exists():
        return {"skipped": f"{PROWLER} missing: run `make bench-prowler` first"}
    out = work / "prowler"
    cmd = [
        "timeout", "--signal=TERM", "--kill-after=30", str(timeout),
        str(PROWLER), "aws", "--region", REGION, "--no-banner",
        "--output-formats", "json-ocsf", "--output-directory", str(out),
        "--output-filename", "prowler", "--log-level", "ERROR",
    ]  # fmt: skip
    env = client_env(endpoint)
    env["HOME"] = str(work)  # prowler writes nothing outside the run folder
    counting.phase = "prowler"
    stats = measure(cmd, stdout=work / "prowler.stdout", stderr=work / "prowler.stderr", env=env)
    counting.phase = "idle"
    failing: list[dict[str, str]] = []
    checks, statuses = set(), Counter()
    for path in sorted(out.glob("*.ocsf.json")):
        for finding in json.loads(path.read_text() or "[]"):
            check = str(finding.get("metadata", {}).get("event_code", ""))
            checks.add(check)
            status = str(finding.get("status_code", ""))
            statuses[status] += 1
            if status == "FAIL":
                for resource in finding.get("resources") or [{}]:
                    failing.append({"check": check, "resource": str(resource.get("uid", ""))})
    text = (work / "prowler.stderr").read_text(errors="replace")
    text += (work / "prowler.stdout").read_text(errors="replace")
    errors = [line for line in text.splitlines() if "ERROR" in line or "Traceback" in line]
    return {
        "command": "prowler aws --region us-east-1 --no-banner --output-formats json-ocsf",
        "timeout_s": timeout,
        "timed_out": stats.returncode in (124, 137),
        "stats": stats.as_dict(),
        "calls": dict(counting.counts["prowler"]),
        "checks_reported": len(checks),
        "statuses": dict(statuses),
        "failing": failing,
        "error_lines": len(errors),
        "error_sample": _error_summary(errors),
    }


def _error_summary(lines: list[str]) -> dict[str, int]:
    """Error lines grouped by the check or service module that printed them."""
    found: Counter[str] = Counter()
    for line in lines:
        match = re.search(r"\[Module: ([\w.]+)\]", line) or re.search(r"(\w+_\w+)\.py", line)
        found[match.group(1) if match else line[:80]] += 1
    return dict(found.most_common(25))


# -- comparing detection ----------------------------------------------------------------------


def key(arn: str) -> str:
    """The identifying tail of an ARN (names and ids are unique across the seeded kinds)."""
    arn = arn.removesuffix(":*")
    tail = arn.rsplit("/", 1)[-1] if "/" in arn else arn.rsplit(":", 1)[-1]
    return tail


def compare(seeded: list[dict[str, Any]], ours: dict[str, Any], prowler: dict[str, Any]) -> Any:
    index = {key(s["arn"]): s for s in seeded}
    flagged: dict[str, dict[str, set[str]]] = {
        "ours": defaultdict(set),
        "prowler": defaultdict(set),
    }
    outside: dict[str, int] = {}
    for tool, run in (("ours", ours), ("prowler", prowler)):
        rest = 0
        for item in run.get("failing", []):
            hit = index.get(key(item["resource"]))
            if hit is None:
                rest += 1
                continue
            flagged[tool][hit["arn"]].add(item["check"])
        outside[tool] = rest
    rows = []
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in seeded:
        by_kind[s["kind"]].append(s)
    for kind, items in sorted(by_kind.items()):
        bad = [s for s in items if s["defect"]]
        good = [s for s in items if not s["defect"]]
        row: dict[str, Any] = {
            "kind": kind,
            "defects": sorted({s["defect"] for s in bad}),
            "insecure": len(bad),
            "hardened": len(good),
        }
        for tool in ("ours", "prowler"):
            row[f"{tool}_insecure"] = sum(1 for s in bad if flagged[tool].get(s["arn"]))
            # flagged by a check that none of the hardened resources of the kind fails
            spared = set().union(*(flagged[tool].get(s["arn"], set()) for s in good))
            row[f"{tool}_specific"] = sum(
                1 for s in bad if flagged[tool].get(s["arn"], set()) - spared
            )
            row[f"{tool}_hardened"] = sum(1 for s in good if flagged[tool].get(s["arn"]))
            checks: Counter[str] = Counter()
            for s in bad:
                checks.update(flagged[tool].get(s["arn"], set()))
            row[f"{tool}_checks"] = [c for c, _ in checks.most_common(4)]
            row[f"{tool}_hardened_checks"] = sorted(spared)[:4]
        row["only_ours"] = sum(
            1 for s in bad if flagged["ours"].get(s["arn"]) and not flagged["prowler"].get(s["arn"])
        )
        row["only_prowler"] = sum(
            1 for s in bad if flagged["prowler"].get(s["arn"]) and not flagged["ours"].get(s["arn"])
        )
        rows.append(row)
    return {"rows": rows, "failing_outside_seeded": outside}


# -- the whole run ------------------------------------------------------------------------------


def run(scale: float, timeout: int, skip_prowler: bool) -> dict[str, Any]:
    import boto3

    endpoint, counting, stop = start_server()
    quiet = open(os.devnull, "w")  # noqa: SIM115 - moto prints every unknown endpoint it is asked
    try:
        sys.stdout = quiet
        session = boto3.Session(region_name=REGION, **_session_keys())
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        from bench.posture_seed import seed

        started = time.perf_counter()
        counting.phase = "seed"
        seeded = [s.as_dict() for s in seed(session, scale)]
        seed_s = time.perf_counter() - started
        counting.phase = "idle"
        print(f"seeded {len(seeded)} resources in {seed_s:.1f} s", file=sys.stderr)
        work = Path(tempfile.mkdtemp(prefix="posture-bench-"))
        ours = run_ours(endpoint, counting, work)
        print(f"ours: {ours['stats']['wall_s']:.1f} s, {sum(ours['calls'].values())} calls",
              file=sys.stderr)  # fmt: skip
        prowler = (
            {"skipped": "--no-prowler"}
            if skip_prowler
            else run_prowler(endpoint, counting, work, timeout)
        )
        if "stats" in prowler:
            print(f"prowler: {prowler['stats']['wall_s']:.1f} s, "
                  f"{sum(prowler['calls'].values())} calls", file=sys.stderr)  # fmt: skip
    finally:
        sys.stdout = sys.__stdout__
        quiet.close()
        os.environ.pop("AWS_ENDPOINT_URL", None)
        stop()
    return {
        "machine": machine_info(),
        "prowler_version": prowler_version() if not skip_prowler else "not run",
        "scale": scale,
        "seed_s": seed_s,
        "seed_calls": sum(counting.counts["seed"].values()),
        "seeded": seeded,
        "ours": ours,
        "prowler": prowler,
        "work_dir": str(work),
        "detection": compare(seeded, ours, prowler),
    }


def _session_keys() -> dict[str, str]:
    return {
        "aws_access_key_id": CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }


# -- rendering ----------------------------------------------------------------------------------


def _calls(run: dict[str, Any]) -> int:
    return sum(run.get("calls", {}).values())


def figures(result: dict[str, Any]) -> dict[str, Any]:
    ours, prowler = result["ours"], result["prowler"]
    collected = ours["resources_collected"] or 1
    out: dict[str, Any] = {
        "seeded": len(result["seeded"]),
        "collected": ours["resources_collected"],
        "ours_wall_s": ours["stats"]["wall_s"],
        "ours_rss_mb": ours["stats"]["max_rss_mb"],
        "ours_calls": _calls(ours),
        "ours_calls_per_resource": _calls(ours) / collected,
    }
    if "stats" in prowler:
        out.update(
            prowler_wall_s=prowler["stats"]["wall_s"],
            prowler_rss_mb=prowler["stats"]["tree_peak_rss_mb"],
            prowler_calls=_calls(prowler),
            prowler_calls_per_resource=_calls(prowler) / collected,
            wall_ratio=prowler["stats"]["wall_s"] / ours["stats"]["wall_s"],
            rss_ratio=prowler["stats"]["tree_peak_rss_mb"] / ours["stats"]["max_rss_mb"],
            calls_ratio=_calls(prowler) / max(1, _calls(ours)),
        )
    return out


def render_benchmarks(result: dict[str, Any], source: str) -> str:
    f, m, p = figures(result), result["machine"], result["prowler"]
    lines = [
        BEGIN,
        "## Posture scan (live AWS account on moto)",
        "",
        f"<!-- Generated by `make bench-posture` (bench/posture_bench.py) from {source}. -->",
        "",
        "`make bench-posture` starts a threaded moto server in the benchmark process (a WSGI layer "
        "in front of it counts every HTTP request by signing service), seeds one account and "
        f"region with {f['seeded']} resources across 16 kinds (bench/posture_seed.py, half of "
        "each kind insecure in a known way), then runs both scanners one after the other as "
        "whole processes against it with `AWS_ENDPOINT_URL` and fake credentials:",
        "",
        "- ours: `python -m collectors posture --offline --region us-east-1 --format json` "
        "(collect and evaluate);",
        f"- {result['prowler_version']}: `prowler aws --region us-east-1 --no-banner "
        "--output-formats json-ocsf` (from bench/.venv-prowler, "
        f"{p.get('timeout_s', '-')} s timeout).",
        "",
        f"Machine: {m['nproc']} cores ({m['cpu_model']}), {m['memory_gib']} GiB, shared with "
        f"other work (1-minute load when each scan started: ours "
        f"{result['ours']['stats']['load1']:.1f}, "
        f"Prowler {p.get('stats', {}).get('load1', 0):.1f}); "
        f"{m['date']}; one paired run, so read the ratios, not the last digit. Calls per "
        "resource divide the "
        f"requests the server received by the {f['collected']} resources our inventory holds.",
        "",
        "| | ours | Prowler | Prowler / ours |",
        "|---|---:|---:|---:|",
    ]
    if "prowler_wall_s" in f:
        timed_out = " (timed out)" if p.get("timed_out") else ""
        lines += [
            f"| wall time | {f['ours_wall_s']:.1f} s | {f['prowler_wall_s']:.1f} s{timed_out} "
            f"| **{f['wall_ratio']:.1f}×** |",
            f"| peak RSS | {f['ours_rss_mb']:.0f} MiB | {f['prowler_rss_mb']:.0f} MiB "
            f"| {f['rss_ratio']:.1f}× |",
            f"| API requests | {f['ours_calls']} | {f['prowler_calls']} "
            f"| {f['calls_ratio']:.1f}× |",
            f"| requests per resource | {f['ours_calls_per_resource']:.2f} "
            f"| {f['prowler_calls_per_resource']:.2f} | |",
            f"| checks reported | {len({x['check'] for x in result['ours']['failing']})} rules "
            f"failing | {p.get('checks_reported', 0)} checks with results | |",
        ]
    else:
        lines += [
            f"| wall time | {f['ours_wall_s']:.1f} s | not run ({p.get('skipped')}) | |",
            f"| peak RSS | {f['ours_rss_mb']:.0f} MiB | | |",
            f"| API requests | {f['ours_calls']} | | |",
            f"| requests per resource | {f['ours_calls_per_resource']:.2f} | | |",
        ]
    targets = [
        ("≥ 10× faster than Prowler", f.get("wall_ratio", 0) >= 10,
         f"{f.get('wall_ratio', 0):.1f}×"),
        ("peak RSS ≤ 150 MiB", f["ours_rss_mb"] <= 150, f"{f['ours_rss_mb']:.0f} MiB"),
        ("≤ 1.5 requests per resource", f["ours_calls_per_resource"] <= 1.5,
         f"{f['ours_calls_per_resource']:.2f}"),
    ]  # fmt: skip
    lines += ["", "Targets (reported, never asserted):", ""]
    lines += [f"- {name}: {value}, {'met' if ok else '**not met**'}" for name, ok, value in targets]
    by_service = Counter(result["ours"]["calls"])
    lines += [
        "",
        "Our requests by service: "
        + ", ".join(f"{s} {n}" for s, n in by_service.most_common())
        + ".",
        "",
        "Where the requests go: listings are paginated and batch reads are used where a service "
        "has them (EC2 describes, IAM's GetAccountAuthorizationDetails, RDS, Secrets Manager, "
        "ELBv2 tags; the tags of SNS, SQS, DynamoDB, Lambda and KMS from one Resource Groups "
        "Tagging page per 100 resources). What stays per resource has no batch form in the AWS "
        "API: S3 bucket settings (about ten reads a bucket: location, ACL, encryption, policy, "
        "public access block, versioning, logging, object lock, ownership, tags), KMS key "
        "settings (describe, rotation, policy), SQS and SNS attributes, DynamoDB describe and "
        "backups, Lambda policy, URL and concurrency. An account heavy in buckets therefore "
        "needs more requests per resource than one heavy in instances or IAM.",
        "",
        "Our peak RSS is the collection's: measured apart, creating the 26 botocore clients "
        "alone peaks near 115 MiB and evaluating this inventory alone near 50 MiB; the rest is "
        "the collection's threads and the responses they hold.",
        "",
        END,
    ]
    return "\n".join(lines)


def render_parity(result: dict[str, Any], source: str) -> str:
    detection, p = result["detection"], result["prowler"]
    lines = [
        BEGIN,
        "## AWS account posture",
        "",
        f"<!-- Generated by `make bench-posture` (bench/posture_bench.py) from {source}; "
        "`make parity` keeps it, as it follows the sections written by hand. -->",
        "",
        "The account of the posture benchmark (see docs/benchmarks.md), scanned by both tools in "
        "the same run. A resource counts as flagged by a tool when at least one failing finding "
        "names it (our `resource`, Prowler's `resources[].uid`, matched on the ARN's name or "
        "id). *Insecure* resources carry the seeded defect; *hardened* ones are configured as "
        "both tools' rules want, so a flag there is noise or a stricter check.",
        "",
        "*Specific* counts the insecure resources failed by a check that no hardened resource "
        "of the same type fails, i.e. caught for what is wrong with them.",
        "",
        "| type | seeded defect | insecure | flagged: ours | Prowler | specific: ours | Prowler "
        "| only ours | only Prowler | hardened flagged (ours / Prowler) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    totals = Counter()
    for row in detection["rows"]:
        lines.append(
            f"| `{row['kind']}` | {', '.join(row['defects'])} | {row['insecure']} "
            f"| {row['ours_insecure']} | {row['prowler_insecure']} "
            f"| {row['ours_specific']} | {row['prowler_specific']} | {row['only_ours']} "
            f"| {row['only_prowler']} | {row['ours_hardened']} / {row['prowler_hardened']} "
            f"of {row['hardened']} |"
        )
        for k in (
            "insecure", "ours_insecure", "prowler_insecure", "ours_specific", "prowler_specific",
            "only_ours", "only_prowler",
        ):  # fmt: skip
            totals[k] += row[k]
    lines.append(
        f"| **all** | | {totals['insecure']} | **{totals['ours_insecure']}** "
        f"| **{totals['prowler_insecure']}** | **{totals['ours_specific']}** "
        f"| **{totals['prowler_specific']}** | {totals['only_ours']} | {totals['only_prowler']} | |"
    )
    lines += ["", "Checks that flagged the insecure resources:", ""]
    for row in detection["rows"]:
        ours = ", ".join(f"`{c}`" for c in row["ours_checks"]) or "none"
        theirs = ", ".join(f"`{c}`" for c in row["prowler_checks"]) or "none"
        lines.append(f"- `{row['kind']}`: ours {ours}; Prowler {theirs}")
    lines += ["", "Checks that also fail the hardened resources (a few of each):", ""]
    for row in detection["rows"]:
        ours = ", ".join(f"`{c}`" for c in row["ours_hardened_checks"]) or "none"
        theirs = ", ".join(f"`{c}`" for c in row["prowler_hardened_checks"]) or "none"
        lines.append(f"- `{row['kind']}`: ours {ours}; Prowler {theirs}")
    outside = detection["failing_outside_seeded"]
    lines += [
        "",
        f"Failing findings on resources that were not seeded (the account, the region, default "
        f"VPC and groups, managed policies): ours {outside.get('ours', 0)}, Prowler "
        f"{outside.get('prowler', 0)}.",
    ]
    if "stats" in p:
        lines += [
            "",
            f"Prowler printed {p['error_lines']} error lines"
            + (" and hit the timeout" if p.get("timed_out") else "")
            + f"; exit code {p['stats']['returncode']}. By module:",
            "",
        ]
        lines += [f"- `{name}`: {n}" for name, n in p["error_sample"].items()] or ["- none"]
    else:
        lines += ["", f"Prowler was not run: {p.get('skipped')}."]
    lines += ["", END]
    return "\n".join(lines)


def splice(page: str, block: str, anchor: str | None = None) -> str:
    """`page` with its posture block replaced by `block` (added at the end, or before the
    `anchor` heading, when it has none)."""
    start, end = page.find(BEGIN), page.find(END)
    if start >= 0 and end > start:
        return page[:start] + block + page[end + len(END) :]
    if anchor and anchor in page:
        at = page.find(anchor)
        return page[:at] + block + "\n\n" + page[at:]
    return page.rstrip("\n") + "\n\n" + block + "\n"


def write_docs(result: dict[str, Any], source: str) -> None:
    bench_page, parity_page = DOCS / "benchmarks.md", DOCS / "parity.md"
    bench_page.write_text(splice(bench_page.read_text(), render_benchmarks(result, source)))
    parity_page.write_text(splice(parity_page.read_text(), render_parity(result, source)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="resources per kind × this")
    parser.add_argument("--prowler-timeout", type=int, default=900, help="seconds (default 900)")
    parser.add_argument("--no-prowler", action="store_true", help="time our scan only")
    parser.add_argument("--write-docs", action="store_true", help="update the two docs pages")
    parser.add_argument("--from-results", type=Path, help="render docs from a saved result")
    args = parser.parse_args(argv)
    if args.from_results:
        result = json.loads(args.from_results.read_text())
        result["detection"] = compare(result["seeded"], result["ours"], result["prowler"])
        path = args.from_results
    else:
        result = run(args.scale, args.prowler_timeout, args.no_prowler)
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"posture-{time.strftime('%Y%m%d-%H%M%S')}.json"
        path.write_text(json.dumps(result, indent=2))
        (RESULTS / "posture-latest.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(figures(result), indent=2))
    if args.write_docs:
        source = path.relative_to(REPO) if path.is_relative_to(REPO) else path
        write_docs(result, str(source))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
