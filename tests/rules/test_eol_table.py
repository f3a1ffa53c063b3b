"""DF-BASE-006 reads releases from image tags and judges them by today's date."""

from __future__ import annotations

import pytest

from chalicelib.engine.runner import evaluate
from chalicelib.models import ArtifactType
from rules.dockerfile import eol
from rules.dockerfile.eol import unsupported_parts


@pytest.mark.parametrize(
    ("image", "tag", "expected"),
    [
        ("python", "3.8.10-slim-buster", [("python", "3.8"), ("debian", "10")]),
        ("docker.io/library/node", "14-alpine3.15", [("node", "14"), ("alpine", "3.15")]),
        ("arm64v8/debian", "bullseye-20240101-slim", [("debian", "11")]),
        ("ubuntu", "xenial-20210804", [("ubuntu", "16.04")]),
        ("buildpack-deps", "stretch-scm", [("debian", "9")]),
        ("centos", None, [("centos", "8")]),
        ("centos", "centos7.9.2009", [("centos", "7")]),
        ("alpine", "3.8.5", [("alpine", "3.8")]),
        ("golang", "1.16-alpine", [("golang", "1.16")]),
        ("python", "3-alpine", []),
        ("node", "lts-slim", []),
        ("debian", "sid-slim", []),
        ("alpine", "3.99", []),
        ("ubuntu", "1.2", []),
        ("registry.example.com/library/python", "2.7", []),
        ("harisekhon/centos-java", "jdk8", []),
    ],
)
def test_releases_read_from_tags(image: str, tag: str | None, expected: list) -> None:
    assert [(product, release) for product, release, _ in unsupported_parts(image, tag)] == (
        expected
    )


def test_release_is_judged_by_the_day_of_the_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "FROM python:3.12-slim-bookworm\nUSER 1000\n"

    def hits(today: str) -> list[str]:
        monkeypatch.setattr(eol, "today_utc", lambda: today)
        report = evaluate(ArtifactType.DOCKERFILE, text, "Dockerfile")
        return [f.message for f in report.findings if f.rule_id == "DF-BASE-006"]

    assert hits("2028-06-30") == []  # the last day of Debian 12 support
    assert hits("2028-07-01") == [
        "base image python:3.12-slim-bookworm is past its end of life "
        "(Debian 12 support ended on 2028-06-30)"
    ]
    assert len(hits("2028-11-01")) == 1  # Python 3.12 too, in the same finding
    assert "Python 3.12 support ended on 2028-10-31" in hits("2028-11-01")[0]
