"""Pipeline metadata from each CI system's environment, and nothing secret leaves it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from collectors.ci import PipelineInfo, detect, pipeline_name, sanitize_name
from collectors.cli import main
from tests.collectors.conftest import FakeApi

SECRETS = {
    "GITHUB_TOKEN": "ghs_supersecretgithubtoken000000000",
    "ACTIONS_RUNTIME_TOKEN": "runtime-token-secret-1111",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc-request-secret-2222",
    "CI_JOB_TOKEN": "glcbt-64_secretjobtoken3333",
    "CI_REGISTRY_PASSWORD": "registry-password-secret-4444",
    "SYSTEM_ACCESSTOKEN": "azure-access-token-secret-5555",
    "BITBUCKET_STEP_OIDC_TOKEN": "bitbucket-oidc-secret-6666",
    "CIRCLE_OIDC_TOKEN": "circle-oidc-secret-7777",
    "AWS_SECRET_ACCESS_KEY": "aws-secret-key-8888",
    "NPM_TOKEN": "npm-token-secret-9999",
}

CASES = {
    "github": (
        {
            "GITHUB_ACTIONS": "true",
            "GITHUB_REPOSITORY": "acme/shop",
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_REF": "refs/heads/main",
            "GITHUB_REF_NAME": "main",
            "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
            "GITHUB_RUN_ID": "9876543210",
            "GITHUB_RUN_ATTEMPT": "2",
            "GITHUB_EVENT_NAME": "push",
        },
        PipelineInfo(
            provider="github",
            repository="acme/shop",
            repository_url="https://github.com/acme/shop",
            branch="main",
            commit="0123456789abcdef0123456789abcdef01234567",
            run_id="9876543210-2",
            run_url="https://github.com/acme/shop/actions/runs/9876543210/attempts/2",
            pull_request=None,
        ),
        "acme/shop@main",
    ),
    "github-pull-request": (
        {
            "GITHUB_ACTIONS": "true",
            "GITHUB_REPOSITORY": "acme/shop",
            "GITHUB_SERVER_URL": "https://github.example.com",
            "GITHUB_REF": "refs/pull/42/merge",
            "GITHUB_REF_NAME": "42/merge",
            "GITHUB_HEAD_REF": "feature/login",
            "GITHUB_SHA": "abc1234",
            "GITHUB_RUN_ID": "77",
            "GITHUB_RUN_ATTEMPT": "1",
            "GITHUB_EVENT_NAME": "pull_request",
        },
        PipelineInfo(
            provider="github",
            repository="acme/shop",
            repository_url="https://github.example.com/acme/shop",
            branch="feature/login",
            commit="abc1234",
            run_id="77-1",
            run_url="https://github.example.com/acme/shop/actions/runs/77",
            pull_request="42",
        ),
        "acme/shop@pr-42",
    ),
    "gitlab": (
        {
            "GITLAB_CI": "true",
            "CI": "true",
            "CI_PROJECT_PATH": "group/sub/shop",
            "CI_PROJECT_URL": "https://gitlab.example.com/group/sub/shop",
            "CI_COMMIT_REF_NAME": "release/1.2",
            "CI_COMMIT_SHA": "fedcba9876543210",
            "CI_PIPELINE_ID": "1234",
            "CI_JOB_ID": "5678",
            "CI_JOB_URL": "https://gitlab.example.com/group/sub/shop/-/jobs/5678",
            "CI_PIPELINE_URL": "https://gitlab.example.com/group/sub/shop/-/pipelines/1234",
        },
        PipelineInfo(
            provider="gitlab",
            repository="group/sub/shop",
            repository_url="https://gitlab.example.com/group/sub/shop",
            branch="release/1.2",
            commit="fedcba9876543210",
            run_id="1234-5678",
            run_url="https://gitlab.example.com/group/sub/shop/-/jobs/5678",
            pull_request=None,
        ),
        "group/sub/shop@release/1.2",
    ),
    "gitlab-merge-request": (
        {
            "GITLAB_CI": "true",
            "CI_PROJECT_PATH": "group/shop",
            "CI_COMMIT_REF_NAME": "feature-x",
            "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature-x",
            "CI_MERGE_REQUEST_IID": "17",
            "CI_COMMIT_SHA": "aaaa",
            "CI_PIPELINE_ID": "1",
            "CI_JOB_ID": "2",
        },
        PipelineInfo(
            provider="gitlab",
            repository="group/shop",
            branch="feature-x",
            commit="aaaa",
            run_id="1-2",
            pull_request="17",
        ),
        "group/shop@pr-17",
    ),
    "jenkins": (
        {
            "JENKINS_URL": "https://jenkins.example.com/",
            "BUILD_NUMBER": "311",
            "BUILD_URL": "https://jenkins.example.com/job/shop/job/main/311/",
            "JOB_NAME": "shop/main",
            "GIT_URL": "https://builder:s3cr3t-pass@git.example.com/acme/shop.git",
            "GIT_BRANCH": "origin/main",
            "GIT_COMMIT": "1111111111111111111111111111111111111111",
        },
        PipelineInfo(
            provider="jenkins",
            repository="acme/shop",
            repository_url="https://git.example.com/acme/shop",
            branch="main",
            commit="1111111111111111111111111111111111111111",
            run_id="311",
            run_url="https://jenkins.example.com/job/shop/job/main/311/",
            pull_request=None,
        ),
        "acme/shop@main",
    ),
    "jenkins-multibranch-pr": (
        {
            "JENKINS_URL": "https://jenkins.example.com/",
            "BUILD_NUMBER": "4",
            "JOB_NAME": "shop/PR-9",
            "BRANCH_NAME": "PR-9",
            "CHANGE_ID": "9",
            "CHANGE_BRANCH": "fix-login",
            "GIT_URL": "git@github.com:acme/shop.git",
            "GIT_COMMIT": "2222",
        },
        PipelineInfo(
            provider="jenkins",
            repository="acme/shop",
            repository_url="https://github.com/acme/shop",
            branch="fix-login",
            commit="2222",
            run_id="4",
            pull_request="9",
        ),
        "acme/shop@pr-9",
    ),
    "circleci": (
        {
            "CIRCLECI": "true",
            "CI": "true",
            "CIRCLE_PROJECT_USERNAME": "acme",
            "CIRCLE_PROJECT_REPONAME": "shop",
            "CIRCLE_REPOSITORY_URL": "git@github.com:acme/shop.git",
            "CIRCLE_BRANCH": "main",
            "CIRCLE_SHA1": "3333333",
            "CIRCLE_BUILD_NUM": "88",
            "CIRCLE_BUILD_URL": "https://circleci.com/gh/acme/shop/88",
            "CIRCLE_PULL_REQUEST": "https://github.com/acme/shop/pull/5",
        },
        PipelineInfo(
            provider="circleci",
            repository="acme/shop",
            repository_url="https://github.com/acme/shop",
            branch="main",
            commit="3333333",
            run_id="88",
            run_url="https://circleci.com/gh/acme/shop/88",
            pull_request="5",
        ),
        "acme/shop@pr-5",
    ),
    "azure": (
        {
            "TF_BUILD": "True",
            "BUILD_REPOSITORY_NAME": "acme/shop",
            "BUILD_REPOSITORY_URI": "https://dev.azure.com/acme/shop/_git/shop",
            "BUILD_SOURCEBRANCH": "refs/heads/feature/a",
            "BUILD_SOURCEBRANCHNAME": "a",
            "BUILD_SOURCEVERSION": "4444",
            "BUILD_BUILDID": "555",
            "SYSTEM_JOBATTEMPT": "1",
            "SYSTEM_COLLECTIONURI": "https://dev.azure.com/acme/",
            "SYSTEM_TEAMPROJECT": "Shop Project",
        },
        PipelineInfo(
            provider="azure",
            repository="acme/shop",
            repository_url="https://dev.azure.com/acme/shop/_git/shop",
            branch="feature/a",
            commit="4444",
            run_id="555-1",
            run_url="https://dev.azure.com/acme/Shop%20Project/_build/results?buildId=555",
            pull_request=None,
        ),
        "acme/shop@feature/a",
    ),
    "azure-pull-request": (
        {
            "TF_BUILD": "True",
            "BUILD_REPOSITORY_NAME": "shop",
            "BUILD_SOURCEBRANCH": "refs/pull/12/merge",
            "SYSTEM_PULLREQUEST_SOURCEBRANCH": "refs/heads/topic",
            "SYSTEM_PULLREQUEST_PULLREQUESTID": "12",
            "BUILD_SOURCEVERSION": "5555",
            "BUILD_BUILDID": "556",
        },
        PipelineInfo(
            provider="azure",
            repository="shop",
            branch="topic",
            commit="5555",
            run_id="556",
            pull_request="12",
        ),
        "shop@pr-12",
    ),
    "bitbucket": (
        {
            "CI": "true",
            "BITBUCKET_BUILD_NUMBER": "21",
            "BITBUCKET_REPO_FULL_NAME": "acme/shop",
            "BITBUCKET_GIT_HTTP_ORIGIN": "http://bitbucket.org/acme/shop",
            "BITBUCKET_BRANCH": "main",
            "BITBUCKET_COMMIT": "6666",
            "BITBUCKET_PR_ID": "3",
        },
        PipelineInfo(
            provider="bitbucket",
            repository="acme/shop",
            repository_url="https://bitbucket.org/acme/shop",
            branch="main",
            commit="6666",
            run_id="21",
            run_url="https://bitbucket.org/acme/shop/pipelines/results/21",
            pull_request="3",
        ),
        "acme/shop@pr-3",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_provider_is_detected(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    env, expected, pipeline = CASES[case]
    for name, value in {**env, **SECRETS}.items():
        monkeypatch.setenv(name, value)
    info = detect(os.environ)
    assert info == expected
    assert pipeline_name(info) == pipeline
    rendered = json.dumps(info.as_dict())
    for secret in SECRETS.values():
        assert secret not in rendered
    assert "s3cr3t" not in rendered  # the credentials of a clone URL are dropped


def test_outside_ci_nothing_is_detected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")  # a generic CI flag names no provider
    assert detect(os.environ) == PipelineInfo()
    assert pipeline_name(PipelineInfo()) is None


def test_names_are_made_valid_for_the_api() -> None:
    assert sanitize_name("acme/shop@feature branch #2") == "acme/shop@feature-branch-2"
    assert sanitize_name("{uuid-1}") == "uuid-1"
    assert sanitize_name("---") is None
    assert len(sanitize_name("x" * 500) or "") == 200


def _submit(fake_api: FakeApi, tmp_path: Path, *extra: str) -> int:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM alpine:3.20\nUSER app\n")
    return main(
        [
            "submit",
            "--api-url",
            fake_api.url,
            "--api-key",
            "pgk_" + "k" * 40,
            "--no-step-summary",
            *extra,
            str(dockerfile),
        ]  # fmt: skip
    )


@pytest.mark.parametrize("case", list(CASES))
def test_only_whitelisted_fields_are_sent(
    case: str, fake_api: FakeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env, expected, pipeline = CASES[case]
    for name, value in {**env, **SECRETS}.items():
        monkeypatch.setenv(name, value)
    assert _submit(fake_api, tmp_path) == 0
    (request,) = fake_api.calls("submit")
    body = json.loads(request["body"])
    assert set(body) == {"pipeline", "run_id", "commit", "artifacts"}
    assert body["pipeline"] == pipeline
    assert body["run_id"] == expected.run_id
    assert body["commit"] == expected.commit
    wire = [r["body"].decode() + json.dumps(r["headers"]) + r["path"] for r in fake_api.requests]
    for secret in [*SECRETS.values(), "s3cr3t-pass"]:
        assert not any(secret in text for text in wire), secret


def test_flags_override_the_environment(
    fake_api: FakeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in CASES["github"][0].items():
        monkeypatch.setenv(name, value)
    code = _submit(
        fake_api, tmp_path, "--branch", "release", "--commit", "c0ffee", "--run-id", "r9"
    )
    assert code == 0
    body = json.loads(fake_api.calls("submit")[0]["body"])
    assert (body["pipeline"], body["run_id"], body["commit"]) == (
        "acme/shop@release",
        "r9",
        "c0ffee",
    )

    code = _submit(fake_api, tmp_path, "--pipeline", "web", "--repository", "other/repo")
    body = json.loads(fake_api.calls("submit")[1]["body"])
    assert code == 0 and body["pipeline"] == "web"
    _submit(fake_api, tmp_path, "--repository", "other/repo")
    assert json.loads(fake_api.calls("submit")[2]["body"])["pipeline"] == "other/repo@main"


def test_no_pipeline_outside_ci_is_a_usage_error(
    fake_api: FakeApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _submit(fake_api, tmp_path) == 2
    assert "--pipeline" in capsys.readouterr().err
    assert fake_api.requests == []
    assert _submit(fake_api, tmp_path, "--pipeline", "bad name!") == 2
    assert _submit(fake_api, tmp_path, "--pipeline", "web", "--commit", "not a sha") == 2
    assert fake_api.requests == []
