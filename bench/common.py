"""What the benchmark and parity scripts share: paths, tools, process measurement, machine info."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
CFN_DIR = CORPUS / "cloudformation"
DOCKERFILE_DIR = CORPUS / "dockerfile"
RESULTS = REPO / "bench" / "results"
DOCS = REPO / "docs"
TOOLS_VENV = REPO / "bench" / ".venv-tools"
TOOLS_BIN = TOOLS_VENV / "bin"
PROJECT_PY = REPO / ".venv" / "bin" / "python"
CFN_SUFFIXES = frozenset({".yaml", ".yml", ".json", ".template"})

_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def python() -> str:
    """The project interpreter (the venv's when it exists, else the running one)."""
    return str(PROJECT_PY) if PROJECT_PY.exists() else sys.executable


def tool(name: str) -> str:
    """Path of a third-party tool in the tools venv; exits with a hint when it is missing."""
    path = TOOLS_BIN / name
    if path.exists():
        return str(path)
    raise SystemExit(f"{name} not found in {TOOLS_BIN}: run `make bench-tools` first")


def our_scan_cmd(folder: Path) -> list[str]:
    return [python(), "-m", "collectors", "scan", "--offline", "--format", "json", str(folder)]


def checkov_cmd(folder: Path, framework: str) -> list[str]:
    # --skip-download: this machine has no route to the vendor's API; skipping it only ever
    # makes checkov faster, so the ratios stay conservative.
    return [
        tool("checkov"),
        "-d",
        str(folder),
        "--framework",
        framework,
        "-o",
        "json",
        "--quiet",
        "--skip-download",
    ]


def cfn_lint_cmd(files: Sequence[Path]) -> list[str]:
    return [tool("cfn-lint"), "--format", "json", "--", *(str(f) for f in files)]


# cfn-lint 1.58 aborts the whole run (AttributeError in its graph builder) on a template whose
# top level or `Resources` is not a mapping; this probe, run by the tools interpreter, finds them
# with cfn-lint's own decoder so they can be left out of its file list.
_CFN_LINT_PROBE = """
import json, sys
from cfnlint.decode import decode
bad = []
for name in sys.stdin.read().split("\\0"):
    if not name:
        continue
    try:
        template, _ = decode(name)
    except Exception:
        bad.append(name)
        continue
    if template is not None and (
        not isinstance(template, dict) or not isinstance(template.get("Resources", {}), dict)
    ):
        bad.append(name)
print(json.dumps(bad))
"""


def cfn_lint_crashers(files: Sequence[Path]) -> list[Path]:
    """The files that would crash a whole cfn-lint run (see `_CFN_LINT_PROBE`)."""
    done = subprocess.run(
        [str(TOOLS_BIN / "python"), "-c", _CFN_LINT_PROBE],
        input="\0".join(str(f) for f in files),
        capture_output=True,
        text=True,
        check=True,
    )
    return [Path(name) for name in json.loads(done.stdout)]


def hadolint_cmd(files: Sequence[Path]) -> list[str]:
    return [tool("hadolint"), "--no-fail", "--format", "json", *(str(f) for f in files)]


def cfn_files() -> list[Path]:
    """Every template-like file of the CloudFormation corpus (what checkov -d looks at)."""
    return sorted(p for p in CFN_DIR.rglob("*") if p.is_file() and p.suffix in CFN_SUFFIXES)


def dockerfiles() -> list[Path]:
    """Every Dockerfile of the corpus (each file there is one, see corpus/SOURCES.md)."""
    return sorted(p for p in DOCKERFILE_DIR.rglob("*") if p.is_file())


def corpus_relative(path: str | Path, root: Path) -> str:
    """`path` relative to `root`, whether it was given absolute, relative to the repo, or as
    checkov prints it (`/sub/path`, relative to the scanned folder)."""
    candidate = Path(path)
    if not candidate.is_absolute():
        candidate = (REPO / candidate).resolve()
    elif not candidate.exists() and (root / str(path).lstrip("/")).exists():
        candidate = root / str(path).lstrip("/")
    try:
        return candidate.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


# -- measuring one process ----------------------------------------------------------------------


@dataclass
class RunStats:
    """One whole-process run: wall time, CPU time and peak memory."""

    wall_s: float
    user_s: float
    sys_s: float
    max_rss_mb: float  # peak RSS of the largest single process (wait4 rusage)
    tree_peak_rss_mb: float  # peak of the sum over the process tree (sampled from /proc)
    returncode: int
    load1: float = 0.0  # 1-minute load average when the run started: how busy the machine was

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found.extend(int(c) for c in handle.read().split())
    except OSError:
        pass
    return found


def _tree_rss_kb(root: int) -> int:
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/statm") as handle:
                total += int(handle.read().split()[1]) * _PAGE_KB
        except (OSError, IndexError, ValueError):
            continue
        stack.extend(_children(pid))
    return total


def _own_kb(pid: int | str, field: str) -> int:
    """A `/proc/<pid>/status` memory figure (`VmRSS`, `VmHWM`) in KiB; 0 when gone."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _cmdline(pid: int | str) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read()
    except OSError:
        return b""


class _TreeSampler(threading.Thread):
    """Samples a process tree's summed RSS and the root's own high-water mark, from the moment
    the root has exec'd its command (before that it is a copy of this process)."""

    def __init__(self, pid: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak_kb, self.hwm_kb = pid, interval, 0, 0
        self._halt = threading.Event()

    def run(self) -> None:
        mine = _cmdline("self")
        while not self._halt.is_set():
            if _cmdline(self.pid) not in (mine, b""):
                self.peak_kb = max(self.peak_kb, _tree_rss_kb(self.pid))
                self.hwm_kb = max(self.hwm_kb, _own_kb(self.pid, "VmHWM"))
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def measure(
    cmd: Sequence[str],
    *,
    cwd: Path = REPO,
    stdout: Path | None = None,
    stderr: Path | None = None,
    sample_tree: bool = True,
    env: dict[str, str] | None = None,
) -> RunStats:
    """Run `cmd` to completion and measure it.

    Peak RSS comes from `wait4`, i.e. from the rusage of this very child (and the descendants
    it waited for), not from RUSAGE_CHILDREN, whose maximum covers every child so far; when
    this process is larger than the command (a benchmark serving moto in-process), from the
    command's own sampled high-water mark instead. When
    `sample_tree` is set, a thread also samples the summed RSS of the whole process tree
    every 20 ms, which is what matters for tools that fork workers.
    """
    out = open(stdout, "wb") if stdout else subprocess.DEVNULL  # noqa: SIM115
    err = open(stderr, "wb") if stderr else subprocess.DEVNULL  # noqa: SIM115
    load1 = os.getloadavg()[0]
    inherited_kb = _own_kb("self", "VmRSS")
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), cwd=cwd, stdout=out, stderr=err, env=env)
        sampler = _TreeSampler(proc.pid, 0.02) if sample_tree else None
        if sampler:
            sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait again
        if sampler:
            sampler.stop()
    finally:
        for handle in (out, err):
            if handle is not subprocess.DEVNULL:
                handle.close()  # type: ignore[union-attr]
    max_rss_mb = usage.ru_maxrss / 1024  # KiB on Linux
    if sampler and sampler.hwm_kb and usage.ru_maxrss <= inherited_kb * 1.05:
        # Linux keeps the peak of the memory a child had before exec, a copy of this process:
        # when that is all ru_maxrss shows, the command's own high-water mark is the figure.
        max_rss_mb = sampler.hwm_kb / 1024
    tree_mb = (sampler.peak_kb / 1024) if sampler else max_rss_mb
    return RunStats(
        wall_s=wall,
        user_s=usage.ru_utime,
        sys_s=usage.ru_stime,
        max_rss_mb=max_rss_mb,
        tree_peak_rss_mb=max(tree_mb, max_rss_mb),
        returncode=proc.returncode,
        load1=load1,
    )


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


