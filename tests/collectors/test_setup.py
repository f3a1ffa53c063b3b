"""A Python without one of the collector's packages is a setup error (exit 2), never a verdict.

The collector runs in a real subprocess whose `sitecustomize` makes importing the package fail,
as it does where the package is not installed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.collectors.helpers import clean_env
from tests.conftest import REPO_ROOT

# the import name of each package in collectors/requirements.txt
MODULES = {
    "pydantic": "pydantic",
    "PyYAML": "yaml",
    "defusedxml": "defusedxml",
    "pathspec": "pathspec",
}

BLOCKER = """
import os
import sys
from importlib.abc import MetaPathFinder

_BLOCKED = set(filter(None, os.environ.get("BLOCK_MODULES", "").split(",")))


class _NotInstalled(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in _BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _NotInstalled())
"""


@pytest.fixture(scope="module")
def blocker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("blocker")
    (folder / "sitecustomize.py").write_text(BLOCKER)
    return folder


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("artifacts")
    (folder / "junit.xml").write_text('<testsuite name="t"><testcase name="a"/></testsuite>\n')
    (folder / "Dockerfile").write_text("FROM alpine:3.20\nUSER app\n")
    (folder / "stack.yaml").write_text("Resources:\n  T:\n    Type: AWS::SNS::Topic\n")
    return folder


def collector(blocker: Path, blocked: str, *args: str) -> subprocess.CompletedProcess:
    env = clean_env({"PYTHONPATH": f"{blocker}:{REPO_ROOT}", "BLOCK_MODULES": blocked})
    return subprocess.run(
        [sys.executable, "-m", "collectors", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(("package", "module"), sorted(MODULES.items()))
def test_a_missing_package_is_a_setup_error(
    package: str, module: str, blocker: Path, artifacts: Path
) -> None:
    for args in (
        ("scan", "--offline", "--exclude", "nothing", str(artifacts)),
        ("submit", "--api-url", "http://127.0.0.1:9", "--api-key", "k", "--pipeline", "p",
         str(artifacts)),
        ("rules", "--format", "json"),
    ):  # fmt: skip
        result = collector(blocker, module, *args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        assert f"the Python package {package} " in result.stderr
        assert "pip install -r" in result.stderr and "collectors/requirements.txt" in result.stderr
        assert "FAIL" not in result.stdout + result.stderr


def test_the_blocker_blocks(blocker: Path) -> None:
    """The check above means something: the blocked import fails in the subprocess."""
    env = clean_env({"PYTHONPATH": f"{blocker}:{REPO_ROOT}", "BLOCK_MODULES": "defusedxml"})
    direct = subprocess.run(
        [sys.executable, "-c", "import defusedxml"], env=env, capture_output=True, text=True
    )
    assert direct.returncode == 1 and "No module named 'defusedxml'" in direct.stderr


def test_every_requirement_is_checked() -> None:
    from collectors.dependencies import REQUIREMENTS

    names = {
        line.split(">")[0].split("=")[0].split("<")[0].strip()
        for line in (REPO_ROOT / "collectors" / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    from collectors.dependencies import POSTURE_REQUIREMENTS

    assert names == set(MODULES) | set(POSTURE_REQUIREMENTS.values())
    assert {module: package for package, module in MODULES.items()} == REQUIREMENTS


def test_posture_needs_boto3_and_nothing_else_does(blocker: Path, artifacts: Path) -> None:
    result = collector(blocker, "boto3", "posture", "--offline")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "the Python package boto3 " in result.stderr and "Traceback" not in result.stderr
    scan = collector(blocker, "boto3", "scan", "--format", "json", str(artifacts))
    assert scan.returncode in (0, 1) and "boto3" not in scan.stderr, scan.stderr
