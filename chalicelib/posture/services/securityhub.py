"""Security Hub: whether the region's hub is enabled (null when it is not)."""

from __future__ import annotations

from chalicelib.posture.collect import NOT_READ, Scope

GLOBAL = False


def collect(scope: Scope) -> None:
    hub = scope.call(
        "describe_hub",
        absent=("InvalidAccessException", "ResourceNotFoundException"),
        feeds=["securityhub.hub"],
    )
    if hub is not NOT_READ:
        scope.fact("securityhub.hub", hub)
