"""Which files a run picks up: folders, globs, excludes, .pipeguardignore, --type."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from collectors.cli import main

DOCKERFILE = "FROM ubuntu:latest\n"
TEMPLATE = "Resources:\n  B:\n    Type: AWS::S3::Bucket\n"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    files = {
        "Dockerfile": DOCKERFILE,
        "svc/api/Dockerfile": DOCKERFILE,
        "svc/web/web.Dockerfile": DOCKERFILE,
        "infra/stack.yaml": TEMPLATE,
        "infra/params.json": '{"Env": "prod"}',
        "infra/fixtures/bad.yaml": TEMPLATE,
        "build/Dockerfile": DOCKERFILE,
        "deploy/stack.cfn": TEMPLATE,
        "README.md": "# hi\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def scanned(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = main(["scan", "--offline", "--format", "json", "--no-step-summary", *args])
    report = json.loads(capsys.readouterr().out)
    return code, report


def files(report: dict) -> set[str]:
    return {f["file"] for f in report["findings"]}


def test_folders_globs_and_excludes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, report = scanned(capsys, ".")
    assert files(report) == {
        "Dockerfile", "svc/api/Dockerfile", "svc/web/web.Dockerfile", "infra/stack.yaml",
        "infra/fixtures/bad.yaml", "build/Dockerfile",
    }  # fmt: skip
    assert [s["file"] for s in report["skipped"]] == ["infra/params.json"]  # no template
    assert "CloudFormation" in report["skipped"][0]["reason"]
    assert report["ignored"] == 2  # README.md, deploy/stack.cfn: their names rule them out

    _, report = scanned(capsys, "--exclude", "build/", "--exclude", "**/fixtures/**", ".")
    assert files(report) == {
        "Dockerfile", "svc/api/Dockerfile", "svc/web/web.Dockerfile", "infra/stack.yaml",
    }  # fmt: skip

    _, report = scanned(capsys, "svc/**/*Dockerfile", "infra/*.yaml")
    assert files(report) == {"svc/api/Dockerfile", "svc/web/web.Dockerfile", "infra/stack.yaml"}


def test_negation_and_anchoring(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, report = scanned(capsys, "--exclude", "Dockerfile", "--exclude", "!svc/api/Dockerfile", ".")
    assert files(report) == {
        "svc/api/Dockerfile", "svc/web/web.Dockerfile", "infra/stack.yaml",
        "infra/fixtures/bad.yaml",
    }  # fmt: skip
    _, report = scanned(capsys, "--exclude", "/Dockerfile", ".")
    assert "Dockerfile" not in files(report) and "build/Dockerfile" in files(report)


def test_pipeguardignore_is_read(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".pipeguardignore").write_text("# generated\nbuild/\ninfra/fixtures/\n")
    _, report = scanned(capsys, ".")
    assert not any(f.startswith(("build/", "infra/fixtures/")) for f in files(report))
    assert "svc/api/Dockerfile" in files(report)

    (repo / "other.ignore").write_text("svc/\n")
    _, report = scanned(capsys, "--ignore-file", "other.ignore", ".")
    assert not any(f.startswith("svc/") for f in files(report))
    assert "build/Dockerfile" in files(report)
    assert main(["scan", "--offline", "--ignore-file", "missing.ignore", "."]) == 2


def test_files_named_explicitly_are_never_excluded(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, report = scanned(capsys, "--exclude", "build/", "build/Dockerfile")
    assert files(report) == {"build/Dockerfile"}


def test_type_overrides(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, report = scanned(capsys, ".")
    assert "deploy/stack.cfn" not in files(report)  # inside a folder, its name rules it out
    _, report = scanned(capsys, "deploy/stack.cfn")  # named: its content says what it is
    assert report["errors"] == [] and files(report) == {"deploy/stack.cfn"}

    _, report = scanned(capsys, "--type", "*.cfn=cloudformation", ".")
    assert "deploy/stack.cfn" in files(report)

    code, report = scanned(capsys, "--type", "infra/params.json=cloudformation", "infra/")
    assert code == 1
    assert [e["file"] for e in report["errors"]] == ["infra/params.json"]  # no Resources

    code, report = scanned(capsys, "--type", "dockerfile", "infra/stack.yaml")
    assert code == 1  # read as a Dockerfile, which it is not
    assert "unknown instruction" in report["errors"][0]["message"]


def test_bad_type_and_missing_globs_are_usage_errors(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for args in (["--type", "yaml"], ["--type", "=junit"], ["--type", "x=helm"]):
        with pytest.raises(SystemExit) as exit_info:
            main(["scan", "--offline", *args, "."])
        assert exit_info.value.code == 2
    assert main(["scan", "--offline", "nothing/**/*.yaml"]) == 2
    assert "nothing/**/*.yaml" in capsys.readouterr().err


def test_oversize_artifacts_fail_submit_with_a_list(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    huge = "FROM alpine\n" + "# padding\n" * 2_200_000  # ~22 MB: over the upload limit too
    (repo / "big").mkdir()
    (repo / "big" / "Dockerfile").write_text(huge)
    (repo / "big" / "second.Dockerfile").write_text("FROM alpine\n" + "# padding\n" * 120_000)
    code = main(
        ["submit", "--api-url", "http://127.0.0.1:9", "--api-key", "pgk_" + "k" * 40,
         "--pipeline", "p", "big/", "Dockerfile"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert "big/Dockerfile" in err and "big/second.Dockerfile" not in err
    assert "larger than" in err


def test_too_many_artifacts_and_too_large_a_request(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    many = repo / "many"
    many.mkdir()
    for i in range(101):
        (many / f"{i}.Dockerfile").write_text(DOCKERFILE)
    args = ["submit", "--api-url", "http://127.0.0.1:9", "--api-key", "pgk_" + "k" * 40]
    assert main([*args, "--pipeline", "p", "many/"]) == 2
    assert "101 artifacts" in capsys.readouterr().err

    heavy = repo / "heavy"
    heavy.mkdir()
    for i in range(6):
        (heavy / f"{i}.Dockerfile").write_text("FROM alpine\n" + "#" * 1_000_000 + "\n")
    assert main([*args, "--pipeline", "p", "heavy/"]) == 2
    err = capsys.readouterr().err
    assert "the scan request would be" in err and "heavy/0.Dockerfile" in err
