"""Rules about the names an image is known by."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.image import Image
from rules.dockerfile._helpers import split_image
from rules.image._helpers import DOCKER_INSPECT, OCI_ANNOTATIONS

_PULL_BY_DIGEST = "https://docs.docker.com/reference/cli/docker/image/pull/#pull-an-image-by-digest-immutable-identifier"


@rule(
    id="IMG-REF-001",
    artifact_type="image",
    title="Image tagged only latest",
    severity="medium",
    description=(
        "Every tag the image carries is `latest` (or names no tag, which means `latest`). "
        "`latest` moves with every push: a deployment that names it runs whatever was pushed "
        "last, different nodes may run different builds, and a rollback has no version to go "
        "back to."
    ),
    remediation=(
        "Tag each build with a version or the commit it was built from, and deploy that tag "
        "or, better, the digest: `docker tag app:latest registry.example.com/app:1.4.2` or "
        "`docker build -t registry.example.com/app:$(git rev-parse --short HEAD) .`."
    ),
    references=(DOCKER_INSPECT, "https://docs.docker.com/reference/cli/docker/image/tag/"),
)
def latest_only(image: Image) -> Iterator[Hit]:
    if not image.tags:
        return
    tags = [(split_image(tag)[1] or "latest", tag, line) for tag, line in image.tags]
    if all(tag == "latest" for tag, _, _ in tags):
        names = ", ".join(full for _, full, _ in tags)
        yield Hit(f"the image is tagged only latest ({names})", line=tags[0][2])


@rule(
    id="IMG-REF-002",
    artifact_type="image",
    title="Image has no registry digest",
    severity="low",
    description=(
        "The image is not known by any content digest (`RepoDigests` is empty, or the "
        "archive records none): it has not been pushed to or pulled from a registry as it "
        "is. A deployment can then only name it by a tag, which anyone with push rights can "
        "move, and nothing proves that what runs is what was scanned. A bare OCI config "
        "names no reference at all and is not judged."
    ),
    remediation=(
        "Scan the image as it is pushed: push it, then inspect it by digest "
        "(`docker pull registry.example.com/app@sha256:...`, `crane digest`) and deploy that "
        "digest. If the pipeline scans before pushing, disable this rule in the tenant policy "
        "for that pipeline's stage."
    ),
    references=(_PULL_BY_DIGEST, OCI_ANNOTATIONS),
)
def no_digest(image: Image) -> Iterator[Hit]:
    if image.source == "oci-config" or image.digests:
        return
    name = f" {image.tags[0][0]}" if image.tags else ""
    yield Hit(f"the image{name} has no registry digest", line=image.references_line)
