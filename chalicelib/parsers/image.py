"""Container image metadata: what an image will run as, expose, mount and carry.

Accepted documents (JSON text):
- `docker image inspect IMAGE` / `podman image inspect IMAGE`: a list holding one image (or the
  object alone, as `--format '{{json .}}'` prints it), with `Config`, `RepoTags`,
  `RepoDigests`, `Created`, `Size` (podman adds `History`);
- an OCI image configuration (`crane config`, `skopeo inspect --config`, a config blob):
  `config`, `created`, `history`, `rootfs`, `architecture`, `os`;
- the summary of an image archive (an OCI image layout or `docker save` tarball) that
  `chalicelib.parsers.image_archive` writes: the archive's references, manifest digest, layer
  size and config blob.

Every value keeps the line of its key (`chalicelib.parsers.json_lines`), so findings point at
the offending key. Fields of the wrong type are treated as absent, never as a crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chalicelib.parsers import ParseError
from chalicelib.parsers.json_lines import JsonArray, JsonObject, line_of, loads

__all__ = [
    "ARCHIVE_KEY",
    "MAX_HISTORY",
    "EnvVar",
    "Image",
    "Port",
    "Step",
    "parse",
]

ARCHIVE_KEY = "pipeguard_image_archive"
"""The top-level key that marks an archive summary (its value says which kind of archive)."""
MAX_HISTORY = 2000
_CONTAINER_KEYS = ("State", "HostConfig", "Mounts")


@dataclass(frozen=True)
class EnvVar:
    name: str
    value: str
    line: int | None


@dataclass(frozen=True)
class Port:
    """An exposed port (`8080/tcp`, `5900-5905/udp`): its spec, range and protocol."""

    spec: str
    low: int
    high: int
    protocol: str
    line: int | None

    def opens(self, ports: frozenset[int]) -> bool:
        return any(self.low <= port <= self.high for port in ports)


@dataclass(frozen=True)
class Step:
    """One history entry: the instruction that made a layer (or changed only the config)."""

    index: int
    created_by: str
    created: datetime | None
    empty_layer: bool
    line: int | None
    created_line: int | None = None


@dataclass
class Image:
    """One image: its runtime config (`config`, Docker/OCI key names) and what is known of it.

    `source` is `docker-inspect`, `oci-config` or the archive kind (`oci-layout`,
    `docker-archive`). `tags` and `digests` are the references it is known by, with lines.
    """

    source: str
    config: JsonObject
    config_line: int | None
    raw: JsonObject
    tags: list[tuple[str, int | None]] = field(default_factory=list)
    digests: list[tuple[str, int | None]] = field(default_factory=list)
    references_line: int | None = None
    """The line of the key listing the image's references (`RepoDigests`, `digests`)."""
    created: datetime | None = None
    created_line: int | None = None
    size: int | None = None
    size_line: int | None = None
    history: list[Step] = field(default_factory=list)
    os: str | None = None
    architecture: str | None = None

    @property
    def name(self) -> str | None:
        """The first reference the image is known by, for messages."""
        if self.tags:
            return self.tags[0][0]
        return self.digests[0][0] if self.digests else None

    def line(self, key: str) -> int | None:
        """The line of a config key, else of the config itself."""
        return line_of(self.config, key, self.config_line)

    def text(self, key: str) -> str | None:
        value = self.config.get(key)
        return value if isinstance(value, str) else None

    def argv(self, key: str) -> list[str] | None:
        """`Entrypoint` or `Cmd` as a list of strings; None when unset or empty."""
        value = self.config.get(key)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            return None
        return [item if isinstance(item, str) else str(item) for item in value]

    @property
    def user(self) -> str:
        return (self.text("User") or "").strip()

    @property
    def env(self) -> list[EnvVar]:
        found = self.config.get("Env")
        if not isinstance(found, list):
            return []
        out = []
        for index, item in enumerate(found):
            if isinstance(item, str):
                name, _, value = item.partition("=")
                out.append(EnvVar(name, value, line_of(found, index, self.line("Env"))))
        return out

    def mapping(self, key: str) -> JsonObject:
        value = self.config.get(key)
        return value if isinstance(value, JsonObject) else JsonObject()

    @property
    def labels(self) -> JsonObject:
        return self.mapping("Labels")

    @property
    def exposed_ports(self) -> list[Port]:
        ports = self.mapping("ExposedPorts")
        out = []
        for spec in ports:
            number, _, protocol = spec.partition("/")
            low, _, high = number.partition("-")
            if low.isdigit() and (not high or high.isdigit()):
                line = line_of(ports, spec, self.line("ExposedPorts"))
                first = int(low)
                out.append(Port(spec, first, int(high) if high else first, protocol or "tcp", line))
        return out

    @property
    def volumes(self) -> list[tuple[str, int | None]]:
        found = self.config.get("Volumes")
        if isinstance(found, JsonObject):
            return [(path, line_of(found, path, self.line("Volumes"))) for path in found]
        if isinstance(found, list):  # some tools write a list of paths
            default = self.line("Volumes")
            return [
                (path, line_of(found, index, default))
                for index, path in enumerate(found)
                if isinstance(path, str)
            ]
        return []

    @property
    def healthcheck(self) -> JsonObject | None:
        value = self.config.get("Healthcheck")
        return value if isinstance(value, JsonObject) else None

    def as_item(self) -> dict[str, Any]:
        """The fields custom rules see (`Config.User`, `RepoTags`, `Env.NAME` ...)."""
        env = JsonObject()
        for var in self.env:
            env[var.name] = var.value
            if var.line is not None:
                env.lines[var.name] = var.line
        item = JsonObject(
            Source=self.source,
            Config=self.config,
            RepoTags=[tag for tag, _ in self.tags],
            RepoDigests=[digest for digest, _ in self.digests],
            Created=self.created.isoformat() if self.created else None,
            Size=self.size,
            Os=self.os,
            Architecture=self.architecture,
            Env=env,
            History=[step.created_by for step in self.history],
        )
        for key, line in (
            ("Config", self.config_line),
            ("Env", self.line("Env")),
            ("Created", self.created_line),
            ("Size", self.size_line),
            ("RepoTags", self.tags[0][1] if self.tags else None),
            ("RepoDigests", self.digests[0][1] if self.digests else None),
        ):
            if line is not None:
                item.lines[key] = line
        return item


