"""The services' stores as a test configures them: the embedded backend in a test's own folder."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from chalicelib.stores.ports import Stores


def use_embedded(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Point the services at the embedded backend in `folder`/state, the index in `folder`."""
    from chalicelib.config import settings
    from chalicelib.search.factory import reset_index

    monkeypatch.setenv("PIPEGUARD_BACKEND", "embedded")
    monkeypatch.setenv("PIPEGUARD_HOME", str(folder / "state"))
    monkeypatch.setenv("SEARCH_BACKEND", "sqlite")
    monkeypatch.setenv("SEARCH_SQLITE_PATH", str(folder / "search.db"))
    settings.cache_clear()
    reset_index()


@contextmanager
def fresh_stores() -> Iterator[Stores]:
    """The configured backend's stores, built anew; dropped again when the block ends."""
    from chalicelib.config import settings
    from chalicelib.policy import forget_cached
    from chalicelib.stores import backend

    settings.cache_clear()
    forget_cached()
    backend.reset()
    try:
        yield backend.stores()
    finally:
        backend.reset()
        settings.cache_clear()
