"""Cold start of the deployed code: import time of `app` in a fresh process, and the zip size.

Usage: make package && .venv/bin/python bench/cold_start.py [--runs 20]
The deployment zip is unzipped into a temporary directory and imported from there with only
what the zip holds (`python -S`: no site-packages), as Lambda would; boto3 is not needed to
import the app.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ZIP = REPO / "dist" / "deployment.zip"
RESULTS = REPO / "bench" / "results"


def _run(code: str, where: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-S", "-c", code],
        cwd=where,
        env={"PYTHONPATH": str(where), "PYTHONDONTWRITEBYTECODE": "1"},
        check=True,
    )
    return (time.perf_counter() - started) * 1000


def _top_imports(where: Path, count: int = 8) -> list[tuple[str, int]]:
    result = subprocess.run(
        [sys.executable, "-S", "-X", "importtime", "-c", "import app"],
        cwd=where,
        env={"PYTHONPATH": str(where)},
        capture_output=True,
        text=True,
        check=True,
    )
    rows = []
    for line in result.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((parts[2].rstrip(), int(parts[1])))
    top_level = [(name.strip(), us) for name, us in rows if not name.startswith("  ")]
    return sorted(top_level, key=lambda r: -r[1])[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    if not ZIP.is_file():
        raise SystemExit("dist/deployment.zip is missing: run `make package` first")
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        with zipfile.ZipFile(ZIP) as archive:
            archive.extractall(where)
        subprocess.run([sys.executable, "-S", "-m", "compileall", "-q", str(where)], check=True)
        baseline = sorted(_run("pass", where) for _ in range(args.runs))
        imports = sorted(_run("import app", where) for _ in range(args.runs))
        handler = sorted(
            _run("import app; from chalicelib.engine.registry import all_rules; all_rules()", where)
            for _ in range(args.runs)
        )
        top = _top_imports(where)
    result = {
        "zip_bytes": ZIP.stat().st_size,
        "runs": args.runs,
        "interpreter_ms_median": statistics.median(baseline),
        "import_app_ms_median": statistics.median(imports),
        "import_app_ms_p95": imports[int(0.95 * (len(imports) - 1))],
        "import_app_and_rules_ms_median": statistics.median(handler),
        "top_imports_us": top,
        "python": sys.version.split()[0],
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average": os.getloadavg(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "cold_start.json").write_text(json.dumps(result, indent=2))
    app_only = result["import_app_ms_median"] - result["interpreter_ms_median"]
    print(f"deployment zip: {result['zip_bytes'] / 1e6:.2f} MB (target <= 10 MB)")
    print(f"fresh interpreter: {result['interpreter_ms_median']:.0f} ms median")
    print(
        f"import app: {result['import_app_ms_median']:.0f} ms median, "
        f"{result['import_app_ms_p95']:.0f} ms p95 (of which the import itself ~{app_only:.0f} ms; "
        "target <= 300 ms)"
    )
    print(f"import app + load every rule: {result['import_app_and_rules_ms_median']:.0f} ms median")
    for name, micros in top:
        print(f"  {name:<40} {micros / 1000:7.1f} ms")


if __name__ == "__main__":
    main()
