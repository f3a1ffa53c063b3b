"""Crash safety at full rate: kill -9 the whole embedded stack under load, restart it on the same
state folder, and count what every accepted scan left behind.

The stack runs on one fixed port, so clients reconnect to the restarted one. Every scan is the
only run of its own pipeline (`--paths pipeline`), so a pipeline's current findings are exactly
that scan's: after the last restart and a drain, each scan that got a 202 must be complete, its
findings must be in the store once (`GET /v1/pipelines/{name}` open + accepted findings) and in
the index once (`GET /v1/findings?pipeline=`), and every tenant's key and policy must be the ones
it had before the first kill.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path
from typing import Any

from bench import stack_probe

POLICY = {"fail_on": "critical"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def launch(
    command: list[str], env: dict[str, str], cwd: Path, log_path: Path, ready: Path, timeout: float
) -> tuple[subprocess.Popen, dict[str, Any]]:
    """Start the stack and wait for its ready file (SystemExit with its log if it fails)."""
    ready.unlink(missing_ok=True)
    with log_path.open("a") as log:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if process.poll() is not None:
            raise SystemExit(f"the stack exited early:\n{log_path.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"the stack was not ready in {timeout:.0f}s")
        time.sleep(0.05)
    return process, json.loads(ready.read_text())


def kill_whole_stack(process: subprocess.Popen, state_dir: Path) -> list[int]:
    """SIGKILL the stack's process and every pid in its `children`; returns the pids killed."""
    pids = [process.pid, *stack_probe.stack_children(state_dir)]
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=30)
    for pid in pids[1:]:  # not our children: wait until /proc forgets them
        deadline = time.monotonic() + 10
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
    return pids


def policies(http: Any, keys: dict[str, str]) -> dict[str, Any]:
    return {t: http.call("GET", "/v1/policy", key, "policy").body for t, key in keys.items()}


def set_policies(http: Any, keys: dict[str, str]) -> None:
    body = json.dumps(POLICY).encode()
    for tenant, key in keys.items():
        reply = http.call("PUT", "/v1/policy", key, "policy", body)
        if reply.status not in (200, 201):
            raise SystemExit(f"PUT /v1/policy for {tenant}: {reply.status} {reply.body}")


def _pages(http: Any, key: str, path: str, query: dict[str, str]) -> list[dict[str, Any]] | None:
    found: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        params = {**query, "limit": "200", **({"cursor": cursor} if cursor else {})}
        reply = http.call("GET", f"{path}?{urllib.parse.urlencode(params)}", key, "check")
        if reply.status != 200:
            return None
        found += reply.body["findings"]
        cursor = reply.body.get("next_cursor")
        if not cursor:
            return found
    return found


def check_scan(http: Any, key: str, scan: Any) -> dict[str, Any]:
    """What one accepted scan left: its status and its findings in the store and the index."""
    reply = http.call("GET", f"/v1/scans/{scan.scan_id}", key, "check")
    if reply.status != 200:
        return {"problem": f"scan GET {reply.status}"}
    status, counts = reply.body.get("status"), reply.body.get("counts") or {}
    total = sum(counts.values())
    pipeline = urllib.parse.quote(scan.pipeline, safe="")
    current = http.call("GET", f"/v1/pipelines/{pipeline}", key, "check")
    if current.status != 200:
        return {"status": status, "problem": f"pipeline GET {current.status}"}
    stored = [
        f["finding_id"] for f in current.body["open_findings"] + current.body["accepted_findings"]
    ]
    indexed_docs = _pages(http, key, "/v1/findings", {"pipeline": scan.pipeline})
    if indexed_docs is None:
        return {"status": status, "problem": "findings GET failed"}
    indexed = [f["finding_id"] for f in indexed_docs]
    return {
        "status": status,
        "expected": total,
        "predicted": scan.predicted,
        "stored": len(stored),
        "stored_distinct": len(set(stored)),
        "indexed": len(indexed),
        "indexed_distinct": len(set(indexed)),
        "index_not_stored": len(set(indexed) - set(stored)),
        "stored_not_indexed": len(set(stored) - set(indexed)),
    }


