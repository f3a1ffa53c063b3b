"""What the embedded stack costs while it runs: RSS and CPU of each of its processes (the stack's
own and every pid in `stack.json` `children`), the state folder's size on disk, and the rows
waiting in its stream tables (they are trimmed once every consumer passed them)."""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
from contextlib import closing, suppress
from pathlib import Path
from typing import Any

# Tables whose row count says whether the stream and change log are trimmed, and what is stored.
COUNTED_TABLES = ("stream_records", "finding_changes", "scans", "findings", "dead_letters")


def _proc_status_kib(pid: int, field: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds the process used so far (None once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stack_children(state_dir: Path) -> list[int]:
    """The pids the running stack lists as its own processes (its workers)."""
    try:
        return [int(pid) for pid in json.loads((state_dir / "stack.json").read_text())["children"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def process_table(stack_pid: int | None, state_dir: Path) -> dict[str, int]:
    """`{"stack": pid, "worker-0": pid, ...}` for the stack running on `state_dir`."""
    table = {"stack": stack_pid} if stack_pid else {}
    table.update({f"worker-{i}": pid for i, pid in enumerate(stack_children(state_dir))})
    return table


def process_sample(pids: dict[str, int]) -> dict[str, dict[str, float | None]]:
    """RSS (MiB) and CPU seconds so far of each named process."""
    sample = {}
    for name, pid in pids.items():
        rss = _proc_status_kib(pid, "VmRSS")
        sample[name] = {
            "pid": pid,
            "rss_mib": round(rss / 1024, 1) if rss is not None else None,
            "cpu_s": process_cpu_seconds(pid),
        }
    return sample


def disk_usage(state_dir: Path) -> dict[str, int]:
    """Bytes allocated on disk under the state folder, by part (database with its WAL, index
    with its WAL, blobs, the rest)."""
    parts = {"database": 0, "index": 0, "blobs": 0, "other": 0, "files": 0}
    for root, _, files in os.walk(state_dir):
        for name in files:
            with suppress(OSError):
                size = os.lstat(os.path.join(root, name)).st_blocks * 512
                rel = os.path.relpath(os.path.join(root, name), state_dir)
                if rel.startswith("blobs" + os.sep):
                    part = "blobs"
                elif name.startswith("pipeguard.db"):
                    part = "database"
                elif name.startswith("search.db"):
                    part = "index"
                else:
                    part = "other"
                parts[part] += size
                parts["files"] += 1
    parts["total"] = parts["database"] + parts["index"] + parts["blobs"] + parts["other"]
    return parts


def table_rows(state_dir: Path) -> dict[str, int | None]:
    """Row counts of COUNTED_TABLES, read-only (None where the database cannot be read)."""
    path = state_dir / "pipeguard.db"
    counts: dict[str, int | None] = dict.fromkeys(COUNTED_TABLES)
    if not path.exists():
        return counts
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as conn:
            for table in COUNTED_TABLES:
                with suppress(sqlite3.Error):
                    counts[table] = int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    except sqlite3.Error:
        pass
    return counts


def slope_per_minute(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, value) points, per minute."""
    if len(points) < 2:
        return None
    mean_t = statistics.fmean(t for t, _ in points)
    mean_v = statistics.fmean(v for _, v in points)
    den = sum((t - mean_t) ** 2 for t, _ in points)
    if den == 0:
        return None
    return 60 * sum((t - mean_t) * (v - mean_v) for t, v in points) / den


def process_trends(samples: list[dict[str, Any]], warmup_s: float) -> dict[str, Any]:
    """Per process: RSS first/last/max, RSS slope (MiB/min) after `warmup_s`, and CPU used."""
    names = sorted({n for s in samples for n in (s.get("processes") or {})})
    trends: dict[str, Any] = {}
    for name in names:
        rows = [
            (s["t"], s["processes"][name])
            for s in samples
            if name in (s.get("processes") or {}) and s["processes"][name].get("rss_mib")
        ]
        if not rows:
            continue
        rss = [(t, row["rss_mib"]) for t, row in rows]
        warm = [(t, r) for t, r in rss if t >= warmup_s]
        cpu = [row["cpu_s"] for _, row in rows if row.get("cpu_s") is not None]
        trends[name] = {
            "pid": rows[-1][1]["pid"],
            "rss_first_mib": rss[0][1],
            "rss_after_warmup_mib": warm[0][1] if warm else None,
            "rss_last_mib": rss[-1][1],
            "rss_max_mib": max(r for _, r in rss),
            "rss_slope_after_warmup_mib_per_min": _round(slope_per_minute(warm)),
            "cpu_s": round(cpu[-1] - cpu[0], 1) if len(cpu) > 1 else None,
        }
    return trends


def disk_trend(samples: list[dict[str, Any]], stored: dict[str, int | None]) -> dict[str, Any]:
    """Disk growth over the run and bytes per stored finding and per stored scan."""
    rows = [(s["t"], s["disk"]) for s in samples if s.get("disk")]
    if len(rows) < 2:
        return {}
    (t0, first), (t1, last) = rows[0], rows[-1]
    grown = last["total"] - first["total"]
    result: dict[str, Any] = {
        "first_bytes": first,
        "last_bytes": last,
        "growth_bytes": grown,
        "growth_mib_per_min": _round(grown / 2**20 / ((t1 - t0) / 60)) if t1 > t0 else None,
    }
    findings, scans = stored.get("findings"), stored.get("scans")
    if findings:
        result["bytes_per_stored_finding"] = round(last["total"] / findings)
    if scans:
        result["bytes_per_stored_scan"] = round(last["total"] / scans)
    return result


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)
