"""Image archives (an OCI image layout or a `docker save` tarball) reduced to a JSON summary.

The API takes text, so an archive is never sent: the collector reads its index and manifests,
takes the config blob, and sends the summary (`summarize`) as an `image` artifact, which
`chalicelib.parsers.image` reads. Only metadata members are read, from the tar headers on:
nothing is extracted to disk, each member read is at most `MAX_MEMBER_BYTES`, an archive of
more than `MAX_MEMBERS` entries is refused, and a member or blob reference that is absolute or
climbs out of the archive (`..`) is refused. Compressed tarballs are refused with a hint
(decompress them first): walking them would mean inflating every layer.

Which image: an OCI layout whose index names several images is refused (save one image per
archive); a multi-platform index is resolved to linux/amd64, else to its first platform that
is not an attestation. `docker save` archives (with `manifest.json`) keep their `RepoTags` but
no registry digest; an OCI layout gives the digest of its manifest (or index).
"""

from __future__ import annotations

import json
import posixpath
import tarfile
from os import PathLike
from typing import IO, Any

from chalicelib.parsers import ParseError
from chalicelib.parsers.image import ARCHIVE_KEY

__all__ = ["MAX_MEMBERS", "MAX_MEMBER_BYTES", "is_archive", "summarize"]

MAX_MEMBER_BYTES = 4 * 1024 * 1024
MAX_MEMBERS = 100_000
MAX_INDEX_DEPTH = 4
_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"\xfd7zXZ\x00": "xz",
    b"BZh": "bzip2",
}
_INDEX_TYPES = frozenset(
    {
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    }
)
_REF_NAME = "org.opencontainers.image.ref.name"
_IMAGE_NAME = "io.containerd.image.name"


def is_archive(head: bytes) -> bool:
    """Whether the first 512 bytes are a tar header (POSIX `ustar` or GNU magic)."""
    return len(head) >= 262 and head[257:262] == b"ustar"


def summarize(source: str | PathLike[str] | IO[bytes]) -> str:
    """The JSON summary of an image archive; raises `ParseError` saying what is wrong."""
    if isinstance(source, str | PathLike):
        try:
            with open(source, "rb") as handle:
                return _summarize(handle)
        except OSError as exc:
            raise ParseError(f"the archive cannot be read: {exc.strerror or exc}") from exc
    return _summarize(source)


def _summarize(handle: IO[bytes]) -> str:
    head = handle.read(512)
    handle.seek(0)
    for magic, name in _MAGIC.items():
        if head.startswith(magic):
            raise ParseError(
                f"the archive is {name}-compressed: decompress it first (`docker save IMAGE "
                "-o image.tar` writes an uncompressed one)"
            )
    if not is_archive(head):
        raise ParseError("not a tar archive (no ustar header)")
    try:
        with tarfile.open(fileobj=handle, mode="r:") as tar:
            return json.dumps(_Archive(tar).summary(), indent=2) + "\n"
    except ParseError:
        raise
    except (tarfile.TarError, EOFError, OSError, ValueError, UnicodeError) as exc:
        raise ParseError(f"the archive is damaged or not a tar file: {exc}") from exc


