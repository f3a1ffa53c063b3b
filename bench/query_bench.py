"""Query latency of the embedded SQLite index at scale: 1 million findings across 200 tenants.

The index is built through `chalicelib.search.sqlite.SqliteIndex.upsert` (the path the stream
handler uses: the FTS5 triggers fire), in batches, from synthetic but realistic finding
documents: the real rule ids, titles, severities and artifact types of the registered rules,
deterministic finding ids (`chalicelib.ids`), pipelines per tenant, CloudFormation-like resources
and paths. Tenant sizes are skewed (Zipf-like, `--skew`): the largest tenant holds about a tenth
of the findings, the smallest a few hundred. The file is cached (`--db`, default under
bench/results/) and reused when its sidecar metadata matches.

Then, warm, for the largest, the median and a small tenant, it measures `SqliteIndex.search`:
tenant + severity + q, tenant + pipeline + q, tenant + rule_id, tenant + q, and the second page
of tenant + severity (`cursor`): p50/p95/p99 over `--repeat` queries with varied parameters.
For each query kind whose p95 misses the target it prints SQLite's `EXPLAIN QUERY PLAN`, and with
`--try-fixes` it measures candidate schema changes on a copy of the file (nothing in chalicelib is
changed).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.load import RESULTS, machine, summarize, write_results

REPO = Path(__file__).resolve().parents[1]
TARGET_P95_MS = 50.0
SCHEMA_VERSION = 1

RESOURCES = [
    "AppBucket",
    "LogsBucket",
    "ArtifactBucket",
    "LambdaRole",
    "ApiFunction",
    "WorkerFunction",
    "ApiGatewayStage",
    "Database",
    "DbSubnetGroup",
    "WebSecurityGroup",
    "QueueKey",
    "TopicPolicy",
    "ClusterRole",
    "Table",
    "Distribution",
    "LoadBalancer",
    "Listener",
    "TaskDefinition",
    "Service",
    "Vpc",
    "InternetGateway",
    "Instance",
    "LaunchTemplate",
]
SERVICES = [
    "api",
    "web",
    "worker",
    "billing",
    "auth",
    "search",
    "ingest",
    "notifier",
    "gateway",
    "payments",
    "reports",
    "catalog",
    "orders",
    "inventory",
    "users",
    "admin",
    "frontend",
    "scheduler",
    "export",
    "metrics",
]
WORDS_Q = ("root", "encryption", "public", "logging", "latest", "secret", "wildcard", "port")


@dataclass(frozen=True)
class RuleInfo:
    rule_id: str
    artifact_type: str
    title: str
    severity: str
    description: str


def rules() -> list[RuleInfo]:
    from chalicelib.engine.registry import all_rules

    return [
        RuleInfo(
            r.meta.id,
            r.meta.artifact_type.value,
            r.meta.title,
            r.meta.severity.value,
            r.meta.description,
        )
        for r in all_rules()
    ]


def tenant_sizes(total: int, tenants: int, skew: float) -> list[int]:
    weights = [1 / (i + 1) ** skew for i in range(tenants)]
    scale = total / sum(weights)
    sizes = [max(1, int(w * scale)) for w in weights]
    sizes[0] += total - sum(sizes)
    return sizes


def _path(rule: RuleInfo, service: str, rng: random.Random) -> str:
    if rule.artifact_type == "dockerfile":
        return f"services/{service}/Dockerfile"
    if rule.artifact_type == "junit":
        return f"services/{service}/reports/junit-{rng.randrange(1, 4)}.xml"
    return f"infra/{service}-{rng.choice(('stack', 'network', 'data', 'iam'))}.yaml"


def generate(tenant: str, count: int, catalog: list[RuleInfo], rng: random.Random) -> list[dict]:
    """`count` distinct findings of one tenant (identity: pipeline, path, resource, rule)."""
    from chalicelib import ids

    pipelines = [f"{tenant}/{s}@main" for s in rng.sample(SERVICES, rng.randint(3, len(SERVICES)))]
    scans = {p: [ids.scan_id(tenant, p, f"run-{n}") for n in range(1, 6)] for p in pipelines}
    docs: dict[str, dict[str, Any]] = {}
    attempts = 0
    while len(docs) < count and attempts < count * 20:
        attempts += 1
        pipeline = rng.choice(pipelines)
        service = pipeline.split("/", 1)[1].split("@", 1)[0]
        rule = rng.choice(catalog)
        path = _path(rule, service, rng)
        resource = None
        if rule.artifact_type == "cloudformation":
            resource = f"{rng.choice(RESOURCES)}{rng.randrange(1, 40)}"
        elif rule.artifact_type == "junit":
            resource = f"test_{rng.choice(SERVICES)}_{rng.randrange(1, 400)}"
        fid = ids.finding_id(tenant, pipeline, path, resource, rule.rule_id)
        if fid in docs:
            continue
        line = rng.randrange(1, 200)
        first_sentence = rule.description.split(". ")[0]
        docs[fid] = {
            "tenant_id": tenant,
            "finding_id": fid,
            "scan_id": rng.choice(scans[pipeline]),
            "pipeline": pipeline,
            "run_id": f"run-{rng.randrange(1, 6)}",
            "commit": f"{rng.getrandbits(160):040x}",
            "artifact_type": rule.artifact_type,
            "path": path,
            "rule_id": rule.rule_id,
            "title": rule.title,
            "severity": rule.severity,
            "message": f"{resource or path}: {first_sentence}.",
            "resource": resource,
            "line": line,
            "lines": [line],
            "status": "open",
            "first_seen": "2026-11-01T10:00:00.000+00:00",
            "last_seen": "2026-11-20T10:00:00.000+00:00",
        }
    return list(docs.values())


def build(db: Path, total: int, tenants: int, skew: float, batch: int, seed: int) -> dict:
    """Create (or reuse) the index file; returns its metadata."""
    from chalicelib.search.sqlite import SqliteIndex

    meta_path = db.with_suffix(".meta.json")
    wanted = {
        "schema_version": SCHEMA_VERSION,
        "findings_requested": total,
        "tenants": tenants,
        "skew": skew,
        "seed": seed,
    }
    if db.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if {k: meta.get(k) for k in wanted} == wanted:
            print(f"reusing {db} ({meta['findings']} findings)", flush=True)
            return meta
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    meta_path.unlink(missing_ok=True)
    db.parent.mkdir(parents=True, exist_ok=True)
    catalog = rules()
    rng = random.Random(seed)
    index = SqliteIndex(str(db))
    sizes = tenant_sizes(total, tenants, skew)
    names = [f"tenant-{i:03d}" for i in range(tenants)]
    started = time.perf_counter()
    written = 0
    for n, (tenant, size) in enumerate(zip(names, sizes, strict=True)):
        docs = generate(tenant, size, catalog, rng)
        for start in range(0, len(docs), batch):
            index.upsert(tenant, docs[start : start + batch])
        written += len(docs)
        if n % 20 == 0 or n == tenants - 1:
            rate = written / (time.perf_counter() - started)
            print(f"  {written:>9,} findings, {n + 1} tenants ({rate:,.0f}/s)", flush=True)
    seconds = time.perf_counter() - started
    conn = index._conn()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("ANALYZE")
    index.close()
    meta = {
        **wanted,
        "findings": written,
        "tenant_sizes": dict(zip(names, sizes, strict=True)),
        "build_seconds": round(seconds, 1),
        "upsert_per_s": round(written / seconds),
        "file_mib": round(db.stat().st_size / 2**20, 1),
        "note": "ANALYZE was run after the build (the stack never runs it)",
    }
    meta_path.write_text(json.dumps(meta, indent=2))
    return meta


# ----------------------------------------------------------------------------------------------
# Queries
# ----------------------------------------------------------------------------------------------
@dataclass
class Fixture:
    tenant: str
    pipelines: list[str]
    rule_ids: list[str]


def fixture(conn: sqlite3.Connection, tenant: str) -> Fixture:
    pipelines = [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT pipeline FROM findings WHERE tenant_id = ?", (tenant,)
        )
    ]
    rule_ids = [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT rule_id FROM findings WHERE tenant_id = ?", (tenant,)
        )
    ]
    return Fixture(tenant, pipelines, rule_ids)


QueryMaker = Callable[[random.Random, Fixture], dict[str, Any]]

KINDS: dict[str, QueryMaker] = {
    "tenant+severity+q": lambda rng, fx: {
        "severity": rng.choice(("high", "medium", "low", "critical")),
        "q": rng.choice(WORDS_Q),
    },
    "tenant+pipeline+q": lambda rng, fx: {
        "pipeline": rng.choice(fx.pipelines),
        "q": rng.choice(WORDS_Q),
    },
    "tenant+rule_id": lambda rng, fx: {"rule_id": rng.choice(fx.rule_ids)},
    "tenant+q": lambda rng, fx: {"q": rng.choice(WORDS_Q)},
    "tenant+severity, page 2": lambda rng, fx: {
        "severity": rng.choice(("high", "medium", "low")),
        "_page": 2,
    },
}


def measure(
    index: Any, fx: Fixture, kind: str, repeat: int, limit: int, rng: random.Random
) -> tuple[list[float], list[int]]:
    from chalicelib.search.port import FindingQuery

    seconds, sizes = [], []
    for _ in range(repeat):
        params = dict(KINDS[kind](rng, fx))
        page = params.pop("_page", 1)
        query = FindingQuery(limit=limit, **params)
        if page == 2:
            first = index.search(fx.tenant, query)
            if first.next_cursor is None:
                continue
            query = FindingQuery(limit=limit, cursor=first.next_cursor, **params)
        started = time.perf_counter()
        result = index.search(fx.tenant, query)
        seconds.append(time.perf_counter() - started)
        sizes.append(len(result.findings))
    return seconds, sizes


def plan_of(index: Any, fx: Fixture, kind: str, limit: int) -> dict[str, Any]:
    """The SQL the adapter ran for one query of this kind, and SQLite's plan for it."""
    from chalicelib.search.port import FindingQuery

    conn = index._conn()
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        params = dict(KINDS[kind](random.Random(7), fx))
        params.pop("_page", None)
        index.search(fx.tenant, FindingQuery(limit=limit, **params))
    finally:
        conn.set_trace_callback(None)
    sql = next((s for s in statements if s.lstrip().upper().startswith("SELECT")), "")
    plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)] if sql else []
    return {"sql": sql, "plan": plan}


