"""`make install` says what it is doing while it installs, and nothing once it is done."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="make and a POSIX venv")

WHEEL = "tinydep-1.0-py3-none-any.whl"


def _wheel(folder: Path) -> Path:
    """A real, dependency-free wheel, so that pip installs it without a network."""
    files = {
        "tinydep/__init__.py": b"VALUE = 1\n",
        "tinydep-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: tinydep\nVersion: 1.0\n",
        "tinydep-1.0.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append("tinydep-1.0.dist-info/RECORD,,")
    path = folder / WHEEL
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr("tinydep-1.0.dist-info/RECORD", "\n".join(record) + "\n")
    return path


def _make_install(folder: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "PIP_"))}
    return subprocess.run(
        ["make", "--no-print-directory", "-f", str(REPO_ROOT / "Makefile"), "install",
         f"PYTHON={sys.executable}", "VENV=venv"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip


def test_make_install_shows_each_step_and_pips_progress_then_stays_quiet(tmp_path: Path) -> None:
    _wheel(tmp_path)
    (tmp_path / "requirements.txt").write_text(f"./{WHEEL}\n")
    (tmp_path / "requirements-dev.txt").write_text("-r requirements.txt\n")

    first = _make_install(tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    out = first.stdout
    # One line per step, before the step runs, then pip's own report of what it installs.
    creating, installing, ready = (out.index(s) for s in ("creating venv", "installing", "ready"))
    assert creating < installing < out.index("Successfully installed tinydep-1.0") < ready
    assert "tinydep" in out[: out.index("Successfully installed")]  # pip names what it fetches
    assert (tmp_path / "venv" / ".installed").exists()

    second = _make_install(tmp_path)  # up to date: the stamp check alone, silent
    assert second.returncode == 0, second.stderr
    assert "pip" not in second.stdout and "installing" not in second.stdout
    assert second.stdout.strip() in ("", "make: Nothing to be done for 'install'.")
