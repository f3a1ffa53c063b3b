"""Adapters under test: every contract test runs on the AWS adapters (in-process moto, tables
made by `resources.create_all` as the stack makes them) and on the embedded ones (SQLite in
a temporary state directory)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.stores.ports import Stores


@pytest.fixture(params=["aws", "embedded"])
def stores(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: Any) -> Iterator[Stores]:
    """The configured backend's stores: what the services use through `backend.stores()`."""
    from chalicelib.config import settings
    from chalicelib.policy import forget_cached
    from chalicelib.stores import backend

    if request.param == "aws":
        request.getfixturevalue("aws")
    else:
        from chalicelib.search.factory import reset_index

        monkeypatch.setenv("PIPEGUARD_BACKEND", "embedded")
        monkeypatch.setenv("PIPEGUARD_HOME", str(tmp_path / "state"))
        monkeypatch.setenv("SEARCH_BACKEND", "sqlite")
        monkeypatch.setenv("SEARCH_SQLITE_PATH", str(tmp_path / "search.db"))
        settings.cache_clear()
        reset_index()
    forget_cached()
    backend.reset()
    yield backend.stores()
    backend.reset()
    settings.cache_clear()
