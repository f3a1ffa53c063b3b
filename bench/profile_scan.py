"""Where does a whole-process offline scan spend its time?

Three views of `python -m collectors scan --offline --format json <CloudFormation folder>`:
- a wall-clock *ladder*: interpreter start, then each layer of imports, then the full scan
  (medians of several fresh processes; the differences are what each layer costs);
- `python -X importtime`: the heaviest imports (median over runs);
- cProfile of the scan, its own time grouped by where the code lives (PyYAML, our parser,
  rules, pydantic, import machinery...).

Run alone with `python -m bench.profile_scan` (prints JSON); `bench.corpus_bench` calls it.
"""

from __future__ import annotations

import argparse
import json
import pstats
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.common import CFN_DIR, REPO, measure, median, our_scan_cmd, python

LADDER: list[tuple[str, str]] = [
    ("interpreter start (`python -c pass`)", "pass"),
    ("+ collector CLI (`import collectors.cli`)", "import collectors.cli"),
    (
        "+ engine, models, parsers package (`import chalicelib.engine.runner`)",
        "import collectors.cli, chalicelib.engine.runner",
    ),
    (
        "+ every rule and both parsers (PyYAML)",
        "import collectors.cli, chalicelib.engine.runner, chalicelib.parsers.cloudformation, "
        "chalicelib.parsers.dockerfile\n"
        "from chalicelib.engine.registry import all_rules\nall_rules()",
    ),
]

# Where each profiled function's own time goes, by the file it lives in (first match wins).
# libyaml's Cython methods are invisible to cProfile: their time counts in their Python callers
# (the composer, and our `compose_node` hook).
_CATEGORIES: list[tuple[str, re.Pattern[str]]] = [
    ("PyYAML composer/constructor/resolver + libyaml calls", re.compile(r"/yaml/")),
    ("our CloudFormation parser (loader hooks, model)", re.compile(r"chalicelib/parsers/cloud")),
    ("our Dockerfile parser", re.compile(r"chalicelib/parsers/dockerfile")),
    ("rules", re.compile(r"/rules/")),
    ("engine (runner, registry)", re.compile(r"chalicelib/engine/")),
    ("collector code (walk, read, detect type)", re.compile(r"collectors/|parsers/detect")),
    (
        "path handling (pathlib, realpath, lstat)",
        re.compile(r"pathlib|posixpath|genericpath|posix\.(?:l?stat|fspath)"),
    ),
    ("pydantic (import, model classes)", re.compile(r"pydantic")),
    ("json (JSON templates, output)", re.compile(r"/json/|_json\.|json\.")),
    ("regular expressions (compile, match)", re.compile(r"/re/|_sre|sre_|re\.Pattern")),
    (
        "import machinery (find, load, exec modules)",
        re.compile(r"<frozen importlib|importlib|marshal|builtins\.(?:exec|compile)"),
    ),
]

# Phases: cumulative time of the functions that enclose each step of the scan.
_PHASES: list[tuple[str, str, str]] = [
    (
        "imports (all, incl. lazy ones during the scan)",
        "<frozen importlib._bootstrap>",
        "_find_and_load",
    ),
    ("collect: walk folders, read, detect type, paths", "collectors/files.py", "collect"),
    ("evaluate: parse + rules, all artifacts", "chalicelib/engine/runner.py", "evaluate"),
    ("  of which parse (YAML/JSON -> template model)", "chalicelib/parsers/__init__.py", "parse"),
    ("JSON output (json.dumps)", "json/__init__.py", "dumps"),
]


def ladder(repeats: int) -> list[dict[str, Any]]:
    """Median wall time of each import layer and of the full scan, in fresh processes."""
    steps = [(label, [python(), "-c", code]) for label, code in LADDER]
    steps.append(
        (f"full scan of the CloudFormation folder ({CFN_DIR.name}/)", our_scan_cmd(CFN_DIR))
    )
    walls: dict[str, list[float]] = defaultdict(list)
    for _ in range(repeats):  # interleaved, so drift hits every step alike
        for label, cmd in steps:
            walls[label].append(measure(cmd, sample_tree=False).wall_s)
    out, previous = [], 0.0
    for label, _ in steps:
        value = median(walls[label])
        out.append({"step": label, "wall_s": value, "delta_s": value - previous})
        previous = value
    return out


_IMPORT_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s+)(\S+)")


