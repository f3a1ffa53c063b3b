"""The API on the embedded backend with its state directory on a file system of its own: a
small tmpfs (a real ENOSPC) that can also be made read-only (a read-only bind mount). The scan
stream is still in-process moto (the `aws` fixture)."""

from __future__ import annotations

import errno
import gc
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest


def _mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    if done.returncode:
        pytest.fail(f"mount {' '.join(args)} failed (these tests need root): {done.stderr}")


def mount_tmpfs(path: Path, size: str) -> None:
    """A tmpfs of `size` (`64k`, `8m`) at `path`, unmounted with the state directory."""
    _mount("-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path))


def remount_size(path: Path, size: str) -> None:
    """Grow (or shrink) the tmpfs at `path`: what freeing space does."""
    _mount("-o", f"remount,size={size}", str(path))


@dataclass
class StateDir:
    """The state directory of the API under test, on a tmpfs of `size` bytes."""

    path: Path
    filler: Path = field(init=False)

    def __post_init__(self) -> None:
        self.filler = self.path.parent / "filler" / "zeros"

    def fill(self) -> None:
        """Use up every free byte of the file system (what a runaway log does)."""
        self.filler.parent.mkdir(exist_ok=True)
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            size = 1 << 20
            while size:  # smaller and smaller writes, down to the last free byte
                try:
                    os.write(fd, b"\0" * size)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC, exc
                    size //= 2
        finally:
            os.close(fd)

    def free(self) -> None:
        self.filler.unlink()

    def read_only(self, on: bool) -> None:
        """Remount the state directory read-only (every connection must be closed first: the
        kernel refuses while a file is open for writing) or writable again."""
        if on:
            forget_connections()
        _mount("-o", f"remount,bind,{'ro' if on else 'rw'}", str(self.path))


def forget_connections() -> None:
    """Drop this process's stores and index, closing their SQLite connections."""
    from chalicelib.search.factory import reset_index
    from chalicelib.stores import backend

    backend.reset()
    reset_index()
    gc.collect()


@pytest.fixture
def state_dir(tmp_path: Path, aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[StateDir]:
    """The embedded backend (stores, blobs, search index) in a state directory on an 8 MiB
    tmpfs, itself bind-mounted so that it can be made read-only."""
    from chalicelib.config import settings
    from chalicelib.policy import forget_cached

    volume = tmp_path / "volume"
    volume.mkdir()
    _mount("-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", str(volume))
    home = volume / "state"
    home.mkdir(mode=0o700)
    _mount("--bind", str(home), str(home))
    monkeypatch.setenv("PIPEGUARD_BACKEND", "embedded")
    monkeypatch.setenv("PIPEGUARD_HOME", str(home))
    monkeypatch.delenv("SEARCH_SQLITE_PATH")  # the index in the state directory
    settings.cache_clear()
    forget_cached()
    forget_connections()
    try:
        yield StateDir(home)
    finally:
        forget_connections()
        settings.cache_clear()
        subprocess.run(["umount", "-R", "-l", str(home)], check=False)
        subprocess.run(["umount", "-l", str(volume)], check=False)
        os.sync()
