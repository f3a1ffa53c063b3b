"""The template tools' venv (`make infra-venv`, requirements-infra.txt), installed once even
when several test workers ask for it at the same time."""

from __future__ import annotations

import fcntl
import functools
import hashlib
import subprocess
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
INFRA_PYTHON = REPO_ROOT / ".venv-infra" / "bin" / "python"


@functools.cache
def infra_python() -> Path:
    """The infra venv's interpreter, after `make infra-venv` (quick when it is current)."""
    tag = hashlib.sha256(str(REPO_ROOT).encode()).hexdigest()[:12]
    lock = Path(tempfile.gettempdir()) / f"pipeguard-infra-venv-{tag}.lock"
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # one install at a time; the others wait, then skip
        result = subprocess.run(
            ["make", "--no-print-directory", "infra-venv"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=900,
        )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return INFRA_PYTHON


def cfnlint_schemas() -> Path:
    """The CloudFormation resource provider schemas of the pinned cfn-lint."""
    where = subprocess.run(
        [
            str(infra_python()),
            "-c",
            "import cfnlint, pathlib; print(pathlib.Path(cfnlint.__file__).parent)",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return Path(where.stdout.strip()) / "data" / "schemas"
