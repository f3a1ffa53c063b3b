"""Base images whose distribution or language runtime no longer gets security fixes.

The dates come from each project's published support schedule (Debian LTS, Ubuntu standard
support, CentOS, Alpine and Fedora release pages, Python's release PEPs, the Node.js and Go
release policies). A release the table does not list, a rolling tag (`latest`, `sid`, `edge`,
`python:3`) and images outside Docker Hub's official library are not judged.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile
from rules.dockerfile.base import external_images, split_image

# product -> release -> last day of support (ISO date)
_DEBIAN = {
    "7": "2018-05-31",
    "8": "2020-06-30",
    "9": "2022-06-30",
    "10": "2024-06-30",
    "11": "2026-08-31",
    "12": "2028-06-30",
    "13": "2030-06-30",
}
_DEBIAN_NAMES = {
    "wheezy": "7",
    "jessie": "8",
    "stretch": "9",
    "buster": "10",
    "bullseye": "11",
    "bookworm": "12",
    "trixie": "13",
}
_UBUNTU = {
    "12.04": "2017-04-28",
    "14.04": "2019-04-30",
    "16.04": "2021-04-30",
    "18.04": "2023-05-31",
    "19.04": "2020-01-23",
    "19.10": "2020-07-17",
    "20.04": "2025-05-31",
    "20.10": "2021-07-22",
    "21.04": "2022-01-20",
    "21.10": "2022-07-14",
    "22.04": "2027-06-01",
    "22.10": "2023-07-20",
    "23.04": "2024-01-25",
    "23.10": "2024-07-11",
    "24.04": "2029-05-31",
    "24.10": "2025-07-10",
}
_UBUNTU_NAMES = {
    "precise": "12.04",
    "trusty": "14.04",
    "xenial": "16.04",
    "bionic": "18.04",
    "disco": "19.04",
    "eoan": "19.10",
    "focal": "20.04",
    "groovy": "20.10",
    "hirsute": "21.04",
    "impish": "21.10",
    "jammy": "22.04",
    "kinetic": "22.10",
    "lunar": "23.04",
    "mantic": "23.10",
    "noble": "24.04",
    "oracular": "24.10",
}
_CENTOS = {"6": "2020-11-30", "7": "2024-06-30", "8": "2021-12-31"}
_ALPINE = {
    "3.12": "2022-05-01",
    "3.13": "2022-11-01",
    "3.14": "2023-05-01",
    "3.15": "2023-11-01",
    "3.16": "2024-05-23",
    "3.17": "2024-11-22",
    "3.18": "2025-05-09",
    "3.19": "2025-11-01",
    "3.20": "2026-04-01",
    "3.21": "2026-11-01",
    "3.22": "2027-05-01",
    "3.23": "2027-11-01",
}
_FEDORA = {
    "32": "2021-05-25",
    "33": "2021-11-30",
    "34": "2022-06-07",
    "35": "2022-12-13",
    "36": "2023-05-16",
    "37": "2023-12-05",
    "38": "2024-05-21",
    "39": "2024-11-26",
    "40": "2025-05-13",
}
_PYTHON = {
    "2": "2020-01-01",
    "3.4": "2019-03-18",
    "3.5": "2020-09-30",
    "3.6": "2021-12-23",
    "3.7": "2023-06-27",
    "3.8": "2024-10-07",
    "3.9": "2025-10-31",
    "3.10": "2026-10-31",
    "3.11": "2027-10-31",
    "3.12": "2028-10-31",
    "3.13": "2029-10-31",
}
_NODE = {
    "8": "2019-12-31",
    "9": "2018-06-30",
    "10": "2021-04-30",
    "11": "2019-06-01",
    "12": "2022-04-30",
    "13": "2020-06-01",
    "14": "2023-04-30",
    "15": "2021-06-01",
    "16": "2023-09-11",
    "17": "2022-06-01",
    "18": "2025-04-30",
    "19": "2023-06-01",
    "20": "2026-04-30",
    "21": "2024-06-01",
    "22": "2027-04-30",
    "23": "2025-06-01",
    "24": "2028-04-30",
}
_GO = {
    "1.18": "2023-02-01",
    "1.19": "2023-08-08",
    "1.20": "2024-02-06",
    "1.21": "2024-08-13",
    "1.22": "2025-02-11",
    "1.23": "2025-08-12",
}
# the oldest release each table lists: anything older had lost support by that date
_OLDER = {
    "debian": "7",
    "ubuntu": "12.04",
    "centos": "6",
    "alpine": "3.12",
    "fedora": "32",
    "python": "3.4",
    "node": "8",
    "golang": "1.18",
}
_TITLES = {
    "debian": "Debian",
    "ubuntu": "Ubuntu",
    "centos": "CentOS",
    "alpine": "Alpine",
    "fedora": "Fedora",
    "python": "Python",
    "node": "Node.js",
    "golang": "Go",
}
_TABLES = {
    "debian": _DEBIAN,
    "ubuntu": _UBUNTU,
    "centos": _CENTOS,
    "alpine": _ALPINE,
    "fedora": _FEDORA,
    "python": _PYTHON,
    "node": _NODE,
    "golang": _GO,
}
_RUNTIMES = frozenset({"python", "node", "golang"})
# official images whose tags name the Debian or Ubuntu release they are built on
_DISTRO_TAGGED = _RUNTIMES | {"buildpack-deps", "ruby", "php", "perl", "rust", "openjdk"}
_LIBRARY_PREFIXES = ("docker.io/library/", "index.docker.io/library/", "docker.io/", "library/")
_ARCH_NAMESPACES = frozenset(
    {"amd64", "arm32v5", "arm32v6", "arm32v7", "arm64v8", "i386", "ppc64le", "s390x", "riscv64"}
)
_VERSION = re.compile(r"^v?+(\d++)(?:\.(\d++))?+")
_ALPINE_SUFFIX = re.compile(r"^alpine(\d++\.\d++)$")
_CENTOS_TAG = re.compile(r"^(?:centos)?+(\d++)")


def _official_name(image: str) -> str | None:
    """`docker.io/library/python` -> `python`; None for images outside the official library."""
    name = image.lower()
    for prefix in _LIBRARY_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    namespace, sep, rest = name.partition("/")
    if sep and namespace in _ARCH_NAMESPACES:
        name = rest
    return None if "/" in name else name


def _release(product: str, tag: str) -> str | None:
    """The release of `product` a tag names (`3.8.10-slim` -> `3.8`), if the table knows it."""
    if product == "debian":
        word = tag.split("-", 1)[0]
        return _DEBIAN_NAMES.get(word) or _major(word)
    if product == "ubuntu":
        word = tag.split("-", 1)[0]
        return _UBUNTU_NAMES.get(word) or _major_minor(word)
    if product == "centos":
        match = _CENTOS_TAG.match(tag)
        return match.group(1) if match else None
    if product in ("alpine", "golang") or (product == "python" and not tag.startswith("2")):
        return _major_minor(tag)
    return _major(tag)


def _major(tag: str) -> str | None:
    match = _VERSION.match(tag)
    return match.group(1) if match else None


def _major_minor(tag: str) -> str | None:
    match = _VERSION.match(tag)
    if not match or match.group(2) is None:
        return None
    return f"{match.group(1)}.{match.group(2)}"


def _end_of_life(product: str, release: str) -> str | None:
    """`on <date>` for a listed release, `by <date>` for one older than the whole table."""
    table = _TABLES[product]
    if release in table:
        return f"on {table[release]}"
    oldest = _OLDER[product]
    version = _as_tuple(release)
    if version >= _as_tuple(oldest) or not _plausible(product, version):
        return None
    return f"by {table[oldest]}"


def _plausible(product: str, version: tuple[int, ...]) -> bool:
    """Whether an unlisted old release number exists at all (Python 3.x, Ubuntu YY.04/10)."""
    if product == "python":
        return version[:1] == (3,)
    if product == "ubuntu":
        return len(version) == 2 and version[1] in (4, 10)
    return True


def _as_tuple(release: str) -> tuple[int, ...]:
    return tuple(int(part) for part in release.split(".") if part.isdigit())


def _distro_in_tag(tag: str) -> tuple[str, str] | None:
    """The distribution an image's tag says it is built on: `3.8-slim-buster` -> Debian 10."""
    for word in tag.split("-"):
        if word in _DEBIAN_NAMES:
            return "debian", _DEBIAN_NAMES[word]
        if word in _UBUNTU_NAMES:
            return "ubuntu", _UBUNTU_NAMES[word]
        match = _ALPINE_SUFFIX.match(word)
        if match:
            return "alpine", match.group(1)
    return None


