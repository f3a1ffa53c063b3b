"""Image metadata: every accepted shape, lines of keys, and bad input as a ParseError."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from chalicelib.engine.runner import evaluate
from chalicelib.kinds import ArtifactType
from chalicelib.parsers import ParseError, parse
from chalicelib.parsers.image import MAX_HISTORY, Image
from chalicelib.parsers.json_lines import JsonArray, JsonObject, loads

# `docker image inspect` of an image built by the classic builder (Docker 24), trimmed of
# nothing: the shape includes ContainerConfig, which Docker 25 dropped.
CLASSIC_INSPECT = """[
    {
        "Id": "sha256:2a4e1b0c9d8f7e6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a",
        "RepoTags": [
            "shop/api:latest"
        ],
        "RepoDigests": [],
        "Parent": "",
        "Comment": "",
        "Created": "2023-09-12T08:41:07.332118405Z",
        "Container": "5f1d6c1b4e9a",
        "ContainerConfig": {
            "Hostname": "5f1d6c1b4e9a",
            "User": "",
            "Cmd": ["/bin/sh", "-c", "#(nop) ", "CMD [\\"node\\" \\"server.js\\"]"],
            "Labels": {}
        },
        "DockerVersion": "24.0.5",
        "Author": "",
        "Config": {
            "Hostname": "",
            "Domainname": "",
            "User": "",
            "AttachStdin": false,
            "AttachStdout": false,
            "AttachStderr": false,
            "ExposedPorts": {
                "22/tcp": {},
                "3000/tcp": {}
            },
            "Tty": false,
            "OpenStdin": false,
            "StdinOnce": false,
            "Env": [
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "NODE_VERSION=20.5.1",
                "SESSION_SECRET=8c1f0e2d9b7a"
            ],
            "Cmd": [
                "node",
                "server.js"
            ],
            "Image": "sha256:0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c",
            "Volumes": null,
            "WorkingDir": "/srv",
            "Entrypoint": [
                "docker-entrypoint.sh"
            ],
            "OnBuild": null,
            "Labels": null
        },
        "Architecture": "amd64",
        "Os": "linux",
        "Size": 1094518923,
        "VirtualSize": 1094518923,
        "GraphDriver": {
            "Data": {
                "MergedDir": "/var/lib/docker/overlay2/8d1e/merged"
            },
            "Name": "overlay2"
        },
        "RootFS": {
            "Type": "layers",
            "Layers": [
                "sha256:7c3b88808835aa80f1ef7f03083c5ae781d0f44e644537cd72de4ce6c5e62e00"
            ]
        },
        "Metadata": {
            "LastTagTime": "2023-09-12T08:41:07.41250223Z"
        }
    }
]
"""

# `skopeo inspect --config docker://...` / `crane config`: an OCI image configuration
OCI_CONFIG = {
    "created": "2024-02-06T11:25:46.128914212Z",
    "architecture": "arm64",
    "variant": "v8",
    "os": "linux",
    "config": {
        "User": "65532",
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        "Entrypoint": ["/manager"],
        "WorkingDir": "/",
        "Labels": {"org.opencontainers.image.source": "https://github.com/acme/operator"},
    },
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "4" * 64]},
    "history": [
        {
            "created": "2024-01-11T00:00:00Z",
            "created_by": "bazel build ...",
            "comment": "distroless base",
        },
        {
            "created": "2024-02-06T11:25:46.128914212Z",
            "created_by": "COPY /workspace/manager . # buildkit",
            "comment": "buildkit.dockerfile.v0",
        },
        {
            "created": "2024-02-06T11:25:46.128914212Z",
            "created_by": "USER 65532:65532",
            "comment": "buildkit.dockerfile.v0",
            "empty_layer": True,
        },
    ],
}


def _image(text: str) -> Image:
    image = parse(ArtifactType.IMAGE, text)
    assert isinstance(image, Image)
    return image


def test_classic_docker_inspect_with_lines() -> None:
    image = _image(CLASSIC_INSPECT)
    assert image.source == "docker-inspect"
    assert image.tags == [("shop/api:latest", 5)]
    assert image.digests == [] and image.references_line == 7
    assert image.created == datetime(2023, 9, 12, 8, 41, 7, 332118, tzinfo=UTC)
    assert image.created_line == 10
    assert (image.size, image.size_line) == (1094518923, 54)
    assert image.user == "" and image.line("User") == 23
    assert [(p.spec, p.low, p.protocol, p.line) for p in image.exposed_ports] == [
        ("22/tcp", 22, "tcp", 28),
        ("3000/tcp", 3000, "tcp", 29),
    ]
    assert [(v.name, v.line) for v in image.env][2] == ("SESSION_SECRET", 37)
    assert image.argv("Cmd") == ["node", "server.js"]
    assert image.argv("Entrypoint") == ["docker-entrypoint.sh"]
    assert image.volumes == [] and image.labels == {} and image.healthcheck is None
    assert (image.os, image.architecture) == ("linux", "amd64")


def test_runtime_config_is_config_not_container_config() -> None:
    image = _image(CLASSIC_INSPECT)
    assert image.config_line == 20
    assert "Hostname" in image.config and image.argv("Cmd") == ["node", "server.js"]


def test_classic_inspect_gets_the_findings_it_deserves() -> None:
    report = evaluate(ArtifactType.IMAGE, CLASSIC_INSPECT, "api.image.json")
    assert report.error is None
    found = {(f.rule_id, f.resource, f.line) for f in report.findings}
    assert {
        ("IMG-USER-001", None, 23),
        ("IMG-PORT-001", "22/tcp", 28),
        ("IMG-SECRET-001", "SESSION_SECRET", 37),
        ("IMG-HEALTH-001", None, 20),
        ("IMG-REF-001", None, 5),
        ("IMG-REF-002", None, 7),
        ("IMG-SIZE-001", None, 54),
        ("IMG-AGE-001", None, 10),
        ("IMG-LABEL-001", None, 50),
    } <= found
    assert not {rule for rule, _, _ in found} & {"IMG-EXEC-001", "IMG-EXEC-002", "IMG-PORT-003"}


def test_bare_inspect_object_as_format_json_prints_it() -> None:
    item = json.loads(CLASSIC_INSPECT)[0]
    image = _image(json.dumps(item))
    assert image.source == "docker-inspect" and image.tags[0][0] == "shop/api:latest"


def test_oci_config_with_history() -> None:
    image = _image(json.dumps(OCI_CONFIG, indent=2))
    assert image.source == "oci-config"
    assert image.user == "65532" and image.argv("Entrypoint") == ["/manager"]
    assert (image.os, image.architecture) == ("linux", "arm64")
    assert [step.created_by.split()[0] for step in image.history] == ["bazel", "COPY", "USER"]
    assert image.history[2].empty_layer and not image.history[1].empty_layer
    assert image.history[0].created == datetime(2024, 1, 11, tzinfo=UTC)
    assert image.tags == [] and image.digests == [] and image.size is None


def test_podman_inspect_keeps_its_history() -> None:
    item = json.loads(CLASSIC_INSPECT)[0]
    item["History"] = OCI_CONFIG["history"]
    image = _image(json.dumps([item], indent=4))
    assert len(image.history) == 3 and image.history[1].line is not None


def test_compact_json_puts_everything_on_line_one() -> None:
    image = _image(json.dumps(OCI_CONFIG))
    assert image.line("User") == 1 and image.history[0].line == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[]", "found no image"),
        ("[{}, {}]", "inspect one image per file"),
        ("[1]", "holds no object"),
        ('"just a string"', "not image metadata"),
        ('{"Id": "x", "State": {"Running": true}, "Config": {}}', "of a container"),
        ('[{"Id": "x", "HostConfig": {}, "Config": {}}]', "of a container"),
        ('{"schemaVersion": 2, "layers": []}', "crane config"),
        ('{"Name": "docker.io/library/alpine", "Digest": "sha256:1", "Layers": []}', "--config"),
        ('{"hello": "world"}', "not image metadata"),
        ('{"config": {}, "rootfs": {}', "invalid JSON at line 1"),
        ('[\n  {"Config": {"User": "x",}}\n]', "invalid JSON at line 2, column 27"),
        ("[" * 100 + "]" * 100, "nested more than 64 levels"),
        ("[" * 5000 + "]" * 5000, "nested more than 64 levels"),
        ('{"config": {}}\x00', "binary"),
        ('{"pipeguard_image_archive": {"format": "oci-layout"}}', "no config object"),
    ],
)
def test_bad_input_is_a_parse_error(text: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse(ArtifactType.IMAGE, text)
    report = evaluate(ArtifactType.IMAGE, text, "bad.image.json")
    assert report.error and message.split()[0].lower() in report.error.lower()
    assert report.findings == []


def test_history_is_bounded() -> None:
    doc = {**OCI_CONFIG, "history": [{"created_by": "x"}] * (MAX_HISTORY + 1)}
    with pytest.raises(ParseError, match=f"more than {MAX_HISTORY}"):
        parse(ArtifactType.IMAGE, json.dumps(doc))


WRONG_TYPES = [
    {"User": 0, "Env": "DB_PASSWORD=x", "ExposedPorts": ["22/tcp"], "Volumes": "/data"},
    {"User": None, "Env": [1, None, "A"], "ExposedPorts": {"ssh": {}, "-1/tcp": {}, "9-x": 1}},
    {"Entrypoint": "/bin/sh -c app", "Cmd": [1, 2], "Labels": ["a"], "Healthcheck": "yes"},
    {"Volumes": ["/etc", 5], "OnBuild": "RUN x", "Healthcheck": {"Test": "NONE"}},
]


@pytest.mark.parametrize("config", WRONG_TYPES)
def test_fields_of_the_wrong_type_never_crash_a_rule(config: dict) -> None:
    doc = {
        **OCI_CONFIG,
        "config": config,
        "created": 7,
        "history": [None, {"created_by": 5, "created": "yesterday"}],
    }
    report = evaluate(ArtifactType.IMAGE, json.dumps(doc, indent=2), "odd.image.json")
    assert report.error is None, report.error


def test_wrong_top_level_types_never_crash() -> None:
    doc = [{"Config": [], "RepoTags": "a:latest", "RepoDigests": [3], "Size": "big"}]
    report = evaluate(ArtifactType.IMAGE, json.dumps(doc), "odd.image.json")
    assert report.error is None
    image = _image(json.dumps(doc))
    assert image.tags == [] and image.digests == [] and image.size is None


def test_json_lines_records_keys_and_items() -> None:
    value = loads('\ufeff{\n  "a": [\n    1,\n    {"b": "\\u00e9"}\n  ],\n  "a": {"c": null}\n}')
    assert isinstance(value, JsonObject) and value == {"a": {"c": None}}
    assert value.lines == {"a": 6} and value["a"].lines == {"c": 6}
    array = loads('[\n"x",\n\n  ["y"]]')
    assert isinstance(array, JsonArray) and array.lines == [2, 4]
    assert array[1].lines == [4]
    assert loads("3.5") == 3.5 and loads(' "s" ') == "s"
