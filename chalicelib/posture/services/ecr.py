"""ECR: every repository (one paginated describe carries scanning and tag mutability) with
its repository policy (one read per repository)."""

from __future__ import annotations

from typing import Any

from chalicelib.posture.collect import NOT_READ, Scope, decoded

GLOBAL = False


def collect(scope: Scope) -> None:
    repositories = scope.pages(
        "describe_repositories", "repositories", feeds=["AWS::ECR::Repository"]
    )
    if repositories is NOT_READ:
        return
    scope.each(repositories, lambda repository: _repository(scope, repository))


def _repository(scope: Scope, repository: dict[str, Any]) -> None:
    arn = repository["repositoryArn"]
    config = dict(repository)
    missing: dict[str, str] = {}
    scope.section(
        config,
        missing,
        "Policy",
        "get_repository_policy",
        pick=lambda r: decoded(r.get("policyText")),
        absent=("RepositoryPolicyNotFoundException",),
        resource=arn,
        repositoryName=repository["repositoryName"],
    )
    scope.add("AWS::ECR::Repository", arn, repository["repositoryName"], config,
              not_assessed=missing)  # fmt: skip