@functools.lru_cache(maxsize=2048)
def unsupported_parts(image: str, tag: str | None) -> tuple[tuple[str, str, str], ...]:
    """(product, release, `on|by <date>`) for each part of `image:tag` with an end of life."""
    name = _official_name(image)
    if name is None:
        return ()
    if tag is None or tag.lower() == "latest":
        # CentOS Linux ended with 8, which `centos:latest` still points to
        return (("centos", "8", f"on {_CENTOS['8']}"),) if name == "centos" else ()
    tag = tag.lower()
    parts: list[tuple[str, str]] = []
    if name in _TABLES:
        release = _release(name, tag)
        if release is not None:
            parts.append((name, release))
    if name in _DISTRO_TAGGED:
        distro = _distro_in_tag(tag)
        if distro is not None:
            parts.append(distro)
    found: list[tuple[str, str, str]] = []
    for product, release in parts:
        end = _end_of_life(product, release)
        if end is not None:
            found.append((product, release, end))
    return tuple(found)


def today_utc() -> str:
    """Today's date (UTC) in ISO form, which the support dates are compared with."""
    return dt.datetime.now(dt.UTC).date().isoformat()


@rule(
    id="DF-BASE-006",
    controls=("nist-800-53-r5 SI-2", "pci-dss-4.0 6.3.3"),
    artifact_type="dockerfile",
    title="Base image past its end of life",
    severity="medium",
    description=(
        "When a distribution release (Debian 10, Ubuntu 18.04, CentOS 7, Alpine 3.12) or a "
        "language runtime (Python 3.8, Node.js 16, Go 1.21) reaches its end of life, nobody "
        "fixes its vulnerabilities any more: every flaw found since stays in the image "
        "for good, and scanners report a growing list that no rebuild can clear. The check "
        "knows the support dates of Debian, Ubuntu, CentOS, Alpine, Fedora, Python, Node.js "
        "and Go in Docker Hub's official images, including the distribution a runtime tag "
        "names (`python:3.9-buster` is built on Debian 10), and compares them with the day "
        "of the scan: the finding appears when support ends, with no change to the file."
    ),
    remediation=(
        "Move to a supported release and keep the tag precise, e.g. `FROM "
        "python:3.12.4-slim-bookworm` instead of `FROM python:3.8-slim-buster`; CentOS users "
        "move to a maintained rebuild such as `rockylinux:9` or `almalinux:9`."
    ),
    references=(
        "https://wiki.debian.org/LTS",
        "https://ubuntu.com/about/release-cycle",
        "https://alpinelinux.org/releases/",
        "https://devguide.python.org/versions/",
        "https://github.com/nodejs/release#release-schedule",
        "https://go.dev/doc/devel/release#policy",
    ),
)
def end_of_life_base(df: Dockerfile) -> Iterator[Hit]:
    today = today_utc()
    for line, image, tag, _ in external_images(df):
        name = split_image(image)[0]
        ended = [part for part in unsupported_parts(name, tag) if part[2][3:] < today]
        if ended:
            what = "; ".join(
                f"{_TITLES[p]} {release} support ended {end}" for p, release, end in ended
            )
            yield Hit(f"base image {image} is past its end of life ({what})", line=line)