def parse(text: str) -> Image:
    """Parse image metadata; anything unreadable raises `ParseError` (never another error)."""
    try:
        return _build(loads(text, "JSON"))
    except ParseError:
        raise
    except RecursionError as exc:
        raise ParseError("the document is nested too deeply to read") from exc
    except Exception as exc:  # defensive: a parser must only ever raise ParseError
        raise ParseError(f"the image metadata could not be read: {exc}") from exc


def _build(data: Any) -> Image:
    if isinstance(data, list):
        if not data:
            raise ParseError(
                "the list is empty: `docker image inspect` found no image (is the name right?)"
            )
        if len(data) > 1:
            raise ParseError(
                f"the list holds {len(data)} objects: inspect one image per file "
                "(`docker image inspect NAME > NAME.image.json`)"
            )
        item = data[0]
        if not isinstance(item, JsonObject):
            raise ParseError("the list holds no object: this is not `docker image inspect` output")
        return _inspect(item)
    if not isinstance(data, JsonObject):
        raise ParseError(f"the document is a {type(data).__name__}, not image metadata")
    if isinstance(data.get(ARCHIVE_KEY), JsonObject):
        return _archive(data)
    if "Config" in data or "RepoTags" in data or "RootFS" in data:
        return _inspect(data)
    if "config" in data or "rootfs" in data or "history" in data:
        return _oci_config(data, "oci-config")
    raise ParseError(_not_an_image(data))


