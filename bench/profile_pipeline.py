"""Where does the pipeline's time go? Calls per artifact, the moto ceiling, and a sampled profile.

Three measurements, one run (`python -m bench.profile_pipeline`, JSON in bench/results/):

1. *Moto here, alone*: a moto server in its own process and one client thread in this one time
   each AWS operation the pipeline uses, with payloads shaped like the pipeline's: calls/s, and
   the CPU each call costs on the client side (boto3/botocore) and on the server side (moto),
   read from /proc. In the embedded stack both sides share one process, so one GIL.
2. *Calls per artifact*: the embedded stack runs in this process (`EmbeddedStack` in threads)
   with `botocore.client.BaseClient._make_api_call` wrapped: every AWS call is counted by
   operation and by the service that made it (found by walking the caller's frames: ingest,
   evaluate, authorizer, queries, the event-source runner). `bench.load` drives it from a
   subprocess (closed loop by default) and waits until every artifact is searchable, so each
   ingested artifact's calls are all in the count.
3. *Profile split*: `py-spy record --gil` samples this process during the load (only the thread
   holding the GIL, which is what bounds a GIL-bound process) and each sample is put in one
   bucket: moto, the AWS SDK client, the SQLite index, rules and parsers, the rest of our code,
   the runner loop, Chalice's local API plumbing. A second py-spy samples the stack's moto
   server process the same way (by part and by backend method), and the CPU both processes
   used during the load gives our share of it.

From 1 and 2: the ceiling moto sets, `1 / Σ_op calls_per_artifact(op) × cost(op)`, with the
GUIDE's single-thread rates and with the costs measured here.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from bench.load import (
    RESULTS,
    children_cpu_seconds,
    cpu_seconds,
    loadavg,
    machine,
    tenant_names,
    write_results,
)

REPO = Path(__file__).resolve().parents[1]

# GUIDE §6: single-thread rates seen on this machine (calls/s); other operations: one request.
GUIDE_RATES: dict[str, float] = {
    "dynamodb.PutItem": 230.0,
    "kinesis.PutRecord": 230.0,
}
GUIDE_DEFAULT_RATE = 230.0

# Which service made a call: the first frame (innermost first) whose file is one of these.
CALLERS: tuple[tuple[str, str], ...] = (
    ("chalicelib/tenancy.py", "authorizer"),
    ("chalicelib/ingest.py", "ingest"),
    ("chalicelib/evaluate.py", "evaluate"),
    ("chalicelib/alerts.py", "evaluate"),
    ("chalicelib/notifications.py", "evaluate"),
    ("chalicelib/queries.py", "queries"),
    ("chalicelib/indexing.py", "index"),
    ("chalicelib/local/runner.py", "runner"),
)

# Profile buckets: the first rule any frame of a sample matches (see `classify`).
BUCKETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("moto (AWS emulation: werkzeug server + moto)", ("moto/", "werkzeug/")),
    ("AWS SDK client (boto3, botocore, urllib3)", ("botocore/", "boto3/", "urllib3/")),
    ("SQLite index (search/sqlite.py, sqlite3)", ("chalicelib/search/sqlite.py",)),
    ("rules + parsers", ("rules/", "chalicelib/engine/", "chalicelib/parsers/")),
    ("our code: ingest/evaluate/index/queries/auth glue", ("chalicelib/", "app.py")),
    ("Chalice local API plumbing (chalice, http.server)", ("chalice/", "http/server.py")),
)


# ----------------------------------------------------------------------------------------------
# 1. Moto alone: cost of each operation
# ----------------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _calibration_calls(endpoint: str) -> list[tuple[str, Callable[[int], Any]]]:
    """Each operation the pipeline makes, with payloads like the pipeline's."""
    import boto3

    session = boto3.session.Session(
        region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    ddb = session.client("dynamodb", endpoint_url=endpoint)
    s3 = session.client("s3", endpoint_url=endpoint)
    kinesis = session.client("kinesis", endpoint_url=endpoint)
    streams = session.client("dynamodbstreams", endpoint_url=endpoint)
    sns = session.client("sns", endpoint_url=endpoint)
    keys = [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
    ]
    schema = [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    table = ddb.create_table(
        TableName="bench",
        AttributeDefinitions=keys,
        KeySchema=schema,
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    stream_arn = table["TableDescription"]["LatestStreamArn"]
    s3.create_bucket(Bucket="bench-artifacts")
    kinesis.create_stream(StreamName="bench", ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(
        StreamName="bench", WaiterConfig={"Delay": 0.1, "MaxAttempts": 50}
    )
    topic = sns.create_topic(Name="bench")["TopicArn"]
    finding = {
        "pk": {"S": "tenant-000"},
        "scan_id": {"S": "scn_0123456789abcdef01234567"},
        "pipeline": {"S": "tenant-000/service-01@main"},
        "rule_id": {"S": "DF-USER-001"},
        "title": {"S": "The container runs as root"},
        "message": {"S": "No USER instruction: the process runs as root in the container." * 2},
        "severity": {"S": "high"},
        "path": {"S": "Dockerfile"},
        "lines": {"L": [{"N": "1"}, {"N": "4"}]},
    }
    body = b"FROM ubuntu:latest\nRUN apt-get update && apt-get install -y curl\n" * 25
    event = json.dumps({"tenant_id": "tenant-000", "scan_id": "scn_x", "path": "x" * 200}).encode()
    shard = kinesis.list_shards(StreamName="bench")["Shards"][0]["ShardId"]
    stream_shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]

    def batch(i: int, n: int) -> list[dict[str, Any]]:
        return [{**finding, "sk": {"S": f"f{i}-{j}"}} for j in range(n)]

    def update(i: int) -> Any:
        return ddb.update_item(
            TableName="bench",
            Key={"pk": {"S": "tenant-000"}, "sk": {"S": f"scan{i % 50}"}},
            UpdateExpression="SET #r.#i = :v, #s = :s ADD done :one",
            ExpressionAttributeNames={"#r": "results", "#i": str(i), "#s": "status"},
            ExpressionAttributeValues={
                ":v": {"M": {"status": {"S": "evaluated"}, "findings": {"N": "3"}}},
                ":s": {"S": "running"},
                ":one": {"N": "1"},
            },
            ReturnValues="ALL_NEW",
        )

    for i in range(50):  # scans to update, with a results map
        ddb.put_item(
            TableName="bench",
            Item={"pk": {"S": "tenant-000"}, "sk": {"S": f"scan{i}"}, "results": {"M": {}}},
        )
    iterators: dict[str, str] = {}

    def kinesis_get(i: int) -> Any:
        it = (
            iterators.get("k")
            or kinesis.get_shard_iterator(
                StreamName="bench", ShardId=shard, ShardIteratorType="LATEST"
            )["ShardIterator"]
        )
        response = kinesis.get_records(ShardIterator=it, Limit=1000)
        iterators["k"] = response["NextShardIterator"]
        return response

    def streams_get(i: int) -> Any:
        it = (
            iterators.get("d")
            or streams.get_shard_iterator(
                StreamArn=stream_arn,
                ShardId=stream_shard[0]["ShardId"],
                ShardIteratorType="LATEST",
            )["ShardIterator"]
        )
        response = streams.get_records(ShardIterator=it, Limit=1000)
        iterators["d"] = response.get("NextShardIterator") or ""
        return response

    return [
        (
            "dynamodb.GetItem",
            lambda i: ddb.get_item(
                TableName="bench", Key={"pk": {"S": "tenant-000"}, "sk": {"S": f"scan{i % 50}"}}
            ),
        ),
        (
            "dynamodb.PutItem",
            lambda i: ddb.put_item(TableName="bench", Item={**finding, "sk": {"S": f"p{i}"}}),
        ),
        ("dynamodb.UpdateItem", update),
        (
            "dynamodb.BatchWriteItem",
            lambda i: ddb.batch_write_item(
                RequestItems={"bench": [{"PutRequest": {"Item": it}} for it in batch(i, 4)]}
            ),
        ),
        (
            "dynamodb.BatchGetItem",
            lambda i: ddb.batch_get_item(
                RequestItems={
                    "bench": {
                        "Keys": [
                            {"pk": {"S": "tenant-000"}, "sk": {"S": f"f{i}-{j}"}} for j in range(4)
                        ]
                    }
                }
            ),
        ),
        (
            "dynamodb.Query",
            lambda i: ddb.query(
                TableName="bench",
                KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
                ExpressionAttributeValues={":p": {"S": "tenant-000"}, ":s": {"S": f"f{i}-"}},
            ),
        ),
        (
            "s3.PutObject",
            lambda i: s3.put_object(Bucket="bench-artifacts", Key=f"a/{i}", Body=body),
        ),
        (
            "s3.GetObject",
            lambda i: s3.get_object(Bucket="bench-artifacts", Key=f"a/{i % 50}")["Body"].read(),
        ),
        (
            "kinesis.PutRecords",
            lambda i: kinesis.put_records(
                StreamName="bench",
                Records=[{"PartitionKey": f"t:{i}", "Data": event} for _ in range(3)],
            ),
        ),
        ("kinesis.GetRecords", kinesis_get),
        ("dynamodbstreams.GetRecords", streams_get),
        ("sns.Publish", lambda i: sns.publish(TopicArn=topic, Message="{}", Subject="bench")),
    ]


def calibrate(calls: int, python: str) -> dict[str, Any]:
    """Time each operation against a moto server in its own process (one client thread)."""
    for name in [k for k in os.environ if k.startswith("AWS_")]:
        os.environ.pop(name)
    port = _free_port()
    server = subprocess.Popen(
        [python, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the moto server did not start") from None
                time.sleep(0.2)
        operations = _calibration_calls(endpoint)
        results: dict[str, Any] = {}
        for name, call in operations:
            for i in range(5):  # warm up: connections, models, first items
                call(i)
            wall0, cpu0, srv0 = time.perf_counter(), time.process_time(), cpu_seconds(server.pid)
            for i in range(calls):
                call(i)
            wall = time.perf_counter() - wall0
            client_cpu = time.process_time() - cpu0
            server_cpu = (cpu_seconds(server.pid) or 0.0) - (srv0 or 0.0)
            results[name] = {
                "calls_per_s": round(calls / wall, 1),
                "wall_ms": round(1000 * wall / calls, 2),
                "client_cpu_ms": round(1000 * client_cpu / calls, 2),
                "server_cpu_ms": round(1000 * server_cpu / calls, 2),
            }
            print(f"  {name:28s} {results[name]}", flush=True)
        return results
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


# ----------------------------------------------------------------------------------------------
# 2. Counting every AWS call of the in-process stack
# ----------------------------------------------------------------------------------------------
class CallCounter:
    """Wraps `BaseClient._make_api_call`: counts (caller, operation) and their wall time."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self.seconds: defaultdict[tuple[str, str], float] = defaultdict(float)
        self._lock = threading.Lock()
        self._original: Any = None
        self.enabled = False

    def install(self) -> None:
        from botocore.client import BaseClient

        original = BaseClient._make_api_call
        self._original = original
        counter = self

        def counted(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            if not counter.enabled:
                return original(client, operation_name, api_params)
            caller = _caller(sys._getframe(1))
            key = (caller, f"{client.meta.service_model.service_name}.{operation_name}")
            started = time.perf_counter()
            try:
                return original(client, operation_name, api_params)
            finally:
                elapsed = time.perf_counter() - started
                with counter._lock:
                    counter.counts[key] += 1
                    counter.seconds[key] += elapsed

        BaseClient._make_api_call = counted  # type: ignore[method-assign]

    def uninstall(self) -> None:
        from botocore.client import BaseClient

        if self._original is not None:
            BaseClient._make_api_call = self._original  # type: ignore[method-assign]

    def snapshot(self) -> tuple[Counter[tuple[str, str]], dict[tuple[str, str], float]]:
        with self._lock:
            return Counter(self.counts), dict(self.seconds)


def _caller(frame: FrameType | None) -> str:
    """The service that made the call; an authorizer call is split by the HTTP method."""
    label = "other"
    while frame is not None:
        filename = frame.f_code.co_filename.replace(os.sep, "/")
        for suffix, name in CALLERS:
            if filename.endswith(suffix):
                label = name
                break
        if label != "other":
            break
        frame = frame.f_back
    if label == "authorizer":
        while frame is not None:
            handler = frame.f_locals.get("self")
            command = getattr(handler, "command", None)
            if isinstance(command, str) and hasattr(handler, "requestline"):
                return f"authorizer ({command})"
            frame = frame.f_back
    return label


# ----------------------------------------------------------------------------------------------
# 3. py-spy samples → buckets
# ----------------------------------------------------------------------------------------------
def _frame_path(frame: str) -> str:
    inside = frame.rsplit(" (", 1)[-1].rstrip(")")
    return inside.rsplit(":", 1)[0]


def classify(frames: list[str]) -> str:
    """The bucket of one sample (frames root first)."""
    paths = [_frame_path(f) for f in frames]
    if paths and paths[-1].startswith("bench/"):
        return "instrumentation (this script's call counter)"
    for bucket, prefixes in BUCKETS:
        if any(p.startswith(prefixes) for p in paths):
            return bucket
    if any(p.startswith("chalicelib/local/") for p in paths):
        return "local event-source runner loop"
    return "other (threads, stdlib, GC)"


def moto_part(frames: list[str]) -> str | None:
    """For moto samples: which part (core serialize/parse, a service's backend, werkzeug)."""
    for frame in reversed(frames):
        path = _frame_path(frame)
        if path.startswith("moto/"):
            part = path.split("/")[1]
            return "moto/core (request parse, response serialize)" if part == "core" else part
    if any(_frame_path(f).startswith("werkzeug/") for f in frames):
        return "werkzeug (HTTP server)"
    return None


def moto_backend_call(frames: list[str]) -> str | None:
    """The moto backend method a sample is in (the outermost `moto/<service>/models` frame)."""
    for frame in frames:
        path = _frame_path(frame)
        if path.startswith("moto/") and "/models" in path:
            return f"{frame.split(' (', 1)[0]} ({path})"
    return None


def read_profile(path: Path) -> dict[str, Any]:
    buckets: Counter[str] = Counter()
    moto_parts: Counter[str] = Counter()
    backend_calls: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        total += n
        bucket = classify(frames)
        buckets[bucket] += n
        if bucket.startswith("moto"):
            moto_parts[moto_part(frames) or "other"] += n
            backend_calls[moto_backend_call(frames) or "outside a backend"] += n
        leaves[frames[-1]] += n
    return {
        "samples": total,
        "buckets": {k: round(100 * v / total, 1) for k, v in buckets.most_common()}
        if total
        else {},
        "moto_parts": (
            {k: round(100 * v / total, 1) for k, v in moto_parts.most_common()} if total else {}
        ),
        "moto_backend_calls": (
            {k: round(100 * v / total, 1) for k, v in backend_calls.most_common(12)}
            if total
            else {}
        ),
        "top_leaves": [[k, v] for k, v in leaves.most_common(15)],
    }


# ----------------------------------------------------------------------------------------------
# The run
# ----------------------------------------------------------------------------------------------
def ceilings(
    per_artifact: dict[str, float], costs: dict[str, dict[str, float]] | None
) -> dict[str, Any]:
    """Artifacts/s that moto (and the AWS plumbing on both sides) allow at these call counts."""
    guide_s = sum(n / GUIDE_RATES.get(op, GUIDE_DEFAULT_RATE) for op, n in per_artifact.items())
    out: dict[str, Any] = {
        "guide_seconds_per_artifact": round(guide_s, 4),
        "guide_ceiling_artifacts_per_s": round(1 / guide_s, 1) if guide_s else None,
    }
    if costs:
        fallback = max(c["server_cpu_ms"] for c in costs.values())
        server_ms = sum(
            n * costs.get(op, {}).get("server_cpu_ms", fallback) for op, n in per_artifact.items()
        )
        fallback_client = max(c["client_cpu_ms"] for c in costs.values())
        client_ms = sum(
            n * costs.get(op, {}).get("client_cpu_ms", fallback_client)
            for op, n in per_artifact.items()
        )
        wall_ms = sum(
            n * costs.get(op, {}).get("wall_ms", max(c["wall_ms"] for c in costs.values()))
            for op, n in per_artifact.items()
        )
        out.update(
            measured_moto_cpu_ms_per_artifact=round(server_ms, 1),
            measured_client_cpu_ms_per_artifact=round(client_ms, 1),
            measured_wall_ms_per_artifact_one_thread=round(wall_ms, 1),
            ceiling_moto_own_core=round(1000 / server_ms, 1) if server_ms else None,
            ceiling_one_gil_moto_plus_client=(
                round(1000 / (server_ms + client_ms), 1) if server_ms + client_ms else None
            ),
            ceiling_one_thread_sequential=round(1000 / wall_ms, 1) if wall_ms else None,
        )
    return out


def run(opts: argparse.Namespace) -> dict[str, Any]:
    python = opts.python or str(REPO / ".venv" / "bin" / "python")
    if not Path(python).exists():
        python = sys.executable
    document: dict[str, Any] = {
        "benchmark": "profile_pipeline",
        "machine": machine(),
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(opts).items()},
        "loadavg_1m_start": loadavg(),
    }
    costs = None
    if opts.calibrate_calls:
        print(f"1. moto alone, {opts.calibrate_calls} calls per operation:", flush=True)
        costs = calibrate(opts.calibrate_calls, python)
        document["moto_alone"] = costs

    print("2. the stack in this process, counted; load from bench.load …", flush=True)
    logging.basicConfig(level=logging.WARNING)
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"  # no metric documents on our stdout
    for name in [k for k in os.environ if k.startswith("AWS_")]:
        os.environ.pop(name)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(REPO))
    os.chdir(REPO)
    from chalicelib.local.stack import EmbeddedStack

    counter = CallCounter()
    counter.install()
    state = Path(opts.state_dir or tempfile.mkdtemp(prefix="pipeguard-profile-"))
    tenants = tenant_names(opts.tenants)
    stack = EmbeddedStack(
        host="127.0.0.1", port=0, state_dir=state, seed_tenants=tuple(tenants), backend="aws"
    )
    stack.start()
    ready = state / "ready.json"
    stack.write_ready_file(ready)
    spy: subprocess.Popen[bytes] | None = None
    moto_spy: subprocess.Popen[bytes] | None = None
    profile_path = state / "py-spy.txt"
    moto_profile_path = state / "py-spy-moto.txt"
    moto_pid = stack.info.children[0] if stack.info and stack.info.children else None
    try:
        runner = stack._moto._runner
        before = {s.name: (s.stats.invocations, s.stats.processed) for s in runner.sources}
        counter.enabled = True
        cpu0, wall0 = cpu_seconds(os.getpid()), time.monotonic()
        moto_cpu0 = children_cpu_seconds(os.getpid())
        command = [
            python,
            "-m",
            "bench.load",
            "--attach",
            str(ready),
            "--stack-pid",
            str(os.getpid()),
            "--tenants",
            str(opts.tenants),
            "--results-dir",
            str(opts.results_dir),
            "--tag",
            "profiled",
            "--mode",
            opts.mode,
        ]
        if opts.mode == "throughput":
            command += ["--count", str(opts.count)]
        else:
            command += ["--rate", str(opts.rate), "--duration", str(opts.duration)]
        load = subprocess.Popen(command, cwd=REPO)
        py_spy = shutil.which("py-spy") or str(Path(python).parent / "py-spy")
        if opts.sampler == "py-spy":
            if not Path(py_spy).exists():
                raise SystemExit("py-spy not found: run `make install` (requirements-dev.txt)")
            time.sleep(opts.profile_delay)
            spy = _py_spy(py_spy, os.getpid(), opts.profile_rate, profile_path)
            if moto_pid is not None:  # the moto server: its own process since the stack moved it
                moto_spy = _py_spy(py_spy, moto_pid, opts.profile_rate, moto_profile_path)
        spy_started = time.monotonic()
        code = load.wait(timeout=opts.load_timeout)
        spy_seconds = time.monotonic() - spy_started
        for sampler in (spy, moto_spy):
            if sampler is not None:
                sampler.send_signal(signal.SIGINT)
                sampler.wait(timeout=60)
        counter.enabled = False
        cpu1, wall = cpu_seconds(os.getpid()), time.monotonic() - wall0
        moto_cpu1 = children_cpu_seconds(os.getpid())
        after = {s.name: (s.stats.invocations, s.stats.processed) for s in runner.sources}
    finally:
        counter.enabled = False
        for sampler in (spy, moto_spy):
            if sampler is not None and sampler.poll() is None:
                sampler.kill()
        stack.stop()
        counter.uninstall()
    if code != 0:
        raise SystemExit(f"bench.load exited with {code}")
    load_result = json.loads(
        (opts.results_dir / f"load-{opts.mode}-profiled-latest.json").read_text()
    )["runs"][opts.mode]
    sources = {
        name: {
            "invocations": after[name][0] - before[name][0],
            "records": after[name][1] - before[name][1],
        }
        for name in after
    }
    for numbers in sources.values():
        numbers["mean_batch"] = (
            round(numbers["records"] / numbers["invocations"], 2) if numbers["invocations"] else 0
        )
    artifacts = sources["evaluate_artifacts"]["records"]
    counts, seconds = counter.snapshot()
    document.update(
        load=load_result,
        event_sources=sources,
        artifacts_evaluated=artifacts,
        run_wall_s=round(wall, 1),
        stack_process_cpu_s=round((cpu1 or 0) - (cpu0 or 0), 1),
        moto_process_cpu_s=(
            round(moto_cpu1 - moto_cpu0, 1)
            if moto_cpu0 is not None and moto_cpu1 is not None
            else None
        ),
        calls=calls_table(counts, seconds, artifacts, wall),
    )
    stack_cpu, moto_cpu = document["stack_process_cpu_s"], document["moto_process_cpu_s"]
    if moto_cpu is not None and artifacts:
        document["cpu_ms_per_artifact"] = {
            "stack_process": round(1000 * stack_cpu / artifacts, 1),
            "moto_process": round(1000 * moto_cpu / artifacts, 1),
            "stack_share": round(stack_cpu / (stack_cpu + moto_cpu), 3)
            if stack_cpu + moto_cpu
            else None,
        }
    pipeline_ops: Counter[str] = Counter()
    for (caller, op), n in counts.items():
        if caller in PIPELINE_CALLERS or caller == "authorizer (POST)":
            pipeline_ops[op] += n
    per_artifact = {op: n / artifacts for op, n in pipeline_ops.items()} if artifacts else {}
    document["pipeline_calls_per_artifact"] = {
        op: round(v, 3) for op, v in sorted(per_artifact.items(), key=lambda kv: -kv[1])
    }
    document["pipeline_calls_per_artifact_total"] = round(sum(per_artifact.values()), 2)
    document["ceilings"] = ceilings(per_artifact, costs)
    if spy is not None and profile_path.exists():
        profile = read_profile(profile_path)
        profile["seconds"] = round(spy_seconds, 1)
        expected = spy_seconds * opts.profile_rate
        profile["gil_busy_fraction"] = round(profile["samples"] / expected, 2) if expected else None
        document["profile"] = profile
        shutil.copy(profile_path, opts.results_dir / "profile-pipeline-py-spy-latest.txt")
    if moto_spy is not None and moto_profile_path.exists():
        moto_profile = read_profile(moto_profile_path)
        moto_profile["seconds"] = round(spy_seconds, 1)
        expected = spy_seconds * opts.profile_rate
        moto_profile["gil_busy_fraction"] = (
            round(moto_profile["samples"] / expected, 2) if expected else None
        )
        document["moto_profile"] = moto_profile
        shutil.copy(moto_profile_path, opts.results_dir / "profile-pipeline-py-spy-moto-latest.txt")
    document["loadavg_1m_end"] = loadavg()
    return document


def _py_spy(py_spy: str, pid: int, rate: int, output: Path) -> subprocess.Popen[bytes]:
    """Sample the thread holding the GIL in `pid` until interrupted (raw folded stacks)."""
    command = [py_spy, "record", "--pid", str(pid), "--gil", "--rate", str(rate)]
    command += ["--format", "raw", "--output", str(output), "--nonblocking"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# The callers whose calls an artifact costs the pipeline itself (the load generator's GETs and
# their authorizer calls are measurement; a collector waiting for its verdict makes them too).
PIPELINE_CALLERS = ("ingest", "evaluate", "index", "runner")


def calls_table(
    counts: Counter[tuple[str, str]],
    seconds: dict[tuple[str, str], float],
    artifacts: int,
    wall: float,
) -> list[dict[str, Any]]:
    rows = []
    for (caller, op), n in sorted(counts.items(), key=lambda kv: (kv[0][0], -kv[1])):
        rows.append(
            {
                "caller": caller,
                "operation": op,
                "calls": n,
                "per_artifact": round(n / artifacts, 3) if artifacts else None,
                "per_s": round(n / wall, 1) if wall else None,
                "mean_ms_under_load": round(1000 * seconds[(caller, op)] / n, 1),
            }
        )
    return rows


def print_summary(document: dict[str, Any]) -> None:
    print("\nCalls per evaluated artifact (pipeline: ingest + authorizer of the POST + evaluate")
    print("+ index + runner polling; the load generator's confirmations listed apart):")
    print(f"  {'caller':22s} {'operation':30s} {'per artifact':>12s} {'ms (under load)':>16s}")
    for row in document["calls"]:
        print(
            f"  {row['caller']:22s} {row['operation']:30s} {row['per_artifact']:>12} "
            f"{row['mean_ms_under_load']:>16}"
        )
    print(f"  pipeline total per artifact: {document['pipeline_calls_per_artifact_total']}")
    print(f"  event sources: {document['event_sources']}")
    print(f"\nCeilings (artifacts/s): {document['ceilings']}")
    profile = document.get("profile")
    if profile:
        print(
            f"\nWhere the GIL time goes ({profile['samples']} samples over {profile['seconds']} s,"
            f" GIL busy {profile['gil_busy_fraction']}):"
        )
        for bucket, pct in profile["buckets"].items():
            print(f"  {pct:5.1f}%  {bucket}")
        print("  moto, by part:", profile["moto_parts"])
    moto_profile = document.get("moto_profile")
    if moto_profile:
        print(
            f"\nThe moto server process ({moto_profile['samples']} samples, GIL busy "
            f"{moto_profile['gil_busy_fraction']}), by part: {moto_profile['moto_parts']}"
        )
        print("  by backend method:", moto_profile["moto_backend_calls"])
    if document.get("cpu_ms_per_artifact"):
        print(f"CPU per artifact (ms): {document['cpu_ms_per_artifact']}")
    load = document["load"]
    print(
        f"\nLoad: {load['searchable_artifacts']} artifacts searchable, "
        f"{load['sustained_artifacts_per_s']} artifacts/s sustained, "
        f"latency p50 {load['latency_s']['p50']} s; stack CPU {document['stack_process_cpu_s']} s"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.profile_pipeline", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument("--mode", choices=("throughput", "latency"), default="throughput")
    parser.add_argument("--count", type=int, default=300, help="throughput: artifacts")
    parser.add_argument("--rate", type=float, default=3.0, help="latency: artifacts/s")
    parser.add_argument("--duration", type=float, default=60.0, help="latency: seconds")
    parser.add_argument("--calibrate-calls", type=int, default=200, help="0: skip step 1")
    parser.add_argument("--sampler", choices=("py-spy", "none"), default="py-spy")
    parser.add_argument("--profile-rate", type=int, default=100, help="py-spy samples/s")
    parser.add_argument("--profile-delay", type=float, default=5.0, help="s before sampling")
    parser.add_argument("--load-timeout", type=float, default=1800.0)
    parser.add_argument("--state-dir", type=Path)
    parser.add_argument("--python", default=None)
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    opts.results_dir.mkdir(parents=True, exist_ok=True)
    document = run(opts)
    path = write_results("profile-pipeline", document, opts.results_dir)
    print_summary(document)
    print(f"\nresults: {os.path.relpath(path, REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
