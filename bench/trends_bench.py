"""`GET /v1/trends` latency on the embedded stack over a year of daily buckets.

Starts the stack (`python -m chalicelib.local run`, as bench/load.py does) with seeded tenants,
then counts a year of finding histories into its database through the same `TrendStore.apply`
the change stream uses: `--pipelines` pipelines per tenant, `--per-day` new findings per
pipeline and day, most fixed after a few days, some reopened, some waived, over four
severities. Then, warm, it times `--rounds` requests of each kind over HTTP: a year by day (all
pipelines, one pipeline, one severity), by week and by month. Results: JSON in bench/results/
and a summary on stdout; the target (p95 ≤ 20 ms for a year by day) is reported, never asserted.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from bench.load import machine, started_stack, summarize, write_results

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
TARGET_P95_MS = 20.0
SEVERITIES = ("critical", "high", "medium", "low")


def _at(day: date, hour: int) -> str:
    return f"{day.isoformat()}T{hour:02d}:00:00.000+00:00"


def histories(
    tenant: str, pipelines: int, per_day: int, first: date, days: int, seed: int
) -> list[Any]:
    """One `Update` per finding: opened on its day, then fixed, reopened, waived at random."""
    from chalicelib.trend_counts import Update

    rng = random.Random(seed)
    updates = []
    for p in range(pipelines):
        pipeline = f"service-{p:02d}"
        for d in range(days):
            opened_on = first + timedelta(days=d)
            for n in range(per_day):
                severity = rng.choice(SEVERITIES)
                state, at, version = ["open", severity], opened_on, 1
                history = [{"v": 1, "at": _at(at, 9), "from": None, "to": state}]
                for step in ("fix", "reopen", "waive", "fix"):
                    if rng.random() > (0.7 if step == "fix" else 0.15):
                        break
                    at += timedelta(days=rng.randint(1, 10))
                    if at >= first + timedelta(days=days):
                        break
                    version += 1
                    to = {"fix": "fixed", "reopen": "open", "waive": "waived"}[step]
                    history.append(
                        {"v": version, "at": _at(at, 15), "from": state, "to": [to, severity]}
                    )
                    state = [to, severity]
                fid = f"fnd_{p:02d}{d:03d}{n:02d}"
                updates.append(Update(tenant, fid, version, pipeline, _at(opened_on, 9), history))
    return updates


def seed_counters(state_dir: Path, tenants: list[str], opts: Any, first: date) -> dict[str, Any]:
    """Count the histories into the stack's database in stream-sized batches."""
    os.environ.update(PIPEGUARD_BACKEND="embedded", PIPEGUARD_HOME=str(state_dir))
    from chalicelib.config import settings
    from chalicelib.stores.backend import stores

    settings.cache_clear()
    store = stores().trends
    started, counted = time.perf_counter(), 0
    for i, tenant in enumerate(tenants):
        updates = histories(tenant, opts.pipelines, opts.per_day, first, opts.days, opts.seed + i)
        for start in range(0, len(updates), 200):
            counted += store.apply(tenant, updates[start : start + 200])
    return {"findings": counted, "seconds": round(time.perf_counter() - started, 2)}


def timed(
    url: str, key: str, params: dict[str, str], rounds: int, fresh: bool = False
) -> dict[str, Any]:
    """`rounds` GETs on one kept-alive connection (a new one for each with `fresh`), after 5
    warm-up requests."""
    where = urlsplit(url)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    path = "/v1/trends?" + urlencode(params)
    headers = {"Authorization": f"Bearer {key}"}
    seconds, size = [], 0
    for i in range(rounds + 5):
        started = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise SystemExit(f"GET {path} answered {response.status}: {body[:300]!r}")
        if i >= 5:
            seconds.append(elapsed)
        size = len(body)
        if fresh:
            conn.close()
            conn = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    conn.close()
    summary = summarize(seconds)
    ms = {k: round(v * 1000, 2) for k, v in summary.items() if k != "n" and v is not None}
    return {"params": params, "bytes": size, "n": summary["n"], "ms": ms}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=3)
    parser.add_argument("--pipelines", type=int, default=20)
    parser.add_argument("--per-day", type=int, default=5, help="new findings per pipeline-day")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--state-dir", type=Path)
    parser.add_argument(
        "--fresh-connections", action="store_true", help="a new connection for each request"
    )
    opts = parser.parse_args(argv)
    tenants = [f"tenant-{i:02d}" for i in range(opts.tenants)]
    last = date(2026, 12, 7)
    first = last - timedelta(days=opts.days - 1)
    year = {"from": first.isoformat(), "to": last.isoformat()}
    kinds = {
        "year by day": {**year, "bucket": "day"},
        "year by day, one pipeline": {**year, "bucket": "day", "pipeline": "service-03"},
        "year by day, one severity": {**year, "bucket": "day", "severity": "high"},
        "year by week": {**year, "bucket": "week"},
        "year by month": {**year, "bucket": "month"},
    }
    with started_stack(tenants, opts.state_dir, sys.executable, 120.0) as stack:
        seeded = seed_counters(stack.state_dir, tenants, opts, first)
        print(f"seeded {seeded['findings']} finding histories in {seeded['seconds']} s")
        key = stack.api_keys[tenants[0]]
        results = {
            name: timed(stack.api_url, key, params, opts.rounds, opts.fresh_connections)
            for name, params in kinds.items()
        }
    document = {
        "machine": machine(),
        "options": vars(opts) | {"state_dir": str(opts.state_dir or "")},
        "seeded": seeded,
        "target_p95_ms": TARGET_P95_MS,
        "results": results,
    }
    target = write_results("trends", document, RESULTS)
    print(f"{'kind':28} {'p50':>8} {'p95':>8} {'p99':>8} {'bytes':>8}")
    for name, r in results.items():
        ms = r["ms"]
        print(f"{name:28} {ms['p50']:8.2f} {ms['p95']:8.2f} {ms['p99']:8.2f} {r['bytes']:8d}")
    met = results["year by day"]["ms"]["p95"] <= TARGET_P95_MS
    print(f"target p95 ≤ {TARGET_P95_MS} ms (year by day): {'met' if met else 'missed'}; {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