def verify(http: Any, keys: dict[str, str], accepted: list[Any], threads: int) -> dict[str, Any]:
    """Check every accepted scan (in parallel) and sum up what was lost or duplicated."""
    with ThreadPoolExecutor(threads) as pool:
        rows = list(pool.map(lambda s: check_scan(http, keys[s.slot.tenant], s), accepted))
    totals = {
        "accepted_scans": len(accepted),
        "complete_scans": sum(r.get("status") == "complete" for r in rows),
        "failed_scans": sum(r.get("status") == "failed" for r in rows),
        "check_problems": sum("problem" in r for r in rows),
        "expected_findings": sum(r.get("expected", 0) for r in rows),
        "stored_findings": sum(r.get("stored_distinct", 0) for r in rows),
        "indexed_findings": sum(r.get("indexed_distinct", 0) for r in rows),
        "counts_differ_from_engine_prediction": sum(
            r.get("expected") != r.get("predicted") for r in rows if "expected" in r
        ),
    }
    totals["lost_in_store"] = sum(
        max(0, r["expected"] - r["stored_distinct"]) for r in rows if "expected" in r
    )
    totals["lost_in_index"] = sum(
        max(0, r["expected"] - r["indexed_distinct"]) for r in rows if "expected" in r
    )
    totals["duplicated_in_store"] = sum(
        r["stored"] - r["stored_distinct"] + max(0, r["stored_distinct"] - r["expected"])
        for r in rows
        if "expected" in r
    )
    totals["duplicated_in_index"] = sum(
        r["indexed"] - r["indexed_distinct"] + max(0, r["indexed_distinct"] - r["expected"])
        for r in rows
        if "expected" in r
    )
    totals["index_not_in_store"] = sum(r.get("index_not_stored", 0) for r in rows)
    totals["examples"] = [r for r in rows if "problem" in r or r.get("status") != "complete"][:5]
    return totals


class CrashRun:
    """Load at full rate from the driver's threads; `kills` times kill -9 and restart."""

    def __init__(self, opts: Any, command: list[str], env: dict[str, str], repo: Path) -> None:
        self.opts = opts
        self.command = command
        self.env = env
        self.repo = repo
        self.events: list[dict[str, Any]] = []

    def kill_and_restart(
        self, process: subprocess.Popen, stack: Any, driver: Any, t0: float, round_no: int
    ) -> tuple[subprocess.Popen, dict[str, Any]]:
        with driver.stats.lock:
            accepted_before = driver.stats.submitted_scans
        killed_at = time.monotonic()
        pids = kill_whole_stack(process, stack.state_dir)
        log_path = stack.state_dir / f"stack-{round_no}.log"
        process, info = launch(
            self.command,
            self.env,
            self.repo,
            log_path,
            stack.state_dir / "ready.json",
            self.opts.startup_timeout,
        )
        stack.pid = process.pid
        stack.log_path = log_path
        self.events.append(
            {
                "kill_at_s": round(killed_at - t0, 2),
                "killed_pids": pids,
                "accepted_scans_before": accepted_before,
                "in_flight_scans": driver.tracker.pending(),
                "down_s": round(time.monotonic() - killed_at, 2),
                "keys_unchanged": info["api_keys"] == stack.api_keys,
            }
        )
        return process, info


def kill_moments(rng: random.Random, kills: int, low: float, high: float) -> list[float]:
    """Seconds of load before each kill (counted from the previous restart)."""
    return [rng.uniform(low, high) for _ in range(kills)]


