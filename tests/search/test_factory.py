"""The process-wide adapter chosen by settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chalicelib.config import settings
from chalicelib.search.factory import get_index, reset_index
from chalicelib.search.opensearch import OpenSearchIndex
from chalicelib.search.sqlite import SqliteIndex


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    settings.cache_clear()
    reset_index()
    yield
    settings.cache_clear()
    reset_index()


def test_sqlite_backend_creates_the_directory_and_is_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "nested" / "dir" / "search.db"
    monkeypatch.setenv("SEARCH_BACKEND", "sqlite")
    monkeypatch.setenv("SEARCH_SQLITE_PATH", str(path))

    index = get_index()

    assert isinstance(index, SqliteIndex)
    assert path.exists()
    assert get_index() is index
    reset_index()
    assert get_index() is not index


def test_opensearch_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEARCH_BACKEND", "opensearch")
    monkeypatch.setenv("OPENSEARCH_ENDPOINT", "http://localhost:9200")
    monkeypatch.setenv("OPENSEARCH_INDEX", "findings-x")

    index = get_index()

    assert isinstance(index, OpenSearchIndex)
    assert index.index == "findings-x"


def test_opensearch_backend_needs_an_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEARCH_BACKEND", "opensearch")
    monkeypatch.setenv("OPENSEARCH_ENDPOINT", "")
    with pytest.raises(ValueError, match="OPENSEARCH_ENDPOINT"):
        get_index()


def test_unknown_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEARCH_BACKEND", "elasticsearch")
    with pytest.raises(ValueError, match="unknown SEARCH_BACKEND 'elasticsearch'"):
        get_index()
