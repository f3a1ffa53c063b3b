"""Where a running stack process spends its CPU, from py-spy's folded stacks.

    .venv/bin/py-spy record -p PID -d 60 -f raw -o worker.txt --nonblocking
    .venv/bin/python -m bench.profile_split worker.txt [more.txt ...]

Each sample is charged to the first area (in AREAS order) whose marker appears in its stack,
innermost frame first, so SQLite work under evaluation counts as SQLite. Idle samples (py-spy
leaves them out unless --idle) are not counted. Prints each area's share and the top frames.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

# (area, markers in a frame's text): the innermost frame that matches decides.
AREAS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("blob files (write, fsync)", ("stores/embedded/blobs.py",)),
    ("search index (SQLite FTS5)", ("search/sqlite.py",)),
    ("stores (SQLite)", ("stores/embedded/", "sqlite_threads.py", "local/sqlite_")),
    ("parsers", ("chalicelib/parsers/", "yaml/", "xml/", "dockerfile")),
    ("rules engine", ("chalicelib/engine/", "rules/")),
    ("JSON / pydantic", ("json/", "pydantic")),
    ("metrics and logs (Powertools)", ("aws_lambda_powertools", "logging/")),
    ("HTTP server and Chalice", ("http/server.py", "socketserver.py", "socket.py", "chalice/")),
    ("pipeline glue (ingest, evaluate, index)", ("chalicelib/",)),
    ("runner (event sources)", ("local/runner.py",)),
)


def area_of(frames: list[str]) -> str:
    for frame in reversed(frames):
        for area, markers in AREAS:
            if any(marker in frame for marker in markers):
                return area
    return "other"


def split(paths: list[Path]) -> tuple[Counter[str], Counter[str], int]:
    areas: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for path in paths:
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            frames = stack.split(";")
            if "Condition.wait" in frames[-1] or "Event.wait" in frames[-1]:
                continue  # a thread waiting for work, sampled anyway
            n = int(count)
            total += n
            areas[area_of(frames)] += n
            leaves[frames[-1]] += n
    return areas, leaves, total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_split", description=__doc__)
    parser.add_argument("profiles", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args(argv)
    areas, leaves, total = split(args.profiles)
    if not total:
        print("no samples")
        return 1
    print(f"{total} samples")
    for area, n in areas.most_common():
        print(f"  {100 * n / total:5.1f} %  {area}")
    print("top frames (self):")
    for frame, n in leaves.most_common(args.top):
        print(f"  {100 * n / total:5.1f} %  {frame}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
