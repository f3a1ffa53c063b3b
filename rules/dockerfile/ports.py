"""Rules about exposed ports."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile
from rules.dockerfile._helpers import cis, effective, facts, split_words


def _ranges(df: Dockerfile) -> list[tuple[int, list[tuple[str, int, int]]]]:
    """(line, [(word, first port, last port)]) of each EXPOSE of the final image."""
    memo = facts(df).memo
    found = memo.get("exposed")
    if found is None:
        found = memo["exposed"] = []
        for ins in effective(df, "EXPOSE"):
            ranges = []
            for word in split_words(ins.args):
                low, _, high = word.partition("/")[0].partition("-")
                if low.isdigit() and (not high or high.isdigit()):
                    ranges.append((word, int(low), int(high) if high else int(low)))
            found.append((ins.line, ranges))
    return found


def exposed(df: Dockerfile, ports: frozenset[int]) -> Iterator[tuple[int, str]]:
    """(line, word) of each EXPOSE of the final image that opens one of `ports`."""
    for line, ranges in _ranges(df):
        for word, start, end in ranges:
            if any(start <= candidate <= end for candidate in ports):
                yield line, word
                break


@rule(
    id="DF-PORT-001",
    controls=("nist-800-53-r5 CM-7", "pci-dss-4.0 2.2.4"),
    artifact_type="dockerfile",
    title="SSH port exposed",
    severity="medium",
    description=(
        "Exposing port 22 means the image runs an SSH server next to its application: one "
        "more network service, with credentials or keys, to attack. Containers are entered "
        "with `docker exec` / `kubectl exec`, not SSH."
    ),
    remediation=(
        "Remove `EXPOSE 22` and the SSH server; use `docker exec -it <container> sh` to debug."
    ),
    references=("https://docs.docker.com/reference/dockerfile/#expose", cis("5.6")),
)
def ssh_exposed(df: Dockerfile) -> Iterator[Hit]:
    for line, word in exposed(df, frozenset({22})):
        yield Hit(f"EXPOSE {word} opens the SSH port", line=line)


@rule(
    id="DF-PORT-002",
    controls=("nist-800-53-r5 CM-7", "pci-dss-4.0 2.2.4"),
    artifact_type="dockerfile",
    title="Docker daemon port exposed",
    severity="high",
    description=(
        "Ports 2375 and 2376 are the Docker Engine API. Whoever reaches that API controls "
        "the daemon, and through it the host (a container started with the host's root "
        "filesystem mounted is one call away); on 2375 it is not even encrypted or "
        "authenticated. An application image has no reason to offer it."
    ),
    remediation=(
        "Remove `EXPOSE 2375`/`EXPOSE 2376`. If a build or CI job needs a daemon, reach it "
        "through a socket or a rootless/remote builder (`docker buildx create --driver "
        "docker-container`), never through a published API port."
    ),
    references=(
        "https://docs.docker.com/engine/security/protect-access/",
        "https://docs.docker.com/reference/dockerfile/#expose",
        cis("5.8"),
    ),
)
def docker_daemon_exposed(df: Dockerfile) -> Iterator[Hit]:
    for line, word in exposed(df, frozenset({2375, 2376})):
        yield Hit(f"EXPOSE {word} opens the Docker Engine API port", line=line)


@rule(
    id="DF-PORT-003",
    controls=("nist-800-53-r5 CM-7", "pci-dss-4.0 2.2.4"),
    artifact_type="dockerfile",
    title="Remote desktop port exposed",
    severity="medium",
    description=(
        "Port 3389 (RDP) and ports 5900-5909 (VNC) offer a full interactive desktop. They are "
        "a favourite target of password guessing and have a long list of pre-authentication "
        "flaws; a container serving an application does not need them."
    ),
    remediation=(
        "Remove the EXPOSE and the remote desktop server from the image; when a desktop is "
        "really needed for debugging, reach it through an authenticated tunnel "
        "(`kubectl port-forward pod/app 5900`) instead of publishing it."
    ),
    references=("https://docs.docker.com/reference/dockerfile/#expose", cis("5.8")),
)
def remote_desktop_exposed(df: Dockerfile) -> Iterator[Hit]:
    ports = frozenset({3389, *range(5900, 5910)})
    for line, word in exposed(df, ports):
        yield Hit(f"EXPOSE {word} opens a remote desktop port", line=line)


@rule(
    id="DF-PORT-004",
    controls=("nist-800-53-r5 CM-7", "pci-dss-4.0 2.2.5", "pci-dss-4.0 2.2.7"),
    artifact_type="dockerfile",
    title="Plaintext remote login port exposed",
    severity="high",
    description=(
        "Telnet (23), rexec (512) and rlogin (513) send passwords and sessions in clear text "
        "and authenticate weakly or not at all. Exposing them invites credential theft and "
        "direct shell access to the container."
    ),
    remediation=(
        "Remove the EXPOSE and the telnet/r-services daemon; use `docker exec` or "
        "`kubectl exec` to get a shell in a running container."
    ),
    references=("https://docs.docker.com/reference/dockerfile/#expose", cis("5.8")),
)
def plaintext_login_exposed(df: Dockerfile) -> Iterator[Hit]:
    for line, word in exposed(df, frozenset({23, 512, 513})):
        yield Hit(f"EXPOSE {word} opens a plaintext remote login port", line=line)


_PROTOCOLS = frozenset({"tcp", "udp", "sctp"})


def _invalid_port(word: str) -> str | None:
    spec, _, protocol = word.partition("/")
    if protocol and protocol.lower() not in _PROTOCOLS:
        return f"{protocol!r} is not a protocol (tcp, udp or sctp)"
    if ":" in spec:
        return "EXPOSE does not map host ports: publish them at run time (-p 8080:80)"
    low, sep, high = spec.partition("-")
    numbers = [low, high] if sep else [low]
    if not all(number.isdigit() for number in numbers):
        return "not a port number"
    if any(not 0 < int(number) <= 65535 for number in numbers):
        return "outside the port range 1-65535"
    if sep and int(high) < int(low):
        return "the range ends before it starts"
    return None


@rule(
    id="DF-PORT-005",
    artifact_type="dockerfile",
    title="EXPOSE entry that is not a valid port",
    severity="low",
    description=(
        "EXPOSE takes port numbers from 1 to 65535, optionally a range and /tcp, /udp or "
        "/sctp. A port out of range, a host mapping such as `8080:80` or a typo is refused by "
        "the builder or ignored, so the image does not document, and tooling does not open, "
        "the port the service really listens on."
    ),
    remediation=(
        "Expose the container's own port: `EXPOSE 8080/tcp`, and map it to a host port "
        "when the container runs (`docker run -p 80:8080 ...`)."
    ),
    references=(
        "https://docs.docker.com/reference/dockerfile/#expose",
        "https://docs.docker.com/reference/build-checks/expose-invalid-format/",
    ),
)
def invalid_port(df: Dockerfile) -> Iterator[Hit]:
    for ins in facts(df).find("EXPOSE"):
        for word in split_words(ins.args):
            if "$" in word:
                continue
            problem = _invalid_port(word)
            if problem:
                yield Hit(f"EXPOSE {word}: {problem}", line=ins.line)
                break
