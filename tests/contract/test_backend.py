"""Backend selection: one setting, resolved on first use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT


def test_the_default_is_aws_and_embedded_lives_in_the_state_dir(
    tmp_path: Path, monkeypatch: Any
) -> None:
    from chalicelib.config import Settings
    from chalicelib.stores.aws.tenants import DynamoTenants
    from chalicelib.stores.backend import build
    from chalicelib.stores.embedded.tenants import SqliteTenants

    monkeypatch.delenv("PIPEGUARD_BACKEND", raising=False)
    monkeypatch.setenv("PIPEGUARD_HOME", str(tmp_path))
    config = Settings.from_env()
    assert config.backend == "aws"
    assert config.database_path == str(tmp_path / "pipeguard.db")
    assert isinstance(build("aws").tenants, DynamoTenants)
    assert isinstance(build("embedded", config.database_path).tenants, SqliteTenants)


def test_an_unknown_backend_names_the_choices(monkeypatch: Any) -> None:
    from chalicelib.config import settings
    from chalicelib.stores import backend

    monkeypatch.setenv("PIPEGUARD_BACKEND", "postgres")
    settings.cache_clear()
    try:
        with pytest.raises(ValueError, match="expected one of aws, embedded"):
            backend.stores()
    finally:
        monkeypatch.undo()
        settings.cache_clear()


def test_importing_the_services_loads_neither_boto3_nor_sqlite3() -> None:
    code = (
        "import sys\n"
        "import chalicelib.tenancy, chalicelib.audit, chalicelib.waivers, chalicelib.policy\n"
        "import chalicelib.stores.backend, chalicelib.stores.tenants\n"
        "print(sorted(m for m in ('boto3', 'sqlite3') if m in sys.modules))\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert shown.stdout.strip() == "[]"