def run_queries(db: Path, opts: argparse.Namespace, meta: dict) -> dict[str, Any]:
    from chalicelib.search.sqlite import SqliteIndex

    index = SqliteIndex(str(db))
    conn = index._conn()
    sizes = meta["tenant_sizes"]
    ordered = sorted(sizes, key=lambda t: -sizes[t])
    picks = {
        "largest": ordered[0],
        "median": ordered[len(ordered) // 2],
        "small": ordered[int(len(ordered) * 0.9)],
    }
    results: dict[str, Any] = {}
    rng = random.Random(opts.seed)
    for label, tenant in picks.items():
        fx = fixture(conn, tenant)
        for kind in KINDS:  # warm the cache and the statement cache
            measure(index, fx, kind, 3, opts.limit, rng)
        per_kind = {}
        for kind in KINDS:
            seconds, got = measure(index, fx, kind, opts.repeat, opts.limit, rng)
            stats = {
                k: (v * 1000 if isinstance(v, float) else v) for k, v in summarize(seconds).items()
            }
            stats = {k: (round(v, 2) if isinstance(v, float) else v) for k, v in stats.items()}
            stats["mean_results"] = round(sum(got) / len(got), 1) if got else 0
            stats["meets_p95_target"] = stats["p95"] is not None and stats["p95"] <= TARGET_P95_MS
            if not stats["meets_p95_target"]:
                stats["explain"] = plan_of(index, fx, kind, opts.limit)
            per_kind[kind] = stats
            print(
                f"  {label:8s} {tenant} ({sizes[tenant]:>7,}) {kind:26s} "
                f"p50 {stats['p50']:8.2f} ms  p95 {stats['p95']:8.2f}  p99 {stats['p99']:8.2f}"
                f"  ({stats['mean_results']} results)",
                flush=True,
            )
        results[label] = {"tenant": tenant, "findings": sizes[tenant], "queries": per_kind}
    index.close()
    return results


# Candidate fixes, measured with the same queries (the adapter's SQL rebuilt here, one change
# each), on a copy of the file: nothing in chalicelib changes.
def _tenant_token(tenant: str) -> str:
    return "tn" + re.sub(r"[^0-9a-z]", "", tenant.lower())


def variant_sql(variant: str, tenant: str, params: dict[str, Any], limit: int) -> tuple[str, list]:
    """SqliteIndex.search's statement with the full-text condition written another way."""
    from chalicelib.search.port import FILTER_FIELDS, decode_cursor
    from chalicelib.search.sqlite import fts_query

    where = ["f.tenant_id = ?"]
    args: list[Any] = [tenant]
    for name in FILTER_FIELDS:
        if params.get(name) is not None:
            where.append(f"f.{name} = ?")
            args.append(params[name])
    if params.get("cursor"):
        where.append("f.finding_id > ?")
        args.append(decode_cursor(params["cursor"]))
    match = fts_query(params.get("q"))
    if match is not None:
        if variant == "current":
            where.append("f.id IN (SELECT rowid FROM findings_fts WHERE findings_fts MATCH ?)")
        elif variant == "exists-probe":
            where.append(
                "EXISTS (SELECT 1 FROM findings_fts WHERE findings_fts MATCH ? AND rowid = f.id)"
            )
        elif variant == "tenant-in-fts":
            where.append("f.id IN (SELECT rowid FROM findings_fts_t WHERE findings_fts_t MATCH ?)")
            match = (
                f'tenant : "{_tenant_token(tenant)}" AND '
                f"{{title message path resource rule_id}} : ({match})"
            )
        args.append(match)
    sql = (
        "SELECT f.finding_id, f.doc FROM findings AS f WHERE "
        + " AND ".join(where)
        + " ORDER BY f.finding_id LIMIT ?"
    )
    return sql, [*args, limit + 1]


TENANT_FTS = [
    "CREATE VIRTUAL TABLE findings_fts_t USING fts5(tenant, title, message, path, resource, "
    "rule_id, content='findings', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "INSERT INTO findings_fts_t (rowid, tenant, title, message, path, resource, rule_id) "
    "SELECT id, 'tn' || replace(tenant_id, '-', ''), title, message, path, resource, rule_id "
    "FROM findings",
]
VARIANTS = ("current", "exists-probe", "tenant-in-fts")


def try_fixes(db: Path, opts: argparse.Namespace, meta: dict) -> dict[str, Any]:
    """Each full-text query kind, for each tenant pick, with each variant of the statement."""
    copy = db.with_name(db.stem + "-fix.db")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
    shutil.copy(db, copy)
    conn = sqlite3.connect(copy, isolation_level=None)
    started = time.perf_counter()
    for statement in TENANT_FTS:
        conn.execute(statement)
    built = time.perf_counter() - started
    print(f"fixes: tenant-in-fts table built in {built:.1f}s", flush=True)
    sizes = meta["tenant_sizes"]
    ordered = sorted(sizes, key=lambda t: -sizes[t])
    picks = {"largest": ordered[0], "median": ordered[len(ordered) // 2]}
    out: dict[str, Any] = {"tenant_fts_build_s": round(built, 1), "statements": TENANT_FTS}
    for label, tenant in picks.items():
        fx = fixture(conn, tenant)
        for kind in ("tenant+severity+q", "tenant+pipeline+q", "tenant+q"):
            for variant in VARIANTS:
                rng = random.Random(opts.seed)  # the same queries for every variant
                seconds: list[float] = []
                plan: list[str] = []
                budget = time.perf_counter() + opts.fix_budget
                for i in range(opts.repeat + 3):
                    if i >= 4 and time.perf_counter() > budget:
                        break  # a slow variant: fewer samples (n says how many)
                    params = dict(KINDS[kind](rng, fx))
                    sql, args = variant_sql(variant, tenant, params, opts.limit)
                    if not plan:
                        plan = [r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, args)]
                    t0 = time.perf_counter()
                    conn.execute(sql, args).fetchall()
                    if i >= 3:
                        seconds.append(time.perf_counter() - t0)
                stats = {
                    k: (round(v * 1000, 2) if isinstance(v, float) else v)
                    for k, v in summarize(seconds).items()
                }
                stats["plan"] = plan
                out.setdefault(label, {}).setdefault(kind, {})[variant] = stats
                print(
                    f"  {label:8s} {kind:20s} {variant:14s} p50 {stats['p50']} ms"
                    f"  p95 {stats['p95']}  p99 {stats['p99']}  (n={stats['n']})",
                    flush=True,
                )
    conn.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.query_bench", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--findings", type=int, default=1_000_000)
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--skew", type=float, default=0.8, help="Zipf exponent of tenant sizes")
    parser.add_argument("--batch", type=int, default=5000, help="documents per upsert call")
    parser.add_argument("--repeat", type=int, default=200, help="queries per kind and tenant")
    parser.add_argument("--limit", type=int, default=50, help="page size (the API's default)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", type=Path, default=None, help="index file (cached)")
    parser.add_argument("--rebuild", action="store_true", help="ignore a cached file")
    parser.add_argument("--try-fixes", action="store_true", help="measure variants on a copy")
    parser.add_argument(
        "--fix-budget", type=float, default=30.0, help="s per variant, kind and tenant at most"
    )
    parser.add_argument("--fixes-only", action="store_true", help="skip the baseline queries")
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    opts = parser.parse_args(argv)
    if opts.db is None:
        opts.db = opts.results_dir / f"query-bench-{opts.findings}-{opts.tenants}.db"
    return opts


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    sys.path.insert(0, str(REPO))
    if opts.rebuild:
        for suffix in ("", "-wal", "-shm", ".meta.json"):
            Path(
                f"{opts.db}{suffix}" if suffix != ".meta.json" else opts.db.with_suffix(suffix)
            ).unlink(missing_ok=True)
    print(f"index: {opts.findings:,} findings, {opts.tenants} tenants → {opts.db}", flush=True)
    meta = build(opts.db, opts.findings, opts.tenants, opts.skew, opts.batch, opts.seed)
    print(
        f"built in {meta['build_seconds']} s ({meta['upsert_per_s']:,}/s), {meta['file_mib']} MiB",
        flush=True,
    )
    results = {} if opts.fixes_only else run_queries(opts.db, opts, meta)
    document: dict[str, Any] = {
        "benchmark": "query_bench",
        "machine": {**machine(), "sqlite": sqlite3.sqlite_version},
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(opts).items()},
        "index": {k: v for k, v in meta.items() if k != "tenant_sizes"},
        "target_p95_ms": TARGET_P95_MS,
        "results": results,
    }
    path = write_results("query-bench", document, opts.results_dir)
    if opts.try_fixes:
        document["fixes"] = try_fixes(opts.db, opts, meta)
        text = json.dumps(document, indent=2, default=str) + "\n"
        path.write_text(text)
        (opts.results_dir / "query-bench-latest.json").write_text(text)
    misses = [
        (label, kind)
        for label, r in results.items()
        for kind, q in r["queries"].items()
        if not q["meets_p95_target"]
    ]
    print(
        f"\np95 target {TARGET_P95_MS:.0f} ms: {len(misses)} of {len(results) * len(KINDS)} missed"
    )
    for label, kind in misses:
        explain = results[label]["queries"][kind]["explain"]
        print(f"  {label} / {kind}:")
        print("    " + re.sub(r"\s+", " ", explain["sql"]))
        for step in explain["plan"]:
            print(f"      {step}")
    print(f"results: {os.path.relpath(path, REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
