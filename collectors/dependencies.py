"""The packages the collector needs (`collectors/requirements.txt`), checked before a run.

A Python without one of them has a setup problem, reported as one (exit 2, with the command
that installs them), never as a failed policy: a parser that cannot import its XML library
would otherwise report every JUnit report as unreadable, and the run would fail for the wrong
reason.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["POSTURE_REQUIREMENTS", "REQUIREMENTS", "MissingDependency", "check", "missing"]

# import name → the package in requirements.txt
REQUIREMENTS = {
    "pydantic": "pydantic",
    "yaml": "PyYAML",
    "defusedxml": "defusedxml",
    "pathspec": "pathspec",
}
# needed by `posture` only (it reads the AWS account): other commands run without it
POSTURE_REQUIREMENTS = {"boto3": "boto3"}
REQUIREMENTS_FILE = Path(__file__).resolve().parent / "requirements.txt"


class MissingDependency(Exception):
    """One or more packages of requirements.txt cannot be imported; the message says how to
    install them."""

    def __init__(self, packages: list[str]) -> None:
        self.packages = packages
        names = ", ".join(packages)
        noun = "package" if len(packages) == 1 else "packages"
        super().__init__(
            f"the collector needs the Python {noun} {names} (see {REQUIREMENTS_FILE}), which "
            f"this Python ({sys.executable}) cannot import. Install its requirements: "
            f"{sys.executable} -m pip install -r {REQUIREMENTS_FILE}"
        )


def missing(extra: Mapping[str, str] | None = None) -> list[str]:
    """The packages of REQUIREMENTS (and `extra`) this Python cannot find, without importing
    them."""
    absent = []
    for module, package in {**REQUIREMENTS, **(extra or {})}.items():
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):  # blocked, or a broken entry in sys.modules
            found = False
        if not found:
            absent.append(package)
    return absent


def check(extra: Mapping[str, str] | None = None) -> None:
    """Raise MissingDependency when a package of requirements.txt (the command's) is missing."""
    absent = missing(extra)
    if absent:
        raise MissingDependency(absent)


def package_of(error: ImportError) -> str | None:
    """The requirements.txt package an ImportError is about, if it is one of them."""
    name = (error.name or "").partition(".")[0]
    return REQUIREMENTS.get(name) or POSTURE_REQUIREMENTS.get(name)