class _Archive:
    def __init__(self, tar: tarfile.TarFile) -> None:
        self.tar = tar
        self.members: dict[str, tarfile.TarInfo] = {}
        for count, member in enumerate(tar, 1):  # headers only: data is skipped by seeking
            if count > MAX_MEMBERS:
                raise ParseError(f"the archive has more than {MAX_MEMBERS} entries")
            name = _clean(member.name)
            if name is not None and (member.isfile() or member.issym() or member.islnk()):
                self.members[name] = member

    def summary(self) -> dict[str, Any]:
        if "manifest.json" in self.members:
            return self._docker()
        if "index.json" in self.members:
            return self._oci()
        raise ParseError(
            "no manifest.json or index.json at the top of the archive: this is not an OCI "
            "image layout or `docker save` archive"
        )

    def member(self, name: str, what: str) -> tarfile.TarInfo:
        clean = _clean(name)
        if clean is None:
            raise ParseError(f"{what} {name!r} points outside the archive: refused")
        member = self.members.get(clean)
        for _ in range(8):  # links inside the archive, a few hops at most
            if member is None or not (member.issym() or member.islnk()):
                break
            base = posixpath.dirname(clean) if member.issym() else ""
            target = _clean(posixpath.join(base, member.linkname))
            if target is None:
                raise ParseError(f"{what} {name!r} links outside the archive: refused")
            clean, member = target, self.members.get(target)
        if member is None or not member.isfile():
            raise ParseError(f"{what} {name!r} is not in the archive")
        return member

    def read_json(self, name: str, what: str) -> Any:
        member = self.member(name, what)
        if member.size > MAX_MEMBER_BYTES:
            raise ParseError(
                f"{what} {name!r} is {member.size} bytes, more than {MAX_MEMBER_BYTES}: refused"
            )
        extracted = self.tar.extractfile(member)
        if extracted is None:
            raise ParseError(f"{what} {name!r} cannot be read")
        data = extracted.read(MAX_MEMBER_BYTES + 1)
        try:
            return json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise ParseError(f"{what} {name!r} is not valid JSON: {exc}") from exc

    def blob(self, descriptor: Any, what: str) -> Any:
        digest = descriptor.get("digest") if isinstance(descriptor, dict) else None
        if not isinstance(digest, str) or ":" not in digest:
            raise ParseError(f"{what} has no digest")
        algorithm, _, encoded = digest.partition(":")
        return self.read_json(f"blobs/{algorithm}/{encoded}", what)

    def _docker(self) -> dict[str, Any]:
        manifest = self.read_json("manifest.json", "manifest.json")
        if not isinstance(manifest, list) or not manifest:
            raise ParseError("manifest.json lists no image")
        if len(manifest) > 1:
            raise ParseError(
                f"the archive holds {len(manifest)} images: save one image per archive "
                "(`docker save IMAGE -o image.tar`)"
            )
        entry = manifest[0]
        if not isinstance(entry, dict) or not isinstance(entry.get("Config"), str):
            raise ParseError("manifest.json names no config for its image")
        config = self.read_json(entry["Config"], "the config")
        tags = [tag for tag in entry.get("RepoTags") or [] if isinstance(tag, str)]
        size = 0
        for layer in entry.get("Layers") or []:
            if isinstance(layer, str):
                size += self.member(layer, "the layer").size
        return _summary("docker-archive", tags, [], size, None, entry, config)

    def _oci(self) -> dict[str, Any]:
        index = self.read_json("index.json", "index.json")
        manifests = index.get("manifests") if isinstance(index, dict) else None
        if not isinstance(manifests, list) or not manifests:
            raise ParseError("index.json lists no image")
        images = [m for m in manifests if isinstance(m, dict) and not _is_attestation(m)]
        if len(images) > 1 and not all(_platform(m) for m in images):
            names = [_name(m) or str(m.get("digest")) for m in images]
            raise ParseError(
                f"the layout holds {len(images)} images ({', '.join(names[:5])}): "
                "save one image per archive"
            )
        if not images:
            raise ParseError("index.json lists no image manifest")
        top = _pick(images)
        name = _name(top)
        descriptor, platform = top, _platform(top)
        for _ in range(MAX_INDEX_DEPTH):
            document = self.blob(descriptor, "the manifest")
            if not isinstance(document, dict):
                raise ParseError("a manifest in the layout is not a JSON object")
            inner = document.get("manifests")
            if not isinstance(inner, list):
                manifest = document
                break
            usable = [m for m in inner if isinstance(m, dict) and not _is_attestation(m)]
            if not usable:
                raise ParseError("the image index lists no image manifest")
            descriptor = _pick(usable)
            platform = _platform(descriptor) or platform
        else:
            raise ParseError(f"image indexes nested more than {MAX_INDEX_DEPTH} deep")
        config = self.blob(manifest.get("config"), "the config")
        size = sum(
            layer["size"]
            for layer in manifest.get("layers") or []
            if isinstance(layer, dict) and isinstance(layer.get("size"), int)
        )
        digest = top.get("digest") if isinstance(top.get("digest"), str) else None
        digests = [f"{_repository(name)}@{digest}" if name else digest] if digest else []
        tags = [name] if name else []
        return _summary("oci-layout", tags, digests, size, platform, manifest, config)


def _summary(
    kind: str,
    tags: list[str],
    digests: list[str],
    size: int,
    platform: str | None,
    manifest: Any,
    config: Any,
) -> dict[str, Any]:
    if not isinstance(config, dict):
        raise ParseError("the config blob is not a JSON object")
    return {
        ARCHIVE_KEY: {"format": kind, **({"platform": platform} if platform else {})},
        "references": tags,
        "digests": digests,
        "size": size,
        "manifest": manifest,
        "config": config,
    }


def _clean(name: str) -> str | None:
    """A member name relative to the archive's top, or None if it would leave the archive."""
    if not name or name.startswith("/") or "\\" in name:
        return None
    normal = posixpath.normpath(name)
    if normal == ".." or normal.startswith("../"):
        return None
    return normal


def _is_attestation(descriptor: dict[str, Any]) -> bool:
    annotations = descriptor.get("annotations")
    if isinstance(annotations, dict) and "vnd.docker.reference.type" in annotations:
        return True
    return _platform(descriptor) == "unknown/unknown"


def _platform(descriptor: dict[str, Any]) -> str | None:
    platform = descriptor.get("platform")
    if not isinstance(platform, dict):
        return None
    os_name, arch = platform.get("os"), platform.get("architecture")
    if not isinstance(os_name, str) or not isinstance(arch, str):
        return None
    variant = platform.get("variant")
    return f"{os_name}/{arch}" + (f"/{variant}" if isinstance(variant, str) and variant else "")


def _pick(descriptors: list[dict[str, Any]]) -> dict[str, Any]:
    """linux/amd64 when there is one, else the first."""
    for descriptor in descriptors:
        if _platform(descriptor) == "linux/amd64":
            return descriptor
    return descriptors[0]


def _name(descriptor: dict[str, Any]) -> str | None:
    annotations = descriptor.get("annotations")
    if not isinstance(annotations, dict):
        return None
    for key in (_IMAGE_NAME, _REF_NAME):
        value = annotations.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _repository(reference: str) -> str:
    """`registry:5000/app:1.2` -> `registry:5000/app`."""
    name = reference.split("@", 1)[0]
    slash, colon = name.rfind("/"), name.rfind(":")
    return name[:colon] if colon > slash else name