def _not_an_image(data: JsonObject) -> str:
    if "schemaVersion" in data and ("layers" in data or "manifests" in data):
        return (
            "this is an image manifest or index, not the image configuration: use "
            "`crane config IMAGE` or `skopeo inspect --config docker://IMAGE`"
        )
    if "Name" in data and "Layers" in data:
        return (
            "this is `skopeo inspect` output, which lacks the runtime configuration (user, "
            "ports, command): use `skopeo inspect --config docker://IMAGE`"
        )
    return (
        "not image metadata: expected `docker image inspect` output (Config, RepoTags), an "
        "OCI image configuration (config, rootfs, history) or an image archive summary"
    )


def _inspect(item: JsonObject) -> Image:
    if any(key in item for key in _CONTAINER_KEYS):
        raise ParseError(
            "this is `docker inspect` of a container, not of an image: use "
            "`docker image inspect IMAGE`"
        )
    config = item.get("Config")
    image = Image(
        source="docker-inspect",
        config=config if isinstance(config, JsonObject) else JsonObject(),
        config_line=item.lines.get("Config"),
        raw=item,
        tags=_strings(item, "RepoTags"),
        digests=_strings(item, "RepoDigests"),
        references_line=item.lines.get("RepoDigests", item.lines.get("RepoTags")),
        os=_str(item.get("Os")),
        architecture=_str(item.get("Architecture")),
    )
    image.created, image.created_line = _time(item, "Created")
    size = item.get("Size")
    if _is_int(size):
        image.size, image.size_line = size, item.lines.get("Size")
    image.history = _history(item, "History")  # podman's inspect carries it
    return image


def _oci_config(blob: JsonObject, source: str) -> Image:
    config = blob.get("config")
    image = Image(
        source=source,
        config=config if isinstance(config, JsonObject) else JsonObject(),
        config_line=blob.lines.get("config"),
        raw=blob,
        os=_str(blob.get("os")),
        architecture=_str(blob.get("architecture")),
    )
    image.created, image.created_line = _time(blob, "created")
    image.history = _history(blob, "history")
    return image


def _archive(summary: JsonObject) -> Image:
    kind = summary[ARCHIVE_KEY].get("format")
    blob = summary.get("config")
    if not isinstance(blob, JsonObject):
        raise ParseError("the image archive summary has no config object")
    image = _oci_config(blob, kind if isinstance(kind, str) else "image-archive")
    image.tags = _strings(summary, "references")
    image.digests = _strings(summary, "digests")
    image.references_line = summary.lines.get("digests", summary.lines.get("references"))
    size = summary.get("size")
    if _is_int(size):
        image.size, image.size_line = size, summary.lines.get("size")
    return image


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _strings(obj: JsonObject, key: str) -> list[tuple[str, int | None]]:
    values = obj.get(key)
    if not isinstance(values, list):
        return []
    default = obj.lines.get(key)
    return [
        (value, line_of(values, index, default))
        for index, value in enumerate(values)
        if isinstance(value, str) and value and value != "<none>:<none>"
    ]


def _time(obj: JsonObject, key: str) -> tuple[datetime | None, int | None]:
    value = obj.get(key)
    line = obj.lines.get(key)
    if not isinstance(value, str) or not value:
        return None, line
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None, line
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment, line


def _history(obj: JsonObject, key: str) -> list[Step]:
    entries = obj.get(key)
    if not isinstance(entries, JsonArray):
        return []
    if len(entries) > MAX_HISTORY:
        raise ParseError(
            f"line {obj.lines.get(key)}: the history has {len(entries)} entries, more than "
            f"{MAX_HISTORY}"
        )
    steps = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, JsonObject):
            continue
        created_by = entry.get("created_by")
        created, created_line = _time(entry, "created")
        steps.append(
            Step(
                index=index,
                created_by=created_by if isinstance(created_by, str) else "",
                created=created,
                empty_layer=entry.get("empty_layer") is True,
                line=entry.lines.get("created_by", line_of(entries, index)),
                created_line=created_line,
            )
        )
    return steps