def run_crash(opts: Any, corpus: Any, python: str, repo: Path, tenants: list[str]) -> dict:
    """The whole crash benchmark: start, load, kill -9 × `opts.kills`, drain, verify."""
    from bench.load import Driver, Sampler, StackHandle, process_costs

    state = Path(opts.state_dir or tempfile.mkdtemp(prefix="pipeguard-crash-"))
    state.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [python, "-m", "chalicelib.local", "run", "--port", str(port)]
    command += ["--state-dir", str(state), "--ready-file", str(state / "ready.json")]
    for tenant in tenants:
        command += ["--seed", tenant]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(PYTHONUNBUFFERED="1", LOG_LEVEL="WARNING")
    run = CrashRun(opts, command, env, repo)
    process, info = launch(
        command, env, repo, state / "stack-0.log", state / "ready.json", opts.startup_timeout
    )
    stack = StackHandle(
        info["api_url"], info["api_keys"], info["aws_endpoint"], process.pid, state, None
    )
    driver = Driver(stack, corpus, opts)
    set_policies(driver.http, stack.api_keys)
    policies_before = policies(driver.http, stack.api_keys)
    sampler = Sampler(stack, driver, opts.rss_interval, opts.verbose)
    rng = random.Random(opts.seed)
    t0 = time.monotonic()
    stop_at = t0 + 3600.0
    halt = threading.Event()

    def schedule(seq: int) -> float | None:
        return None if halt.is_set() else time.monotonic()

    loader = threading.Thread(
        target=driver.run, args=(schedule, stop_at, opts.clients), name="load", daemon=True
    )
    sampler.start()
    loader.start()
    try:
        for round_no, wait in enumerate(kill_moments(rng, opts.kills, 3.0, 12.0), start=1):
            time.sleep(wait)
            process, info = run.kill_and_restart(process, stack, driver, t0, round_no)
            print(f"  kill {round_no}: {json.dumps(run.events[-1])}", flush=True)
        time.sleep(5.0)  # some load on the last restart too
        halt.set()
        loader.join(timeout=60)
        drained = driver.drain(opts.drain_timeout)
        wall = time.monotonic() - t0
        keys_now = info["api_keys"]
        check = verify(driver.http, stack.api_keys, driver.accepted, max(4, opts.trackers))
        policies_after = policies(driver.http, stack.api_keys)
    finally:
        sampler.stop()
        driver.close()
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    from bench.load import _report

    extra = {
        "mode": "crash",
        "drained": drained,
        "kills": run.events,
        "down_s_total": round(sum(e["down_s"] for e in run.events), 2),
        "verification": check,
        "keys_intact": keys_now == stack.api_keys and all(e["keys_unchanged"] for e in run.events),
        "policies_intact": policies_after == policies_before,
        "policy_versions": sorted({p.get("version") for p in policies_after.values() if p}),
        "samples": sampler.samples,
    }
    extra.update(process_costs(sampler.samples, driver.stats.searchable_artifacts, opts.warmup))
    return _report(driver, wall, extra)


def print_crash(result: dict[str, Any]) -> None:
    check = result["verification"]
    print("\n== crash ==")
    print(
        f"  {len(result['kills'])} × kill -9 of the whole stack, {result['down_s_total']} s down;"
        f" accepted scans {check['accepted_scans']}, complete {check['complete_scans']},"
        f" failed {check['failed_scans']}; drained={result['drained']}"
    )
    print(
        f"  findings expected {check['expected_findings']}: stored {check['stored_findings']}"
        f" (lost {check['lost_in_store']}, duplicated {check['duplicated_in_store']}),"
        f" indexed {check['indexed_findings']} (lost {check['lost_in_index']}, duplicated"
        f" {check['duplicated_in_index']}, not in the store {check['index_not_in_store']})"
    )
    print(
        f"  keys intact {result['keys_intact']}; policies intact {result['policies_intact']}"
        f" (versions {result['policy_versions']}); errors while running {result['errors']}"
    )
    if result.get("sustained_artifacts_per_s"):
        print(f"  rate under kills: {result['sustained_artifacts_per_s']:.1f} artifacts/s")
