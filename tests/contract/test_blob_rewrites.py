"""The file blob store writes (and flushes) only bytes it does not hold yet: an artifact body is
content-addressed, so the same Dockerfile submitted run after run is stored once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chalicelib.stores.embedded import blobs
from chalicelib.stores.keys import tenant_key

KEY = tenant_key("acme", "artifacts", "a" * 64)


def _only_file(root: Path) -> Path:
    (path,) = [p for p in root.rglob("*") if p.is_file()]
    return path


def test_putting_the_bytes_already_stored_writes_and_flushes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = blobs.FileBlobs(tmp_path / "blobs")
    store.put("acme", KEY, b"FROM alpine:3.20\n")
    before = os.stat(_only_file(tmp_path / "blobs"))
    flushed: list[int] = []
    monkeypatch.setattr(blobs.os, "fsync", flushed.append)
    store.put("acme", KEY, b"FROM alpine:3.20\n")
    after = os.stat(_only_file(tmp_path / "blobs"))
    assert flushed == []
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_other_bytes_under_the_same_key_still_replace_the_old_ones(tmp_path: Path) -> None:
    store = blobs.FileBlobs(tmp_path / "blobs")
    store.put("acme", KEY, b"FROM alpine:3.20\n")
    store.put("acme", KEY, b"FROM alpine:3.21\n")
    store.put("acme", KEY, b"FROM alpine:3.21")  # a prefix of what is stored
    assert store.get("acme", KEY) == b"FROM alpine:3.21"
    assert [p.name for p in (tmp_path / "blobs").rglob("*") if p.is_file()] == ["a" * 64]
