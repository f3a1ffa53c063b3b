"""Pipeline metadata from the CI system's environment.

Only the variables named in this module are read, and only the fields of `PipelineInfo` leave
it: tokens, passwords and every other variable of the job's environment are never looked at.
Of these fields the scan request carries `pipeline`, `run_id` and `commit` (the API accepts no
more yet); repository, branch and pull request shape the default pipeline name, and everything
appears in the reports (Markdown, SARIF) that stay on the CI machine.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace

__all__ = ["PROVIDERS", "PipelineInfo", "detect", "pipeline_name", "sanitize_name"]

_NAME_OK = re.compile(r"[^A-Za-z0-9._/@:+-]+")
_COMMIT_OK = re.compile(r"^[A-Za-z0-9._/-]{1,100}$")
_MAX_NAME = 200


@dataclass(frozen=True)
class PipelineInfo:
    """What the collector knows about the pipeline run it is part of."""

    provider: str | None = None  # github, gitlab, jenkins, circleci, azure, bitbucket
    repository: str | None = None  # owner/name
    repository_url: str | None = None  # https URL of the repository, without credentials
    branch: str | None = None
    commit: str | None = None
    run_id: str | None = None
    run_url: str | None = None
    pull_request: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)

    def merged(self, **overrides: str | None) -> PipelineInfo:
        """This info with every override that is not None."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


