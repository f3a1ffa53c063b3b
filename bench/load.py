"""Load generator for the embedded stack: ingest → searchable, over HTTP, measured for real.

It starts the stack itself (`python -m chalicelib.local run`, as tests/e2e/conftest.py does) with
many seeded tenants, or attaches to a running one (`--attach READY_FILE`), and drives it with
realistic pipeline runs: each scan holds a Dockerfile, a CloudFormation template and a JUnit file
(small files picked at random from ../shared/corpus), sent by many pipelines of many tenants.

A scan is *searchable* when `GET /v1/findings?scan_id=…` returns as many findings as the sum of
`counts` in `GET /v1/scans/{id}` (status complete). Every scan is confirmed that way over HTTP.
*When* to ask is decided by a probe: by default (`--probe sqlite`) a read-only look at the
stack's SQLite index file (the same rows the API reads, committed; a cheap query on the other
core), until it holds as many of the scan's findings as the engine predicts for its files; then
one `GET /v1/scans/{id}` and one `GET /v1/findings` confirm it, and the scan is searchable at
the probe's time. `--probe api` polls `GET /v1/findings` instead: purer, but each poll costs the
stack an authorizer (2 DynamoDB reads on moto) and a request under Chalice's app lock, which on
this stack measurably slows what it measures. A count that differs from the prediction falls
back to the scan's number; the poll interval bounds the latency resolution.

Each pipeline has one run in flight at a time (`--paths fixed`, the default): its files keep
their paths from run to run, so a finding's id is stable (GUIDE §3) and the next run rewrites
it, which is also what keeps the index size bounded. `--paths unique` gives every scan its own
paths and lifts that gate.

Modes (each starts a fresh stack unless `--attach`):
  throughput  submit `--count` artifacts as fast as `--clients` threads can (or for `--duration`),
              then wait until all are searchable: sustained artifacts/s ingest → searchable;
  latency     a fixed `--rate` (artifacts/s, open loop) for `--duration`: p50/p95/p99;
  soak        `--soak SECONDS --rate R`: errors (non-2xx, timeouts) and the stack's RSS
              every `--rss-interval` seconds.

Results: JSON in bench/results/, a summary on stdout. Targets are reported, never asserted.
"""

from __future__ import annotations

import argparse
import heapq
import http.client
import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import stack_probe

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
RESULTS = REPO / "bench" / "results"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

# Artifact types, in the order a scan holds them, with the path each has in its pipeline.
TYPES: tuple[tuple[str, str, str], ...] = (
    ("dockerfile", "dockerfile", "Dockerfile"),
    ("cloudformation", "cloudformation", "infra/template.yaml"),
    ("junit", "junit", "reports/junit.xml"),
)
TARGETS = {
    "throughput_artifacts_per_s": 300.0,
    "latency_p99_s_at_100_per_s": 1.0,
    "soak": "1800 s at 100 artifacts/s, 0 errors, RSS of every process < 1 MiB/min",
    "crash": "5 x kill -9 at full rate: 0 lost, 0 duplicated, keys and policies intact",
}
WARMUP_S = 120.0  # RSS slopes are taken after this much of a run (caches, pools filled)


# ----------------------------------------------------------------------------------------------
# Small helpers
# ----------------------------------------------------------------------------------------------
def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summarize(values: list[float]) -> dict[str, float | int | None]:
    """Count, mean and p50/p90/p95/p99/max of a list of seconds."""
    return {
        "n": len(values),
        "mean": statistics.fmean(values) if values else None,
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values) if values else None,
    }


def rss_kib(pid: int) -> int | None:
    """VmRSS of a process in KiB (None once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds a process used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds(pid: int) -> float | None:
    """CPU seconds used so far by a process's live descendants (the stack's moto server)."""
    total, found, pending = 0.0, False, [pid]
    while pending:
        parent = pending.pop()
        try:
            tasks = list(Path(f"/proc/{parent}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except (OSError, ValueError):
                continue
            for child in children:
                used = cpu_seconds(child)
                if used is not None:
                    total, found = total + used, True
                pending.append(child)
    return round(total, 2) if found else None


def loadavg() -> float | None:
    """The machine's 1-minute load average (other processes share these cores)."""
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def machine() -> dict[str, Any]:
    model = ""
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "python": sys.version.split()[0],
    }


def write_results(name: str, document: dict[str, Any], results_dir: Path) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = results_dir / f"{name}-{stamp}.json"
    target.write_text(json.dumps(document, indent=2, default=str) + "\n")
    (results_dir / f"{name}-latest.json").write_text(target.read_text())
    return target


# ----------------------------------------------------------------------------------------------
# The artifacts: small corpus files, with the number of findings the engine gives each
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CorpusFile:
    artifact_type: str
    name: str
    content: str
    findings: int  # distinct (resource, rule) pairs: the finding ids this file yields


