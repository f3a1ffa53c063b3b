"""Rules about the ports an image exposes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.image import Image, Port
from rules.dockerfile._helpers import cis
from rules.image._helpers import OCI_CONFIG

_EXPOSE = "https://docs.docker.com/reference/dockerfile/#expose"
REMOTE_ACCESS: Mapping[int, str] = {
    22: "SSH",
    23: "telnet",
    512: "rexec",
    513: "rlogin",
    514: "rsh",
    2375: "the Docker Engine API",
    2376: "the Docker Engine API",
    3389: "RDP",
    **dict.fromkeys(range(5900, 5910), "VNC"),
}
DATABASES: Mapping[int, str] = {
    1433: "SQL Server",
    1521: "Oracle Database",
    2379: "etcd",
    3306: "MySQL/MariaDB",
    5432: "PostgreSQL",
    5984: "CouchDB",
    6379: "Redis",
    7474: "Neo4j",
    8086: "InfluxDB",
    9042: "Cassandra",
    9200: "Elasticsearch",
    9300: "Elasticsearch",
    11211: "memcached",
    26257: "CockroachDB",
    27017: "MongoDB",
    27018: "MongoDB",
    28015: "RethinkDB",
    50000: "Db2",
}
_REMOTE_PORTS = frozenset(REMOTE_ACCESS)
_DATABASE_PORTS = frozenset(DATABASES)


def _service(port: Port, services: Mapping[int, str]) -> str:
    return next(name for number, name in services.items() if port.low <= number <= port.high)


@rule(
    id="IMG-PORT-001",
    controls=("nist-800-53-r5 CM-7", "pci-dss-4.0 2.2.4"),
    artifact_type="image",
    title="Image exposes a remote login or administration port",
    severity="medium",
    description=(
        "The image declares SSH (22), telnet (23), the r-services (512-514), the Docker Engine "
        "API (2375/2376), RDP (3389) or VNC (5900-5909) among its exposed ports. Each is a way "
        "into the container, or through the engine API onto the host, that has to be guarded "
        "with credentials; telnet and the r-services send them in clear text. `docker run -P` "
        "and many platforms publish every exposed port."
    ),
    remediation=(
        "Remove the daemon and its `EXPOSE` from the build; reach running containers with "
        "`docker exec -it CONTAINER sh` or `kubectl exec`, and the engine through its socket, "
        "never through a published port."
    ),
    references=(_EXPOSE, OCI_CONFIG, cis("5.8")),
)
def remote_access_port(image: Image) -> Iterator[Hit]:
    for port in image.exposed_ports:
        if port.opens(_REMOTE_PORTS):
            service = _service(port, REMOTE_ACCESS)
            yield Hit(
                f"port {port.spec} ({service}) is exposed", line=port.line, resource=port.spec
            )


@rule(
    id="IMG-PORT-002",
    artifact_type="image",
    title="Image exposes a database port",
    severity="medium",
    description=(
        "An application image that exposes a database or cache port (PostgreSQL 5432, MySQL "
        "3306, MongoDB 27017, Redis 6379, Elasticsearch 9200 ...) either bundles the data store "
        "with the application, so that both share one process space and one set of "
        "credentials, or invites publishing a port that should only be reachable on a private "
        "network. Data stores run best as their own, separately hardened containers or "
        "managed services."
    ),
    remediation=(
        "Run the database as its own service and let the application reach it over a private "
        "network; remove its `EXPOSE` from the application image. For an image that is the "
        "database itself, waive the finding for that pipeline with the reason."
    ),
    references=(_EXPOSE, OCI_CONFIG),
)
def database_port(image: Image) -> Iterator[Hit]:
    for port in image.exposed_ports:
        if port.opens(_DATABASE_PORTS) and not port.opens(_REMOTE_PORTS):
            service = _service(port, DATABASES)
            yield Hit(
                f"port {port.spec} ({service}) is exposed", line=port.line, resource=port.spec
            )


@rule(
    id="IMG-PORT-003",
    artifact_type="image",
    title="Image exposes a privileged port below 1024",
    severity="low",
    description=(
        "Binding a port below 1024 needs root or the NET_BIND_SERVICE capability in most "
        "runtimes (Kubernetes does not lower the limit). An image that exposes one either "
        "runs its server as root or needs a capability granted to it; an unprivileged image "
        "listening on a high port needs neither, and the platform maps 80/443 in front of it."
    ),
    remediation=(
        "Let the server listen on a high port (`EXPOSE 8080`, `listen 8080;`) and map it at "
        "the edge: `docker run -p 80:8080 IMAGE`, or a Kubernetes Service with `port: 80` and "
        "`targetPort: 8080`."
    ),
    references=(_EXPOSE, cis("5.7")),
)
def privileged_port(image: Image) -> Iterator[Hit]:
    for port in image.exposed_ports:
        if 0 < port.low < 1024 and not port.opens(_REMOTE_PORTS):
            yield Hit(
                f"port {port.spec} is below 1024: binding it needs root or NET_BIND_SERVICE",
                line=port.line,
                resource=port.spec,
            )