def _get(env: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return value
    return None


def _strip_ref(ref: str | None) -> str | None:
    if not ref:
        return None
    for prefix in ("refs/heads/", "refs/tags/", "refs/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def _join(*parts: str | None) -> str | None:
    if not parts or parts[0] is None:
        return None
    return "-".join(p for p in parts if p)


def _clean_url(url: str | None) -> str | None:
    """An http(s) URL without user info (a clone URL may carry a token), else None."""
    if not url:
        return None
    if url.startswith("git@") and ":" in url:  # scp-like: git@host:owner/repo.git
        host, _, path = url[4:].partition(":")
        url = f"https://{host}/{path}"
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https", "ssh", "git") or not parts.hostname:
        return None
    host = parts.hostname + (f":{parts.port}" if parts.port and parts.scheme != "ssh" else "")
    path = parts.path.removesuffix("/").removesuffix(".git")
    return urllib.parse.urlunsplit(("https", host, path, "", ""))


def _repo_from_url(url: str | None) -> str | None:
    clean = _clean_url(url)
    if not clean:
        return None
    path = urllib.parse.urlsplit(clean).path.strip("/")
    return path or None


def github(env: Mapping[str, str]) -> PipelineInfo:
    server = _get(env, "GITHUB_SERVER_URL") or "https://github.com"
    repository = _get(env, "GITHUB_REPOSITORY")
    run = _get(env, "GITHUB_RUN_ID")
    attempt = _get(env, "GITHUB_RUN_ATTEMPT")
    pull = None
    if _get(env, "GITHUB_EVENT_NAME") in ("pull_request", "pull_request_target"):
        match = re.match(r"^refs/pull/(\d+)/", _get(env, "GITHUB_REF") or "")
        pull = match.group(1) if match else None
    run_url = None
    if repository and run:
        run_url = f"{server}/{repository}/actions/runs/{run}"
        if attempt and attempt != "1":
            run_url += f"/attempts/{attempt}"
    return PipelineInfo(
        provider="github",
        repository=repository,
        repository_url=_clean_url(f"{server}/{repository}") if repository else None,
        branch=_get(env, "GITHUB_HEAD_REF") or _strip_ref(_get(env, "GITHUB_REF_NAME")),
        commit=_get(env, "GITHUB_SHA"),
        run_id=_join(run, attempt),
        run_url=run_url,
        pull_request=pull,
    )


def gitlab(env: Mapping[str, str]) -> PipelineInfo:
    return PipelineInfo(
        provider="gitlab",
        repository=_get(env, "CI_PROJECT_PATH"),
        repository_url=_clean_url(_get(env, "CI_PROJECT_URL")),
        branch=_get(env, "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "CI_COMMIT_REF_NAME"),
        commit=_get(env, "CI_COMMIT_SHA"),
        run_id=_join(_get(env, "CI_PIPELINE_ID"), _get(env, "CI_JOB_ID")),
        run_url=_get(env, "CI_JOB_URL", "CI_PIPELINE_URL"),
        pull_request=_get(env, "CI_MERGE_REQUEST_IID"),
    )


def jenkins(env: Mapping[str, str]) -> PipelineInfo:
    git_url = _get(env, "GIT_URL")
    branch = _get(env, "CHANGE_BRANCH", "BRANCH_NAME", "GIT_BRANCH")
    if branch and branch.startswith("origin/"):
        branch = branch[len("origin/") :]
    return PipelineInfo(
        provider="jenkins",
        repository=_repo_from_url(git_url) or _get(env, "JOB_NAME"),
        repository_url=_clean_url(git_url),
        branch=branch,
        commit=_get(env, "GIT_COMMIT"),
        run_id=_get(env, "BUILD_NUMBER"),
        run_url=_get(env, "BUILD_URL"),
        pull_request=_get(env, "CHANGE_ID"),
    )


def circleci(env: Mapping[str, str]) -> PipelineInfo:
    owner, name = _get(env, "CIRCLE_PROJECT_USERNAME"), _get(env, "CIRCLE_PROJECT_REPONAME")
    pull = _get(env, "CIRCLE_PR_NUMBER")
    if not pull:
        match = re.search(r"/pull/(\d+)$", _get(env, "CIRCLE_PULL_REQUEST") or "")
        pull = match.group(1) if match else None
    return PipelineInfo(
        provider="circleci",
        repository=f"{owner}/{name}" if owner and name else name,
        repository_url=_clean_url(_get(env, "CIRCLE_REPOSITORY_URL")),
        branch=_get(env, "CIRCLE_BRANCH"),
        commit=_get(env, "CIRCLE_SHA1"),
        run_id=_get(env, "CIRCLE_BUILD_NUM", "CIRCLE_WORKFLOW_ID"),
        run_url=_get(env, "CIRCLE_BUILD_URL"),
        pull_request=pull,
    )


def azure(env: Mapping[str, str]) -> PipelineInfo:
    build = _get(env, "BUILD_BUILDID")
    collection, project = _get(env, "SYSTEM_COLLECTIONURI"), _get(env, "SYSTEM_TEAMPROJECT")
    run_url = None
    if build and collection and project:
        run_url = (
            f"{collection.rstrip('/')}/{urllib.parse.quote(project)}/_build/results?buildId={build}"
        )
    return PipelineInfo(
        provider="azure",
        repository=_get(env, "BUILD_REPOSITORY_NAME"),
        repository_url=_clean_url(_get(env, "BUILD_REPOSITORY_URI")),
        branch=_strip_ref(_get(env, "SYSTEM_PULLREQUEST_SOURCEBRANCH", "BUILD_SOURCEBRANCH")),
        commit=_get(env, "BUILD_SOURCEVERSION"),
        run_id=_join(build, _get(env, "SYSTEM_JOBATTEMPT")),
        run_url=run_url,
        pull_request=_get(
            env, "SYSTEM_PULLREQUEST_PULLREQUESTNUMBER", "SYSTEM_PULLREQUEST_PULLREQUESTID"
        ),
    )


def bitbucket(env: Mapping[str, str]) -> PipelineInfo:
    repository = _get(env, "BITBUCKET_REPO_FULL_NAME")
    origin = _clean_url(_get(env, "BITBUCKET_GIT_HTTP_ORIGIN"))
    if not origin and repository:
        origin = f"https://bitbucket.org/{repository}"
    build = _get(env, "BITBUCKET_BUILD_NUMBER")
    return PipelineInfo(
        provider="bitbucket",
        repository=repository,
        repository_url=origin,
        branch=_get(env, "BITBUCKET_BRANCH"),
        commit=_get(env, "BITBUCKET_COMMIT"),
        run_id=build,
        run_url=f"{origin}/pipelines/results/{build}" if origin and build else None,
        pull_request=_get(env, "BITBUCKET_PR_ID"),
    )


# (name, is this the provider?, reader), in the order they are tried.
PROVIDERS: tuple[tuple[str, Callable[[Mapping[str, str]], bool], Callable], ...] = (
    ("github", lambda env: env.get("GITHUB_ACTIONS") == "true", github),
    ("gitlab", lambda env: env.get("GITLAB_CI") == "true", gitlab),
    ("circleci", lambda env: env.get("CIRCLECI") == "true", circleci),
    ("azure", lambda env: env.get("TF_BUILD", "").lower() == "true", azure),
    ("bitbucket", lambda env: bool(env.get("BITBUCKET_BUILD_NUMBER")), bitbucket),
    ("jenkins", lambda env: bool(env.get("JENKINS_URL") or env.get("JENKINS_HOME")), jenkins),
)


def detect(env: Mapping[str, str]) -> PipelineInfo:
    """The pipeline metadata of the CI system this runs in (empty outside CI)."""
    for _name, applies, read in PROVIDERS:
        if applies(env):
            return read(env)
    return PipelineInfo()


def sanitize_name(value: str | None) -> str | None:
    """`value` made valid as a pipeline name or run id (`[A-Za-z0-9][A-Za-z0-9._/@:+-]*`)."""
    if not value:
        return None
    cleaned = _NAME_OK.sub("-", value).lstrip("._/@:+-")[:_MAX_NAME].rstrip("-")
    return cleaned or None


def valid_commit(value: str | None) -> str | None:
    return value if value and _COMMIT_OK.match(value) else None


def pipeline_name(info: PipelineInfo) -> str | None:
    """The default pipeline name: `owner/repo@branch`, `owner/repo@pr-12`, or `owner/repo`.

    Findings are tracked per pipeline, so each branch and each pull request gets its own
    lifecycle (open, fixed, reopened), as code scanning tools track alerts per branch.
    """
    if not info.repository:
        return None
    if info.pull_request:
        return sanitize_name(f"{info.repository}@pr-{info.pull_request}")
    if info.branch:
        return sanitize_name(f"{info.repository}@{info.branch}")
    return sanitize_name(info.repository)