def load_corpus(max_bytes: int, per_type: int, seed: int) -> dict[str, list[CorpusFile]]:
    """Up to `per_type` files of each type no bigger than `max_bytes` that parse cleanly."""
    from chalicelib.engine.runner import evaluate
    from chalicelib.models import ArtifactType

    rng = random.Random(seed)
    pool: dict[str, list[CorpusFile]] = {}
    for artifact_type, folder, path in TYPES:
        files = sorted(p for p in (CORPUS / folder).rglob("*") if p.is_file())
        files = [p for p in files if 0 < p.stat().st_size <= max_bytes]
        rng.shuffle(files)
        chosen: list[CorpusFile] = []
        for file in files:
            try:
                text = file.read_text("utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            report = evaluate(ArtifactType(artifact_type), text, path)
            if report.error:
                continue
            distinct = {(f.resource, f.rule_id) for f in report.findings}
            chosen.append(
                CorpusFile(artifact_type, str(file.relative_to(CORPUS)), text, len(distinct))
            )
            if len(chosen) >= per_type:
                break
        if not chosen:
            raise SystemExit(f"no usable {artifact_type} file under {CORPUS / folder}")
        pool[artifact_type] = chosen
    return pool


# ----------------------------------------------------------------------------------------------
# The stack process
# ----------------------------------------------------------------------------------------------
@dataclass
class StackHandle:
    api_url: str
    api_keys: dict[str, str]
    aws_endpoint: str
    pid: int | None
    state_dir: Path
    log_path: Path | None


def tenant_names(count: int) -> list[str]:
    return [f"tenant-{i:03d}" for i in range(count)]


@contextmanager
def started_stack(
    tenants: list[str], state_dir: Path | None, python: str, startup_timeout: float
) -> Iterator[StackHandle]:
    """`python -m chalicelib.local run` in a subprocess, stopped with Ctrl-C on exit."""
    state = Path(state_dir or tempfile.mkdtemp(prefix="pipeguard-load-"))
    state.mkdir(parents=True, exist_ok=True)
    ready = state / "ready.json"
    ready.unlink(missing_ok=True)
    log_path = state / "stack.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(PYTHONUNBUFFERED="1", LOG_LEVEL="WARNING")
    command = [python, "-m", "chalicelib.local", "run", "--port", "0", "--state-dir", str(state)]
    for tenant in tenants:
        command += ["--seed", tenant]
    command += ["--ready-file", str(ready)]
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + startup_timeout
            while not ready.exists():
                if process.poll() is not None:
                    raise SystemExit(f"the stack exited early:\n{log_path.read_text()[-3000:]}")
                if time.monotonic() > deadline:
                    raise SystemExit(f"the stack was not ready in {startup_timeout:.0f}s")
                time.sleep(0.1)
            info = json.loads(ready.read_text())
            yield StackHandle(
                info["api_url"],
                info["api_keys"],
                info["aws_endpoint"],
                process.pid,
                state,
                log_path,
            )
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def attached_stack(ready_file: Path, pid: int | None) -> StackHandle:
    info = json.loads(ready_file.read_text())
    return StackHandle(
        info["api_url"],
        info["api_keys"],
        info["aws_endpoint"],
        pid,
        Path(info.get("state_dir", ready_file.parent)),
        None,
    )


# ----------------------------------------------------------------------------------------------
# HTTP: one keep-alive connection per thread, 127.0.0.1 only, bounded by a timeout
# ----------------------------------------------------------------------------------------------
@dataclass
class Reply:
    status: int  # 0: no HTTP answer (see `error`)
    body: Any
    seconds: float
    error: str | None = None  # "timeout" | "connection" | None


class Http:
    def __init__(self, base_url: str, timeout: float) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme != "http" or parsed.hostname not in LOCAL_HOSTS:
            raise SystemExit(f"refusing a non-local target: {base_url}")
        self.host = parsed.hostname
        self.port = parsed.port or 80
        self.timeout = timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()

    def _conn(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self._local.conn = conn
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
        self._local.conn = None

    def call(self, method: str, path: str, key: str, kind: str, body: bytes | None = None) -> Reply:
        headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        with self._lock:
            self.requests[kind] += 1
        started = time.perf_counter()
        for attempt in range(2):  # one reconnect if the kept-alive socket was closed under us
            conn = self._conn()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except TimeoutError:
                self._drop()
                return Reply(0, None, time.perf_counter() - started, "timeout")
            except (ConnectionError, http.client.HTTPException, OSError):
                self._drop()
                if attempt == 0 and body is None:
                    continue
                return Reply(0, None, time.perf_counter() - started, "connection")
            elapsed = time.perf_counter() - started
            try:
                parsed = json.loads(data) if data else None
            except ValueError:
                parsed = None
            return Reply(response.status, parsed, elapsed)
        return Reply(0, None, time.perf_counter() - started, "connection")


# ----------------------------------------------------------------------------------------------
# Scans in flight and the tracker that waits for them to be searchable
# ----------------------------------------------------------------------------------------------
@dataclass
class Slot:
    tenant: str
    pipeline: str


@dataclass
class Scan:
    seq: int
    slot: Slot
    run_id: str
    artifacts: int
    predicted: int  # findings the engine predicts for the scan's files
    scheduled: float
    sent: float = 0.0
    accepted: float = 0.0
    scan_id: str = ""
    pipeline: str = ""
    scan_total: int | None = None  # sum of the scan's counts, once complete
    searchable: float | None = None
    polls: int = 0
    mismatch: bool = False
    error: str | None = None
    next_poll: float = 0.0


@dataclass
class Stats:
    """Everything counted during a run (guarded by `lock`)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    submitted_scans: int = 0
    submitted_artifacts: int = 0
    searchable_scans: int = 0
    searchable_artifacts: int = 0
    failed_scans: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)  # sent → searchable
    latencies_scheduled: list[float] = field(default_factory=list)  # scheduled → searchable
    post_seconds: list[float] = field(default_factory=list)
    poll_seconds: list[float] = field(default_factory=list)
    schedule_lag: list[float] = field(default_factory=list)
    slot_waits: list[float] = field(default_factory=list)
    polls_per_scan: list[int] = field(default_factory=list)
    mismatches: int = 0
    probes: int = 0
    not_offered_scans: int = 0
    first_sent: float | None = None
    last_sent: float | None = None
    last_searchable: float | None = None

    def error(self, kind: str) -> None:
        with self.lock:
            self.errors[kind] += 1


class Tracker:
    """Polls scans (earliest due first) until searchable; `threads` requests at a time at most."""

    def __init__(
        self,
        http: Http,
        keys: dict[str, str],
        stats: Stats,
        poll_interval: float,
        scan_timeout: float,
        threads: int,
        on_done: Callable[[Scan], None],
        index_path: Path | None = None,
    ) -> None:
        self.http = http
        self.index_path = index_path
        self._db = threading.local()
        self.keys = keys
        self.stats = stats
        self.poll_interval = poll_interval
        self.scan_timeout = scan_timeout
        self.on_done = on_done
        self._heap: list[tuple[float, int, Scan]] = []
        self._cond = threading.Condition()
        self._stop = False
        self._pending = 0
        self._recent: list[float] = []
        self._threads = [
            threading.Thread(target=self._loop, name=f"tracker-{i}", daemon=True)
            for i in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def pending(self) -> int:
        with self._cond:
            return self._pending

    def add(self, scan: Scan) -> None:
        # The first poll comes a little before the fastest recent scan became searchable: no
        # poll is wasted on scans that cannot be ready yet, none lands late.
        with self._cond:
            floor = 0.8 * min(self._recent) if self._recent else 0.0
            scan.next_poll = scan.sent + max(self.poll_interval, floor)
            heapq.heappush(self._heap, (scan.next_poll, scan.seq, scan))
            self._pending += 1
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=30)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._stop:
                    if self._heap and self._heap[0][0] <= time.monotonic():
                        break
                    wait = self._heap[0][0] - time.monotonic() if self._heap else 1.0
                    self._cond.wait(timeout=max(0.001, min(wait, 1.0)))
                if self._stop:
                    return
                _, _, scan = heapq.heappop(self._heap)
            done = self._check(scan)
            if not done and time.monotonic() - scan.sent > self.scan_timeout:
                scan.error = "scan_timeout"
                done = True
            with self._cond:
                if done:
                    self._pending -= 1
                    if scan.searchable is not None:
                        self._recent.append(scan.searchable - scan.sent)
                        del self._recent[:-50]
                else:
                    scan.next_poll = time.monotonic() + self.poll_interval
                    heapq.heappush(self._heap, (scan.next_poll, scan.seq, scan))
            if done:
                self.on_done(scan)

    def _get(self, path: str, key: str, kind: str) -> Any | None:
        reply = self.http.call("GET", path, key, kind)
        with self.stats.lock:
            self.stats.poll_seconds.append(reply.seconds)
            self.stats.statuses[f"GET {reply.status}"] += 1
        if reply.error:
            self.stats.error(f"poll_{reply.error}")
            return None
        if reply.status != 200:
            self.stats.error(f"poll_http_{reply.status}")
            return None
        return reply.body

    def _probe(self, scan: Scan) -> int | None:
        """The scan's findings in the index: SQLite read-only when we have the file, else HTTP."""
        if self.index_path is None:
            return self._count_findings(scan)
        conn: sqlite3.Connection | None = getattr(self._db, "conn", None)
        if conn is None:
            if not self.index_path.exists():
                return None
            conn = sqlite3.connect(f"file:{self.index_path}?mode=ro", uri=True, timeout=5)
            self._db.conn = conn
        try:
            row = conn.execute(
                "SELECT COUNT(*) FROM findings WHERE tenant_id = ? AND scan_id = ?",
                (scan.slot.tenant, scan.scan_id),
            ).fetchone()
        except sqlite3.Error:
            return None
        with self.stats.lock:
            self.stats.probes += 1
        return int(row[0])

    def _count_findings(self, scan: Scan) -> int | None:
        key = self.keys[scan.slot.tenant]
        count, cursor = 0, None
        for _ in range(20):  # bounded: 20 pages of 500 is far beyond any scan here
            query = {"scan_id": scan.scan_id, "limit": "500"}
            if cursor:
                query["cursor"] = cursor
            body = self._get(f"/v1/findings?{urllib.parse.urlencode(query)}", key, "findings")
            if body is None:
                return None
            count += len(body.get("findings", []))
            cursor = body.get("next_cursor")
            if not cursor:
                return count
        return count

    def _check(self, scan: Scan) -> bool:
        """One poll; True once the scan is searchable (or has failed)."""
        scan.polls += 1
        seen: int | None = None
        probe_time: float | None = None
        if scan.scan_total is None:
            if scan.predicted > 0:
                probed = self._probe(scan)
                if probed is None or probed < scan.predicted:
                    return False
                if self.index_path is None:
                    seen = probed
                probe_time = time.monotonic()
            elif self.index_path is not None and scan.polls % 5:
                return False  # nothing to probe: ask the API every fifth round only
            body = self._get(f"/v1/scans/{scan.scan_id}", self.keys[scan.slot.tenant], "scan")
            if body is None:
                return False
            if body.get("status") == "failed":
                scan.error = "scan_failed"
                return True
            if body.get("status") != "complete":
                return False
            scan.scan_total = sum((body.get("counts") or {}).values())
            if scan.scan_total != scan.predicted:
                scan.mismatch = True
                seen = None  # counted against another number: count again
        if seen is None:
            seen = self._count_findings(scan)
            if seen is None:
                return False
        if seen == scan.scan_total:
            # With the SQLite probe the rows were visible (committed) at probe time already.
            scan.searchable = probe_time if probe_time is not None else time.monotonic()
            return True
        if seen > scan.scan_total:
            scan.error = "more_findings_than_counts"
            return True
        return False


# ----------------------------------------------------------------------------------------------
# Submitting scans
# ----------------------------------------------------------------------------------------------
class Driver:
    """Submits scans from `clients` threads on a schedule and tracks them until searchable."""

    def __init__(self, stack: StackHandle, corpus: dict[str, list[CorpusFile]], opts: Any) -> None:
        self.stack = stack
        self.corpus = corpus
        self.opts = opts
        self.http = Http(stack.api_url, opts.http_timeout)
        self.stats = Stats()
        tenants = sorted(stack.api_keys)[: opts.tenants]
        self.slots: list[Slot] = [
            Slot(t, f"{t}/service-{p:02d}@main")
            for p in range(opts.pipelines_per_tenant)
            for t in tenants
        ]
        self._free: list[Slot] = list(self.slots)
        self.accepted: list[Scan] = []  # every scan that got a 202
        self._free_cond = threading.Condition()
        self._seq = 0
        self._seq_lock = threading.Lock()
        self.tracker = Tracker(
            self.http,
            stack.api_keys,
            self.stats,
            opts.poll_interval,
            opts.scan_timeout,
            opts.trackers,
            self._done,
            index_path=(stack.state_dir / "search.db") if opts.probe == "sqlite" else None,
        )

    # Pipeline gate: one run in flight per pipeline (with fixed paths) -----------------------------
    def _acquire(self, deadline: float) -> Slot | None:
        with self._free_cond:
            while not self._free:
                if time.monotonic() >= deadline:
                    return None
                self._free_cond.wait(timeout=max(0.0, min(1.0, deadline - time.monotonic())))
            slot = self._free.pop(0)
            if self.opts.paths != "fixed":
                self._free.append(slot)
            return slot

    def _release(self, slot: Slot) -> None:
        if self.opts.paths != "fixed":
            return
        with self._free_cond:
            self._free.append(slot)
            self._free_cond.notify()

    def _done(self, scan: Scan) -> None:
        stats = self.stats
        with stats.lock:
            stats.polls_per_scan.append(scan.polls)
            if scan.mismatch:
                stats.mismatches += 1
            if scan.searchable is not None:
                stats.searchable_scans += 1
                stats.searchable_artifacts += scan.artifacts
                stats.latencies.append(scan.searchable - scan.sent)
                stats.latencies_scheduled.append(scan.searchable - scan.scheduled)
                last = stats.last_searchable
                stats.last_searchable = max(last or 0.0, scan.searchable)
            else:
                stats.failed_scans += 1
                stats.errors[scan.error or "unknown"] += 1
        self._release(scan.slot)

    # The scan body ---------------------------------------------------------------------------
    def _body(self, scan: Scan, rng: random.Random) -> bytes:
        artifacts = []
        predicted = 0
        for i in range(scan.artifacts):
            artifact_type, _, path = TYPES[i % len(TYPES)]
            if i >= len(TYPES):
                path = f"part-{i // len(TYPES)}/{path}"
            if self.opts.paths == "unique":
                path = f"runs/{scan.run_id}/{path}"
            file = rng.choice(self.corpus[artifact_type])
            predicted += file.findings
            artifacts.append({"type": artifact_type, "path": path, "content": file.content})
        scan.predicted = predicted
        scan.pipeline = scan.slot.pipeline
        if self.opts.paths == "pipeline":  # the scan is its pipeline's only run
            scan.pipeline = f"crash-{scan.run_id}"
        document = {
            "pipeline": scan.pipeline,
            "run_id": scan.run_id,
            "commit": f"{rng.getrandbits(160):040x}",
            "artifacts": artifacts,
        }
        return json.dumps(document).encode("utf-8")

    def _next(self) -> int:
        with self._seq_lock:
            self._seq += 1
            return self._seq

    # Submitter threads ---------------------------------------------------------------------------
    def run(
        self, schedule: Callable[[int], float | None], stop_at: float, worker_count: int
    ) -> None:
        """Submit until `schedule(seq)` says stop (None) or `stop_at` passes."""
        nonce = f"{random.getrandbits(32):08x}"

        def worker(index: int) -> None:
            rng = random.Random(self.opts.seed * 1000 + index)
            while True:
                seq = self._next()
                when = schedule(seq)
                if when is None or when > stop_at:
                    return
                delay = when - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                waited = time.monotonic()
                slot = self._acquire(stop_at)
                if slot is None:  # every pipeline busy until the end: load not offered
                    with self.stats.lock:
                        self.stats.not_offered_scans += 1
                    continue
                started = time.monotonic()
                scan = Scan(
                    seq=seq,
                    slot=slot,
                    run_id=f"run-{nonce}-{seq:08d}",
                    artifacts=self.opts.artifacts_per_scan,
                    predicted=0,
                    scheduled=when,
                )
                body = self._body(scan, rng)
                scan.sent = time.monotonic()
                reply = self.http.call(
                    "POST", "/v1/scans", self.stack.api_keys[slot.tenant], "submit", body
                )
                stats = self.stats
                with stats.lock:
                    stats.statuses[f"POST {reply.status}"] += 1
                    stats.post_seconds.append(reply.seconds)
                    stats.schedule_lag.append(max(0.0, waited - when))
                    stats.slot_waits.append(started - waited)
                if reply.status != 202 or not isinstance(reply.body, dict):
                    stats.error(f"submit_{reply.error or f'http_{reply.status}'}")
                    self._release(slot)
                    if reply.error == "connection":  # the stack is down (crash mode)
                        time.sleep(0.05)
                    continue
                scan.accepted = time.monotonic()
                scan.scan_id = reply.body["scan_id"]
                with stats.lock:
                    stats.submitted_scans += 1
                    stats.submitted_artifacts += scan.artifacts
                    stats.first_sent = min(stats.first_sent or scan.sent, scan.sent)
                    stats.last_sent = max(stats.last_sent or 0.0, scan.accepted)
                    self.accepted.append(scan)
                self.tracker.add(scan)

        threads = [
            threading.Thread(target=worker, args=(i,), name=f"submit-{i}", daemon=True)
            for i in range(worker_count)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def drain(self, timeout: float, progress: Callable[[], None] | None = None) -> bool:
        """Wait until every accepted scan is searchable or failed (at most `timeout` s)."""
        deadline = time.monotonic() + timeout
        while self.tracker.pending() and time.monotonic() < deadline:
            time.sleep(0.2)
            if progress:
                progress()
        return self.tracker.pending() == 0

    def close(self) -> None:
        self.tracker.stop()


# ----------------------------------------------------------------------------------------------
# Sampling the stack process
# ----------------------------------------------------------------------------------------------
class Sampler(threading.Thread):
    """Every `interval` s: RSS and CPU of the stack and of each of its worker processes, the
    state folder's disk usage and stream tables, and the driver's progress."""

    def __init__(self, stack: StackHandle, driver: Driver, interval: float, echo: bool) -> None:
        super().__init__(name="sampler", daemon=True)
        self.stack = stack
        self.pid = stack.pid
        self.driver = driver
        self.interval = interval
        self.echo = echo
        self.samples: list[dict[str, Any]] = []
        self._halt = threading.Event()
        self._t0 = time.monotonic()

    def sample(self) -> dict[str, Any]:
        stats = self.driver.stats
        with stats.lock:
            row: dict[str, Any] = {
                "t": round(time.monotonic() - self._t0, 1),
                "submitted_artifacts": stats.submitted_artifacts,
                "searchable_artifacts": stats.searchable_artifacts,
                "errors": sum(stats.errors.values()),
                "loadavg_1m": loadavg(),
            }
        row["in_flight_scans"] = self.driver.tracker.pending()
        self.pid = self.stack.pid  # a restarted stack (crash mode) has a new one
        if self.pid:
            row["rss_mib"] = round((rss_kib(self.pid) or 0) / 1024, 1)
            row["cpu_s"] = cpu_seconds(self.pid)
        row["processes"] = stack_probe.process_sample(
            stack_probe.process_table(self.pid, self.stack.state_dir)
        )
        row["disk"] = stack_probe.disk_usage(self.stack.state_dir)
        row["tables"] = stack_probe.table_rows(self.stack.state_dir)
        self.samples.append(row)
        if self.echo:
            print("  " + json.dumps(row), flush=True)
        return row

    def run(self) -> None:
        self.sample()
        while not self._halt.wait(self.interval):
            self.sample()

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)
        self.sample()


def memory_trend(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """RSS first/last/max and least-squares slopes (MiB/min) over the run and its second half."""
    points = [(s["t"], s["rss_mib"]) for s in samples if s.get("rss_mib")]
    if len(points) < 2:
        return {}

    def slope(pts: list[tuple[float, float]]) -> float | None:
        if len(pts) < 2:
            return None
        mean_t = statistics.fmean(t for t, _ in pts)
        mean_r = statistics.fmean(r for _, r in pts)
        den = sum((t - mean_t) ** 2 for t, _ in pts)
        return None if den == 0 else 60 * sum((t - mean_t) * (r - mean_r) for t, r in pts) / den

    half = points[len(points) // 2 :]
    return {
        "first_mib": points[0][1],
        "last_mib": points[-1][1],
        "max_mib": max(r for _, r in points),
        "slope_mib_per_min": slope(points),
        "slope_second_half_mib_per_min": slope(half),
    }


def process_costs(samples: list[dict[str, Any]], searchable: int, warmup: float) -> dict[str, Any]:
    """RSS trend and CPU per searchable artifact of each process; disk growth and the stream
    tables' rows at the end."""
    processes = stack_probe.process_trends(samples, warmup)
    for trend in processes.values():
        cpu = trend.get("cpu_s")
        trend["cpu_ms_per_searchable_artifact"] = (
            round(1000 * cpu / searchable, 2) if cpu is not None and searchable else None
        )
    total = [t["cpu_s"] for t in processes.values() if t.get("cpu_s") is not None]
    tables = next((s["tables"] for s in reversed(samples) if s.get("tables")), {})
    return {
        "processes": processes,
        "cpu_ms_per_searchable_artifact_all_processes": (
            round(1000 * sum(total) / searchable, 2) if total and searchable else None
        ),
        "disk": stack_probe.disk_trend(samples, tables),
        "tables_at_end": tables,
    }


def stack_log_errors(log_path: Path | None) -> dict[str, Any]:
    """ERROR lines the stack logged (handler failures, dead-lettered records)."""
    if log_path is None or not log_path.exists():
        return {}
    lines = [ln for ln in log_path.read_text(errors="replace").splitlines() if " ERROR " in ln]
    return {"error_lines": len(lines), "examples": lines[:5]}


# ----------------------------------------------------------------------------------------------
# The modes
# ----------------------------------------------------------------------------------------------
def _report(driver: Driver, wall: float, extra: dict[str, Any]) -> dict[str, Any]:
    stats = driver.stats
    with stats.lock:
        span = None
        if stats.first_sent is not None and stats.last_searchable is not None:
            span = stats.last_searchable - stats.first_sent
        submit_span = None
        if stats.first_sent is not None and stats.last_sent is not None:
            submit_span = stats.last_sent - stats.first_sent
        result = {
            "submitted_scans": stats.submitted_scans,
            "submitted_artifacts": stats.submitted_artifacts,
            "searchable_scans": stats.searchable_scans,
            "searchable_artifacts": stats.searchable_artifacts,
            "failed_scans": stats.failed_scans,
            "not_offered_scans": stats.not_offered_scans,
            "errors": dict(stats.errors),
            "error_total": sum(stats.errors.values()),
            "http_statuses": dict(stats.statuses),
            "requests": dict(driver.http.requests),
            "sqlite_probes": stats.probes,
            "count_mismatches": stats.mismatches,
            "wall_s": round(wall, 2),
            "ingest_to_searchable_span_s": span,
            "sustained_artifacts_per_s": (
                stats.searchable_artifacts / span if span and span > 0 else None
            ),
            "accepted_artifacts_per_s": (
                stats.submitted_artifacts / submit_span if submit_span and submit_span > 0 else None
            ),
            "latency_s": summarize(stats.latencies),
            "latency_from_schedule_s": summarize(stats.latencies_scheduled),
            "post_s": summarize(stats.post_seconds),
            "poll_request_s": summarize(stats.poll_seconds),
            "schedule_lag_s": summarize(stats.schedule_lag),
            "pipeline_gate_wait_s": summarize(stats.slot_waits),
            "polls_per_scan_mean": (
                statistics.fmean(stats.polls_per_scan) if stats.polls_per_scan else None
            ),
        }
    result.update(extra)
    return result


def run_mode(mode: str, stack: StackHandle, corpus: dict[str, list[CorpusFile]], opts: Any) -> dict:
    driver = Driver(stack, corpus, opts)
    echo = mode == "soak" or opts.verbose
    sampler = Sampler(stack, driver, opts.rss_interval, echo)
    cpu_before = cpu_seconds(stack.pid) if stack.pid else None
    moto_before = children_cpu_seconds(stack.pid) if stack.pid else None
    t0 = time.monotonic()
    try:
        sampler.start()
        if mode == "throughput":
            limit_scans = max(1, opts.count // opts.artifacts_per_scan)
            stop_at = t0 + opts.max_submit_seconds

            def schedule(seq: int) -> float | None:
                return time.monotonic() if seq <= limit_scans else None

            driver.run(schedule, stop_at, opts.clients)
        else:
            seconds = opts.soak if mode == "soak" else opts.duration
            interval = opts.artifacts_per_scan / opts.rate
            start = time.monotonic() + 0.5
            stop_at = start + seconds

            def schedule(seq: int) -> float | None:
                return start + (seq - 1) * interval

            # Enough threads that a slow answer does not hold the schedule back.
            driver.run(schedule, stop_at, opts.clients)
        submit_done = time.monotonic()
        drained = driver.drain(opts.drain_timeout)
        wall = time.monotonic() - t0
    finally:
        sampler.stop()
        driver.close()
    cpu_after = cpu_seconds(stack.pid) if stack.pid else None
    moto_after = children_cpu_seconds(stack.pid) if stack.pid else None
    moto_cpu = (
        moto_after - moto_before if moto_after is not None and moto_before is not None else None
    )
    searchable = driver.stats.searchable_artifacts
    extra: dict[str, Any] = {
        "mode": mode,
        "drained": drained,
        "drain_s": round(time.monotonic() - submit_done, 2),
        "stack_cpu_s": (
            round(cpu_after - cpu_before, 1)
            if cpu_after is not None and cpu_before is not None
            else None
        ),
        "stack_cpu_ms_per_searchable_artifact": (
            round(1000 * (cpu_after - cpu_before) / driver.stats.searchable_artifacts, 1)
            if cpu_after is not None
            and cpu_before is not None
            and driver.stats.searchable_artifacts
            else None
        ),
        "stack_cpu_cores_mean": (
            round((cpu_after - cpu_before) / wall, 2)
            if cpu_after is not None and cpu_before is not None and wall > 0
            else None
        ),
        # The stack's child processes: its moto server (AWS emulation), on a core of its own.
        "moto_cpu_s": round(moto_cpu, 1) if moto_cpu is not None else None,
        "moto_cpu_ms_per_searchable_artifact": (
            round(1000 * moto_cpu / searchable, 1) if moto_cpu is not None and searchable else None
        ),
        "samples": sampler.samples,
        "loadavg_1m_mean": _mean([s["loadavg_1m"] for s in sampler.samples if s["loadavg_1m"]]),
        "memory": memory_trend(sampler.samples),
        "stack_log": stack_log_errors(stack.log_path),
    }
    extra.update(process_costs(sampler.samples, searchable, opts.warmup))
    if mode != "throughput":
        extra["target_rate_artifacts_per_s"] = opts.rate
    return _report(driver, wall, extra)


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 2) if values else None


def _fmt(value: float | None, unit: str = "", digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}{unit}"


def print_summary(mode: str, result: dict[str, Any]) -> None:
    lat = result["latency_s"]
    print(f"\n== {mode} ==")
    print(
        f"  artifacts: {result['submitted_artifacts']} submitted, "
        f"{result['searchable_artifacts']} searchable; errors {result['error_total']} "
        f"{result['errors'] or ''}; drained={result['drained']}; scans not offered (every "
        f"pipeline busy) {result['not_offered_scans']}"
    )
    sustained = result["sustained_artifacts_per_s"]
    print(
        f"  sustained ingest→searchable: {_fmt(sustained, ' artifacts/s', 1)}"
        f" (accepted {_fmt(result['accepted_artifacts_per_s'], '/s', 1)});"
        f" stack CPU {_fmt(result['stack_cpu_cores_mean'], ' cores')},"
        f" {_fmt(result['stack_cpu_ms_per_searchable_artifact'], ' ms', 0)}/artifact;"
        f" moto CPU {_fmt(result.get('moto_cpu_ms_per_searchable_artifact'), ' ms', 0)}/artifact;"
        f" load average {result['loadavg_1m_mean']}"
    )
    print(
        f"  latency ingest→searchable: p50 {_fmt(lat['p50'], ' s')}  p95 {_fmt(lat['p95'], ' s')}"
        f"  p99 {_fmt(lat['p99'], ' s')}  max {_fmt(lat['max'], ' s')}"
        f"  (POST p50 {_fmt(result['post_s']['p50'], ' s', 3)})"
    )
    if mode == "throughput":
        print(f"  target ≥ {TARGETS['throughput_artifacts_per_s']:.0f} artifacts/s")
    if mode == "latency":
        print(
            f"  target p99 ≤ {TARGETS['latency_p99_s_at_100_per_s']} s at 100 artifacts/s "
            f"(run at {result.get('target_rate_artifacts_per_s')}/s)"
        )
    mem = result.get("memory") or {}
    if mem:
        print(
            f"  stack RSS: {mem['first_mib']} → {mem['last_mib']} MiB (max {mem['max_mib']}),"
            f" slope {_fmt(mem['slope_mib_per_min'], ' MiB/min', 1)}"
            f" (second half {_fmt(mem['slope_second_half_mib_per_min'], ' MiB/min', 1)})"
        )
    for name, trend in (result.get("processes") or {}).items():
        print(
            f"  {name} (pid {trend['pid']}): RSS {trend['rss_first_mib']} → "
            f"{trend['rss_last_mib']} MiB (max {trend['rss_max_mib']}), slope after warm-up "
            f"{_fmt(trend['rss_slope_after_warmup_mib_per_min'], ' MiB/min', 2)}; CPU "
            f"{_fmt(trend['cpu_ms_per_searchable_artifact'], ' ms', 2)}/artifact"
        )
    if result.get("cpu_ms_per_searchable_artifact_all_processes") is not None:
        print(
            "  CPU of all the stack's processes: "
            f"{result['cpu_ms_per_searchable_artifact_all_processes']} ms/artifact"
        )
    disk = result.get("disk") or {}
    if disk:
        print(
            f"  disk: {disk['first_bytes']['total']} → {disk['last_bytes']['total']} bytes "
            f"({_fmt(disk['growth_mib_per_min'], ' MiB/min', 2)}); "
            f"{disk.get('bytes_per_stored_finding')} B per stored finding, "
            f"{disk.get('bytes_per_stored_scan')} B per stored scan; tables at the end "
            f"{result.get('tables_at_end')}"
        )
    log = result.get("stack_log") or {}
    if log:
        print(f"  stack log ERROR lines: {log.get('error_lines')}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--mode",
        choices=("throughput", "latency", "both", "crash"),
        default="both",
        help="what to measure (ignored with --soak); each mode gets a fresh stack",
    )
    parser.add_argument("--soak", type=float, metavar="SECONDS", help="soak for this long")
    parser.add_argument("--rate", type=float, default=None, help="artifacts/s (default 100)")
    parser.add_argument("--duration", type=float, default=60.0, help="latency: seconds at --rate")
    parser.add_argument(
        "--count", type=int, default=900, help="throughput: artifacts to submit (default 900)"
    )
    parser.add_argument(
        "--max-submit-seconds", type=float, default=300.0, help="throughput: stop submitting then"
    )
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument("--pipelines-per-tenant", type=int, default=10)
    parser.add_argument("--artifacts-per-scan", type=int, default=3)
    parser.add_argument(
        "--paths",
        choices=("fixed", "unique", "pipeline"),
        default="fixed",
        help="fixed: one run per pipeline at a time; unique: every scan its own paths; "
        "pipeline: every scan its own pipeline (crash mode's)",
    )
    parser.add_argument("--kills", type=int, default=5, help="crash: kill -9 this many times")
    parser.add_argument("--clients", type=int, default=4, help="submitting threads")
    parser.add_argument("--trackers", type=int, default=2, help="polling threads")
    parser.add_argument(
        "--probe",
        choices=("sqlite", "api"),
        default="sqlite",
        help="how to tell when to confirm a scan over HTTP (see the module doc)",
    )
    parser.add_argument(
        "--poll-interval", type=float, default=None, help="s (default: sqlite 0.05, api 0.1)"
    )
    parser.add_argument(
        "--scan-timeout", type=float, default=300.0, help="s from POST: later is an error"
    )
    parser.add_argument("--drain-timeout", type=float, default=600.0)
    parser.add_argument("--http-timeout", type=float, default=30.0)
    parser.add_argument("--rss-interval", type=float, default=10.0)
    parser.add_argument(
        "--warmup", type=float, default=WARMUP_S, help="s before RSS slopes are measured"
    )
    parser.add_argument("--max-artifact-bytes", type=int, default=8192)
    parser.add_argument("--files-per-type", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--startup-timeout", type=float, default=120.0)
    parser.add_argument("--state-dir", type=Path, help="stack state dir (default: a temp dir)")
    parser.add_argument("--attach", type=Path, help="ready file of a running stack: use it")
    parser.add_argument("--stack-pid", type=int, help="with --attach: the stack's pid (RSS)")
    parser.add_argument("--python", default=None, help="interpreter for the stack")
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    parser.add_argument("--tag", default="", help="suffix for the result file name")
    parser.add_argument("--verbose", action="store_true", help="print samples as they come")
    args = parser.parse_args(argv)
    if args.mode == "crash":
        args.paths = "pipeline"
    args.rate = args.rate or 100.0
    if args.poll_interval is None:
        args.poll_interval = 0.05 if args.probe == "sqlite" else 0.1
    if args.rate <= 0 or args.artifacts_per_scan < 1 or args.tenants < 1:
        parser.error("--rate, --artifacts-per-scan and --tenants must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    if opts.soak is not None:
        modes = ["soak"]
    elif opts.mode == "both":
        modes = ["throughput", "latency"]
    else:
        modes = [opts.mode]
    python = opts.python or str(REPO / ".venv" / "bin" / "python")
    if not Path(python).exists():
        python = sys.executable
    t_corpus = time.monotonic()
    corpus = load_corpus(opts.max_artifact_bytes, opts.files_per_type, opts.seed)
    corpus_info = {
        t: {
            "files": len(files),
            "mean_bytes": round(statistics.fmean(len(f.content) for f in files)),
            "mean_findings": round(statistics.fmean(f.findings for f in files), 2),
        }
        for t, files in corpus.items()
    }
    print(f"corpus ready in {time.monotonic() - t_corpus:.1f}s: {corpus_info}", flush=True)
    document: dict[str, Any] = {
        "benchmark": "load",
        "machine": machine(),
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(opts).items()},
        "corpus": corpus_info,
        "targets": TARGETS,
        "runs": {},
    }
    for mode in modes:
        if mode == "crash":
            from bench.crash import print_crash, run_crash

            result = run_crash(opts, corpus, python, REPO, tenant_names(opts.tenants))
            document["runs"][mode] = result
            print_crash(result)
            continue
        if opts.attach:
            stack = attached_stack(opts.attach, opts.stack_pid)
            result = run_mode(mode, stack, corpus, opts)
        else:
            tenants = tenant_names(opts.tenants)
            print(f"starting the stack with {len(tenants)} tenants for {mode}…", flush=True)
            with started_stack(tenants, opts.state_dir, python, opts.startup_timeout) as stack:
                result = run_mode(mode, stack, corpus, opts)
        document["runs"][mode] = result
        print_summary(mode, result)
    name = "load-" + "-".join(modes) + (f"-{opts.tag}" if opts.tag else "")
    path = write_results(name, document, opts.results_dir)
    print(f"\nresults: {os.path.relpath(path, REPO)}")
    return 0


__all__ = ["Driver", "StackHandle", "load_corpus", "main", "started_stack", "summarize"]

if __name__ == "__main__":
    sys.exit(main())
