"""The collector and images: `*.image.json` and inspect output by content, image archives in
folders, and `--image NAME` through the docker CLI (a stand-in `docker` on PATH that prints
real-shaped inspect output, since the CLI is the boundary)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from collectors.cli import main
from collectors.images import artifact_path
from tests.parsers.test_image import CLASSIC_INSPECT
from tests.parsers.test_image_archive import docker_save, oci_layout

HARDENED = (
    Path(__file__).resolve().parents[1] / "rules" / "fixtures" / "IMG-USER-001" / "pass.image.json"
).read_text()


def scanned(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict, str]:
    code = main(["scan", "--offline", "--format", "json", "--no-step-summary", *args])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else {}, captured.err


def rules_of(report: dict, file: str) -> set[str]:
    return {f["rule_id"] for f in report["findings"] if f["file"] == file}


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "api.image.json").write_text(CLASSIC_INSPECT)
    (tmp_path / "images" / "inspect-output.json").write_text(HARDENED)
    (tmp_path / "package.json").write_text('{"name": "shop", "config": {"port": 1}}')
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_image_metadata_found_by_name_and_by_content(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report, _ = scanned(capsys, ".")
    assert code == 1
    assert report["scanned"] == 2 and report["errors"] == []  # both image files, not package.json
    assert {"IMG-USER-001", "IMG-PORT-001", "IMG-SECRET-001"} <= rules_of(
        report, "images/api.image.json"
    )
    assert rules_of(report, "images/inspect-output.json") == set()
    assert [s["file"] for s in report["skipped"]] == ["package.json"]


def test_image_archives_in_folders(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "dist").mkdir()
    oci_layout(repo / "dist").rename(repo / "dist" / "app-oci.tar")
    docker_save(repo / "dist")
    (repo / "dist" / "sources.tar").write_bytes(b"\0" * 1024)  # a tar, but of no image
    code, report, _ = scanned(capsys, "dist")
    assert code == 1
    assert report["scanned"] == 2 and report["errors"] == []
    assert "IMG-HIST-001" in rules_of(report, "dist/app-oci.tar")
    assert "IMG-REF-002" in rules_of(report, "dist/saved.tar")
    [skipped] = report["skipped"]
    assert skipped["file"] == "dist/sources.tar" and "image archive" in skipped["reason"]


def test_a_named_archive_that_is_no_image_fails_the_run(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "image.tar.gz").write_bytes(b"\x1f\x8b" + b"\0" * 100)
    (repo / "bundle.tar").write_bytes(b"\0" * 1024)
    code, report, _ = scanned(capsys, "bundle.tar", "--type", "image.tar.gz=image")
    assert code == 1
    messages = {e["file"]: e["message"] for e in report["errors"]}
    assert "not a tar archive" in messages["bundle.tar"]
    code, report, _ = scanned(capsys, "image.tar.gz", "--type", "image.tar.gz=image")
    assert code == 1 and "gzip-compressed" in report["errors"][0]["message"]


def fake_docker(folder: Path, script: str) -> Path:
    folder.mkdir(exist_ok=True)
    docker = folder / "docker"
    docker.write_text("#!/bin/sh\n" + script)
    docker.chmod(docker.stat().st_mode | stat.S_IXUSR)
    return docker


@pytest.fixture
def docker_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `docker` that records its arguments and prints `docker image inspect` output."""
    (tmp_path / "inspect.json").write_text(CLASSIC_INSPECT)
    fake_docker(
        tmp_path / "bin",
        f'printf "%s\\n" "$@" > "{tmp_path}/args"\ncat "{tmp_path}/inspect.json"\n',
    )
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}/usr/bin:/bin")
    monkeypatch.delenv("PIPEGUARD_DOCKER", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_image_option_inspects_a_local_image(
    docker_on_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report, _ = scanned(capsys, "--image", "registry.example.com:5000/shop/api:1.4.2")
    assert code == 1
    args = (docker_on_path / "args").read_text().split("\n")
    assert args[:4] == ["image", "inspect", "--", "registry.example.com:5000/shop/api:1.4.2"]
    path = "registry.example.com:5000/shop/api.image.json"
    assert report["scanned"] == 1 and {f["file"] for f in report["findings"]} == {path}
    found = {(f["rule_id"], f["line"]) for f in report["findings"] if f["file"] == path}
    assert {("IMG-USER-001", 23), ("IMG-PORT-001", 28)} <= found


def test_image_option_beside_paths(
    docker_on_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (docker_on_path / "Dockerfile").write_text("FROM alpine:3.20\n")
    code, report, _ = scanned(capsys, "Dockerfile", "--image", "shop/api")
    assert code == 1
    assert report["scanned"] == 2
    assert {f["file"] for f in report["findings"]} == {"Dockerfile", "shop/api.image.json"}
    code, _, err = scanned(capsys, "--image", "shop/api:1", "--image", "shop/api:2")
    assert code == 2 and "shop/api.image.json" in err


def test_no_docker_on_path_is_a_setup_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("PIPEGUARD_DOCKER", raising=False)
    code, report, err = scanned(capsys, "--image", "shop/api:1.0")
    assert code == 2 and report == {}
    assert "needs the docker CLI, and none is on PATH" in err
    assert "docker image inspect shop/api:1.0 > image.image.json" in err


@pytest.mark.parametrize(
    ("stderr", "hint"),
    [
        ("Error: No such image: shop/api:9.9", "docker pull shop/api:9.9"),
        (
            "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
            "Is the docker daemon running?",
            "start the docker daemon",
        ),
    ],
)
def test_docker_failures_are_setup_errors(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    stderr: str,
    hint: str,
) -> None:
    fake_docker(tmp_path / "bin", f'echo "[]"\necho "{stderr}" >&2\nexit 1\n')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}/usr/bin:/bin")
    code, _, err = scanned(capsys, "--image", "shop/api:9.9")
    assert code == 2
    assert stderr in err and hint in err


def test_docker_replacement_by_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "inspect.json").write_text(HARDENED)
    podman = fake_docker(tmp_path / "bin", f'cat "{tmp_path}/inspect.json"\n')
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("PIPEGUARD_DOCKER", str(podman))
    code, report, _ = scanned(capsys, "--image", "registry.example.com/shop/api:1.4.2")
    assert code == 0 and report["findings"] == []


@pytest.mark.parametrize("name", ["-rf", "shop api", "", "a" * 600, "x;rm -rf /"])
def test_bad_image_names_are_usage_errors(
    docker_on_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    code, _, err = scanned(capsys, f"--image={name}")
    assert code == 2 and "not an image reference" in err
    assert not (docker_on_path / "args").exists()


def test_nothing_to_scan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = scanned(capsys)
    assert code == 2 and "give at least one PATH or --image NAME" in err


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("alpine", "alpine.image.json"),
        ("shop/api:1.2", "shop/api.image.json"),
        ("localhost:5000/shop/api", "localhost:5000/shop/api.image.json"),
        ("ghcr.io/acme/api:v1@sha256:" + "a" * 64, "ghcr.io/acme/api.image.json"),
    ],
)
def test_artifact_path_drops_tag_and_digest(name: str, path: str) -> None:
    assert artifact_path(name) == path
