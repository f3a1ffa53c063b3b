"""The test node's launcher (tests/opensearch_node.py) says what is missing when it cannot start."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import opensearch_node


def test_a_missing_build_names_the_make_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(opensearch_node, "BUILD_DIR", tmp_path / "target")
    with pytest.raises(opensearch_node.NodeUnavailable, match="make opensearch-node"):
        opensearch_node._start(tmp_path, tmp_path / "url", tmp_path / "pid")


def test_missing_java_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(opensearch_node.shutil, "which", lambda name: None)
    with pytest.raises(opensearch_node.NodeUnavailable, match="java is not on PATH"):
        opensearch_node._start(tmp_path, tmp_path / "url", tmp_path / "pid")


def test_a_node_that_exits_at_start_shows_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(opensearch_node, "LAUNCHER", "dev.pipeguard.search.NoSuchClass")
    with pytest.raises(opensearch_node.NodeUnavailable, match="NoSuchClass"):
        opensearch_node._start(tmp_path, tmp_path / "url", tmp_path / "pid")
