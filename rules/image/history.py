"""Rules about what the build history shows was done to the image.

Each rule hands the history, seen as a Dockerfile (`rules.image._helpers.history_of`), to the
detector of a Dockerfile rule and reports what it finds at the history entry's line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile
from chalicelib.parsers.image import Image
from rules.dockerfile._helpers import cis
from rules.dockerfile.add import remote_add_without_checksum
from rules.dockerfile.run import pipe_to_shell
from rules.dockerfile.user import setuid_bit, sudo_installed
from rules.image._helpers import history_hits, step_label

_HISTORY = "https://docs.docker.com/reference/cli/docker/image/history/"


def _hits(image: Image, check: Callable[[Dockerfile], Iterable[Hit]]) -> Iterator[Hit]:
    for step, hit in history_hits(image, check):
        yield Hit(f"{step_label(step)}: {hit.message}", line=step.line)


@rule(
    id="IMG-HIST-001",
    controls=("nist-800-53-r5 SI-7",),
    artifact_type="image",
    title="Image built by piping a download into a shell",
    severity="high",
    description=(
        "The build history shows a RUN that fed a downloaded script straight into an "
        "interpreter (`curl -fsSL https://... | sh`, `bash <(wget -qO- ...)`). What the "
        "server sent that day is now part of the image, unverified: a compromised server, "
        "mirror or proxy would have put its code into every container of this image."
    ),
    remediation=(
        "Download to a file, check its published checksum or signature, then run it:\n"
        '`RUN curl -fsSLo install.sh https://example.com/install.sh && echo "<sha256>  '
        'install.sh" | sha256sum -c - && sh install.sh`; prefer a distribution package.'
    ),
    references=(_HISTORY, "https://docs.docker.com/build/building/best-practices/#run"),
)
def piped_download(image: Image) -> Iterator[Hit]:
    yield from _hits(image, pipe_to_shell)


@rule(
    id="IMG-HIST-002",
    controls=("cis-docker-1.6 4.8", "nist-800-53-r5 AC-6"),
    artifact_type="image",
    title="Image build set a setuid or setgid bit",
    severity="medium",
    description=(
        "A history entry sets the setuid or setgid bit (`chmod u+s`, `chmod 4755`, "
        "`COPY --chmod=4755`). The file then runs with its owner's rights, usually root's, "
        "whoever starts it: one more way for a compromised unprivileged process in the "
        "container to become root."
    ),
    remediation=(
        "Rebuild without the bit; grant the one capability the program needs instead "
        "(`setcap cap_net_bind_service=+ep /app/server`), and strip inherited bits with "
        "`RUN find / -xdev -perm /6000 -type f -exec chmod a-s {} + || true`."
    ),
    references=(_HISTORY, cis("4.8")),
)
def setuid_in_history(image: Image) -> Iterator[Hit]:
    yield from _hits(image, setuid_bit)


@rule(
    id="IMG-HIST-003",
    controls=("cis-docker-1.6 4.3", "nist-800-53-r5 CM-7", "pci-dss-4.0 2.2.4"),
    artifact_type="image",
    title="Image build installed sudo",
    severity="medium",
    description=(
        "A history entry installs sudo with the package manager. An image that ships sudo "
        "offers any process running as a sudoer a way back to root, which undoes running "
        "as an unprivileged user; containers never need it, since privileged set-up belongs "
        "in the build."
    ),
    remediation=(
        "Rebuild without sudo: install and configure as root, then switch user "
        "(`USER 10001`); use `gosu` or `su-exec` in an entrypoint when a step must change "
        "user at run time."
    ),
    references=(_HISTORY, cis("4.3")),
)
def sudo_in_history(image: Image) -> Iterator[Hit]:
    yield from _hits(image, sudo_installed)


@rule(
    id="IMG-HIST-004",
    controls=("nist-800-53-r5 SI-7",),
    artifact_type="image",
    title="Image build added a remote file without a checksum",
    severity="medium",
    description=(
        "A history entry is an `ADD` of a URL without `--checksum` (BuildKit records the URL; "
        "the classic builder records only a hash, so its images are not judged). The file is "
        "whatever the server returned at build time: nothing pinned it, so a changed or "
        "tampered download went into the image unnoticed and the build cannot be reproduced."
    ),
    remediation=(
        "Pin remote files by digest: `ADD --checksum=sha256:<hash> https://example.com/"
        "tool.tar.gz /opt/`, or download in a RUN step and verify the checksum before use."
    ),
    references=(_HISTORY, "https://docs.docker.com/reference/dockerfile/#add---checksum"),
)
def remote_add(image: Image) -> Iterator[Hit]:
    yield from _hits(image, remote_add_without_checksum)
