"""Plot bench results: `bench/.venv-tools/bin/python bench/plot.py RESULTS.json OUT.png`.

Runs with the tools venv (matplotlib lives there, not in the project venv); reads only the JSON
written by bench/corpus_bench.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, NullFormatter  # noqa: E402

OURS = "pipeguard"


def plot(results: dict[str, Any], out: Path) -> None:
    wp, warm = results["whole_process"], results["warm"]
    fig, (ax_time, ax_rss, ax_warm) = plt.subplots(1, 3, figsize=(17, 5.2))
    labels: list[str] = []
    walls: list[float] = []
    rss: list[float] = []
    colors: list[str] = []
    suites = [(k, v) for k, v in wp.items() if isinstance(v, dict) and "tools" in v]
    for suite, entry in suites:
        short = "CFN" if suite == "cloudformation" else "Docker"
        for name, t in entry["tools"].items():
            labels.append(f"{short}: {name.replace(' (1 process per file)', ' ×file')}")
            walls.append(t["median_wall_s"])
            rss.append(t["median_tree_peak_rss_mb"])
            colors.append("tab:green" if name == OURS else "tab:gray")
    y = list(range(len(labels)))
    ax_time.barh(y, walls, color=colors)
    ax_time.set_xscale("log")
    ax_time.set_yticks(y, labels)
    ax_time.invert_yaxis()
    ax_time.set_xlabel("median wall time, whole process (s, log scale)")
    ax_time.set_title("Folder scan time")
    for i, (suite, name) in enumerate((s, n) for s, e in suites for n in e["tools"]):
        ratio = wp[suite]["tools"][name]["ratio_to_ours"]
        text = f"{walls[i]:.2f} s" + ("" if name == OURS else f"  ({ratio:.0f}× ours)")
        ax_time.text(walls[i] * 1.08, i, text, va="center", fontsize=8)
    ax_time.set_xlim(left=min(walls) / 3, right=max(walls) * 12)
    ax_time.xaxis.set_minor_formatter(NullFormatter())
    ax_time.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))

    ax_rss.barh(y, rss, color=colors)
    ax_rss.set_yticks(y, [])
    ax_rss.invert_yaxis()
    ax_rss.axvline(120, color="tab:red", linestyle="--", linewidth=1)
    ax_rss.text(122, len(y) - 0.6, "120 MB target", color="tab:red", fontsize=8)
    ax_rss.set_xlabel("peak RSS, process tree (MB)")
    ax_rss.set_title("Peak memory")
    for i, value in enumerate(rss):
        ax_rss.text(value + 5, i, f"{value:.0f}", va="center", fontsize=8)

    for key, label, color in (
        ("cloudformation", "templates", "tab:blue"),
        ("dockerfile", "Dockerfiles", "tab:orange"),
    ):
        values = warm[key]["per_file_ms"]
        xs = [100 * (i + 0.5) / len(values) for i in range(len(values))]
        ax_warm.plot(xs, values, label=f"{label} (median {warm[key]['median_ms']:.3f} ms)",
                     color=color)  # fmt: skip
    ax_warm.axhline(2.0, color="tab:blue", linestyle=":", linewidth=1)
    ax_warm.axhline(0.3, color="tab:orange", linestyle=":", linewidth=1)
    ax_warm.set_yscale("log")
    ax_warm.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax_warm.set_xlabel("percentile of files")
    ax_warm.set_ylabel("ms per artifact (log scale)")
    ax_warm.set_title("Warm in-process evaluate() per artifact")
    ax_warm.legend(fontsize=8, loc="upper left")
    fig.suptitle(
        f"Pipeguard vs checkov / cfn-lint / hadolint — {results['machine']['cpu_model']}, "
        f"{results['machine']['nproc']} cores, {results['machine']['date']}",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    plot(json.loads(Path(argv[0]).read_text()), Path(argv[1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
