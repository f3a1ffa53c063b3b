"""Image archives (OCI layout, `docker save`): read safely, reduced to a summary the image
parser reads; hostile archives are refused with a reason."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from chalicelib.engine.runner import evaluate
from chalicelib.kinds import ArtifactType
from chalicelib.parsers import ParseError, image_archive, parse
from chalicelib.parsers.image_archive import summarize

CONFIG = {
    "architecture": "amd64",
    "os": "linux",
    "created": "2025-04-01T10:00:00Z",
    "config": {
        "User": "",
        "ExposedPorts": {"22/tcp": {}},
        "Env": ["PATH=/usr/bin:/bin", "API_TOKEN=tok_5f4e3d2c1b0a"],
        "Cmd": ["/bin/sh", "-c", "python app.py"],
    },
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "1" * 64]},
    "history": [
        {"created": "2025-04-01T10:00:00Z", "created_by": "ADD rootfs.tar / # buildkit"},
        {
            "created": "2025-04-01T10:00:00Z",
            "created_by": "RUN /bin/sh -c curl -fsSL https://get.example.com | sh # buildkit",
        },
    ],
}
LAYER = b"layer bytes " * 100


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


class Tar:
    """A tar archive built in memory, member by member."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()
        self.tar = tarfile.open(fileobj=self.buffer, mode="w", format=tarfile.PAX_FORMAT)  # noqa: SIM115 - closed by write()

    def add(self, name: str, data: bytes) -> Tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        self.tar.addfile(info, io.BytesIO(data))
        return self

    def link(self, name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> Tar:
        info = tarfile.TarInfo(name)
        info.type, info.linkname = kind, target
        self.tar.addfile(info)
        return self

    def blob(self, data: bytes) -> str:
        digest = _digest(data)
        self.add("blobs/sha256/" + digest.split(":")[1], data)
        return digest

    def write(self, path: Path) -> Path:
        self.tar.close()
        path.write_bytes(self.buffer.getvalue())
        return path


def oci_layout(tmp_path: Path, multi_platform: bool = True, name: str | None = None) -> Path:
    tar = Tar()
    config = _json(CONFIG)
    manifest = _json(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": tar.blob(config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": tar.blob(LAYER),
                    "size": len(LAYER),
                }
            ],
        }
    )
    arm_config = _json({**CONFIG, "architecture": "arm64", "config": {"User": "app"}})
    arm = _json({"schemaVersion": 2, "config": {"digest": tar.blob(arm_config)}, "layers": []})
    amd = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": tar.blob(manifest)}
    top = amd
    if multi_platform:
        attestation = tar.blob(_json({"schemaVersion": 2, "layers": []}))
        index = _json(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "manifests": [
                    {
                        **amd,
                        "digest": tar.blob(arm),
                        "platform": {"os": "linux", "architecture": "arm64"},
                    },  # noqa: E501
                    {**amd, "platform": {"os": "linux", "architecture": "amd64"}},
                    {
                        "digest": attestation,
                        "platform": {"os": "unknown", "architecture": "unknown"},
                        "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
                    },
                ],
            }
        )
        top = {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": tar.blob(index)}
    if name:
        top["annotations"] = {
            "io.containerd.image.name": name,
            "org.opencontainers.image.ref.name": "1.0",
        }  # noqa: E501
    tar.add("oci-layout", _json({"imageLayoutVersion": "1.0.0"}))
    tar.add("index.json", _json({"schemaVersion": 2, "manifests": [top]}))
    return tar.write(tmp_path / "image.tar")


def docker_save(tmp_path: Path, entries: int = 1, config_path: str | None = None) -> Path:
    tar = Tar()
    tar.add("3c9d2e/layer.tar", LAYER)
    config = _json(CONFIG)
    config_name = config_path or tar.blob(config).replace("sha256:", "blobs/sha256/")
    entry = {
        "Config": config_name,
        "RepoTags": ["shop/api:latest"],
        "Layers": ["3c9d2e/layer.tar"],
    }
    tar.add("manifest.json", _json([entry] * entries))
    tar.add("repositories", _json({"shop/api": {"latest": "3c9d2e"}}))
    return tar.write(tmp_path / "saved.tar")


def test_multi_platform_oci_layout_reads_linux_amd64(tmp_path: Path) -> None:
    summary = json.loads(summarize(oci_layout(tmp_path, name="registry.example.com/shop/api:1.0")))
    assert summary["pipeguard_image_archive"] == {"format": "oci-layout", "platform": "linux/amd64"}
    assert summary["config"] == CONFIG
    assert summary["references"] == ["registry.example.com/shop/api:1.0"]
    [digest] = summary["digests"]
    assert digest.startswith("registry.example.com/shop/api@sha256:")
    assert summary["size"] == len(LAYER)


def test_summary_is_an_image_artifact_with_findings(tmp_path: Path) -> None:
    text = summarize(oci_layout(tmp_path))
    image = parse(ArtifactType.IMAGE, text)
    assert image.source == "oci-layout" and image.user == "" and image.size == len(LAYER)
    assert image.digests and image.tags == []
    report = evaluate(ArtifactType.IMAGE, text, "image.tar")
    assert report.error is None
    lines = text.splitlines()
    found = {f.rule_id: f for f in report.findings}
    assert {"IMG-USER-001", "IMG-PORT-001", "IMG-SECRET-001", "IMG-HIST-001"} <= set(found)
    assert "IMG-REF-002" not in found  # the layout gives the manifest digest
    assert '"22/tcp"' in lines[found["IMG-PORT-001"].line - 1]
    assert "API_TOKEN" in lines[found["IMG-SECRET-001"].line - 1]
    assert "curl" in lines[found["IMG-HIST-001"].line - 1]


def test_single_manifest_layout(tmp_path: Path) -> None:
    summary = json.loads(summarize(oci_layout(tmp_path, multi_platform=False)))
    assert summary["pipeguard_image_archive"] == {"format": "oci-layout"}
    assert summary["config"]["config"]["User"] == ""


def test_docker_save_archive(tmp_path: Path) -> None:
    text = summarize(docker_save(tmp_path))
    summary = json.loads(text)
    assert summary["pipeguard_image_archive"] == {"format": "docker-archive"}
    assert summary["references"] == ["shop/api:latest"] and summary["digests"] == []
    assert summary["size"] == len(LAYER) and summary["config"] == CONFIG
    rules = {f.rule_id for f in evaluate(ArtifactType.IMAGE, text, "saved.tar").findings}
    assert {"IMG-REF-001", "IMG-REF-002", "IMG-EXEC-001"} <= rules


def test_legacy_docker_save_config_name(tmp_path: Path) -> None:
    tar = Tar().add("abc.json", _json(CONFIG)).add("l/layer.tar", LAYER)
    tar.add(
        "manifest.json", _json([{"Config": "abc.json", "RepoTags": [], "Layers": ["l/layer.tar"]}])
    )  # noqa: E501
    assert json.loads(summarize(tar.write(tmp_path / "a.tar")))["config"] == CONFIG


def test_links_inside_the_archive_are_followed(tmp_path: Path) -> None:
    tar = Tar().add("real/config.json", _json(CONFIG)).link("config.json", "real/config.json")
    tar.add("l/layer.tar", LAYER).link("m/layer.tar", "l/layer.tar", tarfile.LNKTYPE)
    tar.add("manifest.json", _json([{"Config": "config.json", "Layers": ["m/layer.tar"]}]))
    summary = json.loads(summarize(tar.write(tmp_path / "a.tar")))
    assert summary["config"] == CONFIG and summary["size"] == len(LAYER)


def test_only_metadata_members_are_read_and_nothing_is_extracted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    read: list[str] = []
    real = tarfile.TarFile.extractfile

    def recording(self: tarfile.TarFile, member: Any) -> Any:
        read.append(member.name)
        return real(self, member)

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("an archive member was extracted to disk")

    monkeypatch.setattr(tarfile.TarFile, "extractfile", recording)
    monkeypatch.setattr(tarfile.TarFile, "extract", refuse)
    monkeypatch.setattr(tarfile.TarFile, "extractall", refuse)
    before = set(tmp_path.iterdir())
    summarize(oci_layout(tmp_path))
    assert set(tmp_path.iterdir()) - before == {tmp_path / "image.tar"}
    assert read[0] == "index.json" and len(read) == 4  # index.json, index, manifest, config
    layer = _digest(LAYER).split(":")[1]
    assert all(layer not in name for name in read)


def _refused(path: Path, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        summarize(path)


def test_traversal_in_a_config_reference_is_refused(tmp_path: Path) -> None:
    _refused(docker_save(tmp_path, config_path="../../etc/passwd"), "outside the archive")
    _refused(docker_save(tmp_path, config_path="/etc/passwd"), "outside the archive")


def test_traversal_in_a_blob_digest_is_refused(tmp_path: Path) -> None:
    tar = Tar().add("oci-layout", b"{}")
    tar.add("index.json", _json({"manifests": [{"digest": "sha256:../../../etc/passwd"}]}))
    _refused(tar.write(tmp_path / "a.tar"), "outside the archive")


def test_a_link_out_of_the_archive_is_refused(tmp_path: Path) -> None:
    tar = Tar().link("config.json", "../../../etc/passwd")
    tar.add("manifest.json", _json([{"Config": "config.json", "Layers": []}]))
    _refused(tar.write(tmp_path / "a.tar"), "links outside the archive")
    tar = Tar().link("config.json", "/etc/passwd")
    tar.add("manifest.json", _json([{"Config": "config.json", "Layers": []}]))
    _refused(tar.write(tmp_path / "b.tar"), "links outside the archive")


def test_member_names_that_leave_the_archive_are_ignored(tmp_path: Path) -> None:
    tar = Tar().add("../manifest.json", _json([{"Config": "c.json"}])).add("/index.json", b"{}")
    _refused(tar.write(tmp_path / "a.tar"), "no manifest.json or index.json")


def test_oversized_metadata_member_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(image_archive, "MAX_MEMBER_BYTES", 1024)
    tar = Tar().add("big.json", b" " * 2048 + _json(CONFIG))
    tar.add("manifest.json", _json([{"Config": "big.json", "Layers": []}]))
    _refused(tar.write(tmp_path / "a.tar"), "more than 1024: refused")


def test_too_many_members_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(image_archive, "MAX_MEMBERS", 10)
    tar = Tar()
    for index in range(11):
        tar.add(f"f{index}", b"")
    _refused(tar.write(tmp_path / "a.tar"), "more than 10 entries")


def test_several_images_are_refused(tmp_path: Path) -> None:
    _refused(docker_save(tmp_path, entries=2), "holds 2 images")
    tar = Tar().add("oci-layout", b"{}")
    tar.add("index.json", _json({"manifests": [{"digest": "sha256:1"}, {"digest": "sha256:2"}]}))
    _refused(tar.write(tmp_path / "b.tar"), "holds 2 images")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (gzip.compress(b"x" * 1000, mtime=0), "gzip-compressed"),
        (b"\x28\xb5\x2f\xfd" + b"\x00" * 600, "zstd-compressed"),
        (b"not a tar at all" * 64, "not a tar archive"),
        (b"", "not a tar archive"),
    ],
)
def test_compressed_or_foreign_files_are_refused(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "x.tar"
    path.write_bytes(data)
    _refused(path, message)


def test_truncated_and_damaged_archives_are_refused(tmp_path: Path) -> None:
    whole = docker_save(tmp_path).read_bytes()
    for cut in (600, 2600, 3000, 4150):  # in a layer, the config, a header, the manifest
        path = tmp_path / f"cut{cut}.tar"
        path.write_bytes(whole[:cut])
        with pytest.raises(ParseError):
            summarize(path)
    damaged = bytearray(whole)
    damaged[148:156] = b"garbage!"  # the first header's checksum
    path = tmp_path / "damaged.tar"
    path.write_bytes(bytes(damaged))
    _refused(path, "damaged or not a tar file")


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"manifest.json": b"not json"}, "not valid JSON"),
        ({"manifest.json": b"{}"}, "lists no image"),
        ({"manifest.json": b'[{"Layers": []}]'}, "names no config"),
        ({"manifest.json": b'[{"Config": "missing.json"}]'}, "is not in the archive"),
        ({"manifest.json": b'[{"Config": "c.json"}]', "c.json": b"[1]"}, "not a JSON object"),
        ({"index.json": b'{"manifests": []}'}, "lists no image"),
        ({"index.json": b'{"manifests": [{"size": 3}]}'}, "has no digest"),
        ({"README": b"hello"}, "no manifest.json or index.json"),
    ],
)
def test_broken_metadata_is_refused(tmp_path: Path, members: dict, message: str) -> None:
    tar = Tar()
    for name, data in members.items():
        tar.add(name, data)
    _refused(tar.write(tmp_path / "a.tar"), message)


def test_missing_file(tmp_path: Path) -> None:
    _refused(tmp_path / "nope.tar", "cannot be read")
