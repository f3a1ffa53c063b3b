"""Throughput of the embedded event sources, and what an idle poll costs.

`python -m bench.embedded_stream_bench [--scans 20] [--artifacts 50]`: the embedded backend in a
temporary state directory, the app behind the local HTTP server; the scans (each of
`--artifacts` copies of one corpus Dockerfile under other paths) are submitted first, then the
evaluate source drains the scan stream alone (records/s), then the index source drains the
findings change log (changes/s); last, 1,000 polls of both drained sources (4 shards each)
give the idle cost of one poll. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import os
import tempfile
import threading
import time
from typing import Any

from bench.common import dockerfiles


def _drain(source: Any) -> int:
    idle = 0
    while idle < 2:
        idle = idle + 1 if not source.poll() and not source.pending() else 0
    return source.stats.processed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scans", type=int, default=20)
    parser.add_argument("--artifacts", type=int, default=50)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="pipeguard-stream-bench-")
    os.environ.update(
        PIPEGUARD_BACKEND="embedded",
        PIPEGUARD_HOME=home,
        SEARCH_BACKEND="sqlite",
        SEARCH_SQLITE_PATH=os.path.join(home, "search.db"),
        LOG_LEVEL="ERROR",
        POWERTOOLS_METRICS_DISABLED="true",
    )
    import requests

    from chalicelib.local.server import create_server
    from chalicelib.local.sqlite_streams import stream_sources
    from chalicelib.tenancy import create_tenant

    app_module = importlib.import_module("app")
    server = create_server(app_module.app, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {create_tenant('bench')}"
    path = next(p for p in dockerfiles() if p.stat().st_size > 500)
    content = path.read_text(errors="replace")
    for scan in range(args.scans):
        artifacts = [
            {"type": "dockerfile", "path": f"svc{n}/Dockerfile", "content": content}
            for n in range(args.artifacts)
        ]
        body = {"pipeline": f"p{scan % 8}", "run_id": f"r{scan}", "artifacts": artifacts}
        response = session.post(server.url + "/v1/scans", json=body, timeout=60)
        assert response.status_code == 202, response.text
    server.stop()
    evaluate, index = stream_sources(app_module)
    for source in (evaluate, index):
        source.discover(force=True)
    with contextlib.redirect_stdout(io.StringIO()):  # the handlers' metric documents
        started = time.perf_counter()
        records = _drain(evaluate)
        evaluate_s = time.perf_counter() - started
        started = time.perf_counter()
        changes = _drain(index)
        index_s = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(1000):
        evaluate.poll()
        index.poll()
    idle_us = (time.perf_counter() - started) / 2000 * 1e6
    print(
        json.dumps(
            {
                "dockerfile": str(path.relative_to(path.parents[2])),
                "records": records,
                "evaluate_records_per_s": round(records / evaluate_s, 1),
                "changes": changes,
                "index_changes_per_s": round(changes / index_s, 1),
                "idle_poll_us_per_source_4_shards": round(idle_us, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