def import_times(repeats: int) -> dict[str, Any]:
    """`-X importtime` of the real scan: cumulative ms of top-level and notable imports."""
    per_module: dict[str, list[float]] = defaultdict(list)
    self_totals: list[float] = []
    for _ in range(repeats):
        done = subprocess.run(
            [python(), "-X", "importtime", *our_scan_cmd(CFN_DIR)[1:]],
            capture_output=True,
            text=True,
            cwd=REPO,
        )
        total_self = 0.0
        for line in done.stderr.splitlines():
            match = _IMPORT_LINE.match(line)
            if not match:
                continue
            self_us, cumulative_us, indent, name = match.groups()
            total_self += int(self_us) / 1000
            depth = (len(indent) - 1) // 2
            if depth == 0 or name in _NOTABLE:
                per_module[name].append(int(cumulative_us) / 1000)
        self_totals.append(total_self)
    modules = sorted(
        ({"module": name, "cumulative_ms": median(vals)} for name, vals in per_module.items()),
        key=lambda m: -m["cumulative_ms"],
    )
    return {"total_ms": median(self_totals), "modules": modules}


_NOTABLE = frozenset(
    {
        "pydantic",
        "pydantic_core",
        "chalicelib.models",
        "yaml",
        "rules",
        "rules.cloudformation",
        "rules.dockerfile",
        "chalicelib.parsers.cloudformation",
        "chalicelib.parsers.dockerfile",
        "chalicelib.engine.registry",
        "json",
        "argparse",
        "typing",
        "dataclasses",
    }
)


def cprofile_breakdown() -> dict[str, Any]:
    """Own time of every function of the scan, grouped by category, from cProfile."""
    with tempfile.TemporaryDirectory() as tmp:
        prof = Path(tmp) / "scan.prof"
        cmd = [python(), "-m", "cProfile", "-o", str(prof), *our_scan_cmd(CFN_DIR)[1:]]
        measure(cmd, sample_tree=False)
        stats = pstats.Stats(str(prof))
    raw: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    by_category: dict[str, float] = defaultdict(float)
    functions: list[tuple[float, float, str]] = []
    for (filename, lineno, funcname), (_cc, _nc, tottime, cumtime, _callers) in raw.items():
        where = f"{filename}:{funcname}"
        label = next((name for name, rx in _CATEGORIES if rx.search(where)), "other")
        by_category[label] += tottime
        short = filename.replace(str(REPO) + "/", "")
        short = re.sub(r".*/site-packages/", "", short)
        functions.append((tottime, cumtime, f"{short}:{lineno}({funcname})"))
    phases = []
    for label, file_suffix, func in _PHASES:
        cum = max(
            (v[3] for (f, _l, n), v in raw.items() if f.endswith(file_suffix) and n == func),
            default=0.0,
        )
        phases.append({"phase": label, "cumtime_s": cum})
    total = sum(by_category.values())
    categories = sorted(
        (
            {"category": k, "seconds": v, "share": v / total if total else 0.0}
            for k, v in by_category.items()
        ),
        key=lambda c: -c["seconds"],
    )
    top = [
        {"function": name, "tottime_s": tt, "cumtime_s": ct}
        for tt, ct, name in sorted(functions, reverse=True)[:15]
    ]
    return {
        "profiled_total_s": total,
        "phases": phases,
        "categories": categories,
        "top_functions": top,
    }


_YAML_PROBE = """
import json, yaml
from chalicelib.parsers import cloudformation as cfn
loader = getattr(cfn, "_YamlLoader", None)
print(json.dumps({
    "pyyaml": yaml.__version__,
    "with_libyaml": bool(getattr(yaml, "__with_libyaml__", False)),
    "loader": getattr(loader, "__name__", "unknown"),
    "loader_bases": [b.__name__ for b in getattr(loader, "__mro__", [])[1:6]],
}))
"""


def yaml_probe() -> dict[str, Any]:
    """Which YAML loader the CloudFormation parser uses (libyaml's C parser or pure Python)."""
    done = subprocess.run([python(), "-c", _YAML_PROBE], capture_output=True, text=True, cwd=REPO)
    try:
        info: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        return {"error": done.stderr.strip()[-500:]}
    info["c_parser_used"] = "CParser" in info.get("loader_bases", []) or "Fast" in info["loader"]
    return info


def profile(repeats: int = 5) -> dict[str, Any]:
    return {
        "ladder": ladder(repeats),
        "importtime": import_times(max(3, repeats // 2)),
        "cprofile": cprofile_breakdown(),
        "yaml": yaml_probe(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    json.dump(profile(args.repeats), sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