# -- describing the machine and the tools -------------------------------------------------------


def _first_line(cmd: Sequence[str]) -> str:
    try:
        done = subprocess.run(list(cmd), capture_output=True, text=True, timeout=120, cwd=REPO)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc})"
    text = (done.stdout or done.stderr).strip()
    return text.splitlines()[0] if text else "unknown"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return float("nan")


def git_revision() -> str:
    if not shutil.which("git"):
        return "unknown"
    head = _first_line(["git", "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        cwd=REPO,
    ).stdout.strip()
    return f"{head}{' + uncommitted changes' if dirty else ''}"


def machine_info() -> dict[str, Any]:
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": cpu_model(),
        "memory_gib": round(memory_gib(), 1),
        "kernel": platform.release(),
        "python": _first_line([python(), "--version"]),
        "pipeguard_revision": git_revision(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def tool_versions() -> dict[str, str]:
    return {
        "checkov": _first_line([tool("checkov"), "--version"]),
        "cfn-lint": _first_line([tool("cfn-lint"), "--version"]),
        "hadolint": _first_line([tool("hadolint"), "--version"]),
    }


def our_rules() -> list[dict[str, Any]]:
    """The rules registered right now, as `python -m collectors rules --format json` lists them."""
    done = subprocess.run(
        [python(), "-m", "collectors", "rules", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    rules: list[dict[str, Any]] = json.loads(done.stdout)
    return rules
