"""Adapters under test: every contract test runs on the AWS adapters (in-process moto, tables
made by `resources.create_all` as the stack makes them) and on the embedded ones (SQLite in
a temporary state directory)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.stores.ports import Stores
from tests.embedded_backend import fresh_stores, use_embedded


@pytest.fixture(params=["aws", "embedded"])
def stores(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: Any) -> Iterator[Stores]:
    """The configured backend's stores: what the services use through `backend.stores()`."""
    if request.param == "aws":
        request.getfixturevalue("aws")
    else:
        use_embedded(monkeypatch, tmp_path)
    with fresh_stores() as found:
        yield found
