"""SARIF logs for the tests: the committed logs of real scanners, and two real tools that are
present wherever the tests run (ruff, from requirements-dev.txt, and the project's collector)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import REPO_ROOT

LOGS = Path(__file__).resolve().parent / "parsers" / "sarif_logs"
COMMITTED = sorted(LOGS.glob("*.sarif"))


def ruff_sarif(folder: Path) -> str:
    """`ruff check --output-format sarif` over `folder` (every rule, no configuration)."""
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache", "--select", "ALL",
         "--output-format", "sarif", "."],
        cwd=folder, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    return done.stdout


def pipeguard_sarif(folder: Path, *paths: str) -> str:
    """The collector's offline scan of `paths` (relative to `folder`) as SARIF."""
    done = subprocess.run(
        [sys.executable, "-m", "collectors", "scan", "--format", "sarif", "--no-step-summary",
         *paths],
        cwd=folder, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    return done.stdout


def minimal_log(results: list[dict[str, Any]] | None = None, **driver: Any) -> dict[str, Any]:
    """A small valid 2.1.0 log with one run of a tool called "Demo" (`driver` adds fields)."""
    run: dict[str, Any] = {"tool": {"driver": {"name": "Demo", **driver}}}
    run["results"] = results if results is not None else []
    return {"version": "2.1.0", "runs": [run]}


def result(rule_id: str = "R1", text: str = "it is wrong", **fields: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"ruleId": rule_id, "message": {"text": text}}
    found.update(fields)
    return found


def at(uri: str, line: int | None = None, **region: Any) -> list[dict[str, Any]]:
    """`locations` with one physical location."""
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri}}
    if line is not None or region:
        physical["region"] = {**({"startLine": line} if line is not None else {}), **region}
    return [{"physicalLocation": physical}]


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document)
