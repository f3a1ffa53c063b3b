"""Secrets Manager: every secret (one paginated list carries rotation, key and tags)."""

from __future__ import annotations

from chalicelib.posture.collect import Scope

GLOBAL = False


def collect(scope: Scope) -> None:
    secrets = scope.pages("list_secrets", "SecretList", feeds=["AWS::SecretsManager::Secret"])
    for secret in secrets or []:
        scope.add(
            "AWS::SecretsManager::Secret",
            secret["ARN"],
            secret.get("Name") or secret["ARN"],
            secret,
            tags=secret.get("Tags"),
        )
